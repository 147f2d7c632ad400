// SPDX-License-Identifier: Apache-2.0
#include "agent/kernel/pinned_map.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gh {

absl::StatusOr<PinnedMap> PinnedMap::Open(const std::string& dir, const char* name) {
  std::string path = absl::StrCat(dir, "/", name);
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, " (", strerror(errno),
                                            "): is ghost_hybrid running, and are you root?"));
  }
  return PinnedMap(fd, std::move(path));
}

PinnedMap::~PinnedMap() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<bpf_map_info> PinnedMap::Info() const {
  bpf_map_info info = {};
  uint32_t len = sizeof(info);
  if (bpf_map_get_info_by_fd(fd_, &info, &len)) {
    return absl::InternalError(absl::StrCat("cannot inspect ", path_, ": ", strerror(errno)));
  }
  return info;
}

absl::StatusOr<uint32_t> PinnedMap::ValueSize() const {
  absl::StatusOr<bpf_map_info> info = Info();
  if (!info.ok()) return info.status();
  return info->value_size;
}

absl::Status PinnedMap::Read(uint32_t key, void* value) const {
  if (bpf_map_lookup_elem(fd_, &key, value)) {
    return absl::InternalError(absl::StrCat("cannot read ", path_, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace gh
