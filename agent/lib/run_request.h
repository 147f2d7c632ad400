// SPDX-License-Identifier: Apache-2.0
// run_request.h: RunRequest, the agent's handle on one CPU's transaction
// slot (a struct gh_txn in memory shared with the kernel side).
//
// A transaction asks the kernel side to run task `target` on the slot's CPU.
// The agent opens it (Open), then commits it alone (Commit) or with other
// CPUs' slots as one group (Enclave::CommitRunRequests). The target CPU
// validates the slot against the current Tseq/Aseq and writes exactly one
// outcome (gh_txn_state >= GH_TXN_COMPLETE); a failed transaction never runs
// the task and never loses it. A local commit (the agent's own CPU) passes
// the agent barrier; the kernel then also checks the agent's Aseq.
//
//   RunRequest* req = enclave->GetRunRequest(cpu);
//   req->Open({.target = task->gtid, .target_barrier = task->seqnum,
//              .commit_flags = GH_COMMIT_AT_TXN_COMMIT});
//   if (req->Commit()) { ... task runs on cpu ... }
//
// Thread safety: a slot has one writer, the agent scheduling that CPU.
#ifndef GHOST_HYBRID_AGENT_LIB_RUN_REQUEST_H_
#define GHOST_HYBRID_AGENT_LIB_RUN_REQUEST_H_

#include <cstdint>

#include "absl/time/time.h"
#include "agent/lib/clock.h"
#include "bpf/intf.h"

namespace gh {

class Enclave;

struct RunRequestOptions {
  uint64_t target = GH_NULL_GTID;  // gtid, or GH_IDLE_GTID
  uint32_t target_barrier = 0;     // the agent's Tseq of `target`
  uint32_t agent_barrier = 0;      // the agent's Aseq ...
  bool check_agent_barrier = false;  // ... checked iff set (local commits)
  uint32_t commit_flags = GH_COMMIT_AT_TXN_COMMIT;
  uint32_t run_flags = 0;
  absl::Duration slice = absl::ZeroDuration();  // 0: the scheduler default
};

class RunRequest {
 public:
  // REQUIRES: `slot` outlives this object.
  RunRequest(Enclave* enclave, int cpu, gh_txn* slot)
      : enclave_(enclave), cpu_(cpu), slot_(slot) {}

  // Fills the slot and marks it OPEN.
  // REQUIRES: !open() && !submitted() (the previous outcome was read).
  void Open(const RunRequestOptions& options);

  // Marks an OPEN slot ABORTED. Returns true iff it was open.
  bool Abort();

  // Submits this slot alone and waits for its outcome. Returns succeeded().
  // REQUIRES: open().
  bool Commit();

  // Parks the calling agent (this slot's CPU must be its own) until it is
  // pinged or `wake_by` passes, unless its Aseq moved past `agent_barrier`.
  // Returns true iff it parked. `run_flags` are gh_run_flags (GH_RTLA_ON_IDLE).
  bool LocalYield(uint32_t agent_barrier, uint32_t run_flags,
                  absl::Time wake_by = absl::InfiniteFuture());

  // Returns the slot state (gh_txn_state). Acquire: pairs with the kernel
  // side's release store of the outcome, which follows commit_time.
  uint32_t state() const { return __atomic_load_n(&slot_->state, __ATOMIC_ACQUIRE); }
  bool open() const { return state() == GH_TXN_OPEN; }
  bool submitted() const {
    return state() == GH_TXN_SUBMITTED || state() == GH_TXN_CLAIMED;
  }
  // Returns true iff an outcome has been written.
  bool committed() const { return state() >= GH_TXN_COMPLETE; }
  bool succeeded() const { return state() == GH_TXN_COMPLETE; }
  bool failed() const { return committed() && !succeeded(); }
  uint64_t target() const { return slot_->gtid; }
  absl::Time commit_time() const { return KernelTime(slot_->commit_time); }

  int cpu() const { return cpu_; }
  const gh_txn* slot() const { return slot_; }

  // Returns the name of a gh_txn_state without the GH_TXN_ prefix, or "?".
  static const char* StateName(uint32_t state);

 private:
  Enclave* const enclave_;
  const int cpu_;
  gh_txn* const slot_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_RUN_REQUEST_H_
