// SPDX-License-Identifier: Apache-2.0
// The transaction conformance table (tests/common/txn_conformance.h) on the
// simulated kernel; tests/guest/txn_conformance_test.cc walks the same
// table on the real one.
#include <cstdio>

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

// Builds `c` on a fresh 4-CPU simulated kernel whose enclave is CPUs 0-2
// (no agents: the test plays the agent) and returns the outcome.
uint32_t RunCase(TxnCase c) {
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
    case TxnCase::kComplete:
    case TxnCase::kCpuOutsideAffinity:
    case TxnCase::kFastPathOwned: break;
    case TxnCase::kCpuOutsideEnclave: return CommitOne(k, 3, o);
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
      if (c == TxnCase::kTaskOnOtherCpu) return CommitOne(k, 1, o);
      o.commit_flags = GH_ALLOW_TASK_ONCPU;
      break;
    case TxnCase::kTaskAsleep:
      EXPECT_EQ(CommitOne(k, 0, o), static_cast<uint32_t>(GH_TXN_COMPLETE));
      k.RunFor(100 * kUs);  // it runs 50 us, then blocks
      EXPECT_EQ(k.task_state(t), SimTaskState::kBlocked);
      o.target_barrier = k.tseq(t);
      break;
  }
  return CommitOne(k, 0, o);
}

// Tests that every case of bpf/txn_spec.h gets its outcome on the simulator.
TEST(TxnConformance, SimulatorGivesEveryCaseItsOutcome) {
  for (const TxnConformanceRow& row : kTxnConformance) {
    const uint32_t got = RunCase(row.c);
    std::printf("conformance sim %-22s %s\n", row.name,
                RunRequest::StateName(got));
    EXPECT_STREQ(RunRequest::StateName(got), RunRequest::StateName(row.outcome)) << row.name;
  }
}

}  // namespace
}  // namespace gh::testing
