#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests `ghost_hybrid --version` and `-V`: exit 0, a first line naming the
# version (VERSION) and the git commit the binary was built from; and
# `--help` (the README's other command that needs no scheduler): exit 0,
# within 80 columns, with its EXAMPLES, ENVIRONMENT and EXIT STATUS
# sections. Needs no root and no sched_ext.
cd "$(dirname "$0")/../.." || exit 1
fail=0
want_version=$(cat VERSION)
want_commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
for flag in --version -V; do
  out=$(./ghost_hybrid $flag); rc=$?
  line=$(printf '%s\n' "$out" | head -1)
  [ "$rc" -eq 0 ] || { echo "FAIL: ghost_hybrid $flag exited $rc"; fail=1; }
  case "$line" in
    "ghost_hybrid $want_version (commit $want_commit"*) ;;
    *) echo "FAIL: ghost_hybrid $flag printed '$line', want version $want_version and commit $want_commit"; fail=1 ;;
  esac
done
help=$(./ghost_hybrid --help); rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: ghost_hybrid --help exited $rc"; fail=1; }
width=$(printf '%s\n' "$help" | awk '{ if (length($0) > m) m = length($0) } END { print m }')
[ "$width" -le 80 ] || { echo "FAIL: --help is $width columns wide, want <= 80"; fail=1; }
for section in FLAGS EXAMPLES ENVIRONMENT "EXIT STATUS"; do
  printf '%s\n' "$help" | grep -qx "$section" || { echo "FAIL: --help has no $section section"; fail=1; }
done
[ "$fail" -eq 0 ] && echo ok
exit "$fail"
