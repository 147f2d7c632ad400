#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Smoke run of the latency benchmark (make bench): scripts/compare-latency.sh
# for 2 s per run and one round of the two latency workloads and hackbench
# completes, with every workload thread in the policy its configuration
# wants (the script checks cyclictest's), and leaves a latency histogram
# for each of the three configurations, hackbench's completion time timed
# inside each (shorter than the run with the scheduler's start-up), and
# the scheduler unloaded.
. "$(dirname "$0")/lib.sh"

scripts/compare-latency.sh --configs=default,agent,bpf --duration=2 --rounds=1 --workloads=cyclictest,wakebench,hackbench \
  --out="$out" > "$out/log" 2>&1
rc=$?
check "$rc" 0 "compare-latency.sh"
[ "$rc" -eq 0 ] || { sed 's/^/  /' "$out/log"; grep -v "^ *[0-9]" "$out/raw/ghost_hybrid.log"; }
for w in cyclictest wakebench; do
  for c in default agent bpf; do
    check_true "$w under $c left a histogram" [ -s "$out/raw/$w.$c.0.hist" ]
  done
done
for c in default agent bpf; do
  ms=$(cat "$out/raw/hackbench.$c.0.ms" 2>/dev/null)
  total=$(cat "$out/raw/hackbench.$c.0.total_ms" 2>/dev/null)
  check_true "hackbench under $c: completion timed inside ($ms ms of $total ms)" \
    [ "${ms:-0}" -gt 0 -a "${ms:-0}" -le "${total:-0}" ]
done
check "$(sched_state)" disabled "state after the runs"
# The scheduler must have run the workload throughout: no ejection.
check_no_ejections
finish
