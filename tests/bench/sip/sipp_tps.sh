#!/bin/sh
# MCPTT call setups per second through the real iwfd: SIPp (the MC controlling function, UDP
# on loopback) drives INVITE -> 100/200 -> ACK -> (50 ms) -> BYE -> 200 against iwfd's
# mcptt-iwf1 link, at increasing call rates (tests/bench/sip/mc_group_call_bench.xml: the
# interop group call scenario with the group taken from an injection file). iwfd runs with a
# generated keymap of GROUPS (default 1000) secure LMR-homed groups, imported by iwfctl into a
# temp SQLite store; the calls cycle through them, so every INVITE is a group call of its own
# in the engine (per-call RTP and floor sockets, implicit floor request granted).
#
# For each rate step: calls attempted / successful / failed, the rate achieved, and iwfd's CPU
# seconds (utime + stime from /proc) for the step. The result line names the highest rate
# with < 1 % failed calls that SIPp also achieved (>= 95 % of the target).
# Never pass/fail (not a ctest).
#
#   tests/bench/sip/sipp_tps.sh BUILD_DIR [SECONDS_PER_STEP] [RATES...]
#   e.g. tests/bench/sip/sipp_tps.sh build 10 100 200 400 700 1000 1500 2000
# PERF=1 records a call-graph profile of iwfd during each step (perf.data.<rate> in the temp
# dir; KEEP=1 keeps it; PERF_CG=dwarf for full call graphs). SAME_GROUP=1 sends every call to one group (sip:fire-ops, the
# example keymap): all calls then join one group call (see docs/perf/sip.md).
set -eu
build=${1:?usage: sipp_tps.sh BUILD_DIR [SECONDS_PER_STEP] [RATES...]}
build=$(cd "$build" && pwd)
secs=${2:-10}
[ $# -ge 2 ] && shift 2 || shift $#
rates=${*:-"100 200 400 700 1000 1500 2000 3000"}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
scen="$here/mc_group_call_bench.xml"
groups=${GROUPS:-1000}
dir=$(mktemp -d)
iwfd_pid=
cleanup() {
    [ -n "$iwfd_pid" ] && kill "$iwfd_pid" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
freeport() {
    python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
port=$(freeport)
if [ -n "${SAME_GROUP:-}" ]; then
    cp "$root/configs/keymap.example.yaml" "$dir/keymap.yaml"
    printf 'SEQUENTIAL\nsip:fire-ops@iwf.example\n' >"$dir/groups.csv"
else
    python3 - "$dir" "$groups" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
with open(d + "/keymap.yaml", "w") as k, open(d + "/groups.csv", "w") as g:
    k.write("format: 1\nunknown_talker: sip:unknown@iwf.example\nsystems:\n  - {id: p25-bench, type: p25, wacn: 0xBEE00, system_id: 0x001}\n")
    k.write("groups:\n")
    g.write("SEQUENTIAL\n")
    for i in range(n):
        uri = "sip:bench-%d@iwf.example" % i
        k.write("  - {mc_group: %s, system: p25-bench, tgid: %d, home: lmr, mode: secure, "
                "algid: 0x84, key_id: 0x0101}\n" % (uri, 1000 + i))
        g.write(uri + "\n")
PY
fi
"$build/gateway/iwfctl" keymap --store "sqlite:$dir/keymap.db" import "$dir/keymap.yaml" \
    >/dev/null
cat > "$dir/iwfd.yaml" <<YAML
instance: bench
log: {level: warn}
admin: {address: 127.0.0.1, port: 0, port_file: $dir/admin.port}
keymap: {store: "sqlite:$dir/keymap.db", poll_interval: 60s}
lmr_links: []
mc_links:
  - name: iwf1
    type: mcptt-iwf1
    psi: sip:iwf@iwf.example
    server_uri: sip:cf@mc.example
    listen: [{transport: udp, address: 127.0.0.1, port: $port}]
    peer: {transport: udp, address: 127.0.0.1, port: 9}
    peers: [{name: sipp, address: 127.0.0.1, domains: [mc.example]}]
    # A throughput bench, not a cap test: caps high enough never to refuse SIPp's calls.
    limits: {max_calls: 1000000, max_calls_per_peer: 1000000, max_setups_per_peer: 1000000}
    media: {address: 127.0.0.1}
YAML
"$build/gateway/iwfd" --config "$dir/iwfd.yaml" 2>"$dir/iwfd.log" &
iwfd_pid=$!
i=0
while [ ! -s "$dir/admin.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
admin=$(cat "$dir/admin.port")
i=0
until curl -s "http://127.0.0.1:$admin/metrics" | grep -q '^iwf_keymap_revision 1'; do
    sleep 0.1; i=$((i + 1)); [ $i -lt 100 ] || { echo "keymap not loaded" >&2; exit 2; }
done
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{printf "%.2f", ($14 + $15) / t}' "/proc/$iwfd_pid/stat"; }

best=0
printf '%8s %8s %8s %8s %9s %10s %12s\n' rate calls ok failed fail_pct achieved iwfd_cpu_s
for rate in $rates; do
    calls=$((rate * secs))
    rm -f "$dir/stat.csv"
    perf_pid=
    if [ -n "${PERF:-}" ]; then
        perf record -q --call-graph "${PERF_CG:-fp}" -p "$iwfd_pid" -o "$dir/perf.data.$rate" -- sleep "$secs" \
            >/dev/null 2>&1 &
        perf_pid=$!
    fi
    c0=$(cpu)
    t0=$(date +%s.%N)
    sipp -sf "$scen" -inf "$dir/groups.csv" -m "$calls" -r "$rate" -l 5000 -t u1 -i 127.0.0.1 -nostdin \
        -timeout $((secs * 3 + 30))s -max_socket 60000 -trace_stat -stf "$dir/stat.csv" \
        -fd 1 "127.0.0.1:$port" >"$dir/sipp.out" 2>&1 || true
    t1=$(date +%s.%N)
    c1=$(cpu)
    [ -z "$perf_pid" ] || wait "$perf_pid" || true
    # Last line of SIPp's statistics file: cumulative successful / failed calls.
    read -r ok failed <<EOF
$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "SuccessfulCall(C)") s = i; if ($i == "FailedCall(C)") f = i } }
             END { print $s, $f }' "$dir/stat.csv")
EOF
    ok=${ok:-0}
    failed=${failed:-0}
    elapsed=$(echo "$t1 - $t0" | bc -l)
    achieved=$(echo "scale=1; $ok / $elapsed" | bc -l)
    pct=$(echo "scale=2; 100 * ($calls - $ok) / $calls" | bc -l)
    cpus=$(echo "$c1 - $c0" | bc -l)
    printf '%8s %8s %8s %8s %9s %10s %12s\n' "$rate" "$calls" "$ok" "$failed" "$pct" \
        "$achieved" "$cpus"
    if [ "$(echo "$pct < 1 && $achieved >= 0.95 * $rate" | bc -l)" = 1 ]; then
        best=$rate
    fi
done
echo "highest sustained rate with < 1 % failed calls: $best call setups/s"
echo "iwfd log: $(wc -l <"$dir/iwfd.log") lines (KEEP=1 keeps $dir)"
