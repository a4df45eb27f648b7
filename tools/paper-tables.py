#!/usr/bin/env python3
"""Prints the WDLG paper's tables with FedSim's figures beside them, from the run folders of
`scenarios/paper/*.yaml` (their summary.json), as markdown for docs/results.md.

    tools/paper-tables.py success-rate runs/paper-success-rate
    tools/paper-tables.py mse runs/paper-mse
    tools/paper-tables.py ablation runs/paper-ablation
    tools/paper-tables.py batch runs/paper-batch
    tools/paper-tables.py dp-noise runs/paper-dp-noise
    tools/paper-tables.py strength runs/strength runs/strength-relu
"""
import glob
import itertools
import json
import math
import os
import struct
import statistics
import sys

PAPER_SUCCESS = {  # dataset: (DLG rate, WDLG rate, DLG s, WDLG s) over 300 images
    "mnist": (0.82, 0.86, 1345, 842),
    "fashion-mnist": (0.84, 0.88, 1874, 1026),
    "svhn": (0.79, 0.86, 2115, 1231),
    "cifar-100": (0.76, 0.81, 2315, 1510),
}
PAPER_MSE = {  # (dataset, model): {method: (mean, std)}
    ("mnist", "lenet"): {"dlg": (0.0037, 0.00082), "rgap": (0.0012, 0.00054), "wdlg": (0.0014, 0.00069)},
    ("mnist", "cnn6"): {"dlg": (0.015, 0.0053), "rgap": (0.0068, 0.0012), "wdlg": (0.0057, 0.0029)},
    ("cifar-10", "lenet"): {"dlg": (0.013, 0.0012), "rgap": (0.0048, 0.00081), "wdlg": (0.0045, 0.00075)},
    ("cifar-10", "cnn6"): {"dlg": (0.0513, 0.034), "rgap": (0.0258, 0.016), "wdlg": (0.028, 0.0064)},
}
PAPER_ABLATION = {"dlg": (300, 0.74), "idlg": (150, 0.78), "wdlg": (140, 0.80)}


def settings(folder):
    with open(folder + "/summary.json") as f:
        rows = json.load(f)
    out = {}
    for r in rows:
        keys = dict(part.split("=", 1) for part in r["setting"].split(", ") if "=" in part)
        out[tuple(sorted(keys.items()))] = r
    return out


def medians(folder):
    """Each setting's median MSE over its attacks, from the points' own summaries."""
    with open(folder + "/summary.json") as f:
        names = [r["setting"] for r in json.load(f)]
    out = {}
    for k, name in enumerate(names):
        values = []
        for path in glob.glob(f"{folder}/points/p{k}-r*/summary.json"):
            with open(path) as f:
                values += [row["mse"] for row in json.load(f)["rows"]]
        out[name] = statistics.median(values) if values else float("nan")
    return out


def find(table, **keys):
    want = tuple(sorted((k, str(v)) for k, v in keys.items()))
    return table.get(want)


def iterations(r):
    s = r.get("success_iteration")
    return f"{s['mean']:.0f} ± {s['std']:.0f}" if s else "—"


def success_rate(folder):
    t = settings(folder)
    print("| dataset | paper DLG | paper WDLG | FedSim DLG | FedSim iDLG | FedSim WDLG | attacks | FedSim s/attack DLG / iDLG / WDLG | paper s (300 images) DLG / WDLG |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for d in ["mnist", "fashion-mnist", "cifar-10", "svhn", "cifar-100"]:
        rs = [find(t, dataset=d, attack_method=m) for m in ["dlg", "idlg", "wdlg"]]
        if not all(rs):
            continue
        p = PAPER_SUCCESS.get(d)
        paper = (f"{p[0]:.2f}", f"{p[1]:.2f}", f"{p[2]:,} / {p[3]:,}") if p else ("—", "—", "—")
        ours = [f"{r['success_rate']:.2f}" for r in rs]
        secs = " / ".join(f"{r['attack_s']['mean']:.1f}" for r in rs)
        print(f"| {d} | {paper[0]} | {paper[1]} | {ours[0]} | {ours[1]} | {ours[2]} | {rs[0]['attacks']} | {secs} | {paper[2]} |")


def mse(folder):
    t = settings(folder)
    median = medians(folder)
    print("| cell | method | paper MSE | FedSim MSE | FedSim median MSE | FedSim PSNR (dB) | recovered | s/attack | attacks |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (d, m), paper in PAPER_MSE.items():
        for method in ["dlg", "rgap", "wdlg"]:
            r = find(t, dataset=d, model=m, attack_method=method)
            if not r:
                continue
            pm, ps = paper[method]
            print(f"| {m} + {d} | {method} | {pm:.3g} ± {ps:.2g} | {r['mse']['mean']:.3g} ± {r['mse']['std']:.2g} "
                  f"| {median[r['setting']]:.2g} | {r['psnr']['mean']:.1f} ± {r['psnr']['std']:.1f} | {r['success_rate']:.2f} "
                  f"| {r['attack_s']['mean']:.1f} | {r['attacks']} |")


def ablation(folder):
    t = settings(folder)
    print("| step | paper iterations | paper success | FedSim iterations to success | FedSim success | attacks |")
    print("| --- | --- | --- | --- | --- | --- |")
    names = {"dlg": "DLG", "idlg": "+ label recovery (iDLG)", "wdlg": "+ Wasserstein distance (WDLG)"}
    for m, (it, rate) in PAPER_ABLATION.items():
        r = find(t, attack_method=m)
        if r:
            print(f"| {names[m]} | {it} | {rate:.2f} | {iterations(r)} | {r['success_rate']:.2f} | {r['attacks']} |")


def swept(folder, key, label):
    t = settings(folder)
    values = sorted({dict(k)[key] for k in t}, key=float)
    print(f"| {label} | method | PSNR (dB) | MSE | recovered | iterations to success | attacks |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for v in values:
        for m in ["dlg", "wdlg"]:
            r = find(t, **{key: v, "attack_method": m})
            if r:
                print(f"| {v} | {m} | {r['psnr']['mean']:.1f} ± {r['psnr']['std']:.1f} | {r['mse']['mean']:.3g} ± {r['mse']['std']:.2g} "
                      f"| {r['success_rate']:.2f} | {iterations(r)} | {r['attacks']} |")


def tensors(path):
    """A safetensors file's F32 tensors as flat lists, with their shapes."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] != "F32":
            continue
        a, b = t["data_offsets"]
        count = (b - a) // 4
        out[name] = (struct.unpack(f"<{count}f", data[8 + n + a:8 + n + b]), t["shape"])
    return out


def image_psnrs(truth_path, reconstruction_path):
    """Each true image's PSNR against the reconstruction the least-total-MSE assignment gives it
    (as FedSim's scoring pairs them), pixels clamped to [0, 1]."""
    truth, shape = tensors(truth_path)["images"]
    recon, _ = tensors(reconstruction_path)["reconstruction"]
    batch, size = shape[0], len(truth) // shape[0]
    clamp = [min(1.0, max(0.0, v)) for v in recon]
    cost = [[sum((truth[j * size + i] - clamp[k * size + i]) ** 2 for i in range(size)) / size
             for k in range(batch)] for j in range(batch)]
    best = min(itertools.permutations(range(batch)), key=lambda p: sum(cost[j][p[j]] for j in range(batch)))
    return [100.0 if cost[j][best[j]] <= 1e-10 else min(100.0, -10 * math.log10(cost[j][best[j]])) for j in range(batch)]


def strength(folders, threshold=30.0):
    """Dataset x model x batch x stage against each attack (and start): images recovered
    (PSNR >= 30 dB) of those attacked, with the mean PSNR, from each point's kept truths and
    reconstructions."""
    cells = {}
    for folder in folders:
        with open(folder + "/scenario.json") as f:
            last = max(json.load(f)["attack"]["rounds"])
        for point in glob.glob(f"{folder}/points/p*-r*"):
            with open(point + "/scenario.json") as f:
                sc = json.load(f)
            m, attack = sc["model"], sc["attack"]
            row = (os.path.basename(os.path.dirname(sc["data"]["source"]["files"]["path"])), f"{m['name']} ({m['activation']})",
                   sc["federation"]["local_batch"])
            method = attack["method"] + (" from rgap" if attack.get("start") == "rgap" else "")
            for path in glob.glob(point + "/reconstructions/*.safetensors"):
                stem = os.path.basename(path)
                stage = 1 if stem.startswith("r1-") else last
                cells.setdefault(row + (stage, method), []).extend(image_psnrs(f"{point}/truth/{stem}", path))
    order = ["dlg", "idlg", "ig", "rgap", "idlg from rgap", "ig from rgap"]
    methods = [m for m in order if any(c[4] == m for c in cells)]
    print("| data | model | batch | round | " + " | ".join(methods) + " |")
    print("| --- | --- | --- | --- | " + " | ".join("---" for _ in methods) + " |")
    for row in sorted({c[:4] for c in cells}):
        values = [cells.get(row + (m,)) for m in methods]
        shown = ["—" if not v else f"{sum(x >= threshold for x in v)}/{len(v)} ({sum(v) / len(v):.1f} dB)" for v in values]
        print(f"| {row[0]} | {row[1]} | {row[2]} | {row[3]} | " + " | ".join(shown) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    table, folder = sys.argv[1], sys.argv[2]
    if table == "strength":
        strength(sys.argv[2:])
        sys.exit(0)
    {
        "success-rate": success_rate,
        "mse": mse,
        "ablation": ablation,
        "batch": lambda f: swept(f, "local_batch", "batch"),
        "dp-noise": lambda f: swept(f, "gaussian_noise", "noise σ"),
    }[table](folder)
