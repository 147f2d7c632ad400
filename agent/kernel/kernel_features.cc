// SPDX-License-Identifier: Apache-2.0
#include "agent/kernel/kernel_features.h"

#include <bpf/btf.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bpf/intf.h"

namespace gh {
namespace {

constexpr KernelFeature kFeatures[] = {
    {GH_KFEAT_DSQ_REENQ, "dsq_reenq", "scx_bpf_dsq_reenq",
     "tasks committed to a CPU that a higher class took while idle wait until "
     "that CPU schedules again"},
    {GH_KFEAT_EXT_SERVER, "ext_server", "rq.ext_server",
     "a task left on a CPU's local DSQ while a fair or RT task hogs that CPU "
     "waits until it stops, and the watchdog ejects the scheduler if that "
     "lasts longer than its timeout"},
};
static_assert(sizeof(kFeatures) / sizeof(kFeatures[0]) == GH_NR_KFEATS,
              "name every enum gh_kernel_feature");

// True if @btf has the function @probe, or the member S.F for "S.F".
bool BtfHas(const struct btf* btf, const char* probe) {
  std::pair<std::string, std::string> sf = absl::StrSplit(probe, absl::MaxSplits('.', 1));
  if (sf.second.empty()) return btf__find_by_name_kind(btf, probe, BTF_KIND_FUNC) >= 0;
  int id = btf__find_by_name_kind(btf, sf.first.c_str(), BTF_KIND_STRUCT);
  if (id < 0) return false;
  const struct btf_type* t = btf__type_by_id(btf, id);
  const struct btf_member* m = btf_members(t);
  for (int i = 0; i < btf_vlen(t); i++, m++) {
    const char* name = btf__name_by_offset(btf, m->name_off);
    if (name && sf.second == name) return true;
  }
  return false;
}

}  // namespace

absl::Span<const KernelFeature> KernelFeatures() { return kFeatures; }

absl::StatusOr<uint64_t> ProbeKernelFeatures() {
  struct btf* btf = btf__load_vmlinux_btf();
  if (!btf) {
    return absl::UnavailableError(absl::StrCat(
        "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux: ", strerror(errno),
        "): the kernel needs CONFIG_DEBUG_INFO_BTF=y."));
  }
  if (btf__find_by_name_kind(btf, "sched_ext_ops", BTF_KIND_STRUCT) < 0) {
    btf__free(btf);
    return absl::NotFoundError("this kernel has no sched_ext (CONFIG_SCHED_CLASS_EXT).");
  }
  uint64_t features = 0;
  for (const KernelFeature& f : kFeatures) {
    if (BtfHas(btf, f.probe)) features |= f.bit;
  }
  btf__free(btf);
  return features;
}

std::string KernelFeatureLine(uint64_t features) {
  std::string out;
  for (const KernelFeature& f : kFeatures) {
    absl::StrAppend(&out, out.empty() ? "" : " ", features & f.bit ? "+" : "-", f.name);
  }
  return out;
}

}  // namespace gh
