#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests, on a host whose kernel lacks sched_ext, that ghost_hybrid says so
# in one sentence pointing to the guest, exits 3, and leaves nothing pinned.
cd "$(dirname "$0")/../.." || exit 1
if [ -d /sys/kernel/sched_ext ]; then echo "ok (host has sched_ext: not applicable)"; exit 0; fi
./ghost_hybrid -- true > /tmp/gh_nse.out 2> /tmp/gh_nse.err
rc=$?
fail=0
[ "$rc" = 3 ] || { echo "FAIL: exit status $rc, want 3"; fail=1; }
grep -q "this kernel has no sched_ext" /tmp/gh_nse.err || { echo "FAIL: message: $(cat /tmp/gh_nse.err)"; fail=1; }
[ "$(wc -l < /tmp/gh_nse.err)" = 1 ] || { echo "FAIL: more than one line"; fail=1; }
[ ! -e /sys/fs/bpf/ghost_hybrid ] || { echo "FAIL: something pinned"; fail=1; }
rm -f /tmp/gh_nse.out /tmp/gh_nse.err
[ $fail = 0 ] && echo ok
exit $fail
