#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# agent_tail.sh [ROUNDS] [cyclictest|wakebench]: inside the sched_ext guest,
# one workload under scx_simple, under ghost_hybrid --bpf-pick, and under
# the same with the ghost_hybrid process SIGSTOPped for the whole run (the
# kernel side's fast path alone).
# - cyclictest (the default): p50/p99/p99.9, bench-style (the shim
#   preloaded, 4 unpinned threads, 1 ms period, 4 s). FINDINGS.md ("the
#   2026-12-03 third run") reads the three against each other.
# - wakebench (--pairs=4 --work-us=50, 4 s): its summary, plus the number
#   of wakebench thread migrations (sched_migrate_task) and the agent's
#   CPU time. FINDINGS.md ("the 2026-12-04 seventh run").
# Nothing polls while the workload runs: a fair-class poller preempts the
# workload and is a tail of its own.
# Run it as: GHOST_HYBRID_VM_ICOUNT=2 scripts/vm.sh --cpus 4 -- bench/latency/agent_tail.sh
cd "$(dirname "$0")/../.." || exit 1
rounds=${1:-3}
workload=${2:-cyclictest}
SHIM=$PWD/build/bench/cyclictest_shim.so
WB=$PWD/build/bench/wakebench
SIMPLE=$PWD/build/bench/peers/scx_simple
GH=$PWD/ghost_hybrid
T=/sys/kernel/tracing
[ -e "$SHIM" ] && [ -x "$WB" ] && [ -x "$SIMPLE" ] && [ -x "$GH" ] ||
  { echo "agent_tail.sh: build first (make all bench-peers)." >&2; exit 2; }
tmp=$(mktemp -d)
# RUN: one shell line that runs the workload inside a configuration, once
# its scheduler is attached.
case $workload in
cyclictest)
  RUN="env LD_PRELOAD=$SHIM cyclictest -m -q -t 4 -i 1000 -D 4s -h 20000 --histfile=$tmp/hist > /dev/null" ;;
wakebench)
  mount -t tracefs nodev $T 2>/dev/null
  echo 16384 > $T/buffer_size_kb && echo 1 > $T/events/sched/sched_migrate_task/enable ||
    { echo "agent_tail.sh: no tracefs at $T (run it as root in the guest)." >&2; exit 2; }
  RUN=": > $T/trace; $WB --pairs=4 --duration=4 --work-us=50 > $tmp/wb; grep sched_migrate_task $T/trace | grep -c comm=wakebench > $tmp/mig" ;;
*) echo "agent_tail.sh: no workload '$workload': use cyclictest or wakebench." >&2; exit 2 ;;
esac
percentiles() {
  awk '!/^#/ { n = 0; for (i = 2; i <= NF; i++) n += $i; if (n) { us[++k] = $1; c[k] = n; tot += n } }
    END { split("0.5 0.99 0.999", q, " "); out = "";
          for (j = 1; j <= 3; j++) { acc = 0; for (i = 1; i <= k; i++) { acc += c[i]; if (acc >= q[j] * tot) { out = out " " us[i] + 0; break } } }
          print out }' "$1"
}
. bench/latency/guest_lib.sh
for r in $(seq "$rounds"); do
  for cfg in scx_simple bpf_pick bpf_pick_agent_stopped; do
    : > "$tmp/hist"; : > "$tmp/wb"; : > "$tmp/mig"; : > "$tmp/o"
    case $cfg in
    scx_simple) under_peer "$SIMPLE" "$RUN" ;;
    bpf_pick)
      "$GH" --bpf-pick --stats-interval=0 -- sh -c "sleep 1; $RUN" 2> "$tmp/o" ;;
    bpf_pick_agent_stopped)
      "$GH" --bpf-pick --stats-interval=0 -- sh -c "sleep 2; $RUN" 2> "$tmp/o" &
      g=$!
      until enabled; do sleep 0.05; done
      sleep 0.5; kill -STOP $g; sleep 7; kill -CONT $g; wait $g ;;
    esac
    if [ "$workload" = cyclictest ]; then
      echo "round $r $cfg: cyclictest p50 p99 p99.9 (us):$(percentiles "$tmp/hist")"
    else
      echo "round $r $cfg: $(cat "$tmp/wb") migrations=$(cat "$tmp/mig")" \
        "$(grep -o 'agent_cpu=[0-9.]*s' "$tmp/o")"
    fi
  done
done
rm -rf "$tmp"
