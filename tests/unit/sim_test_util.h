// SPDX-License-Identifier: Apache-2.0
// sim_test_util.h: small helpers shared by the scheduler tests that run on
// the simulated kernel (machines, scripted tasks, trace queries).
#ifndef GHOST_HYBRID_TESTS_UNIT_SIM_TEST_UTIL_H_
#define GHOST_HYBRID_TESTS_UNIT_SIM_TEST_UTIL_H_

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "agent/sim/sim_kernel.h"
#include "gtest/gtest.h"

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

// A workload of `n` 20 us tasks with random affinity masks, arriving over
// 50 ms on `k`'s CPUs: every `only_every`-th task (if > 0) may run only on
// `only_cpu`, one in four of the rest on a single random CPU, the others
// on random subsets (each CPU with probability 1/4).
struct AffinityWorkload {
  std::map<uint64_t, CpuList> allowed;
  std::map<uint64_t, int64_t> arrival_ns;

  AffinityWorkload(SimKernel& k, int n, uint64_t seed, int only_every = 0, int only_cpu = -1) {
    std::mt19937_64 rng(seed);
    const int ncpus = k.cpus().Size();
    for (int i = 0; i < n; ++i) {
      CpuList mask;
      if (only_every > 0 && i % only_every == 0) {
        mask.Set(only_cpu);
      } else if (rng() % 4 == 0) {
        mask.Set(static_cast<int>(rng() % ncpus));
      } else {
        for (int c = 0; c < ncpus; ++c)
          if (rng() % 4 == 0) mask.Set(c);
        if (mask.Empty()) mask.Set(static_cast<int>(rng() % ncpus));
      }
      const absl::Duration at = absl::Nanoseconds(static_cast<int64_t>(rng() % 50'000'000));
      SimTaskSpec spec = Runs(absl::Microseconds(20), at);
      spec.affinity = mask;
      const uint64_t g = k.AddTask(spec);
      allowed[g] = mask;
      arrival_ns[g] = absl::ToInt64Nanoseconds(at);
    }
  }

  // After the run: checks that every task ran, only on allowed CPUs, and
  // returns the longest wait of a task for its first run (ns).
  int64_t CheckRanWhereAllowed(const SimKernel& k) {
    std::map<uint64_t, int64_t> first_run;
    for (const TraceRecord& r : Records(k, TraceKind::kRun)) {
      EXPECT_TRUE(allowed[r.gtid].IsSet(r.cpu)) << "task ran on CPU " << r.cpu;
      first_run.emplace(r.gtid, r.t_ns);
    }
    EXPECT_EQ(first_run.size(), allowed.size());
    int64_t max_wait = 0;
    for (const auto& [g, t] : first_run) max_wait = std::max(max_wait, t - arrival_ns[g]);
    return max_wait;
  }
};

}  // namespace gh::testing

#endif  // GHOST_HYBRID_TESTS_UNIT_SIM_TEST_UTIL_H_
