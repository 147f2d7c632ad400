// SPDX-License-Identifier: Apache-2.0
// Guest test of which task a CPU takes from the fast path's queue
// (fast_pick in bpf/runqueue.bpf.h): the one that waits for that very CPU
// (it last ran there) before an older one that waits for another, so that
// threads handing work to each other stay on one CPU.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
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

// Which of T0 and T1 a freed CPU 1 ran first (FreeCpu1).
enum class FirstOnCpu1 { kItsOwnTask, kTheQueuesHead, kVoid };

// The spinner @s has been picked by the fast path (the ON_CPU of its
// switch to SCHED_EXT, while it still ran as forked, does not count).
bool Picked(Harness& H, pid_t s) {
  return H.WaitUntil(
      [&] {
        for (const gh_msg& m : H.MessagesOf(s))
          if (m.hdr.type == GH_MSG_TASK_ON_CPU && (m.hdr.flags & GH_MSG_F_BPF_PICKED)) return true;
        return false;
      },
      kWait);
}

// T0 (last on CPU 0) and T1 (last on CPU 1) wake, T0 first, while two
// spinners hold CPUs 0 and 1 for 10 s slices, so both wait in the fast
// path's queue; then CPU 1's spinner is killed. Returns which of them CPU
// 1 ran first, or kVoid if the guest's own threads broke the setup (a
// kworker that takes CPU 0 for a moment lets CPU 0 run T0 first).
FirstOnCpu1 FreeCpu1(Harness& H, int home, std::vector<ScriptedChild>& kids) {
  kids.push_back(SpawnHavingRunOn(0, {0, 1}, home));
  kids.push_back(SpawnHavingRunOn(1, {0, 1}, home));
  ScriptedChild& k0 = kids[kids.size() - 2];
  ScriptedChild& k1 = kids.back();
  const pid_t t0 = k0.pid(), t1 = k1.pid();
  std::vector<pid_t> spinners;
  auto kill_spinners = [&] {
    for (pid_t s : spinners) {
      kill(s, SIGKILL);
      waitpid(s, nullptr, 0);
    }
  };
  for (int cpu : {0, 1}) {
    spinners.push_back(SpawnSpinner({cpu}));
    if (spinners.back() <= 0 || !Picked(H, spinners.back())) {
      ADD_FAILURE() << "the fast path never ran the spinner for CPU " << cpu;
      kill_spinners();
      return FirstOnCpu1::kVoid;
    }
  }
  H.Drain();
  const size_t woken = H.log().size();
  for (ScriptedChild* k : {&k0, &k1}) {
    const size_t mark = H.log().size();
    EXPECT_TRUE(k->Send('s'));
    EXPECT_NE(H.WaitForMessage(k->pid(), GH_MSG_TASK_WAKEUP, kWait, mark), nullptr);
  }
  H.Drain();
  const size_t freed = H.log().size();
  kill(spinners[1], SIGKILL);
  EXPECT_NE(H.WaitForMessage(t1, GH_MSG_TASK_ON_CPU, kWait, freed), nullptr);
  // Nothing is lost: both run to their reply.
  EXPECT_TRUE(k0.WaitReply(kWait)) << "T0 never ran";
  EXPECT_TRUE(k1.WaitReply(kWait)) << "T1 never ran";
  kill_spinners();
  H.Drain();
  const gh_msg* first = nullptr;
  for (size_t i = woken; i < H.log().size() && !first; i++) {
    const gh_msg& m = H.log()[i];
    const pid_t pid = static_cast<pid_t>(GH_GTID_PID(m.gtid));
    if (m.hdr.type != GH_MSG_TASK_ON_CPU || (pid != t0 && pid != t1)) continue;
    if (i < freed || m.hdr.cpu != 1) return FirstOnCpu1::kVoid;  // a CPU freed by a blip
    first = &m;
  }
  if (!first) return FirstOnCpu1::kVoid;
  EXPECT_TRUE(first->hdr.flags & GH_MSG_F_BPF_PICKED);
  return static_cast<pid_t>(GH_GTID_PID(first->gtid)) == t1 ? FirstOnCpu1::kItsOwnTask
                                                             : FirstOnCpu1::kTheQueuesHead;
}

// Tests that a freed CPU runs the task that last ran on it before the
// queue's head (FreeCpu1), built afresh up to three times should the
// guest's own threads break the setup.
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
  auto h = Harness::Start(o);
  ASSERT_TRUE(h.ok()) << h.status();
  FirstOnCpu1 got = FirstOnCpu1::kVoid;
  for (int attempt = 0; attempt < 3 && got == FirstOnCpu1::kVoid; attempt++) {
    got = FreeCpu1(**h, home, kids);
    if (got == FirstOnCpu1::kVoid) std::printf("  (attempt %d: a blip freed CPU 0 first)\n", attempt);
  }
  EXPECT_NE(got, FirstOnCpu1::kVoid) << "the setup never held";
  EXPECT_NE(got, FirstOnCpu1::kTheQueuesHead)
      << "CPU 1 ran the queue's head (T0, last on CPU 0) before its own task";
  EXPECT_EQ(ReadFile("/sys/kernel/sched_ext/state"), "enabled");
  h->reset();
}

}  // namespace
}  // namespace gh::testing
