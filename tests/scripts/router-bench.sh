#!/usr/bin/env bash
# Forwarding benchmark, side by side (issue 12 point 5): the Linux kernel forwarding between two
# namespaces against `./stack router` on the same topology, with the same generator and clients,
# in one run. Prints one table (figure | kernel | flowstack | ratio); docs/ROUTER.md,
# "Forwarding benchmark", has the figures of this machine.
#
#   sudo tests/scripts/router-bench.sh [--only kernel|flowstack] [--cores N] [--runs K]
#        [--flowstack-if packet|tap|xdp] [--json FILE] [--frames N] [--burst-seconds S]
#        [--tcp-seconds S] [--warmup-seconds W] [--no-rps] [--router-log FILE]
#
# Run as root from the project root. Needs trafgen (Debian's netsniff-ng), iperf (iperf2) and nft
# (nftables): apt-get install -y netsniff-ng iperf nftables.
#
# Topology (names carry this run's pid, addresses only in 198.18.0.0/15, IPv6 off everywhere):
#
#   netns rbench-PID-a              netns rbench-PID-r (the router)           netns rbench-PID-b
#   host A                          kernel: ip_forward=1, .1 on each end      host B
#   rbPIDa 198.18.1.2/24 <--veth--> rbPIDra    [router]    rbPIDrb <--veth--> rbPIDb 198.18.2.2/24
#   default via 198.18.1.1          flowstack: no addresses on the ends,      default via 198.18.2.1
#                                   ./stack router --if packet:rbPIDra=198.18.1.1/24
#                                                  --if packet:rbPIDrb=198.18.2.1/24 --cores N
#
# --flowstack-if tap runs the flowstack router on two TAPs instead (--if tap:rbPIDta=198.18.1.1/24
# --if tap:rbPIDtb=198.18.2.1/24): the router opens them in R, then each is moved into A's or B's
# namespace and gets the host's address there (as `stack demo` does with its TAP); the hosts' veth
# ends lose their addresses meanwhile. The kernel column always uses the veth topology.
# --router-args "ARGS" appends ARGS to the flowstack router's command line (e.g. "--tap-io batch").
# --flowstack-if xdp runs it on the veth ends through AF_XDP (--if xdp:rbPIDra=198.18.1.1/24 --if
# xdp:rbPIDrb=198.18.2.1/24; docs/AF_XDP.md): an XDP program in the veth driver and one AF_XDP
# socket per core, copy mode (veth has no zero-copy). The router's veths get --cores receive and
# transmit queues. AF_XDP cannot say that a frame carries a partial checksum (a veth passes the
# local sender's CHECKSUM_PARTIAL skbs through), so the hosts' veth ends send with TX checksumming
# off (ethtool -K DEV tx off) in that mode, for both routers alike.
#
# Each run, for each router (kernel first, then flowstack): the router comes up (it must answer a
# ping from A within 10 s, and forward a ping from A to B), then
#   - warm-up: one burst of each size (below) for --warmup-seconds (default 2; 0: none), whose
#     received rates are the table's last rows ("warm-up: ..."). A freshly started flowstack router
#     compiles its forwarding path during its first second of load (the JIT's compiler threads
#     then share the CPUs with the netisr and the hosts; the kernel has nothing to compile), so the
#     measured bursts follow a warm-up, for both routers alike; and before the TCP figures, one
#     iperf stream each way for the same time ("warm-up: TCP ...": TCP takes branches of the
#     forwarding path that the UDP bursts do not, which C2 then recompiles);
#   - forwarding rate: trafgen in A sends one burst of 60-byte frames (64 on the wire) and one of
#     1514-byte frames (1518 on the wire, a 1500-byte IP packet), UDP to B's address port 9 via the
#     router's MAC (from `ip neigh` after the ping), 64 source ports, each burst bounded by --frames
#     (default 2,000,000) and --burst-seconds (default 5). An nftables rule on B's ingress counts
#     and drops them (B's kernel does no UDP work and sends no port-unreachable back). The figure
#     is frames received on B's interface per second (rx_packets), over the part of the burst in
#     which A was sending (the counters are sampled every 50 ms; the first and last partial
#     intervals are left out), beside the frames A sent into the router per second (A's
#     tx_packets: what the router's receive queue took) and the share of those that never reached
#     B (lost in the router, over the whole burst). Frames the router's receive queue refused
#     (A's tx_dropped) are sent again by trafgen: back-pressure, printed per burst, not loss.
#     trafgen's socket needs a larger send buffer than the default (see sndbuf_raise below):
#     net.core.wmem_default is raised while trafgen starts and restored at once and on any exit;
#   - TCP: iperf2, A -> B and B -> A, one stream for --tcp-seconds (default 10) each; Gbit/s.
# Then the router stops (flowstack: SIGTERM; its log is printed if anything failed).
#
# CPUs: with --cores N below the number of CPUs, the router has CPUs 0..N-1 and the hosts the others:
# flowstack pins netisr i to CPU i; trafgen's packet runs on the last CPU, iperf is pinned to the
# hosts' CPUs; and RPS steers the receive processing of R's veth ends to the router's CPUs (so the
# kernel router's forwarding softirq runs there) and that of A's and B's devices to the hosts' CPUs
# (so B's receive work is not charged to the router). A veth otherwise delivers a frame on the CPU
# that sent it; --no-rps leaves it so. With --flowstack-if xdp, the XDP program runs in the veth's
# own NAPI before RPS, on the CPU that sent the frame (A's), so RPS cannot move it: R's veth ends
# then get threaded NAPI (/sys/class/net/DEV/threaded) with their NAPI threads pinned to the
# router's CPUs, which puts the XDP receive work where RPS puts the kernel router's (unless
# --no-rps; a program in generic mode runs after RPS and needs nothing more). With N >= CPUs every
# mask has every CPU and only trafgen is pinned. The first two lines of the output say which CPUs each had.
# --runs K repeats the whole sequence K times (kernel, flowstack, kernel, ...); the table gives the
# median and the range of the runs.
#
# Bounds: every trafgen burst by count and time (timeout), every iperf by timeout, every wait by a
# deadline. Everything made here (namespaces, veths, TAPs, processes, files) is removed on any exit,
# Ctrl-C included; after a failure the logs stay in /tmp/router-bench.PID.* (the message says
# where). Exit codes: 0 done; 1 a step failed (the message says which); 2 wrong usage, not root,
# or a tool missing; 130 Ctrl-C, 143 SIGTERM.
set -euo pipefail
set -o errtrace # the ERR trap below also in functions
export LC_ALL=C # $EPOCHREALTIME and awk with a decimal point

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}
die() { # exit code, message
    echo "router-bench: $2" >&2
    exit "$1"
}

only=both
cores=1
runs=1
json=""
fs_if=packet
frames=2000000
burst_secs=5
tcp_secs=10
warmup_secs=2
rps=1
keep_log=""
router_args=()
while [[ $# -gt 0 ]]; do
    case $1 in
    --only)
        only=${2:-}
        [[ $only == kernel || $only == flowstack ]] || die 2 "--only takes kernel or flowstack"
        shift 2 ;;
    --cores) cores=${2:-}; shift 2 ;;
    --runs) runs=${2:-}; shift 2 ;;
    --json) json=${2:-}; [[ -n $json ]] || die 2 "--json takes a file name"; shift 2 ;;
    --flowstack-if)
        fs_if=${2:-}
        [[ $fs_if == packet || $fs_if == tap || $fs_if == xdp ]] || die 2 "--flowstack-if takes packet, tap or xdp"
        shift 2 ;;
    --frames) frames=${2:-}; shift 2 ;;
    --burst-seconds) burst_secs=${2:-}; shift 2 ;;
    --tcp-seconds) tcp_secs=${2:-}; shift 2 ;;
    --warmup-seconds) warmup_secs=${2:-}; shift 2 ;;
    --no-rps) rps=0; shift ;;
    --router-args) read -r -a router_args <<<"${2:-}"; shift 2 ;;
    --router-log) keep_log=${2:-}; [[ -n $keep_log ]] || die 2 "--router-log takes a file name"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die 2 "unknown argument '$1' (see --help)" ;;
    esac
done
for v in cores runs frames burst_secs tcp_secs; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die 2 "--${v//_/-} must be a positive integer, got '${!v}'"
done
((frames <= 100000000)) || die 2 "--frames is at most 100000000"
[[ $warmup_secs =~ ^[0-9]+$ ]] || die 2 "--warmup-seconds must be a non-negative integer, got '$warmup_secs'"
((burst_secs <= 60 && tcp_secs <= 120 && runs <= 20 && warmup_secs <= 30)) ||
    die 2 "--burst-seconds <= 60, --tcp-seconds <= 120, --runs <= 20, --warmup-seconds <= 30"

[[ $(id -u) == 0 ]] || die 2 "must run as root (network namespaces, veth, AF_PACKET): sudo $0 $*"
command -v trafgen >/dev/null || die 2 "trafgen missing: apt-get install -y netsniff-ng"
command -v iperf >/dev/null || die 2 "iperf missing: apt-get install -y iperf"
command -v nft >/dev/null || die 2 "nft missing: apt-get install -y nftables"
for t in ip ping timeout taskset awk ethtool; do
    command -v "$t" >/dev/null || die 2 "$t missing (iproute2, iputils-ping, coreutils, util-linux, gawk/mawk)"
done
routers=()
[[ $only == flowstack ]] || routers+=(kernel)
if [[ $only != kernel ]]; then
    routers+=(flowstack)
    [[ -x ./stack ]] || die 2 "run it from the project root (./stack missing), or use --only kernel"
    export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
    # builds the project if its sources changed, so that the 10 s start-up deadline is the router's own
    ./stack --help >/dev/null 2>&1 || die 1 "./stack does not build or run: try ./stack --help"
    # (an unknown command followed by --help gets the top-level help and exit 0: look for --if)
    router_help=$(./stack router --help 2>&1) || true
    grep -q -- '--if' <<<"$router_help" ||
        die 1 "./stack router does not exist yet (./stack router --help does not show --if); use --only kernel"
fi

# ------------------------------------------------------------------ names, CPUs, cleanup
id=$$
nsa=rbench-$id-a
nsb=rbench-$id-b
nsr=rbench-$id-r
va=rb${id}a   # host A's veth end (in A)
vra=rb${id}ra # its peer, the router's A side (in R)
vb=rb${id}b   # host B's veth end (in B)
vrb=rb${id}rb # its peer, the router's B side (in R)
ta=rb${id}ta  # TAP of the flowstack router, A side (--flowstack-if tap)
tb=rb${id}tb  # TAP, B side
a_ip=198.18.1.2
b_ip=198.18.2.2
ra_ip=198.18.1.1
rb_ip=198.18.2.1
udp_port=9

ncpu=$(nproc)
cpu_range() { # FIRST LAST -> "3" or "0-2"
    if (($1 == $2)); then echo "$1"; else echo "$1-$2"; fi
}
if ((cores < ncpu)); then
    router_cpus=$(cpu_range 0 $((cores - 1)))
    host_cpus=$(cpu_range "$cores" $((ncpu - 1)))
else
    router_cpus=$(cpu_range 0 $((ncpu - 1)))
    host_cpus=$router_cpus
fi
gen_cpu=$((ncpu - 1))
rps_mask=$(printf '%x' $(((1 << (cores < ncpu ? cores : ncpu)) - 1))) # the router's CPUs
if ((cores < ncpu)); then
    host_mask=$(printf '%x' $(((1 << ncpu) - (1 << cores)))) # the hosts' CPUs
else
    host_mask=$rps_mask
fi

# an upper bound of the whole run: the helper processes (namespace holders, iperf servers) end by then
maxsecs=$((runs * ${#routers[@]} * (2 * burst_secs + 2 * tcp_secs + 4 * warmup_secs + 90) + 60))
work=$(mktemp -d /tmp/router-bench.$id.XXXX)
holders=() # one sleeping process per namespace: its /proc/PID/net/dev is the namespace's
bg=()      # background processes (iperf servers), killed on exit
gen_pid="" # the trafgen burst running now
router_pid=""
router_log=""
failed=1

# trafgen sends without blocking and stops at the first EAGAIN, which it gets as soon as the frames
# in flight exceed its socket's send buffer: a frame stays charged to the socket until it is freed,
# after the router forwarded it and B dropped it (skb_scrub_packet keeps the owner across veths), and
# with RPS up to netdev_max_backlog frames wait in the router CPU's queue (4 MiB was too little for
# 1514-byte frames here, 8 MiB enough). A packet socket's buffer is net.core.wmem_default when it is
# made, which only the initial namespace can set: it is raised to 16 MiB from just before trafgen
# starts until its socket exists (its first frame went out), and restored then and on any exit.
wmem_saved=$(sysctl -n net.core.wmem_default)
wmem_raised=0
sndbuf_raise() {
    wmem_raised=1
    sysctl -qw net.core.wmem_default=16777216
}
sndbuf_restore() {
    if [[ $wmem_raised == 1 ]]; then
        sysctl -qw net.core.wmem_default="$wmem_saved"
        wmem_raised=0
    fi
}

stop_router_process() { # SIGTERM to the router's process group, SIGKILL after 10 s
    [[ -n $router_pid ]] || return 0
    kill -TERM -- "-$router_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$router_pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$router_pid" 2>/dev/null; then
        echo "router-bench: the flowstack router did not stop within 10 s of SIGTERM; killed" >&2
        kill -KILL -- "-$router_pid" 2>/dev/null || true
    fi
    wait "$router_pid" 2>/dev/null || true
    router_pid=""
}

cleanup() {
    set +e
    trap - ERR
    sndbuf_restore
    stop_router_process
    local p
    for p in $gen_pid "${bg[@]}" "${holders[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $gen_pid "${bg[@]}" "${holders[@]}"; do
        wait "$p" 2>/dev/null
    done
    ip netns del "$nsa" 2>/dev/null
    ip netns del "$nsb" 2>/dev/null
    ip netns del "$nsr" 2>/dev/null
    ip link del "$vra" 2>/dev/null # only if a failure left it in the root namespace
    ip link del "$vrb" 2>/dev/null
    if [[ $failed == 1 && -n $router_log && -s $router_log ]]; then
        echo "---- flowstack router log ($router_log, last 60 lines) ----" >&2
        tail -n 60 "$router_log" >&2
        echo "router-bench: logs kept in $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'echo "router-bench: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'echo "router-bench: interrupted" >&2; exit 130' INT
trap 'echo "router-bench: terminated" >&2; exit 143' TERM

fail() {
    echo "router-bench: $*" >&2
    exit 1
}

# ------------------------------------------------------------------ topology
set_rps() { # NS DEV HEXMASK: the receive processing of every queue of DEV on those CPUs (unless --no-rps)
    [[ $rps == 1 ]] || return 0
    ip netns exec "$1" sh -c "for q in /sys/class/net/$2/queues/rx-*; do echo $3 > \$q/rps_cpus; done"
}
for ns in "$nsa" "$nsb" "$nsr"; do
    ip netns add "$ns"
    # before any device arrives: no IPv6 autoconfiguration, MLD or DAD frames
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
for ns in "$nsa" "$nsb"; do
    ip netns exec "$ns" sleep "$maxsecs" &
    holders+=($!)
done
hold_a=${holders[0]}
hold_b=${holders[1]}
veth_queues=()
[[ $fs_if != xdp ]] || veth_queues=(numrxqueues "$cores" numtxqueues "$cores") # AF_XDP: a receive queue per core
ip link add "$va" "${veth_queues[@]}" type veth peer name "$vra" "${veth_queues[@]}"
ip link set "$va" netns "$nsa"
ip link set "$vra" netns "$nsr"
ip link add "$vb" "${veth_queues[@]}" type veth peer name "$vrb" "${veth_queues[@]}"
ip link set "$vb" netns "$nsb"
ip link set "$vrb" netns "$nsr"
for d in "$vra" "$vrb"; do
    ip -n "$nsr" link set "$d" up
    set_rps "$nsr" "$d" "$rps_mask"
done
ip netns exec "$nsr" sysctl -qw net.ipv4.ip_forward=0
set_rps "$nsa" "$va" "$host_mask"
set_rps "$nsb" "$vb" "$host_mask"
if [[ $fs_if == xdp ]]; then
    # full checksums from the hosts: AF_XDP has no flag for a partial one (see the top)
    ip netns exec "$nsa" ethtool -K "$va" tx off >/dev/null
    ip netns exec "$nsb" ethtool -K "$vb" tx off >/dev/null
fi

# count and drop the benchmark's UDP on B's ingress, before B's IP layer (any B device)
ip netns exec "$nsb" nft -f - <<EOF
table netdev rbench {
}
EOF
nft_attach_b() { # DEV: hook the drop rule on DEV (the chain is per device)
    ip netns exec "$nsb" nft -f - <<EOF
table netdev rbench {
  chain in_$1 {
    type filter hook ingress device "$1" priority 0;
    ip daddr $b_ip udp dport $udp_port counter drop
  }
}
EOF
}
nft_attach_b "$vb"

host_up() { # NS DEV ADDR GW: the host's only address is ADDR on DEV, default route via GW
    local ns=$1 dev=$2 addr=$3 gw=$4 d
    for d in "$va" "$vb"; do
        if ip -n "$ns" link show dev "$d" >/dev/null 2>&1 && [[ $d != "$dev" ]]; then
            ip -n "$ns" addr flush dev "$d"
        fi
    done
    ip -n "$ns" addr flush dev "$dev"
    ip -n "$ns" addr add "$addr/24" dev "$dev"
    ip -n "$ns" link set "$dev" up
    ip -n "$ns" route replace default via "$gw" dev "$dev"
    ip -n "$ns" neigh flush all
}

# ------------------------------------------------------------------ counters (no fork per sample)
# /proc/PID/net/dev of a process in the namespace; sets REPLY to "rx_packets rx_dropped tx_packets tx_dropped"
devstat() { # PID DEV
    local line name
    local -a f
    while IFS= read -r line; do
        name=${line%%:*}
        name=${name##* }
        if [[ $name == "$2" ]]; then
            read -r -a f <<<"${line#*:}"
            REPLY="${f[1]} ${f[3]} ${f[9]} ${f[11]}"
            return 0
        fi
    done <"/proc/$1/net/dev"
    REPLY="0 0 0 0"
}
mkfifo "$work/tick"
exec {tick}<>"$work/tick" # read -t on it is a sleep without a fork

# ------------------------------------------------------------------ routers
adev="" # the hosts' devices in this phase
bdev=""
wait_ping() { # NS ADDR SECONDS WHAT: ping until it answers or the deadline passes
    local ns=$1 addr=$2 secs=$3 end=$((SECONDS + $3))
    while ((SECONDS < end)); do
        if ip netns exec "$ns" ping -c 1 -W 1 -q "$addr" >/dev/null 2>&1; then
            return 0
        fi
        if [[ -n $router_pid ]] && ! kill -0 "$router_pid" 2>/dev/null; then
            fail "the flowstack router exited (log below)"
        fi
        read -rt 0.2 -u "$tick" || true
    done
    fail "$4 did not answer ping from $ns to $addr within $secs s"
}

kernel_up() {
    adev=$va
    bdev=$vb
    host_up "$nsa" "$va" "$a_ip" "$ra_ip"
    host_up "$nsb" "$vb" "$b_ip" "$rb_ip"
    ip -n "$nsr" addr add "$ra_ip/24" dev "$vra"
    ip -n "$nsr" addr add "$rb_ip/24" dev "$vrb"
    ip netns exec "$nsr" sysctl -qw net.ipv4.ip_forward=1
    wait_ping "$nsa" "$ra_ip" 10 "the kernel router"
}
kernel_down() {
    ip netns exec "$nsr" sysctl -qw net.ipv4.ip_forward=0
    ip -n "$nsr" addr flush dev "$vra"
    ip -n "$nsr" addr flush dev "$vrb"
    ip -n "$nsr" neigh flush all
}

# how many queues of TAP the router (its process group) has open: tun's fdinfo has "iff: NAME"
tap_queues_in_router() { # TAP
    local p n=0 c
    for p in $(pgrep -g "$router_pid"); do
        c=$(cat /proc/"$p"/fdinfo/* 2>/dev/null | grep -cx "iff:[[:space:]]*$1") || true
        n=$((n + ${c:-0}))
    done
    echo "$n"
}

flowstack_up() {
    local -a ifs
    if [[ $fs_if == packet || $fs_if == xdp ]]; then
        adev=$va
        bdev=$vb
        host_up "$nsa" "$va" "$a_ip" "$ra_ip"
        host_up "$nsb" "$vb" "$b_ip" "$rb_ip"
        ifs=(--if "$fs_if:$vra=$ra_ip/24" --if "$fs_if:$vrb=$rb_ip/24")
    else
        adev=$ta
        bdev=$tb
        ifs=(--if "tap:$ta=$ra_ip/24" --if "tap:$tb=$rb_ip/24")
    fi
    router_log=$work/flowstack-run$run.log
    echo "\$ ip netns exec $nsr ./stack router ${ifs[*]} --cores $cores ${router_args[*]}" >"$router_log"
    # its own session: Ctrl-C of this script does not reach it, the cleanup stops it with SIGTERM
    setsid ip netns exec "$nsr" ./stack router "${ifs[@]}" --cores "$cores" "${router_args[@]}" >>"$router_log" 2>&1 </dev/null &
    router_pid=$!
    local start=$SECONDS
    if [[ $fs_if == tap ]]; then
        # wait until the router has opened both TAPs, one queue per core, and says it runs (the
        # line of `stack endpoint`, if the router prints it; else 1 s more), then move each TAP into
        # its host's namespace: the open file descriptors keep working there
        while (($(tap_queues_in_router "$ta") < cores || $(tap_queues_in_router "$tb") < cores)); do
            kill -0 "$router_pid" 2>/dev/null || fail "the flowstack router exited (log below)"
            ((SECONDS - start < 10)) || fail "the flowstack router did not open its TAPs ($cores queues each) within 10 s"
            read -rt 0.2 -u "$tick" || true
        done
        for _ in 1 2 3 4 5; do
            grep -q 'Ctrl-C to stop' "$router_log" && break
            read -rt 0.2 -u "$tick" || true
        done
        ip -n "$nsr" link set "$ta" netns "$nsa"
        ip -n "$nsr" link set "$tb" netns "$nsb"
        host_up "$nsa" "$ta" "$a_ip" "$ra_ip"
        host_up "$nsb" "$tb" "$b_ip" "$rb_ip"
        set_rps "$nsa" "$ta" "$host_mask"
        set_rps "$nsb" "$tb" "$host_mask"
        nft_attach_b "$tb"
    fi
    wait_ping "$nsa" "$ra_ip" $((10 - (SECONDS - start) > 1 ? 10 - (SECONDS - start) : 1)) "the flowstack router"
    [[ $fs_if != xdp || $rps != 1 ]] || napi_on_router_cpus
}
napi_on_router_cpus() { # the XDP receive work of R's veth ends on the router's CPUs (see CPUs at the top)
    local d p n
    for d in "$vra" "$vrb"; do
        # a generic-mode program (--router-args "--xdp-mode generic") runs in the skb receive
        # path, after RPS, and the veth then has no NAPI of its own: RPS already did it
        ! ip -n "$nsr" link show dev "$d" | grep -q 'xdpgeneric' || continue
        ip netns exec "$nsr" sh -c "echo 1 > /sys/class/net/$d/threaded" ||
            fail "could not turn on threaded NAPI on $d"
        n=0
        for _ in $(seq 1 50); do # the kernel starts the threads: bounded wait
            n=0
            for p in $(pgrep "^napi/$d-" || true); do
                taskset -pc "$router_cpus" "$p" >/dev/null || fail "could not pin NAPI thread $p of $d"
                n=$((n + 1))
            done
            ((n >= cores)) && break
            read -rt 0.05 -u "$tick" || true
        done
        ((n >= cores)) || fail "$d has $n NAPI threads, expected $cores (one per receive queue)"
    done
}
flowstack_down() {
    stop_router_process
    # the router's output, with the per-core counters it prints when it stops (--router-log)
    [[ -z $keep_log ]] || cat "$router_log" >>"$keep_log"
    if [[ $fs_if == xdp ]]; then
        # the program goes with the router's link fd: none may be left for the kernel's turn
        local d
        for d in "$vra" "$vrb"; do
            if ip -n "$nsr" link show dev "$d" | grep -q 'prog/xdp'; then
                fail "an XDP program is still attached to $d after the flowstack router stopped"
            fi
        done
    fi
    if [[ $fs_if == tap ]]; then
        # the TAPs vanish with the router's file descriptors; the chain on B's goes with them
        ip netns exec "$nsb" nft delete chain netdev rbench "in_$tb" 2>/dev/null || true
    fi
}

# ------------------------------------------------------------------ measurements
declare -A res # res[ROUTER,FIGURE,RUN]

samples=""
a_tried=0
sample() { # appends "time A.tx_packets A.tx_dropped B.rx_packets" to $samples; sets a_tried
    local t=$EPOCHREALTIME a_tx a_txdrop b_rx
    devstat "$hold_a" "$adev"
    read -r _ _ a_tx a_txdrop <<<"$REPLY"
    devstat "$hold_b" "$bdev"
    read -r b_rx _ <<<"$REPLY"
    a_tried=$((a_tx + a_txdrop))
    printf '%s %s %s %s\n' "$t" "$a_tx" "$a_txdrop" "$b_rx" >>"$samples"
}

burst() { # ROUTER SIZE RMAC AMAC [SECONDS KEY]: one trafgen burst, sets res[ROUTER,KEY$SIZE_*,run]
    local router=$1 size=$2 rmac=$3 amac=$4 secs=${5:-$burst_secs} key=${6:-fwd} cfg=$work/trafgen-$2.cfg rc=0 d tried0
    samples=$work/samples-$1-$2-$key-$run
    cat >"$cfg" <<EOF
cpu($gen_cpu): {
  eth(da=$rmac, sa=$amac, type=0x0800),
  ipv4(saddr=$a_ip, daddr=$b_ip, ttl=64, df),
  udp(sport=dinc(10000, 10063), dport=$udp_port),
  fill(0x5a, $((size - 42)))
}
EOF
    : >"$samples"
    sample
    tried0=$a_tried
    # trafgen forks one process per CPU (-P) and only the generator CPU's has the packet;
    # bounded by -n and by timeout (the whole burst, start-up included)
    sndbuf_raise
    ip netns exec "$nsa" timeout -k 2 "$secs" trafgen -o "$adev" -i "$cfg" -n "$frames" -P "$ncpu" \
        --no-sock-mem --notouch-irq --no-cpu-stats >>"$work/trafgen.log" 2>&1 &
    gen_pid=$!
    while kill -0 "$gen_pid" 2>/dev/null; do
        sample
        ((a_tried == tried0)) || sndbuf_restore # trafgen's socket exists and keeps its buffer size
        read -rt 0.05 -u "$tick" || true
    done
    wait "$gen_pid" || rc=$?
    gen_pid=""
    sndbuf_restore
    [[ $rc == 0 || $rc == 124 ]] || { tail -n 20 "$work/trafgen.log" >&2; fail "trafgen exited with $rc"; }
    read -rt 0.3 -u "$tick" || true # the last frames through the router
    sample
    # A.tx_packets: frames that entered the router (its receive queue took them); A.tx_dropped: frames
    # its receive queue refused, which trafgen sends again (back-pressure, not loss). The rates are
    # over the samples strictly inside the sending interval; the totals over the whole burst.
    d=$(awk '
        { n++; t[n] = $1; s[n] = $2; r[n] = $3; rx[n] = $4 }
        END {
            lo = 0; hi = 0
            for (i = 2; i <= n; i++) if (s[i] > s[1]) { lo = i; break }
            for (i = n; i >= 2; i--) if (s[i] > s[i - 1]) { hi = i - 1; break }
            if (lo == 0 || hi - lo < 2) { lo = 1; hi = n } # too short to leave out the edges
            dt = t[hi] - t[lo]; if (dt <= 0) dt = 1e-9
            sent = s[n] - s[1]; got = rx[n] - rx[1]
            printf "%.0f %.0f %.0f %d %d %.3f %.3f\n", (s[hi] - s[lo]) / dt, (rx[hi] - rx[lo]) / dt,
                (r[hi] - r[lo]) / dt, sent, got, (sent > 0 ? 100 * (sent - got) / sent : 0), dt
        }' "$samples")
    local sent rcvd refused sent_total rcvd_total lost_pct window
    read -r sent rcvd refused sent_total rcvd_total lost_pct window <<<"$d"
    res[$router,$key${size}_rx,$run]=$rcvd
    res[$router,$key${size}_sent,$run]=$sent
    res[$router,$key${size}_lostpct,$run]=$lost_pct
    [[ $key == fwd ]] || printf '  %-9s %4d B frames, warm-up:\n' "$router" "$size"
    printf '  %-9s %4d B frames: %s entered the router, %s reached B (%s %% lost); over %s s of steady sending:\n' \
        "$router" "$size" "$sent_total" "$rcvd_total" "$lost_pct" "$window"
    printf '  %-9s              sent %s/s, received on B %s/s, refused by the router'"'"'s queue (sent again) %s/s\n' \
        "" "$sent" "$rcvd" "$refused"
}

tcp() { # ROUTER FROM_NS TO_ADDR KEY WHAT [SECONDS]: one iperf2 stream for SECONDS (default
    # tcp_secs), sets res[...] (Gbit/s)
    local router=$1 secs=${6:-$tcp_secs} out g
    out=$(ip netns exec "$2" timeout -k 2 $((secs + 20)) taskset -c "$host_cpus" \
        iperf -c "$3" -t "$secs" -y C 2>&1) || true
    g=$(awk -F, 'NF >= 9 && $9 ~ /^[0-9]+$/ { b = $9 } END { if (b != "") printf "%.2f", b / 1e9 }' <<<"$out")
    if [[ -z $g ]]; then
        echo "router-bench: warning: iperf from $2 to $3 through the $router router gave no result: $(tail -n 2 <<<"$out")" >&2
        g=-
    fi
    res[$router,$4,$run]=$g
    printf '  %-9s TCP %s: %s Gbit/s\n' "$router" "$5" "$g"
}

# iperf servers on both hosts, on the hosts' CPUs, bounded in time
ip netns exec "$nsb" timeout "$maxsecs" taskset -c "$host_cpus" iperf -s >/dev/null 2>&1 &
bg+=($!)
ip netns exec "$nsa" timeout "$maxsecs" taskset -c "$host_cpus" iperf -s >/dev/null 2>&1 &
bg+=($!)

load=$(cut -d' ' -f1-3 /proc/loadavg)
header="# $(date -u +%FT%TZ) $(uname -r), $ncpu vCPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load $load, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ $rps == 1 ]]; then
    rps_text="R's veths 0x$rps_mask, A's and B's devices 0x$host_mask"
    [[ $fs_if != xdp ]] || rps_text+="; flowstack's veth ends threaded NAPI on $router_cpus"
else
    rps_text="off (a veth's receive work, the kernel router's forwarding included, runs on the CPU that sent the frame)"
fi
cpus_line="# CPUs: router on $router_cpus (--cores $cores), hosts on $host_cpus (trafgen on CPU $gen_cpu, iperf on $host_cpus); RPS: $rps_text; flowstack on $fs_if"
echo "$header"
echo "$cpus_line"

for run in $(seq 1 "$runs"); do
    for router in "${routers[@]}"; do
        echo "run $run, $router router"
        "${router}_up"
        wait_ping "$nsa" "$b_ip" 10 "host B through the $router router"
        wait_ping "$nsb" "$a_ip" 10 "host A through the $router router"
        rmac=$(ip -n "$nsa" neigh show "$ra_ip" dev "$adev" | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
        [[ -n $rmac ]] || fail "no neighbour entry for the router ($ra_ip) in $nsa"
        amac=$(ip netns exec "$nsa" cat "/sys/class/net/$adev/address")
        if ((warmup_secs > 0)); then
            for size in 60 1514; do
                burst "$router" "$size" "$rmac" "$amac" "$warmup_secs" first
            done
        fi
        for size in 60 1514; do
            burst "$router" "$size" "$rmac" "$amac"
        done
        if ((warmup_secs > 0)); then
            tcp "$router" "$nsa" "$b_ip" first_tcp_ab "A -> B, warm-up" "$warmup_secs"
            tcp "$router" "$nsb" "$a_ip" first_tcp_ba "B -> A, warm-up" "$warmup_secs"
        fi
        tcp "$router" "$nsa" "$b_ip" tcp_ab "A -> B"
        tcp "$router" "$nsb" "$a_ip" tcp_ba "B -> A"
        "${router}_down"
    done
done

# ------------------------------------------------------------------ table
figures=(fwd60_rx fwd60_sent fwd60_lostpct fwd1514_rx fwd1514_sent fwd1514_lostpct tcp_ab tcp_ba)
((warmup_secs == 0)) || figures+=(first60_rx first60_lostpct first1514_rx first1514_lostpct first_tcp_ab first_tcp_ba)
declare -A label=(
    [fwd60_rx]="64 B frames received on B /s"
    [fwd60_sent]="  64 B frames sent by A /s"
    [fwd60_lostpct]="  64 B lost in the router %"
    [fwd1514_rx]="1518 B frames received on B /s"
    [fwd1514_sent]="  1518 B frames sent by A /s"
    [fwd1514_lostpct]="  1518 B lost in the router %"
    [tcp_ab]="TCP A -> B Gbit/s"
    [tcp_ba]="TCP B -> A Gbit/s"
    [first60_rx]="warm-up: 64 B received on B /s"
    [first60_lostpct]="  64 B lost in the router %"
    [first1514_rx]="warm-up: 1518 B received on B /s"
    [first1514_lostpct]="  1518 B lost in the router %"
    [first_tcp_ab]="warm-up: TCP A -> B Gbit/s"
    [first_tcp_ba]="warm-up: TCP B -> A Gbit/s"
)
declare -A ratio_of=([fwd60_rx]=1 [fwd1514_rx]=1 [tcp_ab]=1 [tcp_ba]=1 [first60_rx]=1 [first1514_rx]=1
    [first_tcp_ab]=1 [first_tcp_ba]=1)
summary() { # ROUTER FIGURE: "median" or "median (min-max)" over the runs, "-" if none; sets MED too
    local vals="" r
    for r in $(seq 1 "$runs"); do
        vals+="${res[$1,$2,$r]:--} "
    done
    local fmt=%.0f
    [[ $2 == *tcp* || $2 == *pct ]] && fmt=%.2f
    read -r MED SUM <<<"$(awk -v f="$fmt" '{
        n = 0; for (i = 1; i <= NF; i++) if ($i != "-") v[++n] = $i + 0
        if (n == 0) { print "- -"; exit }
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
        m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        s = sprintf(f, m); if (n > 1) s = s sprintf(" (" f "-" f ")", v[1], v[n])
        printf "%s %s\n", sprintf(f, m), s
    }' <<<"$vals")"
    if [[ $SUM == "-" ]]; then MED=-; fi
}
echo
echo "$header"
echo "$cpus_line"
echo "# median of $runs run(s) (min-max); ratio = flowstack / kernel, above 1 flowstack is better"
printf '%-34s %-24s %-24s %s\n' figure kernel flowstack ratio
for f in "${figures[@]}"; do
    summary kernel "$f"; kmed=$MED; ksum=$SUM
    summary flowstack "$f"; fmed=$MED; fsum=$SUM
    [[ $kmed == - && $fmed == - ]] && continue
    ratio=-
    if [[ -n ${ratio_of[$f]:-} && $kmed != - && $fmed != - ]]; then
        ratio=$(awk -v k="$kmed" -v f="$fmed" 'BEGIN { if (k > 0) printf "%.2fx", f / k; else print "-" }')
    fi
    printf '%-34s %-24s %-24s %s\n' "${label[$f]}" "$ksum" "$fsum" "$ratio"
done

if [[ -n $json ]]; then
    {
        printf '{\n  "date": "%s",\n  "kernel": "%s",\n  "cpus": %d,\n  "load": "%s",\n' \
            "$(date -u +%FT%TZ)" "$(uname -r)" "$ncpu" "$load"
        printf '  "cores": %d,\n  "runs": %d,\n  "flowstack_if": "%s",\n  "rps": %s,\n' \
            "$cores" "$runs" "$fs_if" "$([[ $rps == 1 ]] && echo true || echo false)"
        printf '  "router_cpus": "%s",\n  "trafgen_cpu": %d,\n  "iperf_cpus": "%s",\n' "$router_cpus" "$gen_cpu" "$host_cpus"
        printf '  "frames_per_burst": %d,\n  "burst_seconds": %d,\n  "warmup_seconds": %d,\n  "tcp_seconds": %d,\n  "results": {' \
            "$frames" "$burst_secs" "$warmup_secs" "$tcp_secs"
        sep=""
        for router in "${routers[@]}"; do
            printf '%s\n    "%s": [' "$sep" "$router"
            sep=","
            rsep=""
            for r in $(seq 1 "$runs"); do
                printf '%s\n      {"run": %d' "$rsep" "$r"
                rsep=","
                for f in "${figures[@]}"; do
                    v=${res[$router,$f,$r]:-}
                    [[ -n $v && $v != - ]] && printf ', "%s": %s' "$f" "$v"
                done
                printf '}'
            done
            printf '\n    ]'
        done
        printf '\n  }\n}\n'
    } >"$json"
    echo "# JSON: $json"
fi
failed=0
