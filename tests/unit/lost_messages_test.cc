// SPDX-License-Identifier: Apache-2.0
// Tests of recovery from lost messages and of status-word lifetime, on the
// simulated kernel: channels far too small for the workload drop messages
// all the time, and every task must still run to completion, with its
// status word freed exactly once, by the agent, after it left.
#include <cstdio>
#include <memory>

#include "agent/schedulers/fifo_centralized.h"
#include "agent/schedulers/fifo_percpu.h"
#include "agent/sim/sim_kernel.h"
#include "agent/sim/sim_workload.h"
#include "gtest/gtest.h"
#include "tests/unit/sim_test_util.h"

namespace gh {
namespace {

using ::gh::testing::kUs;
using ::gh::testing::Machine;

enum class Model { kCentralized, kCentralizedBpfPick, kPerCpu };

std::unique_ptr<FullAgent> StartAgents(SimKernel& k, Model m) {
  if (m == Model::kPerCpu) return std::make_unique<FullPerCpuFifoAgent>(&k, PerCpuFifoConfig{});
  return std::make_unique<FullCentralizedFifoAgent>(
      &k, CentralizedFifoConfig{.global_cpu = 0, .preemption_time_slice = 100 * kUs});
}

// Runs 2,000 blocking, yielding, exiting and departing tasks on 8 CPUs
// whose channels hold `capacity` messages, and checks that nothing is lost.
void EveryTaskCompletesDespiteDroppedMessages(Model m, size_t capacity) {
  SimConfig c = Machine(8);
  c.channel_capacity = capacity;
  c.wake_latency = 30 * kUs;  // agents wake late: messages pile up meanwhile
  c.bpf_pick = m == Model::kCentralizedBpfPick;
  SimKernel k(c);
  std::unique_ptr<FullAgent> fa = StartAgents(k, m);
  const auto workload = RandomWorkload(/*seed=*/7, {.num_tasks = 2000,
                                                    .arrival_span = absl::Milliseconds(20)});
  for (const SimTaskSpec& spec : workload) k.AddTask(spec);

  const absl::Status done = k.RunUntilDone(absl::Seconds(10));
  ASSERT_TRUE(done.ok()) << done;
  k.RunFor(200 * kUs);  // the agents consume the last messages
  EXPECT_TRUE(k.violations().empty()) << k.violations().front();

  const AgentStats& stats = fa->scheduler()->stats();
  EXPECT_GT(k.kernel_stat(GH_STAT_MSGS_DROPPED), 100u) << "the test must drop messages";
  EXPECT_GT(stats.counter(kCtrTaskResyncs), 0u);
  std::printf("dropped %lu of %lu messages; %lu resyncs, %lu adopted, %lu skipped\n",
              k.kernel_stat(GH_STAT_MSGS_DROPPED),
              k.kernel_stat(GH_STAT_MSGS) + k.kernel_stat(GH_STAT_MSGS_DROPPED),
              stats.counter(kCtrTaskResyncs), stats.counter(kCtrTasksAdopted),
              stats.counter(kCtrMsgsSkipped));
  EXPECT_TRUE(fa->scheduler()->Empty()) << "the agent still holds tasks that left";
  // Every word came back, once, from the agent, after its task left.
  EXPECT_EQ(k.kernel_stat(GH_STAT_SW_FREED), 2000u);
  EXPECT_EQ(k.kernel_stat(GH_STAT_SW_FREE_REJECTED), 0u);
  EXPECT_EQ(k.kernel_stat(GH_STAT_SW_EXHAUSTED), 0u);
  fa->TerminateAgents(/*force=*/true);
}

TEST(LostMessages, CentralizedRunsEveryTaskWhenChannelsDropMessages) {
  EveryTaskCompletesDespiteDroppedMessages(Model::kCentralized, 4);
}

TEST(LostMessages, CentralizedWithFastPathRunsEveryTaskWhenChannelsDropMessages) {
  EveryTaskCompletesDespiteDroppedMessages(Model::kCentralizedBpfPick, 4);
}

TEST(LostMessages, PerCpuRunsEveryTaskWhenChannelsDropMessages) {
  EveryTaskCompletesDespiteDroppedMessages(Model::kPerCpu, 1);
}

// Tests that a task whose TASK_NEW was dropped is found in the status words
// and runs: the channel holds nothing at all while it arrives.
TEST(LostMessages, TaskWhoseTaskNewWasLostIsAdoptedAndRuns) {
  SimConfig c = Machine(2);
  c.channel_capacity = 0;
  SimKernel k(c);
  FullCentralizedFifoAgent fa(&k, {.global_cpu = 0});
  const uint64_t g = k.AddTask(::gh::testing::Runs(50 * kUs));
  k.RunFor(10 * kUs);
  EXPECT_GT(k.kernel_stat(GH_STAT_MSGS_DROPPED), 0u);
  ASSERT_TRUE(k.RunUntilDone(absl::Milliseconds(10)).ok());
  k.RunFor(50 * kUs);
  EXPECT_EQ(fa.scheduler()->stats().counter(kCtrTasksAdopted), 1u);
  EXPECT_FALSE(::gh::testing::Records(k, TraceKind::kRun, g).empty()) << "it never ran";
  EXPECT_EQ(k.kernel_stat(GH_STAT_SW_FREED), 1u);
  EXPECT_TRUE(k.violations().empty()) << k.violations().front();
  fa.TerminateAgents(/*force=*/true);
}

// Tests ghOSt's agent hand-over (--attach) on the simulated kernel: agent A
// stops halfway through a workload, leaving tasks queued, running and
// asleep, and unread messages in the channel; agent B, a fresh scheduler,
// takes every live task over from the status words (DiscoverTasks), skips
// the messages A left that its snapshot already covers, and runs every
// task to completion, each status word freed exactly once.
TEST(AgentTakeover, NewAgentAdoptsEveryLiveTaskAndRunsThemToCompletion) {
  SimConfig c = Machine(4);
  SimKernel k(c);
  auto a = std::make_unique<FullCentralizedFifoAgent>(
      &k, CentralizedFifoConfig{.global_cpu = 0, .preemption_time_slice = 100 * kUs});
  const auto workload = RandomWorkload(/*seed=*/11, {.num_tasks = 300,
                                                     .arrival_span = absl::Milliseconds(5)});
  for (const SimTaskSpec& spec : workload) k.AddTask(spec);
  k.RunFor(absl::Milliseconds(3));
  a->TerminateAgents(/*force=*/true);
  a.reset();
  int live = 0;
  for (uint32_t i = 0; i < GH_MAX_TASKS; ++i) {
    const StatusWord sw = k.TaskStatusWord(i);
    live += sw.in_use() && !sw.can_free();
  }
  ASSERT_GT(live, 20) << "the hand-over must happen mid-workload";

  FullCentralizedFifoAgent b(&k, {.global_cpu = 1, .preemption_time_slice = 100 * kUs});
  EXPECT_EQ(b.scheduler()->DiscoverTasks(), live);
  const absl::Status done = k.RunUntilDone(absl::Seconds(10));
  ASSERT_TRUE(done.ok()) << done;
  k.RunFor(200 * kUs);
  EXPECT_TRUE(k.violations().empty()) << k.violations().front();
  EXPECT_TRUE(b.scheduler()->Empty()) << "B still holds tasks that left";
  EXPECT_EQ(b.scheduler()->stats().counter(kCtrTasksAdopted), static_cast<uint64_t>(live));
  EXPECT_GE(b.scheduler()->stats().CommittedPids().size(), 1u);
  // Every task left, and its word came back once: from A or from B.
  EXPECT_EQ(k.kernel_stat(GH_STAT_SW_FREED), workload.size());
  EXPECT_EQ(k.kernel_stat(GH_STAT_SW_FREE_REJECTED), 0u);
  std::printf("handed over %d live tasks; B skipped %lu messages A left\n", live,
              b.scheduler()->stats().counter(kCtrMsgsSkipped));
  b.TerminateAgents(/*force=*/true);
}

// Tests that a dead task's status word is not reused until the agent frees
// it: with no agent to free it, the next task gets another word.
TEST(StatusWordLifetime, WordOfADeadTaskIsReusedOnlyAfterTheAgentFreesIt) {
  SimKernel k(Machine(1, /*auto_step=*/false));
  const uint64_t first = k.AddTask(::gh::testing::Runs(10 * kUs));
  k.RunFor(1 * kUs);
  const uint32_t w = k.sw_index(first);
  k.Depart(first);
  const StatusWord sw = k.TaskStatusWord(w);
  EXPECT_TRUE(sw.can_free());
  EXPECT_EQ(sw.gtid(), first) << "the word keeps its task until freed";

  const uint64_t second = k.AddTask(::gh::testing::Runs(10 * kUs));
  k.RunFor(1 * kUs);
  EXPECT_NE(k.sw_index(second), w);

  k.FreeTaskStatusWord(w, second);  // not that word's task: refused
  EXPECT_EQ(k.kernel_stat(GH_STAT_SW_FREE_REJECTED), 1u);
  EXPECT_TRUE(sw.can_free());
  k.FreeTaskStatusWord(w, first);
  EXPECT_EQ(k.kernel_stat(GH_STAT_SW_FREED), 1u);
  EXPECT_FALSE(sw.in_use());
}

}  // namespace
}  // namespace gh
