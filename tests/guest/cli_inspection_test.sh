#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests inspection of a running ghost_hybrid: its maps are pinned root-only
# under /sys/fs/bpf/ghost_hybrid, every `sudo bpftool ...` line of the
# README, run verbatim, prints them, `ghost_hybrid --dump` shows the managed
# tasks and the counters, `ghost_hybrid --monitor --json` from another
# shell reads the counters as they move, and all is removed on exit. Also:
# stdout belongs to the command (`ghost_hybrid -- echo hi` prints exactly
# hi).
. "$(dirname "$0")/lib.sh"
P=/sys/fs/bpf/ghost_hybrid

check "$($GH -- echo hi)" hi "stdout of ghost_hybrid -- echo hi"

# The spinners run until the end of the test kills them: a fixed length
# (it was 120 s) raced the test itself, which takes about 100 s in the guest.
$GH --bpf-pick --stats-interval=0 -- sh -c "touch $out/started; for i in 1 2 3 4 5 6 7 8; do $SPINNER 600000 > /dev/null & echo \$! >> $out/pids; done; wait" 2>/dev/null &
gh=$!
for _ in $(seq 100); do [ -e "$out/started" ] && break; sleep 0.1; done
sleep 0.5
check "$(stat -c %a $P)" 700 "mode of $P"
for m in runqueue task_sw agent_sw txn bss data; do
  check "$(stat -c %a $P/$m 2>/dev/null)" 600 "mode of $P/$m"
done
# The README's lines as written (after setup: bpftool on PATH, sudo).
grep '^sudo bpftool ' README.md > "$out/readme_lines"
check_true "the README has its 5 bpftool lines" [ "$(wc -l < "$out/readme_lines")" -eq 5 ]
while read -r line; do
  sh -c "$line" > "$out/bpftool_out" 2>&1
  rc=$?
  check "$rc" 0 "README line: $line"
  check_true "README line prints typed records: $line" grep -qE 'gtid|stats' "$out/bpftool_out"
done < "$out/readme_lines"
$GH --dump > "$out/dump"
check "$?" 0 "ghost_hybrid --dump"
for pid in $(cat "$out/pids"); do
  check_true "--dump lists task $pid" grep -q "pid=$pid " "$out/dump"
done
check_true "--dump shows the runqueue" grep -q "^runqueue: " "$out/dump"
check_true "--dump shows the counters" grep -qE '^  bpf_picks +[1-9]' "$out/dump"
# --monitor from another shell: 1 s lines of JSON, until SIGINT.
timeout --preserve-status -s INT 3.5 $GH --monitor=1 --json > "$out/mon"
check "$?" 0 "ghost_hybrid --monitor ends with status 0 on SIGINT"
check_true "--monitor --json: every line is JSON with every counter, and messages flow" \
  python3 -c "
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) >= 2, lines
assert all(len(l['totals']) == len(l['per_second']) >= 20 for l in lines), lines
assert lines[-1]['totals']['msgs'] > 0 and lines[-1]['totals']['bpf_picks'] > 0, lines[-1]
" "$out/mon"
kill $(cat "$out/pids") 2>/dev/null
wait $gh
check "$?" 0 "ghost_hybrid exit status (the shell's plain wait returns 0)"
check_true "pinned maps removed on exit" [ ! -e $P ]
$GH --monitor > "$out/mon2" 2>&1
check "$?" 3 "--monitor with no ghost_hybrid running"
check_true "--monitor says why" grep -q "is ghost_hybrid running" "$out/mon2"
# The scheduler must have run the workload throughout: no ejection.
check_no_ejections
finish
