# SPDX-License-Identifier: Apache-2.0
# bench/micro/micro.mk: ghost_hybrid's ABI microbenchmarks (included by the
# top-level Makefile; reuses its CLANG, BPF_CFLAGS, BPFTOOL, CXX, CXXFLAGS,
# BUILD, BPF_LIBS, LDLIBS).
#
#   bench/micro/micro.bpf.c --clang--> build/bench/micro/micro.bpf.o
#                           --bpftool--> build/bench/micro/micro.skel.h
#   bench/micro/micro_bench.cc + agent/kernel/ring_channel.cc + agent/lib/check.cc
#                           --> build/bench/micro_bench  (Google Benchmark)
#
#   make bench-micro        full run (root, < 3 min): bench/results/micro.json
#   make bench-micro-smoke  a few seconds, JSON to a temporary directory
#                           (removed after); fails (non-zero) if anything does
#                           not load or a correctness check fails. Targets are
#                           reported, never failures.
#
# The BPF object runs on the host (BPF, no sched_ext). It is built against
# skel/vmlinux.h like the scheduler (the guest kernel's types); any
# kernel-type access is a CO-RE relocation that libbpf resolves against the
# host's BTF at load time. There is no commit benchmark: latched commits
# move the task between sched_ext DSQs inside gh_commit, which only a kernel
# running the scheduler can do, so the commit cost is no longer measured on
# the host (tests/guest/latched_commit_test.cc exercises it in the guest);
# micro_bench does not load gh_commit or gh_rq_op.

MICRO_BUILD := $(BUILD)/bench/micro
MICRO_BIN   := $(BUILD)/bench/micro_bench
MICRO_OBJS  := $(MICRO_BUILD)/micro_bench.o $(MICRO_BUILD)/ring_channel.o $(MICRO_BUILD)/check.o
MICRO_OUT   ?= bench/results/micro.json

.PHONY: bench-micro bench-micro-smoke

# agents.bpf.h's handoff timer callback is unused here (nothing arms it).
$(MICRO_BUILD)/micro.bpf.o: bench/micro/micro.bpf.c bpf/intf.h $(wildcard bpf/*.bpf.h) skel/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Wno-unused-function -c $< -o $@

$(MICRO_BUILD)/micro.skel.h: $(MICRO_BUILD)/micro.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name micro_bpf > $@.tmp && mv $@.tmp $@

$(MICRO_BUILD)/micro_bench.o: bench/micro/micro_bench.cc $(MICRO_BUILD)/micro.skel.h
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -I$(MICRO_BUILD) -c $< -o $@

# The project's consumer and check code, compiled here so that the benchmark
# does not wait for the scheduler's skeleton (libghost_kernel.a does).
$(MICRO_BUILD)/ring_channel.o: agent/kernel/ring_channel.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -c $< -o $@

$(MICRO_BUILD)/check.o: agent/lib/check.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -c $< -o $@

$(MICRO_BIN): $(MICRO_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -o $@ $(MICRO_OBJS) -lbenchmark $(BPF_LIBS) $(LDLIBS)

bench-micro: $(MICRO_BIN)
	@[ "$$(id -u)" = 0 ] || { echo "make: bench-micro loads BPF programs: run it as root." >&2; exit 1; }
	$(Q)mkdir -p $(dir $(MICRO_OUT))
	$(Q)$(MICRO_BIN) --out=$(MICRO_OUT)

bench-micro-smoke: $(MICRO_BIN)
	@[ "$$(id -u)" = 0 ] || { echo "make: bench-micro-smoke loads BPF programs: run it as root." >&2; exit 1; }
	$(Q)tmp=$$(mktemp -d) && \
	  $(MICRO_BIN) --smoke --out=$$tmp/micro.json && test -s $$tmp/micro.json; \
	  rc=$$?; rm -rf "$$tmp"; exit $$rc

-include $(MICRO_OBJS:.o=.d)
