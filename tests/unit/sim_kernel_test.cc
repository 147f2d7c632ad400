// SPDX-License-Identifier: Apache-2.0
// Tests of the simulated kernel (agent/sim/sim_kernel.h): every transaction
// outcome and message the kernel side can produce, barriers, channels,
// agents, interference and the fast path. The test plays the agent.
#include "agent/sim/sim_kernel.h"

#include <map>
#include <set>
#include <utility>

#include "agent/lib/agent.h"
#include "gtest/gtest.h"

namespace gh {
namespace {

using A = SimAction;
const absl::Duration kUs = absl::Microseconds(1);

std::vector<gh_msg> Drain(Channel& ch) {
  std::vector<gh_msg> out;
  Message m;
  while (!(m = ch.Peek()).empty()) {
    out.push_back(*m.raw());
    ch.Consume(m);
  }
  return out;
}

SimConfig Config(int ncpus = 4) {
  SimConfig c;
  c.topology = Topology::Synthetic(ncpus, 1, ncpus, 1);
  return c;
}

// Opens and commits a transaction for `gtid` on `cpu`; returns the outcome.
uint32_t Commit(SimKernel& k, int cpu, uint64_t gtid, uint32_t barrier,
                RunRequestOptions o = {}) {
  o.target = gtid;
  o.target_barrier = barrier;
  RunRequest* req = k.GetRunRequest(cpu);
  req->Open(o);
  req->Commit();
  return req->state();
}

// Tests that TASK_NEW is published with the task's new Tseq, which the
// status word already holds, and a status-word index.
TEST(SimKernel, TaskNewCarriesTseqAlreadyInStatusWord) {
  SimKernel k(Config());
  const uint64_t g = k.AddTask({.script = {A::Run(10 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  auto msgs = Drain(k.DefaultChannel());
  ASSERT_EQ(msgs.size(), 1u);
  Message m(&msgs[0]);
  EXPECT_EQ(m.type(), GH_MSG_TASK_NEW);
  EXPECT_EQ(m.gtid(), g);
  EXPECT_EQ(m.task_new().runnable, 1u);
  StatusWord sw = k.TaskStatusWord(m.task_new().sw_index);
  EXPECT_EQ(sw.barrier(), m.seqnum());
  EXPECT_EQ(sw.gtid(), g);
  EXPECT_TRUE(sw.runnable());
  EXPECT_FALSE(sw.on_cpu());
}

// Tests that a valid transaction runs exactly that task on exactly that CPU,
// followed by TASK_ON_CPU carrying the next Tseq.
TEST(SimKernel, CompleteRunsTaskOnThatCpuThenTaskOnCpu) {
  SimKernel k(Config());
  const uint64_t g = k.AddTask({.script = {A::Run(10 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  const uint32_t seq = Message(&Drain(k.DefaultChannel())[0]).seqnum();
  EXPECT_EQ(Commit(k, 2, g, seq), static_cast<uint32_t>(GH_TXN_COMPLETE));
  EXPECT_EQ(k.running_on(2), g);
  EXPECT_EQ(k.task_cpu(g), 2);
  auto msgs = Drain(k.DefaultChannel());
  ASSERT_EQ(msgs.size(), 1u);
  Message m(&msgs[0]);
  EXPECT_EQ(m.type(), GH_MSG_TASK_ON_CPU);
  EXPECT_FALSE(m.bpf_picked());
  EXPECT_EQ(m.seqnum(), seq + 1);
  EXPECT_EQ(m.cpu(), 2);
  EXPECT_TRUE(k.TaskStatusWord(0).on_cpu());
  k.RunFor(20 * kUs);
  EXPECT_EQ(k.tasks_ended(), 1);
}

// Tests that each failure reason yields its outcome, in the kernel side's
// validation order, and that no failure runs or loses the task.
TEST(SimKernel, EveryFailureOutcomeAndTaskIsNeverLost) {
  SimConfig c = Config(4);
  c.enclave_cpus = CpuList{0, 1, 2};  // CPU 3 is outside the enclave
  SimKernel k(c);
  const uint64_t g = k.AddTask({.script = {A::Run(50 * kUs)}, .affinity = CpuList{0, 1, 2}});
  const uint64_t blocked = k.AddTask({.script = {A::Run(5 * kUs)},
                                      .start_blocked = absl::Milliseconds(1)});
  k.AddHigherClassBusy(1, absl::ZeroDuration(), absl::Milliseconds(1));
  k.RunFor(absl::ZeroDuration());
  Drain(k.DefaultChannel());
  const uint32_t seq = k.tseq(g);
  auto is = [](uint32_t s) { return s; };
  EXPECT_EQ(is(Commit(k, 3, g, seq)), static_cast<uint32_t>(GH_TXN_CPU_UNAVAIL));
  EXPECT_EQ(is(Commit(k, 1, g, seq)), static_cast<uint32_t>(GH_TXN_CPU_UNAVAIL));
  EXPECT_EQ(is(Commit(k, 0, GH_NULL_GTID, 0)), static_cast<uint32_t>(GH_TXN_INVALID_TARGET));
  EXPECT_EQ(is(Commit(k, 0, 0xdead00000001, 0)), static_cast<uint32_t>(GH_TXN_TARGET_NOT_FOUND));
  EXPECT_EQ(is(Commit(k, 0, g, seq, {.commit_flags = 1u << 7})),
            static_cast<uint32_t>(GH_TXN_INVALID_FLAGS));
  EXPECT_EQ(is(Commit(k, 0, g, seq, {.run_flags = 1u << 9})),
            static_cast<uint32_t>(GH_TXN_INVALID_FLAGS));
  EXPECT_EQ(is(Commit(k, 0, g, seq,
                      {.agent_barrier = k.aseq(0) + 1, .check_agent_barrier = true})),
            static_cast<uint32_t>(GH_TXN_AGENT_STALE));
  EXPECT_EQ(is(Commit(k, 0, g, seq - 1)), static_cast<uint32_t>(GH_TXN_TARGET_STALE));
  EXPECT_EQ(is(Commit(k, 0, blocked, k.tseq(blocked))),
            static_cast<uint32_t>(GH_TXN_TARGET_NOT_RUNNABLE));
  RunRequest* req = k.GetRunRequest(0);
  req->Open({.target = g, .target_barrier = seq});
  EXPECT_TRUE(req->Abort());
  k.CommitRunRequests(CpuList{0});  // nothing to submit
  EXPECT_EQ(req->state(), static_cast<uint32_t>(GH_TXN_ABORTED));
  // None of the above ran the task or produced a message about it.
  EXPECT_EQ(k.task_state(g), SimTaskState::kRunnable);
  EXPECT_EQ(k.tseq(g), seq);
  EXPECT_TRUE(Drain(k.DefaultChannel()).empty());
  // A correct commit still works; then the task is on a CPU.
  EXPECT_EQ(is(Commit(k, 0, g, seq, {.agent_barrier = k.aseq(0), .check_agent_barrier = true})),
            static_cast<uint32_t>(GH_TXN_COMPLETE));
  EXPECT_EQ(is(Commit(k, 2, g, k.tseq(g))), static_cast<uint32_t>(GH_TXN_TARGET_ONCPU));
  k.SetAffinity(g, CpuList{0});
  EXPECT_EQ(is(Commit(k, 2, blocked, k.tseq(blocked))),
            static_cast<uint32_t>(GH_TXN_TARGET_NOT_RUNNABLE));
  ASSERT_TRUE(k.RunUntilDone(absl::Milliseconds(3)).ok() == false);  // `blocked` never runs
  EXPECT_EQ(k.task_state(g), SimTaskState::kEnded);
  EXPECT_EQ(k.task_state(blocked), SimTaskState::kRunnable);
  EXPECT_TRUE(k.violations().empty());
}

// Tests that a CPU outside the task's affinity gets INVALID_CPU (ghOSt's name).
TEST(SimKernel, CpuOutsideAffinityIsAnInvalidCpu) {
  SimKernel k(Config());
  const uint64_t g = k.AddTask({.script = {A::Run(5 * kUs)}, .affinity = CpuList{1}});
  k.RunFor(absl::ZeroDuration());
  EXPECT_EQ(Commit(k, 0, g, k.tseq(g)), static_cast<uint32_t>(GH_TXN_INVALID_CPU));
  EXPECT_EQ(Commit(k, 1, g, k.tseq(g)), static_cast<uint32_t>(GH_TXN_COMPLETE));
}

// Tests that a script produces BLOCKED, WAKEUP, YIELD, PRIORITY_CHANGED,
// AFFINITY_CHANGED, PREEMPT, DEAD and ON_CPU, each carrying a Tseq one above
// the previous message of the task.
TEST(SimKernel, ScriptProducesEveryTaskMessageWithIncreasingTseq) {
  SimConfig c = Config(2);
  c.tick_period = 3 * kUs;
  SimKernel k(c);
  const uint64_t g = k.AddTask({.script = {A::Run(5 * kUs), A::Block(5 * kUs), A::SetNice(3),
                                           A::Run(5 * kUs), A::Yield(),
                                           A::SetAffinity(CpuList{1}), A::Run(20 * kUs)}});
  std::vector<gh_msg> all;
  auto run = [&](int cpu) {
    auto msgs = Drain(k.DefaultChannel());
    all.insert(all.end(), msgs.begin(), msgs.end());
    EXPECT_EQ(Commit(k, cpu, g, k.tseq(g)), static_cast<uint32_t>(GH_TXN_COMPLETE));
  };
  k.RunFor(absl::ZeroDuration());
  run(0);
  k.RunFor(10 * kUs);  // blocked, woken
  run(0);
  k.RunFor(5 * kUs);  // nice, yield
  run(0);             // affinity change moves it off CPU 0: PREEMPT
  k.RunFor(kUs);
  run(1);
  k.AddHigherClassBusy(1, k.elapsed() + 2 * kUs, k.elapsed() + 4 * kUs);
  k.RunFor(10 * kUs);  // preempted by the higher class
  run(1);
  k.RunFor(absl::Milliseconds(1));
  auto rest = Drain(k.DefaultChannel());
  all.insert(all.end(), rest.begin(), rest.end());
  std::multiset<int> types;
  uint32_t last = 0;
  for (const gh_msg& raw : all) {
    Message m(&raw);
    types.insert(m.type());
    if (!m.is_task_msg()) continue;
    EXPECT_EQ(m.seqnum(), last + 1) << m.ToString();
    last = m.seqnum();
  }
  for (int t : {GH_MSG_TASK_NEW, GH_MSG_TASK_WAKEUP, GH_MSG_TASK_BLOCKED, GH_MSG_TASK_PREEMPT,
                GH_MSG_TASK_YIELD, GH_MSG_TASK_DEAD, GH_MSG_TASK_AFFINITY_CHANGED,
                GH_MSG_TASK_PRIORITY_CHANGED, GH_MSG_TASK_ON_CPU, GH_MSG_CPU_TICK,
                GH_MSG_CPU_BUSY, GH_MSG_CPU_AVAILABLE})
    EXPECT_GE(types.count(t), 1u) << Message::TypeName(t);
  EXPECT_EQ(types.count(GH_MSG_TASK_PREEMPT), 2u);
  EXPECT_EQ(k.tasks_ended(), 1);
  EXPECT_TRUE(k.violations().empty());
}

// Tests that departing tasks get DEPARTED, with WAS_CURRENT iff on a CPU.
TEST(SimKernel, DepartedCarriesWasCurrent) {
  SimKernel k(Config());
  const uint64_t a = k.AddTask({.script = {A::Run(50 * kUs)}});
  const uint64_t b = k.AddTask({.script = {A::Run(50 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  Commit(k, 0, a, k.tseq(a));
  Drain(k.DefaultChannel());
  k.Depart(a);
  k.Depart(b);
  auto msgs = Drain(k.DefaultChannel());
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(Message(&msgs[0]).type(), GH_MSG_TASK_DEPARTED);
  EXPECT_TRUE(Message(&msgs[0]).flags() & GH_MSG_F_WAS_CURRENT);
  EXPECT_FALSE(Message(&msgs[1]).flags() & GH_MSG_F_WAS_CURRENT);
  EXPECT_EQ(k.running_on(0), 0u);
  EXPECT_EQ(k.tasks_ended(), 2);
}

// Tests that a task exiting on a CPU is reported BLOCKED then DEAD.
TEST(SimKernel, ExitOnCpuIsBlockedThenDead) {
  SimKernel k(Config());
  const uint64_t g = k.AddTask({.script = {A::Run(5 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  Commit(k, 0, g, k.tseq(g));
  Drain(k.DefaultChannel());
  k.RunFor(10 * kUs);
  auto msgs = Drain(k.DefaultChannel());
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(Message(&msgs[0]).type(), GH_MSG_TASK_BLOCKED);
  EXPECT_EQ(Message(&msgs[1]).type(), GH_MSG_TASK_DEAD);
  EXPECT_EQ(Message(&msgs[0]).off().runtime, 5000u);
}

// Tests that an idle transaction preempts the CPU's task and leaves it idle.
TEST(SimKernel, IdleTransactionPreemptsAndLeavesCpuIdle) {
  SimKernel k(Config());
  const uint64_t g = k.AddTask({.script = {A::Run(50 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  Commit(k, 0, g, k.tseq(g));
  EXPECT_EQ(Commit(k, 0, GH_IDLE_GTID, 0), static_cast<uint32_t>(GH_TXN_COMPLETE));
  EXPECT_EQ(k.running_on(0), 0u);
  EXPECT_EQ(k.task_state(g), SimTaskState::kRunnable);
}

// Tests that a higher class preempts the managed task, sets BOOST_PRIO and
// sends CPU_BUSY carrying the CPU's new Aseq; CPU_AVAILABLE follows.
TEST(SimKernel, HigherClassTakesCpuAndGivesItBack) {
  SimKernel k(Config());
  const uint64_t g = k.AddTask({.script = {A::Run(50 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  Commit(k, 2, g, k.tseq(g));
  Drain(k.DefaultChannel());
  k.AddHigherClassBusy(2, 5 * kUs, 8 * kUs);
  k.RunFor(6 * kUs);
  EXPECT_TRUE(k.AgentStatusWord(2).boosted_priority());
  EXPECT_TRUE(k.cpu_busy(2));
  EXPECT_EQ(k.running_on(2), 0u);
  auto msgs = Drain(k.DefaultChannel());
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(Message(&msgs[0]).type(), GH_MSG_TASK_PREEMPT);
  EXPECT_EQ(Message(&msgs[1]).type(), GH_MSG_CPU_BUSY);
  EXPECT_EQ(Message(&msgs[1]).seqnum(), k.aseq(2));
  EXPECT_EQ(Message(&msgs[1]).cpu_payload().cpu, 2u);
  k.RunFor(3 * kUs);
  EXPECT_FALSE(k.AgentStatusWord(2).boosted_priority());
  msgs = Drain(k.DefaultChannel());
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(Message(&msgs[0]).type(), GH_MSG_CPU_AVAILABLE);
  EXPECT_EQ(Message(&msgs[0]).seqnum(), k.aseq(2));
}

// Tests that AssociateTask routes a task's later messages to the channel,
// refuses a stale barrier, and that messages on a channel tied to an agent
// advance that agent's Aseq.
TEST(SimKernel, AssociateTaskRoutesMessagesAndAdvancesAseq) {
  SimKernel k(Config());
  const uint64_t g = k.AddTask({.script = {A::Run(5 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  Channel& ch = k.CpuChannel(1);
  ASSERT_TRUE(ch.SetAgent(1).ok());
  EXPECT_EQ(ch.AssociateTask(g, k.sw_index(g), k.tseq(g) - 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ch.AssociateTask(0x77, 0, 0).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(ch.AssociateTask(g, k.sw_index(g), k.tseq(g)).ok());
  const uint32_t aseq = k.aseq(1);
  Commit(k, 1, g, k.tseq(g));
  k.RunFor(10 * kUs);
  EXPECT_EQ(Drain(k.DefaultChannel()).size(), 1u);  // only TASK_NEW
  EXPECT_EQ(Drain(ch).size(), 3u);                  // ON_CPU, BLOCKED, DEAD
  EXPECT_EQ(k.aseq(1), aseq + 3);
}

// Tests that with a message delay the barrier moves before the message is
// visible, which is what lets an agent see unread messages.
TEST(SimKernel, BarrierMovesBeforeDelayedMessageIsVisible) {
  SimConfig c = Config();
  c.msg_delay = 3 * kUs;
  SimKernel k(c);
  const uint64_t g = k.AddTask({.script = {A::Run(5 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  EXPECT_EQ(k.tseq(g), 1u);
  EXPECT_TRUE(k.DefaultChannel().Peek().empty());
  k.RunFor(3 * kUs);
  Message m = k.DefaultChannel().Peek();
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m.seqnum(), 1u);
}

class TestAgent : public Agent {
 public:
  using Agent::Agent;
  void Step() override {
    ++steps;
    if (yield) enclave()->GetRunRequest(cpu())->LocalYield(status_word().barrier(), 0);
  }
  bool SchedulerEmpty() const override { return true; }
  int steps = 0;
  bool yield = true;
};

// Tests that agents are stepped while active, park on LocalYield unless
// their Aseq moved, wake on Ping (taking the CPU from its task) and on a
// waking message, and that MoveGlobal moves the global flag only from its
// holder, bumping both agents' Aseq.
TEST(SimKernel, AgentsParkOnLocalYieldAndWakeOnPingOrMessage) {
  SimKernel k(Config(2));
  TestAgent a0(&k, 0), a1(&k, 1);
  k.AttachAgent(0, &a0);
  k.AttachAgent(1, &a1);
  EXPECT_TRUE(k.agent_active(0));
  k.RunFor(5 * kUs);
  EXPECT_EQ(a0.steps, 1);
  EXPECT_FALSE(k.agent_active(0));
  EXPECT_FALSE(k.AgentStatusWord(0).agent_active());
  EXPECT_FALSE(k.LocalYield(1, k.aseq(1) + 1, 0));  // stale barrier
  const uint64_t g = k.AddTask({.script = {A::Run(50 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  Commit(k, 1, g, k.tseq(g));
  ASSERT_TRUE(k.MoveGlobal(-1, 1));
  EXPECT_TRUE(k.agent_active(1));
  EXPECT_EQ(k.running_on(1), 0u);  // the agent preempted the task
  EXPECT_TRUE(k.AgentStatusWord(1).agent_global());
  EXPECT_EQ(k.GlobalCpu(), 1);
  const uint32_t aseq0 = k.aseq(0), aseq1 = k.aseq(1);
  EXPECT_FALSE(k.MoveGlobal(/*from=*/0, /*to=*/0));  // agent 0 does not hold it
  EXPECT_EQ(k.GlobalCpu(), 1);
  ASSERT_TRUE(k.MoveGlobal(/*from=*/1, /*to=*/0));
  EXPECT_FALSE(k.AgentStatusWord(1).agent_global());
  EXPECT_TRUE(k.AgentStatusWord(0).agent_global());
  EXPECT_EQ(k.aseq(0), aseq0 + 1);
  EXPECT_EQ(k.aseq(1), aseq1 + 1);
  k.RunFor(5 * kUs);
  EXPECT_FALSE(k.agent_active(1));
  // A waking message on a channel tied to agent 1 wakes it.
  ASSERT_TRUE(k.CpuChannel(1).SetAgent(1).ok());
  ASSERT_TRUE(k.CpuChannel(1).AssociateTask(g, k.sw_index(g), k.tseq(g)).ok());
  k.SetNice(g, 1);
  EXPECT_TRUE(k.agent_active(1));
  k.RunFor(5 * kUs);
  EXPECT_FALSE(k.agent_active(1));
  k.DetachAgent(0);
  k.DetachAgent(1);
}

// Tests the fast path: new tasks are queued (BPF_QUEUED), an idle CPU picks
// the head (TASK_ON_CPU with BPF_PICKED, Tseq advanced), so a decision made
// before the pick cannot commit.
TEST(SimKernel, BpfPickRunsQueuedTaskAndStalesAgentDecision) {
  SimConfig c = Config(2);
  c.bpf_pick = true;
  SimKernel k(c);
  k.AddHigherClassBusy(1, absl::ZeroDuration(), absl::Milliseconds(1));
  const uint64_t a = k.AddTask({.script = {A::Run(50 * kUs)}});
  const uint64_t b = k.AddTask({.script = {A::Run(50 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  EXPECT_EQ(k.running_on(0), a);
  std::vector<gh_msg> msgs;
  for (const gh_msg& m : Drain(k.DefaultChannel()))
    if (Message(&m).is_task_msg()) msgs.push_back(m);
  ASSERT_GE(msgs.size(), 3u);
  EXPECT_TRUE(Message(&msgs[0]).bpf_queued());                    // NEW a
  EXPECT_EQ(Message(&msgs[1]).type(), GH_MSG_TASK_ON_CPU);        // a picked
  EXPECT_TRUE(Message(&msgs[1]).bpf_picked());
  EXPECT_EQ(k.kernel_stat(GH_STAT_BPF_PICKS), 1u);
  ASSERT_EQ(k.bpf_runqueue().size(), 1u);
  EXPECT_EQ(k.bpf_runqueue()[0].gtid, b);
  // The agent decided to run `a` from its TASK_NEW: too late.
  EXPECT_EQ(Commit(k, 1, a, Message(&msgs[0]).seqnum()), static_cast<uint32_t>(GH_TXN_CPU_UNAVAIL));
  k.RunFor(absl::Milliseconds(1));  // CPU 1 back: it picks b
  EXPECT_EQ(Commit(k, 0, a, Message(&msgs[0]).seqnum()),
            static_cast<uint32_t>(GH_TXN_TARGET_NOT_FOUND));  // a exited
  EXPECT_EQ(k.tasks_ended(), 2);
  EXPECT_EQ(k.kernel_stat(GH_STAT_BPF_PICKS), 2u);
}

// Two tasks ran on CPUs 0 and 1 and wait in the fast path's queue, 0's
// first, while a higher class holds both CPUs; CPU 1 is freed after
// @cpu1_busy_until. Returns which task CPU 1 then runs, and which CPU 0
// runs once it is freed later.
std::pair<uint64_t, uint64_t> PickAfterHigherClass(absl::Duration cpu1_busy_until,
                                                   uint64_t* first, uint64_t* second) {
  SimConfig c = Config(2);
  c.bpf_pick = true;
  SimKernel k(c);
  *first = k.AddTask({.script = {A::Run(50 * kUs), A::Block(100 * kUs), A::Run(5000 * kUs)}});
  *second = k.AddTask({.script = {A::Run(50 * kUs), A::Block(150 * kUs), A::Run(5000 * kUs)}});
  k.AddHigherClassBusy(0, 60 * kUs, cpu1_busy_until + absl::Milliseconds(1));
  k.AddHigherClassBusy(1, 60 * kUs, cpu1_busy_until);
  k.RunFor(absl::ZeroDuration());
  EXPECT_EQ(k.running_on(0), *first);
  EXPECT_EQ(k.running_on(1), *second);
  k.RunFor(cpu1_busy_until + 10 * kUs);
  const uint64_t on1 = k.running_on(1);
  k.RunFor(absl::Milliseconds(1));
  return {on1, k.running_on(0)};
}

// Tests that a CPU popping the fast path's queue runs the task that last
// ran there before an older one (threads handing work to each other stay
// on one CPU), so each task resumes on its own CPU.
TEST(SimKernel, BpfPickRunsTheTaskThatLastRanOnThatCpuFirst) {
  uint64_t a, b;
  auto [on1, on0] = PickAfterHigherClass(absl::Milliseconds(1), &a, &b);
  EXPECT_EQ(on1, b) << "CPU 1 ran the queue's head, not its own task";
  EXPECT_EQ(on0, a);
}

// Tests that the preference ends once the head has waited a whole pick
// slice (20 ms): then the head runs first, wherever it last ran.
TEST(SimKernel, BpfPickRunsAHeadThatWaitedAPickSliceFirst) {
  uint64_t a, b;
  auto [on1, on0] = PickAfterHigherClass(absl::Milliseconds(25), &a, &b);
  EXPECT_EQ(on1, a) << "the head waited more than a pick slice and was passed over";
  EXPECT_EQ(on0, b);
}

// Tests that a task the fast path owns cannot be committed until the agent
// claims it (NOT_PERMITTED), that a claim takes it out of the fast path's
// queue, that a released task joins the back of it, and that claiming a
// task twice fails.
TEST(SimKernel, AgentClaimsFastPathTaskBeforeCommittingIt) {
  SimConfig c = Config(1);
  c.bpf_pick = true;
  SimKernel k(c);
  k.AddHigherClassBusy(0, absl::ZeroDuration(), absl::Milliseconds(1));
  uint64_t g[3];
  for (auto& x : g) x = k.AddTask({.script = {A::Run(5 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  auto order = [&] {
    std::vector<uint64_t> v;
    for (auto& e : k.bpf_runqueue()) v.push_back(e.gtid);
    return v;
  };
  EXPECT_EQ(order(), (std::vector<uint64_t>{g[0], g[1], g[2]}));
  for (auto& e : k.bpf_runqueue()) EXPECT_EQ(e.owner, static_cast<uint32_t>(GH_OWNER_BPF));
  ASSERT_TRUE(k.RunqueueOp(g[0], GH_RQ_OP_CLAIM).ok());
  EXPECT_EQ(k.RunqueueOp(g[0], GH_RQ_OP_CLAIM).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(order(), (std::vector<uint64_t>{g[1], g[2]}));
  ASSERT_TRUE(k.RunqueueOp(g[0], GH_RQ_OP_RELEASE).ok());
  EXPECT_EQ(order(), (std::vector<uint64_t>{g[1], g[2], g[0]}));
  k.RunFor(absl::Milliseconds(1));  // CPU 0 returns and picks the head
  EXPECT_EQ(k.running_on(0), g[1]);
}

// Tests that the same seed gives the same trace twice (tasks run by the fast
// path alone), and a different seed a different one.
TEST(SimKernel, SameSeedSameTrace) {
  auto run = [](uint64_t seed) -> std::vector<TraceRecord> {
    SimConfig c = Config(4);
    c.seed = seed;
    c.bpf_pick = true;
    c.wake_jitter = 3 * kUs;
    SimKernel k(c);
    std::vector<std::unique_ptr<TestAgent>> agents;
    for (int cpu = 0; cpu < 4; ++cpu) {
      agents.push_back(std::make_unique<TestAgent>(&k, cpu));
      k.AttachAgent(cpu, agents.back().get());
    }
    // The fast path alone runs only new and woken tasks: no yields here.
    for (const auto& s : RandomWorkload(seed, {.num_tasks = 200,
                                               .arrival_span = absl::Milliseconds(1),
                                               .p_yield = 0}))
      k.AddTask(s);
    EXPECT_TRUE(k.RunUntilDone(absl::Seconds(1)).ok());
    for (int cpu = 0; cpu < 4; ++cpu) k.DetachAgent(cpu);
    return k.trace();
  };
  auto t1 = run(7), t2 = run(7), t3 = run(8);
  EXPECT_GT(t1.size(), 100u);
  EXPECT_TRUE(t1 == t2);
  EXPECT_FALSE(t1 == t3);
}

}  // namespace
}  // namespace gh
