// SPDX-License-Identifier: Apache-2.0
#include "agent/lib/run_request.h"

#include "agent/lib/check.h"
#include "agent/lib/enclave.h"

namespace gh {

void RunRequest::Open(const RunRequestOptions& o) {
  GH_CHECK_MSG(!open() && !submitted(), "RunRequest::Open on a busy slot");
  slot_->gtid = o.target;
  slot_->task_barrier = o.target_barrier;
  slot_->agent_barrier = o.agent_barrier;
  slot_->check_agent_barrier = o.check_agent_barrier ? 1 : 0;
  slot_->commit_flags = o.commit_flags;
  slot_->run_flags = o.run_flags;
  slot_->commit_time = 0;
  slot_->slice_ns = static_cast<uint64_t>(absl::ToInt64Nanoseconds(o.slice));
  // Release: the target CPU that sees OPEN must see the fields above.
  __atomic_store_n(&slot_->state, static_cast<uint32_t>(GH_TXN_OPEN),
                   __ATOMIC_RELEASE);
}

bool RunRequest::Abort() {
  uint32_t expected = GH_TXN_OPEN;
  // Acq_rel CAS: only an OPEN slot may be aborted; a CPU may claim it
  // concurrently on the real backend, and exactly one of us wins.
  return __atomic_compare_exchange_n(&slot_->state, &expected,
                                     static_cast<uint32_t>(GH_TXN_ABORTED),
                                     false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}

bool RunRequest::Commit() {
  GH_CHECK(open());
  CpuList one;
  one.Set(cpu_);
  enclave_->CommitRunRequests(one);
  return succeeded();
}

bool RunRequest::LocalYield(uint32_t agent_barrier, uint32_t run_flags, absl::Time wake_by) {
  return enclave_->LocalYield(cpu_, agent_barrier, run_flags, wake_by);
}

const char* RunRequest::StateName(uint32_t state) {
  switch (state) {
    case GH_TXN_IDLE: return "IDLE";
    case GH_TXN_OPEN: return "OPEN";
    case GH_TXN_SUBMITTED: return "SUBMITTED";
    case GH_TXN_CLAIMED: return "CLAIMED";
    case GH_TXN_COMPLETE: return "COMPLETE";
    case GH_TXN_ABORTED: return "ABORTED";
    case GH_TXN_TARGET_ONCPU: return "TARGET_ONCPU";
    case GH_TXN_TARGET_STALE: return "TARGET_STALE";
    case GH_TXN_TARGET_NOT_FOUND: return "TARGET_NOT_FOUND";
    case GH_TXN_TARGET_NOT_RUNNABLE: return "TARGET_NOT_RUNNABLE";
    case GH_TXN_AGENT_STALE: return "AGENT_STALE";
    case GH_TXN_CPU_OFFLINE: return "CPU_OFFLINE";
    case GH_TXN_CPU_UNAVAIL: return "CPU_UNAVAIL";
    case GH_TXN_INVALID_FLAGS: return "INVALID_FLAGS";
    case GH_TXN_INVALID_TARGET: return "INVALID_TARGET";
    case GH_TXN_NOT_PERMITTED: return "NOT_PERMITTED";
    case GH_TXN_INVALID_CPU: return "INVALID_CPU";
    case GH_TXN_NO_AGENT: return "NO_AGENT";
    case GH_TXN_POISONED: return "POISONED";
    default: return "?";
  }
}

}  // namespace gh
