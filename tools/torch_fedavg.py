"""FedAvg in PyTorch, from the same start as a FedSim point: an independent check of FedSim's training.

Usage: torch_fedavg.py POINT_FOLDER [--seed S] [--threads T] [--data PATH] [--csv FILE]

POINT_FOLDER is a finished point of `fedsim run` (runs/NAME/points/p0-r0). From it this script takes
  - scenario.json: the model (lenet or fedavg_cnn, its activation), the dataset, the federation
    (rounds, local epochs, local batch, learning rate);
  - initial-model.safetensors: the global model before round 1 (the same weights FedSim started from);
  - partition.json: the server's test images and each client's training images (dataset indices);
  - rounds.json: which clients each round selected and accepted (FedSim's client sampling).
It then runs FedAvg itself (plain SGD on each client, shuffled each epoch by --seed, the last partial batch
kept; the server adds the examples-weighted mean of the weight changes) and prints one JSON line per round
with the test accuracy, beside FedSim's. Only the local shuffles differ from FedSim's run.

Needs torch and numpy (python3 -m venv ../torch-venv; ../torch-venv/bin/pip install torch numpy). Never run in CI.
"""
import argparse, gzip, json, os, struct, sys
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype="<f4").copy()).reshape(info["shape"])
    return out


def read_dataset(path):
    """Images in [0, 1] as N x C x H x W float32, and labels."""
    opener = gzip.open if path.endswith(".gz") else open
    if "idx3" in path:
        with opener(path, "rb") as f:
            raw = f.read()
        n, h, w = struct.unpack(">III", raw[4:16])
        images = np.frombuffer(raw[16:16 + n * h * w], dtype=np.uint8).reshape(n, 1, h, w)
        with opener(path.replace("images-idx3", "labels-idx1"), "rb") as f:
            labels = np.frombuffer(f.read()[8:], dtype=np.uint8)[:n]
    elif path.endswith(".bin"):
        with open(path, "rb") as f:
            raw = np.frombuffer(f.read(), dtype=np.uint8)
        skip = 2 if "cifar-100" in path or os.path.basename(path) in ("test.bin", "train.bin") else 1
        rows = raw.reshape(-1, skip + 3072)
        labels, images = rows[:, skip - 1], rows[:, skip:].reshape(-1, 3, 32, 32)
    else:
        sys.exit(f"{path}: only IDX and CIFAR .bin files are read here")
    return torch.from_numpy(images.astype(np.float32) / 255), torch.from_numpy(labels.astype(np.int64))


def activation(name):
    return {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[name]()


class LeNet(nn.Module):
    """DLG's LeNet, FedSim's `lenet`: three 5x5 convs of 12 channels (strides 2, 2, 1), one linear layer."""
    def __init__(self, channels, classes, size, act):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 12, 5, padding=2, stride=2), activation(act),
            nn.Conv2d(12, 12, 5, padding=2, stride=2), activation(act),
            nn.Conv2d(12, 12, 5, padding=2, stride=1), activation(act))
        self.fc = nn.Linear(12 * ((size + 3) // 4) ** 2, classes)

    def forward(self, x):
        return self.fc(self.body(x).flatten(1))


class FedAvgCNN(nn.Module):
    """McMahan et al.'s CNN, FedSim's `fedavg_cnn`."""
    def __init__(self, channels, classes, size, act):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 32, 5, padding=2), activation(act), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), activation(act), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(64 * (size // 4) ** 2, 512), activation(act), nn.Linear(512, classes))

    def forward(self, x):
        return self.body(x)


def build(spec, weights):
    kind = {"lenet": LeNet, "fedavg_cnn": FedAvgCNN}.get(spec["name"])
    if kind is None:
        sys.exit(f"model {spec['name']}: this script builds lenet and fedavg_cnn")
    model = kind(spec["channels"], spec["classes"], spec["imageSize"], spec["activation"])
    state = {k[len("param."):]: v for k, v in weights.items()}
    model.load_state_dict(state, strict=True)
    return model


def local_update(model, images, labels, fed, gen):
    local = [p.detach().clone() for p in model.parameters()]
    start = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=fed["learning_rate"])
    n = len(labels)
    for _ in range(fed["epochs"]):
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, fed["local_batch"]):
            b = order[i:i + fed["local_batch"]]
            opt.zero_grad()
            F.cross_entropy(model(images[b]), labels[b]).backward()
            opt.step()
    delta = [p.detach() - s for p, s in zip(model.parameters(), start)]
    with torch.no_grad():
        for p, s in zip(model.parameters(), local):
            p.copy_(s)
    return delta


def accuracy(model, images, labels):
    with torch.no_grad():
        correct = sum((model(images[i:i + 1000]).argmax(1) == labels[i:i + 1000]).sum().item() for i in range(0, len(labels), 1000))
    return correct / max(len(labels), 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("point")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", help="the dataset file, when scenario.json's path is relative to another folder")
    ap.add_argument("--csv", help="append round,fedsim,pytorch rows to this file")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    load = lambda name: json.load(open(os.path.join(a.point, name)))
    scenario, split, rounds = load("scenario.json"), load("partition.json"), load("rounds.json")
    fed = scenario["federation"]
    if fed["algorithm"] != "fedavg" or scenario["privacy"] != {"none": {}} or scenario["defenses"] or scenario["secure_aggregation"]:
        sys.exit("this script runs plain FedAvg: no DP-SGD, defenses or secure aggregation")
    path = a.data or scenario["data"]["source"]["files"]["path"]
    images, labels = read_dataset(path)
    model = build(scenario["model"], read_safetensors(os.path.join(a.point, "initial-model.safetensors")))
    gen = torch.Generator().manual_seed(a.seed)
    test = torch.tensor(split["test"])
    for record in rounds:
        accepted = record["accepted"]
        sizes = [len(split["clients"][c]) for c in accepted]
        total = sum(sizes)
        mean = None
        for c, n in zip(accepted, sizes):
            mine = torch.tensor(split["clients"][c])
            delta = local_update(model, images[mine], labels[mine], fed, gen)
            mean = [d * (n / total) for d in delta] if mean is None else [m + d * (n / total) for m, d in zip(mean, delta)]
        if mean is not None and record["outcome"] == "aggregated":
            with torch.no_grad():
                for p, m in zip(model.parameters(), mean):
                    p.add_(m)
        acc = accuracy(model, images[test], labels[test])
        row = dict(round=record["round"], fedsim=record.get("test_accuracy"), pytorch=acc, seed=a.seed)
        print(json.dumps(row), flush=True)
        if a.csv:
            new = not os.path.exists(a.csv)
            with open(a.csv, "a") as f:
                if new:
                    f.write("seed,round,fedsim,pytorch\n")
                f.write(f"{a.seed},{row['round']},{row['fedsim']},{acc}\n")


if __name__ == "__main__":
    main()
