// SPDX-License-Identifier: Apache-2.0
// Guest test of which task a CPU takes from the fast path's queue
// (fast_pick in bpf/runqueue.bpf.h): the one that waits for that very CPU
// (it last ran there) before an older one that waits for another, so that
// threads handing work to each other stay on one CPU.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "gtest/gtest.h"
#include "tests/guest/harness.h"

namespace gh::testing {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

// A scripted child that ran on @cpu, sleeps in read(), and may now run on
// @allowed; this thread goes back to @home.
ScriptedChild SpawnHavingRunOn(int cpu, const std::vector<int>& allowed, int home) {
  SetAffinity(0, {cpu});
  absl::StatusOr<ScriptedChild> k = ScriptedChild::Spawn();
  SetAffinity(0, {home});
  EXPECT_TRUE(k.ok()) << k.status();
  EXPECT_TRUE(k->WaitReply(kWait)) << "the fast path never ran the new task";
  SetAffinity(k->pid(), allowed);
  return std::move(*k);
}

// Tests that a freed CPU runs the task that last ran on it before the
// queue's head: T0 (last on CPU 0) and T1 (last on CPU 1) wait, T0 first,
// while two spinners hold CPUs 0 and 1 for 10 s slices; killing CPU 1's
// spinner runs T1 there first, then T0.
TEST(FastPath, FreedCpuRunsTheTaskThatLastRanThereBeforeTheQueuesHead) {
  const int ncpu = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  ASSERT_GE(ncpu, 3) << "run with scripts/vm.sh --cpus 3 or more";
  const int home = ncpu - 1;  // this process: outside the enclave
  ScopedAffinity outside_enclave({home});
  BpfSchedulerOptions o;
  o.bpf_pick = true;
  o.watchdog = absl::Seconds(20);
  o.pick_slice = absl::Seconds(10);  // a picked spinner keeps its CPU
  o.enclave = {0, 1};
  std::vector<ScriptedChild> kids;  // die after the scheduler
  std::vector<pid_t> spinners;
  {
    auto h = Harness::Start(o);
    ASSERT_TRUE(h.ok()) << h.status();
    Harness& H = **h;
    kids.push_back(SpawnHavingRunOn(0, {0, 1}, home));
    kids.push_back(SpawnHavingRunOn(1, {0, 1}, home));
    const pid_t t0 = kids[0].pid(), t1 = kids[1].pid();
    for (int cpu : {0, 1}) {
      const pid_t s = SpawnSpinner({cpu});
      ASSERT_GT(s, 0);
      spinners.push_back(s);
      // Picked by the fast path (the ON_CPU of its switch to SCHED_EXT,
      // while it still ran as forked, does not count).
      ASSERT_TRUE(H.WaitUntil(
          [&] {
            for (const gh_msg& m : H.MessagesOf(s))
              if (m.hdr.type == GH_MSG_TASK_ON_CPU && (m.hdr.flags & GH_MSG_F_BPF_PICKED)) return true;
            return false;
          },
          kWait))
          << "the fast path never ran spinner " << s;
    }
    // Both wake with every enclave CPU busy: they queue, T0 first.
    for (pid_t t : {t0, t1}) {
      const size_t mark = H.log().size();
      ASSERT_TRUE(kids[t == t0 ? 0 : 1].Send('s'));
      ASSERT_NE(H.WaitForMessage(t, GH_MSG_TASK_WAKEUP, kWait, mark), nullptr);
    }
    H.Drain();
    const size_t mark = H.log().size();
    kill(spinners[1], SIGKILL);
    ASSERT_NE(H.WaitForMessage(t1, GH_MSG_TASK_ON_CPU, kWait, mark), nullptr);
    const gh_msg* first = nullptr;
    for (size_t i = mark; i < H.log().size() && !first; i++) {
      const gh_msg& m = H.log()[i];
      const pid_t pid = static_cast<pid_t>(GH_GTID_PID(m.gtid));
      if (m.hdr.type == GH_MSG_TASK_ON_CPU && (pid == t0 || pid == t1)) first = &m;
    }
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(static_cast<pid_t>(GH_GTID_PID(first->gtid)), t1)
        << "CPU 1 ran the queue's head (T0, last on CPU 0) before its own task";
    EXPECT_EQ(first->hdr.cpu, 1u);
    EXPECT_TRUE(first->hdr.flags & GH_MSG_F_BPF_PICKED);
    // Nothing was lost: T0 runs too (on CPU 1 once T1 sleeps again).
    EXPECT_TRUE(kids[0].WaitReply(kWait)) << "T0 never ran";
    EXPECT_TRUE(kids[1].WaitReply(kWait)) << "T1 never ran";
    EXPECT_EQ(ReadFile("/sys/kernel/sched_ext/state"), "enabled");
  }
  for (pid_t s : spinners) {
    kill(s, SIGKILL);
    waitpid(s, nullptr, 0);
  }
}

}  // namespace
}  // namespace gh::testing
