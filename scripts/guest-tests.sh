#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs every guest test inside the sched_ext guest (called by run-tests.sh
# through scripts/vm.sh): the C++ guest suite, then each tests/guest/*.sh.
# Ends with one line "GUEST_RESULT passed=N failed=M".
cd "$(dirname "$0")/.."
passed=0 failed=0
log=$(mktemp)
stdbuf -oL build/tests/guest_tests --gtest_color=no 2>&1 | tee "$log"
passed=$((passed + $(grep -c '^\[       OK \]' "$log")))
failed=$((failed + $(grep -cE '^\[  FAILED  \] .*\([0-9]+ ms\)' "$log")))
if ! grep -q '^\[==========\] .* ran\.' "$log"; then
  echo "guest_tests did not finish"; failed=$((failed + 1))
fi
for t in tests/guest/*_test.sh; do
  [ -x "$t" ] || continue
  if "$t"; then
    echo "[       OK ] $t"; passed=$((passed + 1))
  else
    echo "[  FAILED  ] $t"; failed=$((failed + 1))
  fi
done
rm -f "$log"
echo "GUEST_RESULT passed=$passed failed=$failed"
