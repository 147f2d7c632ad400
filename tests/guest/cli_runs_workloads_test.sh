#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests that ghost_hybrid leaves stdout to its command and returns its
# command's exit status, and that a
# parallel build under it (fast path on, both agent models) produces a
# correct program, every build step having run with policy SCHED_EXT.
. "$(dirname "$0")/lib.sh"

# stdout belongs to the command: no stats line or summary there by default.
check "$($GH -- echo hi 2>/dev/null)" hi "stdout of 'ghost_hybrid -- echo hi'"

$GH --stats-interval=0 -- sh -c 'awk "/^policy/ {print \$3}" /proc/$$/sched > '"$out"'/p7; exit 7' 2>/dev/null
check "$?" 7 "exit status of 'sh -c exit 7'"
check "$(cat "$out/p7")" 7 "policy of the exit-7 command"

mkproject() {
  d=$1; mkdir -p "$d"
  for i in 1 2 3 4 5 6; do
    printf 'int f%d(void) { return %d; }\n' "$i" "$i" > "$d/f$i.c"
  done
  printf 'int f1(void),f2(void),f3(void),f4(void),f5(void),f6(void);\n#include <stdio.h>\nint main(void){printf("%%d\\n",f1()+f2()+f3()+f4()+f5()+f6());return 0;}\n' > "$d/main.c"
  # Each recipe first records the policy of the shell that runs it.
  cat > "$d/Makefile" <<'MK'
OBJS = main.o f1.o f2.o f3.o f4.o f5.o f6.o
prog: $(OBJS)
	@awk '/^policy/ {print $$3}' /proc/$$$$/sched >> policies
	cc -o $@ $(OBJS)
%.o: %.c
	@awk '/^policy/ {print $$3}' /proc/$$$$/sched >> policies
	cc -c -o $@ $<
MK
}

for args in "--bpf-pick" "--model=centralized" "--model=percpu"; do
  d=$out/proj${args#--}
  mkproject "$d"
  $GH $args --stats-interval=0 --stats-json="$out/s.json" -- make -s -C "$d" -j4 \
    >/dev/null 2>"$out/err"
  rc=$?
  check "$rc" 0 "make -j4 under ghost_hybrid $args"
  [ "$rc" -eq 0 ] || sed 's/^/  stderr: /' "$out/err"
  check "$("$d/prog")" 21 "the program built under $args"
  check "$(sort -u "$d/policies" | tr '\n' ' ')" "7 " "policies of the build steps under $args"
  check "$(wc -l < "$d/policies")" 8 "build steps recorded under $args (7 compiles, 1 link)"
  # With no message lost, a WAKEUP always follows the BLOCKED the agent
  # read (the per-CPU model's migrations check the Tseq: gh_associate).
  [ "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['kernel']['msgs_dropped'])" "$out/s.json")" -eq 0 ] &&
    check "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['agent']['counters']['unexpected_wakeups'])" "$out/s.json")" \
      0 "wakeups of tasks the agent had not seen block under $args"
done
check "$(sched_state)" disabled "state after the runs"
# The scheduler must have run the workload throughout: no ejection.
check_no_ejections
finish
