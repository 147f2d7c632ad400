// SPDX-License-Identifier: Apache-2.0
// Tests of Seqnum, Task::Advance and TaskAllocator (agent/lib/task.h).
#include "agent/lib/task.h"

#include "gtest/gtest.h"

namespace gh {
namespace {

// Tests that Advance accepts a seqnum that grows, including by a gap (the
// kernel's fast path may consume messages).
TEST(Seqnum, AdvanceAcceptsGrowingSeqnumWithGaps) {
  Task t(0x100000001, StatusWord());
  t.seqnum = 3;
  t.Advance(4);
  EXPECT_EQ(t.seqnum, 4u);
  t.Advance(9);
  EXPECT_EQ(t.seqnum.load(), 9u);
}

// Tests that Advance rejects a seqnum that goes backwards or repeats, and
// leaves the recorded seqnum unchanged.
TEST(Seqnum, AdvanceRejectsSeqnumThatGoesBackwards) {
  Task t(0x100000001, StatusWord());
  t.seqnum = 7;
  EXPECT_FALSE(t.TryAdvance(6).ok());
  EXPECT_FALSE(t.TryAdvance(7).ok());
  EXPECT_EQ(t.seqnum, 7u);
  EXPECT_TRUE(t.TryAdvance(8).ok());
  EXPECT_EQ(t.seqnum, 8u);
}

// Tests that the fatal form aborts on a backwards seqnum.
TEST(SeqnumDeathTest, AdvanceAbortsOnBackwardsSeqnum) {
  Task t(0x100000001, StatusWord());
  t.seqnum = 5;
  EXPECT_DEATH(t.Advance(2), "does not advance");
}

struct MyTask : Task {
  MyTask(uint64_t gtid, StatusWord sw) : Task(gtid, sw) {}
  int payload = 0;
};

// Tests that the allocator creates a task once per gtid, finds it again and
// forgets it when freed.
TEST(TaskAllocator, KeysTasksByGtid) {
  TaskAllocator<MyTask> alloc;
  auto [a, created] = alloc.GetOrCreate(42, StatusWord());
  ASSERT_TRUE(created);
  a->payload = 7;
  auto [b, created2] = alloc.GetOrCreate(42, StatusWord());
  EXPECT_FALSE(created2);
  EXPECT_EQ(a, b);
  EXPECT_EQ(alloc.GetTask(42)->payload, 7);
  EXPECT_EQ(alloc.GetTask(43), nullptr);
  alloc.GetOrCreate(43, StatusWord());
  int n = 0;
  alloc.ForEachTask([&](MyTask*) { return ++n, true; });
  EXPECT_EQ(n, 2);
  alloc.FreeTask(a);
  EXPECT_EQ(alloc.GetTask(42), nullptr);
  EXPECT_EQ(alloc.size(), 1u);
}

}  // namespace
}  // namespace gh
