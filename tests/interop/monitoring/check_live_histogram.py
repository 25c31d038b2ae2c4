#!/usr/bin/env python3
"""iwfd's live /metrics, read by parsers that are not ours, has the latency histogram.

    check_live_histogram.py METRICS.txt FAMILY LABEL VALUE[,VALUE...] [BUSY[,BUSY...]]

1. `promtool check metrics` (Prometheus's own text parser, expfmt) must parse the whole
   exposition (exit 1 on a parse error fails the test; exit 3 means lint remarks only, which
   fail the test only when they name FAMILY), and `--extended` over FAMILY's lines must list
   it with its series (the parser grouped _bucket/_sum/_count into one histogram family).
2. The rules of the text exposition format 0.0.4 for a histogram ("Histograms and summaries",
   https://prometheus.io/docs/instrumenting/exposition_formats/), checked here line by line
   on the text: `# TYPE FAMILY histogram`; per label set, `_bucket` lines whose `le` values
   parse as floats and increase, the last one `+Inf`; cumulative counts that never decrease;
   the `+Inf` count equal to `_count`; a `_sum`. Every VALUE of LABEL has a series, and no
   other value does (the label set is bounded); the series of each BUSY value (a path the
   traffic drove) has observations.
Exit 0 when all hold, 1 naming what does not.
"""
import math
import re
import subprocess
import sys

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def main(argv):
    if len(argv) not in (5, 6):
        sys.stderr.write(__doc__)
        return 2
    path, family, label, values = argv[1], argv[2], argv[3], set(argv[4].split(","))
    busy = set(argv[5].split(",")) if len(argv) == 6 else set()
    text = open(path).read()
    problems = []

    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    if r.returncode not in (0, 3):
        problems.append(f"promtool check metrics: exit {r.returncode}: {r.stdout}{r.stderr}")
    for line in (r.stdout + r.stderr).splitlines():
        if family in line:
            problems.append(f"promtool lint: {line}")
    # --extended prints its table only when the lint is clean: give it FAMILY's lines alone.
    own = "\n".join(l for l in text.splitlines()
                    if re.match(rf"(# (HELP|TYPE) )?{re.escape(family)}(_bucket|_sum|_count)?[ {{]",
                                l)) + "\n"
    r = subprocess.run(["promtool", "check", "metrics", "--extended"], input=own,
                       capture_output=True, text=True)
    if not re.search(rf"^{re.escape(family)}\s+\d+", r.stdout, re.M):
        problems.append(f"promtool --extended does not list {family}:\n{r.stdout}{r.stderr}")

    if f"# TYPE {family} histogram" not in text.splitlines():
        problems.append(f"no '# TYPE {family} histogram' line")
    series = {}  # label set without le -> {"buckets": [(le, n)], "sum": x, "count": n}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m or not m.group(1).startswith(family + "_"):
            continue
        name, labels, value = m.group(1), dict(LABEL.findall(m.group(3) or "")), m.group(4)
        suffix = name[len(family) + 1:]
        le = labels.pop("le", None)
        key = tuple(sorted(labels.items()))
        s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if suffix == "bucket":
            if le is None:
                problems.append(f"bucket without le: {line}")
                continue
            try:
                s["buckets"].append((float(le), float(value)))
            except ValueError:
                problems.append(f"le or value not a float: {line}")
        elif suffix == "sum":
            s["sum"] = float(value)
        elif suffix == "count":
            s["count"] = float(value)
    seen = set()
    for key, s in series.items():
        where = f"{family}{dict(key)}"
        seen.add(dict(key).get(label))
        b = s["buckets"]
        if not b or not math.isinf(b[-1][0]):
            problems.append(f"{where}: last bucket is not le=\"+Inf\"")
            continue
        les = [x[0] for x in b]
        if les != sorted(les) or len(set(les)) != len(les):
            problems.append(f"{where}: le values not increasing: {les}")
        counts = [x[1] for x in b]
        if any(a > c for a, c in zip(counts, counts[1:])):
            problems.append(f"{where}: bucket counts decrease: {counts}")
        if s["count"] is None or s["count"] != counts[-1]:
            problems.append(f"{where}: _count {s['count']} != +Inf bucket {counts[-1]}")
        if s["sum"] is None:
            problems.append(f"{where}: no _sum")
        if dict(key).get(label) in busy and not counts[-1] > 0:
            problems.append(f"{where}: no observations, but traffic took this path")
    if seen != values:
        problems.append(f"{label} values {sorted(map(str, seen))} != expected {sorted(values)}")
    for p in problems:
        print("FAIL " + p)
    total = sum(s["count"] or 0 for s in series.values())
    print(f"{family}: {len(series)} series, {int(total)} observations: "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
