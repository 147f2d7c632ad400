#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests ghost_hybrid on sparse CPU ids, as on a machine with SMT turned off:
# with CPU 2 offline (online CPUs 0-1,3), the centralized and per-CPU models
# each run a command that has one spinner pinned to CPU 3 (the id past the
# gap) and one free, with no ejection; --cpus naming the offline CPU is
# refused with one sentence. CPU 2 is brought back online at the end.
. "$(dirname "$0")/lib.sh"
cpu2=/sys/devices/system/cpu/cpu2/online
[ -w $cpu2 ] || { echo "FAIL: cannot take CPU 2 offline here (no $cpu2)"; exit 1; }
trap 'echo 1 > $cpu2; rm -rf "$out"' EXIT
echo 0 > $cpu2
check "$(cat /sys/devices/system/cpu/online)" "0-1,3" "online CPUs with CPU 2 offline"

for model in centralized percpu; do
  $GH --model=$model --stats-interval=0 -- \
    sh -c "taskset -c 3 $SPINNER 300 > $out/pinned & $SPINNER 300 > $out/free & wait" 2>"$out/err"
  check "$?" 0 "a command on online CPUs 0-1,3 under --model=$model ($(head -c 300 "$out/err"))"
  check "$(cat "$out/pinned" "$out/free" | wc -l)" 2 "both spinners finished under --model=$model"
done
$GH --cpus=1-2 -- true 2>"$out/err"
check "$?" 2 "--cpus naming the offline CPU"
check_true "the refusal names the offline CPU and the online ones ($(cat "$out/err"))" \
  grep -q "CPU 2, which is not online here (online CPUs: 0-1,3)" "$out/err"
check_no_ejections
finish
