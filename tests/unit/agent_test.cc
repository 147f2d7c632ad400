// SPDX-License-Identifier: Apache-2.0
// Tests of Agent threads, FullAgent and AgentProcess (agent/lib/agent.h).
#include "agent/lib/agent.h"

#include <signal.h>

#include <atomic>

#include "fake_enclave.h"
#include "gtest/gtest.h"

namespace gh {
namespace {

class CountingScheduler : public Scheduler {
 public:
  explicit CountingScheduler(Enclave* e) : Scheduler(e, e->cpus()) {}
  bool Empty() const override { return remaining.load() == 0; }
  std::atomic<int> remaining{0};
};

// An agent that does one unit of work per step and parks when there is none.
class CountingAgent : public Agent {
 public:
  CountingAgent(Enclave* e, int cpu, CountingScheduler* s) : Agent(e, cpu), s_(s) {}
  void Step() override {
    int r = s_->remaining.load();
    while (r > 0 && !s_->remaining.compare_exchange_weak(r, r - 1)) {
    }
    if (r <= 0) enclave()->GetRunRequest(cpu())->LocalYield(status_word().barrier(), 0);
  }
  bool SchedulerEmpty() const override { return s_->Empty(); }

 private:
  CountingScheduler* s_;
};

struct Config {
  int work = 0;
};

class CountingFullAgent : public FullAgent {
 public:
  CountingFullAgent(Enclave* e, const Config& c) : FullAgent(e), sched_(e) {
    sched_.remaining = c.work;
    CreateAgents();
  }
  ~CountingFullAgent() override { TerminateAgents(/*force=*/true); }
  Scheduler* scheduler() const override { return const_cast<CountingScheduler*>(&sched_); }

 protected:
  std::unique_ptr<Agent> MakeAgent(int cpu) override {
    return std::make_unique<CountingAgent>(enclave(), cpu, &sched_);
  }

 private:
  CountingScheduler sched_;
};

// Tests that FullAgent creates one attached agent per CPU, runs each on its
// own pinned thread, and that a non-forced termination waits until the
// scheduler is empty, pinging parked agents awake.
TEST(FullAgent, ThreadsPerCpuDrainBeforeExit) {
  FakeEnclave e(2);
  {
    CountingFullAgent fa(&e, Config{1000});
    ASSERT_EQ(fa.agents().size(), 2u);
    EXPECT_EQ(e.GetAgent(0), fa.agent(0));
    EXPECT_EQ(e.GetAgent(1), fa.agent(1));
    fa.StartAgentThreads();
    fa.TerminateAgents(/*force=*/false);
    EXPECT_TRUE(fa.scheduler()->Empty());
    EXPECT_GE(fa.agent(0)->thread_steps() + fa.agent(1)->thread_steps(), 1000u);
    EXPECT_EQ(e.GetAgent(0), nullptr);
  }
}

// Tests that AgentProcess starts the agents and WaitForExit returns on
// SIGTERM; the destructor stops the threads.
TEST(AgentProcess, ExitsCleanlyOnSigterm) {
  FakeEnclave e(2);
  AgentProcess<CountingFullAgent, Config> p(&e, Config{0});
  ASSERT_NE(p.full_agent(), nullptr);
  raise(SIGTERM);
  EXPECT_EQ(p.WaitForExit(), SIGTERM);
  p.RequestExit();
  EXPECT_EQ(p.WaitForExit(), 0);
}

}  // namespace
}  // namespace gh
