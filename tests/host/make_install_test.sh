#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests `make install DESTDIR=...`: the binary, a man page that renders
# (man -l), bash completion and the systemd unit (accepted by
# systemd-analyze verify when systemd is installed), the unit pointing at
# the installed binary; `make uninstall` removes them again.
cd "$(dirname "$0")/../.." || exit 1
fail=0
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
check_true() { what=$1; shift; if ! "$@"; then echo "FAIL: $what"; fail=1; fi; }

make --no-print-directory install DESTDIR="$d" PREFIX=/usr/local > "$d.log" 2>&1 ||
  { cat "$d.log"; echo "FAIL: make install"; exit 1; }
check_true "binary installed" [ -x "$d/usr/local/sbin/ghost_hybrid" ]
check_true "installed binary prints its version" sh -c "'$d/usr/local/sbin/ghost_hybrid' --version | grep -q '^ghost_hybrid '"
check_true "man page renders" sh -c "man -l '$d/usr/local/share/man/man8/ghost_hybrid.8' 2>/dev/null | grep -q 'EXIT STATUS'"
check_true "bash completion installed" bash -n "$d/usr/local/share/bash-completion/completions/ghost_hybrid"
unit=$d/usr/local/lib/systemd/system/ghost_hybrid.service
check_true "unit runs the installed binary" grep -q '^ExecStart=/usr/local/sbin/ghost_hybrid ' "$unit"
check_true "flags file installed" grep -q '^GHOST_HYBRID_FLAGS=' "$d/etc/default/ghost_hybrid"
if command -v systemd-analyze >/dev/null; then
  # verify looks the binary up on the real root: point it at the staged one.
  sed "s|^ExecStart=/usr/local/sbin/ghost_hybrid|ExecStart=$d/usr/local/sbin/ghost_hybrid|" "$unit" \
    > "$d/ghost_hybrid.service"
  # --man=no: the man page is in $d, not where man(1) looks.
  if ! systemd-analyze verify --man=no "$d/ghost_hybrid.service" > "$d.verify" 2>&1; then
    cat "$d.verify"; echo "FAIL: systemd-analyze verify accepts the unit"; fail=1
  fi
fi
make --no-print-directory uninstall DESTDIR="$d" PREFIX=/usr/local > "$d.log" 2>&1
check_true "uninstall removes the binary" [ ! -e "$d/usr/local/sbin/ghost_hybrid" ]
check_true "uninstall keeps the administrator's flags" [ -e "$d/etc/default/ghost_hybrid" ]
rm -f "$d.log" "$d.verify"
[ "$fail" -eq 0 ] && echo ok
exit "$fail"
