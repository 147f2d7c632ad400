// SPDX-License-Identifier: Apache-2.0
#include "agent/lib/topology.h"

#include <dirent.h>

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "agent/lib/check.h"

namespace gh {

void CpuList::Set(int cpu) {
  GH_CHECK(cpu >= 0 && cpu < kMaxCpus);
  words_[cpu / 64] |= 1ULL << (cpu % 64);
}

void CpuList::Clear(int cpu) {
  GH_CHECK(cpu >= 0 && cpu < kMaxCpus);
  words_[cpu / 64] &= ~(1ULL << (cpu % 64));
}

bool CpuList::IsSet(int cpu) const {
  if (cpu < 0 || cpu >= kMaxCpus) return false;
  return words_[cpu / 64] & (1ULL << (cpu % 64));
}

bool CpuList::Empty() const {
  for (uint64_t w : words_)
    if (w) return false;
  return true;
}

int CpuList::Size() const {
  int n = 0;
  for (uint64_t w : words_) n += __builtin_popcountll(w);
  return n;
}

int CpuList::Front() const { return Next(-1); }

int CpuList::Next(int cpu) const {
  int start = cpu + 1;
  for (int w = start / 64; w < GH_CPUMASK_WORDS; ++w) {
    uint64_t bits = words_[w];
    if (w == start / 64) bits &= ~0ULL << (start % 64);
    if (bits) return w * 64 + __builtin_ctzll(bits);
  }
  return -1;
}

CpuList CpuList::Intersect(const CpuList& other) const {
  CpuList r;
  for (int w = 0; w < GH_CPUMASK_WORDS; ++w)
    r.words_[w] = words_[w] & other.words_[w];
  return r;
}

bool CpuList::operator==(const CpuList& other) const {
  for (int w = 0; w < GH_CPUMASK_WORDS; ++w)
    if (words_[w] != other.words_[w]) return false;
  return true;
}

CpuList CpuList::FromWords(const uint64_t* words) {
  CpuList r;
  for (int w = 0; w < GH_CPUMASK_WORDS; ++w) r.words_[w] = words[w];
  return r;
}

std::string CpuList::ToString() const {
  std::string s;
  int c = Front();
  while (c >= 0) {
    int last = c;
    while (IsSet(last + 1)) ++last;
    if (!s.empty()) s += ",";
    s += (last == c) ? absl::StrCat(c) : absl::StrCat(c, "-", last);
    c = Next(last);
  }
  return s;
}

absl::StatusOr<CpuList> CpuList::Parse(const std::string& text) {
  CpuList r;
  absl::string_view t = absl::StripAsciiWhitespace(text);
  if (t.empty()) return r;
  for (absl::string_view part : absl::StrSplit(t, ',')) {
    std::vector<absl::string_view> ends = absl::StrSplit(part, '-');
    int lo, hi;
    if (ends.size() > 2 || !absl::SimpleAtoi(ends[0], &lo) ||
        !absl::SimpleAtoi(ends.back(), &hi) || lo < 0 || hi < lo ||
        hi >= kMaxCpus) {
      return absl::InvalidArgumentError(absl::StrCat("bad cpu list: ", text));
    }
    for (int c = lo; c <= hi; ++c) r.Set(c);
  }
  return r;
}

Topology::Topology(std::vector<CpuInfo> cpus) {
  for (const CpuInfo& c : cpus) {
    GH_CHECK(c.id >= cpu_id_limit() && c.id < GH_MAX_CPUS);
    by_id_.resize(c.id + 1);
    by_id_[c.id] = c;
    all_.Set(c.id);
  }
}

Topology Topology::Synthetic(int num_cpus, int smt, int cpus_per_l3,
                             int numa_nodes) {
  GH_CHECK(num_cpus > 0 && num_cpus <= GH_MAX_CPUS);
  GH_CHECK(smt > 0 && cpus_per_l3 > 0 && numa_nodes > 0);
  GH_CHECK_EQ(num_cpus % numa_nodes, 0);
  const int per_node = num_cpus / numa_nodes;
  GH_CHECK_EQ(cpus_per_l3 % smt, 0);
  GH_CHECK_EQ(per_node % cpus_per_l3, 0);
  std::vector<CpuInfo> cpus(num_cpus);
  for (int c = 0; c < num_cpus; ++c) {
    cpus[c] = CpuInfo{c, c / smt, c / cpus_per_l3, c / per_node};
  }
  return Topology(std::move(cpus));
}

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  if (!d) return names;
  while (struct dirent* e = readdir(d)) names.push_back(e->d_name);
  closedir(d);
  return names;
}

// Returns the lowest CPU of a sysfs list file, used as a group id.
int GroupId(const std::string& path, int fallback) {
  auto text = ReadFile(path);
  if (!text.ok()) return fallback;
  auto list = CpuList::Parse(*text);
  if (!list.ok() || list->Empty()) return fallback;
  return list->Front();
}

}  // namespace

absl::StatusOr<Topology> Topology::FromSysfs(const std::string& root) {
  CpuList present;
  if (auto text = ReadFile(root + "/online"); text.ok()) {
    auto list = CpuList::Parse(*text);
    if (!list.ok()) return list.status();
    present = *list;
  }
  if (present.Empty()) return absl::NotFoundError("no online CPU in " + root);
  // CPU ids may be sparse (SMT off, CPUs offline); they are kept as they
  // are, never renumbered, since the kernel side knows them by id.
  std::vector<CpuInfo> cpus;
  for (int c : present) {
    const std::string dir = absl::StrCat(root, "/cpu", c);
    CpuInfo info{c, c, c, 0};
    info.core = GroupId(dir + "/topology/thread_siblings_list", c);
    for (const std::string& name : ListDir(dir + "/cache")) {
      if (!absl::StartsWith(name, "index")) continue;
      auto level = ReadFile(dir + "/cache/" + name + "/level");
      int lvl;
      if (level.ok() &&
          absl::SimpleAtoi(absl::StripAsciiWhitespace(*level), &lvl) &&
          lvl == 3) {
        info.l3 = GroupId(dir + "/cache/" + name + "/shared_cpu_list", c);
      }
    }
    for (const std::string& name : ListDir(dir)) {
      int node;
      if (absl::StartsWith(name, "node") &&
          absl::SimpleAtoi(name.substr(4), &node)) {
        info.numa_node = node;
      }
    }
    cpus.push_back(info);
  }
  return Topology(std::move(cpus));
}

const CpuInfo& Topology::cpu(int cpu) const {
  GH_CHECK(all_.IsSet(cpu));
  return by_id_[cpu];
}

CpuList Topology::siblings(int c) const {
  CpuList r;
  for (int o : all_)
    if (by_id_[o].core == cpu(c).core) r.Set(o);
  return r;
}

CpuList Topology::l3_siblings(int c) const {
  CpuList r;
  for (int o : all_)
    if (by_id_[o].l3 == cpu(c).l3) r.Set(o);
  return r;
}

CpuList Topology::numa_cpus(int c) const {
  CpuList r;
  for (int o : all_)
    if (by_id_[o].numa_node == cpu(c).numa_node) r.Set(o);
  return r;
}

std::vector<int> Topology::NearestFirst(int c, const CpuList& among) const {
  std::vector<int> order;
  CpuList placed;
  placed.Set(c);
  for (const CpuList& level : {siblings(c), l3_siblings(c), numa_cpus(c), all_cpus()}) {
    for (int o : level.Intersect(among)) {
      if (placed.IsSet(o)) continue;
      placed.Set(o);
      order.push_back(o);
    }
  }
  return order;
}

}  // namespace gh
