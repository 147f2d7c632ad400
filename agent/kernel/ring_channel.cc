// SPDX-License-Identifier: Apache-2.0
#include "agent/kernel/ring_channel.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gh {
namespace {

// Layout of a BPF ring buffer record header (kernel/bpf/ringbuf.c).
constexpr uint32_t kBusyBit = 1u << 31;
constexpr uint32_t kDiscardBit = 1u << 30;
constexpr uint64_t kHeaderBytes = GH_RINGBUF_HDR_BYTES;

uint64_t LoadAcquire(const void* p) {
  return __atomic_load_n(static_cast<const uint64_t*>(p), __ATOMIC_ACQUIRE);
}
uint32_t LoadAcquire32(const void* p) {
  return __atomic_load_n(static_cast<const uint32_t*>(p), __ATOMIC_ACQUIRE);
}

}  // namespace

absl::StatusOr<RingChannel> RingChannel::Open(int map_fd) {
  bpf_map_info info = {};
  uint32_t len = sizeof(info);
  if (bpf_map_get_info_by_fd(map_fd, &info, &len) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot inspect channel map: ", strerror(errno)));
  }
  if (info.type != BPF_MAP_TYPE_RINGBUF) {
    return absl::InvalidArgumentError("channel map is not a ring buffer");
  }
  RingChannel ch;
  ch.map_fd_ = map_fd;
  ch.size_ = info.max_entries;
  ch.page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  ch.consumer_map_ =
      mmap(nullptr, ch.page_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  if (ch.consumer_map_ == MAP_FAILED) {
    ch.consumer_map_ = nullptr;
    return absl::InternalError(
        absl::StrCat("cannot map channel consumer page: ", strerror(errno)));
  }
  // The data area is mapped twice in a row so that a record that wraps
  // around the end can be read as one contiguous block.
  ch.producer_map_ = mmap(nullptr, ch.page_ + 2 * ch.size_, PROT_READ,
                          MAP_SHARED, map_fd, static_cast<off_t>(ch.page_));
  if (ch.producer_map_ == MAP_FAILED) {
    ch.producer_map_ = nullptr;
    return absl::InternalError(
        absl::StrCat("cannot map channel data: ", strerror(errno)));
  }
  return ch;
}

RingChannel::RingChannel(RingChannel&& other) noexcept { *this = std::move(other); }

RingChannel& RingChannel::operator=(RingChannel&& other) noexcept {
  if (this != &other) {
    Unmap();
    map_fd_ = std::exchange(other.map_fd_, -1);
    size_ = std::exchange(other.size_, 0);
    page_ = std::exchange(other.page_, 0);
    consumer_map_ = std::exchange(other.consumer_map_, nullptr);
    producer_map_ = std::exchange(other.producer_map_, nullptr);
    pending_len_ = std::exchange(other.pending_len_, 0);
  }
  return *this;
}

RingChannel::~RingChannel() { Unmap(); }

void RingChannel::Unmap() {
  if (consumer_map_) munmap(consumer_map_, page_);
  if (producer_map_) munmap(producer_map_, page_ + 2 * size_);
  consumer_map_ = producer_map_ = nullptr;
}

const gh_msg* RingChannel::Peek() {
  auto* cons = static_cast<uint64_t*>(consumer_map_);
  const char* data = static_cast<const char*>(producer_map_) + page_;
  for (;;) {
    uint64_t cons_pos = __atomic_load_n(cons, __ATOMIC_RELAXED);
    uint64_t prod_pos = LoadAcquire(producer_map_);
    if (cons_pos >= prod_pos) return nullptr;
    const char* hdr = data + (cons_pos & (size_ - 1));
    uint32_t len = LoadAcquire32(hdr);
    if (len & kBusyBit) return nullptr;  // reserved, not yet submitted
    uint64_t total = (static_cast<uint64_t>(len & ~kDiscardBit) + kHeaderBytes + 7) & ~7ull;
    if ((len & kDiscardBit) || (len & ~kDiscardBit) < sizeof(gh_msg)) {
      // Discarded or foreign record: skip it.
      __atomic_store_n(cons, cons_pos + total, __ATOMIC_RELEASE);
      continue;
    }
    pending_len_ = total;
    return reinterpret_cast<const gh_msg*>(hdr + kHeaderBytes);
  }
}

void RingChannel::DrainAll() {
  uint64_t prod_pos = LoadAcquire(producer_map_);
  __atomic_store_n(static_cast<uint64_t*>(consumer_map_), prod_pos, __ATOMIC_RELEASE);
  pending_len_ = 0;
}

void RingChannel::Consume() {
  auto* cons = static_cast<uint64_t*>(consumer_map_);
  uint64_t cons_pos = __atomic_load_n(cons, __ATOMIC_RELAXED);
  // Release: the producer may reuse the space only after we read it.
  __atomic_store_n(cons, cons_pos + pending_len_, __ATOMIC_RELEASE);
  pending_len_ = 0;
}

}  // namespace gh
