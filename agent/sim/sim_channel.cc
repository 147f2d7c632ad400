// SPDX-License-Identifier: Apache-2.0
#include "agent/sim/sim_channel.h"

#include "agent/lib/check.h"
#include "agent/sim/sim_kernel.h"

namespace gh {

Message SimChannel::Peek() {
  return q_.empty() ? Message() : Message(&q_.front());
}

void SimChannel::Consume(const Message& msg) {
  GH_CHECK_MSG(!q_.empty() && msg.raw() == &q_.front(),
               "Consume of a message that is not the head");
  q_.pop_front();
}

absl::Status SimChannel::AssociateTask(uint64_t gtid, uint32_t sw_index, uint32_t barrier) {
  return kernel_->AssociateTask(id_, gtid, sw_index, barrier);
}

absl::Status SimChannel::SetAgent(int cpu) {
  return kernel_->SetChannelAgent(id_, cpu);
}

}  // namespace gh
