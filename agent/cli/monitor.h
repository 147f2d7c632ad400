// SPDX-License-Identifier: Apache-2.0
// monitor.h: `ghost_hybrid --monitor[=INTERVAL] [--json]`: watch a running
// ghost_hybrid from another shell. Every INTERVAL it reads the kernel side's
// counters from the pinned maps (root only) and prints one line of rates
// and totals, or with --json one JSON object per line (every counter, its
// total and its rate per second). It ends on SIGINT/SIGTERM, or when the
// scheduler it watches goes away.
#ifndef GHOST_HYBRID_AGENT_CLI_MONITOR_H_
#define GHOST_HYBRID_AGENT_CLI_MONITOR_H_

#include <string>

#include "absl/time/time.h"

namespace gh {

// Returns the exit status: 0 once the watched scheduler is gone or a
// signal ends it, 3 if none runs at the start (with one sentence why).
int RunMonitor(const std::string& pin_dir, absl::Duration interval, bool json);

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_CLI_MONITOR_H_
