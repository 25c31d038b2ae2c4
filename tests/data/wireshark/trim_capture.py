#!/usr/bin/env python3
"""Cut a small golden capture out of an iwf-harness run (DIR/capture.pcapng).

Keeps every control datagram (HBP login/ping, P25 poll/unlink, SIP, MCPTT floor control) and of each
voice stream the first HEAD and the last TAIL datagrams, so a capture holds whole superframes
with their headers, ends and crypto sync, and stays a few kB. The harness's own marker
datagrams (to the discard port 9) are left out.

(the loopback capture holds only the run's own traffic: iwfd, the radios, the MC simulator)

usage: trim_capture.py RUN_DIR OUT.pcapng [--head 40] [--tail 12]
"""
import argparse
import subprocess
import sys
from collections import defaultdict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("out")
    ap.add_argument("--head", type=int, default=40)
    ap.add_argument("--tail", type=int, default=12)
    ap.add_argument("--tshark", default="tshark")
    a = ap.parse_args()
    cap = f"{a.run_dir}/capture.pcapng"
    out = subprocess.run([a.tshark, "-r", cap, "-n", "-T", "fields", "-e", "frame.number",
                          "-e", "udp.srcport", "-e", "udp.dstport", "-e", "udp.length",
                          "-e", "data.data", "-d", "udp.port==1-65535,data"],
                         check=True, capture_output=True, text=True).stdout
    streams = defaultdict(list)
    keep = set()
    for line in out.splitlines():
        num, sp, dp, ulen, data = (line.split("\t") + [""] * 5)[:5]
        sp, dp, num = int(sp), int(dp), int(num)
        if dp == 9:
            continue
        n = int(ulen) - 8
        voice = (data[:8] == "444d5244" and n in (53, 55)) or \
                (n in (14, 16, 17, 22) and 0x62 <= int(data[:2] or "0", 16) <= 0x73) or \
                (n > 12 and data[:2] in ("80", "81") and int(data[2:4], 16) & 0x7F == 96)
        if voice:
            streams[(sp, dp)].append(num)
        else:
            keep.add(num)
    for frames in streams.values():
        keep.update(frames[:a.head])
        keep.update(frames[-a.tail:])
    frames = ",".join(str(f) for f in sorted(keep))
    subprocess.run([a.tshark, "-r", cap, "-Y", f"frame.number in {{{frames}}}", "-w", a.out],
                   check=True)
    print(f"{a.out}: {len(keep)} frames", file=sys.stderr)


if __name__ == "__main__":
    main()
