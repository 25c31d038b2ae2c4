#!/usr/bin/env bash
# Runs scripts/check-includes on the tree (must pass), then on a copy of the tree with one
# forbidden include planted at a time (must fail and name the planted file and line).
set -euo pipefail
root=$1
check="$root/scripts/check-includes"
"$check" --root "$root"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
copy="$work/tree"
mkdir -p "$copy"
(cd "$root" && git ls-files -z -- common sip media keymap lmr_adapters mc_adapters gateway harness tests \
    | grep -zE '\.(cpp|hpp|h|cc)$' | xargs -0 cp --parents -t "$copy")
plant() {  # plant FILE INCLUDE: append the include to FILE in the copy, expect a refusal, restore
    local file=$1 inc=$2 out line
    line=$(( $(wc -l < "$copy/$file") + 1 ))
    cp "$copy/$file" "$work/saved"
    echo "#include \"$inc\"" >> "$copy/$file"
    if out=$("$check" --root "$copy"); then
        echo "FAIL: $file including $inc was accepted"; echo "$out"; exit 1
    fi
    grep -qF "$file:$line:" <<<"$out" || { echo "FAIL: no $file:$line in:"; echo "$out"; exit 1; }
    echo "refused as expected: $(grep -F "$file:$line:" <<<"$out")"
    cp "$work/saved" "$copy/$file"
}
plant lmr_adapters/p25/records.hpp   mc_adapters/mcptt/mcptt_link.hpp   # LMR -> MC
plant lmr_adapters/dmr/hbp.hpp       lmr_adapters/p25/records.hpp       # adapter -> adapter
plant mc_adapters/rtp/rtp_packet.hpp gateway/engine/engine.hpp          # adapter -> engine
plant keymap/model.hpp               gateway/daemon/daemon.hpp          # keymap -> daemon
plant common/bytes.hpp               sip/message.hpp                    # ground -> above it
plant gateway/engine/engine.hpp      gateway/admin/admin_server.hpp     # engine -> HTTP server
plant harness/runner/runner.hpp      gateway/engine/engine.hpp          # harness -> gateway
plant media/amr_payload.hpp          lmr_adapters/analog/usrp.hpp       # media (ground) -> adapter
plant lmr_adapters/analog/usrp.hpp   lmr_adapters/p25/records.hpp       # analogue -> another family
echo "layout: include check passes on the tree and refuses every planted include"
