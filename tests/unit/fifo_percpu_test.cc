// SPDX-License-Identifier: Apache-2.0
// Tests of the per-CPU FIFO scheduler on the simulated kernel, one per
// behaviour of ghOSt's per-CPU FIFO agent (the seed's walk-through).
#include "agent/schedulers/fifo_percpu.h"

#include <algorithm>

#include "agent/sim/sim_kernel.h"
#include "tests/unit/sim_test_util.h"
#include "gtest/gtest.h"

namespace gh {
namespace {

using ::gh::testing::A;
using ::gh::testing::kUs;
using ::gh::testing::Machine;
using ::gh::testing::Runs;
using ::gh::testing::Records;

// Tests that TASK_NEW assignment balances the CPUs: queued plus running
// tasks per CPU stay within one of each other, also after tasks leave one
// CPU (new tasks fill that CPU rather than continue round-robin).
TEST(PerCpuFifo, AssignCpuKeepsRunQueuesWithinOneTaskOfEachOther) {
  SimKernel k(Machine(4));
  FullPerCpuFifoAgent fa(&k, {});
  PerCpuFifoScheduler* s = fa.scheduler();
  std::vector<uint64_t> g;
  for (int i = 0; i < 12; ++i) g.push_back(k.AddTask(Runs(absl::Milliseconds(1))));
  auto check = [&](int expected_total) {
    int lo = 1 << 30, hi = 0, total = 0;
    for (int cpu = 0; cpu < 4; ++cpu) {
      // Queued plus running (the kernel's view: the scheduler learns of a
      // running task only from its TASK_ON_CPU).
      const int n = static_cast<int>(s->QueueSize(cpu)) + (k.running_on(cpu) ? 1 : 0);
      EXPECT_EQ(n, s->Assigned(cpu)) << cpu;
      lo = std::min(lo, n);
      hi = std::max(hi, n);
      total += n;
    }
    EXPECT_LE(hi - lo, 1);
    EXPECT_EQ(total, expected_total);
  };
  k.RunFor(3 * kUs);
  check(12);
  EXPECT_EQ(k.task_cpu(g[2]), 2);
  k.Depart(g[6]);   // both queued on CPU 2
  k.Depart(g[10]);
  k.RunFor(3 * kUs);
  EXPECT_EQ(s->Assigned(2), 1);
  for (int i = 0; i < 2; ++i) k.AddTask(Runs(absl::Milliseconds(1)));
  k.RunFor(3 * kUs);
  check(12);
  EXPECT_EQ(s->Assigned(2), 3);
}

// Tests that a new task is migrated to its CPU: its later messages arrive
// on that CPU's channel (AssociateTask), it runs there, and that CPU's
// agent was pinged to notice it.
TEST(PerCpuFifo, TaskNewMigratesToAssignedCpuAndPingsItsAgent) {
  SimKernel k(Machine(3));
  FullPerCpuFifoAgent fa(&k, {});
  PerCpuFifoScheduler* s = fa.scheduler();
  k.RunFor(5 * kUs);  // all agents parked
  const uint64_t a = k.AddTask({.script = {A::Run(20 * kUs), A::Block(5 * kUs), A::Run(5 * kUs)}});
  const uint64_t b = k.AddTask(Runs(20 * kUs));
  const uint64_t c = k.AddTask(Runs(20 * kUs));
  k.RunFor(3 * kUs);
  EXPECT_EQ(k.running_on(0), a);
  EXPECT_EQ(k.running_on(1), b);
  EXPECT_EQ(k.running_on(2), c);
  EXPECT_EQ(k.channel(0).published(), 3u);  // the TASK_NEWs only
  EXPECT_GE(k.channel(1 + 1).published(), 1u);  // b's TASK_ON_CPU on cpu 1's channel
  const uint64_t pings = s->stats().counter(kCtrPings);
  EXPECT_EQ(pings, 3u);
  ASSERT_TRUE(k.RunUntilDone(absl::Milliseconds(1)).ok());
  for (const TraceRecord& r : Records(k, TraceKind::kRun, a)) EXPECT_EQ(r.cpu, 0);
  EXPECT_EQ(k.channel(0).published(), 3u);  // a's wakeup went to cpu 0's channel
}

// Tests that TaskOnCpu happens from the TASK_ON_CPU message: after a
// successful local commit the scheduler does not yet count the task as the
// CPU's current one; it does once the message is consumed.
TEST(PerCpuFifo, TaskOnCpuComesFromTheTaskOnCpuMessage) {
  SimKernel k(Machine(1, /*auto_step=*/false));
  FullPerCpuFifoAgent fa(&k, {});
  PerCpuFifoScheduler* s = fa.scheduler();
  const uint64_t a = k.AddTask(Runs(50 * kUs));
  k.RunFor(absl::ZeroDuration());
  k.StepAgent(0);  // TASK_NEW -> migrate -> local commit
  ASSERT_EQ(k.running_on(0), a);
  EXPECT_FALSE(k.agent_active(0));  // the agent gave its CPU to the task
  EXPECT_EQ(s->CurrentGtid(0), 0u);
  Channel& ch = k.CpuChannel(0);
  Message m = ch.Peek();
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m.type(), GH_MSG_TASK_ON_CPU);
  s->DispatchMessage(m);
  ch.Consume(m);
  EXPECT_EQ(s->CurrentGtid(0), a);
}

// Tests that a local commit carries the agent barrier: when a message for
// the agent lands between its barrier read and the commit, the commit fails
// AGENT_STALE, the task goes back to the front and runs on the next try.
TEST(PerCpuFifo, LocalCommitWithStaleAgentBarrierIsRequeuedAtFront) {
  SimKernel k(Machine(2));
  FullPerCpuFifoAgent fa(&k, {});
  PerCpuFifoScheduler* s = fa.scheduler();
  k.RunFor(5 * kUs);
  const uint64_t a = k.AddTask(Runs(50 * kUs));  // -> cpu 0
  const uint64_t b = k.AddTask(Runs(50 * kUs));  // -> cpu 1
  const uint64_t c = k.AddTask(Runs(50 * kUs));  // -> cpu 0, behind a
  bool raced = false;
  k.SetBeforeCommitHook([&](const CpuList& mask) {
    if (raced || !mask.IsSet(0)) return;
    raced = true;
    k.SetNice(c, 1);  // a message on cpu 0's channel: Aseq(0) moves
  });
  k.RunFor(2 * kUs);
  auto txns = Records(k, TraceKind::kTxn, a);
  ASSERT_GE(txns.size(), 2u);
  EXPECT_EQ(txns[0].arg, static_cast<uint32_t>(GH_TXN_AGENT_STALE));
  EXPECT_EQ(txns[1].arg, static_cast<uint32_t>(GH_TXN_COMPLETE));
  EXPECT_EQ(k.running_on(0), a);
  EXPECT_EQ(k.running_on(1), b);
  EXPECT_EQ(s->QueueGtids(0), (std::vector<uint64_t>{c}));
  EXPECT_EQ(s->stats().txns(GH_TXN_AGENT_STALE), 1u);
}

// Tests that a task preempted (here by a higher class) goes to the front of
// its CPU's queue, the boosted agent yields without committing while the
// CPU is held, and the task resumes first when the CPU comes back.
TEST(PerCpuFifo, PreemptedTaskResumesFirstAndHeldCpuGetsNothing) {
  SimKernel k(Machine(2));
  FullPerCpuFifoAgent fa(&k, {});
  PerCpuFifoScheduler* s = fa.scheduler();
  k.RunFor(5 * kUs);
  const uint64_t a = k.AddTask(Runs(50 * kUs));  // -> cpu 0
  k.AddTask(Runs(50 * kUs));                     // -> cpu 1
  const uint64_t c = k.AddTask(Runs(50 * kUs));  // -> cpu 0
  k.AddHigherClassBusy(0, 20 * kUs, 40 * kUs);
  k.RunFor(30 * kUs);
  EXPECT_EQ(k.running_on(0), 0u);
  EXPECT_EQ(s->QueueGtids(0), (std::vector<uint64_t>{a, c}));
  EXPECT_FALSE(k.agent_active(0));  // yielded while boosted
  k.RunFor(15 * kUs);
  EXPECT_EQ(k.running_on(0), a);
  for (const TraceRecord& r : Records(k, TraceKind::kRun))
    if (r.cpu == 0) {
      EXPECT_TRUE(r.t_ns < 20000 || r.t_ns >= 40000) << r.ToString();
    }
  ASSERT_TRUE(k.RunUntilDone(absl::Milliseconds(1)).ok());
  const auto runs_c = Records(k, TraceKind::kRun, c);
  ASSERT_EQ(runs_c.size(), 1u);
  EXPECT_GT(runs_c[0].t_ns, 60000);  // after a finished its 50us
}

// Tests that a yielding task goes to the back of its CPU's queue.
TEST(PerCpuFifo, YieldingTaskGoesToBackOfItsQueue) {
  SimKernel k(Machine(1));
  FullPerCpuFifoAgent fa(&k, {});
  const uint64_t y = k.AddTask({.script = {A::Run(10 * kUs), A::Yield(), A::Run(10 * kUs)}});
  const uint64_t o = k.AddTask(Runs(10 * kUs));
  ASSERT_TRUE(k.RunUntilDone(absl::Milliseconds(1)).ok());
  std::vector<uint64_t> order;
  for (const TraceRecord& r : Records(k, TraceKind::kRun)) order.push_back(r.gtid);
  EXPECT_EQ(order, (std::vector<uint64_t>{y, o, y}));
}

// Tests that the scheduler refuses the kernel's fast path.
TEST(PerCpuFifoDeathTest, RefusesBpfPick) {
  SimConfig c = Machine(2);
  c.bpf_pick = true;
  SimKernel k(c);
  EXPECT_DEATH(FullPerCpuFifoAgent(&k, {}), "fast path");
}

// Tests affinity at scale in the per-CPU model: 10,000 tasks on 64 CPUs
// with single-CPU or random masks, arriving over 50 ms, are each assigned
// to an allowed CPU: every task runs to completion, only where its mask
// allows, none waiting over 2 ms for its first run (0.04 ms was measured).
TEST(PerCpuFifo, TenThousandTasksWithRandomAffinityAllRunWhereAllowed) {
  SimKernel k(Machine(64));
  FullPerCpuFifoAgent fa(&k, {});
  ::gh::testing::AffinityWorkload w(k, 10000, /*seed=*/7);
  ASSERT_TRUE(k.RunUntilDone(absl::Seconds(2)).ok());
  const int64_t max_wait = w.CheckRanWhereAllowed(k);
  EXPECT_LT(max_wait, absl::ToInt64Nanoseconds(absl::Milliseconds(2)))
      << "longest wait for a first run: " << max_wait << " ns";
}

}  // namespace
}  // namespace gh
