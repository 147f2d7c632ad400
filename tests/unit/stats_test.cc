// SPDX-License-Identifier: Apache-2.0
// Tests of AgentStats (agent/lib/stats.h).
#include "agent/lib/stats.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace gh {
namespace {

// Tests that messages, outcomes, group sizes and counters are counted and
// printed as a stats line and JSON.
TEST(AgentStats, CountsAndPrints) {
  AgentStats s;
  s.CountMessage(GH_MSG_TASK_NEW);
  s.CountMessage(GH_MSG_TASK_NEW);
  s.CountMessage(GH_MSG_CPU_BUSY);
  s.CountMessage(9999);  // ignored
  s.CountTxn(GH_TXN_COMPLETE);
  s.CountTxn(GH_TXN_TARGET_STALE);
  s.CountGroup(1);
  s.CountGroup(3);
  s.CountGroup(64);
  s.Count(kCtrSlicePreemptions, 2);
  EXPECT_EQ(s.messages(GH_MSG_TASK_NEW), 2u);
  EXPECT_EQ(s.txns(GH_TXN_TARGET_STALE), 1u);
  EXPECT_EQ(s.groups(AgentStats::GroupBucket(1)), 1u);
  EXPECT_EQ(s.groups(AgentStats::GroupBucket(4)), 1u);  // 3 -> "le4"
  EXPECT_EQ(s.groups(6), 1u);                           // 64 -> "le64"
  EXPECT_EQ(s.group_txns(), 68u);
  EXPECT_EQ(s.counter(kCtrCommitGroups), 3u);
  EXPECT_EQ(s.counter(kCtrSlicePreemptions), 2u);
  const std::string line = s.ToLine();
  EXPECT_NE(line.find("TASK_NEW=2"), std::string::npos) << line;
  EXPECT_NE(line.find("TARGET_STALE=1"), std::string::npos) << line;
  EXPECT_NE(line.find("slice_preemptions=2"), std::string::npos) << line;
  const nlohmann::json json = s.ToJson();
  EXPECT_EQ(json["messages"]["CPU_BUSY"], 1) << json;
  EXPECT_EQ(json["groups"]["le64"], 1) << json;
  // A fixed schema: counts that stayed zero are there too.
  EXPECT_EQ(json["messages"]["TASK_DEAD"], 0) << json;
  EXPECT_EQ(json["txns"]["POISONED"], 0) << json;
  EXPECT_EQ(json["counters"].size(), static_cast<size_t>(kNumAgentCounters));
}

// Tests that a hop's samples land in power-of-two microsecond buckets, that
// the quantiles name the bucket's bound and the maximum is exact, and that
// only hops with samples are printed (all of them are in the JSON).
TEST(AgentStats, HopLatencyBucketsQuantilesAndMaximum) {
  AgentStats s;
  for (int i = 0; i < 98; ++i) s.NoteHop(kHopWaitToCommit, 3000);  // 3 us: bucket "< 4 us"
  s.NoteHop(kHopWaitToCommit, 500);                                 // < 1 us
  s.NoteHop(kHopWaitToCommit, 20'000'000);                          // 20 ms
  const HopLatency& h = s.hop(kHopWaitToCommit);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.bucket(0), 1u);
  EXPECT_EQ(h.bucket(HopLatency::Bucket(3000)), 98u);
  EXPECT_EQ(HopLatency::BucketLimitUs(HopLatency::Bucket(3000)), 4u);
  EXPECT_EQ(h.QuantileLimitUs(0.5), 4u);
  EXPECT_EQ(h.QuantileLimitUs(0.99), 4u);
  EXPECT_EQ(h.QuantileLimitUs(1.0), 32768u);  // 20 ms < 2^15 us
  EXPECT_EQ(h.max_ns(), 20'000'000u);
  EXPECT_EQ(s.hop(kHopCommitToRun).QuantileLimitUs(0.5), 0u);  // no samples
  const std::string line = s.ToLine();
  EXPECT_NE(line.find("wait_to_commit n=100 p50<=4us p99<=4us max=20000us"), std::string::npos)
      << line;
  EXPECT_EQ(line.find("commit_to_run"), std::string::npos) << line;
  const nlohmann::json json = s.ToJson();
  EXPECT_EQ(json["hops"]["wait_to_commit"]["max_us"], 20000) << json;
  EXPECT_EQ(json["hops"]["wait_to_pick"]["count"], 0) << json;
}

}  // namespace
}  // namespace gh
