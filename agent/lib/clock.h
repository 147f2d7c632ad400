// SPDX-License-Identifier: Apache-2.0
// clock.h: the one time base shared by the kernel side and the agents.
//
// The kernel side stamps messages and transactions with bpf_ktime_get_ns()
// (CLOCK_MONOTONIC nanoseconds). The agent library represents such a stamp as
// an absl::Time that far past the Unix epoch, so that absl::Duration
// arithmetic works on it; the simulator's virtual clock uses the same base
// (virtual time 0 is the epoch). Enclave::Now() returns this clock.
#ifndef GHOST_HYBRID_AGENT_LIB_CLOCK_H_
#define GHOST_HYBRID_AGENT_LIB_CLOCK_H_

#include <cstdint>

#include "absl/time/time.h"

namespace gh {

// Returns the absl::Time of a kernel timestamp in nanoseconds.
inline absl::Time KernelTime(uint64_t ns) {
  return absl::UnixEpoch() + absl::Nanoseconds(static_cast<int64_t>(ns));
}

// Returns the kernel timestamp (ns) of `t`. REQUIRES: t >= UnixEpoch().
inline uint64_t KernelNs(absl::Time t) {
  return static_cast<uint64_t>(absl::ToInt64Nanoseconds(t - absl::UnixEpoch()));
}

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_CLOCK_H_
