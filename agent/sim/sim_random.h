// SPDX-License-Identifier: Apache-2.0
// sim_random.h: SimRandom, the simulator's own seedable generator.
//
// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and it gives the same
// sequence on every compiler and library, which std::uniform_*_distribution
// does not promise. Every random choice of the simulator and the workload
// generator comes from here, so a seed fixes a whole run.
//
// Thread safety: none (one generator per simulation).
#ifndef GHOST_HYBRID_AGENT_SIM_SIM_RANDOM_H_
#define GHOST_HYBRID_AGENT_SIM_SIM_RANDOM_H_

#include <cstdint>

namespace gh {

class SimRandom {
 public:
  explicit SimRandom(uint64_t seed) : state_(seed) {}

  // Returns the next 64 random bits.
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Returns a value in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Range(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(span == 0 ? Next() : Next() % span);
  }

  // Returns true with probability `p` (0 <= p <= 1).
  bool Chance(double p) {
    return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p;
  }

 private:
  uint64_t state_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_SIM_SIM_RANDOM_H_
