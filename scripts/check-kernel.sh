#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tells whether the running kernel can run ghost_hybrid and, if not, which
# option or kfunc is missing. Exit 0 if it qualifies, 1 if not.
#
# The oldest kernel ghost_hybrid supports is the oldest one make test boots,
# OLDEST_KERNEL_RELEASE in kernel-patches/guest-kernel.env (6.19.14). Why
# not older: the BPF scheduler calls sched_ext kfuncs that older kernels do
# not have, scx_bpf_cpu_curr() and scx_bpf_locked_rq() (it reads which class
# runs on a CPU with them; they replaced scx_bpf_cpu_rq(), which 7.3 no
# longer has), and scx_bpf_dsq_move() from SYSCALL programs for latched
# commits. Features newer than 6.19 are optional (see `ghost_hybrid -V`).
# With a built BPF object, every kfunc it calls unconditionally is checked
# against this kernel's BTF.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../kernel-patches/guest-kernel.env
. "$here/kernel-patches/guest-kernel.env"
# Called only behind bpf_ksym_exists() (enum gh_kernel_feature).
optional_kfuncs="scx_bpf_dsq_reenq"
rel=$(uname -r)
config=
for f in /proc/config.gz "/boot/config-$rel" "/lib/modules/$rel/config" "/usr/lib/modules/$rel/config"; do
  [ -r "$f" ] && { config=$f; break; }
done
cfg() {  # print the value of CONFIG_$1 (y, m, or empty)
  [ -n "$config" ] || return 0
  if [ "${config%.gz}" != "$config" ]; then zcat "$config"; else cat "$config"; fi |
    sed -n "s/^CONFIG_$1=\(.*\)/\1/p"
}
missing=()
if [ ! -d /sys/kernel/sched_ext ]; then
  missing+=("CONFIG_SCHED_CLASS_EXT=y (/sys/kernel/sched_ext is absent)")
fi
[ -e /sys/kernel/btf/vmlinux ] || missing+=("CONFIG_DEBUG_INFO_BTF=y (/sys/kernel/btf/vmlinux is absent)")
if [ -n "$config" ]; then
  for opt in BPF BPF_SYSCALL BPF_JIT; do
    [ "$(cfg $opt)" = y ] || missing+=("CONFIG_$opt=y")
  done
fi
obj=$here/build/bpf/ghost_hybrid.bpf.o
bpftool=$(command -v bpftool || echo /var/cache/ghost_hybrid/bpftool/usr/sbin/bpftool)
if [ ${#missing[@]} -eq 0 ] && [ -f "$obj" ] && [ -x "$bpftool" ]; then
  have=$("$bpftool" btf dump file /sys/kernel/btf/vmlinux format raw 2>/dev/null | sed -n "s/^\[[0-9]*\] FUNC '\([^']*\)'.*/\1/p")
  for k in $("$bpftool" btf dump file "$obj" format raw | sed -n "s/^\[[0-9]*\] FUNC '\(scx_bpf_[^']*\)'.*linkage=extern.*/\1/p"); do
    case " $optional_kfuncs " in *" $k "*) continue ;; esac
    echo "$have" | grep -qx "$k" || missing+=("the sched_ext kfunc $k (a kernel at least as new as $OLDEST_KERNEL_RELEASE)")
  done
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "kernel $rel qualifies: sched_ext is available (state: $(cat /sys/kernel/sched_ext/state))."
  echo "the oldest supported kernel is $OLDEST_KERNEL_RELEASE (see the top of $0)."
  exit 0
fi
echo "kernel $rel does not qualify for ghost_hybrid; missing:"
for m in "${missing[@]}"; do echo "  $m"; done
echo "'make run' and 'make test' will use the QEMU guest instead (scripts/vm.sh);"
echo "to build a qualifying kernel, merge $here/kernel-patches/sched_ext.config into its config."
exit 1
