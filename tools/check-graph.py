#!/usr/bin/env python3
"""Checks FedSim's target graph (docs/architecture.md) against `swift package describe`.

Each executable may link only what its role needs: the honest client never links the attacks,
Yams or the report code; the shared core links no YAML parser and no report. Exits non-zero,
naming the arrow, when the graph breaks a rule."""
import json
import subprocess
import sys

described = subprocess.run(
    ["swift", "package", "describe", "--type", "json"], check=True, capture_output=True, text=True
).stdout
targets = {t["name"]: t for t in json.loads(described[described.index("{"):])["targets"]}


def direct(name):
    t = targets.get(name, {})
    return set(t.get("target_dependencies") or []) | set(t.get("product_dependencies") or [])


def closure(name):
    seen, todo = set(), [name]
    while todo:
        for d in direct(todo.pop()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def acyclic():
    state = {}

    def visit(n, path):
        if state.get(n) == 1:
            return path + [n]
        if state.get(n) == 2:
            return None
        state[n] = 1
        for d in direct(n):
            if d in targets:
                cycle = visit(d, path + [n])
                if cycle:
                    return cycle
        state[n] = 2
        return None

    for n in targets:
        cycle = visit(n, [])
        if cycle:
            return cycle
    return None


FORBIDDEN = {
    "fed-client": {"Adversary", "AdversaryRole", "FedServer", "FedSimKit", "Yams", "ArgumentParser"},
    "fed-server": {"Adversary", "AdversaryRole", "FedClient", "FedSimKit", "Yams", "ArgumentParser"},
    "fed-adversary": {"FedClient", "FedServer", "FedSimKit", "Yams", "ArgumentParser"},
    "FedSimCore": {"Adversary", "AdversaryRole", "FedServer", "FedClient", "FedSimKit", "Yams"},
    "FedData": {"FedSimCore", "Adversary", "FedSimKit", "Yams", "CZeroMQ"},
    "Adversary": {"FedSimCore", "FedData", "FedSimKit", "Yams", "CZeroMQ"},
    "Tensors": {"FedSimCore", "FedData", "Adversary", "FedSimKit"},
}
REQUIRED = {
    "fed-client": {"FedClient", "FedSimCore"},
    "fed-server": {"FedServer", "FedSimCore"},
    "fed-adversary": {"AdversaryRole", "Adversary", "FedSimCore"},
    "fedsim": {"FedSimKit", "Yams"},
}

failures = []
cycle = acyclic()
if cycle:
    failures.append("cycle: " + " -> ".join(cycle))
for name, banned in FORBIDDEN.items():
    if name not in targets:
        failures.append(f"{name}: no such target")
        continue
    for b in sorted(closure(name) & banned):
        failures.append(f"{name} links {b}")
for name, needed in REQUIRED.items():
    for n in sorted(needed - closure(name)):
        failures.append(f"{name} does not link {n}")
for name in sorted(targets):
    print(f"{name}: {', '.join(sorted(direct(name))) or '-'}")
if failures:
    print("\n".join("graph: " + f for f in failures), file=sys.stderr)
    sys.exit(1)
print("graph: acyclic; every executable links only what its role needs")
