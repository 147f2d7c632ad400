#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# timed.sh FILE CMD...: runs CMD, writes its wall-clock time in ms to FILE,
# and exits with CMD's status. compare-latency.sh runs it as the workload
# under each configuration, so that a completion time covers the workload
# alone, with its scheduler already in place.
out=$1
shift
t0=$(date +%s%N)
"$@"
rc=$?
t1=$(date +%s%N)
echo $(( (t1 - t0) / 1000000 )) > "$out"
exit $rc
