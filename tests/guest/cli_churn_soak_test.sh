#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests that every mode survives 20 s of churn (tests/workloads/churn.cc:
# hogs, pinned hogs, fork/exec/exit, timer sleepers, pipe and futex
# ping-pong, a task changing affinity and nice): for centralized,
# --bpf-pick, per-CPU, and --bpf-pick with the agent stopped and continued
# at random moments, ghost_hybrid exits 0 (every churn worker progressed
# and passed its own checks), nothing is ejected, and fewer than half of
# the agent's commits fail. `make soak` runs the same for 5 minutes a mode.
. "$(dirname "$0")/lib.sh"

scripts/soak.sh 20 "$out/soak.json"
check "$?" 0 "20 s of churn under every mode"
check_no_ejections
finish
