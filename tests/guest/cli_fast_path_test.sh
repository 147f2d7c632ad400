#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests that with the fast path off every run is the agent's (no BPF pick,
# committed transactions), and that with it on BPF picks tasks and the
# agent sees them picked.
. "$(dirname "$0")/lib.sh"
work="for i in 1 2 3 4 5 6; do $SPINNER 150 >/dev/null & done; wait"

$GH --stats-interval=0 --stats-json="$out/off.json" -- sh -c "$work" 2>/dev/null
check "$?" 0 "workload with the fast path off"
check "$(json_get "$out/off.json" bpf_picks)" 0 "BPF picks with the fast path off"
check_true "transactions committed with the fast path off" \
  [ "$(json_get "$out/off.json" txn_complete)" -gt 0 ]

$GH --bpf-pick --stats-interval=0 --stats-json="$out/on.json" -- sh -c "$work" 2>/dev/null
check "$?" 0 "workload with the fast path on"
check_true "BPF picks with the fast path on" [ "$(json_get "$out/on.json" bpf_picks)" -gt 0 ]
seen=$(python3 -c "import json; print(json.load(open('$out/on.json'))['agent']['counters']['bpf_picks_seen'])")
check_true "the agent saw BPF picks (TASK_ON_CPU flagged BPF_PICKED)" [ "$seen" -gt 0 ]
# The scheduler must have run the workload throughout: no ejection.
check_no_ejections
finish
