#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests that SIGKILL of ghost_hybrid while 8 CPU-bound managed tasks run
# loses nothing: all 8 finish with the right output under the fair class,
# and /sys/kernel/sched_ext/state returns to disabled. Runs in the guest.
. "$(dirname "$0")/lib.sh"
expected=$(awk 'BEGIN{s=0;for(i=0;i<400000;i++)s+=i%7;print s}')

./ghost_hybrid --bpf-pick --stats-interval=0 -- sh -c "
  for i in 1 2 3 4 5 6 7 8; do
    (while [ ! -e $out/killed ]; do :; done   # CPU-bound until the loader is gone
     awk 'BEGIN{s=0;for(i=0;i<400000;i++)s+=i%7;print s}' > $out/r.\$i.tmp && mv $out/r.\$i.tmp $out/r.\$i) &
  done
  grep -h policy /proc/\$\$/sched > $out/policy
  wait" 2>"$out/gh.err" &
gh=$!
# Let the workers start under ghost_hybrid.
for _ in $(seq 200); do
  [ -s "$out/policy" ] && break
  kill -0 $gh 2>/dev/null || { echo "FAIL: ghost_hybrid exited before the workload started"; exit 1; }
  sleep 0.05
done
sleep 0.5
state_before=$(cat /sys/kernel/sched_ext/state)
running=$(ps -eo stat,args | grep -c '^R.*sh -c')
kill -9 $gh
wait $gh 2>/dev/null
for _ in $(seq 100); do [ "$(cat /sys/kernel/sched_ext/state)" = disabled ] && break; sleep 0.05; done
touch "$out/killed"
for _ in $(seq 600); do [ "$(ls "$out" | grep -c '^r\.[0-9]$')" -eq 8 ] && break; sleep 0.1; done
sleep 0.2
state_after=$(cat /sys/kernel/sched_ext/state)

check "$state_before" enabled "scheduler enabled while the workload ran ($(cat "$out/gh.err" 2>/dev/null))"
check "$(awk '{print $3}' "$out/policy")" 7 "workload policy is SCHED_EXT (7)"
[ "$running" -ge 1 ] || { echo "FAIL: no worker was running when the loader was killed"; fail=1; }
check "$state_after" disabled "state after SIGKILL"
for i in 1 2 3 4 5 6 7 8; do
  check "$(cat "$out/r.$i" 2>/dev/null)" "$expected" "output of task $i"
done
# Killing the loader unloads the scheduler; the kernel never ejected it.
check_no_ejections
finish
