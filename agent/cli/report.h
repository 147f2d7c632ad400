// SPDX-License-Identifier: Apache-2.0
// report.h: the CLI's stats line, exit summary and JSON, from the agent's
// counters (AgentStats) and the kernel side's (BpfScheduler::stat).
#ifndef GHOST_HYBRID_AGENT_CLI_REPORT_H_
#define GHOST_HYBRID_AGENT_CLI_REPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/kernel/bpf_scheduler.h"
#include "agent/lib/stats.h"
#include "nlohmann/json.hpp"

namespace gh {

// A point-in-time copy of the counters a report needs.
struct Snapshot {
  absl::Time when;
  uint64_t tasks_new = 0, tasks_gone = 0, runnable_msgs = 0, messages = 0;
  uint64_t txn_ok = 0, txn_failed = 0, bpf_picks = 0, migrations = 0, slice_preemptions = 0;
  uint64_t kernel_msgs = 0, kernel_dropped = 0, kernel_handoffs = 0;

  static Snapshot Take(const AgentStats& agent, const BpfScheduler& kernel);
};

// "t=3.0s tasks=5 runnable=2 msgs/s=1200 txn ok=.. failed=.. (TARGET_STALE=..)
//  bpf_picks/s=.. migrations=.. slice_preemptions=.."
std::string StatsLine(const Snapshot& start, const Snapshot& prev, const Snapshot& now,
                      const AgentStats& agent);

// The JSON and --monitor name of kernel counter `stat` (enum gh_stat).
const char* KernelStatName(int stat);

// What the agent threads cost the machine: their CPU time and Step() calls
// (FullAgent::ThreadCpuTime, ThreadSteps).
struct AgentCost {
  absl::Duration cpu;
  uint64_t steps = 0;
};

// The final counters as one JSON object, with whether the kernel ejected
// the scheduler, COMMAND's exit status (command_status < 0: none, null) and
// the agent threads' cost ("agent_cpu_seconds", "agent_steps").
// A fixed schema: every counter is present, zero or not.
nlohmann::json StatsJson(const Snapshot& start, const Snapshot& now, const AgentStats& agent,
                         const BpfScheduler& kernel, bool ejected, int command_status,
                         const AgentCost& cost);

// Writes `j` to `path` (the whole file), or says why it could not.
absl::Status WriteJson(const std::string& path, const nlohmann::json& j);

// The kernel side's view, for debugging stalls (GHOST_HYBRID_DEBUG=1): per
// CPU its transaction slot and agent status word, each agent thread's state
// (with its kernel stack while it waits on a page), and the managed tasks'
// status words.
std::string DebugState(const BpfScheduler& kernel);

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_CLI_REPORT_H_
