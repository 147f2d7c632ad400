# SPDX-License-Identifier: Apache-2.0
# bench/latency/latency.mk: the latency comparison (scripts/compare-latency.sh
# in the guest, scripts/latency-report.py on the host) and its wakeup
# benchmark program. Included by the top-level Makefile.
#
#   make bench-latency   one guest boot, 3 configurations (6 with the peers
#                        of make bench-peers, which make bench builds) x 4
#                        workloads x rounds: bench/results/latency.{json,md,png}
# (Debian's python3, which has python3-matplotlib; a python3 earlier in
# PATH, e.g. pyenv's, may not.)

# The guest tests run compare-latency.sh briefly: build its programs with all.
all: $(BUILD)/bench/wakebench $(BUILD)/bench/cyclictest_shim.so

BENCH_LATENCY_ARGS ?= --duration=8 --rounds=6
# The guest's clock counts instructions (scripts/vm.sh, GHOST_HYBRID_VM_ICOUNT):
# with host time, host load moved the ratios by more than 20% between runs.
# Empty: host time.
BENCH_VM_ICOUNT ?= 2
# The guest kernel (scripts/vm.sh --kernel): empty, the newest pinned one,
# whose results are bench/results/latency.*; another one (BENCH_KERNEL=6.19)
# writes bench/results/kernel-6.19/.
BENCH_KERNEL ?=
BENCH_RESULTS := bench/results$(if $(BENCH_KERNEL),/kernel-$(BENCH_KERNEL))

$(BUILD)/bench/wakebench: $(BUILD)/bench/latency/wakebench.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -o $@ $^ -lpthread

$(BUILD)/bench/cyclictest_shim.so: bench/latency/cyclictest_shim.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Werror -Wno-unused-parameter -shared -fPIC -o $@ $<

.PHONY: bench-latency bench-wakebench-smoke
# wakebench natively for a second (any kernel: it measures the fair class).
bench-wakebench-smoke: $(BUILD)/bench/wakebench
	$(Q)$(BUILD)/bench/wakebench --pairs=2 --duration=1 >/dev/null

bench-latency: ghost_hybrid $(BUILD)/bench/wakebench $(BUILD)/bench/cyclictest_shim.so
	$(Q)GHOST_HYBRID_VM_ICOUNT=$(BENCH_VM_ICOUNT) scripts/vm.sh $(if $(BENCH_KERNEL),--kernel $(BENCH_KERNEL)) \
	  --cpus 4 --mem 2G --timeout 3000 -- \
	  scripts/compare-latency.sh $(BENCH_LATENCY_ARGS) --out=$(BUILD)/bench/latency
	$(Q)echo "guest_clock=$(if $(BENCH_VM_ICOUNT),instruction counts (QEMU icount shift=$(BENCH_VM_ICOUNT): 2^$(BENCH_VM_ICOUNT) ns each),host time)" \
	  >> $(BUILD)/bench/latency/raw/meta
	$(Q)/usr/bin/python3 scripts/latency-report.py $(BUILD)/bench/latency $(BENCH_RESULTS)

-include $(BUILD)/bench/latency/wakebench.d
