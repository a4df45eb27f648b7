#!/usr/bin/env bash
# One federation across four hosts: the server, two clients and the adversary each in a Linux
# network namespace this test creates, joined by veth pairs on a private subnet (10.213.0.0/24)
# that exists only inside those namespaces (a bridge in the server's; nothing in the host's
# namespace, nothing routed out). The processes are started by hand, as on separate machines
# (`fedsim prepare` prints their commands), talk over TCP with CURVE, and the point is scored
# with `fedsim score`. The leakage must equal the same scenario's run over loopback, and the
# update must have crossed the clients' links. The namespaces are removed however it ends.
# Usage: tools/netns-test.sh [BUILD_DIR]   (default .build/release, built already)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
[ -x "$bin/fedsim" ] || { echo "netns-test: $bin/fedsim is not built" >&2; exit 1; }
command -v ip >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y iproute2 >/dev/null
work=$(mktemp -d /tmp/fedsim-netns-test.XXXXXX)
tag=f$$
hosts=(srv c0 c1 adv)
cleanup() {
  for h in "${hosts[@]}"; do
    ip netns pids "$tag-$h" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$tag-$h" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "netns-test FAILED: $*" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1

echo "== four hosts on 10.213.0.0/24"
for h in "${hosts[@]}"; do ip netns add "$tag-$h"; ip -n "$tag-$h" link set lo up; done
ip -n "$tag-srv" link add br0 type bridge
ip -n "$tag-srv" addr add 10.213.0.1/24 dev br0
ip -n "$tag-srv" link set br0 up
i=2
for h in c0 c1 adv; do
  ip link add "p-$h" netns "$tag-srv" type veth peer name eth0 netns "$tag-$h"
  ip -n "$tag-srv" link set "p-$h" master br0 up
  ip -n "$tag-$h" addr add "10.213.0.$i/24" dev eth0
  ip -n "$tag-$h" link set eth0 up
  i=$((i + 1))
done
if ip -o addr | grep -q "10\.213\."; then fail "the test subnet leaked into this machine's own namespace"; fi

cd "$work"
cat > net.yaml <<'YAML'
name: netns
seed: 5
dataset: {path: shapes, count: 40}
federation: {clients: 2, rounds: 1, deadline: 60, security: curve}
attack: {method: dlg, iterations: 60, victims: [0, 1]}
YAML

echo "== the same point over loopback (fedsim run)"
timeout 300 "$bin/fedsim" run net.yaml --out loop > loop.log 2>&1 || { cat loop.log; fail "the loopback run failed"; }

echo "== the point across the four namespaces (processes started by hand)"
"$bin/fedsim" prepare net.yaml --out net --set federation.host=10.213.0.1 --set federation.port=7700 | tee prepare.log
grep -q "fed-client net 1 tcp://10.213.0.1:7700" prepare.log || fail "prepare did not print the clients' endpoint"
grep -q "fed-adversary net tcp://10.213.0.1:7701" prepare.log || fail "prepare did not print the tap's endpoint"
ip netns exec "$tag-srv" timeout 300 "$bin/fed-server" net > server.out 2> server.err &
server=$!
for _ in $(seq 100); do [ -s net/endpoints.json ] && break; sleep 0.1; done
[ -s net/endpoints.json ] || { cat server.err; fail "the server did not listen"; }
[ "$(python3 -c 'import json; print(json.load(open("net/endpoints.json"))["clients"])')" = tcp://10.213.0.1:7700 ] || fail "the server is not on 10.213.0.1:7700: $(cat net/endpoints.json)"
ip netns exec "$tag-adv" timeout 300 "$bin/fed-adversary" net tcp://10.213.0.1:7701 2> adversary.err &
adversary=$!
ip netns exec "$tag-c0" timeout 300 "$bin/fed-client" net 0 tcp://10.213.0.1:7700 2> c0.err &
c0=$!
ip netns exec "$tag-c1" timeout 300 "$bin/fed-client" net 1 tcp://10.213.0.1:7700 2> c1.err &
c1=$!
for p in $server $c0 $c1 $adversary; do wait "$p" || { tail -n 3 ./*.err; fail "a process failed (pid $p)"; }; done
timeout 300 "$bin/fedsim" score net | tee score.log || fail "scoring failed"

echo "== across hosts = over loopback"
rows() { python3 -c 'import json,sys
s=json.load(open(sys.argv[1]))
assert s["rows"], "no attacked update"
for r in s["rows"]: print(r["round"], r["client"], r["mse"], r["psnr"], r["ssim"], r["label_acc"])' "$1"; }
rows loop/points/p0-r0/summary.json > loop.rows
rows net/summary.json > net.rows
[ "$(wc -l < net.rows)" = 2 ] || fail "not two attacked updates"
diff loop.rows net.rows || fail "the leakage across namespaces differs from loopback"
cat net.rows
model=$(stat -c %s net/initial-model.safetensors)  # the update is as large as the model
for h in c0 c1; do
  sent=$(ip -n "$tag-$h" -s -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["bytes"])')
  echo "client $h sent $sent bytes over its link (the model: $model bytes)"
  [ "$sent" -gt $((model * 9 / 10)) ] || fail "client $h sent only $sent bytes over its link, less than its update ($model): it did not cross it"
done
echo "netns-test: all passed"
