#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# agent_share_wakebench.sh [ROUNDS]: inside the sched_ext guest, wakebench
# (--pairs=4 --work-us=50, 4 s) under scx_simple, under ghost_hybrid
# --bpf-pick, and under the same with the ghost_hybrid process SIGSTOPped
# for the whole run (the kernel side's fast path alone), with the number
# of wakebench thread migrations (sched_migrate_task) in each run.
# FINDINGS.md ("the 2026-12-04 seventh run") reads the three against each
# other. The companion of agent_tail.sh (cyclictest).
# Run it as: GHOST_HYBRID_VM_ICOUNT=2 scripts/vm.sh --cpus 4 -- bench/latency/agent_share_wakebench.sh
cd "$(dirname "$0")/../.." || exit 1
rounds=${1:-2}
WB=$PWD/build/bench/wakebench
SIMPLE=$PWD/build/bench/peers/scx_simple
GH=$PWD/ghost_hybrid
T=/sys/kernel/tracing
[ -x "$WB" ] && [ -x "$SIMPLE" ] && [ -x "$GH" ] ||
  { echo "agent_share_wakebench.sh: build first (make all bench-peers)." >&2; exit 2; }
mount -t tracefs nodev $T 2>/dev/null
echo 16384 > $T/buffer_size_kb && echo 1 > $T/events/sched/sched_migrate_task/enable ||
  { echo "agent_share_wakebench.sh: no tracefs at $T (run it as root in the guest)." >&2; exit 2; }
tmp=$(mktemp -d)
# One shell line that clears the trace, runs wakebench and counts its
# threads' migrations: run inside each configuration, after it attached.
RUN=": > $T/trace; $WB --pairs=4 --duration=4 --work-us=50 > $tmp/wb; grep sched_migrate_task $T/trace | grep -c comm=wakebench > $tmp/mig"
enabled() { [ "$(cat /sys/kernel/sched_ext/state)" = enabled ]; }
for r in $(seq "$rounds"); do
  for cfg in scx_simple bpf_pick bpf_pick_agent_stopped; do
    : > "$tmp/wb"; : > "$tmp/o"
    case $cfg in
    scx_simple)
      "$SIMPLE" > /dev/null 2>&1 & p=$!
      until enabled; do sleep 0.05; done
      sh -c "$RUN"
      kill -INT $p; wait $p ;;
    bpf_pick)
      "$GH" --bpf-pick --stats-interval=0 -- sh -c "$RUN" 2> "$tmp/o" ;;
    bpf_pick_agent_stopped)
      "$GH" --bpf-pick --stats-interval=0 -- sh -c "sleep 2; $RUN" 2> "$tmp/o" &
      g=$!
      until enabled; do sleep 0.05; done
      sleep 0.5; kill -STOP $g; sleep 7; kill -CONT $g; wait $g ;;
    esac
    echo "round $r $cfg: $(cat "$tmp/wb") migrations=$(cat "$tmp/mig")" \
      "$(grep -o 'agent_cpu=[0-9.]*s' "$tmp/o")"
  done
done
rm -rf "$tmp"
