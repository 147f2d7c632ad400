// Guest tests of the kernel side (bpf/): loading, the message path, the
// transaction path and the fast path, driven through the raw ABI by the
// harness (no agent). Run inside the guest: scripts/vm.sh -- build/tests/guest_tests
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/guest/harness.h"

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
                          "TASK_WAKEUP", "TASK_ON_CPU", "TASK_DEAD"))
      << "all: " << ::testing::PrintToString(TypeNames(msgs));
  for (size_t i = 0; i < msgs.size(); i++) {
    EXPECT_EQ(msgs[i].hdr.seqnum, i + 1) << "message " << i << " " << MsgTypeName(msgs[i].hdr.type);
    EXPECT_EQ(msgs[i].gtid, (*h)->GtidOf(pid));
  }
}

}  // namespace
}  // namespace gh::testing
