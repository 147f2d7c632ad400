// SPDX-License-Identifier: Apache-2.0
// pinned_map.h: PinnedMap, one BPF object pinned under bpffs, opened by
// path from a process that did not load it (--dump, --monitor, --attach,
// --detach, --stop).
//
// Pinned objects are root-only (the pin directory is mode 0700): opening
// one as another user fails with a sentence that says so.
#ifndef GHOST_HYBRID_AGENT_KERNEL_PINNED_MAP_H_
#define GHOST_HYBRID_AGENT_KERNEL_PINNED_MAP_H_

#include <bpf/bpf.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gh {

// Owns one fd of a pinned map (or program: Open works for both).
class PinnedMap {
 public:
  static absl::StatusOr<PinnedMap> Open(const std::string& dir, const char* name);
  PinnedMap(PinnedMap&& o) noexcept : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)) {}
  PinnedMap& operator=(PinnedMap&&) = delete;
  ~PinnedMap();

  int fd() const { return fd_; }
  // Gives up the fd to the caller, who closes it.
  int Release() { return std::exchange(fd_, -1); }
  const std::string& path() const { return path_; }

  // The kernel's description of the map (sizes, type, id).
  absl::StatusOr<bpf_map_info> Info() const;
  // Returns the size of one value.
  absl::StatusOr<uint32_t> ValueSize() const;
  // Reads element @key into @value.
  absl::Status Read(uint32_t key, void* value) const;

  // Returns every record of a hash map keyed by u64 (the runqueue).
  template <typename V>
  std::vector<V> ReadAll() const {
    std::vector<V> out;
    uint64_t key = 0, next;
    const void* prev = nullptr;
    while (bpf_map_get_next_key(fd_, prev, &next) == 0) {
      V v;
      if (bpf_map_lookup_elem(fd_, &next, &v) == 0) out.push_back(v);
      key = next;
      prev = &key;
    }
    return out;
  }

 private:
  PinnedMap(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_KERNEL_PINNED_MAP_H_
