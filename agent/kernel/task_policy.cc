// SPDX-License-Identifier: Apache-2.0
#include "agent/kernel/task_policy.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gh {
namespace {

// struct sched_attr of sched_setattr(2); glibc 2.36 does not declare it.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

absl::Status SetPolicy(pid_t tid, int policy) {
  SchedAttr attr = {};
  attr.size = sizeof(attr);
  attr.sched_policy = static_cast<uint32_t>(policy);
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  attr.sched_nice = errno ? 0 : nice;
  if (syscall(SYS_sched_setattr, tid, &attr, 0) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("sched_setattr(", tid, ", policy ", policy, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SetSchedExt(pid_t tid) { return SetPolicy(tid, kSchedExt); }
absl::Status SetSchedNormal(pid_t tid) { return SetPolicy(tid, SCHED_OTHER); }

absl::StatusOr<int> PolicyOf(pid_t tid) {
  SchedAttr attr = {};
  if (syscall(SYS_sched_getattr, tid, &attr, sizeof(attr), 0) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("sched_getattr(", tid, ")"));
  }
  return static_cast<int>(attr.sched_policy);
}

absl::Status PinToCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("sched_setaffinity(CPU ", cpu, ")"));
  }
  return absl::OkStatus();
}

}  // namespace gh
