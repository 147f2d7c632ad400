// SPDX-License-Identifier: Apache-2.0
// kernel_features.h: the optional sched_ext features of a kernel
// (enum gh_kernel_feature in bpf/intf.h), named for people.
//
// sched_ext's interface grows between releases. ghost_hybrid builds one BPF
// object that loads on every supported kernel and probes what it may use
// (bpf_ksym_exists, bpf_core_field_exists); this file names the features,
// says what a kernel without one loses, and probes the running kernel's BTF
// itself, so that `ghost_hybrid --version` can tell without loading
// anything. The loaded scheduler's own finding is BpfScheduler's
// kernel_features().
#ifndef GHOST_HYBRID_AGENT_KERNEL_KERNEL_FEATURES_H_
#define GHOST_HYBRID_AGENT_KERNEL_KERNEL_FEATURES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace gh {

struct KernelFeature {
  uint64_t bit;          // GH_KFEAT_*
  const char* name;      // as printed: "dsq_reenq"
  const char* probe;     // the kfunc or struct.field BTF must have
  const char* without;   // what ghost_hybrid does on a kernel without it
};

// Every feature of enum gh_kernel_feature, in bit order.
absl::Span<const KernelFeature> KernelFeatures();

// The features the running kernel's BTF (/sys/kernel/btf/vmlinux) has;
// NotFound if it has no sched_ext at all.
absl::StatusOr<uint64_t> ProbeKernelFeatures();

// "+dsq_reenq -ext_server": each feature, + if @features has it.
std::string KernelFeatureLine(uint64_t features);

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_KERNEL_KERNEL_FEATURES_H_
