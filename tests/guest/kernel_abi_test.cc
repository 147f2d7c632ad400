// SPDX-License-Identifier: Apache-2.0
// Guest tests of the kernel side (bpf/): loading, the message path, the
// transaction path and the fast path, driven through the raw ABI by the
// harness (no agent). Run inside the guest: scripts/vm.sh -- build/tests/guest_tests
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/guest/harness.h"
#include "absl/strings/str_cat.h"
#include "agent/kernel/task_policy.h"
#include "nlohmann/json.hpp"

namespace gh::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr absl::Duration kWait = absl::Seconds(10);

BpfSchedulerOptions Opts(bool bpf_pick) {
  BpfSchedulerOptions o;
  o.bpf_pick = bpf_pick;
  o.watchdog = absl::Seconds(20);
  return o;
}

std::vector<std::string> TypeNames(const std::vector<gh_msg>& msgs) {
  std::vector<std::string> out;
  for (const gh_msg& m : msgs) out.push_back(MsgTypeName(m.hdr.type));
  return out;
}

// Tests that the scheduler loads without verifier complaints, and that the
// kernel reports it enabled under the name ghost_hybrid.
TEST(SchedulerLoad, EnablesAndNamesItselfGhostHybrid) {
  auto h = Harness::Start(Opts(false));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(ReadFile("/sys/kernel/sched_ext/state"), "enabled");
  EXPECT_EQ(ReadFile("/sys/kernel/sched_ext/root/ops"), "ghost_hybrid");
  EXPECT_THAT(BpfScheduler::load_warnings(), IsEmpty());
  h->reset();
  EXPECT_EQ(ReadFile("/sys/kernel/sched_ext/state"), "disabled");
}

// Tests that a managed task's life (created, runs, sleeps, wakes, yields,
// exits) produces messages in that order, each with the next Tseq, and that
// the status word's barrier equals the newest Tseq whenever the task rests.
TEST(Messages, FollowTheTaskLifecycleWithIncreasingTseq) {
  auto h = Harness::Start(Opts(true));
  ASSERT_TRUE(h.ok()) << h.status();
  auto child = ScriptedChild::Spawn();
  ASSERT_TRUE(child.ok());
  pid_t pid = child->pid();
  ASSERT_TRUE(child->WaitReply(kWait)) << "child never ran";
  // Asleep in read(): BLOCKED must be the newest message, barrier == Tseq.
  ASSERT_NE((*h)->WaitForMessage(pid, GH_MSG_TASK_BLOCKED, kWait), nullptr);
  gh_status_word* sw = (*h)->StatusWordOf(pid);
  ASSERT_NE(sw, nullptr);
  EXPECT_EQ(__atomic_load_n(&sw->barrier, __ATOMIC_ACQUIRE), (*h)->LastSeqnum(pid));
  EXPECT_EQ(sw->gtid, (*h)->GtidOf(pid));

  size_t mark = (*h)->log().size();
  ASSERT_TRUE(child->Send('y'));  // wake, yield, reply, block again
  ASSERT_TRUE(child->WaitReply(kWait));
  ASSERT_NE((*h)->WaitForMessage(pid, GH_MSG_TASK_BLOCKED, kWait, mark), nullptr);
  EXPECT_EQ(__atomic_load_n(&sw->barrier, __ATOMIC_ACQUIRE), (*h)->LastSeqnum(pid));

  ASSERT_TRUE(child->Send('x'));
  EXPECT_EQ(child->Wait(kWait), 0);
  ASSERT_NE((*h)->WaitForMessage(pid, GH_MSG_TASK_DEAD, kWait), nullptr);

  std::vector<gh_msg> msgs = (*h)->MessagesOf(pid);
  // Involuntary preemptions may interleave: drop each PREEMPT and the
  // ON_CPU that resumes the task after it.
  std::vector<gh_msg> core;
  for (const gh_msg& m : msgs) {
    if (m.hdr.type == GH_MSG_TASK_PREEMPT) continue;
    if (m.hdr.type == GH_MSG_TASK_ON_CPU && !core.empty() &&
        core.back().hdr.type == GH_MSG_TASK_ON_CPU) {
      continue;
    }
    core.push_back(m);
  }
  EXPECT_THAT(TypeNames(core),
              ElementsAre("TASK_NEW", "TASK_ON_CPU", "TASK_BLOCKED", "TASK_WAKEUP",
                          "TASK_ON_CPU", "TASK_YIELD", "TASK_ON_CPU", "TASK_BLOCKED",
                          "TASK_WAKEUP", "TASK_ON_CPU", "TASK_BLOCKED", "TASK_DEAD"))
      << "all: " << ::testing::PrintToString(TypeNames(msgs));
  for (size_t i = 0; i < msgs.size(); i++) {
    EXPECT_EQ(msgs[i].hdr.seqnum, i + 1) << "message " << i << " " << MsgTypeName(msgs[i].hdr.type);
    EXPECT_EQ(msgs[i].gtid, (*h)->GtidOf(pid));
  }
}

// Tests that transactions made on stale or impossible state fail with the
// matching outcome, run nothing, keep the scheduler enabled, and that the
// same task then commits and runs normally with the right barrier.
TEST(Transactions, FailSafelyOnStaleOrImpossibleState) {
  BpfSchedulerOptions o = Opts(false);
  int ncpu = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  ASSERT_GE(ncpu, 2) << "run with scripts/vm.sh --cpus 2 or more";
  for (int c = 0; c < ncpu - 1; c++) o.enclave.push_back(c);  // last CPU outside
  auto h = Harness::Start(o);
  ASSERT_TRUE(h.ok()) << h.status();
  Harness& H = **h;

  auto runner = ScriptedChild::Spawn();  // stays runnable in custody
  ASSERT_TRUE(runner.ok());
  pid_t pid = runner->pid();
  // This harness stays on the CPU outside the enclave: woken on an enclave
  // CPU, it would hold that CPU for the fair class while it commits there.
  ScopedAffinity outside_enclave({ncpu - 1});
  ASSERT_NE(H.WaitForMessage(pid, GH_MSG_TASK_NEW, kWait), nullptr);
  absl::SleepFor(absl::Milliseconds(50));
  H.Drain();
  uint64_t gtid = H.GtidOf(pid);
  uint32_t tseq = H.LastSeqnum(pid);
  size_t msgs_before = H.MessagesOf(pid).size();
  uint32_t aseq = __atomic_load_n(&H.sched().agent_sw(0)->barrier, __ATOMIC_ACQUIRE);

  H.Open(0, gtid, tseq - 1);
  EXPECT_EQ(TxnStateName(H.CommitOneWhenCpuFree(0, kWait)), "TARGET_STALE");
  H.Open(0, gtid, tseq, aseq + 5);
  EXPECT_EQ(TxnStateName(H.CommitOneWhenCpuFree(0, kWait)), "AGENT_STALE");
  H.Open(ncpu - 1, gtid, tseq);
  EXPECT_EQ(TxnStateName(H.CommitOne(ncpu - 1, kWait)), "CPU_UNAVAIL");
  H.Open(0, gtid + (1ull << 32), tseq);  // same pid, other generation
  EXPECT_EQ(TxnStateName(H.CommitOneWhenCpuFree(0, kWait)), "TARGET_NOT_FOUND");

  // Nothing ran: no new message, Tseq unchanged, the child has not replied.
  H.Drain();
  EXPECT_EQ(H.MessagesOf(pid).size(), msgs_before);
  EXPECT_FALSE(runner->WaitReply(absl::Milliseconds(100)));
  EXPECT_EQ(ReadFile("/sys/kernel/sched_ext/state"), "enabled");

  // The right barrier runs it, on exactly that CPU.
  size_t before_commit = H.log().size();
  H.Open(0, gtid, tseq);
  EXPECT_EQ(TxnStateName(H.CommitOneWhenCpuFree(0, kWait)), "COMPLETE");
  const gh_msg* on = H.WaitForMessage(pid, GH_MSG_TASK_ON_CPU, kWait, before_commit);
  ASSERT_NE(on, nullptr);
  EXPECT_EQ(on->hdr.cpu, 0u);
  EXPECT_EQ(on->hdr.seqnum, tseq + 1);
  EXPECT_FALSE(on->hdr.flags & GH_MSG_F_BPF_PICKED);
  // It ran: 'R' (committed again should a higher class preempt it first).
  ASSERT_TRUE(H.KeepCommittedUntil(pid, 0, kWait,
                                   [&](absl::Duration t) { return runner->WaitReply(t); }));

  // Now it sleeps in read(): committing it is TARGET_NOT_RUNNABLE.
  ASSERT_NE(H.WaitForMessage(pid, GH_MSG_TASK_BLOCKED, kWait), nullptr);
  H.Open(0, gtid, H.LastSeqnum(pid));
  EXPECT_EQ(TxnStateName(H.CommitOneWhenCpuFree(0, kWait)), "TARGET_NOT_RUNNABLE");

  // Woken, it runs again after a correct commit, and exits normally.
  size_t mark = H.log().size();
  ASSERT_TRUE(runner->Send('x'));
  ASSERT_NE(H.WaitForMessage(pid, GH_MSG_TASK_WAKEUP, kWait, mark), nullptr);
  int cpu = 1 % (ncpu - 1);
  H.Open(cpu, gtid, H.LastSeqnum(pid));
  EXPECT_EQ(TxnStateName(H.CommitOneWhenCpuFree(cpu, kWait)), "COMPLETE");
  int status = -1;
  EXPECT_TRUE(H.KeepCommittedUntil(pid, cpu, kWait, [&](absl::Duration t) {
    return (status = runner->Wait(t)) != -1;
  }));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(ReadFile("/sys/kernel/sched_ext/state"), "enabled");
}

// Tests that one group commit over every CPU runs exactly the chosen task
// on each chosen CPU, each confirmed by TASK_ON_CPU from that CPU.
TEST(Transactions, GroupCommitRunsEachChosenTaskOnItsCpu) {
  // Declared first so that they die after the scheduler is gone: a killed
  // task still needs a decision to run, and this harness is no agent.
  std::vector<ScriptedChild> kids;
  auto h = Harness::Start(Opts(false));
  ASSERT_TRUE(h.ok()) << h.status();
  Harness& H = **h;
  int ncpu = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  for (int c = 0; c < ncpu; c++) {
    auto k = ScriptedChild::Spawn();
    ASSERT_TRUE(k.ok());
    ASSERT_NE(H.WaitForMessage(k->pid(), GH_MSG_TASK_NEW, kWait), nullptr);
    kids.push_back(std::move(*k));
  }
  absl::SleepFor(absl::Milliseconds(50));
  H.Drain();
  size_t mark = H.log().size();
  std::vector<int> cpus;
  for (int c = 0; c < ncpu; c++) {
    // Task c goes to CPU (c + 1) % ncpu, so no task stays where it was.
    int cpu = (c + 1) % ncpu;
    H.Open(cpu, H.GtidOf(kids[c].pid()), H.LastSeqnum(kids[c].pid()));
    cpus.push_back(cpu);
  }
  std::vector<uint32_t> outcomes = H.CommitGroup(cpus, kWait);
  for (int c = 0; c < ncpu; c++) {
    EXPECT_EQ(TxnStateName(outcomes[c]), "COMPLETE") << "CPU " << cpus[c];
    const gh_msg* on = H.WaitForMessage(kids[c].pid(), GH_MSG_TASK_ON_CPU, kWait, mark);
    ASSERT_NE(on, nullptr) << "task " << c;
    EXPECT_EQ(static_cast<int>(on->hdr.cpu), cpus[c]) << "task " << c;
  }
}

// Runs `bpftool -j map dump name runqueue` and returns the gtids of the
// queued tasks whose record names @owner.
std::vector<uint64_t> DumpQueuedGtids(uint32_t owner = GH_OWNER_BPF) {
  const char* cache = getenv("GHOST_HYBRID_CACHE");
  std::string cmd = absl::StrCat(cache ? cache : "/var/cache/ghost_hybrid",
                                 "/bpftool/usr/sbin/bpftool -j map dump name runqueue");
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
    pclose(f);
  }
  std::vector<uint64_t> gtids;
  nlohmann::json j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return gtids;
  // With BTF, bpftool -j prints raw bytes plus a "formatted" typed record.
  // An entry deleted while bpftool walks the hash comes out without a
  // value (an "error" instead): skip it, as the kernel already did.
  for (const nlohmann::json& rec : j) {
    const nlohmann::json& holder = rec.contains("formatted") ? rec["formatted"] : rec;
    if (!holder.is_object() || !holder.contains("value")) continue;
    const nlohmann::json& v = holder["value"];
    if (!v.is_object() || !v.contains("owner") || !v.contains("gtid")) continue;
    if (v["owner"].get<uint32_t>() == owner) gtids.push_back(v["gtid"].get<uint64_t>());
  }
  return gtids;
}

// Tests that with the fast path on and no agent decisions at all, 200
// short-lived tasks all run to completion, that `bpftool map dump` shows
// them queued as typed records while they wait and none once they are
// gone (the map is rewritten every GH_RQ_MIRROR_NS), and that each BPF
// pick advanced the picked task's Tseq.
TEST(FastPath, RunsShortLivedTasksWithoutAnyAgentDecision) {
  // One enclave CPU, so that tasks visibly wait in the runqueue.
  BpfSchedulerOptions o = Opts(true);
  o.enclave = {0};
  auto h = Harness::Start(o);
  ASSERT_TRUE(h.ok()) << h.status();
  Harness& H = **h;
  constexpr int kTasks = 200;
  pid_t spawner = fork();
  ASSERT_GE(spawner, 0);
  if (spawner == 0) {
    syscall(SYS_close_range, 3, ~0u, 0);
    if (!SetSchedExt(0).ok()) _exit(90);
    for (int i = 0; i < kTasks; i++) {
      pid_t p = fork();
      if (p == 0) {
        absl::Time end = absl::Now() + absl::Milliseconds(5);
        volatile uint64_t x = 0;
        while (absl::Now() < end) x = x + 1;
        _exit(0);
      }
      if (p < 0) _exit(91);
    }
    int ok = 0, st;
    while (wait(&st) > 0) ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    _exit(ok == kTasks ? 0 : 92);
  }
  size_t max_queued = 0;
  std::set<uint64_t> seen_queued;
  int status = -1;
  absl::Time end = absl::Now() + absl::Seconds(60);
  while (absl::Now() < end) {
    std::vector<uint64_t> q = DumpQueuedGtids();
    max_queued = std::max(max_queued, q.size());
    seen_queued.insert(q.begin(), q.end());
    H.Drain();
    if (waitpid(spawner, &status, WNOHANG) == spawner) break;
  }
  ASSERT_TRUE(WIFEXITED(status)) << "spawner did not finish";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "not every task completed";
  EXPECT_GT(max_queued, 0u) << "the runqueue dump never showed a waiting task";
  EXPECT_TRUE(H.WaitUntil(
      [] { return DumpQueuedGtids(GH_OWNER_BPF).empty() && DumpQueuedGtids(GH_OWNER_AGENT).empty(); },
      kWait))
      << "the runqueue map still lists tasks that have run and exited";
  H.Drain();

  // Every task was born and died; every pick advanced its Tseq.
  std::map<uint32_t, std::vector<gh_msg>> by_pid;
  for (const gh_msg& m : H.log()) {
    if (m.hdr.type <= GH_MSG_TASK_LAST) by_pid[GH_GTID_PID(m.gtid)].push_back(m);
  }
  int born = 0, died = 0, picks = 0;
  for (auto& [pid, msgs] : by_pid) {
    if (static_cast<pid_t>(pid) == spawner) continue;
    born += msgs.front().hdr.type == GH_MSG_TASK_NEW;
    died += msgs.back().hdr.type == GH_MSG_TASK_DEAD;
    for (size_t i = 1; i < msgs.size(); i++) {
      EXPECT_GT(msgs[i].hdr.seqnum, msgs[i - 1].hdr.seqnum);
      if (msgs[i].hdr.type == GH_MSG_TASK_ON_CPU && (msgs[i].hdr.flags & GH_MSG_F_BPF_PICKED)) {
        picks++;
      }
    }
  }
  EXPECT_EQ(born, kTasks);
  EXPECT_EQ(died, kTasks);
  EXPECT_GE(picks, kTasks);
  EXPECT_EQ(H.sched().stat(GH_STAT_TXN_SUBMITTED), 0u);
  EXPECT_GE(H.sched().stat(GH_STAT_BPF_PICKS), static_cast<uint64_t>(kTasks));
  // Each queued record named a task of this test.
  for (uint64_t g : seen_queued) EXPECT_TRUE(by_pid.count(GH_GTID_PID(g))) << g;
}

// Tests that every fast-path pick advances the picked task's Tseq past the
// agent's view of its wakeup: the agent's next view (messages drained)
// carries the pick's Tseq, equal to the status word's, and a decision made
// on the wakeup-time view fails TARGET_STALE and runs nothing.
TEST(FastPath, EveryPickAdvancesTseqSoACommitOnTheOldViewFails) {
  BpfSchedulerOptions o = Opts(true);
  o.enclave = {0};
  auto h = Harness::Start(o);
  ASSERT_TRUE(h.ok()) << h.status();
  Harness& H = **h;
  auto child = ScriptedChild::Spawn();
  ASSERT_TRUE(child.ok());
  const pid_t pid = child->pid();
  ASSERT_TRUE(child->WaitReply(kWait)) << "the fast path never ran the new task";
  auto asleep = [&] {
    std::vector<gh_msg> m = H.MessagesOf(pid);
    return !m.empty() && m.back().hdr.type == GH_MSG_TASK_BLOCKED;
  };
  constexpr int kRounds = 20;
  for (int i = 0; i < kRounds; i++) {
    ASSERT_TRUE(H.WaitUntil(asleep, kWait)) << "round " << i;
    const uint64_t gtid = H.GtidOf(pid);
    size_t mark = H.log().size();
    ASSERT_TRUE(child->Send('b'));
    ASSERT_TRUE(child->WaitReply(kWait)) << "round " << i << ": not run";
    const gh_msg* wake = H.WaitForMessage(pid, GH_MSG_TASK_WAKEUP, kWait, mark);
    ASSERT_NE(wake, nullptr) << "round " << i;
    const uint32_t view = wake->hdr.seqnum;  // what an agent decides on
    const gh_msg* on = H.WaitForMessage(pid, GH_MSG_TASK_ON_CPU, kWait, mark);
    ASSERT_NE(on, nullptr) << "round " << i;
    EXPECT_TRUE(on->hdr.flags & GH_MSG_F_BPF_PICKED) << "round " << i;
    EXPECT_GT(on->hdr.seqnum, view) << "round " << i;
    const uint32_t picked_tseq = on->hdr.seqnum;
    ASSERT_TRUE(H.WaitUntil(asleep, kWait)) << "round " << i;
    EXPECT_GE(H.LastSeqnum(pid), picked_tseq);
    EXPECT_EQ(H.LastSeqnum(pid), __atomic_load_n(&H.StatusWordOf(pid)->barrier, __ATOMIC_ACQUIRE))
        << "round " << i << ": the drained view and the status word disagree";
    size_t before = H.MessagesOf(pid).size();
    H.Open(0, gtid, view);
    EXPECT_EQ(TxnStateName(H.CommitOneWhenCpuFree(0, kWait)), "TARGET_STALE") << "round " << i;
    H.Drain();
    EXPECT_EQ(H.MessagesOf(pid).size(), before) << "round " << i << ": the stale commit ran it";
  }
  ASSERT_TRUE(child->Send('x'));
  EXPECT_EQ(child->Wait(kWait), 0);
  EXPECT_EQ(H.sched().stat(GH_STAT_TXN_COMPLETE), 0u);
}

// Tests that the news of the default channel, tied to the global role,
// reach the agent that holds the role after moves made at once from two
// threads (as an agent's hand-off and the kernel side's hand-off timer can
// race): the holder's Aseq advances with each message, no other agent's
// does. When a second word followed the role, two moves at once could
// leave it on a former holder, which then spun with its Aseq moving while
// nobody drained the channel, until the watchdog ejected the scheduler.
TEST(GlobalRole, NewsReachTheHolderAfterConcurrentMoves) {
  auto h = Harness::Start(Opts(true));
  ASSERT_TRUE(h.ok()) << h.status();
  Harness& H = **h;
  BpfScheduler& s = H.sched();
  std::vector<int> cpus;
  for (int c = 0; c < s.nr_cpus(); c++) {
    if (s.in_enclave(c)) cpus.push_back(c);
  }
  ASSERT_GE(cpus.size(), 2u);
  s.SetGlobalCpu(cpus[0], cpus);
  s.SetChannelAgent(GH_DEFAULT_CHANNEL, cpus[0]);
  constexpr int kRounds = 6, kMoves = 1500;
  for (int round = 0; round < kRounds; round++) {
    auto mover = [&](int offset) {
      for (int i = 0; i < kMoves; i++) {
        const int to = cpus[(offset + i) % cpus.size()];
        ASSERT_TRUE(s.MoveGlobal(/*from=*/-1, to).ok());
      }
    };
    std::thread a(mover, 0), b(mover, 1);
    a.join();
    b.join();
    const int holder = s.global_cpu();
    ASSERT_TRUE(std::count(cpus.begin(), cpus.end(), holder)) << holder;
    std::vector<uint32_t> before;
    for (int c : cpus) before.push_back(s.agent_sw(c)->barrier);
    // A new task's messages (NEW, ON_CPU, ...) all go to the default channel.
    auto child = ScriptedChild::Spawn();
    ASSERT_TRUE(child.ok());
    ASSERT_TRUE(child->WaitReply(kWait)) << "the fast path never ran the new task";
    ASSERT_TRUE(H.WaitForMessage(child->pid(), GH_MSG_TASK_ON_CPU, kWait));
    for (size_t i = 0; i < cpus.size(); i++) {
      const uint32_t now = s.agent_sw(cpus[i])->barrier;
      if (cpus[i] == holder) {
        EXPECT_GT(now - before[i], 0u) << "round " << round << ": the holder, CPU " << holder
                                       << ", was not told of the news";
      } else {
        EXPECT_EQ(now, before[i]) << "round " << round << ": CPU " << cpus[i]
                                  << " was told the news, the role is on CPU " << holder;
      }
    }
    child->Send('x');
    EXPECT_EQ(child->Wait(kWait), 0);
  }
}

}  // namespace
}  // namespace gh::testing

namespace gh::testing {
namespace {

// Tests that for every task of a forking, exec'ing shell workload, the
// message sequence is one the agent's state machine accepts: WAKEUP only
// for a task that blocked (or was new and not runnable), BLOCKED, YIELD
// and PREEMPT only for a task that was on a CPU, nothing after DEAD.
TEST(Messages, EveryTaskOfAShellWorkloadFollowsTheStateMachine) {
  auto h = Harness::Start(Opts(true));
  ASSERT_TRUE(h.ok()) << h.status();
  Harness& H = **h;
  pid_t sh = fork();
  ASSERT_GE(sh, 0);
  if (sh == 0) {
    syscall(SYS_close_range, 3, ~0u, 0);
    if (!SetSchedExt(0).ok()) _exit(90);
    execl("/bin/sh", "sh", "-c",
          "for i in 1 2 3 4; do (awk 'BEGIN{for(i=0;i<20000;i++)s+=i}' >/dev/null; "
          "sleep 0.01) & done; wait",
          nullptr);
    _exit(91);
  }
  int status = -1;
  ASSERT_TRUE(H.WaitUntil([&] { return waitpid(sh, &status, WNOHANG) == sh; }, absl::Seconds(60)));
  EXPECT_EQ(status, 0);
  absl::SleepFor(absl::Milliseconds(100));
  H.Drain();
  std::map<uint64_t, std::vector<gh_msg>> by_gtid;
  for (const gh_msg& m : H.log()) {
    if (m.hdr.type <= GH_MSG_TASK_LAST) by_gtid[m.gtid].push_back(m);
  }
  EXPECT_GE(by_gtid.size(), 5u);
  for (auto& [gtid, msgs] : by_gtid) {
    std::string seq;
    for (const gh_msg& m : msgs) seq += MsgTypeName(m.hdr.type) + " ";
    ASSERT_EQ(msgs.front().hdr.type, GH_MSG_TASK_NEW) << seq;
    enum { kOnCpu, kRunnable, kBlocked, kDead } st =
        msgs.front().task_new.runnable ? kRunnable : kBlocked;
    for (size_t i = 1; i < msgs.size(); i++) {
      int t = msgs[i].hdr.type;
      SCOPED_TRACE(seq);
      ASSERT_NE(st, kDead) << "message after DEAD";
      switch (t) {
        case GH_MSG_TASK_WAKEUP: EXPECT_EQ(st, kBlocked) << i; st = kRunnable; break;
        case GH_MSG_TASK_ON_CPU: EXPECT_EQ(st, kRunnable) << i; st = kOnCpu; break;
        case GH_MSG_TASK_BLOCKED: EXPECT_EQ(st, kOnCpu) << i; st = kBlocked; break;
        case GH_MSG_TASK_PREEMPT:
        case GH_MSG_TASK_YIELD: EXPECT_EQ(st, kOnCpu) << i; st = kRunnable; break;
        case GH_MSG_TASK_DEAD: st = kDead; break;
        default: break;
      }
    }
  }
}

}  // namespace
}  // namespace gh::testing
