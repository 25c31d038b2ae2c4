#!/usr/bin/env python3
"""Every metric a dashboard query or an alert expression names must be one iwfd exports.

    check_metric_names.py METRICS.txt[,METRICS2.txt...] DASHBOARD.json RULES.yml [...]

METRICS.txt is the /metrics text of a running iwfd (Prometheus text exposition format); with
several, comma-separated, a name counts as exported when any of them has it (iwfd exports the
iwf_cluster_* families only with a `cluster:` section).
Every PromQL expression of the dashboards (panels' targets, templating queries) and rule
files (alert and record expressions) is first parsed by promtool (each one written as a
recording rule into a temporary rule file, Grafana's variables replaced: `promtool check
rules`), then the metric names in it are compared with the families in METRICS.txt. Exit 0
when every name exists, 1 naming each missing one and the query it is in, 2 on a usage or
parse error. `up` is written by Prometheus for every target, not by iwfd: it is the one
name allowed without being in METRICS.txt.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

PROMETHEUS_MADE = {"up"}
# PromQL keywords and aggregation modifiers (not metric names when not followed by "(").
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "offset", "bool", "inf", "nan", "atan2"}
GRAFANA_VARS = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h",
                "$job": "iwfd", "$instance": ".*"}


def exported_names(text):
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 3 and parts[1] in ("TYPE", "HELP"):
                continue  # a family counts only with a sample
            continue
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        if m:
            names.add(m.group(0))
    return names


def dashboard_exprs(path):
    with open(path) as f:
        d = json.load(f)
    out = []

    def panels(ps):
        for p in ps:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((f"{path}: panel \"{p.get('title')}\" {t.get('refId')}", t["expr"]))
            panels(p.get("panels", []))

    panels(d.get("panels", []))
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if v.get("type") == "query" and q:
            m = re.fullmatch(r"\s*label_values\((.*),\s*[a-zA-Z_]+\)\s*", q)
            out.append((f"{path}: variable ${v.get('name')}", m.group(1) if m else q))
    return out


def rule_exprs(path):
    with open(path) as f:
        d = yaml.safe_load(f)
    out = []
    for g in d.get("groups", []):
        for r in g.get("rules", []):
            name = r.get("alert") or r.get("record")
            out.append((f"{path}: rule {name}", r["expr"]))
    return out


def substitute(expr):
    for k in sorted(GRAFANA_VARS, key=len, reverse=True):
        expr = expr.replace(k, GRAFANA_VARS[k])
    return expr


def metric_names(expr):
    e = substitute(expr)
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', e)  # strings
    e = re.sub(r"\{[^}]*\}", " ", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)  # ranges, subqueries
    # grouping label lists: by (a, b), without (...), on (...), ignoring (...), group_x (...)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        tok = m.group(0)
        if tok.lower() in KEYWORDS:
            continue
        before = e[:m.start()]
        if before and (before[-1].isdigit() or before[-1] == "."):
            continue  # part of a number such as 1e3 or a duration such as 5m
        if re.match(r"\s*\(", e[m.end():]):
            continue  # a function
        names.add(tok)
    return names


def promtool_parse(exprs):
    rules = {"groups": [{"name": "check", "rules": [
        {"record": f"check:expr_{i}", "expr": substitute(e)} for i, (_, e) in enumerate(exprs)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump(rules, f)
        path = f.name
    try:
        r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        sys.stderr.write("promtool cannot parse a query:\n" + r.stdout + r.stderr)
        for i, (where, e) in enumerate(exprs):
            sys.stderr.write(f"  check:expr_{i} = {where}\n")
        return False
    return True


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    exported = set()
    for path in argv[1].split(","):
        with open(path) as f:
            names = exported_names(f.read())
        if not names:
            sys.stderr.write(f"{path}: no samples (not a /metrics text?)\n")
            return 2
        exported |= names
    exprs = []
    for path in argv[2:]:
        exprs += dashboard_exprs(path) if path.endswith(".json") else rule_exprs(path)
    if not exprs:
        sys.stderr.write("no queries found\n")
        return 2
    if not promtool_parse(exprs):
        return 2
    used = {}
    for where, e in exprs:
        names = metric_names(e)
        if not names:
            sys.stderr.write(f"{where}: no metric name found in {e!r}\n")
            return 2
        for n in names:
            used.setdefault(n, []).append(where)
    missing = {n: w for n, w in used.items() if n not in exported and n not in PROMETHEUS_MADE}
    for n in sorted(missing):
        print(f"MISSING {n}: not in {argv[1]}, used by")
        for w in missing[n]:
            print(f"  {w}")
    print(f"{len(exprs)} queries, {len(used)} metric names, {len(exported)} exported families "
          f"in {argv[1]}: {len(missing)} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
