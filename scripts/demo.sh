#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make run`: ghost_hybrid --bpf-pick scheduling the demo workload, natively
# when this kernel has sched_ext, otherwise in the guest (4 vCPUs).
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=(./ghost_hybrid --bpf-pick --stats-interval=1s -- scripts/demo-workload.sh)
if [ -d /sys/kernel/sched_ext ]; then
  echo "== running natively (this kernel has sched_ext)"
  exec "${cmd[@]}"
fi
echo "== this kernel has no sched_ext: running in the guest (scripts/vm.sh --cpus 4)"
exec scripts/vm.sh --cpus 4 --timeout 300 -- "${cmd[@]}"
