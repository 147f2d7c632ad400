// SPDX-License-Identifier: Apache-2.0
// Tests of the Message and StatusWord views (agent/lib/message.h,
// agent/lib/status_word.h).
#include "agent/lib/message.h"

#include "agent/lib/status_word.h"
#include "gtest/gtest.h"

namespace gh {
namespace {

// Tests that a Message exposes the header and the payload of its type.
TEST(Message, TypedAccessorsReadTheRecord) {
  gh_msg m = {};
  m.hdr.type = GH_MSG_TASK_WAKEUP;
  m.hdr.seqnum = 12;
  m.hdr.cpu = 3;
  m.hdr.flags = GH_MSG_F_BPF_QUEUED;
  m.hdr.time = 1500;
  m.wakeup.gtid = 0x200000007;
  m.wakeup.deferrable = 1;
  Message msg(&m);
  EXPECT_FALSE(msg.empty());
  EXPECT_TRUE(msg.is_task_msg());
  EXPECT_FALSE(msg.is_cpu_msg());
  EXPECT_EQ(msg.type(), GH_MSG_TASK_WAKEUP);
  EXPECT_EQ(msg.seqnum(), 12u);
  EXPECT_EQ(msg.cpu(), 3);
  EXPECT_TRUE(msg.bpf_queued());
  EXPECT_FALSE(msg.bpf_picked());
  EXPECT_EQ(msg.gtid(), 0x200000007u);
  EXPECT_EQ(msg.wakeup().deferrable, 1u);
  EXPECT_EQ(msg.time(), absl::UnixEpoch() + absl::Nanoseconds(1500));
  EXPECT_EQ(msg.ToString(), "TASK_WAKEUP seq=12 cpu=3 gtid=0x200000007 flags=0x1");
}

// Tests that asking for the wrong payload is fatal.
TEST(MessageDeathTest, WrongPayloadAccessAborts) {
  gh_msg m = {};
  m.hdr.type = GH_MSG_TASK_BLOCKED;
  Message msg(&m);
  EXPECT_EQ(&msg.off(), &m.off);
  EXPECT_DEATH(msg.task_new(), "check failed");
  m.hdr.type = GH_MSG_CPU_BUSY;
  EXPECT_DEATH(msg.gtid(), "check failed");
}

// Tests that an empty Message reports empty and CPU messages are classified.
TEST(Message, EmptyAndCpuMessages) {
  EXPECT_TRUE(Message().empty());
  gh_msg m = {};
  m.hdr.type = GH_MSG_CPU_AVAILABLE;
  m.cpu.cpu = 5;
  Message msg(&m);
  EXPECT_TRUE(msg.is_cpu_msg());
  EXPECT_EQ(msg.cpu_payload().cpu, 5u);
  EXPECT_STREQ(Message::TypeName(GH_MSG_CPU_BUSY), "CPU_BUSY");
}

// Tests that StatusWord reads barrier, flags and fields of the raw word.
TEST(StatusWord, ReadsBarrierFlagsAndFields) {
  gh_status_word sw = {};
  sw.barrier = 9;
  sw.flags = GH_SW_INUSE | GH_SW_TASK_ONCPU | GH_SW_BOOST_PRIO;
  sw.cpu = 2;
  sw.switch_time = 2000;
  StatusWord w(&sw);
  EXPECT_EQ(w.barrier(), 9u);
  EXPECT_TRUE(w.on_cpu());
  EXPECT_FALSE(w.runnable());
  EXPECT_TRUE(w.boosted_priority());
  EXPECT_FALSE(w.stale(9));
  EXPECT_TRUE(w.stale(8));
  EXPECT_EQ(w.cpu(), 2);
  EXPECT_EQ(w.switch_time(), absl::UnixEpoch() + absl::Nanoseconds(2000));
  sw.barrier = 10;
  EXPECT_TRUE(w.stale(9));
}

}  // namespace
}  // namespace gh
