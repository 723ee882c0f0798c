#!/usr/bin/env bash
# io_uring against readv/writev on a TAP with offloads on (issue 10 point 5); figures in
# docs/IO_URING.md. As root. Builds the harness (native test scope), runs IoUringTapBench in a
# namespace of its own (per-run name fs-iou-<pid>, IPv6 disabled, 198.18.77.0/24), and deletes
# the namespace (and with it the TAP) on every exit, Ctrl-C included.
#
#   native/iouring-bench.sh [frameBytes=65536] [runs=3] [writeMillis=2000] [readCycles=40] [fill=2000] [variantFilter=all]
#   STRACE=1 native/iouring-bench.sh 65536 1 500 5 2000   # system call counts (strace -c -f)
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export JAVA_HOME MAVEN_OPTS=${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}
[ "$(id -u)" = 0 ] || { echo "needs root (TAP, netns, AF_PACKET)" >&2; exit 1; }
PREFIX="fs-iou-$$"
cleanup() { ip netns del "$PREFIX" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  mvn -o -q test-compile -pl native -am
fi
CP=native/target/classes:native/target/test-classes
CMD=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx1g
     -Dbench.ethtool="${ETHTOOL:-false}" -Dbench.readFrame="${READ_FRAME:-65226}" -Dbench.prefix="$PREFIX" -Dbench.cpu="${BENCH_CPU:-1}" -Dbench.sqcpu="${SQ_CPU:-0}"
     -cp "$CP" io.flowstack.nativeio.IoUringTapBench "$@")
if [ "${STRACE:-0}" = 1 ]; then
  strace -f -c -e trace=readv,writev,io_uring_enter,sendto -o /tmp/iouring-strace.$$ "${CMD[@]}"
  cat /tmp/iouring-strace.$$; rm -f /tmp/iouring-strace.$$
else
  timeout 1200 "${CMD[@]}"
fi
