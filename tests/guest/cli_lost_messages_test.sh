#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests recovery from lost messages: with channels of one page (about 56
# messages), 100 sleepers that wake together and a burst of 16 shells each
# running 5 short spinners overflow them over and over. Under --model=centralized, --model=percpu and
# --bpf-pick every spinner must still finish, the kernel must have dropped
# messages and the agent resynced tasks from their status words, every
# status word the agent freed must have been the task's to free, and the
# scheduler must never be ejected.
. "$(dirname "$0")/lib.sh"

workload="
  i=0
  while [ \$i -lt 100 ]; do sleep 1 & i=\$((i + 1)); done
  i=0
  while [ \$i -lt 16 ]; do
    ( j=0; while [ \$j -lt 5 ]; do $SPINNER 1 > /dev/null; j=\$((j + 1)); done
      echo done > $out/shell.\$i ) &
    i=\$((i + 1))
  done
  wait"

# counters FILE: "dropped resyncs adopted freed rejected" from --stats-json
# (one python3 start: each costs about a second in the guest).
counters() {
  python3 -c "
import json, sys
j = json.load(open(sys.argv[1])); k, a = j['kernel'], j['agent']['counters']
print(k['msgs_dropped'], a['task_resyncs'], a['tasks_adopted'], k['sw_freed'], k['sw_free_rejected'])" "$1"
}

for args in --model=centralized --model=percpu --bpf-pick; do
  rm -f "$out"/shell.*
  $GH $args --channel-bytes=4096 --stats-json="$out/s.json" -- sh -c "$workload" 2>"$out/err"
  check "$?" 0 "the workload under $args with one-page channels ($(tail -3 "$out/err" | tr '\n' ' '))"
  check "$(ls "$out"/shell.* 2>/dev/null | wc -l)" 16 "shells that ran all their spinners under $args"
  set -- $(counters "$out/s.json")
  dropped=${1:-0} resyncs=${2:-0} rejected=${5:-none}
  echo "$args: $dropped messages dropped, $resyncs task resyncs, ${3:-?} adopted," \
    "${4:-?} status words freed"
  # The per-CPU model spreads the messages over one channel per CPU, which
  # this workload does not reliably overflow (300 sleepers do, but take
  # minutes): its drops are reported, and the simulator's
  # LostMessages.PerCpu* drops thousands.
  if [ "$args" != --model=percpu ]; then
    check_true "messages were dropped under $args (got $dropped)" [ "$dropped" -gt 0 ]
    check_true "tasks were resynced under $args (got $resyncs)" [ "$resyncs" -gt 0 ]
  fi
  check "$rejected" 0 "status words the agent freed wrongly under $args"
  done
check_no_ejections
finish
