#!/usr/bin/env bash
# Frames per second one stack core answers on AF_PACKET (receive, answer, transmit): trafgen
# (Debian's netsniff-ng) floods the stack's udp-echo service over a veth, the stack echoes every
# datagram it gets, and the answered frames are counted (docs/AF_PACKET.md, "Line rates").
#
#   sudo tests/scripts/packet-line-rate.sh [FRAME_BYTES ...]     (default: 60 1514)
#
# FRAME_BYTES is the Ethernet frame without FCS: 60 (64 on the wire) or 1514 (1518 on the wire).
# Environment: CORES (default 1), SECONDS_PER_RUN (measured window, default 4), RUNS (default 3),
# STACK (the launcher, default ./stack of this checkout).
#
# Topology (per-run names, 198.18.11.0/24 only, IPv6 off):
#   netns fpr-<pid>-g [pgk<pid>, 198.18.11.1, trafgen on CPU 1]  <-veth->  netns fpr-<pid>-s [pgs<pid>, the stack]
# The echoes come back to the generator's namespace, where an nftables rule on the veth's ingress
# hook counts and drops them (the generator's kernel does no IP or UDP work; needs the nft binary,
# Debian's nftables). The stack runs with --cores 1, pinned to CPU 0.
# trafgen is bounded by -n and by timeout; everything is removed on exit, Ctrl-C included.
set -euo pipefail

sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(60 1514)
cores=${CORES:-1}
window=${SECONDS_PER_RUN:-4}
runs=${RUNS:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
stack=${STACK:-$root/stack}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
command -v trafgen >/dev/null || { echo "trafgen missing: apt-get install -y netsniff-ng" >&2; exit 2; }
command -v nft >/dev/null || { echo "nft missing: apt-get install -y nftables" >&2; exit 2; }

id=$$
nsg=fpr-$id-g
nss=fpr-$id-s
gdev=pgk$id
sdev=pgs$id
gip=198.18.11.1
sip=198.18.11.2
smac=02:00:c6:12:0b:02 # the stack's default MAC for $sip
spid=""
tpid=""
log=$(mktemp /tmp/packet-line-rate.$id.XXXX)
cfg=$(mktemp /tmp/packet-line-rate.$id.cfg.XXXX)

cleanup() {
    set +e
    [[ -n "$tpid" ]] && kill -TERM "$tpid" 2>/dev/null
    if [[ -n "$spid" ]] && kill -0 "$spid" 2>/dev/null; then
        kill -TERM "$spid"
        for _ in $(seq 1 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$spid" 2>/dev/null
    fi
    ip netns del "$nsg" 2>/dev/null
    ip netns del "$nss" 2>/dev/null
    ip link del "$gdev" 2>/dev/null
    rm -f "$cfg"
    echo "stack log: $log" >&2
}
trap cleanup EXIT
trap 'echo "packet-line-rate.sh: failed at line $LINENO" >&2' ERR
trap 'exit 130' INT TERM

for ns in "$nsg" "$nss"; do
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add "$gdev" type veth peer name "$sdev"
ip link set "$gdev" netns "$nsg"
ip link set "$sdev" netns "$nss"
ip -n "$nss" link set "$sdev" up
ip -n "$nsg" addr add $gip/24 dev "$gdev"
ip -n "$nsg" link set "$gdev" up
# count and drop the echoes (UDP from port 7) before the generator's IP layer
ip netns exec "$nsg" nft -f - <<EOF
table netdev fpr {
  chain in {
    type filter hook ingress device "$gdev" priority 0;
    udp sport 7 counter drop
  }
}
EOF
gmac=$(ip netns exec "$nsg" cat /sys/class/net/"$gdev"/address)

ip netns exec "$nss" "$stack" endpoint --packet "$sdev" --addr $sip/24 --cores "$cores" --name "pr$id" \
    --serve udp-echo:7 >"$log" 2>&1 &
spid=$!
up=0
for _ in $(seq 1 60); do
    if ip netns exec "$nsg" ping -c1 -W1 -q $sip >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.5
done
[[ $up == 1 ]] || { echo "stack did not answer ping" >&2; cat "$log" >&2; exit 1; }

# the netisr thread of the stack's JVM: its CPU time (user + system, clock ticks) is the core's
jpid=$(pgrep -f -- "--name pr$id" | while read -r p; do
    if grep -qx 'netisr-0' /proc/"$p"/task/*/comm 2>/dev/null; then echo "$p"; fi; done | head -1)
ntid=$(grep -lx 'netisr-0' /proc/"$jpid"/task/*/comm | head -1 | cut -d/ -f5)
hz=$(getconf CLK_TCK)
netisr_ticks() {
    awk '{print $14 + $15}' /proc/"$jpid"/task/"$ntid"/stat
}

echoed() { # echoes that reached the generator's side (the nftables counter)
    ip netns exec "$nsg" nft list chain netdev fpr in | awk '/counter packets/ {for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1); exit}'
}
sent() {
    ip netns exec "$nsg" cat /sys/class/net/"$gdev"/statistics/tx_packets
}

echo "# $(date -u +%FT%TZ) kernel $(uname -r), $(nproc) vCPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), stack --cores $cores"
for size in "${sizes[@]}"; do
    payload=$((size - 42))
    cat >"$cfg" <<EOF
cpu(1): {
  eth(da=$smac, sa=$gmac, type=0x0800),
  ipv4(saddr=$gip, daddr=$sip, ttl=64, df),
  udp(sport=dinc(10000, 10063), dport=7),
  fill(0x5a, $payload)
}
EOF
    for r in $(seq 1 "$runs"); do
        # bounded: at most 200 M frames and window + 6 s
        ip netns exec "$nsg" timeout $((window + 6)) trafgen -o "$gdev" -i "$cfg" -n 200000000 -P 2 --no-sock-mem --notouch-irq --no-cpu-stats \
            >>"$log.trafgen" 2>&1 &
        tpid=$!
        sleep 1.5 # warm-up, not measured
        e1=$(echoed); s1=$(sent); c1=$(netisr_ticks); t1=$(date +%s.%N)
        sleep "$window"
        e2=$(echoed); s2=$(sent); c2=$(netisr_ticks); t2=$(date +%s.%N)
        kill -TERM "$tpid" 2>/dev/null || true
        wait "$tpid" 2>/dev/null || true
        tpid=""
        awk -v s="$size" -v r="$r" -v e1="$e1" -v e2="$e2" -v s1="$s1" -v s2="$s2" -v t1="$t1" -v t2="$t2" \
            -v c1="$c1" -v c2="$c2" -v hz="$hz" 'BEGIN {
            dt = t2 - t1; busy = (c2 - c1) / hz / dt; answered = (e2 - e1) / dt
            printf "frame %d B run %d: offered %.0f frames/s, answered %.0f frames/s (%.1f %%), netisr busy %.0f %% of a CPU, %.0f answered frames per netisr CPU-second\n",
            s, r, (s2 - s1) / dt, answered, 100 * (e2 - e1) / (s2 - s1), 100 * busy, (busy > 0 ? answered / busy : 0) }'
        sleep 1
    done
done
