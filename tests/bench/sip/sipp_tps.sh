#!/bin/sh
# INVITE -> 200 OK (-> ACK -> BYE -> 200) transactions per second through iwfd's IWF-1 link,
# SIPp as the MC controlling function on loopback (UDP). Never pass/fail; prints SIPp's rate.
#   tests/bench/sip/sipp_tps.sh BUILD_DIR [CALLS] [RATE]
set -eu
build=${1:?usage: sipp_tps.sh BUILD_DIR [CALLS] [RATE]}
calls=${2:-20000}
rate=${3:-2000}
here=$(cd "$(dirname "$0")" && pwd)
scen="$here/../../interop/sipp/scenarios/mc_group_call.xml"
dir=$(mktemp -d)
trap 'kill $iwfd_pid 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat > "$dir/iwfd.yaml" <<YAML
instance: bench
log: {level: warn}
admin: {address: 127.0.0.1, port: 0, port_file: $dir/admin.port}
lmr_links: []
mc_links:
  - name: iwf1
    type: mcptt-iwf1
    psi: sip:iwf@iwf.example
    server_uri: sip:cf@mc.example
    listen: [{transport: udp, address: 127.0.0.1, port: $port}]
    peer: {transport: udp, address: 127.0.0.1, port: 9}
    media: {address: 127.0.0.1, audio_port: 40000, floor_port: 40001}
YAML
"$build/gateway/iwfd" --config "$dir/iwfd.yaml" 2>"$dir/iwfd.log" &
iwfd_pid=$!
i=0; while [ ! -s "$dir/admin.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
start=$(date +%s.%N)
sipp -sf "$scen" -m "$calls" -r "$rate" -l 2000 -t u1 -i 127.0.0.1 -nostdin -timeout 120s \
     -trace_stat -stf "$dir/stat.csv" -fd 1 "127.0.0.1:$port" >"$dir/sipp.out" 2>&1 || true
end=$(date +%s.%N)
ok=$(grep -o 'Successful call *| *[0-9]* *| *[0-9]*' "$dir/sipp.out" | tail -1 | awk -F'|' '{print $3}' | tr -d ' ')
failed=$(grep -o 'Failed call *| *[0-9]* *| *[0-9]*' "$dir/sipp.out" | tail -1 | awk -F'|' '{print $3}' | tr -d ' ')
echo "calls=$calls rate_target=$rate successful=${ok:-?} failed=${failed:-?}"
echo "elapsed_s=$(echo "$end - $start" | bc)"
echo "dir=$dir"
echo "tps=$(echo "scale=1; ${ok:-0} / ($end - $start)" | bc)"
