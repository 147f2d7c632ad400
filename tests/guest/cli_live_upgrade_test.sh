#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests live agent replacement on a persistent scheduler (--persist). Not
# in make test yet (no _test.sh suffix): `make test-upgrade` runs it three
# times on each kernel.
#  1. agent A is SIGKILLed under 8 CPU-bound and 8 sleep/wake tasks; agent
#     B attaches within 1 s and commits for every one of the 16; their
#     outputs are correct; sampled throughout, the scheduler stays enabled
#     and every task stays a sched_ext task;
#  2. a planned hand-over (--detach, then --attach) in the middle of a
#     make -j4 build, which completes correctly, every step under SCHED_EXT;
#  3. with no agent for 10 s after a SIGKILL, more CPU-bound tasks than
#     CPUs and a stream of short ones keep progressing, and an agent built
#     for another ABI is refused, the scheduler untouched;
#  4. --stop unloads it; nothing is ejected in 1-3; and the watchdog still
#     ejects a persistent scheduler whose (stopped) agent leaves tasks
#     waiting.
. "$(dirname "$0")/lib.sh"
WORKER=build/tests/worker
SKEW=build/tests/ghost_hybrid_abi_skew
pins=/sys/fs/bpf/ghost_hybrid

# sampler: every 0.1 s until $out/stop_sampling exists, one line: the
# scheduler's state, then each live task of $out/pids as POLICY, or
# POLICY:EXT_ENABLED where /proc/PID/sched shows ext.enabled. One process
# (the guest spawns processes slowly).
sampler() {
  python3 - "$out" <<'PY'
import os, sys, time
out = sys.argv[1]
with open(f"{out}/samples", "a") as f:
    while not os.path.exists(f"{out}/stop_sampling"):
        line = [open("/sys/kernel/sched_ext/state").read().strip()]
        for pid in open(f"{out}/pids").read().split():
            try:
                fields = dict(l.split(":", 1) for l in open(f"/proc/{pid}/sched") if ":" in l)
            except OSError:
                continue
            fields = {k.strip(): v.strip() for k, v in fields.items()}
            v = fields.get("policy", "?")
            if "ext.enabled" in fields:
                v += ":" + fields["ext.enabled"]
            line.append(v)
        f.write(" ".join(line) + "\n")
        f.flush()
        time.sleep(0.1)
PY
}
# wait_lines N FILES...: waits up to 60 s until FILES hold N lines together.
wait_lines() {
  n=$1; shift
  for _ in $(seq 600); do [ "$(cat "$@" 2>/dev/null | wc -l)" -ge "$n" ] && return 0; sleep 0.1; done
  return 1
}
# json FILE EXPR: a Python expression over the JSON in FILE (as j).
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# ---- 1. SIGKILL of agent A, agent B takes over ---------------------------
spawn16="for i in 1 2 3 4 5 6 7 8; do
  $WORKER cpu 9000 > $out/cpu.\$i & echo \$! >> $out/pids
  $WORKER sleep 9000 > $out/sleep.\$i & echo \$! >> $out/pids
done; wait"
$GH --persist --stats-interval=0 -- sh -c "$spawn16" 2>"$out/errA" &
A=$!
wait_lines 16 "$out/pids"
check "$(wc -l < "$out/pids")" 16 "tasks started under agent A"
sampler &
S=$!
sleep 1.5
kill -KILL $A
wait $A 2>/dev/null
check "$(sched_state)" enabled "state right after agent A's SIGKILL"
t0=$(date +%s%N)
$GH --attach -v --stats-interval=0 --stats-json="$out/b.json" 2>"$out/errB" &
B=$!
# Polled with shell builtins every 0.1 s: a grep and a sleep every 20 ms
# (100 process spawns a second, slow in the guest) competed with agent B
# for the CPU whose start-up this measures.
said_attached() {
  while IFS= read -r line; do
    case $line in *"attached to the persistent scheduler"*) return 0 ;; esac
  done < "$out/errB"
  return 1
}
for _ in $(seq 100); do said_attached && break; sleep 0.1; done
wall=$(( ($(date +%s%N) - t0) / 1000000 ))
ms=$(sed -n 's/.* \([0-9]*\) ms after starting.*/\1/p' "$out/errB")
echo "agent B attached ${ms} ms after it started (${wall} ms after this shell started it): $(grep -o 'took over [0-9]* tasks' "$out/errB")"
grep "start-up:" "$out/errB"
check_true "agent B attached within 1 s of starting (${ms:-no} ms; $(cat "$out/errB"))" [ "${ms:-9999}" -le 1000 ]
wait_lines 16 "$out"/cpu.* "$out"/sleep.*
touch "$out/stop_sampling"
wait $S
kill -TERM $B
wait $B
rc=$?
check "$rc" 0 "agent B's exit status when told to detach (SIGTERM)"
[ "$rc" -eq 0 ] || sed 's/^/  B: /' "$out/errB"
for i in 1 2 3 4 5 6 7 8; do
  check "$(awk '{print $2}' "$out/cpu.$i" 2>/dev/null)" 1799995 "output of CPU-bound task $i"
  check "$(awk '$1 > 0 {print $2}' "$out/sleep.$i" 2>/dev/null)" ok "output of sleep/wake task $i"
done
check_true "the samples cover the hand-over ($(wc -l < "$out/samples") samples)" \
  [ "$(wc -l < "$out/samples")" -ge 20 ]
check "$(grep -vc '^enabled' "$out/samples")" 0 "samples with the scheduler not enabled"
check "$(tr ' ' '\n' < "$out/samples" | grep -v '^enabled$' | grep -cvE '^7(:1)?$')" 0 \
  "task samples outside sched_ext (policy not 7, or ext.enabled 0)"
missing=$(json "$out/b.json" "' '.join(p for p in open('$out/pids').read().split() if int(p) not in j['agent']['committed_pids'])")
check "$missing" "" "tasks agent B never committed"
check_true "agent B adopted the 16 tasks ($(json "$out/b.json" "j['agent']['counters']['tasks_adopted']"))" \
  [ "$(json "$out/b.json" "j['agent']['counters']['tasks_adopted']")" -ge 16 ]
$GH --stop 2>"$out/err"
check "$?" 0 "--stop ($(cat "$out/err"))"
check "$(sched_state)" disabled "state after --stop"
check_true "--stop removed the pins" [ ! -e "$pins" ]

# ---- 2. planned hand-over during make -j4 --------------------------------
mkproject "$out/proj" 24
$GH --persist --stats-interval=0 -- \
  sh -c "make -s -C $out/proj -j4 >/dev/null 2>&1; echo \$? > $out/make.rc" 2>"$out/errA2" &
A=$!
wait_lines 2 "$out/proj/policies"
$GH --detach 2>"$out/err"
check "$?" 0 "--detach during the build ($(cat "$out/err"))"
wait $A
check "$?" 0 "agent A's exit status after --detach"
at_handover=$(wc -l < "$out/proj/policies")
$GH --attach --stats-interval=0 --stats-json="$out/c.json" 2>"$out/errC" &
C=$!
for _ in $(seq 1800); do [ -e "$out/make.rc" ] && break; sleep 0.1; done
kill -TERM $C
wait $C
rc=$?
check "$rc" 0 "agent C's exit status when told to detach"
[ "$rc" -eq 0 ] || sed 's/^/  C: /' "$out/errC"
check "$(cat "$out/make.rc" 2>/dev/null)" 0 "make -j4 across the hand-over"
check "$("$out/proj/prog")" 300 "the program built across the hand-over"
check "$(sort -u "$out/proj/policies" | tr '\n' ' ')" "7 " "policies of the build steps"
check "$(wc -l < "$out/proj/policies")" 26 "build steps recorded (25 compiles, 1 link)"
check_true "the build was still running at the hand-over ($at_handover of 26 steps begun)" \
  [ "$at_handover" -lt 26 ]
check_true "agent C committed build steps" [ "$(json "$out/c.json" "j['txn_complete']")" -gt 0 ]
$GH --stop 2>/dev/null
check "$(sched_state)" disabled "state after the second --stop"

# ---- 3. ten seconds without an agent; an agent of another ABI ------------
# Six CPU-bound tasks outlast the window (more tasks than CPUs: a task the
# dead agent held in its queue would wait behind the fast path's forever),
# and short runs append to a progress file throughout.
: > "$out/progress"
$GH --persist --stats-interval=0 -- \
  sh -c "for i in 1 2 3 4 5 6; do $WORKER cpu 14000 > $out/long.\$i & done
         for i in 1 2; do (for j in \$(seq 400); do $WORKER cpu 50 >> $out/progress; done) & done; wait" \
  2>/dev/null &
A=$!
wait_lines 2 "$out/progress"
kill -KILL $A
wait $A 2>/dev/null
for second in 2 4 6 8 10; do
  before=$(wc -l < "$out/progress")
  sleep 2
  after=$(wc -l < "$out/progress")
  check_true "tasks progressed without an agent in the 2 s up to ${second} s ($before -> $after runs)" \
    [ "$after" -gt "$before" ]
  check "$(sched_state)" enabled "state ${second} s after the agent left"
  if [ "$second" = 4 ]; then
    $SKEW --attach 2>"$out/err"
    check "$?" 3 "exit status of an agent built for another ABI"
    check_true "its refusal names the ABI ($(cat "$out/err"))" grep -q "ABI version" "$out/err"
    check "$(sched_state)" enabled "state after the refused attach"
    $GH -- true 2>"$out/err"
    check "$?" 3 "exit status of a plain ghost_hybrid while a persistent one is loaded"
    check_true "it names the persistent scheduler and the remedies ($(cat "$out/err"))" \
      grep -q "a persistent ghost_hybrid scheduler is loaded: take it over with ghost_hybrid --attach" "$out/err"
    $GH --dump > "$out/dump" 2>&1
    check "$(sed -n 1p "$out/dump")" "agent: none attached" "the agent after the refused attach"
    check "$(grep -c 'agent tid=0 ' "$out/dump")" "$(nproc)" "CPUs without an agent thread then"
    [ "$fail" -eq 0 ] || sed 's/^/  dump: /' "$out/dump"
  fi
done
wait_lines 6 "$out"/long.*
for i in 1 2 3 4 5 6; do
  check "$(awk '{print $2}' "$out/long.$i" 2>/dev/null)" 1799995 "output of long CPU-bound task $i"
done
$GH --stop 2>/dev/null
check "$(sched_state)" disabled "state after the last --stop"
pkill -f "progress; done" 2>/dev/null  # the loops first, then their workers
pkill -f "$WORKER" 2>/dev/null
check_no_ejections

# ---- 4. the watchdog still ejects a persistent scheduler whose tasks stall
# An agent stopped (SIGSTOP) is still attached: its threads live, so the
# kernel side leaves the decisions to it, and its queued tasks wait until
# the watchdog ejects the scheduler. Its agent then exits 70 and removes
# the pins of the dead scheduler.
at_start=$(ejections)
# Stopped only once its workers run: a loader stopped while still starting
# up (2 s in a slow boot) leaves nothing to stall.
$GH --persist --watchdog=1s --stats-interval=0 -- \
  sh -c "for i in 1 2 3 4 5 6; do $WORKER cpu 4000 > /dev/null & echo \$! >> $out/stall_pids; done; wait" \
  2>"$out/errS" &
A=$!
check_true "the stalling workload started" wait_lines 6 "$out/stall_pids"
sleep 0.5
kill -STOP $A
for _ in $(seq 100); do [ "$(sched_state)" != enabled ] && break; sleep 0.1; done
check "$(sched_state)" disabled "state once the stopped agent's tasks stalled"
kill -CONT $A
wait $A
check "$?" 70 "exit status of the persistent agent whose scheduler was ejected"
check "$(( $(ejections) - at_start ))" 1 "ejections of the stalled persistent scheduler"
check_true "the dead scheduler's pins are gone" [ ! -e "$pins" ]
pkill -f "$WORKER" 2>/dev/null
finish
