#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# btf-has.sh BTF_FILE NAME: exits 0 if the BTF (a vmlinux, or
# /sys/kernel/btf/vmlinux) has NAME: a function (scx_bpf_dsq_reenq) or a
# struct member (rq.ext_server). Reads bpftool's raw dump, where a struct's
# members follow its STRUCT line, one per tab-indented line.
[ $# -eq 2 ] || { echo "usage: $0 BTF_FILE FUNC|STRUCT.MEMBER" >&2; exit 2; }
bpftool=$(command -v bpftool || echo /var/cache/ghost_hybrid/bpftool/usr/sbin/bpftool)
"$bpftool" btf dump file "$1" format raw 2>/dev/null | awk -v name="$2" '
  BEGIN { n = split(name, sm, "."); found = 0 }
  n == 1 && $0 ~ ("^\\[[0-9]+\\] FUNC '\''" name "'\'' ") { found = 1 }
  n == 2 && /^\[/ { in_s = ($0 ~ ("^\\[[0-9]+\\] STRUCT '\''" sm[1] "'\'' ")) ; next }
  n == 2 && in_s && $0 ~ ("^\t'\''" sm[2] "'\'' ") { found = 1 }
  END { exit !found }'
