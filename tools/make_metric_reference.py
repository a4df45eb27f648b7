"""Writes Tests/Fixtures/metrics.safetensors: pairs of images with SSIM computed by scikit-image
(Gaussian window σ 1.5, population covariance, data range 1: Wang et al. 2004) and PSNR by
scikit-image, the independent values FedSim's leakage metrics are checked against.

Usage: make_metric_reference.py OUT   (needs numpy and scikit-image; never run in CI)
"""
import json, struct, sys
import numpy as np
from skimage.metrics import structural_similarity, peak_signal_noise_ratio

rng = np.random.default_rng(5)
tensors, meta = {}, {}
cases = [("rgb32_noise", 3, 32, 0.05), ("rgb32_heavy", 3, 32, 0.3), ("grey28_noise", 1, 28, 0.1),
         ("grey28_shift", 1, 28, None), ("rgb16_blur", 3, 16, "blur")]
for name, c, s, kind in cases:
    yy, xx = np.mgrid[0:s, 0:s] / s
    a = np.stack([0.5 + 0.4 * np.sin(6 * xx + k) * np.cos(4 * yy - k) for k in range(c)]).astype(np.float32)
    a = np.clip(a + 0.05 * rng.standard_normal(a.shape), 0, 1).astype(np.float32)
    if kind is None:
        b = np.roll(a, 1, axis=2)
    elif kind == "blur":
        b = (a + np.roll(a, 1, 1) + np.roll(a, 1, 2) + np.roll(a, -1, 1)) / 4
    else:
        b = a + kind * rng.standard_normal(a.shape)
    b = np.clip(b, 0, 1).astype(np.float32)
    ssim = structural_similarity(a.astype(np.float64), b.astype(np.float64), channel_axis=0,
                                 gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
    psnr = peak_signal_noise_ratio(a.astype(np.float64), b.astype(np.float64), data_range=1.0)
    tensors[name + ".a"], tensors[name + ".b"] = a, b
    meta[name] = json.dumps({"ssim": float(ssim), "psnr": float(psnr)})

header, blobs, offset = {"__metadata__": meta}, [], 0
for name, t in tensors.items():
    data = t.astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data); offset += len(data)
h = json.dumps(header).encode(); h += b" " * ((8 - len(h) % 8) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
