#!/usr/bin/env bash
# The endpoint's warm-up, A/B (docs/BENCHMARKS.md, "The endpoint's warm-up"): a fresh
# `stack endpoint --cores 2 --serve http:80 --serve discard:9` per run, once with each --warmup
# value, alternating, ROUNDS times. Each run does what ../shared/bench/sidebyside.sh does before
# its figures, in its order: 5 s of iperf to discard, then two 1 GB downloads with curl, 5 s of
# `wrk -t1 -c64` keep-alive and 5 s of `wrk -t1 -c64 -H 'Connection: close'`, and prints one line:
#   round R --warmup W: download Mbit/s FIRST SECOND keep-alive REQ/S close CONN/S
# Only figures of the same round compare (this VM is shared and noisy).
#
#   sudo tests/scripts/warmup-ab.sh ROUNDS [WARMUP...]     (default WARMUP values: 0 2)
#
# Names: namespace wab-<pid>, TAP wab<pid>; addresses 198.18.0.1 (kernel) and .2 (the endpoint)
# only; every step is bounded in time; everything is removed on exit, also on failure or Ctrl-C.
set -u
[ $# -ge 1 ] && [[ $1 =~ ^[1-9][0-9]*$ ]] || { sed -n '2,13p' "$0" >&2; exit 2; }
rounds=$1; shift
values=("$@"); [ ${#values[@]} -gt 0 ] || values=(0 2)
for t in iperf curl wrk; do command -v $t >/dev/null || { echo "warmup-ab: $t missing" >&2; exit 2; }; done
cd "$(dirname "$0")/../.." || exit 2
ns=wab-$$; tap=wab$$; log=$(mktemp /tmp/wab-XXXXXX.log)
pg=""
cleanup() {
  [ -n "$pg" ] && { kill -TERM -- "-$pg" 2>/dev/null; sleep 1; kill -KILL -- "-$pg" 2>/dev/null; }
  pg=""
  ip netns del "$ns" 2>/dev/null
}
trap 'cleanup; rm -f "$log"' EXIT
trap 'exit 130' INT TERM
./stack --help >/dev/null 2>&1 || { echo "warmup-ab: ./stack does not build" >&2; exit 1; }
for r in $(seq 1 "$rounds"); do
  for w in "${values[@]}"; do
    ip netns add "$ns" || exit 1
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    setsid ip netns exec "$ns" ./stack endpoint --tap "$tap" --addr 198.18.0.2/24 --cores 2 --warmup "$w" \
      --serve http:80 --serve discard:9 >"$log" 2>&1 & pg=$!
    for _ in $(seq 1 900); do grep -q 'Ctrl-C to stop' "$log" && break; kill -0 "$pg" 2>/dev/null || break; sleep 0.1; done
    grep -q 'Ctrl-C to stop' "$log" || { cat "$log" >&2; echo "warmup-ab: the endpoint did not start" >&2; exit 1; }
    ip -n "$ns" addr add 198.18.0.1/24 dev "$tap" && ip -n "$ns" link set "$tap" up
    for _ in $(seq 1 50); do ip netns exec "$ns" ping -c1 -W1 198.18.0.2 >/dev/null 2>&1 && break; sleep 0.2; done
    timeout 30 ip netns exec "$ns" iperf -c 198.18.0.2 -p 9 -t 5 >/dev/null 2>&1
    down=""
    for _ in 1 2; do
      down="$down $(ip netns exec "$ns" curl -s -o /dev/null --max-time 60 -w '%{speed_download}' \
        http://198.18.0.2/bytes/1000000000 | awk '{printf "%.0f", $1 * 8 / 1e6}')"
    done
    ka=$(timeout 30 ip netns exec "$ns" wrk -t1 -c64 -d5s http://198.18.0.2/ 2>/dev/null | awk '/Requests\/sec/ {printf "%.0f", $2}')
    cl=$(timeout 30 ip netns exec "$ns" wrk -t1 -c64 -d5s -H 'Connection: close' http://198.18.0.2/ 2>/dev/null \
      | awk '/Requests\/sec/ {printf "%.0f", $2}')
    echo "round $r --warmup $w: download Mbit/s$down keep-alive $ka close $cl"
    grep 'warmed up' "$log"
    cleanup
  done
done
