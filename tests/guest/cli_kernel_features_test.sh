#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The optional sched_ext features ghost_hybrid reports (enum
# gh_kernel_feature) are the ones this kernel really has: the loaded
# scheduler's own finding (-v) and the loader's BTF probe (--version) each
# match what bpftool reads from the kernel's BTF. Runs on every guest kernel
# (make test boots two), so each kernel's answer is checked.
. "$(dirname "$0")/lib.sh"
has() { scripts/btf-has.sh /sys/kernel/btf/vmlinux "$1"; }
if has scx_bpf_dsq_reenq; then want="+dsq_reenq"; else want="-dsq_reenq"; fi
if has rq.ext_server; then want="$want +ext_server"; else want="$want -ext_server"; fi
echo "kernel $(uname -r): expecting $want"

$GH -v --stats-interval=0 -- true 2>"$out/err"
check $? 0 "ghost_hybrid -v -- true exits 0 ($(cat "$out/err"))"
got=$(sed -n 's/^ghost_hybrid: sched_ext features in use: //p' "$out/err")
check "$got" "$want" "features the loaded scheduler found"
# Each missing feature is named with what it costs.
for f in $(echo "$want" | tr ' ' '\n' | sed -n 's/^-//p'); do
  check_true "-v says what the missing $f costs" grep -q "^ghost_hybrid: without $f (" "$out/err"
done
got=$($GH --version | sed -n "s/^this kernel's sched_ext features: //p")
check "$got" "$want" "features --version probes"
check_no_ejections
finish
