// SPDX-License-Identifier: Apache-2.0
// Tests of RunRequest over a transaction slot (agent/lib/run_request.h).
#include "agent/lib/run_request.h"

#include "fake_enclave.h"
#include "gtest/gtest.h"

namespace gh {
namespace {

// Tests that Open writes every field of the slot and marks it OPEN, and
// Commit reports the outcome the kernel side wrote.
TEST(RunRequest, OpenFillsSlotAndCommitReportsOutcome) {
  FakeEnclave e(2);
  RunRequest* req = e.GetRunRequest(1);
  req->Open({.target = 0x100000009,
             .target_barrier = 4,
             .agent_barrier = 6,
             .check_agent_barrier = true,
             .commit_flags = GH_COMMIT_AT_TXN_COMMIT,
             .run_flags = GH_RTLA_ON_IDLE,
             .slice = absl::Microseconds(5)});
  EXPECT_TRUE(req->open());
  EXPECT_EQ(req->slot()->gtid, 0x100000009u);
  EXPECT_EQ(req->slot()->task_barrier, 4u);
  EXPECT_EQ(req->slot()->agent_barrier, 6u);
  EXPECT_EQ(req->slot()->check_agent_barrier, 1u);
  EXPECT_EQ(req->slot()->run_flags, static_cast<uint32_t>(GH_RTLA_ON_IDLE));
  EXPECT_EQ(req->slot()->slice_ns, 5000u);
  e.outcome = GH_TXN_TARGET_STALE;
  EXPECT_FALSE(req->Commit());
  EXPECT_TRUE(req->committed());
  EXPECT_TRUE(req->failed());
  EXPECT_EQ(req->state(), static_cast<uint32_t>(GH_TXN_TARGET_STALE));
  e.outcome = GH_TXN_COMPLETE;
  req->Open({.target = 0x100000009});
  EXPECT_TRUE(req->Commit());
  EXPECT_TRUE(req->succeeded());
}

// Tests that Abort turns an open slot into ABORTED and a later group commit
// leaves it alone.
TEST(RunRequest, AbortMarksOpenSlotAborted) {
  FakeEnclave e(2);
  RunRequest* req = e.GetRunRequest(0);
  EXPECT_FALSE(req->Abort());
  req->Open({.target = 7});
  EXPECT_TRUE(req->Abort());
  EXPECT_EQ(req->state(), static_cast<uint32_t>(GH_TXN_ABORTED));
  e.CommitRunRequests(CpuList{0});
  EXPECT_EQ(e.commits, 0);
  EXPECT_STREQ(RunRequest::StateName(req->state()), "ABORTED");
}

// Tests that opening a slot that is still open is fatal.
TEST(RunRequestDeathTest, OpenTwiceAborts) {
  FakeEnclave e(1);
  RunRequest* req = e.GetRunRequest(0);
  req->Open({.target = 7});
  EXPECT_DEATH(req->Open({.target = 8}), "busy slot");
}

}  // namespace
}  // namespace gh
