#!/usr/bin/env bash
# The Slurm executor against a real one-node Slurm cluster on this machine (Debian's slurm-wlm
# and munge, started by tools/slurm-cluster.sh and stopped at the end, however it ends):
#  1. a small sweep (2 points × 2 repeats) through `--executor slurm` equals the same sweep run
#     locally with the same seeds, number for number;
#  2. a failing task is reported with its Slurm state, reason, exit code and log;
#  3. `--resume` resubmits only the unfinished task;
#  4. Ctrl-C cancels the array (scancel): nothing stays queued, no process stays behind;
#  5. with spread_clients, each task's clients run as job steps (srun) and the results still
#     equal the local run's;
#  6. a request the cluster can never satisfy (more nodes than it has) fails at once, cancelled.
# Usage: tools/slurm-test.sh [BUILD_DIR]   (default .build/release, built already)
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(pwd)/tools
fedsim=$(cd "${1:-.build/release}" && pwd)/fedsim
[ -x "$fedsim" ] || { echo "slurm-test: $fedsim is not built (swift build -c release)" >&2; exit 1; }
work=$(mktemp -d /tmp/fedsim-slurm-test.XXXXXX)
cluster=$work/cluster
trap '"$tools/slurm-cluster.sh" stop "$cluster"; rm -rf "$work"' EXIT
"$tools/slurm-cluster.sh" start "$cluster"
export SLURM_CONF=$cluster/slurm.conf OPENBLAS_NUM_THREADS=1
cd "$work"
fail() { echo "slurm-test FAILED: $*" >&2; exit 1; }
# The numbers of a run's summary.json, one line per setting, into FOLDER.numbers.
numbers() { python3 -c 'import json,sys
for s in json.load(open(sys.argv[1])): print(s["setting"], s["attacks"], s["psnr"], s["mse"], s["ssim"], s["label_acc"], s["test_accuracy"])' "$1/summary.json" > "$1.numbers"
  [ -s "$1.numbers" ] || fail "$1/summary.json has no settings"; }

cat > small.yaml <<'YAML'
name: slurm-small
seed: 3
repeats: 2
dataset: {path: shapes, count: 40}
federation: {clients: 2, rounds: 1, deadline: 30}
attack: {method: dlg, iterations: 60, victims: [0]}
sweep: {gaussian_noise: [0, 0.01]}
YAML

echo "== 1. the same sweep locally and through Slurm"
timeout 300 "$fedsim" run small.yaml --out local --jobs 1 > local.log 2>&1 || { cat local.log; fail "the local run failed"; }
timeout 300 "$fedsim" run small.yaml --out slurm --executor slurm --cpus-per-task 1 --mem 1G --time 10 > slurm.log 2>&1 || { cat slurm.log; fail "the Slurm run failed"; }
cat slurm.log
grep -q "submitted job array [0-9]*: 4 tasks (--array=0-3)" slurm.log || fail "the run was not one array of 4 tasks"
[ "$(ls slurm/slurm/*_?.out | wc -l)" = 4 ] || fail "not one log per task in slurm/slurm/"
numbers local; numbers slurm
diff local.numbers slurm.numbers || fail "the Slurm run's results differ from the local run's"
echo "same results as the local run:"; cat slurm.numbers

echo "== 2. a failing task, reported"
cat > fail.yaml <<'YAML'
name: slurm-fail
dataset: {path: shapes, count: 12}
federation: {clients: 2, rounds: 1, deadline: 30}
attack: {method: rgap, victims: [0], iterations: 20}
defenses: [{clip: 0}]
sweep: {attack_method: [dlg, rgap]}
YAML
if timeout 300 "$fedsim" run fail.yaml --out failing --executor slurm > fail.log 2>&1; then cat fail.log; fail "a run with a failed task succeeded"; fi
cat fail.log
grep -q "point 2 (attack_method=rgap) repeat 1: Slurm task [0-9]*_1 FAILED (reason NonZeroExitCode, exit code 1:0): the attack on round 1, client 0 failed: R-GAP" fail.log \
  || fail "the failure does not name the task, its Slurm state and the point's own reason"
grep -q "; log failing/slurm/[0-9]*_1.out" fail.log || fail "the failure does not give the task's log"
[ -s failing/points/p0-r0/summary.json ] || fail "the task that succeeded lost its summary"

echo "== 3. --resume resubmits only what is unfinished"
rm slurm/points/p1-r1/summary.json
timeout 300 "$fedsim" run --resume slurm > resume.log 2>&1 || { cat resume.log; fail "the resumed run failed"; }
cat resume.log
grep -q "3 tasks finished before, kept" resume.log || fail "the resumed run did not keep the 3 finished tasks"
grep -q "submitted job array [0-9]*: 1 tasks (--array=3)" resume.log || fail "the resumed run did not resubmit task 3 alone"
numbers slurm
diff local.numbers slurm.numbers || fail "the resumed run's results differ"

echo "== 4. Ctrl-C cancels the array"
sed 's/iterations: 60/iterations: 100000/; s/name: slurm-small/name: slurm-slow/' small.yaml > slow.yaml
"$fedsim" run slow.yaml --out slow --executor slurm > slow.log 2>&1 &
launcher=$!
for _ in $(seq 150); do grep -q "running on" slow.log && break; sleep 0.2; done
grep -q "running on" slow.log || { cat slow.log; fail "no task started within 30 s"; }
job=$(sed -n 's/.*submitted job array \([0-9]*\).*/\1/p' slow.log)
kill -INT "$launcher"
status=0; wait "$launcher" || status=$?
[ "$status" = 130 ] || fail "the interrupted launcher exited $status, not 130"
for _ in $(seq 100); do [ -z "$(squeue -h -j "$job" -t PENDING,RUNNING,COMPLETING 2>/dev/null)" ] && break; sleep 0.2; done
[ -z "$(squeue -h -j "$job" -t PENDING,RUNNING,COMPLETING 2>/dev/null)" ] || { squeue; fail "job $job is still queued after Ctrl-C"; }
for _ in $(seq 50); do pgrep -f "$work/slow" >/dev/null || break; sleep 0.2; done
if pgrep -af "$work/slow"; then fail "processes of the cancelled run outlived it"; fi
grep -q "finish with --resume slow" slow.log || fail "the interrupted launcher did not say how to finish"

echo "== 5. clients as job steps (spread_clients)"
timeout 300 "$fedsim" run small.yaml --out spread --executor slurm --spread-clients > spread.log 2>&1 || { cat spread.log; fail "the spread run failed"; }
grep -q '"via":"srun --nodes=1 --ntasks=1 --nodelist=' spread/points/p0-r0/events/launcher.jsonl || fail "the clients were not started through srun"
grep -q "placement: server on" spread/slurm/*_0.out || fail "the task did not say where its processes went"
numbers spread
diff local.numbers spread.numbers || fail "the spread run's results differ from the local run's"

echo "== 6. a request the cluster cannot satisfy"
if timeout 120 "$fedsim" run small.yaml --out toobig --executor slurm --spread-clients --nodes 2 > toobig.log 2>&1; then fail "a 2-node request on a 1-node cluster succeeded"; fi
cat toobig.log
grep -Eq "cannot start \(pending, reason Partition(NodeLimit|Config)" toobig.log || fail "the impossible request was not named"
job=$(sed -n 's/.*submitted job array \([0-9]*\).*/\1/p' toobig.log)
[ -z "$(squeue -h -j "$job" -t PENDING,RUNNING 2>/dev/null)" ] || fail "the impossible array stayed queued"
echo "slurm-test: all passed"
