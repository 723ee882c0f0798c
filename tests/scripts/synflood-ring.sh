#!/usr/bin/env bash
# Frames a TAP drops while a netisr is off its CPU (docs/BENCHMARKS.md, "A TAP's ring"): a fresh
# `stack endpoint --serve echo:7 --serve http:80` (ENDPOINT ARGS, default --cores 1) on a TAP moved
# into a namespace, then for each queue length in QLENS (default "1000 4096"; 1000 is what the
# kernel gives a new TAP, 4096 what the stack sets) a 4 s hping3 SYN flood to warm the stack and a
# 4 s measured one, from a spoofed, unanswered source (198.18.0.66). Prints per length: frames
# hping3 sent, frames the TAP dropped (its tx_dropped: the ring was full), and the share.
#
#   sudo tests/scripts/synflood-ring.sh RUNS [-- ENDPOINT ARGS...]
#   e.g. QLENS="500 1000 4096" tests/scripts/synflood-ring.sh 3 -- --cores 1
#
# Names: namespace sr-<pid>, TAP sr<pid>; addresses 198.18.0.1 (kernel) and .2 (stack) only; every
# flood is bounded by `timeout`; everything is removed on exit, also on failure or Ctrl-C.
set -u
[ $# -ge 1 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
runs=$1; shift; [ "${1:-}" = "--" ] && shift
eargs=("$@"); [ ${#eargs[@]} -eq 0 ] && eargs=(--cores 1)
here=$(cd "$(dirname "$0")/../.." && pwd)
ns=sr-$$; tap=sr$$; d=$(mktemp -d /tmp/sr-XXXXXX); ep=""
cleanup() {
  [ -n "$ep" ] && { kill -TERM "$ep" 2>/dev/null; wait "$ep" 2>/dev/null; }
  ep=""
  ip netns del "$ns" 2>/dev/null
}
trap 'cleanup; rm -rf "$d"' EXIT
trap 'exit 130' INT TERM
dropped() { ip -n "$ns" -s -j link show "$tap" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])'; }
flood() { ip netns exec "$ns" timeout -s INT 4 hping3 --flood -q -S -p 80 -a 198.18.0.66 198.18.0.2 2>&1 \
  | awk '/packets transmitted/{print $1}'; }
"$here/stack" --help >/dev/null || exit 1 # builds the jars once
for r in $(seq 1 "$runs"); do
  for q in ${QLENS:-1000 4096}; do
    ip netns add "$ns" || exit 1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    "$here/stack" endpoint --tap="$tap" --addr=198.18.0.2/24 --serve echo:7 --serve http:80 "${eargs[@]}" \
      >"$d/ep.log" 2>&1 &
    ep=$!
    for i in $(seq 1 100); do ip link show "$tap" >/dev/null 2>&1 && break; sleep 0.1; done
    ip link set "$tap" netns "$ns" && ip -n "$ns" link set "$tap" txqueuelen "$q" \
      && ip -n "$ns" addr add 198.18.0.1/24 dev "$tap" && ip -n "$ns" link set "$tap" up || exit 1
    for i in $(seq 1 50); do ip netns exec "$ns" ping -c1 -W1 198.18.0.2 >/dev/null 2>&1 && break; sleep 0.2; done
    flood >/dev/null
    before=$(dropped)
    sent=$(flood)
    lost=$(( $(dropped) - before ))
    awk -v r="$r" -v q="$q" -v s="$sent" -v l="$lost" \
      'BEGIN { printf "run %d qlen %5d: hping3 sent %8d, the TAP dropped %7d (%.2f %%)\n", r, q, s, l, s ? 100 * l / s : 0 }'
    cleanup
  done
done
