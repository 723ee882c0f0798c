#!/usr/bin/env bash
# Who has the CPU during keep-alive (docs/BENCHMARKS.md, "Keep-alive's first 5 s"): a fresh
# `stack endpoint --serve discard:9 --serve http:80` on a TAP goes through what
# ../shared/bench/sidebyside.sh runs before its keep-alive figure (5 s of iperf, a 1 GB download),
# then RUNS runs of `wrk -t1 -c64 -d5s`; then lwIP (../shared/bench/lwip-baseline, --tw-reuse) on
# a TAP of its own gets 5 s of iperf and the same RUNS runs. Per run it prints the requests/s, the
# CPU time wrk used (user + system, from the shell's `times`), and the server's: for the stack its
# JIT compiler threads (C1 and C2 apart) and its netisr threads (/proc/PID/task/*/schedstat), for
# lwIP its process.
#
#   sudo tests/scripts/keepalive-cpu.sh RUNS [-- ENDPOINT ARGS...]
#   e.g. tests/scripts/keepalive-cpu.sh 3 -- --cores 2
#
# Names: namespaces kc-<pid>-{s,l}, devices kc<pid>{s,l}; addresses 198.18.0.1 (kernel) and .2
# (server) only; everything is removed on exit, also on failure or Ctrl-C.
set -u
[ $# -ge 1 ] || { sed -n '2,15p' "$0" >&2; exit 2; }
runs=$1; shift; [ "${1:-}" = "--" ] && shift
eargs=("$@"); [ ${#eargs[@]} -eq 0 ] && eargs=(--cores 2)
here=$(cd "$(dirname "$0")/../.." && pwd)
lw=${LWIP_BASELINE:-$here/../shared/bench/lwip-baseline}
p=kc-$$; d=$(mktemp -d /tmp/kc-XXXXXX); pg=""
cleanup() {
  [ -n "$pg" ] && { kill -TERM -- "-$pg" 2>/dev/null; sleep 2; kill -KILL -- "-$pg" 2>/dev/null; }
  pg=""
  for n in s l; do ip netns del "$p-$n" 2>/dev/null; done
}
trap 'cleanup; rm -rf "$d"' EXIT
trap 'exit 130' INT TERM
new_ns() { ip netns add "$p-$1" || exit 1; ip -n "$p-$1" link set lo up
  ip netns exec "$p-$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; }
ping_up() { local i; for i in $(seq 1 100); do ip netns exec "$1" ping -c1 -W1 198.18.0.2 >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "keepalive-cpu: 198.18.0.2 does not answer ping in $1" >&2; exit 1; }
# one 5 s keep-alive run in namespace $1: "REQ_PER_S WRK_CPU_MS"
ka() {
  (
    timeout 20 ip netns exec "$1" wrk -t1 -c64 -d5s http://198.18.0.2/ >"$d/wrk.out" 2>&1
    r=$(awk '/Requests\/sec/{printf "%.0f", $2}' "$d/wrk.out")
    # `times`: this subshell's user and system time, then its children's (wrk, waited for above)
    times >"$d/times" # here, not in a $(...), whose own children are none
    c=$(awk 'NR==2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.0f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }' "$d/times")
    echo "${r:-failed} $c"
  )
}
# CPU ms of process $1's threads, one figure per extended regex after it that their names (spaces
# as _) match, from one pass over the threads; bash only: no process per thread
cpu() { local t c r i re=("${@:2}") s=(); for i in "${!re[@]}"; do s[i]=0; done
  for t in /proc/"$1"/task/*; do { read -r c <"$t/comm" && read -r r _ <"$t/schedstat"; } 2>/dev/null || continue
    c=${c// /_}; for i in "${!re[@]}"; do [[ $c =~ ${re[i]} ]] && s[i]=$((s[i] + r)); done; done
  for i in "${!s[@]}"; do s[i]=$((s[i] / 1000000)); done; echo "${s[*]}"; }
# the machine's CPU ms from /proc/stat's first line: "IDLE IRQ+SOFTIRQ STEAL" (USER_HZ ticks * 10)
mach() { local _c u n s i w q sq st _r; read -r _c u n s i w q sq st _r </proc/stat; echo "$(((i + w) * 10)) $(((q + sq) * 10)) $((st * 10))"; }

new_ns s
setsid ip netns exec "$p-s" "$here/stack" endpoint --tap "kc$$s" --addr 198.18.0.2/24 "${eargs[@]}" \
  --serve discard:9 --serve http:80 >"$d/stack.log" 2>&1 & pg=$!
for _ in $(seq 1 900); do grep -q 'Ctrl-C to stop' "$d/stack.log" && break
  kill -0 "$pg" 2>/dev/null || { echo "keepalive-cpu: the endpoint exited: $(tail -n 3 "$d/stack.log")" >&2; exit 1; }; sleep 0.1; done
ip -n "$p-s" addr add 198.18.0.1/24 dev "kc$$s"; ip -n "$p-s" link set "kc$$s" up
ping_up "$p-s"
jvm=$(pgrep -s "$pg" java | head -n 1)
[ -n "$jvm" ] || { echo "keepalive-cpu: no JVM in the endpoint's session" >&2; exit 1; }
timeout 20 ip netns exec "$p-s" iperf -c 198.18.0.2 -p 9 -t 5 >/dev/null 2>&1
timeout 60 ip netns exec "$p-s" curl -s -o /dev/null --max-time 60 http://198.18.0.2/bytes/1000000000
for i in $(seq 1 "$runs"); do
  read -r a0 b0 n0 o0 <<< "$(cpu "$jvm" '^C1_CompilerThre' '^C2_CompilerThre' '^netisr-' '.')"
  read -r i0 q0 s0 <<< "$(mach)"
  read -r rps w <<< "$(ka "$p-s")"
  read -r i1 q1 s1 <<< "$(mach)"
  read -r a1 b1 n1 o1 <<< "$(cpu "$jvm" '^C1_CompilerThre' '^C2_CompilerThre' '^netisr-' '.')"
  echo "stack run $i: $rps req/s; wrk CPU $w ms; JIT compiler CPU $((a1 - a0 + b1 - b0)) ms (C1 $((a1 - a0)), C2 $((b1 - b0))); netisr threads CPU $((n1 - n0)) ms; the JVM's other threads $((o1 - o0 - n1 + n0 - a1 + a0 - b1 + b0)) ms; machine idle $((i1 - i0)), irq $((q1 - q0)), steal $((s1 - s0)) ms"
done
cleanup
# core parking over the whole life of the endpoint (its counters, printed when it stopped)
echo "stack: $(grep -E '^netisr_(parked|parked_contended|returned) ' "$d/stack.log" | awk '{printf "%s %s; ", $1, $NF}')"

[ -x "$lw/run.sh" ] || { echo "keepalive-cpu: no lwIP baseline at $lw (LWIP_BASELINE=DIR): stack only"; exit 0; }
new_ns l
setsid ip netns exec "$p-l" "$lw/run.sh" --tap "kc$$l" --addr 198.18.0.2/24 --gw 198.18.0.1 \
  --host-addr 198.18.0.1/24 --tw-reuse >"$d/lwip.log" 2>&1 & pg=$!
ping_up "$p-l"
lwp=$(pgrep -s "$pg" -f build/lwip-baseline | head -n 1)
[ -n "$lwp" ] || lwp=$(pgrep -s "$pg" -f lwip-baseline | tail -n 1)
timeout 20 ip netns exec "$p-l" iperf -c 198.18.0.2 -p 9 -t 5 >/dev/null 2>&1
for i in $(seq 1 "$runs"); do
  c0=$(cpu "$lwp" '.'); read -r i0 q0 s0 <<< "$(mach)"; read -r rps w <<< "$(ka "$p-l")"
  read -r i1 q1 s1 <<< "$(mach)"; c1=$(cpu "$lwp" '.')
  echo "lwIP  run $i: $rps req/s; wrk CPU $w ms; lwIP CPU $((c1 - c0)) ms; machine idle $((i1 - i0)), irq $((q1 - q0)), steal $((s1 - s0)) ms"
done
