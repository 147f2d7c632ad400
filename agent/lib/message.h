// SPDX-License-Identifier: Apache-2.0
// message.h: Message, a typed read-only view over one struct gh_msg.
//
// The kernel side publishes fixed-size gh_msg records on channels (a BPF ring
// buffer on the real backend). A Message points at one such record while it
// is at the head of its channel; the accessors check the message type before
// handing out a payload, so a handler can never read a wakeup as a task_new.
//
// Thread safety: Message is a value; the record it points at must stay alive
// until the message is consumed (Channel::Consume), see channel.h.
#ifndef GHOST_HYBRID_AGENT_LIB_MESSAGE_H_
#define GHOST_HYBRID_AGENT_LIB_MESSAGE_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "agent/lib/check.h"
#include "agent/lib/clock.h"
#include "bpf/intf.h"

namespace gh {

class Message {
 public:
  Message() = default;
  explicit Message(const gh_msg* msg) : msg_(msg) {}

  // Returns true iff this is the "no message" value Channel::Peek returns.
  bool empty() const { return msg_ == nullptr; }

  // Header accessors. REQUIRES: !empty().
  int type() const { return hdr().type; }
  uint32_t seqnum() const { return hdr().seqnum; }
  uint32_t flags() const { return hdr().flags; }
  int cpu() const { return static_cast<int>(hdr().cpu); }
  absl::Time time() const { return KernelTime(hdr().time); }
  // The kernel side's clock (ns) when it sent the message.
  uint64_t time_ns() const { return hdr().time; }

  static bool IsTaskType(int type) {
    return type >= GH_MSG_TASK_NEW && type <= GH_MSG_TASK_LAST;
  }
  static bool IsCpuType(int type) {
    return type >= GH_MSG_CPU_TICK && type <= GH_MSG_CPU_LAST;
  }
  bool is_task_msg() const { return IsTaskType(type()); }
  bool is_cpu_msg() const { return IsCpuType(type()); }

  // Returns true iff the kernel's fast path queued (TASK_NEW/WAKEUP) or
  // picked (TASK_ON_CPU) the task.
  bool bpf_queued() const { return flags() & GH_MSG_F_BPF_QUEUED; }
  bool bpf_picked() const { return flags() & GH_MSG_F_BPF_PICKED; }
  // TASK_PREEMPT: its slice ran out (or a commit took its CPU), rather
  // than a higher class taking the CPU.
  bool slice_ended() const { return flags() & GH_MSG_F_SLICE_ENDED; }

  // Returns the task's gtid. REQUIRES: is_task_msg().
  uint64_t gtid() const {
    GH_CHECK(is_task_msg());
    return msg_->gtid;
  }

  // Typed payloads; each REQUIRES the matching type.
  const gh_payload_task_new& task_new() const {
    GH_CHECK_EQ(type(), GH_MSG_TASK_NEW);
    return msg_->task_new;
  }
  const gh_payload_task_wakeup& wakeup() const {
    GH_CHECK_EQ(type(), GH_MSG_TASK_WAKEUP);
    return msg_->wakeup;
  }
  // BLOCKED, PREEMPT, YIELD, DEAD and DEPARTED share this payload.
  const gh_payload_task_off& off() const {
    GH_CHECK(type() >= GH_MSG_TASK_BLOCKED && type() <= GH_MSG_TASK_DEPARTED);
    return msg_->off;
  }
  const gh_payload_task_affinity& affinity() const {
    GH_CHECK_EQ(type(), GH_MSG_TASK_AFFINITY_CHANGED);
    return msg_->affinity;
  }
  const gh_payload_task_priority& priority() const {
    GH_CHECK_EQ(type(), GH_MSG_TASK_PRIORITY_CHANGED);
    return msg_->priority;
  }
  const gh_payload_task_on_cpu& on_cpu() const {
    GH_CHECK_EQ(type(), GH_MSG_TASK_ON_CPU);
    return msg_->on_cpu;
  }
  // REQUIRES: is_cpu_msg().
  const gh_payload_cpu& cpu_payload() const {
    GH_CHECK(is_cpu_msg());
    return msg_->cpu;
  }

  const gh_msg* raw() const { return msg_; }

  // Returns e.g. "TASK_WAKEUP seq=3 cpu=1 gtid=0x100000401".
  std::string ToString() const;

  // Returns the name of a gh_msg_type without the GH_MSG_ prefix, or "?".
  static const char* TypeName(int type);

 private:
  const gh_msg_hdr& hdr() const {
    GH_CHECK(msg_ != nullptr);
    return msg_->hdr;
  }

  const gh_msg* msg_ = nullptr;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_MESSAGE_H_
