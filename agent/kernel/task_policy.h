// SPDX-License-Identifier: Apache-2.0
// task_policy.h: moving threads into and out of the ext scheduling class.
//
// util-linux 2.38's chrt cannot set SCHED_EXT (policy 7), so ghost_hybrid
// calls sched_setattr(2) itself. A thread with policy SCHED_EXT is managed
// by ghost_hybrid while it is loaded (SCX_OPS_SWITCH_PARTIAL), and its
// children inherit the policy.
#ifndef GHOST_HYBRID_AGENT_KERNEL_TASK_POLICY_H_
#define GHOST_HYBRID_AGENT_KERNEL_TASK_POLICY_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gh {

inline constexpr int kSchedExt = 7;

// Sets thread @tid (0: the caller) to SCHED_EXT, keeping its nice value.
absl::Status SetSchedExt(pid_t tid);
// Sets thread @tid (0: the caller) back to SCHED_NORMAL.
absl::Status SetSchedNormal(pid_t tid);
// Returns thread @tid's policy (sched_getattr).
absl::StatusOr<int> PolicyOf(pid_t tid);
// Pins the calling thread to @cpu.
absl::Status PinToCpu(int cpu);

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_KERNEL_TASK_POLICY_H_
