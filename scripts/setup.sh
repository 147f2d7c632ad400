#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs and fetches everything ghost_hybrid needs to build and to run its
# guest tests. Idempotent, non-interactive, safe to rerun; needs root.
#
#   1. bookworm packages (compilers, libraries, QEMU, test tools) via apt;
#   2. into the cache (outside git, $GHOST_HYBRID_CACHE, default
#      /var/cache/ghost_hybrid), WITHOUT installing anything from another
#      suite: bpftool 7.5 (bookworm-backports), libbpf 1.5 built static from
#      Debian's trixie source, and the pinned sched_ext guest kernel
#      (trixie-backports), each checked against its pinned SHA-256.
#
# Packages of other suites are only downloaded through a private apt list
# directory and unpacked with dpkg-deb -x into the cache: the system's apt
# sources and installed packages never see them.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../kernel-patches/guest-kernel.env
. "$here/kernel-patches/guest-kernel.env"
cache=${GHOST_HYBRID_CACHE:-/var/cache/ghost_hybrid}

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (try: sudo $0)."
command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian 12 (bookworm) only."

# --- 1. bookworm packages -------------------------------------------------
debs=(make g++ pkg-config clang-19 llvm-19 libelf-dev zlib1g-dev libzstd-dev
      libcap2 libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
      nlohmann-json3-dev qemu-system-x86 busybox-static cpio zstd rt-tests
      python3 python3-matplotlib ca-certificates sudo help2man man-db)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing bookworm packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed: check network access to deb.debian.org."
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install of ${missing[*]} failed."
else
  say "bookworm packages: all present"
fi
[ -x /usr/lib/qemu/virtiofsd ] || die "/usr/lib/qemu/virtiofsd missing: qemu-system-x86 (bookworm, 7.2) should provide it."

# --- 2. private apt view of other suites (download only) ------------------
# private_apt and fetch_deb (also used by scripts/build-peers.sh).
# shellcheck source=fetch-deb.sh
. "$here/scripts/fetch-deb.sh"

# --- 3. bpftool -----------------------------------------------------------
bpftool=$cache/bpftool/usr/sbin/bpftool
if [ ! -x "$bpftool" ]; then
  fetch_deb bpftool "$BPFTOOL_PKG_VERSION" "$BPFTOOL_PKG_SHA256"
  rm -rf "$cache/bpftool"; dpkg-deb -x "$deb" "$cache/bpftool"
fi
"$bpftool" version >/dev/null 2>&1 || die "$bpftool does not run (missing libcap2 or libelf1?)."
say "bpftool: $("$bpftool" version | head -1)"
# On PATH, so that the README's `sudo bpftool ...` lines work as written
# (bookworm's own bpftool is 7.1, too old for these maps' BTF): a link in
# /usr/local/sbin, unless another bpftool is there already.
if [ ! -e /usr/local/sbin/bpftool ] || [ -L /usr/local/sbin/bpftool ]; then
  ln -sf "$bpftool" /usr/local/sbin/bpftool
fi
command -v bpftool >/dev/null || say "warning: /usr/local/sbin is not on PATH: bpftool is $bpftool"


# --- 4. libbpf (static, headers) ------------------------------------------
libbpf=$cache/libbpf-$LIBBPF_VERSION
if [ ! -f "$libbpf/lib/libbpf.a" ]; then
  tarball=$apt_dir/dl/libbpf_$LIBBPF_VERSION.orig.tar.gz
  if [ ! -f "$tarball" ] || ! echo "$LIBBPF_ORIG_SHA256  $tarball" | sha256sum -c --status; then
    private_apt
    (cd "$apt_dir/dl" && apt-get "${apt_opts[@]}" source --download-only "libbpf=$(
        apt-cache "${apt_opts[@]}" showsrc libbpf | awk -v v="$LIBBPF_VERSION" \
          '$1=="Version:" && index($2, v"-")==1 {print $2; exit}')") \
      || die "cannot download libbpf $LIBBPF_VERSION source from $LIBBPF_SRC_SUITE."
  fi
  echo "$LIBBPF_ORIG_SHA256  $tarball" | sha256sum -c --status \
    || die "SHA-256 mismatch for $tarball: refusing to build it."
  say "building libbpf $LIBBPF_VERSION (static)"
  src=$(mktemp -d); tar -xzf "$tarball" -C "$src" --strip-components=1
  make -s -C "$src/src" BUILD_STATIC_ONLY=1 OBJDIR="$src/obj" DESTDIR="$libbpf" \
       PREFIX= LIBDIR=/lib INCLUDEDIR=/include install >/dev/null \
    || die "building libbpf $LIBBPF_VERSION failed (need libelf-dev, zlib1g-dev)."
  rm -rf "$src"
fi
say "libbpf: $libbpf/lib/libbpf.a"

# --- 5. guest kernels -----------------------------------------------------
# install_kernel RELEASE PKG VERSION SHA256 [BASE_PKG BASE_SHA256]: unpacks
# the package's vmlinuz (under /usr/lib/modules/RELEASE/ in 7.x packages,
# /boot/ in 6.19's) into $cache/kernel/RELEASE and decompresses the vmlinux
# QEMU boots (PVH). sched_ext is checked in the kernel's own BTF, which
# every kernel has, not in its config, which not every package ships.
install_kernel() {
  local rel=$1 pkg=$2 ver=$3 sum=$4 base=${5:-} base_sum=${6:-}
  local kdir=$cache/kernel/$rel x z off len
  [ -f "$kdir/vmlinux" ] && return
  fetch_deb "$pkg" "$ver" "$sum"
  x=$(mktemp -d); dpkg-deb -x "$deb" "$x"
  if [ -n "$base" ]; then fetch_deb "$base" "$ver" "$base_sum"; dpkg-deb -x "$deb" "$x"; fi
  z=$x/usr/lib/modules/$rel/vmlinuz
  [ -f "$z" ] || z=$x/boot/vmlinuz-$rel
  [ -f "$z" ] || die "$pkg holds no vmlinuz for $rel."
  mkdir -p "$kdir"
  cp "$z" "$kdir/vmlinuz"
  for f in config System.map; do
    [ -f "$x/usr/lib/modules/$rel/$f" ] && cp "$x/usr/lib/modules/$rel/$f" "$kdir/"
  done
  # The bzImage carries a zstd payload; its offset and length are in the
  # x86 boot header (setup_sects at 0x1f1, payload_offset/length at 0x248).
  # The last 4 bytes of the payload are the decompressed size, not zstd.
  read -r off len < <(python3 - "$z" <<'EOF2'
import struct, sys
d = open(sys.argv[1], 'rb').read(0x250)
sects = d[0x1f1] or 4
po, pl = struct.unpack_from('<II', d, 0x248)
print((sects + 1) * 512 + po, pl - 4)
EOF2
)
  dd if="$z" iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none \
    | zstd -dqf -o "$kdir/vmlinux.tmp" \
    || die "cannot decompress the zstd payload of $rel's vmlinuz."
  # (grep reads it all: with -q, bpftool's SIGPIPE would fail the pipe.)
  "$bpftool" btf dump file "$kdir/vmlinux.tmp" format raw 2>/dev/null \
    | grep "STRUCT 'sched_ext_ops'" >/dev/null \
    || { rm -f "$kdir/vmlinux.tmp"; die "$pkg has no sched_ext (no sched_ext_ops in its BTF)."; }
  mv "$kdir/vmlinux.tmp" "$kdir/vmlinux"
  rm -rf "$x"
}
install_kernel "$GUEST_KERNEL_RELEASE" "$GUEST_KERNEL_PKG" "$GUEST_KERNEL_PKG_VERSION" \
  "$GUEST_KERNEL_PKG_SHA256" "$GUEST_BASE_PKG" "$GUEST_BASE_PKG_SHA256"
say "guest kernel: $cache/kernel/$GUEST_KERNEL_RELEASE/vmlinux ($GUEST_KERNEL_PKG $GUEST_KERNEL_PKG_VERSION)"
install_kernel "$OLDEST_KERNEL_RELEASE" "$OLDEST_KERNEL_PKG" "$OLDEST_KERNEL_PKG_VERSION" \
  "$OLDEST_KERNEL_PKG_SHA256"
say "oldest guest kernel: $cache/kernel/$OLDEST_KERNEL_RELEASE/vmlinux ($OLDEST_KERNEL_PKG $OLDEST_KERNEL_PKG_VERSION)"
say "done"
