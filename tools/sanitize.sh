#!/usr/bin/env bash
# Runs the whole test suite once under AddressSanitizer and once under ThreadSanitizer, each in
# its own build folder (.build-asan, .build-tsan). The tests start the federation's binaries
# from the same folder, so the server, clients and adversary run sanitized too.
# Usage: tools/sanitize.sh [address|thread]...   (default: both). Not part of CI: each run
# builds everything again and takes several times the plain suite's time.
set -euo pipefail
cd "$(dirname "$0")/.."
kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(address thread)
for kind in "${kinds[@]}"; do
  dir=".build-${kind:0:1}san"
  echo "== $kind sanitizer ($dir)"
  # Every process (the test runner and each fed-* child) writes its reports to $reports.
  # LeakSanitizer is off: the Swift runtime's process-lifetime caches read as leaks.
  reports="$PWD/$dir-reports"
  rm -rf "$reports" && mkdir -p "$reports"
  ASAN_OPTIONS="detect_leaks=0:log_path=$reports/asan" TSAN_OPTIONS="log_path=$reports/tsan:second_deadlock_stack=1" \
    swift test --disable-xctest --sanitize="$kind" --scratch-path "$dir" 2>&1 | tee "$dir.log" | grep -E "✘|Test run" || true
  if [ -n "$(ls -A "$reports")" ]; then
    echo "$kind sanitizer: reports in $reports:"; grep -h "SUMMARY" "$reports"/* | sort | uniq -c; exit 1
  fi
  grep -q "Test run with .* passed" "$dir.log" || { echo "$kind sanitizer: the suite failed, see $dir.log"; exit 1; }
  echo "$kind sanitizer: clean"
done
