#!/bin/bash
# compare-latency.sh: runs each latency/throughput workload under three
# configurations, interleaved in rounds so that drift hits all three alike:
#
#   default   the kernel's own scheduler (EEVDF), nothing loaded
#   agent     ghost_hybrid, fast path off: every decision is the agent's
#   bpf       ghost_hybrid --bpf-pick: the in-kernel fast path on
#
# Workloads (each a task tree under the configuration):
#   cyclictest  timer wakeup latency (rt-tests), one thread per CPU
#   wakebench   wake-to-run latency of futex ping-pong pairs (bench/latency)
#   hackbench   pipe messaging throughput (rt-tests): completion time
#   compress    parallel gzip of a generated file: completion time
#
# Needs root and a kernel with sched_ext: in the guest (make bench) or
# natively. Writes raw results under --out; scripts/latency-report.py turns
# them into bench/results/latency.{json,md,png}.
#
# usage: compare-latency.sh [--cpus=LIST] [--duration=SECONDS] [--rounds=N]
#                           [--workloads=a,b,..] [--out=DIR]
set -u
cd "$(dirname "$0")/.." || exit 1

die() { echo "compare-latency.sh: $*" >&2; exit 2; }
cpus=""
duration=10
rounds=3
workloads="cyclictest,wakebench,hackbench,compress"
out=build/bench/latency
for arg in "$@"; do
  case $arg in
    --cpus=*) cpus=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    --workloads=*) workloads=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (see --help)." ;;
  esac
done
[[ $duration =~ ^[0-9]+$ && $duration -ge 1 ]] || die "--duration must be a whole number of seconds >= 1."
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 ]] || die "--rounds must be a number >= 1."
[ "$(id -u)" -eq 0 ] || die "must run as root (ghost_hybrid loads a BPF scheduler)."
[ -e /sys/kernel/sched_ext/state ] || die "this kernel has no sched_ext: run 'make bench' (it uses the guest)."
for tool in cyclictest hackbench taskset gzip; do
  command -v $tool >/dev/null || die "$tool not found: run 'sudo scripts/setup.sh'."
done
GH=$PWD/ghost_hybrid
WAKEBENCH=$PWD/build/bench/wakebench
CYCLICTEST_SHIM=$PWD/build/bench/cyclictest_shim.so
[ -x "$GH" ] && [ -x "$WAKEBENCH" ] && [ -e "$CYCLICTEST_SHIM" ] ||
  die "build first: make ghost_hybrid build/bench/wakebench build/bench/cyclictest_shim.so."
[ -z "$cpus" ] && cpus=0-$(($(nproc --all) - 1))
taskset -c "$cpus" true 2>/dev/null || die "--cpus=$cpus is not a CPU list of this machine."
ncpu=$(taskset -c "$cpus" nproc)

mkdir -p "$out"
rm -rf "${out:?}"/raw && mkdir -p "$out/raw"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
# compress's input: 4 MB of text that gzip has to work at.
seq 1 150000 | awk '{print $1, $1 * 7919 % 104729, "ghost_hybrid"}' > "$data/input"

{
  echo "cpus=$cpus"
  echo "ncpu=$ncpu"
  echo "nproc=$(nproc --all)"
  echo "kernel=$(uname -r)"
  echo "duration_s=$duration"
  echo "rounds=$rounds"
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > "$out/raw/meta"

# pid_of NAME: the pid of a running process called NAME (first found).
# Bash builtins only: no exec per process while the workload runs.
pid_of() {
  local p comm
  for p in /proc/[0-9]*; do
    { read -r comm < "$p/comm"; } 2>/dev/null || continue
    [ "$comm" = "$1" ] && { echo "${p#/proc/}"; return; }
  done
}

# signal_all SIGNAL NAME...: sends SIGNAL to every process called NAME.
signal_all() {
  local sig=$1 p comm name; shift
  for p in /proc/[0-9]*; do
    { read -r comm < "$p/comm"; } 2>/dev/null || continue
    for name in "$@"; do
      [ "$comm" = "$name" ] && kill -"$sig" "${p#/proc/}" 2>/dev/null
    done
  done
}

# run_under CONFIG CMD...: runs CMD as a task tree under CONFIG.
run_under() {
  local config=$1; shift
  case $config in
    default) taskset -c "$cpus" "$@" ;;
    agent) "$GH" --cpus="$cpus" --stats-interval=0 -- "$@" 2>>"$out/raw/ghost_hybrid.log" ;;
    bpf) "$GH" --cpus="$cpus" --bpf-pick --stats-interval=0 -- "$@" 2>>"$out/raw/ghost_hybrid.log" ;;
  esac
}

# cyclictest runs with bench/latency/cyclictest_shim.c preloaded in every
# configuration: it keeps SCHED_EXT threads SCHED_EXT (cyclictest resets
# each thread to SCHED_OTHER) and its threads unpinned (it pins one per
# CPU, and the centralized agent's CPU runs no workload). Each run checks
# its threads' policy, and keeps the non-empty bins of the histogram.
run_cyclictest() {
  local config=$1 res=$2 pid policies want=7
  [ "$config" = default ] && want=0
  run_under "$config" env LD_PRELOAD="$CYCLICTEST_SHIM" cyclictest -m -q -t "$ncpu" -i 1000 \
    -D "${duration}s" -h 20000 --histfile="$data/cyc.hist" >/dev/null &
  pid=$!
  local cpid="" i seen
  # Sample the policies once its measuring threads exist, again while they
  # differ from the expected one, until it ends (a short run may end soon
  # after its threads start: the last sample taken counts).
  for i in $(seq 100); do
    cpid=$(pid_of cyclictest)
    if [ -n "$cpid" ]; then
      local tasks=(/proc/"$cpid"/task/*)
      if [ "${#tasks[@]}" -gt "$ncpu" ]; then
        seen=$(awk '/^policy/ {p[$3] = 1} END {for (k in p) printf "%s ", k}' \
               /proc/"$cpid"/task/*/sched 2>/dev/null)
        [ -n "$seen" ] && policies=$seen
        [ "$policies" = "$want " ] && break
      fi
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$pid"
  local rc=$?
  if [ "$policies" != "$want " ]; then
    echo "cyclictest threads under $config had policies '$policies', not $want" >&2
    rc=1
  fi
  # Sum the per-thread columns; skip comments and empty bins.
  awk '!/^#/ {n = 0; for (i = 2; i <= NF; i++) n += $i; if (n) print $1 + 0, n}' \
    "$data/cyc.hist" > "$res.hist"
  return $rc
}

run_one() {
  local workload=$1 config=$2 round=$3 res t0 t1
  res=$out/raw/$workload.$config.$round
  case $workload in
    cyclictest) run_cyclictest "$config" "$res" ;;
    wakebench)
      run_under "$config" "$WAKEBENCH" --pairs="$ncpu" --duration="$duration" \
        --work-us=50 --hist="$res.hist" > "$res.summary" ;;
    hackbench|compress)
      t0=$(date +%s%N)
      if [ "$workload" = hackbench ]; then
        run_under "$config" hackbench -p -g "$ncpu" -l $((10 * duration)) > "$res.summary"
      else
        run_under "$config" sh -c "for i in \$(seq $((2 * ncpu))); do gzip -c $data/input > /dev/null & done; wait"
      fi
      local rc=$?
      t1=$(date +%s%N)
      echo "$(( (t1 - t0) / 1000000 ))" > "$res.ms"
      return $rc ;;
    *) die "unknown workload '$workload'." ;;
  esac
}

# guarded_run WORKLOAD CONFIG ROUND: run_one with a deadline. A run that
# hangs leaves a snapshot of its tasks (and of ghost_hybrid's state) in the
# log, then is interrupted, then killed: the benchmark goes on.
guarded_run() {
  local limit=$((4 * duration + 60)) runner watcher rc
  # The throughput jobs' length does not follow --duration.
  case $1 in hackbench|compress) limit=$((limit + 300)) ;; esac
  run_one "$@" &
  runner=$!
  ( sleep "$limit"
    { echo "== $* still running after $limit s:"
      ps -eLo pid,tid,cls,psr,stat,wchan:32,comm
      "$GH" --dump 2>&1 | head -40; } >> "$out/raw/ghost_hybrid.log"
    signal_all INT ghost_hybrid; sleep 10
    signal_all KILL ghost_hybrid cyclictest wakebench hackbench gzip ) &
  watcher=$!
  wait "$runner"
  rc=$?
  kill "$watcher" 2>/dev/null
  wait "$watcher" 2>/dev/null
  return $rc
}

configs=(default agent bpf)
failed=0
for ((r = 0; r < rounds; r++)); do
  for w in ${workloads//,/ }; do
    for ((k = 0; k < 3; k++)); do
      c=${configs[$(( (r + k) % 3 ))]}
      printf 'round %d/%d  %-10s %-7s ' $((r + 1)) "$rounds" "$w" "$c"
      if guarded_run "$w" "$c" "$r"; then
        echo ok
      else
        echo FAILED
        failed=1
      fi
    done
  done
done
[ "$(cat /sys/kernel/sched_ext/state)" = disabled ] || { echo "sched_ext still enabled after the runs" >&2; failed=1; }
exit $failed
