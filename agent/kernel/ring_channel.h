// SPDX-License-Identifier: Apache-2.0
// ring_channel.h: a reader for one ghost_hybrid channel, a BPF ring buffer
// of struct gh_msg records, mapped into this process.
//
// Unlike libbpf's ring_buffer__consume(), which hands every record to a
// callback, RingChannel offers ghOSt's Peek/Consume: the agent looks at the
// oldest unread message, acts on it, and only then releases it. No syscall
// is made on either path; the producer position is read with an acquire
// load that pairs with bpf_ringbuf_submit()'s release store.
//
// Thread safety: one consumer thread per channel.
#ifndef GHOST_HYBRID_AGENT_KERNEL_RING_CHANNEL_H_
#define GHOST_HYBRID_AGENT_KERNEL_RING_CHANNEL_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "bpf/intf.h"

namespace gh {

class RingChannel {
 public:
  // Maps the ring buffer map @map_fd. Returns an error naming the cause.
  static absl::StatusOr<RingChannel> Open(int map_fd);

  RingChannel(RingChannel&& other) noexcept;
  RingChannel& operator=(RingChannel&& other) noexcept;
  RingChannel(const RingChannel&) = delete;
  RingChannel& operator=(const RingChannel&) = delete;
  ~RingChannel();

  // Returns the oldest unread message, or nullptr if there is none. The
  // pointer stays valid until Consume().
  const gh_msg* Peek();

  // Releases the message Peek() returned. REQUIRES: Peek() returned non-null.
  void Consume();

  // Discards every published record (doorbells carry no content).
  void DrainAll();

  int fd() const { return map_fd_; }

 private:
  RingChannel() = default;
  void Unmap();

  int map_fd_ = -1;
  size_t size_ = 0;          // data area bytes, a power of two
  size_t page_ = 0;
  void* consumer_map_ = nullptr;   // page 0: consumer position (rw)
  void* producer_map_ = nullptr;   // page 1: producer position, then data x2
  uint64_t pending_len_ = 0;       // bytes of the record Peek() returned
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_KERNEL_RING_CHANNEL_H_
