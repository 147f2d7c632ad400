#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests pinned tasks: a CPU-bound task pinned with taskset to each guest CPU
# in turn, and a command whose four spinners are each pinned to a different
# CPU, complete under --model=centralized, --model=percpu and --bpf-pick,
# with the scheduler never ejected (check_no_ejections). The agents learn
# each task's mask (TASK_AFFINITY_CHANGED, also right after the TASK_NEW of
# a task born pinned) and commit only to allowed CPUs.
. "$(dirname "$0")/lib.sh"

ncpu=$(nproc)
for args in --model=centralized --model=percpu --bpf-pick; do
  cpu=0
  while [ "$cpu" -lt "$ncpu" ]; do
    $GH $args --stats-interval=0 -- taskset -c "$cpu" $SPINNER -c 300 > "$out/one" 2>"$out/err"
    check "$?" 0 "a spinner pinned to CPU $cpu under $args ($(tail -1 "$out/err"))"
    check_true "the spinner pinned to CPU $cpu under $args finished (printed its line)" \
      grep -q "^[0-9]* [0-9]* [0-9]*$" "$out/one"
    cpu=$((cpu + 1))
  done
  # One spinner per CPU, each pinned there, started by one command.
  $GH $args --stats-interval=0 -- sh -c "
    c=0
    while [ \$c -lt $ncpu ]; do taskset -c \$c $SPINNER -c 300 > $out/many.\$c & c=\$((c + 1)); done
    wait" 2>"$out/err"
  check "$?" 0 "$ncpu spinners each pinned to its own CPU under $args ($(tail -1 "$out/err"))"
  done_count=$(cat "$out"/many.* 2>/dev/null | grep -c "^[0-9]* [0-9]* [0-9]*$")
  check "$done_count" "$ncpu" "pinned spinners that finished under $args"
  rm -f "$out"/many.*
done
# The scheduler must have run the workload throughout: no ejection.
check_no_ejections
finish
