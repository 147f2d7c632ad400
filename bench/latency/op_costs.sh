#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# op_costs.sh [ROUNDS] [stats|nostats]: inside the sched_ext guest, where
# the time of one wakebench run (--pairs=4 --work-us=50, 4 s) goes, under
# scx_simple as the bench runs it (weighted vtime), scx_simple -f (a global
# FIFO, like our fast path) and ghost_hybrid --bpf-pick. Per run:
# - wakebench's summary, its threads' migrations (sched_migrate_task), and
#   the IPIs sent meanwhile (ipi_send_cpu, ipi_send_cpumask), with the
#   four most frequent call sites;
# - for ghost_hybrid, the agent's CPU time split into user and system
#   time (clock ticks of its threads, /proc/PID/task/*/stat);
# - with "stats" (the default), each struct_ops callback's mean run time
#   (kernel.bpf_stats_enabled; the BPF side's cost per event). The stats
#   add two clock reads per callback and shift the timing: compare the
#   percentiles of runs made with the same setting only.
# FINDINGS.md ("the 2026-12-04 ninth run") reads them.
# Run it as: GHOST_HYBRID_VM_ICOUNT=2 scripts/vm.sh --cpus 4 -- bench/latency/op_costs.sh
cd "$(dirname "$0")/../.." || exit 1
rounds=${1:-2}
stats=${2:-stats}
WB=$PWD/build/bench/wakebench
SIMPLE=$PWD/build/bench/peers/scx_simple
GH=$PWD/ghost_hybrid
T=/sys/kernel/tracing
[ -x "$WB" ] && [ -x "$SIMPLE" ] && [ -x "$GH" ] ||
  { echo "op_costs.sh: build first (make all bench-peers)." >&2; exit 2; }
case $stats in
stats) sysctl -q -w kernel.bpf_stats_enabled=1 ;;
nostats) sysctl -q -w kernel.bpf_stats_enabled=0 ;;
*) echo "op_costs.sh: the second argument is 'stats' or 'nostats', not '$stats'." >&2; exit 2 ;;
esac
mount -t tracefs nodev $T 2>/dev/null
echo 65536 > $T/buffer_size_kb && echo 1 > $T/events/sched/sched_migrate_task/enable &&
  echo 1 > $T/events/ipi/ipi_send_cpu/enable && echo 1 > $T/events/ipi/ipi_send_cpumask/enable ||
  { echo "op_costs.sh: no tracefs at $T (run it as root in the guest)." >&2; exit 2; }
tmp=$(mktemp -d)
# Mean run time of every struct_ops callback run more than 1000 times.
cat > "$tmp/ops.sh" <<'EOF'
bpftool prog show 2>/dev/null | awk '/struct_ops/ { name = $4; t = c = 0
  for (i = 1; i <= NF; i++) { if ($i == "run_time_ns") t = $(i + 1); if ($i == "run_cnt") c = $(i + 1) }
  if (c > 1000) printf " %s=%.1fus", name, t / c / 1000 }'
EOF
# User and system clock ticks of the threads of process $1.
cat > "$tmp/ticks.sh" <<'EOF'
cat /proc/"$1"/task/*/stat 2>/dev/null | awk '{ u += $14; s += $15 } END { print u + 0, s + 0 }'
EOF
RUN=": > $T/trace; $WB --pairs=4 --duration=4 --work-us=50 > $tmp/wb; cp $T/trace $tmp/trace"
enabled() { [ "$(cat /sys/kernel/sched_ext/state)" = enabled ]; }
for r in $(seq "$rounds"); do
  for cfg in scx_simple scx_simple_fifo bpf_pick; do
    : > "$tmp/wb"; : > "$tmp/trace"; : > "$tmp/ops"; : > "$tmp/o"; extra=
    case $cfg in
    scx_simple*)
      [ $cfg = scx_simple ] && flag= || flag=-f
      "$SIMPLE" $flag > /dev/null 2>&1 & p=$!
      until enabled; do sleep 0.05; done
      sh -c "$RUN"; [ "$stats" = stats ] && sh "$tmp/ops.sh" > "$tmp/ops"
      kill -INT $p; wait $p ;;
    bpf_pick)
      "$GH" --bpf-pick --stats-interval=0 -- sh -c "sleep 1; sh $tmp/ticks.sh \$PPID > $tmp/t0; $RUN;
        sh $tmp/ticks.sh \$PPID > $tmp/t1; [ $stats = stats ] && sh $tmp/ops.sh > $tmp/ops" 2> "$tmp/o"
      hz=$(getconf CLK_TCK)
      extra=$(paste "$tmp/t0" "$tmp/t1" | awk -v hz="$hz" '{ printf "agent_user=%.2fs agent_sys=%.2fs", ($3 - $1) / hz, ($4 - $2) / hz }')
      extra="$(grep -o 'agent_cpu=[0-9.]*s' "$tmp/o") $extra" ;;
    esac
    echo "round $r $cfg: $(cat "$tmp/wb")" \
      "migrations=$(grep sched_migrate_task "$tmp/trace" | grep -c comm=wakebench)" \
      "ipis=$(grep -c ' ipi_send_cpu' "$tmp/trace") $extra"
    grep -o ' ipi_send_cpu[a-z]*:.*callsite=[^ ]*' "$tmp/trace" | sed 's/.*callsite=//; s/+.*//' |
      sort | uniq -c | sort -rn | head -4 | awk '{ printf "  %s %s", $2, $1 } END { print "" }'
    [ -s "$tmp/ops" ] && echo "  callbacks:$(cat "$tmp/ops")"
  done
done
rm -rf "$tmp"
