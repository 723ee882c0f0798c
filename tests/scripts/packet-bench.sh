#!/usr/bin/env bash
# Latency and throughput of `stack endpoint` on AF_PACKET (a veth) or on a TAP, against the Linux
# kernel in a network namespace of its own (docs/AF_PACKET.md, "Latency" and "Throughput").
#
#   sudo tests/scripts/packet-bench.sh packet|tap wrk|iperf|curl|all [RUNS]
#
# wrk: wrk -t1 -c1 --latency (p50, p99); iperf: iperf2 from the kernel into the stack's discard
# service; curl: a 1 GB download from the stack's http service (stack -> kernel). "all" is wrk and
# iperf.
#
# Environment: CORES (stack cores, default 2), OFFLOADS (packet mode: "default" leaves the kernel
# peer's veth offloads as they are, "off" turns its tx checksumming and TSO off; default "default"),
# DURATION (seconds per run, default 5), STACK (the launcher, default ./stack of this checkout).
#
# Topology (per-run names, 198.18.10.0/24 only, IPv6 off in both namespaces):
#   packet: netns fpb-<pid>-k [pbk<pid>, 198.18.10.1, wrk/iperf]  <-veth->  netns fpb-<pid>-s [pbs<pid>, the stack]
#   tap:    netns fpb-<pid>-k [TAP pbt<pid>, 198.18.10.1, wrk/iperf; the stack runs in the same netns]
# Everything is removed on exit, Ctrl-C included (trap): the stack is stopped by its pid, both
# namespaces are deleted (which deletes the veth and the TAP). Every wait is bounded.
set -euo pipefail

mode=${1:?packet|tap}
what=${2:?wrk|iperf|curl|all}
runs=${3:-3}
cores=${CORES:-2}
offloads=${OFFLOADS:-default}
duration=${DURATION:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
stack=${STACK:-$root/stack}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}

id=$$
nsk=fpb-$id-k
nss=fpb-$id-s
kdev=pbk$id
sdev=pbs$id
tdev=pbt$id
kip=198.18.10.1
sip=198.18.10.2
spid=""
log=$(mktemp /tmp/packet-bench.$id.XXXX)

cleanup() {
    set +e
    if [[ -n "$spid" ]] && kill -0 "$spid" 2>/dev/null; then
        kill -TERM "$spid"
        for _ in $(seq 1 50); do kill -0 "$spid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$spid" 2>/dev/null
    fi
    ip netns del "$nsk" 2>/dev/null
    ip netns del "$nss" 2>/dev/null
    ip link del "$kdev" 2>/dev/null
    echo "stack log: $log" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

newns() { # name: a namespace with IPv6 off before any interface arrives
    ip netns add "$1"
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$1" link set lo up
}

newns "$nsk"
if [[ $mode == packet ]]; then
    newns "$nss"
    ip link add "$kdev" type veth peer name "$sdev"
    if [[ $offloads == off ]]; then
        ethtool -K "$kdev" tx off tso off >/dev/null
    fi
    ip link set "$kdev" netns "$nsk"
    ip link set "$sdev" netns "$nss"
    ip -n "$nss" link set "$sdev" up
    ip -n "$nsk" addr add $kip/24 dev "$kdev"
    ip -n "$nsk" link set "$kdev" up
    ip netns exec "$nss" "$stack" endpoint --packet "$sdev" --addr $sip/24 --cores "$cores" --name "pb$id" \
        --serve http:80 --serve discard:5001 --serve udp-echo:7 >"$log" 2>&1 &
    spid=$!
else
    ip netns exec "$nsk" "$stack" endpoint --tap "$tdev" --addr $sip/24 --cores "$cores" --name "pb$id" \
        --serve http:80 --serve discard:5001 --serve udp-echo:7 >"$log" 2>&1 &
    spid=$!
    for _ in $(seq 1 100); do ip -n "$nsk" link show "$tdev" >/dev/null 2>&1 && break; sleep 0.2; done
    ip -n "$nsk" addr add $kip/24 dev "$tdev"
    ip -n "$nsk" link set "$tdev" up
fi

up=0
for _ in $(seq 1 60); do
    if ip netns exec "$nsk" curl -sf -m 2 -o /dev/null http://$sip:80/; then up=1; break; fi
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.5
done
[[ $up == 1 ]] || { echo "stack did not answer HTTP" >&2; cat "$log" >&2; exit 1; }

echo "# $(date -u +%FT%TZ) $(uname -r) mode=$mode cores=$cores offloads=$offloads"
# warm-up (JIT), not reported
ip netns exec "$nsk" timeout 20 wrk -t1 -c1 -d2 http://$sip:80/ >/dev/null 2>&1 || true
for r in $(seq 1 "$runs"); do
    if [[ $what == wrk || $what == all ]]; then
        out=$(ip netns exec "$nsk" timeout $((duration + 15)) wrk -t1 -c1 -d"$duration" --latency http://$sip:80/)
        p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        echo "wrk run $r: p50 $p50 p99 $p99 requests/s $rps"
    fi
    if [[ $what == iperf || $what == all ]]; then
        out=$(ip netns exec "$nsk" timeout $((duration + 15)) iperf -c $sip -p 5001 -t "$duration" -f m 2>&1 || true)
        bw=$(grep -Eo '[0-9.]+ Mbits/sec' <<<"$out" | tail -1)
        echo "iperf run $r: ${bw:-failed: $out}"
    fi
    if [[ $what == curl ]]; then
        out=$(ip netns exec "$nsk" timeout 120 curl -sS -o /dev/null -w '%{size_download} %{speed_download}' \
            http://$sip:80/bytes/1000000000 || true)
        echo "curl run $r: $out" | awk '{printf "%s %s %s %s bytes, %.2f Gbit/s\n", $1, $2, $3, $4, $5 * 8 / 1e9}'
    fi
done
