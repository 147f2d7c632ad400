// SPDX-License-Identifier: Apache-2.0
// sim_txn.cc: the simulated kernel's transactions (commit, validation in the
// kernel side's order) and its fast path (the BPF runqueue and BPF picks).
#include <algorithm>
#include <vector>

#include "absl/strings/str_format.h"
#include "agent/lib/check.h"
#include "agent/sim/sim_kernel.h"
#include "bpf/txn_spec.h"

namespace gh {

namespace {

void StoreRelease(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

}  // namespace

bool SimKernel::ClaimTxn(int cpu) {
  gh_txn& txn = txns_[cpu];
  if (__atomic_load_n(&txn.state, __ATOMIC_ACQUIRE) != GH_TXN_OPEN) return false;
  ++kstats_[GH_STAT_TXN_SUBMITTED];
  StoreRelease(&txn.state, GH_TXN_CLAIMED);
  return true;
}

void SimKernel::FinishTxn(int cpu, uint32_t outcome) {
  gh_txn& txn = txns_[cpu];
  txn.commit_time = static_cast<uint64_t>(now_);
  StoreRelease(&txn.state, outcome);  // after commit_time: see RunRequest
  ++kstats_[outcome == GH_TXN_COMPLETE ? GH_STAT_TXN_COMPLETE : GH_STAT_TXN_FAILED];
  Trace(cpu, TraceKind::kTxn, txn.gtid, outcome);
}

bool SimKernel::CommitRunRequests(const CpuList& mask) {
  if (before_commit_) before_commit_(mask);
  bool all = true;
  for (int cpu : mask) {
    if (!ClaimTxn(cpu)) continue;
    int ti;
    uint32_t outcome = ValidateTxn(cpu, txns_[cpu], &ti);
    if (outcome == GH_TXN_COMPLETE) LatchTxn(cpu, txns_[cpu], ti);
    FinishTxn(cpu, outcome);
    all = all && outcome == GH_TXN_COMPLETE;
  }
  return all;
}

// As the kernel side's commit_sync_group: every slot is validated in CPU
// order (a task already taken by an earlier slot of the group no longer
// waits: TARGET_NOT_RUNNABLE, as the kernel side's move fails), the first
// failure POISONs the rest, and only a group valid throughout is carried
// out, with no second validation in between (nothing else happens here
// meanwhile).
bool SimKernel::CommitSyncRequests(const CpuList& mask) {
  if (before_commit_) before_commit_(mask);
  std::vector<int> claimed, targets;
  for (int cpu : mask)
    if (ClaimTxn(cpu)) claimed.push_back(cpu);
  int failed_cpu = -1;
  uint32_t failure = GH_TXN_COMPLETE;
  for (int cpu : claimed) {
    int ti;
    uint32_t outcome = ValidateTxn(cpu, txns_[cpu], &ti);
    if (outcome == GH_TXN_COMPLETE && ti >= 0 && tasks_[ti].state != SimTaskState::kRunning &&
        std::find(targets.begin(), targets.end(), ti) != targets.end()) {
      outcome = GH_TXN_TARGET_NOT_RUNNABLE;
    }
    targets.push_back(ti);
    if (outcome != GH_TXN_COMPLETE) {
      failed_cpu = cpu;
      failure = outcome;
      break;
    }
  }
  for (size_t i = 0; i < claimed.size(); ++i) {
    const int cpu = claimed[i];
    if (failed_cpu >= 0) {
      FinishTxn(cpu, cpu == failed_cpu ? failure : static_cast<uint32_t>(GH_TXN_POISONED));
      continue;
    }
    LatchTxn(cpu, txns_[cpu], targets[i]);
    FinishTxn(cpu, GH_TXN_COMPLETE);
  }
  return failed_cpu < 0;
}

// The facts of bpf/txn_spec.h, from the simulator's state; the outcome is
// the spec's, as in the kernel side's commit program.
uint32_t SimKernel::ValidateTxn(int cpu, const gh_txn& txn, int* ti) {
  gh_txn_facts f = {};
  f.cpu_usable = cpus().IsSet(cpu) && cpus_[cpu].busy == 0;
  f.agent_barrier_current = txn.agent_barrier == agent_sw_[cpu].barrier;
  *ti = txn.gtid == GH_IDLE_GTID || txn.gtid == GH_NULL_GTID ? -1 : Find(txn.gtid);
  f.target_found = *ti >= 0 && tasks_[*ti].state != SimTaskState::kNotArrived &&
                   tasks_[*ti].state != SimTaskState::kEnded;
  if (f.target_found) {
    const Task& t = tasks_[*ti];
    f.task_barrier_current = txn.task_barrier == Sw(*ti).barrier;
    f.on_cpu = t.state == SimTaskState::kRunning;
    f.on_this_cpu = t.cpu == cpu;
    f.fast_path_owned = t.state == SimTaskState::kRunnable && t.bpf_owned;
    f.runnable = t.state == SimTaskState::kRunnable;
    f.cpu_allowed = t.affinity.IsSet(cpu);
    f.pinned_elsewhere = false;  // no migrate_disable() here
  } else {
    *ti = -1;
  }
  return gh_txn_outcome(&txn, &f);
}

void SimKernel::LatchTxn(int cpu, const gh_txn& txn, int ti) {
  if (ti < 0) {
    // GH_IDLE_GTID: the CPU's task goes, nothing comes.
    if (cpus_[cpu].current >= 0) Preempt(cpus_[cpu].current, /*repick=*/false);
    return;
  }
  Task& t = tasks_[ti];
  if (t.state == SimTaskState::kRunning) return;  // ALLOW_TASK_ONCPU: it runs here already

  // Messages this produces must not wake the CPU's own agent: it is giving
  // the CPU to the task (a local commit) or is parked.
  suppress_wake_cpu_ = cpu;
  if (cpus_[cpu].current >= 0)
    Preempt(cpus_[cpu].current, /*repick=*/false, GH_MSG_F_SLICE_ENDED);
  ParkAgent(cpu, /*repick=*/false);
  // A finite slice ends in the kernel (int64 max stands for infinite).
  t.slice = txn.slice_ns > 0 && txn.slice_ns < (1ull << 62) ? static_cast<int64_t>(txn.slice_ns) : 0;
  StartRunning(ti, cpu, /*bpf_picked=*/false);
  suppress_wake_cpu_ = -1;
}

// ------------------------------------------------------------- fast path

void SimKernel::RqPush(int ti, uint32_t flags) {
  if (rq_.size() >= GH_MAX_TASKS) {
    ++kstats_[GH_STAT_RQ_FULL];  // the agent still has the task
    return;
  }
  Task& t = tasks_[ti];
  ++t.rq_seq;
  t.bpf_owned = true;
  rq_.push_back({gh_rq_entry{t.gtid, static_cast<uint64_t>(now_), flags, GH_OWNER_BPF}, t.rq_seq});
}

bool SimKernel::RqLive(const SimRqEntry& r) const {
  const int ti = Find(r.e.gtid);
  return ti >= 0 && tasks_[ti].state == SimTaskState::kRunnable &&
         tasks_[ti].rq_seq == r.seq;
}

// As the kernel side's fast_pick: the first of the GH_FAST_PICK_OWN_DEPTH
// oldest records whose task last ran on @cpu, unless the head has waited
// longer than kOwnPickMaxWait (the kernel side's bound is its pick slice,
// 20 ms by default); else the first task the CPU may run.
void SimKernel::TryBpfPick(int cpu) {
  constexpr int64_t kOwnPickMaxWait = 20'000'000;
  if (!config_.bpf_pick || !cpus().IsSet(cpu)) return;
  const Cpu& c = cpus_[cpu];
  if (c.busy > 0 || c.agent_active || c.current >= 0) return;
  // Stale records out first: the kernel's DSQ never holds them.
  for (auto it = rq_.begin(); it != rq_.end();) {
    if (RqLive(*it)) {
      ++it;
      continue;
    }
    ++kstats_[GH_STAT_RQ_STALE];
    it = rq_.erase(it);
  }
  if (rq_.empty()) return;
  auto task_of = [&](const SimRqEntry& r) -> const Task& { return tasks_[Find(r.e.gtid)]; };
  auto may_run_here = [&](const SimRqEntry& r) { return task_of(r).affinity.IsSet(cpu); };
  auto pick = rq_.end();
  if (now_ - static_cast<int64_t>(rq_.front().e.enqueue_time) <= kOwnPickMaxWait) {
    int depth = 0;
    for (auto it = rq_.begin(); it != rq_.end() && depth < GH_FAST_PICK_OWN_DEPTH; ++it, ++depth) {
      const Task& t = task_of(*it);
      if (t.last_cpu == cpu && t.affinity.IsSet(cpu)) {
        pick = it;
        break;
      }
    }
  }
  if (pick == rq_.end()) pick = std::find_if(rq_.begin(), rq_.end(), may_run_here);
  if (pick == rq_.end()) return;
  const int ti = Find(pick->e.gtid);
  rq_.erase(pick);
  StartRunning(ti, cpu, /*bpf_picked=*/true);
}

void SimKernel::KickIdleCpus() {
  for (int cpu : cpus()) {
    if (rq_.empty()) return;
    TryBpfPick(cpu);
  }
}

std::vector<gh_rq_entry> SimKernel::bpf_runqueue() const {
  std::vector<gh_rq_entry> live;
  for (const SimRqEntry& r : rq_)
    if (RqLive(r)) live.push_back(r.e);
  return live;
}

// CLAIM takes a task out of the fast path's queue for the agent (it is
// then the agent's, as in the kernel's GH_DSQ_AGENT); RELEASE gives an
// agent-owned runnable task to the back of the fast path's queue.
absl::Status SimKernel::RunqueueOp(uint64_t gtid, gh_rq_op op) {
  const int ti = Find(gtid);
  if (op == GH_RQ_OP_CLAIM) {
    for (auto it = rq_.begin(); it != rq_.end(); ++it) {
      if (it->e.gtid != gtid || !RqLive(*it)) continue;
      rq_.erase(it);
      ++tasks_[ti].rq_seq;
      tasks_[ti].bpf_owned = false;
      return absl::OkStatus();
    }
  } else if (op == GH_RQ_OP_RELEASE) {
    if (ti >= 0 && tasks_[ti].state == SimTaskState::kRunnable && !tasks_[ti].bpf_owned) {
      RqPush(ti, 0);
      KickIdleCpus();
      return absl::OkStatus();
    }
  } else {
    return absl::InvalidArgumentError("unknown runqueue op");
  }
  return absl::NotFoundError(absl::StrFormat("%#x is not waiting in that queue", gtid));
}

}  // namespace gh
