#!/usr/bin/env python3
"""Draws a report chart's data (charts/psnr.csv or ssim.csv of a run folder) with matplotlib,
to compare with FedSim's own SVG: python3 tools/matplotlib-chart.py RUN/charts/psnr.csv out.png
[--threshold 30]. Needs matplotlib (Debian's python3-matplotlib: /usr/bin/python3); never run by CI."""
import argparse, csv, math
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

p = argparse.ArgumentParser()
p.add_argument("csv"); p.add_argument("png"); p.add_argument("--threshold", type=float)
a = p.parse_args()
rows = list(csv.DictReader(open(a.csv)))
key = list(rows[0].keys())[1]
metric = list(rows[0].keys())[2].removesuffix("_mean")
series = {}
for r in rows:
    series.setdefault(r["series"], []).append((r[key], float(r[metric + "_mean"]), float(r[metric + "_std"]), int(r["attacks"])))
fig, ax = plt.subplots(figsize=(6.8, 3.4), dpi=100)
def is_number(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
numeric = all(is_number(x) for pts in series.values() for x, *_ in pts)
for name, pts in series.items():
    if numeric:
        pts = sorted(pts, key=lambda t: float(t[0]))
        xs = [float(x) for x, *_ in pts]
        positive = [x for x in xs if x > 0]
        if positive and max(positive) / min(positive) >= 100:
            ax.set_xscale("symlog", linthresh=min(positive))
        ax.errorbar(xs, [m for _, m, _, _ in pts], yerr=[s if n > 1 else 0 for _, _, s, n in pts], marker="o", capsize=4, label=name)
    else:
        ax.bar([x for x, *_ in pts], [m for _, m, _, _ in pts], yerr=[s if n > 1 else 0 for _, _, s, n in pts], capsize=4, label=name)
if a.threshold is not None:
    ax.axhline(a.threshold, color="#d62728", linestyle="--", label=f"recovered: ≥ {a.threshold:g} dB")
ax.set_xlabel(key); ax.set_ylabel(metric)
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
fig.tight_layout(); fig.savefig(a.png)
print("wrote", a.png)
