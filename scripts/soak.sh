#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Soak: runs the churn workload (tests/workloads/churn.cc) under ghost_hybrid
# in each mode, one after the other, and writes a summary per mode.
#   scripts/soak.sh SECONDS OUT_JSON
# Runs inside a sched_ext kernel (the guest: scripts/vm.sh), as root.
# Modes: centralized, centralized --bpf-pick, per-CPU, and --bpf-pick with
# the agent stopped (SIGSTOP) and continued at random moments: the fast
# path must keep every CPU running meanwhile. A mode passes when ghost_hybrid
# exits 0 (the churn's own checks passed), the kernel ejected nothing, and
# the agent's failed commits stay a minority of its commits.
# Prints one line per mode; exits non-zero if any mode failed.
[ $# -eq 2 ] && [ "$1" -gt 0 ] 2>/dev/null ||
  { echo "usage: $0 SECONDS OUT_JSON" >&2; exit 2; }
secs=$1 result=$2
cd "$(dirname "$0")/.." || exit 1
GH=./ghost_hybrid
CHURN=build/tests/churn
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

ejections() {
  dmesg | grep 'sched_ext: BPF scheduler .* disabled (' | grep -vc 'unregistered from user space'
}
ctxt() { awk '/^ctxt/ {print $2}' /proc/stat; }
# rand LO HI: a random integer in [LO, HI].
rand() { echo $(( $1 + $(od -An -N2 -tu2 /dev/urandom) % ($2 - $1 + 1) )); }

# Stops and continues ghost_hybrid (pid $1) at random moments while it
# runs: 0.2-1 s stopped (well under the 5 s watchdog), every 1-4 s.
stop_agent_at_random() {
  n=0
  while sleep "$(rand 1 4)" && kill -0 "$1" 2>/dev/null; do
    kill -STOP "$1" 2>/dev/null || break
    sleep "0.$(rand 2 9)"
    kill -CONT "$1"
    n=$((n + 1))
  done
  echo "$n" > "$dir/stops"
}

fail=0
for mode in centralized bpf_pick percpu bpf_pick_agent_stops; do
  case $mode in
    centralized) args=--model=centralized ;;
    bpf_pick|bpf_pick_agent_stops) args=--bpf-pick ;;
    percpu) args=--model=percpu ;;
  esac
  ej0=$(ejections) c0=$(ctxt)
  echo 0 > "$dir/stops"
  $GH $args --stats-interval=0 --stats-json="$dir/$mode.stats.json" -- \
    $CHURN --duration="$secs" --json="$dir/$mode.churn.json" > "$dir/$mode.out" 2> "$dir/$mode.err" &
  gh=$!
  stopper=
  if [ $mode = bpf_pick_agent_stops ]; then
    stop_agent_at_random $gh &
    stopper=$!
  fi
  wait $gh
  rc=$?
  [ -n "$stopper" ] && wait "$stopper"
  c1=$(ctxt) ej1=$(ejections)
  sed 's/^/  /' "$dir/$mode.out"
  [ "$rc" -eq 0 ] || sed 's/^/  stderr: /' "$dir/$mode.err"
  python3 - "$dir" "$mode" "$rc" "$((ej1 - ej0))" "$((c1 - c0))" "$(cat "$dir/stops")" <<'EOF' || fail=1
import json, os, sys
d, mode, rc, ejected, ctxt, stops = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
def load(name):
    p = os.path.join(d, f"{mode}.{name}.json")
    return json.load(open(p)) if os.path.exists(p) else {}
churn, stats = load("churn"), load("stats")
secs = stats.get("seconds") or churn.get("seconds") or 1
k = stats.get("kernel", {})
submitted = k.get("txn_submitted", 0)
failed_share = k.get("txn_failed", 0) / submitted if submitted else 0.0
row = {
    "mode": mode,
    "ok": rc == 0 and ejected == 0 and churn.get("ok", False) and failed_share < 0.5,
    "exit_status": rc,
    "ejections": ejected,
    "seconds": round(secs, 1),
    "tasks_run": stats.get("tasks_new", 0),
    "forks_checked": sum(w["count"] for w in churn.get("workers", []) if w["kind"] == "fork_exec"),
    "context_switches_per_s": round(ctxt / secs),
    "txn_submitted": submitted,
    "failed_commit_share": round(failed_share, 4),
    "bpf_picks": stats.get("bpf_picks", 0),
    "max_cpu_wait_ms": churn.get("max_cpu_wait_ms"),
    "msgs_dropped": k.get("msgs_dropped", 0),
    "agent_stops": stops,
}
print(f"soak {mode}: {'ok' if row['ok'] else 'FAILED'} ({row})")
with open(os.path.join(d, "rows.jsonl"), "a") as f:
    f.write(json.dumps(row) + "\n")
sys.exit(0 if row["ok"] else 1)
EOF
done
python3 - "$dir/rows.jsonl" "$result" "$secs" "$($GH --version | head -1)" <<'EOF'
import json, sys, time
rows = [json.loads(l) for l in open(sys.argv[1])]
out = {"seconds_per_mode": int(sys.argv[3]), "kernel": open("/proc/sys/kernel/osrelease").read().strip(),
       "ghost_hybrid": sys.argv[4], "date": time.strftime("%Y-%m-%d"), "modes": rows}
with open(sys.argv[2], "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
EOF
exit $fail
