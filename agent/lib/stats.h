// SPDX-License-Identifier: Apache-2.0
// stats.h: AgentStats, the counters every scheduler's agents keep.
//
// Messages by type, transactions by outcome, commit-group sizes, named
// event counters (AgentCounter) and where runnable tasks waited
// (HopLatency). Agents bump them with relaxed atomic adds (they are
// statistics: no ordering is implied), a CLI thread may read them at any
// time and print them as one stats line (ToLine) or JSON (ToJson).
#ifndef GHOST_HYBRID_AGENT_LIB_STATS_H_
#define GHOST_HYBRID_AGENT_LIB_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "agent/lib/hop_latency.h"

#include "bpf/intf.h"
#include "nlohmann/json_fwd.hpp"

namespace gh {

enum AgentCounter {
  kCtrBpfPicksSeen,       // TASK_ON_CPU with GH_MSG_F_BPF_PICKED
  kCtrGlobalMigrations,   // global role handed to another CPU
  kCtrAgentHandoffs,      // ... of which by the agent (PickNextGlobalCPU)
  kCtrSlicePreemptions,   // a task preempted because its slice expired
  kCtrCommitGroups,       // CommitRunRequests calls
  kCtrSkippedUnread,      // dequeued task skipped: unread messages
  kCtrSkippedOnCpu,       // dequeued task skipped: still on a CPU
  kCtrLocalYields,        // LocalYield calls
  kCtrPings,              // agents pinged
  kCtrUnknownTaskMsgs,    // message about a gtid the agent does not know
  kCtrMigrationsDeferred, // per-CPU AssociateTask found a stale barrier
  kCtrTaskResyncs,        // tasks resynced from their status word (lost msgs)
  kCtrTasksAdopted,       // tasks found in the status words: TASK_NEW lost, or taken over
  kCtrMsgsSkipped,        // messages a resync had already accounted for
  kCtrUnexpectedWakeups,  // WAKEUP for a task not seen blocked (expect 0)
  kNumAgentCounters,
};

// Group-size histogram buckets: 1, 2, 3-4, 5-8, ..., 129-256.
inline constexpr int kGroupSizeBuckets = 9;

class AgentStats {
 public:
  void CountMessage(int type);
  void CountTxn(uint32_t state);
  void CountGroup(int size);
  void Count(AgentCounter c, uint64_t n = 1) {
    counters_[c].fetch_add(n, std::memory_order_relaxed);
  }
  void NoteHop(Hop h, uint64_t ns) { hops_[h].Note(ns); }
  const HopLatency& hop(Hop h) const { return hops_[h]; }
  // Records that a transaction of this agent ran task @gtid (COMPLETE):
  // which tasks an agent decided for, e.g. after it took over (--attach).
  void NoteCommitted(uint64_t gtid);
  // The pids of the tasks NoteCommitted saw, ascending.
  std::vector<uint32_t> CommittedPids() const;

  uint64_t messages(int type) const;
  uint64_t txns(uint32_t state) const;
  // Returns the number of groups whose size fell in `bucket`.
  uint64_t groups(int bucket) const;
  uint64_t group_txns() const { return group_txns_.load(std::memory_order_relaxed); }
  uint64_t counter(AgentCounter c) const {
    return counters_[c].load(std::memory_order_relaxed);
  }

  static const char* CounterName(AgentCounter c);
  // Returns the histogram bucket of a group of `size` transactions.
  static int GroupBucket(int size);

  // One line: "msgs TASK_NEW=3 ... | txns COMPLETE=2 ... | groups le1=2 ...
  // | bpf_picks_seen=0 ... | hops wait_to_commit n=9 p50<=8us p99<=64us
  // max=40us ..." (zero entries and empty hops omitted, counters always
  // shown).
  std::string ToLine() const;
  // A JSON object {"messages":{...},"txns":{...},"groups":{...},
  // "group_txns":N,"counters":{...},"committed_pids":[...],"hops":{NAME:
  // {"count":N,"p50_le_us":N,"p99_le_us":N,"max_us":N}}}.
  // A fixed schema: every message type, transaction outcome, group bucket
  // and counter is present, zero or not.
  nlohmann::json ToJson() const;

 private:
  std::array<std::atomic<uint64_t>, GH_MSG_NR_TYPES> msgs_{};
  std::array<std::atomic<uint64_t>, GH_TXN_NR_STATES> txns_{};
  std::array<std::atomic<uint64_t>, kGroupSizeBuckets> groups_{};
  std::atomic<uint64_t> group_txns_{0};
  std::array<std::atomic<uint64_t>, kNumAgentCounters> counters_{};
  std::array<HopLatency, kNumHops> hops_{};
  mutable absl::Mutex committed_mu_;
  // Bounded by the kernel side's task limit (GH_MAX_TASKS live at once).
  absl::flat_hash_set<uint32_t> committed_pids_ ABSL_GUARDED_BY(committed_mu_);
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_STATS_H_
