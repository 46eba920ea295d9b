#!/usr/bin/env bash
# A throwaway single-node SLURM cluster on this machine, for tests/test_slurm.py.
#
#   sudo .ci/slurm-local.sh          # start munged, slurmctld and slurmd; wait until the node takes jobs
#   sudo .ci/slurm-local.sh stop     # stop slurmd and slurmctld (munged is left running)
#
# Needs root and Debian's packages: apt-get install slurm-wlm munge. It writes
# /etc/slurm/slurm.conf (one node named after this host, one partition "debug", no
# accounting database, no cgroups) and refuses to overwrite a slurm.conf it did not write,
# so it cannot clobber a real cluster's configuration. Running it again is harmless: running
# daemons are kept, and restarted only when the configuration has changed.
# Daemon logs: /var/log/slurm/slurm{ctld,d}.log and /var/log/munge/munged.log.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin" # the daemons live in sbin, which a non-login PATH may lack

CONF=/etc/slurm/slurm.conf
MARKER="# Written by .ci/slurm-local.sh: a single-node test cluster. Delete this file to use your own."
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
STATE=/var/spool/slurm-evaluation-test # controller and node state of this throwaway cluster only

say() { echo "slurm-local: $*"; }
die() {
    echo "slurm-local: ERROR: $*" >&2
    exit 1
}
# Whether the daemon of pid file $1 runs (a live process of that name, not a zombie or a reused pid).
running() {
    [[ -s $1 ]] || return 1
    local pid name stat comm
    pid=$(cat "$1")
    name=$(basename "$1" .pid)
    read -r stat comm < <(ps -o stat=,comm= -p "$pid" 2>/dev/null) || return 1
    [[ $comm == "$name" && $stat != Z* ]]
}

# Wait up to $1 seconds for the command in the remaining arguments to succeed.
wait_for() {
    local seconds=$1
    shift
    for _ in $(seq "$seconds"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 1
    done
    return 1
}

stop_slurm() {
    local pidfile pid
    for pidfile in $SLURMD_PID $CTLD_PID; do
        if running "$pidfile"; then
            pid=$(cat "$pidfile")
            say "stopping $(basename "$pidfile" .pid) (pid $pid)"
            kill "$pid"
            for _ in $(seq 30); do
                running "$pidfile" || continue 2
                sleep 1
            done
            die "$(basename "$pidfile" .pid) (pid $pid) did not stop"
        fi
    done
}

[[ $(id -u) -eq 0 ]] || die "needs root: it starts munged, slurmctld and slurmd"
if [[ ${1:-start} == stop ]]; then
    stop_slurm
    exit 0
fi
[[ ${1:-start} == start ]] || die "unknown command '$1' (use: start or stop)"
for cmd in munge munged mungekey slurmctld slurmd sinfo scontrol; do
    command -v "$cmd" >/dev/null || die "'$cmd' not found: apt-get install slurm-wlm munge"
done

# --- munge: the authentication daemon that slurmctld, slurmd and the client commands share
if [[ ! -s /etc/munge/munge.key ]]; then
    say "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged is running"
else
    say "starting munged"
    runuser -u munge -- munged || die "munged did not start (see /var/log/munge/munged.log)"
    wait_for 10 bash -c "munge -n </dev/null 2>/dev/null | unmunge" || die "munged does not answer (see /var/log/munge/munged.log)"
fi

# --- slurm.conf: this host as controller and only compute node
host=$(hostname -s)
cpus=$(nproc)
total_mb=$(free -m | awk '/^Mem:/ {print $2}')
memory_mb=$((total_mb - (total_mb / 10 > 1024 ? total_mb / 10 : 1024))) # leave 10 % (at least 1 GB) to the system
new_conf=$(
    cat <<EOF
$MARKER
ClusterName=evaluation-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# no cgroups (containers and CI machines rarely allow them) and no accounting database
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
# finished jobs stay visible to squeue for 10 minutes (the executor plugin polls with it)
MinJobAge=600
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)
if [[ -e $CONF ]] && ! grep -qxF "$MARKER" "$CONF"; then
    die "$CONF exists and was not written by this script: not overwriting it (move it away to use the test cluster)"
fi
if [[ -e $CONF ]] && [[ $(cat "$CONF") == "$new_conf" ]]; then
    say "$CONF is current ($host: $cpus CPUs, $memory_mb MB)"
else
    say "writing $CONF ($host: $cpus CPUs, $memory_mb MB)"
    stop_slurm     # the daemons must read the new configuration,
    rm -rf "$STATE" # and the old state (queued jobs, cluster name) may not fit it
    install -d -m 0755 /etc/slurm
    printf '%s\n' "$new_conf" >"$CONF"
fi
install -d -m 0755 "$STATE/ctld" "$STATE/d" /var/log/slurm

# --- the daemons
if running $CTLD_PID; then
    say "slurmctld is running"
else
    say "starting slurmctld"
    slurmctld || die "slurmctld did not start (see /var/log/slurm/slurmctld.log)"
fi
wait_for 30 scontrol ping || die "slurmctld does not answer (see /var/log/slurm/slurmctld.log)"
if running $SLURMD_PID; then
    say "slurmd is running"
else
    say "starting slurmd"
    slurmd || die "slurmd did not start (see /var/log/slurm/slurmd.log)"
fi

say "waiting for node $host to take jobs"
if ! wait_for 60 bash -c "sinfo --noheader --nodes=$host --format=%t | grep -qxE 'idle|mix|alloc'"; then
    sinfo --nodes="$host" --long >&2 || true
    die "node $host does not take jobs (see /var/log/slurm/slurmd.log and slurmctld.log)"
fi
say "ready: partition 'debug' on $host ($cpus CPUs, $memory_mb MB)"
sinfo
