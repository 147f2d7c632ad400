// SPDX-License-Identifier: Apache-2.0
// sim_workload.h: scripted tasks for the simulated kernel.
//
// A simulated task runs a script of actions while it is on a CPU: run for a
// duration (preemptible, the remainder continues when it runs again), block
// for a duration (then it wakes up), sched_yield, change its affinity or nice
// value, exit, or leave the scheduling class (depart). A script that runs
// out exits. RandomWorkload() builds a seeded mix of such tasks.
#ifndef GHOST_HYBRID_AGENT_SIM_SIM_WORKLOAD_H_
#define GHOST_HYBRID_AGENT_SIM_SIM_WORKLOAD_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "agent/lib/topology.h"
#include "bpf/intf.h"

namespace gh {

struct SimAction {
  enum class Kind { kRun, kBlock, kYield, kExit, kDepart, kSetAffinity, kSetNice };

  static SimAction Run(absl::Duration d) { return {Kind::kRun, d, {}, 0}; }
  static SimAction Block(absl::Duration d) { return {Kind::kBlock, d, {}, 0}; }
  static SimAction Yield() { return {Kind::kYield, absl::ZeroDuration(), {}, 0}; }
  static SimAction Exit() { return {Kind::kExit, absl::ZeroDuration(), {}, 0}; }
  static SimAction Depart() { return {Kind::kDepart, absl::ZeroDuration(), {}, 0}; }
  static SimAction SetAffinity(const CpuList& mask) {
    return {Kind::kSetAffinity, absl::ZeroDuration(), mask, 0};
  }
  static SimAction SetNice(int nice) {
    return {Kind::kSetNice, absl::ZeroDuration(), {}, nice};
  }

  Kind kind;
  absl::Duration d;  // kRun, kBlock
  CpuList mask;      // kSetAffinity
  int nice;          // kSetNice
};

struct SimTaskSpec {
  absl::Duration arrival = absl::ZeroDuration();  // virtual time of TASK_NEW
  std::vector<SimAction> script = {};
  // > 0: TASK_NEW says not runnable; the task wakes this long after arrival.
  absl::Duration start_blocked = absl::ZeroDuration();
  CpuList affinity = CpuList();  // empty: every CPU
  int nice = 0;
};

struct RandomWorkloadParams {
  int num_tasks = 100;
  absl::Duration arrival_span = absl::Milliseconds(10);
  int min_bursts = 1, max_bursts = 4;
  absl::Duration min_run = absl::Microseconds(20);
  absl::Duration max_run = absl::Microseconds(200);
  absl::Duration min_block = absl::Microseconds(10);
  absl::Duration max_block = absl::Microseconds(300);
  double p_yield = 0.2;   // between bursts: yield instead of block
  double p_nice = 0.05;   // a burst starts with a nice change
  double p_depart = 0.05; // the task departs instead of exiting
};

// Returns `p.num_tasks` task specs in arrival order, fixed by `seed`.
std::vector<SimTaskSpec> RandomWorkload(uint64_t seed,
                                        const RandomWorkloadParams& p);

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_SIM_SIM_WORKLOAD_H_
