#!/usr/bin/env python3
"""Render `perf script` output as a flame graph SVG (no Debian package ships one).

    perf record -F 499 --call-graph dwarf -p PID -o perf.data -- sleep 5
    perf script -i perf.data | python3 tests/bench/flamegraph.py --title "..." > out.svg

Stacks are folded root first (the format of Brendan Gregg's stackcollapse-perf.pl: one
"frame;frame;... count" per distinct stack); each frame is a box as wide as its share of the
samples, children on top of their caller, siblings sorted by name. Hovering a box shows its
name, samples and share (SVG <title>).
"""
import argparse
import html
import re
import sys
from collections import defaultdict


def fold(lines):
    stacks = defaultdict(int)
    frames = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                stacks[";".join(reversed(frames))] += 1
            frames = []
            continue
        if not line.startswith(("\t", " ")):
            continue  # the sample's header line (comm, pid, time, event)
        m = re.match(r"\s+[0-9a-f]+\s+(.*?)(?:\s+\((.*)\))?$", line)
        if not m:
            continue
        name = m.group(1)
        if name == "[unknown]" and m.group(2):
            name = "[" + m.group(2).rsplit("/", 1)[-1] + "]"
        name = re.sub(r"\+0x[0-9a-f]+$", "", name)
        frames.append(name)
    if frames:
        stacks[";".join(reversed(frames))] += 1
    return stacks


def tree(stacks):
    root = {"n": 0, "c": {}}
    for stack, count in stacks.items():
        root["n"] += count
        node = root
        for f in stack.split(";"):
            node = node["c"].setdefault(f, {"n": 0, "c": {}})
            node["n"] += count
    return root


def color(name):
    h = sum(ord(c) for c in name)
    if name.startswith("[") or "kernel" in name or name.startswith(("__", "_raw", "do_", "sys_")):
        return f"rgb({200 + h % 55},{90 + h % 60},{40 + h % 30})"  # kernel / unknown: red-orange
    if "iwf::" in name:
        return f"rgb({60 + h % 40},{150 + h % 60},{200 + h % 55})"  # our code: blue
    return f"rgb({220 + h % 35},{170 + h % 60},{50 + h % 40})"  # libraries: yellow


def render(root, title, width=1200, row=16):
    out = []
    total = root["n"] or 1
    depth = [0]

    def walk(node, name, x, level):
        w = node["n"] / total * (width - 20)
        depth[0] = max(depth[0], level)
        if level > 0 and w >= 0.3:
            label = html.escape(name)
            pct = 100.0 * node["n"] / total
            out.append((level, x, w, label, node["n"], pct, color(name)))
        cx = x
        for cname in sorted(node["c"]):
            child = node["c"][cname]
            walk(child, cname, cx, level + 1)
            cx += child["n"] / total * (width - 20)

    walk(root, "all", 10, 0)
    height = (depth[0] + 3) * row + 30
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="monospace" font-size="11">',
        f'<rect width="100%" height="100%" fill="#fdfdf6"/>',
        f'<text x="10" y="18" font-size="14">{html.escape(title)} ({total} samples)</text>',
    ]
    for level, x, w, label, n, pct, fill in out:
        y = height - (level + 1) * row
        chars = int(w / 7)
        text = label if len(label) <= chars else (label[: max(chars - 2, 0)] + ".." if chars > 3 else "")
        svg.append(
            f'<g><title>{label} ({n} samples, {pct:.2f} %)</title>'
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" fill="{fill}" rx="2"/>'
            f'<text x="{x + 3:.1f}" y="{y + row - 4}">{text}</text></g>'
        )
    svg.append("</svg>")
    return "\n".join(svg)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--title", default="flame graph")
    ap.add_argument("--folded", help="also write the folded stacks here")
    a = ap.parse_args()
    stacks = fold(sys.stdin)
    if a.folded:
        with open(a.folded, "w") as f:
            for s, n in sorted(stacks.items()):
                f.write(f"{s} {n}\n")
    sys.stdout.write(render(tree(stacks), a.title))


if __name__ == "__main__":
    main()
