# bash completion for iwfctl (installed as /usr/share/bash-completion/completions/iwfctl).
#
# Commands and options are read from iwfctl's own --help at completion time (the binary being
# completed: ${words[0]}), so this file never lists them and never goes stale when a command is
# added. `iwfctl call show <TAB>` asks the running iwfd for its call IDs (`iwfctl calls`,
# --admin as typed), `--admin <TAB>` offers the default address, file options complete files.

# The help text of the command path "$@" (e.g. "keymap import").
_iwfctl_help() {
    "$_iwfctl_bin" "$@" --help 2>/dev/null
}

# Subcommand names of the command path "$@": the lines of every section but Options and
# Positionals that start with two spaces and a name.
_iwfctl_subcommands() {
    _iwfctl_help "$@" | awk '
        /^[^ ].*:$/ { sec = $0; next }
        sec != "Options:" && sec != "Positionals:" && /^  [a-z][a-z0-9-]*( |$)/ { print $1 }'
}

# Options of the command path "$@" ("-h,--help" gives -h and --help).
_iwfctl_options() {
    _iwfctl_help "$@" | awk '
        /^  -/ { n = split($1, a, ","); for (i = 1; i <= n; i++) print a[i] }'
}

_iwfctl() {
    local cur prev words cword
    _init_completion || return
    _iwfctl_bin=${words[0]}

    # The command path typed so far (options and their values skipped).
    local path=() i w subs
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        [[ $w == -* ]] && continue
        subs=$(_iwfctl_subcommands "${path[@]}")
        if [[ $'\n'$subs$'\n' == *$'\n'$w$'\n'* ]]; then
            path+=("$w")
        fi
    done

    case $prev in
        --admin)
            COMPREPLY=($(compgen -W "http://127.0.0.1:9100" -- "$cur"))
            return
            ;;
        --token-file | --in | --out | -o | --file)
            _filedir
            return
            ;;
        --timeout | --interval | --count | --limit | -n | --store | --actor)
            return
            ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_iwfctl_options "${path[@]}")" -- "$cur"))
        return
    fi
    subs=$(_iwfctl_subcommands "${path[@]}")
    if [[ -n $subs ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
        return
    fi
    if [[ ${path[*]} == "call show" ]]; then
        # The IDs of the calls in progress: first column of `iwfctl calls` (header and the
        # count line left out), from the iwfd named by --admin if it was typed.
        local admin=() ids
        for ((i = 1; i < cword; i++)); do
            [[ ${words[i]} == --admin ]] && admin=(--admin "${words[i + 1]}")
        done
        ids=$("$_iwfctl_bin" calls "${admin[@]}" --timeout 2 2>/dev/null |
            awk 'NR > 1 && !/ call\(s\)$/ { print $1 }')
        COMPREPLY=($(compgen -W "$ids" -- "$cur"))
        return
    fi
    _filedir
}

complete -F _iwfctl iwfctl
