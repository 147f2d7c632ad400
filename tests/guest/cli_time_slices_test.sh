#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests time slices on a one-CPU enclave: with --slice=5ms two CPU-bound
# spinners share it about evenly over 2 s, under the centralized model
# (the CPU shared with the parked global agent) and the per-CPU model
# (whose commits carry the slice too); with --slice=inf the first runs to
# completion before the second starts (FIFO).
. "$(dirname "$0")/lib.sh"

for model in centralized percpu; do
  $GH --model=$model --cpus=1 --slice=5ms --stats-interval=0 -- \
    sh -c "$SPINNER 2000 > $out/a & $SPINNER 2000 > $out/b & wait" 2>/dev/null
  check "$?" 0 "two spinners with 5ms slices ($model)"
  # Each line: start_ns end_ns cpu_ns. Share = cpu / (sum of both cpus).
  shares=$(awk '{cpu[NR]=$3} END {t=cpu[1]+cpu[2]; printf "%d %d", 100*cpu[1]/t, 100*cpu[2]/t}' \
           "$out/a" "$out/b")
  echo "shares with 5ms slices ($model): $shares (%)"
  for s in $shares; do
    check_true "share $s% within 40-60% ($model)" [ "$s" -ge 40 -a "$s" -le 60 ]
  done
done

$GH --cpus=1 --global-cpu=1 --slice=inf --stats-interval=0 -- \
  sh -c "$SPINNER -c 300 > $out/c & sleep 0.05; $SPINNER -c 300 > $out/d & wait" 2>/dev/null
check "$?" 0 "two spinners with no slice"
order=$(awk 'NR==1 {e1=$2} NR==2 {s2=$1} END {print (s2 >= e1) ? "fifo" : "overlap"}' "$out/c" "$out/d")
check "$order" fifo "the second spinner started after the first finished"
# The scheduler must have run the workload throughout: no ejection.
check_no_ejections
finish
