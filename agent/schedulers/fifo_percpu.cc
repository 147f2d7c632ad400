// SPDX-License-Identifier: Apache-2.0
#include "agent/schedulers/fifo_percpu.h"

#include <algorithm>

#include "agent/lib/check.h"

namespace gh {

using State = PerCpuTaskState;

// ------------------------------------------------------------- run queue

void PerCpuRunQueue::Enqueue(PerCpuFifoTask* task) {
  GH_CHECK(task->state == State::kRunnable);
  GH_CHECK_GE(task->cpu, 0);
  task->state = State::kQueued;
  absl::MutexLock l(&mu_);
  if (task->prio_boost) {
    rq_.push_front(task);
  } else {
    rq_.push_back(task);
  }
}

PerCpuFifoTask* PerCpuRunQueue::Dequeue() {
  absl::MutexLock l(&mu_);
  if (rq_.empty()) return nullptr;
  PerCpuFifoTask* task = rq_.front();
  rq_.pop_front();
  GH_CHECK(task->state == State::kQueued);
  task->state = State::kRunnable;
  return task;
}

bool PerCpuRunQueue::Erase(PerCpuFifoTask* task) {
  absl::MutexLock l(&mu_);
  auto it = std::find(rq_.begin(), rq_.end(), task);
  if (it == rq_.end()) return false;
  rq_.erase(it);
  task->state = State::kRunnable;
  return true;
}

size_t PerCpuRunQueue::Size() const {
  absl::MutexLock l(&mu_);
  return rq_.size();
}

std::vector<uint64_t> PerCpuRunQueue::Gtids() const {
  absl::MutexLock l(&mu_);
  std::vector<uint64_t> v;
  for (const PerCpuFifoTask* t : rq_) v.push_back(t->gtid);
  return v;
}

// ------------------------------------------------------------- scheduler

PerCpuFifoScheduler::PerCpuFifoScheduler(Enclave* enclave, CpuList cpus,
                                         const PerCpuFifoConfig& config)
    : BasicDispatchScheduler(enclave, cpus),
      cs_(new CpuState[GH_MAX_CPUS]),
      default_cpu_(cpus.IsSet(config.default_cpu) ? config.default_cpu : cpus.Front()) {
  GH_CHECK_MSG(!enclave->bpf_pick(),
               "the per-CPU FIFO scheduler does not support the fast path (bpf_pick)");
  for (int cpu : cpus) cs_[cpu].channel = &enclave->CpuChannel(cpu);
}

void PerCpuFifoScheduler::EnclaveReady() {
  for (int cpu : cpus()) {
    const absl::Status s = cs_[cpu].channel->SetAgent(cpu);
    GH_CHECK_MSG(s.ok(), std::string(s.message()));
  }
  const absl::Status s = enclave()->DefaultChannel().SetAgent(default_cpu_);
  GH_CHECK_MSG(s.ok(), std::string(s.message()));
}

bool PerCpuFifoScheduler::Empty(int cpu) const {
  return cs_[cpu].current == nullptr && cs_[cpu].rq.Empty() &&
         (cpu != default_cpu_ || deferred_.empty());
}

int PerCpuFifoScheduler::AssignCpu(PerCpuFifoTask* task) {
  // Fewest assigned tasks wins; scanning from the CPU after the last choice
  // breaks ties round-robin. CPUs a higher class holds are a last resort.
  // Only CPUs it may run on (if none of the enclave's, the kernel side runs
  // it itself: any CPU will do for its messages).
  const CpuList& allowed = task->allowed.Empty() ? cpus() : task->allowed;
  int best = -1, best_load = 0;
  bool best_avail = false;
  const int n = CpuList::kMaxCpus;
  for (int i = 0; i < n; ++i) {
    const int cpu = (rr_next_ + i) % n;
    if (!allowed.IsSet(cpu)) continue;
    const int load = cs_[cpu].assigned.load(std::memory_order_relaxed);
    const bool avail = !enclave()->AgentStatusWord(cpu).boosted_priority();
    if (best < 0 || (avail && !best_avail) || (avail == best_avail && load < best_load)) {
      best = cpu;
      best_load = load;
      best_avail = avail;
    }
  }
  rr_next_ = (best + 1) % n;
  return best;
}

void PerCpuFifoScheduler::Migrate(PerCpuFifoTask* task, int cpu, uint32_t seqnum) {
  GH_CHECK(task->state == State::kRunnable);
  GH_CHECK_EQ(task->cpu, -1);
  CpuState& cs = cs_[cpu];
  const absl::Status s = cs.channel->AssociateTask(task->gtid, task->sw_index, seqnum);
  if (!s.ok()) {
    stats().Count(kCtrMigrationsDeferred);
    deferred_.push_back(task);
    return;
  }
  task->cpu = cpu;
  cs.assigned.fetch_add(1, std::memory_order_relaxed);
  // Visible in the new queue only after the association, so that the task
  // cannot run while its messages still go to the old channel.
  cs.rq.Enqueue(task);
  PingAgent(cpu);
}

void PerCpuFifoScheduler::RetryDeferred() {
  std::vector<PerCpuFifoTask*> retry;
  retry.swap(deferred_);
  for (PerCpuFifoTask* task : retry) {
    // Ran or blocked meanwhile: its next PREEMPT, YIELD or WAKEUP finds it
    // unassigned and migrates it (Requeue, TaskRunnable).
    if (task->state != State::kRunnable || task->cpu >= 0) continue;
    if (task->seqnum != task->status_word.barrier()) {
      deferred_.push_back(task);  // still a message to read first
      continue;
    }
    Migrate(task, AssignCpu(task), task->seqnum);
  }
}

void PerCpuFifoScheduler::TaskOffCpu(PerCpuFifoTask* task, bool blocked) {
  if (task->cpu >= 0 && cs_[task->cpu].pending == task) cs_[task->cpu].pending = nullptr;
  if (task->state == State::kOnCpu) {
    CpuState& cs = cs_[task->cpu];
    if (cs.current == task) cs.current = nullptr;
  } else if (task->state == State::kQueued) {
    GH_CHECK(cs_[task->cpu].rq.Erase(task));
  }
  task->state = blocked ? State::kBlocked : State::kRunnable;
}

void PerCpuFifoScheduler::UnassignIfDisallowed(PerCpuFifoTask* task) {
  if (task->cpu < 0 || task->allowed.Empty() || task->allowed.IsSet(task->cpu)) return;
  if (task->state == State::kQueued) GH_CHECK(cs_[task->cpu].rq.Erase(task));
  if (cs_[task->cpu].pending == task) cs_[task->cpu].pending = nullptr;
  cs_[task->cpu].assigned.fetch_sub(1, std::memory_order_relaxed);
  task->cpu = -1;
}

void PerCpuFifoScheduler::Forget(PerCpuFifoTask* task) {
  TaskOffCpu(task, /*blocked=*/true);
  auto it = std::find(deferred_.begin(), deferred_.end(), task);
  if (it != deferred_.end()) deferred_.erase(it);
  if (task->cpu >= 0) cs_[task->cpu].assigned.fetch_sub(1, std::memory_order_relaxed);
  allocator()->FreeTask(task);
  num_tasks_.fetch_sub(1, std::memory_order_relaxed);
}

// -------------------------------------------------------------- handlers

void PerCpuFifoScheduler::TaskNew(PerCpuFifoTask* task, const Message& msg) {
  task->seqnum = msg.seqnum();
  task->state = State::kBlocked;
  num_tasks_.fetch_add(1, std::memory_order_relaxed);
  if (msg.task_new().runnable) {
    // Migrated by RetryDeferred once its unread messages are read: a task
    // born pinned has its TASK_AFFINITY_CHANGED right behind.
    task->state = State::kRunnable;
    deferred_.push_back(task);
  }
  // Else wait for the wakeup before migrating: it arrives on the default
  // channel, and a migration now could race with it.
}

void PerCpuFifoScheduler::TaskRunnable(PerCpuFifoTask* task, const Message& msg) {
  if (task->state != State::kBlocked) {
    // A wakeup for a task we did not see block. The cause was a migration
    // that did not check the task's Tseq: its BLOCKED stayed on the old
    // channel while its WAKEUP came here. AssociateTask now fails on a
    // stale Tseq, so this is counted (a guest test expects none) and
    // handled: off its CPU or queue first, unless a deferred migration
    // already owns it.
    stats().Count(kCtrUnexpectedWakeups);
    if (task->cpu < 0 &&
        std::find(deferred_.begin(), deferred_.end(), task) != deferred_.end()) {
      return;
    }
    TaskOffCpu(task, /*blocked=*/true);
  }
  task->state = State::kRunnable;
  task->prio_boost = !msg.wakeup().deferrable;
  UnassignIfDisallowed(task);
  if (task->cpu < 0) {
    // No further message can be pending until it runs: safe to migrate.
    Migrate(task, AssignCpu(task), msg.seqnum());
  } else {
    cs_[task->cpu].rq.Enqueue(task);
  }
}

void PerCpuFifoScheduler::TaskBlocked(PerCpuFifoTask* task, const Message& msg) {
  TaskOffCpu(task, /*blocked=*/true);
}

void PerCpuFifoScheduler::TaskPreempted(PerCpuFifoTask* task, const Message& msg) {
  TaskOffCpu(task, /*blocked=*/false);
  task->preempted = true;
  // A higher class took its CPU: it goes first. Its slice ran out: last.
  task->prio_boost = !msg.slice_ended();
  Requeue(task, msg.seqnum());
}

void PerCpuFifoScheduler::TaskYield(PerCpuFifoTask* task, const Message& msg) {
  TaskOffCpu(task, /*blocked=*/false);
  Requeue(task, msg.seqnum());
}

void PerCpuFifoScheduler::Requeue(PerCpuFifoTask* task, uint32_t seqnum) {
  UnassignIfDisallowed(task);
  if (task->cpu >= 0) {
    cs_[task->cpu].rq.Enqueue(task);
    return;
  }
  // Not assigned yet, yet the kernel ran it (it was running when it joined,
  // or it exits): assign it now, unless a deferred migration will. Its
  // messages arrive on the default channel, so this runs on the default
  // CPU's agent, the only one that touches deferred_.
  if (std::find(deferred_.begin(), deferred_.end(), task) != deferred_.end()) return;
  Migrate(task, AssignCpu(task), seqnum);
}

void PerCpuFifoScheduler::TaskAffinityChanged(PerCpuFifoTask* task, const Message& msg) {
  // Queued on a CPU it may no longer use: move it now. Running or blocked,
  // it moves when it next comes back (Requeue, TaskRunnable).
  if (task->state != State::kQueued) return;
  const int before = task->cpu;
  UnassignIfDisallowed(task);
  if (task->cpu < 0 && before >= 0) Requeue(task, msg.seqnum());
}

void PerCpuFifoScheduler::TaskDead(PerCpuFifoTask* task, const Message& msg) {
  GH_CHECK(task->state == State::kBlocked);
  Forget(task);
}

void PerCpuFifoScheduler::TaskResync(PerCpuFifoTask* task, const TaskSnapshot& snap) {
  // Out of its queue, off its CPU and pending slot, as the lost BLOCKED,
  // PREEMPT or YIELD would have taken it.
  TaskOffCpu(task, /*blocked=*/!snap.runnable);
  if (!snap.runnable) return;
  if (snap.on_cpu) {
    if (snap.cpu == task->cpu) cs_[snap.cpu].current = task;
    task->state = State::kOnCpu;
    return;
  }
  task->prio_boost = true;
  Requeue(task, snap.barrier);
}

void PerCpuFifoScheduler::RecoverIfMessagesLost(int cpu) {
  CpuState& cs = cs_[cpu];
  const bool is_default = cpu == default_cpu_;
  bool adopt;
  // Only the default agent looks for tasks whose TASK_NEW was lost.
  if (!cs.lost_watch.Due(enclave()->MessagesDropped(), *enclave(), is_default, &adopt))
    return;
  const uint32_t own = static_cast<uint32_t>(cs.channel->id());
  // A task's channel is in its status word, changed only by AssociateTask:
  // each task is recovered by the one agent that reads its messages.
  RecoverLostMessages(
      [&](const PerCpuFifoTask* t) {
        const uint32_t ch = t->status_word.channel();
        return ch == own || (is_default && ch == GH_DEFAULT_CHANNEL);
      },
      adopt);
}

void PerCpuFifoScheduler::TaskDeparted(PerCpuFifoTask* task, const Message& msg) {
  Forget(task);
}

void PerCpuFifoScheduler::TaskOnCpu(PerCpuFifoTask* task, const Message& msg) {
  const int cpu = msg.cpu();
  if (task->state == State::kQueued) GH_CHECK(cs_[task->cpu].rq.Erase(task));
  // The kernel itself may run a task elsewhere (an exiting task, or one
  // that switched in while running): it stays assigned to its CPU, whose
  // current it does not become; its next off-CPU message brings it home.
  if (cpu == task->cpu) cs_[cpu].current = task;
  if (task->cpu >= 0 && cs_[task->cpu].pending == task) cs_[task->cpu].pending = nullptr;
  task->state = State::kOnCpu;
  task->preempted = false;
  task->prio_boost = false;
}

// ------------------------------------------------------------ scheduling

void PerCpuFifoScheduler::Drain(Channel* channel) {
  Message msg;
  while (!(msg = channel->Peek()).empty()) {
    DispatchMessage(msg);
    channel->Consume(msg);
  }
}

void PerCpuFifoScheduler::Schedule(int cpu, const StatusWord& agent_sw) {
  const StatusWord::BarrierToken agent_barrier = agent_sw.barrier();
  Drain(cs_[cpu].channel);
  if (cpu == default_cpu_) Drain(&enclave()->DefaultChannel());
  RecoverIfMessagesLost(cpu);
  if (cpu == default_cpu_) RetryDeferred();
  FifoSchedule(cpu, agent_barrier, agent_sw.boosted_priority());
}

void PerCpuFifoScheduler::FifoSchedule(int cpu, uint32_t agent_barrier, bool prio_boost) {
  CpuState& cs = cs_[cpu];
  PerCpuFifoTask* next = nullptr;
  if (!prio_boost && !cs.pending) {
    next = cs.current;
    if (!next) next = cs.rq.Dequeue();
  }
  RunRequest* req = enclave()->GetRunRequest(cpu);
  if (next) {
    req->Open({.target = next->gtid,
               .target_barrier = next->seqnum,
               .agent_barrier = agent_barrier,
               .check_agent_barrier = true,
               .commit_flags = GH_COMMIT_AT_TXN_COMMIT});
    if (CommitOne(req)) {
      next->resync_committed = true;  // its next message may be about this
      // It becomes current with its TASK_ON_CPU.
      if (next != cs.current) cs.pending = next;
      return;
    }
    if (next == cs.current) TaskOffCpu(next, /*blocked=*/false);
    if (req->state() == GH_TXN_TARGET_NOT_FOUND) {
      // Gone from the kernel side (it exited): retrying would spin this
      // agent on its own CPU. Its DEAD or DEPARTED, on its way, forgets it.
      next->state = State::kBlocked;
      return;
    }
    // Never lose it: back to the front, retried on the next iteration.
    next->prio_boost = true;
    cs.rq.Enqueue(next);
    return;
  }
  // Boosted (a higher class wants the CPU): ask to be woken when the CPU
  // goes idle if there is work left.
  const uint32_t flags = (prio_boost && (cs.current || !cs.rq.Empty())) ? GH_RTLA_ON_IDLE : 0;
  stats().Count(kCtrLocalYields);
  req->LocalYield(agent_barrier, flags);
}

// ------------------------------------------------------------------ agents

FullPerCpuFifoAgent::FullPerCpuFifoAgent(Enclave* enclave, const PerCpuFifoConfig& config)
    : FullAgent(enclave),
      scheduler_(std::make_unique<PerCpuFifoScheduler>(enclave, enclave->cpus(), config)) {
  CreateAgents();
  scheduler_->EnclaveReady();
}

FullPerCpuFifoAgent::~FullPerCpuFifoAgent() { TerminateAgents(/*force=*/true); }

std::unique_ptr<Agent> FullPerCpuFifoAgent::MakeAgent(int cpu) {
  return std::make_unique<PerCpuFifoAgent>(enclave(), cpu, scheduler_.get());
}

}  // namespace gh
