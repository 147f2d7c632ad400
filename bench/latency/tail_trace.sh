#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tail_trace.sh [ROUNDS]: inside the sched_ext guest, one traced wakebench
# run (--pairs=4 --work-us=50, 3 s) under scx_simple as the bench runs it
# and under ghost_hybrid --bpf-pick, per round. wakebench marks each
# sample over 1 ms in the trace (--mark-slow-us), the trace clock is
# "mono" (wakebench's stamps), and tail_hops.py then says which hop each
# slow hand-over waited in, how often the vCPUs went silent, and why the
# threads migrated. Traces stay in build/bench/tail/. FINDINGS.md ("the
# 2026-12-04 eleventh run") reads them. The tracing slows both; compare
# the two within a run.
# Run it as: GHOST_HYBRID_VM_ICOUNT=2 scripts/vm.sh --cpus 4 -- bench/latency/tail_trace.sh
cd "$(dirname "$0")/../.." || exit 1
rounds=${1:-1}
WB=$PWD/build/bench/wakebench
SIMPLE=$PWD/build/bench/peers/scx_simple
GH=$PWD/ghost_hybrid
T=/sys/kernel/tracing
OUT=$PWD/build/bench/tail
[ -x "$WB" ] && [ -x "$SIMPLE" ] && [ -x "$GH" ] ||
  { echo "tail_trace.sh: build first (make all bench-peers)." >&2; exit 2; }
mount -t tracefs nodev $T 2>/dev/null
echo 131072 > $T/buffer_size_kb && echo mono > $T/trace_clock ||
  { echo "tail_trace.sh: no tracefs at $T (run it as root in the guest)." >&2; exit 2; }
mkdir -p "$OUT"
EVENTS="sched/sched_switch sched/sched_waking sched/sched_wakeup sched/sched_migrate_task"
# RUN: the traced workload, once its scheduler is attached.
RUN="for e in $EVENTS; do echo 1 > $T/events/\$e/enable; done; : > $T/trace;
  $WB --pairs=4 --duration=3 --work-us=50 --mark-slow-us=1000 > $OUT/wb;
  for e in $EVENTS; do echo 0 > $T/events/\$e/enable; done"
. bench/latency/guest_lib.sh
for r in $(seq "$rounds"); do
  for cfg in scx_simple bpf_pick; do
    case $cfg in
    scx_simple) under_peer "$SIMPLE" "$RUN" ;;
    bpf_pick)
      "$GH" --bpf-pick --stats-interval=0 -- sh -c "sleep 1; $RUN" 2> /dev/null ;;
    esac
    cp $T/trace "$OUT/round$r.$cfg.trace"
    echo "round $r $cfg: $(cat "$OUT/wb")"
    python3 bench/latency/tail_hops.py "$OUT/round$r.$cfg.trace"
  done
done
echo local > $T/trace_clock
