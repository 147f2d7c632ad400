# SPDX-License-Identifier: Apache-2.0
# bench/peers/peers.mk: the kernel's own sched_ext example schedulers,
# which make bench compares ghost_hybrid with (bench/README.md, "Peers").
# Included by the top-level Makefile.
#
#   make bench-peers   fetch Debian's linux-source (once, cached, pinned in
#                      bench/peers/peers.env) and build
#                      build/bench/peers/{scx_simple,scx_central,scx_userland}
#
# Only make bench depends on it: make test never fetches or builds them.

PEERS      := scx_simple scx_central scx_userland
PEERS_BINS := $(addprefix $(BUILD)/bench/peers/,$(PEERS))

.PHONY: bench-peers
bench-peers: $(PEERS_BINS)

$(PEERS_BINS) &: skel/vmlinux.h bench/peers/peers.env scripts/build-peers.sh scripts/fetch-deb.sh
	$(call msg,PEERS,$(PEERS_BINS))
	$(Q)CLANG=$(CLANG) BPFTOOL=$(BPFTOOL) LIBBPF=$(LIBBPF) VMLINUX_H=skel/vmlinux.h \
	  GHOST_HYBRID_CACHE=$(CACHE) scripts/build-peers.sh $(BUILD)/bench/peers
