#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs guest tests inside the sched_ext guest (called by run-tests.sh
# through scripts/vm.sh): the C++ guest suite, then tests/guest/*.sh.
# Ends with one line "GUEST_RESULT passed=N failed=M".
#
#   scripts/guest-tests.sh [TEST.sh...]   only these shell tests (the
#                                         whole C++ suite runs either way)
cd "$(dirname "$0")/.."
passed=0 failed=0
log=$(mktemp)
echo "guest kernel $(uname -r)"
stdbuf -oL build/tests/guest_tests --gtest_color=no 2>&1 | tee "$log"
passed=$((passed + $(grep -c '^\[       OK \]' "$log")))
failed=$((failed + $(grep -cE '^\[  FAILED  \] .*\([0-9]+ ms\)' "$log")))
if ! grep -q '^\[==========\] .* ran\.' "$log"; then
  echo "guest_tests did not finish"; failed=$((failed + 1))
fi
[ $# -gt 0 ] || set -- tests/guest/*_test.sh
for t in "$@"; do
  [ -x "$t" ] || { echo "[  FAILED  ] $t: not an executable test"; failed=$((failed + 1)); continue; }
  start=$(date +%s)
  if "$t"; then
    result="       OK "; passed=$((passed + 1))
  else
    result="  FAILED  "; failed=$((failed + 1))
  fi
  echo "[$result] $t ($(($(date +%s) - start)) s)"
done
rm -f "$log"
echo "GUEST_RESULT passed=$passed failed=$failed"
