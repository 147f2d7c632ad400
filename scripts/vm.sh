#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs one command inside a QEMU guest that boots the pinned sched_ext kernel
# (kernel-patches/guest-kernel.env), the way virtme-ng does: the guest sees
# the host's root filesystem read-only over virtiofs and chroots into it, so
# host-built binaries and host-installed tools run unchanged; the repository
# is shared writable at its own absolute path.
#
#   scripts/vm.sh [--kernel VERSION] [--cpus N] [--mem SIZE] [--timeout SECONDS] -- COMMAND...
#
# --kernel picks one of the pinned kernels by release or version prefix
# (7.3, 6.19, 6.19.14+deb13-amd64); the default is the newest,
# GUEST_KERNEL_RELEASE.
#
# COMMAND runs as root in the current directory with /proc, /sys, /dev,
# bpffs (/sys/fs/bpf), tracefs, cgroup2 and /sys/kernel/sched_ext; /tmp and
# /run are guest tmpfs. Its output streams to ours; vm.sh exits with its
# status, 124 on timeout, 125 when the guest fails to boot or to report.
# QEMU runs under TCG: KVM fails on these machines (see ../shared/FACTS.md),
# so it is only used with GHOST_HYBRID_VM_KVM=1.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../kernel-patches/guest-kernel.env
. "$here/kernel-patches/guest-kernel.env"
cache=${GHOST_HYBRID_CACHE:-/var/cache/ghost_hybrid}

usage() {
  echo "usage: scripts/vm.sh [--kernel VERSION] [--cpus N] [--mem SIZE] [--timeout SECONDS] -- COMMAND..." >&2
  exit 2
}
die() { printf 'vm.sh: %s\n' "$1" >&2; exit "${2:-125}"; }

cpus=2 mem=2G timeout_s=600 want=$GUEST_KERNEL_RELEASE
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) want=${2:-}; shift 2 || usage ;;
    --cpus) cpus=${2:-}; shift 2 || usage ;;
    --mem) mem=${2:-}; shift 2 || usage ;;
    --timeout) timeout_s=${2:-}; shift 2 || usage ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
[ $# -gt 0 ] || usage
[[ $cpus =~ ^[0-9]+$ ]] && [ "$cpus" -ge 1 ] && [ "$cpus" -le 64 ] \
  || die "--cpus must be a number from 1 to 64, not '$cpus'." 2
[[ $mem =~ ^[0-9]+[MG]$ ]] || die "--mem must look like 512M or 2G, not '$mem'." 2
[[ $timeout_s =~ ^[0-9]+$ ]] && [ "$timeout_s" -ge 1 ] \
  || die "--timeout must be a positive number of seconds, not '$timeout_s'." 2
release=
for r in "$GUEST_KERNEL_RELEASE" "$OLDEST_KERNEL_RELEASE"; do
  case $r in "$want"|"$want".*|"$want"+*) release=$r; break ;; esac
done
[ -n "$release" ] || die "--kernel '$want' is not a pinned kernel: use $GUEST_KERNEL_RELEASE or $OLDEST_KERNEL_RELEASE (or a prefix such as $(echo "$OLDEST_KERNEL_RELEASE" | cut -d. -f1-2))." 2
kernel=$cache/kernel/$release/vmlinux
[ "$(id -u)" -eq 0 ] || die "must run as root (virtiofsd needs it): try sudo." 2
[ -f "$kernel" ] || die "guest kernel $kernel missing: run 'sudo scripts/setup.sh'." 2
busybox=$(command -v busybox) || die "busybox missing: run 'sudo scripts/setup.sh'." 2
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' \
  || [ -x /bin/busybox ] || die "need a static busybox (busybox-static): run 'sudo scripts/setup.sh'." 2
virtiofsd=/usr/lib/qemu/virtiofsd
[ -x "$virtiofsd" ] || die "$virtiofsd missing: run 'sudo scripts/setup.sh'." 2

run=$(mktemp -d /tmp/ghost_vm.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- initramfs: busybox, an init script, and the command ------------------
mkdir -p "$run/initrd/bin" "$run/initrd/proc" "$run/initrd/sys" "$run/initrd/dev" "$run/initrd/host"
cp "$busybox" "$run/initrd/bin/busybox"
{
  printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
  printf 'exec'; printf ' %q' "$@"; printf '\n'
} > "$run/initrd/cmd.sh"
cat > "$run/initrd/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
stty -onlcr -F /dev/console 2>/dev/null
h=/host
mount -t virtiofs hostroot \$h -o ro || { echo "vm.sh: guest cannot mount the host root"; reboot -f; }
mount -t proc proc \$h/proc
mount -t sysfs sys \$h/sys
mount -t devtmpfs dev \$h/dev
mkdir -p \$h/dev/pts \$h/dev/shm
mount -t devpts devpts \$h/dev/pts
mount -t tmpfs tmpfs \$h/dev/shm
for d in /tmp /run /var/tmp /root; do mount -t tmpfs tmpfs \$h\$d; done
# The repository last, so that it shows even when it lives under /tmp.
mkdir -p \$h$here 2>/dev/null
mount -t virtiofs repo \$h$here || { echo "vm.sh: guest cannot mount $here"; reboot -f; }
mount -t bpf bpf \$h/sys/fs/bpf
mount -t tracefs tracefs \$h/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs \$h/sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 \$h/sys/fs/cgroup
ip link set lo up 2>/dev/null
hostname ghost-guest
cp /cmd.sh \$h/tmp/.vm-cmd.sh
chroot \$h /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root TERM=dumb LANG=C.UTF-8 GHOST_HYBRID_IN_GUEST=1 GHOST_HYBRID_CACHE=$cache \
  /bin/sh /tmp/.vm-cmd.sh </dev/console
echo "@@GHOST_VM_EXIT=\$?@@"
sync
reboot -f
EOF
chmod +x "$run/initrd/init"
(cd "$run/initrd" && find . | cpio -o -H newc --quiet) > "$run/initrd.cpio"

# --- virtiofs daemons -----------------------------------------------------
start_virtiofsd() {  # TAG DIR
  "$virtiofsd" --socket-path="$run/$1.sock" -o source="$2" -o cache=always -o sandbox=chroot \
    >"$run/$1.log" 2>&1 &
  pids+=($!)
}
start_virtiofsd hostroot /
start_virtiofsd repo "$here"
for _ in $(seq 100); do
  [ -S "$run/hostroot.sock" ] && [ -S "$run/repo.sock" ] && break
  sleep 0.05
done
[ -S "$run/hostroot.sock" ] && [ -S "$run/repo.sock" ] || die "virtiofsd did not start."

# Single-threaded TCG by default: with multi-threaded TCG (QEMU 7.2) the
# guest kernel was seen to die on a stale int3 left by live code patching
# (text_poke_bp of static keys, which sched_ext flips on every load/unload).
# GHOST_HYBRID_VM_TCG=multi trades that risk for speed.
accel="-accel tcg,thread=${GHOST_HYBRID_VM_TCG:-single}"
# GHOST_HYBRID_VM_ICOUNT=SHIFT: guest time counts executed instructions
# (2^SHIFT ns each) instead of host time, so that host load does not
# stretch what the guest measures (the latency benchmark uses it). Idle
# time still passes in host time (sleep=on).
if [ -n "${GHOST_HYBRID_VM_ICOUNT:-}" ]; then
  [[ $GHOST_HYBRID_VM_ICOUNT =~ ^[0-9]$ ]] || die "GHOST_HYBRID_VM_ICOUNT must be a shift from 0 to 9." 2
  accel="-accel tcg,thread=single -icount shift=$GHOST_HYBRID_VM_ICOUNT,sleep=on"
fi
[ "${GHOST_HYBRID_VM_KVM:-0}" = 1 ] && accel="-accel kvm"

# --- boot -----------------------------------------------------------------
qemu-system-x86_64 $accel -cpu max -smp "$cpus" -m "$mem" \
  -object memory-backend-memfd,id=mem,size="$mem",share=on -numa node,memdev=mem \
  -chardev socket,id=c0,path="$run/hostroot.sock" -device vhost-user-fs-pci,chardev=c0,tag=hostroot \
  -chardev socket,id=c1,path="$run/repo.sock" -device vhost-user-fs-pci,chardev=c1,tag=repo \
  -kernel "$kernel" -initrd "$run/initrd.cpio" \
  -append "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init mitigations=off" \
  -display none -serial stdio -monitor none -no-reboot </dev/null \
  > >(awk -v f="$run/rc" '
        /@@GHOST_VM_EXIT=[0-9]+@@/ { match($0, /[0-9]+/); print substr($0, RSTART, RLENGTH) > f; close(f); done = 1; next }
        !done { sub(/\r$/, ""); print; fflush() }') 2>"$run/qemu.err" &
qemu=$!
pids+=($qemu)

# Wait for QEMU with a deadline.
deadline=$((SECONDS + timeout_s))
while kill -0 "$qemu" 2>/dev/null; do
  if [ $SECONDS -ge $deadline ]; then
    kill "$qemu" 2>/dev/null || true
    die "timed out after ${timeout_s} s; the guest was killed." 124
  fi
  sleep 0.2
done
wait "$qemu" || true
sleep 0.1  # let the output filter flush
if [ -s "$run/rc" ]; then
  exit "$(cat "$run/rc")"
fi
cat "$run/qemu.err" >&2
die "the guest ended without reporting the command's exit status (boot failure?)."
