# SPDX-License-Identifier: Apache-2.0
# ghost_hybrid build. `make` builds everything; `make test` and `make run`
# first run scripts/setup.sh (root) so they work on a fresh machine.
#
#   bpf/*.bpf.c  --clang-->  build/bpf/*.bpf.o  --bpftool-->  skel/*.skel.h
#   skel/vmlinux.h  from the guest kernel's BTF (or the host's, if the host
#                   kernel has sched_ext)
#   agent/{lib,sim,schedulers}/*.cc  -->  build/libghost_agent.a
#   agent/kernel/*.cc (uses skeletons) -->  build/libghost_kernel.a
#   agent/cli/*.cc  -->  ./ghost_hybrid
#   tests/unit/*_test.cc   -->  build/tests/unit_tests     (no root, no guest)
#   tests/guest/*_test.cc  -->  build/tests/guest_tests    (run in the guest)

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

include kernel-patches/guest-kernel.env

CACHE     ?= /var/cache/ghost_hybrid
CLANG     ?= clang-19
CXX       ?= g++
BPFTOOL   ?= $(CACHE)/bpftool/usr/sbin/bpftool
LIBBPF    ?= $(CACHE)/libbpf-$(LIBBPF_VERSION)
BUILD     := build
NPROC     := $(shell nproc 2>/dev/null || echo 1)

# vmlinux.h comes from the kernel the scheduler will load into: the host's
# when it has sched_ext, otherwise the pinned guest kernel.
ifneq ($(wildcard /sys/kernel/sched_ext),)
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
else
VMLINUX_BTF ?= $(CACHE)/kernel/$(GUEST_KERNEL_RELEASE)/vmlinux
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_x86 -mcpu=v3 \
	-Wall -Werror -Wno-missing-declarations \
	-I$(LIBBPF)/include -Iskel -Ibpf
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -Werror -Wno-unused-parameter \
	-I. -isystem $(LIBBPF)/include -MMD -MP
# Abseil is linked statically: its ~40 shared libraries cost ghost_hybrid
# about a second of start-up in the TCG guest (every command the tests and
# benchmarks run there, --dump included).
ABSL_PKGS := absl_flags absl_flags_parse absl_status absl_statusor absl_strings absl_raw_hash_set absl_hash \
	absl_str_format absl_time absl_synchronization
ABSL_LIBS := -Wl,-Bstatic $(filter -labsl_%,$(shell pkg-config --static --libs $(ABSL_PKGS) 2>/dev/null)) \
	-Wl,-Bdynamic $(filter-out -labsl_% -L%,$(shell pkg-config --static --libs $(ABSL_PKGS) 2>/dev/null))
BPF_LIBS  := $(LIBBPF)/lib/libbpf.a -lelf -lz -lzstd
LDLIBS    := $(ABSL_LIBS) -lpthread
TEST_LIBS := -lgmock -lgtest_main -lgtest

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS      := $(patsubst bpf/%.bpf.c,skel/%.skel.h,$(BPF_SRCS))

AGENT_SRCS := $(wildcard agent/lib/*.cc agent/sim/*.cc agent/schedulers/*.cc)
AGENT_OBJS := $(patsubst %.cc,$(BUILD)/%.o,$(AGENT_SRCS))
KERN_SRCS  := $(wildcard agent/kernel/*.cc)
KERN_OBJS  := $(patsubst %.cc,$(BUILD)/%.o,$(KERN_SRCS))
CLI_SRCS   := $(wildcard agent/cli/*.cc)
CLI_OBJS   := $(patsubst %.cc,$(BUILD)/%.o,$(CLI_SRCS))
UNIT_SRCS  := $(wildcard tests/unit/*.cc)
UNIT_OBJS  := $(patsubst %.cc,$(BUILD)/%.o,$(UNIT_SRCS))
GUEST_SRCS := $(wildcard tests/guest/*.cc)
GUEST_OBJS := $(patsubst %.cc,$(BUILD)/%.o,$(GUEST_SRCS))

.PHONY: all clean test run unit check-toolchain setup bench bench-smoke test-migration test-upgrade soak \
        install uninstall
all: ghost_hybrid $(BUILD)/tests/unit_tests $(BUILD)/tests/guest_tests $(BUILD)/tests/spinner \
     $(BUILD)/tests/churn $(BUILD)/tests/worker $(BUILD)/tests/ghost_hybrid_abi_skew

setup:
	$(Q)scripts/setup.sh

check-toolchain:
	@for f in $(BPFTOOL) $(LIBBPF)/lib/libbpf.a $(VMLINUX_BTF); do \
	  [ -e $$f ] || { echo "make: $$f is missing: run 'sudo scripts/setup.sh' first (or 'make test', which does)." >&2; exit 1; }; \
	done
	@command -v $(CLANG) >/dev/null || { echo "make: $(CLANG) not found: run 'sudo scripts/setup.sh'." >&2; exit 1; }

# ---------------------------------------------------------------- BPF side
skel/vmlinux.h: | check-toolchain
	$(call msg,GEN,$@)
	$(Q)mkdir -p skel
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) skel/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

skel/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

# ---------------------------------------------------------------- C++ side
# The version (VERSION) and the git commit it was built from, for
# `ghost_hybrid --version`: regenerated on every make, rewritten (and
# main.o rebuilt) only when they change.
GEN_VERSION := $(BUILD)/gen/version.h
.PHONY: FORCE
$(GEN_VERSION): FORCE
	$(Q)mkdir -p $(@D)
	$(Q)commit=$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown); \
	  git diff --quiet HEAD 2>/dev/null || commit="$$commit-dirty"; \
	  printf '#define GH_VERSION "%s"\n#define GH_COMMIT "%s"\n' "$$(cat VERSION)" "$$commit" > $@.tmp; \
	  cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/agent/cli/main.o: $(GEN_VERSION)
$(BUILD)/agent/cli/main.o: CXXFLAGS += -I$(BUILD)/gen

$(BUILD)/%.o: %.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -c $< -o $@

# Objects that include skeletons wait for them.
$(KERN_OBJS) $(CLI_OBJS) $(GUEST_OBJS): $(SKELS)

$(BUILD)/libghost_agent.a: $(AGENT_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libghost_kernel.a: $(KERN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

ghost_hybrid: $(CLI_OBJS) $(BUILD)/libghost_kernel.a $(BUILD)/libghost_agent.a
	$(call msg,LINK,$@)
	$(Q)$(CXX) -o $@ $(CLI_OBJS) $(BUILD)/libghost_kernel.a $(BUILD)/libghost_agent.a $(BPF_LIBS) $(LDLIBS)

# The same agent built as if its ABI were one version newer: the guest test
# of --attach checks that a persistent scheduler refuses it. Only the
# translation unit that stamps and checks the ABI differs.
$(BUILD)/tests/abi_skew/persistent_scheduler.o: agent/kernel/persistent_scheduler.cc $(SKELS)
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -DGH_ABI_VERSION=$$(( $$(sed -n 's/^#define GH_ABI_VERSION //p' bpf/intf.h) + 1 )) -c $< -o $@

$(BUILD)/tests/ghost_hybrid_abi_skew: $(CLI_OBJS) $(BUILD)/tests/abi_skew/persistent_scheduler.o \
    $(BUILD)/libghost_kernel.a $(BUILD)/libghost_agent.a
	$(call msg,LINK,$@)
	$(Q)$(CXX) -o $@ $(CLI_OBJS) $(BUILD)/tests/abi_skew/persistent_scheduler.o \
	  $(BUILD)/libghost_kernel.a $(BUILD)/libghost_agent.a $(BPF_LIBS) $(LDLIBS)

# The CLI's flag parsing is unit-tested too (it needs no skeleton).
$(BUILD)/tests/unit_tests: $(UNIT_OBJS) $(BUILD)/agent/cli/flags.o $(BUILD)/libghost_agent.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -o $@ $(UNIT_OBJS) $(BUILD)/agent/cli/flags.o $(BUILD)/libghost_agent.a $(TEST_LIBS) $(LDLIBS)

$(BUILD)/tests/guest_tests: $(GUEST_OBJS) $(BUILD)/libghost_kernel.a $(BUILD)/libghost_agent.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -o $@ $(GUEST_OBJS) $(BUILD)/libghost_kernel.a $(BUILD)/libghost_agent.a $(BPF_LIBS) $(TEST_LIBS) $(LDLIBS)

# The workloads guest tests run (tests/workloads/).
$(BUILD)/tests/spinner: tests/workloads/spinner.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Werror -o $@ $<

$(BUILD)/tests/worker: tests/workloads/worker.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Werror -o $@ $<

$(BUILD)/tests/churn: tests/workloads/churn.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -std=c++17 -O2 -Wall -Wextra -Werror -pthread -o $@ $<

unit: $(BUILD)/tests/unit_tests
	$(BUILD)/tests/unit_tests

# ------------------------------------------------------------ entry points
# The build uses every core (about half of the build time on two).
test: setup
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) all
	$(Q)scripts/run-tests.sh

run: setup
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) all
	$(Q)scripts/demo.sh

# Benchmarks (bench/README.md): the simulator and the ABI microbenchmarks on
# the host, the latency comparison in one guest boot; results in
# bench/results/. bench-smoke runs each benchmark program for seconds (make
# test runs it) so that none can rot.
# The global-agent migration test (make test runs it once): 20 runs in one
# guest boot.
test-migration: all
	$(Q)scripts/vm.sh --cpus 4 --mem 2G --timeout 1500 -- \
	  scripts/guest-repeat.sh 20 tests/guest/cli_global_migration_test.sh

# The agent hand-over test of a persistent scheduler (--persist, --attach;
# make test runs it once per kernel), three runs on each kernel.
test-upgrade: all
	$(Q)scripts/vm.sh --cpus 4 --mem 2G --timeout 1500 -- \
	  scripts/guest-repeat.sh 3 tests/guest/cli_live_upgrade_test.sh
	$(Q). kernel-patches/guest-kernel.env && scripts/vm.sh --kernel "$$OLDEST_KERNEL_RELEASE" \
	  --cpus 4 --mem 2G --timeout 1500 -- scripts/guest-repeat.sh 3 tests/guest/cli_live_upgrade_test.sh

# ------------------------------------------------------------ install
# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, its man page
# (generated from --help by help2man), bash completion, and for the
# system-wide mode a systemd unit with /etc/default/ghost_hybrid.
PREFIX  ?= /usr/local
SBINDIR := $(PREFIX)/sbin
MANDIR  := $(PREFIX)/share/man/man8
COMPDIR := $(PREFIX)/share/bash-completion/completions
UNITDIR := $(PREFIX)/lib/systemd/system

$(BUILD)/ghost_hybrid.8: ghost_hybrid
	$(call msg,MAN,$@)
	$(Q)help2man --no-info --section=8 --name="ghOSt-style user-space scheduling on sched_ext" \
	  --version-string="$$(./ghost_hybrid --version | head -1)" --output=$@ ./ghost_hybrid

$(BUILD)/ghost_hybrid.service: dist/ghost_hybrid.service.in
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' $< > $@

install: ghost_hybrid $(BUILD)/ghost_hybrid.8 $(BUILD)/ghost_hybrid.service
	install -D -m 0755 ghost_hybrid $(DESTDIR)$(SBINDIR)/ghost_hybrid
	install -D -m 0644 $(BUILD)/ghost_hybrid.8 $(DESTDIR)$(MANDIR)/ghost_hybrid.8
	install -D -m 0644 dist/ghost_hybrid.bash-completion $(DESTDIR)$(COMPDIR)/ghost_hybrid
	install -D -m 0644 $(BUILD)/ghost_hybrid.service $(DESTDIR)$(UNITDIR)/ghost_hybrid.service
	test -e $(DESTDIR)/etc/default/ghost_hybrid || \
	  install -D -m 0644 dist/ghost_hybrid.default $(DESTDIR)/etc/default/ghost_hybrid

# /etc/default/ghost_hybrid stays: it may hold the administrator's flags.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/ghost_hybrid $(DESTDIR)$(MANDIR)/ghost_hybrid.8 \
	  $(DESTDIR)$(COMPDIR)/ghost_hybrid $(DESTDIR)$(UNITDIR)/ghost_hybrid.service

# 5 minutes of churn per mode (scripts/soak.sh), summary in bench/results/.
soak: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/vm.sh --cpus 4 --mem 2G --timeout 2400 -- \
	  scripts/soak.sh $${SOAK_SECONDS:-300} bench/results/soak.json

bench: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory bench-sim bench-micro bench-peers bench-latency

bench-smoke: bench-sim-smoke bench-micro-smoke bench-wakebench-smoke

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(BUILD) ghost_hybrid skel/*.h

# Benchmarks (bench/*/ *.mk): make bench, and smoke runs in make test.
-include $(wildcard bench/*/*.mk)

-include $(AGENT_OBJS:.o=.d) $(KERN_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(GUEST_OBJS:.o=.d)
