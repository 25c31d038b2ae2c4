#!/bin/bash
# Throw-away PostgreSQL 15 server for tests (keymap store suite, iwfd integration tests).
#
#   tests/support/postgres.sh start DIR   # initdb in DIR/data, start on a free 127.0.0.1 port,
#                                         # print the connection URL on stdout (one line)
#   tests/support/postgres.sh stop DIR    # stop the server (fast shutdown) and remove DIR
#   tests/support/postgres.sh halt DIR    # stop the server (fast shutdown), keep DIR: a store
#                                         # outage under running clients (docs/ha.md)
#   tests/support/postgres.sh resume DIR  # start a halted server again, same port and data
#   tests/support/postgres.sh freeze DIR  # SIGSTOP the server and its backends: a store that
#                                         # hangs instead of refusing (its kernel still
#                                         # accepts connections and acknowledges data)
#   tests/support/postgres.sh thaw DIR    # SIGCONT them again
#
# PostgreSQL refuses to run as root and CI runs as root, so initdb/postgres run as the
# unprivileged `postgres` system user (runuser) when started by root; otherwise as the caller.
# Authentication is `trust` on loopback only; the data directory is temporary.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
    echo "usage: $0 start|stop|halt|resume|freeze|thaw DIR" >&2
    exit 2
fi

as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The server's options; DIR is also its Unix socket directory.
server_options() {
    echo "-p $1 -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
}

port_in_use() {
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q . 
}

case "$cmd" in
start)
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$dir"
        chmod 700 "$dir"
    fi
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
        --no-locale --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 2
    }
    for _ in $(seq 1 20); do
        port=$((20000 + RANDOM % 40000))
        port_in_use "$port" && continue
        if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "$(server_options "$port")" start >/dev/null 2>&1; then
            echo "$port" >"$dir/port"
            echo "postgresql://postgres@127.0.0.1:$port/postgres"
            exit 0
        fi
    done
    echo "postgres.sh: could not start PostgreSQL (see $dir/server.log)" >&2
    cat "$dir/server.log" >&2 || true
    exit 2
    ;;
halt)
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
resume)
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "$(server_options "$(cat "$dir/port")")" start >/dev/null
    ;;
freeze | thaw)
    # The postmaster's PID is the first line of postmaster.pid; its children are the backends
    # and the auxiliary processes (pgrep -P: children of that one PID only).
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    kids=$(pgrep -P "$pid" || true)
    if [[ $cmd == freeze ]]; then
        kill -STOP "$pid" $kids
    else
        kill -CONT "$pid" $kids
    fi
    ;;
stop)
    if [[ -d "$dir/data" ]]; then
        as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop|halt|resume|freeze|thaw DIR" >&2
    exit 2
    ;;
esac
