#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The demo workload of `make run`: CPU-bound spinners plus latency-sensitive
# wakers (short sleeps), for about DEMO_SECONDS (default 10) seconds.
# Runs as the managed task tree under ghost_hybrid.
secs=${DEMO_SECONDS:-10}
echo "demo: sched_ext state=$(cat /sys/kernel/sched_ext/state) ops=$(cat /sys/kernel/sched_ext/root/ops 2>/dev/null)" \
     "policy=$(awk '/^policy/ {print $3}' /proc/$$/sched) (7 = SCHED_EXT)"
end=$(($(date +%s) + secs))
for i in 1 2 3 4; do
  ( n=0; while [ "$(date +%s)" -lt $end ]; do
      awk 'BEGIN{s=0;for(i=0;i<200000;i++)s+=i%7}'; n=$((n+1)); done
    echo "demo: spinner $i finished $n rounds" ) &
done
for i in 1 2; do
  ( n=0; while [ "$(date +%s)" -lt $end ]; do sleep 0.01; n=$((n+1)); done
    echo "demo: waker $i woke $n times" ) &
done
wait
echo "demo: done"
