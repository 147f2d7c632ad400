// SPDX-License-Identifier: Apache-2.0
#include "agent/sim/sim_workload.h"

#include <algorithm>

#include "agent/sim/sim_random.h"

namespace gh {

namespace {

absl::Duration Between(SimRandom& r, absl::Duration lo, absl::Duration hi) {
  return absl::Nanoseconds(
      r.Range(absl::ToInt64Nanoseconds(lo), absl::ToInt64Nanoseconds(hi)));
}

}  // namespace

std::vector<SimTaskSpec> RandomWorkload(uint64_t seed,
                                        const RandomWorkloadParams& p) {
  SimRandom r(seed);
  std::vector<SimTaskSpec> specs(p.num_tasks);
  for (SimTaskSpec& s : specs) {
    s.arrival = Between(r, absl::ZeroDuration(), p.arrival_span);
    const int bursts = static_cast<int>(r.Range(p.min_bursts, p.max_bursts));
    for (int b = 0; b < bursts; ++b) {
      if (r.Chance(p.p_nice))
        s.script.push_back(SimAction::SetNice(static_cast<int>(r.Range(-5, 5))));
      s.script.push_back(SimAction::Run(Between(r, p.min_run, p.max_run)));
      if (b + 1 == bursts) break;
      if (r.Chance(p.p_yield)) {
        s.script.push_back(SimAction::Yield());
      } else {
        s.script.push_back(SimAction::Block(Between(r, p.min_block, p.max_block)));
      }
    }
    s.script.push_back(r.Chance(p.p_depart) ? SimAction::Depart()
                                            : SimAction::Exit());
  }
  std::stable_sort(specs.begin(), specs.end(),
                   [](const SimTaskSpec& a, const SimTaskSpec& b) {
                     return a.arrival < b.arrival;
                   });
  return specs;
}

}  // namespace gh
