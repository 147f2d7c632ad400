#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests inspection of a running ghost_hybrid: its maps are pinned root-only
# under /sys/fs/bpf/ghost_hybrid, the README's bpftool commands print them,
# `ghost_hybrid --dump` shows the managed tasks, and all is removed on exit.
. "$(dirname "$0")/lib.sh"
BPFTOOL=${GHOST_HYBRID_CACHE:-/var/cache/ghost_hybrid}/bpftool/usr/sbin/bpftool
P=/sys/fs/bpf/ghost_hybrid

$GH --bpf-pick --stats-interval=0 -- sh -c "touch $out/started; for i in 1 2 3 4 5 6 7 8; do $SPINNER 120000 > /dev/null & echo \$! >> $out/pids; done; wait" 2>/dev/null &
gh=$!
for _ in $(seq 100); do [ -e "$out/started" ] && break; sleep 0.1; done
sleep 0.5
check "$(stat -c %a $P)" 700 "mode of $P"
for m in runqueue task_sw agent_sw txn bss data; do
  check "$(stat -c %a $P/$m 2>/dev/null)" 600 "mode of $P/$m"
done
for m in runqueue task_sw agent_sw txn; do
  check_true "bpftool map dump name $m prints typed records" \
    sh -c "$BPFTOOL map dump name $m | grep -q gtid"
done
check_true "bpftool dumps the counters" sh -c "$BPFTOOL map dump pinned $P/bss | grep -q stats"
$GH --dump > "$out/dump"
check "$?" 0 "ghost_hybrid --dump"
for pid in $(cat "$out/pids"); do
  check_true "--dump lists task $pid" grep -q "pid=$pid " "$out/dump"
done
check_true "--dump shows the runqueue" grep -q "^runqueue: " "$out/dump"
kill $(cat "$out/pids") 2>/dev/null
wait $gh
check "$?" 0 "ghost_hybrid exit status (the shell's plain wait returns 0)"
check_true "pinned maps removed on exit" [ ! -e $P ]
# The scheduler must have run the workload throughout: no ejection.
check_no_ejections
finish
