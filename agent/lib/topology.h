// SPDX-License-Identifier: Apache-2.0
// topology.h: CpuList (a CPU set) and Topology (which CPUs share a core, an
// L3 cache, a NUMA node).
//
// The centralized scheduler moves the global agent to the nearest CPU that a
// higher class does not hold: SMT sibling, then L3 sibling, then same NUMA
// node, then anywhere; Topology answers those questions (NearestFirst), for
// the agent and for the kernel side alike. On the real backend it is read
// from sysfs (FromSysfs); the simulator builds a synthetic one (Synthetic).
// CpuList's words have the layout of the ABI's cpumask arrays (bit c of
// word c / 64), so a list can be handed to the kernel side as is.
//
// Thread safety: both types are values; const methods may be called
// concurrently.
#ifndef GHOST_HYBRID_AGENT_LIB_TOPOLOGY_H_
#define GHOST_HYBRID_AGENT_LIB_TOPOLOGY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bpf/intf.h"

namespace gh {

class CpuList {
 public:
  static constexpr int kMaxCpus = GH_MAX_CPUS;

  CpuList() = default;
  CpuList(std::initializer_list<int> cpus) {
    for (int c : cpus) Set(c);
  }

  // REQUIRES: 0 <= cpu < kMaxCpus for Set/Clear.
  void Set(int cpu);
  void Clear(int cpu);
  // Returns true iff `cpu` is in the list (false for out-of-range ids).
  bool IsSet(int cpu) const;
  bool Empty() const;
  int Size() const;
  // Returns the lowest CPU in the list, or -1 if it is empty.
  int Front() const;
  // Returns the lowest CPU in the list greater than `cpu`, or -1.
  int Next(int cpu) const;

  CpuList Intersect(const CpuList& other) const;
  bool operator==(const CpuList& other) const;
  bool operator!=(const CpuList& other) const { return !(*this == other); }

  // The ABI layout: bit c of words()[c / 64].
  const uint64_t* words() const { return words_; }
  static CpuList FromWords(const uint64_t* words);

  // Returns e.g. "0-3,8".
  std::string ToString() const;
  // Parses the sysfs list format ("0-3,8-11", "" is empty).
  static absl::StatusOr<CpuList> Parse(const std::string& text);

  // Iteration in ascending CPU order: for (int cpu : list) ...
  class Iterator {
   public:
    Iterator(const CpuList* list, int cpu) : list_(list), cpu_(cpu) {}
    int operator*() const { return cpu_; }
    Iterator& operator++() {
      cpu_ = list_->Next(cpu_);
      return *this;
    }
    bool operator!=(const Iterator& o) const { return cpu_ != o.cpu_; }

   private:
    const CpuList* list_;
    int cpu_;
  };
  Iterator begin() const { return Iterator(this, Front()); }
  Iterator end() const { return Iterator(this, -1); }

 private:
  uint64_t words_[GH_CPUMASK_WORDS] = {};
};

// Where one CPU sits. Ids of cores, L3 domains and nodes are arbitrary but
// equal for CPUs that share them.
struct CpuInfo {
  int id = -1;
  int core = -1;
  int l3 = -1;
  int numa_node = -1;
};

class Topology {
 public:
  // A machine of `num_cpus` CPUs numbered so that SMT siblings are adjacent:
  // CPUs [k*smt, (k+1)*smt) share a core, [k*cpus_per_l3, ...) an L3 and
  // [k*cpus_per_node, ...) a NUMA node, cpus_per_node = num_cpus / numa_nodes.
  // REQUIRES: the sizes divide each other and num_cpus <= GH_MAX_CPUS.
  static Topology Synthetic(int num_cpus, int smt, int cpus_per_l3,
                            int numa_nodes);

  // Reads the machine from `root` (normally /sys/devices/system/cpu):
  // cpuN/topology/thread_siblings_list, the level-3 entry of cpuN/cache/,
  // and the cpuN/nodeM links. Returns NotFound if `root` has no online CPU.
  static absl::StatusOr<Topology> FromSysfs(
      const std::string& root = "/sys/devices/system/cpu");

  // Builds a topology from explicit records. Ids may be sparse (SMT turned
  // off, CPUs offline: online CPUs 0,2,4-5). REQUIRES: ids ascending and
  // below GH_MAX_CPUS.
  explicit Topology(std::vector<CpuInfo> cpus);
  Topology() = default;

  // How many CPUs there are.
  int num_cpus() const { return all_.Size(); }
  // One past the highest CPU id: the size of an array indexed by CPU.
  int cpu_id_limit() const { return static_cast<int>(by_id_.size()); }
  // REQUIRES: all_cpus().IsSet(cpu).
  const CpuInfo& cpu(int cpu) const;
  CpuList all_cpus() const { return all_; }

  // Each returns the CPUs sharing the group with `cpu`, `cpu` included.
  CpuList siblings(int cpu) const;
  CpuList l3_siblings(int cpu) const;
  CpuList numa_cpus(int cpu) const;

  // The CPUs of `among` other than `cpu`, nearest first: its SMT siblings,
  // then its L3 siblings, then its NUMA node, then the rest, each group in
  // ascending order. The one order for "the nearest CPU that is free": the
  // centralized scheduler's next global CPU and the kernel side's
  // successors of the global agent's CPU. REQUIRES: all_cpus().IsSet(cpu).
  std::vector<int> NearestFirst(int cpu, const CpuList& among) const;

 private:
  std::vector<CpuInfo> by_id_;  // indexed by CPU id; id -1: no such CPU
  CpuList all_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_TOPOLOGY_H_
