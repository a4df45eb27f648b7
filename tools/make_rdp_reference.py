"""Writes Tests/Fixtures/rdp-opacus.json: (ε, best order) from Opacus's RDP accountant at the
integer orders 2..128 for several sampled-Gaussian settings, the independent values FedSim's
accountant is checked against.

Usage: make_rdp_reference.py OUT   (needs opacus; never run in CI)
"""
import json, sys
from opacus.accountants.analysis import rdp as rdp_analysis

orders = list(range(2, 129))
cases = [(256 / 60000, 1.1, 60 * 60000 // 256, 1e-5), (0.01, 1.0, 1000, 1e-5), (0.1, 2.0, 100, 1e-6),
         (1.0, 5.0, 10, 1e-5), (0.05, 0.8, 50, 1e-5)]
out = []
for q, sigma, steps, delta in cases:
    r = rdp_analysis.compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=orders)
    eps, best = rdp_analysis.get_privacy_spent(orders=orders, rdp=r, delta=delta)
    out.append({"q": q, "sigma": sigma, "steps": steps, "delta": delta, "epsilon": float(eps), "order": int(best),
                "rdp_order_8": float(r[orders.index(8)]) / steps})
json.dump(out, open(sys.argv[1], "w"), indent=1)
