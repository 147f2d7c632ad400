#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs one guest test N times in a row (in one guest boot, through
# scripts/vm.sh) to measure how reliable it is: prints
# "TEST: K of N runs passed" and succeeds only if all did.
#   scripts/guest-repeat.sh N TEST
[ $# -eq 2 ] && [ "$1" -gt 0 ] 2>/dev/null ||
  { echo "usage: $0 N TEST (N > 0)" >&2; exit 2; }
n=$1 test=$2 passed=0
cd "$(dirname "$0")/.."
i=0
while [ "$i" -lt "$n" ]; do
  i=$((i + 1))
  echo "--- run $i of $n"
  "$test" && passed=$((passed + 1))
done
echo "$test: $passed of $n runs passed"
[ "$passed" -eq "$n" ]
