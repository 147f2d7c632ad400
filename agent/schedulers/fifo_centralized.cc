// SPDX-License-Identifier: Apache-2.0
#include "agent/schedulers/fifo_centralized.h"

#include <algorithm>

#include "absl/strings/str_format.h"

#include "agent/lib/check.h"

namespace gh {

using State = CentralizedTaskState;

// How long the global agent may keep running while a task of ours waits
// for its CPU (busy rounds never park) before it yields the CPU to it.
constexpr absl::Duration kOwnCpuHold = absl::Milliseconds(2);

CentralizedFifoScheduler::CentralizedFifoScheduler(
    Enclave* enclave, CpuList cpus, const CentralizedFifoConfig& config)
    : BasicDispatchScheduler(enclave, cpus),
      cpu_states_(GH_MAX_CPUS),
      initial_global_cpu_(cpus.IsSet(config.global_cpu) ? config.global_cpu : cpus.Front()),
      preemption_time_slice_(config.preemption_time_slice),
      spin_(config.spin),
      global_cpu_after_(config.global_cpu_after) {}

void CentralizedFifoScheduler::EnclaveReady() {
  // The default channel wakes the global agent; the role's moves carry
  // the tie along (Enclave::MoveGlobal).
  const absl::Status s = GetDefaultChannel().SetAgent(initial_global_cpu_);
  GH_CHECK_MSG(s.ok(), std::string(s.message()));
  GH_CHECK(MoveGlobalRole(/*from=*/-1, initial_global_cpu_));
}

void CentralizedFifoScheduler::NoteGlobalRound(int cpu) {
  if (last_round_cpu_ >= 0 && last_round_cpu_ != cpu) stats().Count(kCtrGlobalMigrations);
  last_round_cpu_ = cpu;
}

bool CentralizedFifoScheduler::Available(int cpu) const {
  return !enclave()->AgentStatusWord(cpu).boosted_priority();
}

std::vector<uint64_t> CentralizedFifoScheduler::RunqueueGtids() const {
  std::vector<uint64_t> v;
  for (const CentralizedFifoTask* t : run_queue_) v.push_back(t->gtid);
  return v;
}

uint64_t CentralizedFifoScheduler::CurrentGtid(int cpu) const {
  const CentralizedFifoTask* t = cpu_states_[cpu].current;
  return t ? t->gtid : 0;
}

// ------------------------------------------------------------- run queue

void CentralizedFifoScheduler::Enqueue(CentralizedFifoTask* task) {
  GH_CHECK(task->state == State::kRunnable);
  task->state = State::kQueued;
  if (task->prio_boost || task->preempted) {
    run_queue_.push_front(task);
  } else {
    run_queue_.push_back(task);
  }
}

CentralizedFifoTask* CentralizedFifoScheduler::Dequeue() {
  if (run_queue_.empty()) return nullptr;
  CentralizedFifoTask* task = run_queue_.front();
  run_queue_.pop_front();
  GH_CHECK(task->queued());
  task->state = State::kRunnable;
  return task;
}

void CentralizedFifoScheduler::RemoveFromRunqueue(CentralizedFifoTask* task) {
  GH_CHECK(task->queued());
  auto it = std::find(run_queue_.begin(), run_queue_.end(), task);
  GH_CHECK(it != run_queue_.end());
  run_queue_.erase(it);
  task->state = State::kRunnable;
}

void CentralizedFifoScheduler::Yield(CentralizedFifoTask* task) {
  GH_CHECK(task->oncpu() || task->state == State::kRunnable);
  task->state = State::kYielding;
  yielding_tasks_.push_back(task);
}

void CentralizedFifoScheduler::RemoveYielding(CentralizedFifoTask* task) {
  auto it = std::find(yielding_tasks_.begin(), yielding_tasks_.end(), task);
  GH_CHECK(it != yielding_tasks_.end());
  yielding_tasks_.erase(it);
  task->state = State::kRunnable;
}

void CentralizedFifoScheduler::ClearCurrent(CentralizedFifoTask* task) {
  GH_CHECK(task->oncpu());
  CpuState& cs = cpu_states_[task->cpu];
  // The agent may already have given the CPU to another task (a commit that
  // preempted this one, whose message is only arriving now).
  if (cs.current == task) cs.current = nullptr;
  task->cpu = -1;
  task->state = State::kRunnable;
}

void CentralizedFifoScheduler::Detach(CentralizedFifoTask* task) {
  switch (task->state) {
    case State::kOnCpu: ClearCurrent(task); break;
    case State::kQueued: RemoveFromRunqueue(task); break;
    case State::kYielding: RemoveYielding(task); break;
    case State::kBpfQueued: task->state = State::kRunnable; break;
    case State::kBlocked:
    case State::kRunnable: break;
  }
}

void CentralizedFifoScheduler::ToBpfQueue(CentralizedFifoTask* task) {
  Detach(task);
  task->state = State::kBpfQueued;
}

void CentralizedFifoScheduler::TaskOnCpu(CentralizedFifoTask* task, int cpu) {
  GH_CHECK(task->state == State::kRunnable);
  task->state = State::kOnCpu;
  task->cpu = cpu;
  task->preempted = false;
  task->prio_boost = false;
}

// -------------------------------------------------------------- handlers

void CentralizedFifoScheduler::TaskNew(CentralizedFifoTask* task, const Message& msg) {
  task->seqnum = msg.seqnum();
  task->state = State::kBlocked;
  ++num_tasks_;
  if (!msg.task_new().runnable) return;
  if (msg.bpf_queued()) return ToBpfQueue(task);
  task->state = State::kRunnable;
  Enqueue(task);
}

void CentralizedFifoScheduler::TaskRunnable(CentralizedFifoTask* task, const Message& msg) {
  GH_CHECK_MSG(task->state == State::kBlocked,
               absl::StrFormat("WAKEUP for a task in state %d: %s; seqnum %u resynced %d at %u "
                               "flags %#x window %d committed %d lost %u seen %u",
                               static_cast<int>(task->state), msg.ToString(),
                               static_cast<uint32_t>(task->seqnum), task->resynced,
                               task->resync_barrier, task->resync_flags, task->resync_window,
                               task->resync_committed, task->status_word.msgs_lost(),
                               task->msgs_lost_seen));
  if (msg.bpf_queued()) return ToBpfQueue(task);
  task->state = State::kRunnable;
  // A non-deferrable wakeup may hold resources others wait for: go first.
  task->prio_boost = !msg.wakeup().deferrable;
  Enqueue(task);
}

void CentralizedFifoScheduler::TaskBlocked(CentralizedFifoTask* task, const Message& msg) {
  Detach(task);
  task->state = State::kBlocked;
}

void CentralizedFifoScheduler::TaskPreempted(CentralizedFifoTask* task, const Message& msg) {
  if (msg.bpf_queued()) return ToBpfQueue(task);
  // A higher class took its CPU: it goes first. Its slice ran out: last.
  task->preempted = !msg.slice_ended();
  if (msg.slice_ended()) stats().Count(kCtrSlicePreemptions);
  if (task->oncpu()) {
    ClearCurrent(task);
    Enqueue(task);
  }
  // Otherwise it is already queued or skips this round (yielding).
}

void CentralizedFifoScheduler::TaskYield(CentralizedFifoTask* task, const Message& msg) {
  if (msg.bpf_queued()) return ToBpfQueue(task);
  if (task->oncpu()) {
    ClearCurrent(task);
    Yield(task);
  }
}

void CentralizedFifoScheduler::TaskDead(CentralizedFifoTask* task, const Message& msg) {
  Detach(task);
  allocator()->FreeTask(task);
  --num_tasks_;
}

void CentralizedFifoScheduler::TaskDeparted(CentralizedFifoTask* task, const Message& msg) {
  Detach(task);
  allocator()->FreeTask(task);
  --num_tasks_;
}

void CentralizedFifoScheduler::TaskOnCpu(CentralizedFifoTask* task, const Message& msg) {
  // Our own commits already called TaskOnCpu(task, cpu). Anything else (a
  // fast-path pick, or the kernel running an exiting task itself) is news.
  if (!msg.bpf_picked() && task->oncpu() && task->cpu == msg.cpu()) return;
  if (task->state == State::kQueued) RemoveFromRunqueue(task);
  if (task->state == State::kYielding) RemoveYielding(task);
  if (task->state == State::kBpfQueued) task->state = State::kRunnable;
  if (task->oncpu()) ClearCurrent(task);
  // Believed asleep: the kernel ran it without a wakeup we saw (as when
  // sched_ext runs every task itself while it ejects the scheduler).
  if (task->state == State::kBlocked) task->state = State::kRunnable;
  TaskOnCpu(task, msg.cpu());
  CpuState& cs = cpu_states_[msg.cpu()];
  if (cs.current == nullptr) cs.current = task;
}

void CentralizedFifoScheduler::TaskResync(CentralizedFifoTask* task, const TaskSnapshot& snap) {
  Detach(task);
  if (!snap.runnable) {
    task->state = State::kBlocked;
    return;
  }
  task->state = State::kRunnable;
  if (snap.on_cpu && cpus().IsSet(snap.cpu)) {
    TaskOnCpu(task, snap.cpu);
    CpuState& cs = cpu_states_[snap.cpu];
    if (cs.current == nullptr) cs.current = task;
    return;
  }
  // Waiting (or about to run where the kernel put it). With the fast path
  // on, the fast path owns waiting tasks: one in our DSQ goes back to it.
  if (enclave()->bpf_pick()) {
    (void)enclave()->RunqueueOp(task->gtid, GH_RQ_OP_RELEASE);
    task->state = State::kBpfQueued;
    return;
  }
  // Without it, a task the fast path queued while no agent was attached
  // (a persistent scheduler's hand-over) is claimed: ours to decide now.
  (void)enclave()->RunqueueOp(task->gtid, GH_RQ_OP_CLAIM);
  task->prio_boost = true;
  Enqueue(task);
}

std::string CentralizedFifoScheduler::DescribeTasks() const {
  static const char* const kNames[] = {"blocked", "runnable", "queued",
                                       "on_cpu", "yielding", "bpf_queued"};
  std::string out;
  std::lock_guard<std::mutex> lock(global_mu());  // the agents' state
  const_cast<CentralizedFifoScheduler*>(this)->allocator()->ForEachTask(
      [&](CentralizedFifoTask* t) {
        absl::StrAppendFormat(&out, "  gtid=%#x pid=%u %s cpu=%d tseq=%u word_tseq=%u%s\n",
                              t->gtid, GH_GTID_PID(t->gtid),
                              kNames[static_cast<int>(t->state)], t->cpu,
                              static_cast<uint32_t>(t->seqnum), t->status_word.barrier(),
                              t->resynced ? " resynced" : "");
        return true;
      });
  return out;
}

bool CentralizedFifoScheduler::RecoverIfMessagesLost() {
  bool adopt;
  if (!lost_watch_.Due(enclave()->MessagesDropped(), *enclave(), /*may_adopt=*/true, &adopt))
    return false;
  RecoverLostMessages([](const CentralizedFifoTask*) { return true; }, adopt);
  return true;
}

// ------------------------------------------------------------ scheduling

int CentralizedFifoScheduler::PickCpu(const CentralizedFifoTask* task, const CpuList& available,
                                      const CpuList& idle, int global_cpu, absl::Time now,
                                      absl::Time* own_cpu_due) const {
  // Set operations on a few words each: the cost of a decision does not
  // grow with the number of CPUs.
  const CpuList usable = available.Intersect(task->allowed);
  const int last = task->status_word.cpu();
  if (last >= 0 && last != global_cpu && usable.IsSet(last)) return last;
  CpuList others = usable;
  if (others.IsSet(global_cpu)) others.Clear(global_cpu);
  const CpuList idle_others = others.Intersect(idle);
  if (!idle_others.Empty()) return idle_others.Front();
  if (!others.Empty()) return others.Front();
  if (!usable.IsSet(global_cpu)) return -1;
  // A task with no known start of its wait (adopted, resynced) has waited.
  const absl::Time due = task->runnable_since_ns == 0
                             ? now
                             : KernelTime(task->runnable_since_ns) + global_cpu_after_;
  if (due <= now) return global_cpu;
  *own_cpu_due = std::min(*own_cpu_due, due);
  return -1;
}

CentralizedFifoScheduler::Round CentralizedFifoScheduler::GlobalSchedule(
    const StatusWord& agent_sw, BarrierToken agent_sw_last) {
  const int global_cpu = GetGlobalCPUId();
  CpuList available, idle, assigned;
  Round round;
  for (int cpu : cpus()) {
    // A higher class (e.g. CFS, RT) holds this CPU, or a task of ours runs
    // there (until its slice ends, which the kernel enforces).
    if (!Available(cpu) || cpu_states_[cpu].current) continue;
    available.Set(cpu);
    if (enclave()->AgentStatusWord(cpu).cpu_avail()) idle.Set(cpu);
  }

  // Tasks none of whose allowed CPUs is free this round: they keep their
  // place at the front and do not hold up the tasks behind them.
  std::vector<CentralizedFifoTask*> unplaced;
  const absl::Time now = enclave()->Now();
  while (!available.Empty()) {
    CentralizedFifoTask* next = Dequeue();
    if (!next) break;
    // Still on a CPU (its TASK_PREEMPT not read yet), or messages we have
    // not read: skip it this round.
    if (next->status_word.on_cpu()) {
      stats().Count(kCtrSkippedOnCpu);
      Yield(next);
      continue;
    }
    if (next->seqnum != next->status_word.barrier()) {
      stats().Count(kCtrSkippedUnread);
      Yield(next);
      continue;
    }
    const int cpu = PickCpu(next, available, idle, global_cpu, now, &round.own_cpu_due);
    if (cpu < 0) {
      unplaced.push_back(next);
      continue;
    }
    cpu_states_[cpu].current = next;
    available.Clear(cpu);
    assigned.Set(cpu);
    // The global CPU is ours: the task runs once we park, and the commit
    // fails AGENT_STALE if news arrived since this round began. Elsewhere
    // the CPU is free, so the task runs when it next schedules: nothing
    // is preempted.
    const bool own = cpu == global_cpu;
    round.own_cpu |= own;
    enclave()->GetRunRequest(cpu)->Open({.target = next->gtid,
                                         .target_barrier = next->seqnum,
                                         .agent_barrier = agent_sw_last,
                                         .check_agent_barrier = own,
                                         .commit_flags = GH_COMMIT_AT_SCHEDULE,
                                         .slice = preemption_time_slice_});
  }

  for (auto it = unplaced.rbegin(); it != unplaced.rend(); ++it) {
    (*it)->state = State::kQueued;
    run_queue_.push_front(*it);
  }

  if (!assigned.Empty()) CommitGroup(assigned);
  for (int cpu : assigned) {
    CpuState& cs = cpu_states_[cpu];
    ++round.commits;
    if (enclave()->GetRunRequest(cpu)->succeeded()) {
      cs.current->resync_committed = true;  // its next message may be about this
      TaskOnCpu(cs.current, cpu);
    } else {
      // Never lose it: back to the front, and the CPU is free again.
      if (cpu == global_cpu) round.own_cpu = false;
      cs.current->prio_boost = true;
      Enqueue(cs.current);
      cs.current = nullptr;
    }
  }

  // Tasks that yielded (or were skipped) rejoin having missed this round.
  for (CentralizedFifoTask* t : yielding_tasks_) {
    GH_CHECK(t->state == State::kYielding);
    t->state = State::kRunnable;
    Enqueue(t);
  }
  yielding_tasks_.clear();
  return round;
}

bool CentralizedFifoScheduler::PickNextGlobalCPU(BarrierToken agent_barrier,
                                                 int this_cpu) {
  const int global_cpu = GetGlobalCPUId();
  int target = -1;
  for (int cpu : topology().NearestFirst(global_cpu, cpus())) {
    if (Available(cpu)) {
      target = cpu;
      break;
    }
  }
  if (target < 0) return false;
  GH_CHECK_NE(target, this_cpu);
  // The task running on `target` is preempted when its agent wakes; its
  // TASK_PREEMPT (or BLOCKED/YIELD if it stopped first) updates our state.
  // The move fails only if the kernel side moved the role first.
  if (MoveGlobalRole(this_cpu, target)) stats().Count(kCtrAgentHandoffs);
  return GetGlobalCPUId() != this_cpu;
}

// ------------------------------------------------------------------ agents

void CentralizedFifoAgent::Step() {
  // Aseq before the role: a move after this read makes LocalYield fail.
  const StatusWord::BarrierToken agent_barrier = status_word().barrier();
  if (cpu() != scheduler_->GetGlobalCPUId()) {
    scheduler_->stats().Count(kCtrLocalYields);
    enclave()->GetRunRequest(cpu())->LocalYield(agent_barrier, /*run_flags=*/0);
    return;
  }
  CentralizedFifoScheduler::Round round;
  int messages = 0;
  {
    std::lock_guard<std::mutex> lock(scheduler_->global_mu());
    if (cpu() != scheduler_->GetGlobalCPUId()) return;  // lost it while waiting
    scheduler_->NoteGlobalRound(cpu());
    if (boosted_priority() && scheduler_->PickNextGlobalCPU(agent_barrier, cpu())) return;
    Channel& channel = scheduler_->GetDefaultChannel();
    Message msg;
    while (!(msg = channel.Peek()).empty()) {
      scheduler_->DispatchMessage(msg);
      channel.Consume(msg);
      ++messages;
    }
    if (scheduler_->RecoverIfMessagesLost()) ++messages;
    round = scheduler_->GlobalSchedule(status_word(), agent_barrier);
  }
  // Spin while rounds find work; park (outside the round lock, so that a
  // new global agent is never kept waiting) once they stop finding any,
  // at once if our own CPU has a task waiting for us to leave it. News
  // since agent_barrier was read keeps us running (LocalYield fails).
  const absl::Time now = enclave()->Now();
  if (scheduler_->CurrentGtid(cpu()) != 0 && now - awake_since_ > kOwnCpuHold) {
    enclave()->YieldAgentCpu(cpu());
    awake_since_ = enclave()->Now();
    return;
  }
  if ((messages > 0 || round.commits > 0) && !round.own_cpu) {
    idle_since_ = absl::InfiniteFuture();
    return;
  }
  if (idle_since_ == absl::InfiniteFuture()) idle_since_ = now;
  if (!round.own_cpu && now - idle_since_ < scheduler_->spin()) return;
  idle_since_ = absl::InfiniteFuture();
  scheduler_->stats().Count(kCtrLocalYields);
  // A task left waiting for our CPU gets it once it has waited long enough:
  // wake for it then, even if no message comes.
  enclave()->GetRunRequest(cpu())->LocalYield(agent_barrier, /*run_flags=*/0,
                                              round.own_cpu_due);
  awake_since_ = enclave()->Now();
}

FullCentralizedFifoAgent::FullCentralizedFifoAgent(Enclave* enclave,
                                                   const CentralizedFifoConfig& config)
    : FullAgent(enclave),
      scheduler_(std::make_unique<CentralizedFifoScheduler>(enclave, enclave->cpus(), config)) {
  CreateAgents();
  scheduler_->EnclaveReady();
}

FullCentralizedFifoAgent::~FullCentralizedFifoAgent() { TerminateAgents(/*force=*/true); }

std::unique_ptr<Agent> FullCentralizedFifoAgent::MakeAgent(int cpu) {
  return std::make_unique<CentralizedFifoAgent>(enclave(), cpu, scheduler_.get());
}

}  // namespace gh
