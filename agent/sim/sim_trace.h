// SPDX-License-Identifier: Apache-2.0
// sim_trace.h: the simulator's trace, one record per scheduling event.
//
// Two runs with the same seed and configuration must produce equal traces;
// tests compare them with ==. Records are small PODs so a 10,000-task run
// keeps its trace in a few megabytes; ToString() renders one as
// "t=1200 cpu=3 run gtid=0x100000401 bpf".
#ifndef GHOST_HYBRID_AGENT_SIM_SIM_TRACE_H_
#define GHOST_HYBRID_AGENT_SIM_SIM_TRACE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace gh {

enum class TraceKind : uint8_t {
  kArrive,  // TASK_NEW published
  kRun,     // task starts on cpu; arg 1 iff picked by the fast path
  kStop,    // task leaves cpu; arg = message type (BLOCKED, PREEMPT, ...)
  kTxn,     // transaction outcome on cpu; arg = gh_txn_state
  kEnd,     // task exited or departed; arg = message type
  kBusy,    // higher class takes cpu (arg 1) or returns it (arg 0)
  kPing,    // agent of cpu pinged; arg 1 iff made global
  kPark,    // agent of cpu parked
};

struct TraceRecord {
  int64_t t_ns;
  int32_t cpu;
  TraceKind kind;
  uint32_t arg;
  uint64_t gtid;

  bool operator==(const TraceRecord& o) const {
    return t_ns == o.t_ns && cpu == o.cpu && kind == o.kind && arg == o.arg &&
           gtid == o.gtid;
  }
  bool operator!=(const TraceRecord& o) const { return !(*this == o); }
  std::string ToString() const;
};

// Returns the records joined by newlines.
std::string TraceToString(const std::vector<TraceRecord>& trace);

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_SIM_SIM_TRACE_H_
