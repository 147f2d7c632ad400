#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# agent_tail.sh [ROUNDS]: inside the sched_ext guest, cyclictest's p50/p99/
# p99.9 (bench-style: the shim preloaded, 4 unpinned threads, 1 ms period,
# 4 s) under scx_simple, under ghost_hybrid --bpf-pick, and under the same
# with the ghost_hybrid process SIGSTOPped for the whole run (the kernel
# side's fast path alone). FINDINGS.md ("the 2026-12-03 third run") reads
# the three against each other. Nothing polls while cyclictest runs: a
# fair-class poller preempts the workload and is a tail of its own.
# Run it as: GHOST_HYBRID_VM_ICOUNT=2 scripts/vm.sh --cpus 4 -- bench/latency/agent_tail.sh
cd "$(dirname "$0")/../.." || exit 1
rounds=${1:-3}
SHIM=$PWD/build/bench/cyclictest_shim.so
SIMPLE=$PWD/build/bench/peers/scx_simple
GH=$PWD/ghost_hybrid
[ -e "$SHIM" ] && [ -x "$SIMPLE" ] && [ -x "$GH" ] ||
  { echo "agent_tail.sh: build first (make all bench-peers)." >&2; exit 2; }
CYC="env LD_PRELOAD=$SHIM cyclictest -m -q -t 4 -i 1000 -D 4s -h 20000"
hist=$(mktemp)
percentiles() {
  awk '!/^#/ { n = 0; for (i = 2; i <= NF; i++) n += $i; if (n) { us[++k] = $1; c[k] = n; tot += n } }
    END { split("0.5 0.99 0.999", q, " "); out = "";
          for (j = 1; j <= 3; j++) { acc = 0; for (i = 1; i <= k; i++) { acc += c[i]; if (acc >= q[j] * tot) { out = out " " us[i] + 0; break } } }
          print out }' "$1"
}
enabled() { [ "$(cat /sys/kernel/sched_ext/state)" = enabled ]; }
for r in $(seq "$rounds"); do
  for cfg in scx_simple bpf_pick bpf_pick_agent_stopped; do
    : > "$hist"
    case $cfg in
    scx_simple)
      "$SIMPLE" > /dev/null 2>&1 & p=$!
      until enabled; do sleep 0.05; done
      $CYC --histfile="$hist" > /dev/null
      kill -INT $p; wait $p ;;
    bpf_pick)
      "$GH" --bpf-pick --stats-interval=0 -- sh -c "sleep 1; $CYC --histfile=$hist >/dev/null" ;;
    bpf_pick_agent_stopped)
      "$GH" --bpf-pick --stats-interval=0 -- sh -c "sleep 2; $CYC --histfile=$hist >/dev/null" &
      g=$!
      until enabled; do sleep 0.05; done
      sleep 0.5; kill -STOP $g; sleep 7; kill -CONT $g; wait $g ;;
    esac
    echo "round $r $cfg: cyclictest p50 p99 p99.9 (us):$(percentiles "$hist")"
  done
done
rm -f "$hist"
