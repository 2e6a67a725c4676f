#!/bin/bash
# Runs bench/run.ts with room for the idle-tunnel scenario's descriptors. As root it runs in a
# network namespace of its own, so that the kernel's listen-overflow counter, kept per
# namespace, counts the benchmark's connections and nothing else on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
run=(node --import tsx bench/run.ts)
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && unshare --net true 2>/dev/null; then
  export BENCH_NETWORK=private
  exec unshare --net bash -c 'ip link set lo up && exec "$@"' bench "${run[@]}"
fi

export BENCH_NETWORK=shared
exec "${run[@]}"
