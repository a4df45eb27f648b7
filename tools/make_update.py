"""Writes the update a FedSGD client shares, built exactly as ../shared/anchors/torch_dlg.py builds
its victim (same LeNet, same torch.Generator seed and draw order), so FedSim's attacks and
PyTorch's run on the same updates.

Usage: make_update.py CIFAR_BIN --index N [--batch B] [--classes K] [--seed S] --out FILE
Needs torch and numpy (a virtual environment outside the repository; never run in CI).
"""
import argparse, importlib.util, json, os, struct
import numpy as np
import torch, torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
anchor_path = os.path.join(here, "..", "..", "shared", "anchors", "torch_dlg.py")


def load_anchor(path):
    spec = importlib.util.spec_from_file_location("torch_dlg", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("image_file"); ap.add_argument("--index", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1); ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0); ap.add_argument("--anchor", default=anchor_path)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    dlg = load_anchor(a.anchor)
    gen = torch.Generator().manual_seed(a.seed)
    model = dlg.LeNet(classes=a.classes); dlg.init_uniform(model, gen)
    x, y = dlg.load_cifar(a.image_file, a.index, a.batch)
    onehot = F.one_hot(y, a.classes).float()
    grads = torch.autograd.grad(dlg.soft_cross_entropy(model(x), onehot), model.parameters())
    tensors = {"param." + k: v for k, v in model.state_dict().items()}
    tensors.update({"grad." + k: g for (k, _), g in zip(model.named_parameters(), grads)})
    tensors["input"], tensors["label_onehot"] = x, onehot
    write_safetensors(a.out, tensors, {
        "model": "lenet", "classes": str(a.classes), "channels": "3", "size": "32", "batch": str(a.batch),
        "activation": "sigmoid", "source": f"tools/make_update.py {os.path.basename(a.image_file)} index {a.index} seed {a.seed}"})


if __name__ == "__main__":
    main()
