#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm executor's test (tools/slurm-test.sh)
# and for trying `fedsim run --executor slurm` by hand.
#   tools/slurm-cluster.sh start DIR   installs Debian's slurm-wlm and munge if missing, writes
#                                      DIR/slurm.conf and starts munged, slurmctld and slurmd;
#                                      then `export SLURM_CONF=DIR/slurm.conf`
#   tools/slurm-cluster.sh stop DIR    stops the daemons it started (their pids are in DIR)
set -euo pipefail
action=${1:?usage: slurm-cluster.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: slurm-cluster.sh start|stop DIR}" && cd "$2" && pwd)

stop() {
  for d in slurmd slurmctld munged; do
    if [ -s "$dir/$d.pid" ]; then
      pid=$(cat "$dir/$d.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$d.pid"
    fi
  done
  # Whatever outlived its pid file (slurmctld's script helper among them).
  pkill -f -- "-f $dir/slurm.conf" 2>/dev/null || true
  pkill -f -- "--pid-file=$dir/munged.pid" 2>/dev/null || true
}

if [ "$action" = stop ]; then stop; exit 0; fi
[ "$action" = start ] || { echo "usage: slurm-cluster.sh start|stop DIR" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge >/dev/null
fi

node=$(hostname -s)
cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p "$dir/state" "$dir/spool" "$dir/munge" "$dir/log"
# The smallest configuration that runs jobs: one node, one partition, no cgroups, no database
# (finished tasks are read back with scontrol while MinJobAge keeps them).
cat > "$dir/slurm.conf" <<CONF
ClusterName=fedsim-test
SlurmctldHost=$node
SlurmUser=root
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=$((6817 + RANDOM % 1000))
SlurmdPort=$((7817 + RANDOM % 1000))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=2048
MinJobAge=3600
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
ReturnToService=2
NodeName=$node CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF

# munged: its own key and socket in DIR (AuthInfo tells Slurm), so a host's munged, or a second
# test cluster, is left alone.
[ -s "$dir/munge/munge.key" ] || { dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null; chmod 400 "$dir/munge/munge.key"; }
chmod 700 "$dir/munge"
socket=$dir/munge/socket
munged --force --key-file="$dir/munge/munge.key" --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
  --seed-file="$dir/munge/seed" --socket="$socket"

export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
  if sinfo -h -o %T 2>/dev/null | grep -qx idle; then echo "slurm: one node ($node, $cpus CPUs) idle; export SLURM_CONF=$SLURM_CONF"; exit 0; fi
  sleep 0.2
done
echo "slurm did not come up; see $dir/log" >&2
sinfo >&2 || true
stop
exit 1
