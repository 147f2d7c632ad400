// SPDX-License-Identifier: Apache-2.0
// channel.h: Channel, the agent's end of a kernel message queue.
//
// The kernel side publishes one gh_msg per event on the channel the event's
// task is associated with (every task starts on the default channel; CPU
// messages go to the channel of that CPU's agent, or the default channel).
// On the real backend a channel is a BPF ring buffer; in the simulator a
// queue. Agents drain a channel with the Peek/Consume pair:
//
//   Message msg;
//   while (!(msg = channel.Peek()).empty()) {
//     scheduler->DispatchMessage(msg);
//     channel.Consume(msg);
//   }
//
// A channel may be tied to one agent (SetAgent): then every message delivered
// to it advances that agent's Aseq (so a local commit decided before the
// message fails AGENT_STALE) and wakes the agent if it is parked, except
// TASK_ON_CPU and CPU_TICK, which are informational.
//
// Thread safety: one consumer at a time (the agent that owns the channel);
// the kernel side is the only producer.
#ifndef GHOST_HYBRID_AGENT_LIB_CHANNEL_H_
#define GHOST_HYBRID_AGENT_LIB_CHANNEL_H_

#include <cstdint>

#include "absl/status/status.h"
#include "agent/lib/message.h"

namespace gh {

class Channel {
 public:
  virtual ~Channel() = default;

  // Returns the channel's index (GH_DEFAULT_CHANNEL for the default one).
  virtual int id() const = 0;

  // Returns the oldest unconsumed message, or an empty Message if there is
  // none. The returned view stays valid until Consume(msg).
  virtual Message Peek() = 0;

  // Removes `msg` from the channel. REQUIRES: msg is what Peek() returned.
  virtual void Consume(const Message& msg) = 0;

  // Routes every later message about task `gtid` (status word `sw_index`)
  // to this channel, atomically with a check of its Tseq: returns
  // FailedPrecondition if `barrier` is not the task's current Tseq (a
  // message was published meanwhile on the old channel: read it first and
  // retry; nothing changed), NotFound if the kernel side does not know the
  // task. On success no message of the task is left unread on the old
  // channel, so its new reader owns it alone.
  virtual absl::Status AssociateTask(uint64_t gtid, uint32_t sw_index, uint32_t barrier) = 0;

  // Ties this channel to the agent of `cpu` (-1: to no agent). See above.
  virtual absl::Status SetAgent(int cpu) = 0;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_CHANNEL_H_
