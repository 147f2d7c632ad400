#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# compare-latency.sh: runs each latency/throughput workload under several
# configurations, interleaved in rounds so that drift hits all alike:
#
#   default       the kernel's own scheduler (EEVDF), nothing loaded
#   agent         ghost_hybrid, fast path off: every decision is the agent's
#   bpf           ghost_hybrid --bpf-pick: the in-kernel fast path on
#   scx_simple    the kernel's example sched_ext schedulers (peers, built by
#   scx_central   make bench-peers into build/bench/peers): each switches
#   scx_userland  every task to sched_ext while it is loaded
#
# By default every configuration whose program is built runs; --configs
# picks some.
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
#                           [--workloads=a,b,..] [--configs=a,b,..] [--out=DIR]
set -u
cd "$(dirname "$0")/.." || exit 1

die() { echo "compare-latency.sh: $*" >&2; exit 2; }
cpus=""
duration=10
rounds=3
workloads="cyclictest,wakebench,hackbench,compress"
configs=""
out=build/bench/latency
for arg in "$@"; do
  case $arg in
    --cpus=*) cpus=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    --workloads=*) workloads=${arg#*=} ;;
    --configs=*) configs=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
TIMED=$PWD/bench/latency/timed.sh
PEERS_DIR=$PWD/build/bench/peers
[ -x "$WAKEBENCH" ] && [ -e "$CYCLICTEST_SHIM" ] ||
  die "build first: make build/bench/wakebench build/bench/cyclictest_shim.so."
# The configurations: those asked for, or every one whose program is built.
if [ -z "$configs" ]; then
  configs=default
  [ -x "$GH" ] && configs+=",agent,bpf"
  for p in scx_simple scx_central scx_userland; do
    [ -x "$PEERS_DIR/$p" ] && configs+=",$p"
  done
fi
IFS=, read -r -a configs <<< "$configs"
for c in "${configs[@]}"; do
  case $c in
    default) ;;
    agent|bpf) [ -x "$GH" ] || die "$GH is not built: run 'make ghost_hybrid' (or leave $c out of --configs)." ;;
    scx_simple|scx_central|scx_userland)
      [ -x "$PEERS_DIR/$c" ] || die "$PEERS_DIR/$c is not built: run 'make bench-peers' (or leave $c out of --configs)." ;;
    *) die "unknown configuration '$c' (default, agent, bpf, scx_simple, scx_central, scx_userland)." ;;
  esac
done
[ "$(cat /sys/kernel/sched_ext/state)" = disabled ] ||
  die "a sched_ext scheduler ($(cat /sys/kernel/sched_ext/root/ops 2>/dev/null)) is already loaded: stop it first."
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
  echo "configs=$(IFS=,; echo "${configs[*]}")"
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

# run_gh RES ARGS...: ghost_hybrid ARGS, its stderr (and the workload's) in
# RES.gh.log (the report reads its final summary line), then appended to
# the shared ghost_hybrid.log.
run_gh() {
  local res=$1 rc; shift
  "$GH" "$@" 2>"$res.gh.log"
  rc=$?
  { echo "== ${res##*/}"; cat "$res.gh.log"; } >> "$out/raw/ghost_hybrid.log"
  return $rc
}

sched_state() { cat /sys/kernel/sched_ext/state; }

# run_peer NAME RES CMD...: loads the peer scheduler NAME (its output in
# RES.peer.log), runs CMD once it is attached, and unloads it. Fails if it
# does not attach or detach, or was ejected: its loader then reports an
# exit reason other than "unregistered from user space".
run_peer() {
  local name=$1 res=$2 pid i rc lrc kconfig; shift 2
  local log=$res.peer.log bin=$PEERS_DIR/$name
  # libbpf reads the kernel's config for the CONFIG_ externs (scx_central):
  # where the kernel publishes none (the guest), the loader sees the copy
  # make bench-peers keeps, on a /boot of its own mount namespace.
  kconfig=$PEERS_DIR/config-$(uname -r)
  if [ -e "/boot/config-$(uname -r)" ] || [ -e /proc/config.gz ] || [ ! -e "$kconfig" ]; then
    "$bin" > "$log" 2>&1 &
  else
    unshare -m sh -c 'mount -t tmpfs -o size=4M,mode=755 peer-kconfig /boot &&
      cp "$1" /boot/ && exec "$2"' sh "$kconfig" "$bin" > "$log" 2>&1 &
  fi
  pid=$!
  attached() {
    [ "$(sched_state)" = enabled ] &&
      [ "$(cat /sys/kernel/sched_ext/root/ops 2>/dev/null)" = "${name#scx_}" ]
  }
  for i in $(seq 300); do
    attached && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! attached; then
    echo "$name did not attach within 30 s (its log, $log:)" >&2
    tail -5 "$log" >&2
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    return 1
  fi
  taskset -c "$cpus" "$@"
  rc=$?
  kill -INT "$pid" 2>/dev/null
  wait "$pid"
  lrc=$?
  for i in $(seq 100); do
    [ "$(sched_state)" = disabled ] && break
    sleep 0.1
  done
  if [ "$(sched_state)" != disabled ]; then
    echo "$name: sched_ext still $(sched_state) 10 s after its loader ended" >&2
    rc=1
  fi
  if [ "$lrc" -ne 0 ] || [ "$(grep -c '^EXIT: ' "$log")" -ne 1 ] ||
     ! grep -qx 'EXIT: unregistered from user space' "$log"; then
    echo "$name was ejected or failed (loader status $lrc): $(grep -m1 '^EXIT: ' "$log" || tail -1 "$log")" >&2
    rc=1
  fi
  return $rc
}

# run_under CONFIG RES CMD...: runs CMD as a task tree under CONFIG; RES is
# the run's result prefix (for per-run logs).
run_under() {
  local config=$1 res=$2; shift 2
  case $config in
    default) taskset -c "$cpus" "$@" ;;
    agent) run_gh "$res" --cpus="$cpus" --stats-interval=0 -- "$@" ;;
    bpf) run_gh "$res" --cpus="$cpus" --bpf-pick --stats-interval=0 -- "$@" ;;
    scx_*) run_peer "$config" "$res" "$@" ;;
  esac
}

# cyclictest runs with bench/latency/cyclictest_shim.c preloaded in every
# configuration: it keeps SCHED_EXT threads SCHED_EXT (cyclictest resets
# each thread to SCHED_OTHER) and its threads unpinned (it pins one per
# CPU, and the centralized agent's CPU runs no workload). Each run checks
# its threads' policy, and keeps the non-empty bins of the histogram.
run_cyclictest() {
  local config=$1 res=$2 pid policies want=7
  # Peers switch every task to sched_ext without changing its policy.
  case $config in default|scx_*) want=0 ;; esac
  run_under "$config" "$res" env LD_PRELOAD="$CYCLICTEST_SHIM" cyclictest -m -q -t "$ncpu" -i 1000 \
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
      run_under "$config" "$res" "$WAKEBENCH" --pairs="$ncpu" --duration="$duration" \
        --work-us=50 --hist="$res.hist" > "$res.summary" ;;
    hackbench|compress)
      # The completion time (RES.ms) is the workload's own, timed inside
      # the configuration once its scheduler is in place, as a user who
      # times a command under a running scheduler sees it. The time with
      # the loader's start-up and teardown around it goes to RES.total_ms.
      t0=$(date +%s%N)
      if [ "$workload" = hackbench ]; then
        run_under "$config" "$res" "$TIMED" "$res.ms" \
          hackbench -p -g "$ncpu" -l $((10 * duration)) > "$res.summary"
      else
        run_under "$config" "$res" "$TIMED" "$res.ms" \
          sh -c "for i in \$(seq $((2 * ncpu))); do gzip -c $data/input > /dev/null & done; wait"
      fi
      local rc=$?
      t1=$(date +%s%N)
      echo "$(( (t1 - t0) / 1000000 ))" > "$res.total_ms"
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
      [ -x "$GH" ] && "$GH" --dump 2>&1 | head -40; } >> "$out/raw/ghost_hybrid.log"
    signal_all INT ghost_hybrid scx_simple scx_central scx_userland; sleep 10
    signal_all KILL ghost_hybrid scx_simple scx_central scx_userland cyclictest wakebench hackbench gzip ) &
  watcher=$!
  wait "$runner"
  rc=$?
  kill "$watcher" 2>/dev/null
  wait "$watcher" 2>/dev/null
  return $rc
}

n=${#configs[@]}
failed=0
for ((r = 0; r < rounds; r++)); do
  for w in ${workloads//,/ }; do
    for ((k = 0; k < n; k++)); do
      c=${configs[$(( (r + k) % n ))]}
      printf 'round %d/%d  %-10s %-12s ' $((r + 1)) "$rounds" "$w" "$c"
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
