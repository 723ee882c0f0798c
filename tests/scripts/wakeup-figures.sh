#!/usr/bin/env bash
# Wake-up figures (docs/BENCHMARKS.md, issue 11 "Wake-ups"): an idle-ish path and what an idle
# stack costs, for `stack endpoint` on a TAP in a network namespace, with and without
# --busy-poll, next to the same ping between two kernel namespaces over a veth.
#
#   sudo tests/scripts/wakeup-figures.sh [RUNS]
#
# Per run and mode: `ping -i 0.01 -c 300` (avg and max, ms), optionally wrk -t1 -c1 --latency
# (p50, p99) against --serve http:80, and the system calls of the idle endpoint over 5 s
# (strace -c -f on its pid; without --busy-poll only: busy-poll spins by design). Modes: idle
# (the default: spin briefly, then sleep in poll()), busy (--busy-poll), nopark (--no-park), jit (--jit-idle: the
# JIT compiler threads at SCHED_IDLE), syscall (--tap-io syscall: one system call per frame on
# the TAP instead of batches through io_uring).
#
# Environment: CORES (stack cores, default 2), COUNT (pings per run, default 300), WRK (1 to run
# wrk, default 1), DURATION (wrk seconds, default 5), STRACE (1 to count idle system calls,
# default 1), MODES (default "idle busy jit"; a build without --jit-idle: "idle busy"),
# STACK (the launcher, default ./stack of this checkout).
#
# Topology (per-run names, 198.18.11.0/24 only, IPv6 off in every namespace):
#   veth: netns fwf-<pid>-a [wfa<pid>, 198.18.11.1] <-veth-> netns fwf-<pid>-b [wfb<pid>, 198.18.11.3]
#   tap:  netns fwf-<pid>-a [TAP wft<pid>, 198.18.11.1; the stack, 198.18.11.2, runs in the same netns]
# Everything is removed on exit, Ctrl-C included (trap): the stack is stopped by its pid, the
# namespaces are deleted (which deletes the veth and the TAP). Every wait is bounded.
set -euo pipefail

runs=${1:-3}
cores=${CORES:-2}
count=${COUNT:-300}
dowrk=${WRK:-1}
duration=${DURATION:-5}
dostrace=${STRACE:-1}
modes=${MODES:-idle busy jit}
root=$(cd "$(dirname "$0")/../.." && pwd)
stack=${STACK:-$root/stack}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}

id=$$
nsa=fwf-$id-a
nsb=fwf-$id-b
adev=wfa$id
bdev=wfb$id
tdev=wft$id
kip=198.18.11.1
sip=198.18.11.2
bip=198.18.11.3
spid=""
log=$(mktemp /tmp/wakeup-figures.$id.XXXX)

stop_stack() {
    if [[ -n "$spid" ]] && kill -0 "$spid" 2>/dev/null; then
        kill -TERM "$spid"
        for _ in $(seq 1 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$spid" 2>/dev/null || true
    fi
    spid=""
}

cleanup() {
    set +e
    stop_stack
    ip netns del "$nsa" 2>/dev/null
    ip netns del "$nsb" 2>/dev/null
    ip link del "$adev" 2>/dev/null
    echo "stack log: $log" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

newns() { # name: a namespace with IPv6 off before any interface arrives
    ip netns add "$1"
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$1" link set lo up
}

# ping's summary "rtt min/avg/max/mdev = a/b/c/d ms" -> "avg A max C"
pingfig() { # netns, address
    local out
    out=$(ip netns exec "$1" timeout $((count / 50 + 20)) ping -q -i 0.01 -c "$count" "$2")
    awk -F'[/ ]+' '/^rtt/ {printf "avg %s max %s ms", $8, $9}' <<<"$out"
    awk '/packet loss/ {printf " (%s loss)", $6}' <<<"$out"
}

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), cores=$cores count=$count"
newns "$nsa"
newns "$nsb"
ip link add "$adev" type veth peer name "$bdev"
ip link set "$adev" netns "$nsa"
ip link set "$bdev" netns "$nsb"
ip -n "$nsa" addr add $kip/24 dev "$adev"
ip -n "$nsb" addr add $bip/24 dev "$bdev"
ip -n "$nsa" link set "$adev" up
ip -n "$nsb" link set "$bdev" up
ip netns exec "$nsa" ping -q -c 3 -i 0.2 $bip >/dev/null # neighbours resolved before the runs
for r in $(seq 1 "$runs"); do
    echo "veth kernel->kernel run $r: ping $(pingfig "$nsa" $bip)"
done
ip -n "$nsa" link set "$adev" down # the TAP takes 198.18.11.0/24 in this namespace

for mode in $modes; do
    case $mode in
        idle) extra=() ;;
        busy) extra=(--busy-poll) ;;
        jit) extra=(--jit-idle) ;;
        nopark) extra=(--no-park) ;;
        syscall) extra=(--tap-io syscall) ;;
        *) echo "unknown mode $mode (idle, busy, jit, nopark, syscall)" >&2; exit 2 ;;
    esac
    ip netns exec "$nsa" "$stack" endpoint --tap "$tdev" --addr $sip/24 --cores "$cores" --name "wf$id" \
        --serve http:80 "${extra[@]}" >>"$log" 2>&1 &
    spid=$!
    for _ in $(seq 1 100); do ip -n "$nsa" link show "$tdev" >/dev/null 2>&1 && break; sleep 0.2; done
    ip -n "$nsa" addr add $kip/24 dev "$tdev" 2>/dev/null || true
    ip -n "$nsa" link set "$tdev" up
    up=0
    for _ in $(seq 1 60); do
        if ip netns exec "$nsa" curl -sf -m 2 -o /dev/null http://$sip:80/; then up=1; break; fi
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.5
    done
    [[ $up == 1 ]] || { echo "stack did not answer HTTP" >&2; cat "$log" >&2; exit 1; }
    # warm-up (JIT), not reported
    ip netns exec "$nsa" ping -q -i 0.01 -c 300 $sip >/dev/null || true
    if [[ $dowrk == 1 ]]; then
        ip netns exec "$nsa" timeout 20 wrk -t1 -c1 -d2 http://$sip:80/ >/dev/null 2>&1 || true
    fi
    label="tap stack ($mode${extra:+, ${extra[*]}})"
    for r in $(seq 1 "$runs"); do
        echo "$label run $r: ping $(pingfig "$nsa" $sip)"
        if [[ $dowrk == 1 ]]; then
            out=$(ip netns exec "$nsa" timeout $((duration + 15)) wrk -t1 -c1 -d"$duration" --latency http://$sip:80/)
            p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
            p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
            rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
            echo "$label run $r: wrk -t1 -c1 p50 $p50 p99 $p99 requests/s $rps"
        fi
        if [[ $dostrace == 1 && $mode != busy ]]; then
            sleep 1 # idle: the last exchange's timers and spins are over
            st=$(timeout -s INT 5 strace -c -f -p "$spid" 2>&1 || true)
            calls=$(awk '$NF == "total" {print $4}' <<<"$st")
            top=$(awk '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {printf "%s %s, ", $NF, $4}' <<<"$st" | head -c 200)
            echo "$label run $r: idle system calls in 5 s: ${calls:-?} (${top%, })"
        fi
    done
    stop_stack
done
