# SPDX-License-Identifier: Apache-2.0
# bench/sim/sim.mk: the simulator-scaling benchmark (bench/sim/sim_scaling.cc),
# included by the top-level Makefile (`-include $(wildcard bench/*/*.mk)`); it
# uses that Makefile's CXX, CXXFLAGS, BUILD, LDLIBS, Q, msg and its
# `$(BUILD)/%.o: %.cc` rule.
#
#   make bench-sim         full run (well under 2 min): bench/results/sim.json
#   make bench-sim-smoke   a few seconds (8 and 32 CPUs), JSON to a temporary
#                          directory; fails iff the program misbehaves (the
#                          targets are reported, never enforced)

SIM_SCALING_OBJS := $(BUILD)/bench/sim/sim_scaling.o

$(BUILD)/bench/sim_scaling: $(SIM_SCALING_OBJS) $(BUILD)/libghost_agent.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -o $@ $(SIM_SCALING_OBJS) $(BUILD)/libghost_agent.a $(LDLIBS)

.PHONY: bench-sim bench-sim-smoke
bench-sim: $(BUILD)/bench/sim_scaling
	$(Q)$(BUILD)/bench/sim_scaling --out=bench/results/sim.json

bench-sim-smoke: $(BUILD)/bench/sim_scaling
	$(Q)tmp=$$(mktemp -d) && \
	  $(BUILD)/bench/sim_scaling --smoke --out=$$tmp/sim.json && test -s $$tmp/sim.json; \
	  rc=$$?; rm -rf "$$tmp"; exit $$rc

-include $(SIM_SCALING_OBJS:.o=.d)
