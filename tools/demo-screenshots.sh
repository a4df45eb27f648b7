#!/usr/bin/env bash
# Screenshots of `fedsim demo` in a real terminal: xterm (24-bit colour, DejaVu Sans Mono) on a
# virtual X display, at 80×24, 120×40 and 200×60, each grabbed as a PNG once the demo ends.
# Not run in CI (it needs Debian's xvfb and xterm, and Pillow for the grab):
#   tools/demo-screenshots.sh OUT_DIR [FEDSIM_BINARY] [PYTHON_WITH_PILLOW]
set -euo pipefail
out="$(mkdir -p "$1" && cd "$1" && pwd)"
fedsim="$(realpath "${2:-.build/release/fedsim}")"
python="${3:-../torch-venv/bin/python}"
data="$(realpath "${FEDSIM_DATA_DIR:-../shared/data}")"
display=":$((90 + RANDOM % 9))"
work="$(mktemp -d)"
Xvfb "$display" -screen 0 1920x1200x24 >"$work/xvfb.log" 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 1

# One screenshot: NAME COLUMNS ROWS FONT_SIZE, then the demo's arguments.
shot() {
  local name=$1 cols=$2 rows=$3 size=$4
  shift 4
  local done="$work/$name.done"
  printf '%q ' "$fedsim" demo --out "$work/$name" "$@" >"$work/$name.sh"
  DISPLAY=$display xterm -geometry "${cols}x${rows}+0+0" -fa 'DejaVu Sans Mono' -fs "$size" -bg '#101010' -fg '#e0e0e0' \
    -xrm 'XTerm*directColor: true' -xrm 'XTerm*allowTitleOps: false' -T "fedsim-$name" \
    -e bash -c "cd '$work' && COLORTERM=truecolor OPENBLAS_NUM_THREADS=1 bash '$work/$name.sh'; touch '$done'; sleep 600" &
  local term=$!
  for _ in $(seq 600); do [ -e "$done" ] && break; sleep 0.5; done
  sleep 1
  local geometry
  geometry="$(DISPLAY=$display xwininfo -name "fedsim-$name" | awk '/Absolute upper-left X/{x=$4} /Absolute upper-left Y/{y=$4} /Width:/{w=$2} /Height:/{h=$2} END{print x, y, x+w, y+h}')"
  "$python" -c "import sys; from PIL import ImageGrab; ImageGrab.grab(bbox=tuple(map(int, sys.argv[2].split())), xdisplay=sys.argv[3]).save(sys.argv[1])" \
    "$out/demo-$name.png" "$geometry" "$display"
  kill $term 2>/dev/null || true
  echo "$out/demo-$name.png ($cols×$rows)"
}

shot 80x24 80 24 12 --defense gaussian_noise=0.01
shot 120x40 120 40 10 --data "$data/cifar-10/test_batch.bin" --index 7 --defense gaussian_noise=0.01 --defense prune=0.9
shot 200x60 200 60 8 --big --data "$data/cifar-100/test.bin" --index 3 --defense gaussian_noise=0.001
