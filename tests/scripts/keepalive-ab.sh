#!/usr/bin/env bash
# Keep-alive A/B (docs/BENCHMARKS.md, "Contended parking"): `wrk -t1 -c64` against
# `stack endpoint --serve http:80` built from one or more trees, and against lwIP
# (../shared/bench/lwip-baseline, --tw-reuse), each on a TAP of its own in a namespace of its
# own, one after the other, ROUNDS times: only figures of the same round compare.
#
#   sudo tests/scripts/keepalive-ab.sh ROUNDS SECONDS LABEL:TREE:ARGS... [lwip:lwip:]
#   e.g. tests/scripts/keepalive-ab.sh 3 5 "before:/tmp/old:--cores 2" "after:.:--cores 2" lwip:lwip:
#
# TREE is a checkout whose ./stack is run (it builds itself), or "lwip". Each run: a 2 s wrk
# warm-up, then SECONDS of wrk; prints "LABEL req/s" and the endpoint's parking counters.
# Names: namespace kab-<pid>, TAP kab<pid>; addresses 198.18.0.1 (kernel) and .2 (server) only;
# everything is removed on exit, also on failure or Ctrl-C.
set -u
[ $# -ge 3 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
rounds=$1; secs=$2; shift 2
here=$(cd "$(dirname "$0")/../.." && pwd)
lw=${LWIP_BASELINE:-$here/../shared/bench/lwip-baseline}
ns=kab-$$; tap=kab$$; log=$(mktemp /tmp/kab-XXXXXX.log)
pg=""
cleanup() {
  [ -n "$pg" ] && { kill -TERM -- "-$pg" 2>/dev/null; sleep 1; kill -KILL -- "-$pg" 2>/dev/null; }
  pg=""
  ip netns del "$ns" 2>/dev/null
}
trap 'cleanup; rm -f "$log"' EXIT
trap 'exit 130' INT TERM
run_one() { # LABEL TREE ARGS
  local label=$1 tree=$2 args=$3 i
  ip netns add "$ns" || exit 1
  ip -n "$ns" link set lo up
  if [ "$tree" = lwip ]; then
    setsid ip netns exec "$ns" "$lw/run.sh" --tap "$tap" --addr 198.18.0.2/24 --gw 198.18.0.1 \
      --host-addr 198.18.0.1/24 --tw-reuse >"$log" 2>&1 & pg=$!
  else
    # shellcheck disable=SC2086  # ARGS is a list of options
    setsid bash -c "cd '$tree' && exec ip netns exec '$ns' ./stack endpoint --tap '$tap' --addr 198.18.0.2/24 $args --serve http:80" \
      >"$log" 2>&1 & pg=$!
    for i in $(seq 1 900); do grep -q 'Ctrl-C to stop' "$log" && break; sleep 0.1; done
    ip -n "$ns" addr add 198.18.0.1/24 dev "$tap" && ip -n "$ns" link set "$tap" up
  fi
  for i in $(seq 1 100); do ip netns exec "$ns" ping -c1 -W1 198.18.0.2 >/dev/null 2>&1 && break; sleep 0.2; done
  timeout 10 ip netns exec "$ns" wrk -t1 -c64 -d2s http://198.18.0.2/ >/dev/null 2>&1
  local r
  r=$(timeout $((secs + 10)) ip netns exec "$ns" wrk -t1 -c64 -d"${secs}"s http://198.18.0.2/ 2>&1 \
      | awk '/Requests\/sec/{printf "%.0f", $2}')
  cleanup
  local extra=""
  [ "$tree" != lwip ] && extra=$(grep -E '^netisr_(parked|returned)' "$log" | awk '{printf "%s=%s ", $1, $NF}')
  echo "$label ${r:-failed} $extra"
}
for _ in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    IFS=: read -r label tree args <<< "$spec"
    run_one "$label" "$tree" "$args"
  done
done
