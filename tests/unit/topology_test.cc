// SPDX-License-Identifier: Apache-2.0
// Tests of CpuList and Topology (agent/lib/topology.h).
#include "agent/lib/topology.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"

namespace gh {
namespace {

// Tests that CpuList sets, clears, iterates in order and prints ranges.
TEST(CpuList, SetClearIterateAndPrint) {
  CpuList l{0, 1, 2, 3, 8, 70, 255};
  EXPECT_EQ(l.Size(), 7);
  EXPECT_EQ(l.Front(), 0);
  EXPECT_TRUE(l.IsSet(70));
  EXPECT_FALSE(l.IsSet(69));
  EXPECT_FALSE(l.IsSet(-1));
  EXPECT_FALSE(l.IsSet(256));
  std::vector<int> seen;
  for (int c : l) seen.push_back(c);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 8, 70, 255}));
  EXPECT_EQ(l.ToString(), "0-3,8,70,255");
  l.Clear(0);
  EXPECT_EQ(l.Front(), 1);
  EXPECT_EQ(l.words()[1], 1ULL << 6);
  EXPECT_TRUE(CpuList().Empty());
}

// Tests that the sysfs list format parses, and garbage is rejected.
TEST(CpuList, ParsesSysfsListFormat) {
  auto l = CpuList::Parse("0-2,5,7-8\n");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*l, (CpuList{0, 1, 2, 5, 7, 8}));
  EXPECT_TRUE(CpuList::Parse("")->Empty());
  EXPECT_FALSE(CpuList::Parse("3-1").ok());
  EXPECT_FALSE(CpuList::Parse("x").ok());
  EXPECT_FALSE(CpuList::Parse("0-999").ok());
}

// Tests that a synthetic topology groups CPUs into cores, L3s and nodes.
TEST(Topology, SyntheticSiblingsL3AndNuma) {
  Topology t = Topology::Synthetic(16, 2, 4, 2);
  EXPECT_EQ(t.num_cpus(), 16);
  EXPECT_EQ(t.siblings(5), (CpuList{4, 5}));
  EXPECT_EQ(t.l3_siblings(5), (CpuList{4, 5, 6, 7}));
  EXPECT_EQ(t.numa_cpus(5), (CpuList{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(t.numa_cpus(9).Front(), 8);
  EXPECT_EQ(t.cpu(9).numa_node, 1);
  EXPECT_EQ(t.all_cpus().Size(), 16);
}

// Tests that NearestFirst orders the other CPUs of a set by distance (SMT
// sibling, L3, NUMA node, any), skips those outside the set, and leaves the
// CPU itself out.
TEST(Topology, NearestFirstOrdersByCoreL3NodeThenAny) {
  Topology t = Topology::Synthetic(16, 2, 4, 2);
  EXPECT_EQ(t.NearestFirst(5, t.all_cpus()),
            (std::vector<int>{4, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(t.NearestFirst(9, CpuList{1, 3, 8, 9, 13}), (std::vector<int>{8, 13, 1, 3}));
  EXPECT_EQ(t.NearestFirst(9, CpuList{9}), std::vector<int>{});
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Tests that FromSysfs reads siblings, the level-3 cache and NUMA links from
// a sysfs-shaped directory tree.
TEST(Topology, ReadsSiblingsL3AndNumaFromSysfs) {
  char tmpl[] = "/tmp/gh_topo_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  WriteFile(root + "/online", "0-3\n");
  for (int c = 0; c < 4; ++c) {
    const std::string d = root + "/cpu" + std::to_string(c);
    mkdir(d.c_str(), 0755);
    mkdir((d + "/topology").c_str(), 0755);
    WriteFile(d + "/topology/thread_siblings_list", c < 2 ? "0-1" : "2-3");
    mkdir((d + "/cache").c_str(), 0755);
    mkdir((d + "/cache/index2").c_str(), 0755);
    WriteFile(d + "/cache/index2/level", "2\n");
    WriteFile(d + "/cache/index2/shared_cpu_list", std::to_string(c));
    mkdir((d + "/cache/index3").c_str(), 0755);
    WriteFile(d + "/cache/index3/level", "3\n");
    WriteFile(d + "/cache/index3/shared_cpu_list", "0-3");
    mkdir((d + (c < 2 ? "/node0" : "/node1")).c_str(), 0755);
  }
  auto t = Topology::FromSysfs(root);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_cpus(), 4);
  EXPECT_EQ(t->siblings(3), (CpuList{2, 3}));
  EXPECT_EQ(t->l3_siblings(0), (CpuList{0, 1, 2, 3}));
  EXPECT_EQ(t->numa_cpus(2), (CpuList{2, 3}));
  EXPECT_FALSE(Topology::FromSysfs(root + "/missing").ok());
  EXPECT_EQ(std::system(("rm -rf " + root).c_str()), 0);
}

// Tests that sparse CPU ids (SMT turned off, CPUs offline: online 0,2,4-5)
// are kept as they are, never renumbered, with their groups.
TEST(Topology, KeepsSparseCpuIdsFromSysfs) {
  char tmpl[] = "/tmp/gh_topo_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  WriteFile(root + "/online", "0,2,4-5\n");
  for (int c : {0, 2, 4, 5}) {
    const std::string d = root + "/cpu" + std::to_string(c);
    mkdir(d.c_str(), 0755);
    mkdir((d + "/topology").c_str(), 0755);
    // SMT off: each online CPU is its own core, except 4 and 5.
    WriteFile(d + "/topology/thread_siblings_list", c >= 4 ? "4-5" : std::to_string(c));
    mkdir((d + "/cache").c_str(), 0755);
    mkdir((d + "/cache/index3").c_str(), 0755);
    WriteFile(d + "/cache/index3/level", "3\n");
    WriteFile(d + "/cache/index3/shared_cpu_list", c < 4 ? "0-3" : "4-7");
    mkdir((d + (c < 4 ? "/node0" : "/node1")).c_str(), 0755);
  }
  auto t = Topology::FromSysfs(root);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_cpus(), 4);
  EXPECT_EQ(t->cpu_id_limit(), 6);
  EXPECT_EQ(t->all_cpus(), (CpuList{0, 2, 4, 5}));
  EXPECT_EQ(t->cpu(4).id, 4);
  EXPECT_EQ(t->siblings(5), (CpuList{4, 5}));
  EXPECT_EQ(t->siblings(2), (CpuList{2}));
  EXPECT_EQ(t->l3_siblings(2), (CpuList{0, 2}));
  EXPECT_EQ(t->numa_cpus(4), (CpuList{4, 5}));
  EXPECT_EQ(std::system(("rm -rf " + root).c_str()), 0);
}

// Tests that this machine's own sysfs yields a usable topology.
TEST(Topology, ReadsThisMachine) {
  auto t = Topology::FromSysfs();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_GE(t->num_cpus(), 1);
  EXPECT_TRUE(t->siblings(0).IsSet(0));
}

}  // namespace
}  // namespace gh
