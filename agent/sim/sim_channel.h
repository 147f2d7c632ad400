// SPDX-License-Identifier: Apache-2.0
// sim_channel.h: SimChannel, a channel of the simulated kernel: a bounded
// FIFO of gh_msg records (a ring buffer on the real backend).
//
// Thread safety: none (the simulator is single-threaded).
#ifndef GHOST_HYBRID_AGENT_SIM_SIM_CHANNEL_H_
#define GHOST_HYBRID_AGENT_SIM_SIM_CHANNEL_H_

#include <deque>

#include "agent/lib/channel.h"

namespace gh {

class SimKernel;

class SimChannel : public Channel {
 public:
  SimChannel(SimKernel* kernel, int id) : kernel_(kernel), id_(id) {}

  int id() const override { return id_; }
  Message Peek() override;
  void Consume(const Message& msg) override;
  absl::Status AssociateTask(uint64_t gtid, uint32_t sw_index, uint32_t barrier) override;
  absl::Status SetAgent(int cpu) override;

  // Returns the CPU whose agent this channel is tied to, or -1.
  int agent() const { return agent_; }
  size_t size() const { return q_.size(); }
  // Messages ever published here.
  uint64_t published() const { return published_; }

 private:
  friend class SimKernel;

  SimKernel* const kernel_;
  const int id_;
  int agent_ = -1;
  uint64_t published_ = 0;
  // std::deque keeps references to elements valid across push_back, so a
  // peeked Message stays valid while the kernel publishes more.
  std::deque<gh_msg> q_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_SIM_SIM_CHANNEL_H_
