# SPDX-License-Identifier: Apache-2.0
# Shared helpers of the guest shell tests (sourced; run inside the guest).
cd "$(dirname "$0")/../.." || exit 1
GH=./ghost_hybrid
SPINNER=build/tests/spinner
fail=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# check GOT WANT WHAT: records a failure unless GOT = WANT.
check() {
  if [ "$1" != "$2" ]; then echo "FAIL: $3: got '$1', want '$2'"; fail=1; fi
}
# check_true WHAT CMD...: records a failure unless CMD succeeds.
check_true() {
  what=$1; shift
  if ! "$@"; then echo "FAIL: $what"; fail=1; fi
}
sched_state() { cat /sys/kernel/sched_ext/state; }
# Waits until no scheduler is loaded (a previous test's may be disabling).
wait_disabled() {
  for _ in $(seq 100); do [ "$(sched_state)" = disabled ] && return 0; sleep 0.1; done
  return 1
}
# cpu_ticks STAT: user + system clock ticks from a /proc/.../stat file.
cpu_ticks() { awk '{ print $14 + $15 }' "$1"; }
# json_get FILE KEY: a top-level number from a --stats-json file.
json_get() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
# Ejections (the kernel stopping the scheduler for any reason but its
# loader's exit) since this test began: the fair class would give the same
# output, so a test that passed through one proves nothing. Every test
# says which it expects before finish: check_no_ejections, or
# expect_ejections if it provokes them on purpose.
ejections() {
  dmesg | grep 'sched_ext: BPF scheduler .* disabled (' | grep -vc 'unregistered from user space'
}
ejections_at_start=$(ejections)
ejections_checked=0
check_no_ejections() {
  ejections_checked=1
  check "$(( $(ejections) - ejections_at_start ))" 0 "ejections of the scheduler during the test"
}
expect_ejections() { ejections_checked=1; }
finish() {
  [ "$ejections_checked" -eq 1 ] || { echo "FAIL: the test never checked for ejections"; fail=1; }
  [ "$fail" -eq 0 ] && echo "ok"; exit "$fail"
}
# mkproject DIR [N]: a C project of N (default 6) sources f1..fN, f_i()
# returning i, and a main that prints their sum, N(N+1)/2. Each make recipe
# first appends the policy of the shell that runs it to DIR/policies.
mkproject() {
  d=$1 n=${2:-6}; mkdir -p "$d"
  decls="" calls="0" objs="main.o"
  for i in $(seq "$n"); do
    printf 'int f%d(void) { return %d; }\n' "$i" "$i" > "$d/f$i.c"
    decls="${decls}int f$i(void);" calls="$calls+f$i()" objs="$objs f$i.o"
  done
  printf '%s\n#include <stdio.h>\nint main(void){printf("%%d\\n",%s);return 0;}\n' \
    "$decls" "$calls" > "$d/main.c"
  {
    echo "OBJS = $objs"
    cat <<'MK'
prog: $(OBJS)
	@awk '/^policy/ {print $$3}' /proc/$$$$/sched >> policies
	cc -o $@ $(OBJS)
%.o: %.c
	@awk '/^policy/ {print $$3}' /proc/$$$$/sched >> policies
	cc -c -o $@ $<
MK
  } > "$d/Makefile"
}
wait_disabled
