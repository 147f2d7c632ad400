#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tells whether the running kernel can run ghost_hybrid and, if not, which
# option is missing. Exit 0 if it qualifies, 1 if not.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
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
if [ ${#missing[@]} -eq 0 ]; then
  echo "kernel $rel qualifies: sched_ext is available (state: $(cat /sys/kernel/sched_ext/state))."
  exit 0
fi
echo "kernel $rel does not qualify for ghost_hybrid; missing:"
for m in "${missing[@]}"; do echo "  $m"; done
echo "'make run' and 'make test' will use the QEMU guest instead (scripts/vm.sh);"
echo "to build a qualifying kernel, merge $here/kernel-patches/sched_ext.config into its config."
exit 1
