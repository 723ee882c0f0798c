#!/usr/bin/env bash
# One connection's latency tail (docs/BENCHMARKS.md, "What wrk -c1's p99 counts"): `wrk -t1 -c1
# --latency` against nginx on the kernel over a veth, then against `stack endpoint --serve http:80`
# on a TAP, in the same run, with the same client. Per 5 s run it prints p50, p99, p99.9 and max
# (wrk's figures, corrected by wrk for coordinated omission) and, for the stack, what its threads
# did meanwhile (/proc/PID/task/*/schedstat): CPU time of the JIT compiler threads and run-queue
# wait of each netisr thread.
#
#   sudo tests/scripts/latency-c1.sh RUNS [WARM] [-- ENDPOINT ARGS...]
#   e.g. tests/scripts/latency-c1.sh 3 warm -- --cores 2 --jit-idle
#
# WARM "warm" first puts the endpoint through what ../shared/bench/sidebyside.sh runs before its
# latency runs (5 s of iperf, a 1 GB download, 5 s of wrk -c64 keep-alive and Connection: close);
# "cold" (the default) measures a fresh endpoint. Names: namespaces lc-<pid>-{a,b,s}, devices
# lc<pid>{a,b,t}; addresses 198.18.0.1 (client) and .2 (server) only; everything is removed on
# exit, also on failure or Ctrl-C.
set -u
[ $# -ge 1 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
runs=$1; warm=${2:-cold}; shift $(($# >= 2 ? 2 : 1)); [ "${1:-}" = "--" ] && shift
eargs=("$@"); [ ${#eargs[@]} -eq 0 ] && eargs=(--cores 2)
here=$(cd "$(dirname "$0")/../.." && pwd)
p=lc-$$; d=$(mktemp -d /tmp/lc-XXXXXX); pg=""
cleanup() {
  [ -n "$pg" ] && { kill -INT -- "-$pg" 2>/dev/null; sleep 2; kill -KILL -- "-$pg" 2>/dev/null; }
  pg=""
  for n in a b s; do ip netns del "$p-$n" 2>/dev/null; done
}
trap 'cleanup; rm -rf "$d"' EXIT
trap 'exit 130' INT TERM
lua=$d/lat.lua
cat >"$lua" <<'EOF'
done = function(s, l, r)
  io.write(string.format("p50 %d us  p99 %d us  p99.9 %d us  max %d us  requests %d\n",
    l:percentile(50), l:percentile(99), l:percentile(99.9), l.max, s.requests))
end
EOF
c1() { ip netns exec "$1" wrk -t1 -c1 -d5s --latency -s "$lua" http://198.18.0.2/ | grep '^p50'; }
# per-thread "name runtime_ns wait_ns" of process $1
threads() { local t; for t in /proc/"$1"/task/*; do echo "$(tr ' ' _ <"$t/comm") $(cut -d' ' -f1,2 "$t/schedstat")"; done 2>/dev/null; }
delta() { # before-file after-file: JIT CPU ms, netisr waits ms
  awk 'NR==FNR { r[$1" "FNR]=$2; w[$1" "FNR]=$3; next }
       { k=$1" "FNR; dr=($2-r[k])/1e6; dw=($3-w[k])/1e6
         if ($1 ~ /^C[12]_CompilerThre/) jit+=dr; if ($1 ~ /^netisr-/) n=n sprintf(" %s wait %.1f ms", $1, dw) }
       END { printf "    JIT compiler CPU %.0f ms;%s\n", jit, n }' "$1" "$2"
}

new_ns() { ip netns add "$p-$1" || exit 1; ip -n "$p-$1" link set lo up
  ip netns exec "$p-$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; }
new_ns a; new_ns b
ip link add "lc$$a" type veth peer name "lc$$b"
ip link set "lc$$a" netns "$p-a"; ip link set "lc$$b" netns "$p-b"
ip -n "$p-a" addr add 198.18.0.1/24 dev "lc$$a"; ip -n "$p-a" link set "lc$$a" up
ip -n "$p-b" addr add 198.18.0.2/24 dev "lc$$b"; ip -n "$p-b" link set "lc$$b" up
cat >"$d/nginx.conf" <<EOF
worker_processes 2; pid $d/nginx.pid; error_log $d/nginx.err;
events { worker_connections 4096; }
http { access_log off; server { listen 198.18.0.2:80; location = / { return 200 "flowstack bench\n"; } } }
EOF
setsid ip netns exec "$p-b" nginx -c "$d/nginx.conf" -g 'daemon off;' >/dev/null 2>&1 & pg=$!
sleep 1
ip netns exec "$p-a" wrk -t1 -c64 -d3s http://198.18.0.2/ >/dev/null
echo "nginx on the kernel (veth), after a 3 s wrk -c64 warm-up:"
for i in $(seq 1 "$runs"); do echo "  $(c1 "$p-a")"; done
cleanup; new_ns s

cd "$here" || exit 1
setsid ip netns exec "$p-s" ./stack endpoint --tap "lc$$t" --addr 198.18.0.2/24 --serve discard:9 --serve http:80 \
  "${eargs[@]}" >"$d/ep.log" 2>&1 & pg=$!
for i in $(seq 1 600); do grep -q 'Ctrl-C to stop' "$d/ep.log" && break; kill -0 $pg 2>/dev/null || { cat "$d/ep.log"; exit 1; }; sleep 0.1; done
ip -n "$p-s" addr add 198.18.0.1/24 dev "lc$$t"; ip -n "$p-s" link set "lc$$t" up
for i in $(seq 1 50); do ip netns exec "$p-s" ping -c1 -W1 198.18.0.2 >/dev/null 2>&1 && break; sleep 0.2; done
jp=$(pgrep -s "$pg" java | head -1); [ -n "$jp" ] || { echo "no java process" >&2; exit 1; }
if [ "$warm" = warm ]; then
  ip netns exec "$p-s" iperf -c 198.18.0.2 -p 9 -t 5 >/dev/null 2>&1
  ip netns exec "$p-s" curl -s -o /dev/null --max-time 60 http://198.18.0.2/bytes/1000000000
  ip netns exec "$p-s" wrk -t1 -c64 -d5s http://198.18.0.2/ >/dev/null
  ip netns exec "$p-s" wrk -t1 -c64 -d5s -H 'Connection: close' http://198.18.0.2/ >/dev/null
fi
echo "flowstack (TAP, ${eargs[*]}), $warm:"
for i in $(seq 1 "$runs"); do
  threads "$jp" >"$d/t0"; echo "  $(c1 "$p-s")"; threads "$jp" >"$d/t1"; delta "$d/t0" "$d/t1"
done
