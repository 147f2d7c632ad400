// SPDX-License-Identifier: Apache-2.0
// sim_test_util.h: small helpers shared by the scheduler tests that run on
// the simulated kernel (machines, scripted tasks, trace queries).
#ifndef GHOST_HYBRID_TESTS_UNIT_SIM_TEST_UTIL_H_
#define GHOST_HYBRID_TESTS_UNIT_SIM_TEST_UTIL_H_

#include <vector>

#include "agent/sim/sim_kernel.h"

namespace gh::testing {

using A = SimAction;
inline const absl::Duration kUs = absl::Microseconds(1);

// A flat machine of @ncpus CPUs (no SMT, one L3, one node).
inline SimConfig Machine(int ncpus, bool auto_step = true) {
  SimConfig c;
  c.topology = Topology::Synthetic(ncpus, 1, ncpus, 1);
  c.auto_step_agents = auto_step;
  return c;
}

// A task that arrives at @arrival, runs for @d and exits.
inline SimTaskSpec Runs(absl::Duration d, absl::Duration arrival = absl::ZeroDuration()) {
  return {.arrival = arrival, .script = {A::Run(d)}};
}

// Returns the trace records of `kind` (and gtid, if non-zero), in order.
inline std::vector<TraceRecord> Records(const SimKernel& k, TraceKind kind, uint64_t gtid = 0) {
  std::vector<TraceRecord> out;
  for (const TraceRecord& r : k.trace())
    if (r.kind == kind && (gtid == 0 || r.gtid == gtid)) out.push_back(r);
  return out;
}

}  // namespace gh::testing

#endif  // GHOST_HYBRID_TESTS_UNIT_SIM_TEST_UTIL_H_
