#!/usr/bin/env bash
# `fedsim run --serve`: once the run is over and the live view stays up, SIGTERM and Ctrl-C
# (SIGINT) still end the launcher. In the optimised build the signal handlers were released
# before that wait, and both signals were ignored; the debug build that `swift test` runs kept
# them, so this runs the release build.
# Usage: tools/serve-signal-test.sh [BUILD_DIR]   (default .build/release, built already)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
dir="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
cat > "$dir/s.yaml" <<'YAML'
name: serve
dataset: {path: shapes, count: 20}
federation: {clients: 1, rounds: 1}
attack: {method: idlg, iterations: 5}
YAML

# Whether the live view on port $1 says the run is over.
over() {
  python3 - "$1" <<'PY'
import sys, urllib.request
try:
    body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/state.json", timeout=5).read()
except OSError:
    sys.exit(1)
sys.exit(0 if b'"finished":true' in body else 1)
PY
}

for signal in TERM INT; do
  rm -rf "$dir/run"
  OPENBLAS_NUM_THREADS=1 "$bin/fedsim" run "$dir/s.yaml" --serve 0 --out "$dir/run" > "$dir/out.txt" 2>&1 &
  pid=$!
  finished=""
  for _ in $(seq 600); do
    port="$(sed -n 's|^live view: http://127.0.0.1:\([0-9]*\)/$|\1|p' "$dir/out.txt")"
    if [ -n "$port" ] && over "$port"; then finished=yes; break; fi
    kill -0 "$pid" 2>/dev/null || { cat "$dir/out.txt" >&2; echo "serve-signal-test: the run ended early" >&2; exit 1; }
    sleep 0.2
  done
  [ -n "$finished" ] || { echo "serve-signal-test: the run did not finish in 120 s" >&2; exit 1; }
  sleep 0.5
  kill -"$signal" "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "serve-signal-test: SIG$signal left the launcher running after the run" >&2
    exit 1
  fi
  wait "$pid" || true
  pid=""
  echo "serve-signal-test: SIG$signal ends the launcher once the run is over"
done
echo "serve-signal-test: all passed"
