// SPDX-License-Identifier: Apache-2.0
// The transaction conformance table (tests/common/txn_conformance.h) on the
// simulated kernel; tests/guest/txn_conformance_test.cc walks the same
// table on the real one.
#include "agent/sim/sim_kernel.h"
#include "gtest/gtest.h"
#include "tests/common/txn_conformance.h"

namespace gh::testing {
namespace {

using A = SimAction;
const absl::Duration kUs = absl::Microseconds(1);

// Commits one slot on `cpu` and returns its outcome.
uint32_t CommitOne(SimKernel& k, int cpu, RunRequestOptions o) {
  RunRequest* req = k.GetRunRequest(cpu);
  req->Open(o);
  req->Commit();
  return req->state();
}

// The sync group cases: T on CPU 0 and U on CPU 1, one of them stale as
// the case says, then the valid one alone again with the same barrier.
TxnOutcomes RunSyncGroup(SimKernel& k, TxnCase c, uint64_t t) {
  const uint64_t u = k.AddTask({.script = {A::Run(absl::Seconds(10))}});
  k.RunFor(kUs);
  RunRequestOptions ot = {.target = t, .target_barrier = k.tseq(t)};
  RunRequestOptions ou = {.target = u, .target_barrier = k.tseq(u)};
  if (c == TxnCase::kSyncGroupFirstStale) ot.target_barrier -= 1;
  if (c == TxnCase::kSyncGroupLastStale) ou.target_barrier -= 1;
  k.GetRunRequest(0)->Open(ot);
  k.GetRunRequest(1)->Open(ou);
  k.CommitSyncRequests(CpuList{0, 1});
  TxnOutcomes got = {k.GetRunRequest(0)->state(), k.GetRunRequest(1)->state()};
  // A group that COMPLETEd runs both; a failed one neither.
  const bool ran = c == TxnCase::kSyncGroup;
  EXPECT_EQ(k.task_state(t) == SimTaskState::kRunning, ran) << "T";
  EXPECT_EQ(k.task_state(u) == SimTaskState::kRunning, ran) << "U";
  if (c == TxnCase::kSyncGroupFirstStale) got.retry = CommitOne(k, 1, ou);
  if (c == TxnCase::kSyncGroupLastStale) got.retry = CommitOne(k, 0, ot);
  return got;
}

// Builds `c` on a fresh 4-CPU simulated kernel whose enclave is CPUs 0-2
// (no agents: the test plays the agent) and returns the outcomes.
TxnOutcomes RunCase(TxnCase c) {
  SimConfig cfg;
  cfg.topology = Topology::Synthetic(4, 1, 4, 1);
  cfg.enclave_cpus = CpuList{0, 1, 2};
  cfg.auto_step_agents = false;
  cfg.bpf_pick = c == TxnCase::kFastPathOwned;
  SimKernel k(cfg);
  const A forever = A::Run(absl::Seconds(10));
  if (c == TxnCase::kFastPathOwned) {
    // Every enclave CPU busy (the fast path ran these), then T queues.
    for (int i = 0; i < 3; ++i) k.AddTask({.script = {forever}});
    k.RunFor(kUs);
  }
  SimTaskSpec spec = {.script = {A::Run(50 * kUs), A::Block(absl::Seconds(1)), forever}};
  if (c == TxnCase::kCpuOutsideAffinity) spec.affinity = CpuList{1};
  const uint64_t t = k.AddTask(spec);
  k.RunFor(kUs);
  RunRequestOptions o = {.target = t, .target_barrier = k.tseq(t)};
  switch (c) {
    case TxnCase::kSyncGroup:
    case TxnCase::kSyncGroupLastStale:
    case TxnCase::kSyncGroupFirstStale: return RunSyncGroup(k, c, t);
    case TxnCase::kComplete:
    case TxnCase::kCpuOutsideAffinity:
    case TxnCase::kFastPathOwned: break;
    case TxnCase::kCpuOutsideEnclave: return {CommitOne(k, 3, o)};
    case TxnCase::kNullGtid: o.target = GH_NULL_GTID; break;
    case TxnCase::kUnknownGtid: o.target = t + (1ull << 32); break;
    case TxnCase::kBadFlags: o.commit_flags = 1u << 7; break;
    case TxnCase::kStaleAgentBarrier:
      o.agent_barrier = k.aseq(0) + 5;
      o.check_agent_barrier = true;
      break;
    case TxnCase::kIdle: o.target = GH_IDLE_GTID; break;
    case TxnCase::kStaleTaskBarrier: o.target_barrier -= 1; break;
    case TxnCase::kTaskOnOtherCpu:
    case TxnCase::kAllowTaskOnCpu:
      EXPECT_EQ(CommitOne(k, 0, o), static_cast<uint32_t>(GH_TXN_COMPLETE));
      o.target_barrier = k.tseq(t);
      if (c == TxnCase::kTaskOnOtherCpu) return {CommitOne(k, 1, o)};
      o.commit_flags = GH_ALLOW_TASK_ONCPU;
      break;
    case TxnCase::kTaskAsleep:
      EXPECT_EQ(CommitOne(k, 0, o), static_cast<uint32_t>(GH_TXN_COMPLETE));
      k.RunFor(100 * kUs);  // it runs 50 us, then blocks
      EXPECT_EQ(k.task_state(t), SimTaskState::kBlocked);
      o.target_barrier = k.tseq(t);
      break;
  }
  return {CommitOne(k, 0, o)};
}

// Tests that every case of bpf/txn_spec.h gets its outcome on the simulator.
TEST(TxnConformance, SimulatorGivesEveryCaseItsOutcome) {
  for (const TxnConformanceRow& row : kTxnConformance) ExpectOutcomes("sim", row, RunCase(row.c));
}

}  // namespace
}  // namespace gh::testing
