#!/usr/bin/env bash
# Regenerates docs/man/fedsim.1 from fedsim's argument parser (swift-argument-parser's
# generate-manual plugin), so the manual says what the command line does.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
swift package --allow-writing-to-directory "$out" generate-manual --output-directory "$out" --date "$(date +%Y-%m-%d)" \
  --authors "the FedSim developers" >/dev/null
mkdir -p docs/man
cp "$out/fedsim.1" docs/man/fedsim.1
rm -rf "$out"
echo "wrote docs/man/fedsim.1 (read it with: man -l docs/man/fedsim.1)"
