#!/bin/sh
# Runs a command confined like a small single-board computer: pinned to one CPU and in a memory
# cgroup with a hard limit. Used as `--server-wrap` of bench/run-all.ts for the Raspberry Pi-class
# figure in BENCHMARKS.md:
#   node dist/bench/run-all.js --only paced --no-sql --server-wrap "bench/lib/confine.sh 0 256M"
#
#   confine.sh CPU LIMIT COMMAND [ARGS...]     (LIMIT in bytes, or with K, M or G)
#
# The memory limit goes to cgroup v2 (memory.max) when the unified hierarchy has the memory
# controller and is writable, else to cgroup v1 (memory.limit_in_bytes, and memory.memsw.* when
# swap is accounted), in a child group "dmrhub-confined" of this process's own memory cgroup
# (left in place, reused by the next run). Needs root for that; CPU pinning is taskset. The
# command replaces this shell (exec), so its PID is the one the caller started. Silent unless it
# cannot limit the memory (the benchmark counts any server stderr as a problem).
set -eu
[ $# -ge 3 ] || { echo "usage: confine.sh CPU LIMIT COMMAND [ARGS...]" >&2; exit 2; }
cpu=$1 limit=$2
shift 2
bytes=$(numfmt --from=iec "$limit")

if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  own=$(sed -n 's/^0:://p' /proc/self/cgroup)
  group=/sys/fs/cgroup${own%/}/dmrhub-confined
  mkdir -p "$group"
  echo "$bytes" > "$group/memory.max"
  [ -f "$group/memory.swap.max" ] && echo 0 > "$group/memory.swap.max"
  echo $$ > "$group/cgroup.procs"
elif [ -d /sys/fs/cgroup/memory ]; then
  own=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
  group=/sys/fs/cgroup/memory${own%/}/dmrhub-confined
  mkdir -p "$group"
  echo "$bytes" > "$group/memory.limit_in_bytes"
  [ -f "$group/memory.memsw.limit_in_bytes" ] && echo "$bytes" > "$group/memory.memsw.limit_in_bytes" 2>/dev/null || true
  echo $$ > "$group/cgroup.procs"
else
  echo "confine.sh: no memory cgroup here; not limiting memory" >&2
fi
exec taskset -c "$cpu" "$@"
