#!/usr/bin/env python3
"""Plots a run folder's progress.jsonl as an SVG (Python standard library only).

    python3 docs/plot_progress.py RUN/progress.jsonl OUT.svg [--title T] [--xmax MINUTES]
        [--ymin Y] [--ref LABEL=VALUE]...

The x axis is wall-clock minutes; the lines are the population's best and mean search fitness
(mean ± sd shaded); each --ref draws a dashed horizontal line, e.g. a baseline's fitness.
"""

import argparse
import json
from html import escape

W, H = 880, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 300, 40, 50
COLORS = ["#c0392b", "#7f8c8d", "#16a085", "#8e44ad"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("progress")
    parser.add_argument("out")
    parser.add_argument("--title", default="Search progress")
    parser.add_argument("--ref", action="append", default=[], metavar="LABEL=VALUE")
    parser.add_argument("--ymin", type=float, default=None)
    parser.add_argument("--xmax", type=float, default=None, help="minutes at the right end")
    args = parser.parse_args()
    rows = [json.loads(line) for line in open(args.progress) if line.strip()]
    refs = [(r.rsplit("=", 1)[0], float(r.rsplit("=", 1)[1])) for r in args.ref]
    xs = [r["elapsed_seconds"] / 60 for r in rows]
    best = [r["best"] for r in rows]
    mean = [r["mean"] for r in rows]
    sd = [r["stdev"] for r in rows]
    x_max = args.xmax or max(xs) or 1.0
    values = best + [v for _, v in refs]
    y_min = args.ymin if args.ymin is not None else min(values + mean) - 0.02
    y_max = min(1.0, max(values) + 0.02)

    def px(x):
        return LEFT + (W - LEFT - RIGHT) * x / x_max

    def py(y):
        y = min(max(y, y_min), y_max)
        return TOP + (H - TOP - BOTTOM) * (1 - (y - y_min) / (y_max - y_min))

    def path(points):
        return " ".join(f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for i, (x, y) in enumerate(points))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{LEFT}" y="22" font-size="14">{escape(args.title)}</text>']
    # Axes and grid.
    for k in range(6):
        y = y_min + (y_max - y_min) * k / 5
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 8}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.3f}</text>')
    for k in range(6):
        x = x_max * k / 5
        out.append(f'<text x="{px(x):.1f}" y="{H - BOTTOM + 18}" text-anchor="middle">{x:.0f}</text>')
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 12}" text-anchor="middle">minutes</text>')
    out.append(f'<text x="16" y="{(TOP + H - BOTTOM) / 2}" transform="rotate(-90 16 {(TOP + H - BOTTOM) / 2})" text-anchor="middle">search fitness (accuracy)</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}" fill="none" stroke="#333"/>')
    # Mean ± sd band, mean, best.
    band = list(zip(xs, [m + s for m, s in zip(mean, sd)])) + list(reversed(list(zip(xs, [m - s for m, s in zip(mean, sd)]))))
    out.append(f'<path d="{path(band)} Z" fill="#bdc3c7" fill-opacity="0.35" stroke="none"/>')
    out.append(f'<path d="{path(list(zip(xs, mean)))}" fill="none" stroke="{COLORS[1]}" stroke-width="1.5"/>')
    out.append(f'<path d="{path(list(zip(xs, best)))}" fill="none" stroke="{COLORS[0]}" stroke-width="2"/>')
    legend = [("best of the population", COLORS[0], ""), ("population mean (± sd)", COLORS[1], "")]
    for i, (label, value) in enumerate(refs):
        color = COLORS[2 + i % 2]
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{py(value):.1f}" y2="{py(value):.1f}" stroke="{color}" stroke-dasharray="6 4" stroke-width="1.5"/>')
        legend.append((f"{label} ({value:.4f})", color, "6 4"))
    for i, (label, color, dash) in enumerate(legend):
        y = TOP + 10 + 20 * i
        out.append(f'<line x1="{W - RIGHT + 12}" x2="{W - RIGHT + 36}" y1="{y}" y2="{y}" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{W - RIGHT + 42}" y="{y + 4}">{escape(label)}</text>')
    out.append("</svg>")
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
