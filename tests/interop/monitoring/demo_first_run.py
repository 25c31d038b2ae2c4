#!/usr/bin/env python3
"""The first run that shows the point: `iwf-harness demo` (what `scripts/run --demo` starts).

    demo_first_run.py IWF_HARNESS OUT_DIR

Starts the demo (iwfd, the simulated MC system and radios, rounds until Ctrl-C) and, from
outside, as an operator would:
  - waits for iwfd's admin port (OUT_DIR/admin.port) and polls GET /v1/calls until it has
    shown an encrypted (e2ee "encrypted") call of each family, P25 and DMR;
  - sends one malformed datagram to the P25 records port and one to the SIP port (read from
    iwfd's log), so the drop counters the dashboard shows exist, waits for the clear radio's
    refusal, and keeps the live /metrics text in OUT_DIR/metrics-live.txt (checked against the dashboards and alert rules by the
    ctest monitoring_queries_name_exported_metrics);
  - sends SIGINT (Ctrl-C): the demo must finish its round, stop iwfd, exit 0, and its report
    must show every round passed with 0 canaries and 0 keys in iwfd's memory, log and the
    loopback capture, the capture holding the radios' own ciphertext (so the 0 means something).
Waits are on conditions with deadlines; nothing is timed.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request


def wait_until(what, deadline_s, fn, poll=0.2):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(poll)
    raise SystemExit(f"FAIL: {what} not within {deadline_s} s")


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.read().decode()
    except OSError:
        return None


def main():
    harness, out = sys.argv[1], os.path.abspath(sys.argv[2])
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    proc = subprocess.Popen([harness, "demo", "--out", out, "--admin-port", "0", "--capture"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []

    def pump():
        for line in proc.stdout:
            lines.append(line)
            sys.stdout.write("demo| " + line)
            sys.stdout.flush()

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    try:
        def admin_port():
            if proc.poll() is not None:
                raise SystemExit(f"FAIL: the demo exited ({proc.returncode}) before iwfd was up")
            try:
                with open(os.path.join(out, "admin.port")) as f:
                    return int(f.read().strip() or 0)
            except (OSError, ValueError):
                return 0
        port = wait_until("iwfd's admin port file", 120, admin_port)
        wait_until("the demo's first round", 120, lambda: any("rounds repeat" in l for l in lines))

        seen = {}

        def both_families():
            body = get(port, "/v1/calls")
            if body:
                for c in json.loads(body)["calls"]:
                    fam = c.get("lmr_group", "").split(":")[0]
                    if c.get("e2ee") == "encrypted" and fam in ("p25", "dmr"):
                        seen.setdefault(fam, c)
            return "p25" in seen and "dmr" in seen
        wait_until("an encrypted P25 call and an encrypted DMR call in /v1/calls", 60,
                   both_families)
        for fam, c in sorted(seen.items()):
            print(f"/v1/calls: {fam} {c['id']} group {c['group']} lmr_group {c['lmr_group']} "
                  f"mode {c['mode']} e2ee {c['e2ee']} state {c['state']} "
                  f"legs {[l['link'] for l in c['legs']]}")
            assert c["mode"] == "secure", c

        log = open(os.path.join(out, "iwfd.log")).read()
        p25 = int(re.search(r"link=harness-p25 listening port=(\d+)", log).group(1))
        sip = int(re.search(r"stack=harness-mc listener=udp:127\.0\.0\.1:(\d+)", log).group(1))
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

        def drops_exported():
            s.sendto(b"\x55\x01\x02\x03", ("127.0.0.1", p25))  # no such P25 record type
            s.sendto(b"\x01\x02garbage\r\n\r\n", ("127.0.0.1", sip))  # not SIP
            m = get(port, "/metrics") or ""
            return m if all("\n" + f + "{" in m for f in families) else None
        # Families that exist once something was dropped or refused: the two datagrams above,
        # and the clear radio refused in the secure talkgroup (late in each round).
        families = ["iwf_lmr_dropped_total", "iwf_sip_dropped_total", "iwf_engine_refusals_total",
                    "iwf_engine_frames_refused_total", "iwf_engine_dropped_total"]
        metrics = wait_until(" and ".join(families) + " in /metrics", 90, drops_exported,
                             poll=0.5)
        with open(os.path.join(out, "metrics-live.txt"), "w") as f:
            f.write(metrics)
        s.close()

        proc.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            rc = proc.wait(timeout=240)
        except subprocess.TimeoutExpired:
            raise SystemExit("FAIL: the demo did not stop within 240 s of SIGINT")
        t.join(timeout=10)
        if rc != 0:
            raise SystemExit(f"FAIL: the demo exited {rc}")
        with open(os.path.join(out, "report.json")) as f:
            rep = json.load(f)
        problems = []
        if rep["result"] != "pass":
            problems.append(f"result {rep['result']}: {rep['failures']}")
        if rep.get("canary_count") != 0 or rep.get("key_count") != 0:
            problems.append(f"canaries {rep.get('canary_count')} keys {rep.get('key_count')}")
        rounds = rep.get("rounds", [])
        if not rounds or not all(r["pass"] for r in rounds):
            problems.append(f"rounds {rounds}")
        sources = {o["source"].split(" (")[0]: o for o in rep.get("opacity", [])}
        for src in ("iwfd memory", "iwfd log", "loopback capture"):
            if src not in sources or sources[src]["bytes"] == 0:
                problems.append(f"opacity source {src} missing or empty: {sources.get(src)}")
        w = rep.get("capture_witnesses", {})
        if not w.get("found"):
            problems.append(f"the capture holds none of the radios' datagrams: {w}")
        calls = rep.get("calls", [])
        granted = {c["who"] for c in calls if c["outcome"] == "granted"}
        if not {"p25-radio", "dmr-radio", "alice", "carol"} <= granted:
            problems.append(f"granted talkers of the last round: {sorted(granted)}")
        if not any(c["who"] == "p25-clear-radio" and c["outcome"] == "denied" for c in calls):
            problems.append("the clear radio was not refused")
        if problems:
            raise SystemExit("FAIL:\n  " + "\n  ".join(problems))
        print(f"PASS: {len(rounds)} round(s), canaries 0, keys 0 "
              f"(memory {sources['iwfd memory']['bytes']} bytes, capture witnesses "
              f"{w['found']}/{w['sent']})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
