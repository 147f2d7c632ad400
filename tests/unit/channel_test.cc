// SPDX-License-Identifier: Apache-2.0
// Tests of the Channel contract (agent/lib/channel.h) on the simulator's
// channel: FIFO Peek/Consume, stable views, association, agent wakeups.
#include "agent/lib/channel.h"

#include "agent/sim/sim_kernel.h"
#include "gtest/gtest.h"

namespace gh {
namespace {

const absl::Duration kUs = absl::Microseconds(1);

SimConfig TwoCpus() {
  SimConfig c;
  c.topology = Topology::Synthetic(2, 1, 2, 1);
  return c;
}

// Tests that Peek returns the oldest message until it is consumed, that a
// peeked view stays valid while more messages arrive, and that an empty
// channel peeks empty.
TEST(Channel, PeekConsumeInPublicationOrder) {
  SimKernel k(TwoCpus());
  Channel& ch = k.DefaultChannel();
  EXPECT_TRUE(ch.Peek().empty());
  const uint64_t a = k.AddTask({.script = {SimAction::Run(5 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  Message first = ch.Peek();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.gtid(), a);
  EXPECT_EQ(ch.Peek().raw(), first.raw());  // not consumed yet
  const uint64_t b = k.AddTask({.script = {SimAction::Run(5 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  EXPECT_EQ(first.gtid(), a);  // still valid after b's TASK_NEW
  ch.Consume(first);
  Message second = ch.Peek();
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(second.gtid(), b);
  ch.Consume(second);
  EXPECT_TRUE(ch.Peek().empty());
  EXPECT_EQ(ch.id(), GH_DEFAULT_CHANNEL);
  EXPECT_EQ(k.CpuChannel(1).id(), 2);
}

// Tests that consuming something other than the head is fatal.
TEST(ChannelDeathTest, ConsumeOfNonHeadAborts) {
  SimKernel k(TwoCpus());
  k.AddTask({.script = {SimAction::Run(5 * kUs)}});
  k.AddTask({.script = {SimAction::Run(5 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  gh_msg copy = *k.DefaultChannel().Peek().raw();
  EXPECT_DEATH(k.DefaultChannel().Consume(Message(&copy)), "not the head");
}

// Tests that a channel full of unread messages drops new ones and counts
// them, rather than blocking the kernel side.
TEST(Channel, FullChannelDropsAndCounts) {
  SimConfig c = TwoCpus();
  c.channel_capacity = 3;
  SimKernel k(c);
  for (int i = 0; i < 5; ++i) k.AddTask({.script = {SimAction::Run(5 * kUs)}});
  k.RunFor(absl::ZeroDuration());
  EXPECT_EQ(k.channel(GH_DEFAULT_CHANNEL).size(), 3u);
  EXPECT_EQ(k.kernel_stat(GH_STAT_MSGS_DROPPED), 2u);
}

// Tests that SetAgent ties CPU messages to that channel, and rejects a CPU
// outside the enclave.
TEST(Channel, SetAgentRoutesCpuMessages) {
  SimKernel k(TwoCpus());
  ASSERT_TRUE(k.CpuChannel(1).SetAgent(1).ok());
  EXPECT_FALSE(k.CpuChannel(1).SetAgent(7).ok());
  k.AddHigherClassBusy(1, kUs, 2 * kUs);
  k.RunFor(3 * kUs);
  EXPECT_TRUE(k.DefaultChannel().Peek().empty());
  Message m = k.CpuChannel(1).Peek();
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m.type(), GH_MSG_CPU_BUSY);
  EXPECT_EQ(m.seqnum(), 1u);
  EXPECT_EQ(k.aseq(1), 2u);  // BUSY and AVAILABLE, each counted once
}

}  // namespace
}  // namespace gh
