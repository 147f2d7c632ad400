// SPDX-License-Identifier: Apache-2.0
#include "agent/lib/stats.h"

#include <algorithm>

#include "nlohmann/json.hpp"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/lib/message.h"
#include "agent/lib/run_request.h"

namespace gh {

void AgentStats::CountMessage(int type) {
  if (type >= 0 && type < GH_MSG_NR_TYPES)
    msgs_[type].fetch_add(1, std::memory_order_relaxed);
}

void AgentStats::CountTxn(uint32_t state) {
  if (state < GH_TXN_NR_STATES) txns_[state].fetch_add(1, std::memory_order_relaxed);
}

int AgentStats::GroupBucket(int size) {
  int b = 0;
  while (b + 1 < kGroupSizeBuckets && size > (1 << b)) ++b;
  return b;
}

void AgentStats::CountGroup(int size) {
  if (size <= 0) return;
  groups_[GroupBucket(size)].fetch_add(1, std::memory_order_relaxed);
  group_txns_.fetch_add(size, std::memory_order_relaxed);
  Count(kCtrCommitGroups);
}

uint64_t AgentStats::messages(int type) const {
  if (type < 0 || type >= GH_MSG_NR_TYPES) return 0;
  return msgs_[type].load(std::memory_order_relaxed);
}

uint64_t AgentStats::txns(uint32_t state) const {
  if (state >= GH_TXN_NR_STATES) return 0;
  return txns_[state].load(std::memory_order_relaxed);
}

uint64_t AgentStats::groups(int bucket) const {
  if (bucket < 0 || bucket >= kGroupSizeBuckets) return 0;
  return groups_[bucket].load(std::memory_order_relaxed);
}

const char* AgentStats::CounterName(AgentCounter c) {
  switch (c) {
    case kCtrBpfPicksSeen: return "bpf_picks_seen";
    case kCtrGlobalMigrations: return "global_migrations";
    case kCtrAgentHandoffs: return "agent_handoffs";
    case kCtrSlicePreemptions: return "slice_preemptions";
    case kCtrCommitGroups: return "commit_groups";
    case kCtrSkippedUnread: return "skipped_unread";
    case kCtrSkippedOnCpu: return "skipped_oncpu";
    case kCtrLocalYields: return "local_yields";
    case kCtrPings: return "pings";
    case kCtrUnknownTaskMsgs: return "unknown_task_msgs";
    case kCtrMigrationsDeferred: return "migrations_deferred";
    case kCtrTaskResyncs: return "task_resyncs";
    case kCtrTasksAdopted: return "tasks_adopted";
    case kCtrMsgsSkipped: return "msgs_skipped_after_resync";
    case kCtrUnexpectedWakeups: return "unexpected_wakeups";
    case kNumAgentCounters: break;
  }
  return "?";
}

namespace {

// Returns "le<upper bound>" for a group-size bucket.
std::string BucketName(int b) { return absl::StrCat("le", 1 << b); }

}  // namespace

std::string AgentStats::ToLine() const {
  std::vector<std::string> msgs, txn, grp, ctrs;
  for (int t = 0; t < GH_MSG_NR_TYPES; ++t)
    if (messages(t)) msgs.push_back(absl::StrCat(Message::TypeName(t), "=", messages(t)));
  for (uint32_t s = 0; s < GH_TXN_NR_STATES; ++s)
    if (txns(s)) txn.push_back(absl::StrCat(RunRequest::StateName(s), "=", txns(s)));
  for (int b = 0; b < kGroupSizeBuckets; ++b)
    if (groups(b)) grp.push_back(absl::StrCat(BucketName(b), "=", groups(b)));
  for (int c = 0; c < kNumAgentCounters; ++c) {
    auto ctr = static_cast<AgentCounter>(c);
    ctrs.push_back(absl::StrCat(CounterName(ctr), "=", counter(ctr)));
  }
  std::vector<std::string> hops;
  for (int h = 0; h < kNumHops; ++h) {
    const HopLatency& l = hops_[h];
    if (l.count() == 0) continue;
    hops.push_back(absl::StrCat(HopLatency::HopName(static_cast<Hop>(h)), " n=", l.count(),
                                " p50<=", l.QuantileLimitUs(0.5), "us p99<=",
                                l.QuantileLimitUs(0.99), "us max=", l.max_ns() / 1000, "us"));
  }
  return absl::StrCat("msgs ", absl::StrJoin(msgs, " "), " | txns ",
                      absl::StrJoin(txn, " "), " | groups ",
                      absl::StrJoin(grp, " "), " | ",
                      absl::StrJoin(ctrs, " "), " | hops ", absl::StrJoin(hops, ", "));
}

nlohmann::json AgentStats::ToJson() const {
  nlohmann::json msgs = nlohmann::json::object(), txn = nlohmann::json::object(),
                 grp = nlohmann::json::object(), ctrs = nlohmann::json::object();
  for (int t = GH_MSG_NONE + 1; t < GH_MSG_NR_TYPES; ++t) msgs[Message::TypeName(t)] = messages(t);
  for (uint32_t s = GH_TXN_COMPLETE; s < GH_TXN_NR_STATES; ++s)
    txn[RunRequest::StateName(s)] = txns(s);
  for (int b = 0; b < kGroupSizeBuckets; ++b) grp[BucketName(b)] = groups(b);
  for (int c = 0; c < kNumAgentCounters; ++c) {
    auto ctr = static_cast<AgentCounter>(c);
    ctrs[CounterName(ctr)] = counter(ctr);
  }
  nlohmann::json hops = nlohmann::json::object();
  for (int h = 0; h < kNumHops; ++h) {
    const HopLatency& l = hops_[h];
    hops[HopLatency::HopName(static_cast<Hop>(h))] = {{"count", l.count()},
                                                      {"p50_le_us", l.QuantileLimitUs(0.5)},
                                                      {"p99_le_us", l.QuantileLimitUs(0.99)},
                                                      {"max_us", l.max_ns() / 1000}};
  }
  return {{"messages", msgs}, {"txns", txn}, {"groups", grp}, {"group_txns", group_txns()},
          {"counters", ctrs}, {"committed_pids", CommittedPids()}, {"hops", hops}};
}

void AgentStats::NoteCommitted(uint64_t gtid) {
  absl::MutexLock lock(&committed_mu_);
  if (committed_pids_.size() < 4 * GH_MAX_TASKS) committed_pids_.insert(GH_GTID_PID(gtid));
}

std::vector<uint32_t> AgentStats::CommittedPids() const {
  absl::MutexLock lock(&committed_mu_);
  std::vector<uint32_t> pids(committed_pids_.begin(), committed_pids_.end());
  std::sort(pids.begin(), pids.end());
  return pids;
}

}  // namespace gh
