#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests the parking global agent (centralized model): with nothing to
# decide it parks, and its CPU runs workload.
#
# The enclave is one CPU (CPU 1), the global agent's. A CPU-bound spinner
# runs there for 4 s and must get more than half of that CPU, while the
# agent thread itself uses under a quarter of it (it sleeps, parked). After
# a second, a new task (100 ms of CPU) starts: the parked agent must wake
# for its TASK_NEW and get it run while the spinner still runs. The new
# task is the same binary as the spinner and is started by a shell builtin
# path, so that no exec page-ins (each a block and a wakeup) stretch it.
. "$(dirname "$0")/lib.sh"

# The test's own processes stay on CPU 0, outside the enclave.
taskset -p -c 0 $$ >/dev/null

$GH --model=centralized --cpus=1 --global-cpu=1 --stats-interval=0 \
    --stats-json="$out/s.json" -- sh -c "
  $SPINNER 4000 > $out/hog &
  : > $out/started
  $SPINNER 1000 > /dev/null
  : > $out/new
  $SPINNER -c 100 > $out/new_task
  wait" 2>"$out/err" &
gh=$!
for _ in $(seq 600); do [ -e "$out/started" ] && break; sleep 0.1; done
# The global agent's thread id, from --dump's CPU section.
agent_tid=$($GH --dump | awk '/GLOBAL/ {for (i = 1; i <= NF; i++) if (sub(/^tid=/, "", $i)) print $i}')
# utime + stime of the agent thread (clock ticks), and its voluntary switches.
agent_ticks() { cpu_ticks "/proc/$gh/task/$agent_tid/stat"; }
agent_switches() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$gh/task/$agent_tid/status"; }
if [ -n "$agent_tid" ] && [ -d "/proc/$gh/task/$agent_tid" ]; then
  ticks0=$(agent_ticks); wall0=$(date +%s%N)
  while [ ! -e "$out/new" ]; do sleep 0.05; done
  switches_before_new=$(agent_switches)
  sleep 1
  switches_after_new=$(agent_switches)
  ticks1=$(agent_ticks); wall1=$(date +%s%N)
fi
wait "$gh"
check "$?" 0 "the workload under ghost_hybrid ($(tail -2 "$out/err"))"
check_true "found the global agent's thread ('$agent_tid') in --dump" \
  [ -n "$agent_tid" ] && [ -n "$ticks1" ]

# The spinner's line: start_ns end_ns cpu_ns.
hog_pct=$(awk '{printf "%d", 100 * $3 / ($2 - $1)}' "$out/hog")
echo "the spinner got ${hog_pct}% of the agent's CPU ($(cat "$out/hog"))"
check_true "the parked agent's CPU ran workload > 50% of the time (${hog_pct}%)" \
  [ "$hog_pct" -gt 50 ]

if [ -n "$ticks1" ]; then
  hz=$(getconf CLK_TCK)
  agent_pct=$(( 100 * (ticks1 - ticks0) * 1000000000 / hz / (wall1 - wall0) ))
  echo "agent thread CPU use meanwhile: ${agent_pct}%"
  check_true "the agent thread used < 25% of its CPU (${agent_pct}%)" [ "$agent_pct" -lt 25 ]
  check_true "the parked agent woke (voluntary switches $switches_before_new -> $switches_after_new)" \
    [ "$switches_after_new" -gt "$switches_before_new" ]
fi
# The new task got its 100 ms while the spinner held the CPU: the agent
# woke and placed it, within 1.5 s of its start, before the spinner ended.
echo "new task: $(cat "$out/new_task")"
check_true "the new task ran within 1.5 s, before the spinner ended" \
  awk 'NR == FNR {hog_end = $2; next} {exit !($2 - $1 < 1.5e9 && $2 < hog_end)}' \
  "$out/hog" "$out/new_task"
check_true "agent parks counted (kernel agent_parks >= 1)" \
  [ "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['kernel']['agent_parks'])" "$out/s.json")" -ge 1 ]
# The scheduler must have run the workload throughout: no ejection.
check_no_ejections
finish
