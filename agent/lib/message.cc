// SPDX-License-Identifier: Apache-2.0
#include "agent/lib/message.h"

#include "absl/strings/str_format.h"

namespace gh {

const char* Message::TypeName(int type) {
  switch (type) {
    case GH_MSG_NONE: return "NONE";
    case GH_MSG_TASK_NEW: return "TASK_NEW";
    case GH_MSG_TASK_WAKEUP: return "TASK_WAKEUP";
    case GH_MSG_TASK_BLOCKED: return "TASK_BLOCKED";
    case GH_MSG_TASK_PREEMPT: return "TASK_PREEMPT";
    case GH_MSG_TASK_YIELD: return "TASK_YIELD";
    case GH_MSG_TASK_DEAD: return "TASK_DEAD";
    case GH_MSG_TASK_DEPARTED: return "TASK_DEPARTED";
    case GH_MSG_TASK_AFFINITY_CHANGED: return "TASK_AFFINITY_CHANGED";
    case GH_MSG_TASK_PRIORITY_CHANGED: return "TASK_PRIORITY_CHANGED";
    case GH_MSG_TASK_ON_CPU: return "TASK_ON_CPU";
    case GH_MSG_CPU_TICK: return "CPU_TICK";
    case GH_MSG_CPU_AVAILABLE: return "CPU_AVAILABLE";
    case GH_MSG_CPU_BUSY: return "CPU_BUSY";
    default: return "?";
  }
}

std::string Message::ToString() const {
  if (empty()) return "<empty>";
  std::string s = absl::StrFormat("%s seq=%u cpu=%d", TypeName(type()),
                                  seqnum(), cpu());
  if (is_task_msg()) absl::StrAppendFormat(&s, " gtid=%#x", gtid());
  if (flags()) absl::StrAppendFormat(&s, " flags=%#x", flags());
  return s;
}

}  // namespace gh
