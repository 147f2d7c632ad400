// SPDX-License-Identifier: Apache-2.0
// Guest tests of the latched commit (bpf/transactions.bpf.h): the outcome
// of every transaction is in its slot when the commit call returns, and a
// failed transaction leaves the target CPU's running task alone. Driven
// through the raw ABI by the harness (no agent).
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/guest/harness.h"

namespace gh::testing {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

BpfSchedulerOptions Opts() {
  BpfSchedulerOptions o;
  o.watchdog = absl::Seconds(20);
  return o;
}

// Tests that the commit call returns with the outcome already written: a
// valid transaction is COMPLETE and a stale one TARGET_STALE the moment the
// call returns, and the COMPLETE one then runs on that CPU.
TEST(LatchedCommit, OutcomeIsKnownWhenTheCommitCallReturns) {
  std::vector<ScriptedChild> kids;  // die after the scheduler
  auto h = Harness::Start(Opts());
  ASSERT_TRUE(h.ok()) << h.status();
  Harness& H = **h;
  // The task runs on the last CPU, this (fair-class) process on CPU 0: with
  // no agent, a task our polling preempted would never be committed again.
  const int target = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)) - 1;
  ASSERT_GE(target, 1) << "run with scripts/vm.sh --cpus 2 or more";
  ScopedAffinity off_task_cpu({0});  // this fair-class process: off the task's CPU
  auto k = ScriptedChild::Spawn();
  ASSERT_TRUE(k.ok());
  const pid_t pid = k->pid();
  kids.push_back(std::move(*k));
  SetAffinity(pid, CpusUpTo(target));  // it inherited our pin
  ASSERT_NE(H.WaitForMessage(pid, GH_MSG_TASK_NEW, kWait), nullptr);
  absl::SleepFor(absl::Milliseconds(50));
  H.Drain();
  const uint64_t gtid = H.GtidOf(pid);
  const uint32_t tseq = H.LastSeqnum(pid);

  H.Open(target, gtid, tseq - 1);
  EXPECT_EQ(TxnStateName(H.CommitAtOnceWhenCpuFree(target)), "TARGET_STALE");
  const size_t mark = H.log().size();
  H.Open(target, gtid, tseq);
  EXPECT_EQ(TxnStateName(H.CommitAtOnceWhenCpuFree(target)), "COMPLETE");
  const gh_msg* on = H.WaitForMessage(pid, GH_MSG_TASK_ON_CPU, kWait, mark);
  ASSERT_NE(on, nullptr);
  EXPECT_EQ(on->hdr.cpu, static_cast<uint32_t>(target));
  // It runs to its reply (committed again should a higher class's blip
  // take it off the CPU first).
  ASSERT_NE(H.StatusWordOf(pid), nullptr);
  const bool replied = H.KeepCommittedUntil(
      pid, target, kWait, [&](absl::Duration t) { return kids[0].WaitReply(t); });
  EXPECT_TRUE(replied) << "the committed task never ran to its reply";
  EXPECT_EQ(ReadFile("/sys/kernel/sched_ext/state"), "enabled");
}

// Tests that failed transactions aimed at a busy CPU (stale target, unknown
// target) never preempt the task running there: it gets no TASK_PREEMPT of
// ours (GH_MSG_F_SLICE_ENDED), while a commit that succeeds does.
TEST(LatchedCommit, FailedRemoteCommitLeavesTheTargetCpusTaskUndisturbed) {
  std::vector<ScriptedChild> kids;  // die after the scheduler
  auto h = Harness::Start(Opts());
  ASSERT_TRUE(h.ok()) << h.status();
  Harness& H = **h;
  const int target = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)) - 1;
  ASSERT_GE(target, 1) << "run with scripts/vm.sh --cpus 2 or more";
  ScopedAffinity off_task_cpu({0});  // this fair-class process: off the task's CPU
  const pid_t victim = SpawnSpinner(CpusUpTo(target));
  ASSERT_GT(victim, 0);
  ASSERT_NE(H.WaitForMessage(victim, GH_MSG_TASK_NEW, kWait), nullptr);
  absl::SleepFor(absl::Milliseconds(50));
  H.Drain();
  size_t mark = H.log().size();
  H.Open(target, H.GtidOf(victim), H.LastSeqnum(victim));
  ASSERT_EQ(TxnStateName(H.CommitAtOnceWhenCpuFree(target)), "COMPLETE");
  ASSERT_NE(H.WaitForMessage(victim, GH_MSG_TASK_ON_CPU, kWait, mark), nullptr);

  // A runnable task of ours to commit to the target CPU.
  pid_t other = -1;
  uint64_t other_gtid = 0;
  auto spawn_other = [&] {
    auto k = ScriptedChild::Spawn();
    ASSERT_TRUE(k.ok());
    other = k->pid();
    kids.push_back(std::move(*k));
    SetAffinity(other, CpusUpTo(target));  // it inherited our pin
    ASSERT_NE(H.WaitForMessage(other, GH_MSG_TASK_NEW, kWait), nullptr);
    absl::SleepFor(absl::Milliseconds(50));
    H.Drain();
    other_gtid = H.GtidOf(other);
  };
  spawn_other();
  mark = H.log().size();

  H.Open(target, other_gtid, H.LastSeqnum(other) - 1);
  EXPECT_EQ(TxnStateName(H.CommitAtOnceWhenCpuFree(target)), "TARGET_STALE");
  H.Open(target, other_gtid + (1ull << 32), H.LastSeqnum(other));
  EXPECT_EQ(TxnStateName(H.CommitAtOnceWhenCpuFree(target)), "TARGET_NOT_FOUND");

  // Our own preemptions end the victim's slice: their TASK_PREEMPT says
  // so (GH_MSG_F_SLICE_ENDED). A higher class's blip would not.
  auto our_preemptions = [&](size_t from) {
    int n = 0;
    for (size_t i = from; i < H.log().size(); i++) {
      const gh_msg& m = H.log()[i];
      n += m.hdr.type == GH_MSG_TASK_PREEMPT && (m.hdr.flags & GH_MSG_F_SLICE_ENDED) &&
           GH_GTID_PID(m.gtid) == static_cast<uint32_t>(victim);
    }
    return n;
  };
  absl::SleepFor(absl::Milliseconds(300));
  H.Drain();
  EXPECT_EQ(our_preemptions(mark), 0) << "a failed commit preempted the running task";
  EXPECT_EQ(ReadFile("/sys/kernel/sched_ext/state"), "enabled");

  // Control: a commit that succeeds does preempt it, and the detector sees
  // it. A higher class's blip on the target CPU may take the victim off
  // first, before or just after the commit: it is then re-enqueued, not
  // preempted by us, and the committed task runs without preempting it.
  // So: run the victim there again if it is off, commit, and try again
  // with a fresh task if no preemption of ours follows, up to 3 times.
  const gh_status_word* vsw = H.StatusWordOf(victim);
  ASSERT_NE(vsw, nullptr);
  bool preempted = false;
  for (int attempt = 0; attempt < 3 && !preempted; attempt++) {
    if (attempt > 0) spawn_other();
    if (!(__atomic_load_n(&vsw->flags, __ATOMIC_ACQUIRE) & GH_SW_TASK_ONCPU)) {
      H.Drain();
      mark = H.log().size();
      H.Open(target, H.GtidOf(victim), H.LastSeqnum(victim));
      ASSERT_EQ(TxnStateName(H.CommitAtOnceWhenCpuFree(target)), "COMPLETE");
      ASSERT_NE(H.WaitForMessage(victim, GH_MSG_TASK_ON_CPU, kWait, mark), nullptr);
    }
    H.Drain();
    mark = H.log().size();
    H.Open(target, other_gtid, H.LastSeqnum(other));
    EXPECT_EQ(TxnStateName(H.CommitAtOnceWhenCpuFree(target)), "COMPLETE");
    preempted = H.WaitUntil([&] { return our_preemptions(mark) > 0; }, absl::Seconds(3));
  }
  EXPECT_TRUE(preempted) << "a commit that succeeded never preempted the running task";
  h->reset();  // the victim, back with no agent, runs in the fair class
  kill(victim, SIGKILL);
  waitpid(victim, nullptr, 0);
}

}  // namespace
}  // namespace gh::testing
