"""Golden values for FedSim's zoo blocks and small models, computed by PyTorch in float64.

Weights are not stored: both sides draw every state-dict tensor from SplitMix64 seeded by
FNV-1a-64(name) XOR the case seed (the rule is in `tensor_for`, mirrored by the Swift tests),
so even Inception's largest blocks make fixtures of a few hundred kilobytes. Stored per case:
the input, the output, ⟨∂L/∂p, r_p⟩ for every parameter p (r_p drawn the same way), ∂L/∂input,
and for the DLG-style double backprop the distance Σ_p ‖∂L(x′)/∂p − ∂L(x)/∂p‖² and its gradient
with respect to x′. L = Σ probe ⊙ f(x). Blocks run in training mode (batch statistics).

Run from a virtual environment with torch and torchvision, outside CI:
  ../torch-venv/bin/python tools/make_model_reference.py Tests/Fixtures/models
"""
import json, math, os, struct, sys
import numpy as np
import torch, torch.nn as nn
import torchvision.models.resnet as R
import torchvision.models.densenet as D
import torchvision.models.inception as I
from safetensors_writer import write_safetensors

torch.set_default_dtype(torch.float64)
MASK = (1 << 64) - 1


class SplitMix:
    def __init__(self, seed): self.s = seed & MASK
    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def fnv1a(name):
    h = 0xcbf29ce484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001b3) & MASK
    return h


def tensor_for(name, shape, seed):
    n = int(np.prod(shape)) if len(shape) else 1
    last = name.split(".")[-1]
    if last == "num_batches_tracked":
        return np.zeros(shape, dtype=np.float32)
    if last == "running_var" or (last == "weight" and len(shape) == 1):
        lo, hi = np.float32(0.5), np.float32(1.5)
    elif last in ("running_mean", "bias"):
        lo, hi = np.float32(-0.2), np.float32(0.2)
    elif last == "weight":
        b = np.sqrt(np.float32(3) / np.float32(int(np.prod(shape[1:]))), dtype=np.float32)
        lo, hi = -b, b
    else:
        lo, hi = np.float32(-1), np.float32(1)
    g = SplitMix(fnv1a(name) ^ seed)
    out = np.empty(n, dtype=np.float32)
    span = np.float32(hi - lo)
    for i in range(n):
        out[i] = lo + span * np.float32((g.next() >> 40) * 2.0 ** -24)
    return out.reshape(shape)


def swap_relu(module, act):
    for n, c in module.named_children():
        if isinstance(c, nn.ReLU): setattr(module, n, act())
        else: swap_relu(c, act)


class DenseWithInput(nn.Module):  # FedSim's DenseLayer returns [x, new features]
    def __init__(self, layer): super().__init__(); self.layer = layer
    def forward(self, x): return torch.cat([x, self.layer(x)], 1)


class Aux(nn.Module):
    def __init__(self, m): super().__init__(); self.m = m
    def forward(self, x): return self.m(x)


def cnn6(classes):
    act = lambda: nn.LeakyReLU(0.2)
    plan = [(3, 12, 4, 2, 2), (12, 36, 3, 2, 1), (36, 36, 3, 1, 1), (36, 36, 3, 1, 1), (36, 64, 3, 2, 1), (64, 128, 3, 1, 1)]
    stages = [nn.Sequential(__import__("collections").OrderedDict([("layer", nn.Conv2d(a, b, k, s, p, bias=False)), ("act", act())])) for a, b, k, s, p in plan]
    stages.append(nn.Sequential(__import__("collections").OrderedDict([("flatten", nn.Flatten()), ("layer", nn.Linear(3200, classes, bias=False))])))
    m = nn.Module(); m.body = nn.Sequential(*stages); m.forward = lambda x: m.body(x); return m


def mlp():
    m = nn.Module(); m.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.Sigmoid(), nn.Linear(32, 10))
    m.forward = lambda x: m.body(x); return m


def resnet18_cifar(classes, act):
    m = R.resnet18(num_classes=classes)
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False); m.maxpool = nn.Identity()
    if act: swap_relu(m, act)
    return m


CASES = [
    ("basicblock", {"inputs": 8, "outputs": 16, "stride": 2, "activation": "relu"}, [2, 8, 8, 8],
     lambda: R.BasicBlock(8, 16, 2, nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16)))),
    ("basicblock", {"inputs": 8, "outputs": 8, "stride": 1, "activation": "sigmoid"}, [2, 8, 6, 6],
     lambda: (lambda b: (swap_relu(b, nn.Sigmoid), b)[1])(R.BasicBlock(8, 8))),
    ("denselayer", {"inputs": 16, "growth": 8, "activation": "relu"}, [2, 16, 6, 6],
     lambda: DenseWithInput(D._DenseLayer(16, 8, 4, 0.0))),
    ("transition", {"inputs": 16, "outputs": 8, "activation": "relu"}, [2, 16, 6, 6], lambda: D._Transition(16, 8)),
    ("inception_a", {"inputs": 16, "pool_features": 8}, [2, 16, 7, 7], lambda: I.InceptionA(16, 8)),
    ("inception_b", {"inputs": 16}, [2, 16, 9, 9], lambda: I.InceptionB(16)),
    ("inception_c", {"inputs": 16, "channels_7x7": 8}, [2, 16, 7, 7], lambda: I.InceptionC(16, 8)),
    ("inception_d", {"inputs": 16}, [2, 16, 9, 9], lambda: I.InceptionD(16)),
    ("inception_e", {"inputs": 16}, [2, 16, 3, 3], lambda: I.InceptionE(16)),
    ("inception_aux", {"inputs": 16, "classes": 5}, [2, 16, 17, 17], lambda: Aux(I.InceptionAux(16, 5))),
    ("batchnorm", {"channels": 6}, [4, 6, 5, 5], lambda: nn.BatchNorm2d(6)),
    ("cnn6", {"classes": 10}, [2, 3, 32, 32], lambda: cnn6(10)),
    ("mlp", {"classes": 10}, [2, 1, 28, 28], mlp),
    ("resnet18", {"classes": 10, "stem": "cifar", "activation": "sigmoid"}, [1, 3, 32, 32], lambda: resnet18_cifar(10, nn.Sigmoid)),
    # 16 channels in every 1×7 and 7×1 layer: wide enough for FedSim's F(2, 7) Winograd path.
    ("inception_c", {"inputs": 16, "channels_7x7": 16}, [2, 16, 7, 7], lambda: I.InceptionC(16, 16)),
    # 14×14: its 5×5 layer (48 → 64) has the tiles to go as a 3×3 over four shifted inputs by Winograd.
    ("inception_a", {"inputs": 16, "pool_features": 8}, [2, 16, 14, 14], lambda: I.InceptionA(16, 8)),
]


def main(out, only=None):
    os.makedirs(out, exist_ok=True)
    for k, (name, opts, shape, build) in enumerate(CASES):
        if only is not None and k not in only:
            continue
        seed = 1000 + k
        m = build(); m.train()
        sd = m.state_dict()
        prefix = "m." if isinstance(m, Aux) else ("layer." if isinstance(m, DenseWithInput) else "")
        for key in sd:
            sd[key] = torch.from_numpy(tensor_for(key[len(prefix):], list(sd[key].shape), seed)).double()
        m.load_state_dict(sd)
        params = [(n[len(prefix):], p) for n, p in m.named_parameters()]
        x = torch.from_numpy(tensor_for("input", shape, seed)).double().requires_grad_(True)
        def loss_at(inp, create):
            y = m(inp)
            probe = torch.from_numpy(tensor_for("probe.output", list(y.shape), seed)).double()
            return y, (y * probe).sum()
        y, L = loss_at(x, False)
        grads = torch.autograd.grad(L, [p for _, p in params] + [x])
        t = {"input": x.detach().numpy(), "output": y.detach().numpy(), "grad.input": grads[-1].numpy()}
        for (n, p), g in zip(params, grads):
            r = torch.from_numpy(tensor_for("probe." + n, list(p.shape), seed)).double()
            t["projection." + n] = np.array([float((g * r).sum())])
        true = [g.detach() for g in grads[:-1]]
        dx = torch.from_numpy(tensor_for("dummy.input", shape, seed)).double().requires_grad_(True)
        _, Ld = loss_at(dx, True)
        dg = torch.autograd.grad(Ld, [p for _, p in params], create_graph=True)
        dist = sum(((a - b) ** 2).sum() for a, b in zip(dg, true))
        t["distance"] = np.array([float(dist)]); t["grad.dummy_input"] = torch.autograd.grad(dist, dx)[0].numpy()
        meta = {"case": name, "seed": str(seed), "options": json.dumps(opts), "input_shape": json.dumps(shape),
                "mode": "train (batch statistics)", "computed_in": "float64 by torch %s" % torch.__version__,
                "parameters": json.dumps([n for n, _ in params]), "rule": __doc__.split("\n\n")[1].replace("\n", " ")}
        path = os.path.join(out, "%02d-%s.safetensors" % (k, name))
        write_safetensors(path, t, meta)
        print("wrote", path, os.path.getsize(path), "bytes", len(params), "parameters")


if __name__ == "__main__":
    # make_model_reference.py OUT [INDEX ...]: every case, or only those given.
    main(sys.argv[1], [int(a) for a in sys.argv[2:]] or None)
