// SPDX-License-Identifier: Apache-2.0
// Scale and determinism: 10,000 tasks on 64 simulated CPUs under each
// scheduler (the same scheduler sources the real backend uses).
#include <map>

#include "agent/schedulers/fifo_centralized.h"
#include "agent/schedulers/fifo_percpu.h"
#include "agent/sim/sim_kernel.h"
#include "gtest/gtest.h"

namespace gh {
namespace {

const absl::Duration kUs = absl::Microseconds(1);
constexpr int kTasks = 10000;

enum class Policy { kCentralized, kCentralizedBpfPick, kPerCpu };

struct RunResult {
  std::vector<TraceRecord> trace;
  std::string stats;
  uint64_t global_migrations = 0;
  uint64_t slice_preemptions = 0;
  uint64_t bpf_picks = 0;
};

// Checks the trace independently of the simulator's own checks: no task on
// two CPUs (or started twice), no CPU running two tasks, every task arrives
// once and ends once.
void CheckTrace(const std::vector<TraceRecord>& trace) {
  std::map<uint64_t, int> on_cpu;  // gtid -> cpu
  std::map<int, uint64_t> running;  // cpu -> gtid
  std::map<uint64_t, int> arrived, ended;
  for (const TraceRecord& r : trace) {
    switch (r.kind) {
      case TraceKind::kArrive: ++arrived[r.gtid]; break;
      case TraceKind::kEnd: ++ended[r.gtid]; break;
      case TraceKind::kRun:
        ASSERT_EQ(on_cpu.count(r.gtid), 0u) << "twice on a CPU: " << r.ToString();
        ASSERT_EQ(running.count(r.cpu), 0u) << "CPU runs two tasks: " << r.ToString();
        on_cpu[r.gtid] = r.cpu;
        running[r.cpu] = r.gtid;
        break;
      case TraceKind::kStop:
        ASSERT_EQ(on_cpu.count(r.gtid), 1u) << r.ToString();
        ASSERT_EQ(on_cpu[r.gtid], r.cpu) << r.ToString();
        on_cpu.erase(r.gtid);
        running.erase(r.cpu);
        break;
      default: break;
    }
  }
  EXPECT_TRUE(on_cpu.empty());
  ASSERT_EQ(arrived.size(), static_cast<size_t>(kTasks));
  ASSERT_EQ(ended.size(), static_cast<size_t>(kTasks));
  for (auto& [gtid, n] : ended) ASSERT_EQ(n, 1) << gtid;
}

RunResult RunTenThousand(Policy policy, uint64_t seed) {
  SimConfig c;
  c.topology = Topology::Synthetic(64, 2, 8, 2);
  c.seed = seed;
  c.bpf_pick = policy == Policy::kCentralizedBpfPick;
  c.wake_jitter = 2 * kUs;
  // Messages trail their Tseq bump: agents see unread messages, stale
  // commits and deferred migrations.
  c.msg_delay = 2 * kUs;
  SimKernel k(c);
  std::unique_ptr<FullAgent> fa;
  if (policy == Policy::kPerCpu) {
    fa = std::make_unique<FullPerCpuFifoAgent>(&k, PerCpuFifoConfig{});
  } else {
    fa = std::make_unique<FullCentralizedFifoAgent>(
        &k, CentralizedFifoConfig{.global_cpu = 0, .preemption_time_slice = 100 * kUs});
  }
  const auto workload = RandomWorkload(seed, {.num_tasks = kTasks,
                                              .arrival_span = absl::Milliseconds(100)});
  for (const SimTaskSpec& spec : workload) k.AddTask(spec);
  // Higher-class interference, including the global agent's CPU and then
  // its SMT sibling (where the global role goes first).
  k.AddHigherClassBusy(0, absl::Milliseconds(20), absl::Milliseconds(25));
  k.AddHigherClassBusy(1, absl::Milliseconds(40), absl::Milliseconds(42));
  for (int i = 0; i < 20; ++i) {
    const int cpu = 2 + (i * 7) % 62;
    k.AddHigherClassBusy(cpu, absl::Milliseconds(3 + 4 * i), absl::Milliseconds(4 + 4 * i));
  }
  const absl::Status done = k.RunUntilDone(absl::Seconds(5));
  EXPECT_TRUE(done.ok()) << done;
  k.RunFor(20 * kUs);  // let the agents consume the last messages
  EXPECT_TRUE(k.violations().empty()) << k.violations().front();
  EXPECT_TRUE(fa->scheduler()->Empty());
  const AgentStats& st = fa->scheduler()->stats();
  EXPECT_EQ(st.messages(GH_MSG_TASK_NEW), static_cast<uint64_t>(kTasks));
  return RunResult{k.trace(), st.ToLine(), st.counter(kCtrGlobalMigrations),
                   st.counter(kCtrSlicePreemptions), st.counter(kCtrBpfPicksSeen)};
}

// Returns the index of the first difference, or -1.
long FirstDifference(const std::vector<TraceRecord>& a, const std::vector<TraceRecord>& b) {
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (a[i] != b[i]) return static_cast<long>(i);
  return a.size() == b.size() ? -1 : static_cast<long>(std::min(a.size(), b.size()));
}

void ExpectDeterministic(Policy policy) {
  const RunResult r1 = RunTenThousand(policy, 42);
  CheckTrace(r1.trace);
  const RunResult r2 = RunTenThousand(policy, 42);
  const long diff = FirstDifference(r1.trace, r2.trace);
  EXPECT_EQ(diff, -1) << "first difference at record " << diff << ": "
                      << (diff >= 0 && static_cast<size_t>(diff) < r1.trace.size()
                              ? r1.trace[diff].ToString() : "<end>");
  EXPECT_EQ(r1.stats, r2.stats);
}

// Tests that the centralized FIFO scheduler runs 10,000 tasks on 64 CPUs to
// completion without losing one or running one on two CPUs, migrating the
// global role when its CPU is taken, and that the same seed replays the
// same trace.
TEST(SimScale, CentralizedTenThousandTasksOn64CpusDeterministic) {
  const RunResult r = RunTenThousand(Policy::kCentralized, 42);
  EXPECT_GE(r.global_migrations, 2u);
  EXPECT_GT(r.slice_preemptions, 0u);
  ExpectDeterministic(Policy::kCentralized);
}

// Tests the same with the kernel's fast path picking tasks too.
TEST(SimScale, CentralizedWithBpfPickTenThousandTasksOn64CpusDeterministic) {
  const RunResult r = RunTenThousand(Policy::kCentralizedBpfPick, 42);
  EXPECT_GT(r.bpf_picks, 0u);
  ExpectDeterministic(Policy::kCentralizedBpfPick);
}

// Tests the same for the per-CPU FIFO scheduler.
TEST(SimScale, PerCpuTenThousandTasksOn64CpusDeterministic) {
  ExpectDeterministic(Policy::kPerCpu);
}

// Tests that a different seed gives a different trace (the comparison above
// can fail).
TEST(SimScale, DifferentSeedDifferentTrace) {
  EXPECT_NE(FirstDifference(RunTenThousand(Policy::kPerCpu, 1).trace,
                            RunTenThousand(Policy::kPerCpu, 2).trace),
            -1);
}

}  // namespace
}  // namespace gh
