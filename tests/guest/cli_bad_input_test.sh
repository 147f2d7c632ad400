#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests that bad input gets one short message naming the problem, the exit
# status documented in --help, and leaves nothing loaded or pinned.
. "$(dirname "$0")/lib.sh"

# expect STATUS PATTERN ARGS...: runs ghost_hybrid ARGS and checks all three.
expect() {
  want=$1 pattern=$2; shift 2
  "$@" > "$out/o" 2> "$out/e"
  got=$?
  check "$got" "$want" "exit status of: $*"
  check_true "message of '$*' matches '$pattern' (was: $(cat "$out/e"))" grep -q -- "$pattern" "$out/e"
  check "$(wc -l < "$out/e")" 1 "one-line message for: $*"
  check "$(sched_state)" disabled "state after: $*"
  check_true "nothing pinned after: $*" [ ! -e /sys/fs/bpf/ghost_hybrid ]
}

expect 2 "unknown flag '--frobnicate'" $GH --frobnicate -- true
expect 2 "bad value 'soon' for --slice" $GH --slice=soon -- true
expect 2 "names CPU 99" $GH --cpus=0,99 -- true
expect 2 "is not in the enclave" $GH --cpus=1 --global-cpu=0 -- true
expect 2 "no process with pid 999999" $GH --pid=999999
expect 127 "command not found: no_such_command_xyz" $GH -- no_such_command_xyz
expect 2 "does not support --bpf-pick" $GH --model=percpu --bpf-pick -- true
# A persistent scheduler's actions with none loaded.
expect 3 "no persistent ghost_hybrid scheduler is loaded" $GH --attach
expect 3 "no persistent ghost_hybrid scheduler is loaded" $GH --detach
expect 3 "no persistent ghost_hybrid scheduler is loaded" $GH --stop
expect 2 "--attach takes the settings of the scheduler" $GH --attach --cpus=0
# --global-cpu outside the enclave of the persistent scheduler an agent
# attaches to: refused before any agent starts, the scheduler untouched.
$GH --persist --cpus=1-3 --stats-interval=0 -- true 2>/dev/null
$GH --attach --global-cpu=0 > "$out/o" 2> "$out/e"
check "$?" 2 "exit status of --attach --global-cpu=0 (enclave 1-3)"
check_true "its message names the cause (was: $(cat "$out/e"))" \
  grep -q "global-cpu=0 is not in the persistent scheduler's enclave (CPUs 1-3)" "$out/e"
check "$(wc -l < "$out/e")" 1 "one-line message for --attach --global-cpu=0"
check "$(sched_state)" enabled "the persistent scheduler after the refused --attach"
$GH --attach --stats-interval=0 -- true 2>"$out/e"
check "$?" 0 "an agent attaches after the refused one ($(cat "$out/e"))"
$GH --stop 2>"$out/e"
check "$?" 0 "--stop ($(cat "$out/e"))"
check "$(sched_state)" disabled "state after --stop"
check_true "nothing pinned after --stop" [ ! -e /sys/fs/bpf/ghost_hybrid ]
# Not root: a user without CAP_SYS_ADMIN.
expect 3 "needs root: run it with sudo" setpriv --reuid=65534 --regid=65534 --clear-groups $GH -- true

# A second ghost_hybrid while one runs.
$GH --stats-interval=0 -- sleep 3 2>/dev/null &
first=$!
for _ in $(seq 50); do [ "$(sched_state)" = enabled ] && break; sleep 0.1; done
$GH -- true > "$out/o" 2> "$out/e"
check "$?" 3 "exit status of a second ghost_hybrid"
check_true "second ghost_hybrid names the loaded scheduler" grep -q "another sched_ext scheduler is loaded (ghost_hybrid)" "$out/e"
wait $first
check "$?" 0 "the first ghost_hybrid carried on"
wait_disabled
check_true "nothing pinned at the end" [ ! -e /sys/fs/bpf/ghost_hybrid ]
# The scheduler must have run the workload throughout: no ejection.
check_no_ejections
finish
