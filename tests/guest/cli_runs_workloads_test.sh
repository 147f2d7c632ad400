#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests that ghost_hybrid leaves stdout to its command and returns its
# command's exit status, and that a
# parallel build under it (fast path on, both agent models) produces a
# correct program, every build step having run with policy SCHED_EXT.
. "$(dirname "$0")/lib.sh"

# stdout belongs to the command: no stats line or summary there by default.
check "$($GH -- echo hi 2>/dev/null)" hi "stdout of 'ghost_hybrid -- echo hi'"

$GH --stats-interval=0 -- sh -c 'awk "/^policy/ {print \$3}" /proc/$$/sched > '"$out"'/p7; exit 7' 2>/dev/null
check "$?" 7 "exit status of 'sh -c exit 7'"
check "$(cat "$out/p7")" 7 "policy of the exit-7 command"


for args in "--bpf-pick" "--model=centralized" "--model=percpu"; do
  d=$out/proj${args#--}
  mkproject "$d"
  $GH $args --stats-interval=0 --stats-json="$out/s.json" -- make -s -C "$d" -j4 \
    >/dev/null 2>"$out/err"
  rc=$?
  check "$rc" 0 "make -j4 under ghost_hybrid $args"
  [ "$rc" -eq 0 ] || sed 's/^/  stderr: /' "$out/err"
  check "$("$d/prog")" 21 "the program built under $args"
  check "$(sort -u "$d/policies" | tr '\n' ' ')" "7 " "policies of the build steps under $args"
  check "$(wc -l < "$d/policies")" 8 "build steps recorded under $args (7 compiles, 1 link)"
  # With no message lost, a WAKEUP always follows the BLOCKED the agent
  # read (the per-CPU model's migrations check the Tseq: gh_associate).
  [ "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['kernel']['msgs_dropped'])" "$out/s.json")" -eq 0 ] &&
    check "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['agent']['counters']['unexpected_wakeups'])" "$out/s.json")" \
      0 "wakeups of tasks the agent had not seen block under $args"
done
check "$(sched_state)" disabled "state after the runs"
# The scheduler must have run the workload throughout: no ejection.
check_no_ejections
finish
