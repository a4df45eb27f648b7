"""Writes reference trajectories of torch.optim.LBFGS / SGD / Adam on a convex quadratic and on
the Rosenbrock function, for FedSim's optimizer tests. Run from a virtual environment with torch,
outside CI:  ../torch-venv/bin/python tools/make_optimizer_reference.py Tests/Fixtures/optimizer-trajectories.json
"""
import json, sys
import torch

torch.set_default_dtype(torch.float64)
M = torch.tensor([[0.9, -0.2, 0.4, 0.0, 0.3], [0.1, 1.1, -0.5, 0.2, 0.0], [-0.3, 0.4, 0.8, 0.6, -0.1],
                  [0.2, 0.0, 0.3, 1.2, 0.5], [0.0, -0.6, 0.1, 0.2, 0.7]])
A = M @ M.T + 0.5 * torch.eye(5)
b = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0])


def quadratic(x):
    return 0.5 * x @ A @ x - b @ x


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


FUNCS = {"quadratic": (quadratic, [0.5, -1.0, 2.0, 0.0, 1.5]), "rosenbrock": (rosenbrock, [-1.5, 2.0])}
CASES = [
    ("quadratic", "lbfgs", {"lr": 1, "max_iter": 20}, 3),
    ("quadratic", "lbfgs", {"lr": 1, "max_iter": 4, "history_size": 3}, 4),
    ("quadratic", "lbfgs", {"lr": 1, "max_iter": 20, "line_search_fn": "strong_wolfe"}, 3),
    ("quadratic", "sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}, 25),
    ("quadratic", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, 25),
    ("quadratic", "adam", {"lr": 0.1, "weight_decay": 0.001}, 25),
    # 14 iterations: past that, float32 and float64 runs of torch itself part ways in the valley.
    ("rosenbrock", "lbfgs", {"lr": 1, "max_iter": 14, "line_search_fn": "strong_wolfe"}, 1),
    ("rosenbrock", "lbfgs", {"lr": 0.02, "max_iter": 10}, 5),
    ("rosenbrock", "adam", {"lr": 0.05}, 100),
    ("rosenbrock", "sgd", {"lr": 1e-4, "momentum": 0.9}, 100),
]

out = {"source": f"torch {torch.__version__}, float64", "quadratic": {"A": A.tolist(), "b": b.tolist()}, "cases": []}
for fname, opt_name, opts, steps in CASES:
    f, x0 = FUNCS[fname]
    x = torch.tensor(x0, requires_grad=True)
    opt = {"lbfgs": torch.optim.LBFGS, "sgd": torch.optim.SGD, "adam": torch.optim.Adam}[opt_name]([x], **opts)
    evals = [0]
    def closure():
        opt.zero_grad(); loss = f(x); loss.backward(); evals[0] += 1; return loss
    traj, counts = [], []
    for _ in range(steps):
        if opt_name == "lbfgs":
            opt.step(closure)
        else:
            closure(); opt.step()
        traj.append(x.detach().tolist()); counts.append(evals[0])
    out["cases"].append({"function": fname, "optimizer": opt_name, "options": opts, "x0": x0,
                         "steps": traj, "evaluations": counts, "final_value": float(f(x.detach()))})
json.dump(out, open(sys.argv[1], "w"), indent=1)
print("wrote", sys.argv[1], len(out["cases"]), "cases")
