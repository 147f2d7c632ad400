#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# build-peers.sh: builds the kernel's own sched_ext example schedulers
# (scx_simple, scx_central, scx_userland) that make bench compares
# ghost_hybrid with, from the guest kernel's Debian source package.
#
#   scripts/build-peers.sh [OUTDIR]     (default build/bench/peers)
#
# The package (pinned in bench/peers/peers.env) is fetched once, checked
# against its SHA-256 and never installed (scripts/fetch-deb.sh); only
# tools/sched_ext of the source tarball inside it is unpacked, into the
# cache. The build uses the project's toolchain (CLANG, BPFTOOL, LIBBPF,
# VMLINUX_H from the environment; make bench-peers passes its own) the way
# tools/sched_ext/Makefile does. Also copies the guest kernel's config next
# to the binaries: libbpf reads it for the schedulers' CONFIG_ externs, and
# the guest has neither /proc/config.gz nor /boot/config-<release>.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../kernel-patches/guest-kernel.env
. "$here/kernel-patches/guest-kernel.env"
# shellcheck source=../bench/peers/peers.env
. "$here/bench/peers/peers.env"
cache=${GHOST_HYBRID_CACHE:-/var/cache/ghost_hybrid}
peers=(scx_simple scx_central scx_userland)

say() { printf 'build-peers: %s\n' "$*" >&2; }
die() { printf 'build-peers: error: %s\n' "$*" >&2; exit 1; }

out=${1:-$here/build/bench/peers}
CLANG=${CLANG:-clang-19}
BPFTOOL=${BPFTOOL:-$cache/bpftool/usr/sbin/bpftool}
LIBBPF=${LIBBPF:-$cache/libbpf-$LIBBPF_VERSION}
VMLINUX_H=${VMLINUX_H:-$here/skel/vmlinux.h}
command -v "$CLANG" >/dev/null || die "$CLANG not found: run 'sudo scripts/setup.sh'."
[ -x "$BPFTOOL" ] && [ -f "$LIBBPF/lib/libbpf.a" ] \
  || die "$BPFTOOL or $LIBBPF/lib/libbpf.a missing: run 'sudo scripts/setup.sh'."
[ -f "$VMLINUX_H" ] || die "$VMLINUX_H missing: run 'make skel/vmlinux.h' (or make bench-peers)."

# --- 1. tools/sched_ext from the source package, once --------------------
src=$cache/peers/$PEERS_SRC_PKG-$PEERS_SRC_PKG_VERSION
if [ ! -f "$src/.complete" ]; then
  mkdir -p "$cache/peers" 2>/dev/null && [ -w "$cache/peers" ] \
    || die "cannot write $cache/peers: run as root (sudo make bench-peers)."
  EXTRA_SUITES=$PEERS_SRC_SUITE
  # shellcheck source=fetch-deb.sh
  . "$here/scripts/fetch-deb.sh"
  fetch_deb "$PEERS_SRC_PKG" "$PEERS_SRC_PKG_VERSION" "$PEERS_SRC_PKG_SHA256" "$PEERS_SRC_PKG_ARCH"
  say "unpacking tools/sched_ext from $(basename "$deb")"
  tmp=$(mktemp -d "$cache/peers/.unpack.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$PEERS_SRC_PKG.tar.xz" \
    | tar -xJ -C "$tmp" --strip-components=1 --wildcards '*/tools/sched_ext/*' \
    || die "cannot unpack tools/sched_ext from $deb: delete it and rerun."
  [ -f "$tmp/tools/sched_ext/scx_simple.bpf.c" ] \
    || die "$deb has no tools/sched_ext/scx_simple.bpf.c: pin a linux-source package with sched_ext in bench/peers/peers.env."
  touch "$tmp/.complete"
  rm -rf "$src" && mv "$tmp" "$src"
fi
scx=$src/tools/sched_ext
say "source: $scx ($PEERS_SRC_PKG $PEERS_SRC_PKG_VERSION)"

# --- 2. build -------------------------------------------------------------
obj=$out/obj
mkdir -p "$obj"
cp "$VMLINUX_H" "$obj/vmlinux.h"
# clang's own system include directories, which -target bpf does not search
# (as tools/sched_ext/Makefile and libbpf-bootstrap do).
mapfile -t sysinc < <("$CLANG" -v -E - </dev/null 2>&1 \
  | sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter\n\1|p }')
bpf_cflags=(-g -O2 -target bpf -mcpu=v3 -mlittle-endian -D__TARGET_ARCH_x86
            -I"$scx/include" -I"$scx/include/bpf-compat" -I"$obj" -I"$LIBBPF/include"
            "${sysinc[@]}" -Wall -Wno-compare-distinct-pointer-types
            -Wno-microsoft-anon-tag -fms-extensions)
for s in "${peers[@]}"; do
  say "building $out/$s"
  "$CLANG" "${bpf_cflags[@]}" -c "$scx/$s.bpf.c" -o "$obj/$s.bpf.o" \
    || die "compiling $s.bpf.c failed: is $VMLINUX_H from the guest kernel ($GUEST_KERNEL_RELEASE)?"
  "$BPFTOOL" gen object "$obj/$s.bpf.linked.o" "$obj/$s.bpf.o" \
    && "$BPFTOOL" gen skeleton "$obj/$s.bpf.linked.o" name "$s" > "$obj/$s.bpf.skel.h" \
    || die "bpftool could not make the skeleton of $s (need bpftool >= 7.5: sudo scripts/setup.sh)."
  ${CC:-cc} -g -O2 -pthread -Wall -I"$obj" -I"$scx/include" -I"$LIBBPF/include" \
    "$scx/$s.c" "$LIBBPF/lib/libbpf.a" -lelf -lz -lzstd -lpthread -o "$out/$s.tmp" \
    || die "linking the $s loader failed (need libelf-dev, zlib1g-dev, libzstd-dev: sudo scripts/setup.sh)."
  mv "$out/$s.tmp" "$out/$s"
done

# --- 3. the guest kernel's config, for libbpf's CONFIG_ externs -----------
# The peers read CONFIG_PREEMPT_RCU, CONFIG_LOCALVERSION and
# CONFIG_CC_VERSION_TEXT (weak: libbpf only needs a config file to exist).
# 6.19's config package has left the archive: its stand-in holds the one
# value that matters, read from its BTF (task_struct has
# rcu_read_lock_nesting only with CONFIG_PREEMPT_RCU).
for rel in "$GUEST_KERNEL_RELEASE" "$OLDEST_KERNEL_RELEASE"; do
  kconfig=$cache/kernel/$rel/config
  if [ -f "$kconfig" ]; then
    cp "$kconfig" "$out/config-$rel"
  elif [ -f "$cache/kernel/$rel/vmlinux" ]; then
    {
      echo "# stand-in written by scripts/build-peers.sh: $rel's package has no config"
      if "$here/scripts/btf-has.sh" "$cache/kernel/$rel/vmlinux" task_struct.rcu_read_lock_nesting
      then echo "CONFIG_PREEMPT_RCU=y"; fi
    } > "$out/config-$rel"
  fi
done
say "done: ${peers[*]} in $out"
