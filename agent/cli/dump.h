// SPDX-License-Identifier: Apache-2.0
// dump.h: `ghost_hybrid --dump`: the state of a running ghost_hybrid, read
// from the maps it pins under /sys/fs/bpf/ghost_hybrid (root only).
#ifndef GHOST_HYBRID_AGENT_CLI_DUMP_H_
#define GHOST_HYBRID_AGENT_CLI_DUMP_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "bpf/intf.h"

namespace gh {

// Returns the readable dump, or an error naming why it cannot be read.
absl::StatusOr<std::string> DumpPinnedState(const std::string& pin_dir);

// The kernel side's counters (enum gh_stat), read from the pinned .bss of
// the running ghost_hybrid. Fails if none runs, or if it is another build
// (its .bss has another size).
absl::StatusOr<std::array<uint64_t, GH_NR_STATS>> ReadPinnedCounters(const std::string& pin_dir);

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_CLI_DUMP_H_
