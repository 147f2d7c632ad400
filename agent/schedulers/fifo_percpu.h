// SPDX-License-Identifier: Apache-2.0
// fifo_percpu.h: the per-CPU FIFO scheduler (ghOSt's schedulers/fifo/per_cpu),
// on the abstract Enclave.
//
// Every CPU has an agent, a channel and a FIFO run queue. A new task arrives
// on the default channel (drained by the first CPU's agent), is assigned a
// CPU (AssignCpu: the CPU with the fewest assigned tasks, round-robin among
// equals, so queues stay within one task of each other) and migrated there:
// its messages are re-routed to that CPU's channel (AssociateTask), it joins
// that CPU's run queue and the CPU's agent is pinged. Each agent, when woken,
// drains its channel and commits the head of its queue on its own CPU with
// its agent barrier (a local commit: AGENT_STALE if a message arrived in
// between); on success the agent gives its CPU to the task, and the task
// becomes the CPU's current one when TASK_ON_CPU arrives. Preempted tasks
// and failed commits go back to the front of their queue. Unlike ghOSt's
// per-CPU FIFO, a commit has a time slice, which the kernel enforces
// (--slice, the loader's txn_slice): a task whose slice ran out comes back
// as TASK_PREEMPT with slice_ended and goes to the back. Without it a
// CPU-bound task would keep its CPU until it blocked, and the tasks queued
// behind it would wait until sched_ext's watchdog ejected the scheduler
// (the churn soak showed exactly that: a hog queued behind a pinned hog).
//
// Lost messages: each agent, after draining, resyncs the tasks whose
// messages come to its channel (the default agent: also tasks on the
// default channel, and tasks whose TASK_NEW was lost) when their status
// word counts a loss. AssociateTask checks the task's Tseq atomically, so a
// task's messages are only ever on one channel that has not been read.
//
// The fast path (bpf_pick) is not supported: a task the kernel runs on
// another CPU than its assigned one breaks the per-CPU ownership model.
//
// Thread safety (real backend: one thread per agent): a CPU's state belongs
// to its agent, except its run queue (locked) and assignment count (atomic),
// which the default channel's agent updates when it migrates a task.
#ifndef GHOST_HYBRID_AGENT_SCHEDULERS_FIFO_PERCPU_H_
#define GHOST_HYBRID_AGENT_SCHEDULERS_FIFO_PERCPU_H_

#include <atomic>
#include <deque>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/lib/agent.h"
#include "agent/lib/scheduler.h"

namespace gh {

// States of a task and their legal transitions:
//   kBlocked  -> kRunnable (WAKEUP)
//   kRunnable -> kQueued (Enqueue) | kOnCpu (TASK_ON_CPU after a commit)
//   kQueued   -> kRunnable (Dequeue, Erase)
//   kOnCpu    -> kRunnable (PREEMPT, YIELD) | kBlocked (BLOCKED)
enum class PerCpuTaskState { kBlocked, kRunnable, kQueued, kOnCpu };

struct PerCpuFifoTask : Task {
  PerCpuFifoTask(uint64_t gtid, StatusWord sw) : Task(gtid, sw) {}

  PerCpuTaskState state = PerCpuTaskState::kBlocked;
  int cpu = -1;  // assigned CPU, -1 until migrated
  bool preempted = false;
  bool prio_boost = false;
};

class PerCpuRunQueue {
 public:
  // REQUIRES: task->state == kRunnable. Front iff prio_boost.
  void Enqueue(PerCpuFifoTask* task);
  // Returns the head (now kRunnable), or nullptr.
  PerCpuFifoTask* Dequeue();
  // Removes `task`; returns false if it is not queued here.
  bool Erase(PerCpuFifoTask* task);
  size_t Size() const;
  bool Empty() const { return Size() == 0; }
  std::vector<uint64_t> Gtids() const;

 private:
  mutable absl::Mutex mu_;
  std::deque<PerCpuFifoTask*> rq_ ABSL_GUARDED_BY(mu_);
};

struct PerCpuFifoConfig {
  // CPU whose agent drains the default channel; -1: the enclave's first.
  int default_cpu = -1;
};

class PerCpuFifoScheduler : public BasicDispatchScheduler<PerCpuFifoTask> {
 public:
  // REQUIRES: !enclave->bpf_pick().
  PerCpuFifoScheduler(Enclave* enclave, CpuList cpus, const PerCpuFifoConfig& config);

  // Ties each CPU channel (and the default channel) to its agent.
  void EnclaveReady() override;
  bool Empty() const override { return num_tasks_.load(std::memory_order_relaxed) == 0; }
  // Returns true iff `cpu` has no current task and an empty queue.
  bool Empty(int cpu) const;

  // One iteration of the agent of `cpu`: drain, then commit or yield.
  void Schedule(int cpu, const StatusWord& agent_sw);

  // Returns the CPU a new (or newly woken, unassigned) task should go to.
  int AssignCpu(PerCpuFifoTask* task);

  // Introspection (tests, the CLI).
  size_t QueueSize(int cpu) const { return cs_[cpu].rq.Size(); }
  std::vector<uint64_t> QueueGtids(int cpu) const { return cs_[cpu].rq.Gtids(); }
  int Assigned(int cpu) const { return cs_[cpu].assigned.load(std::memory_order_relaxed); }
  uint64_t CurrentGtid(int cpu) const {
    return cs_[cpu].current ? cs_[cpu].current->gtid : 0;
  }
  int default_cpu() const { return default_cpu_; }

 protected:
  void TaskNew(PerCpuFifoTask* task, const Message& msg) override;
  void TaskRunnable(PerCpuFifoTask* task, const Message& msg) override;
  void TaskBlocked(PerCpuFifoTask* task, const Message& msg) override;
  void TaskPreempted(PerCpuFifoTask* task, const Message& msg) override;
  void TaskYield(PerCpuFifoTask* task, const Message& msg) override;
  void TaskDead(PerCpuFifoTask* task, const Message& msg) override;
  void TaskDeparted(PerCpuFifoTask* task, const Message& msg) override;
  void TaskOnCpu(PerCpuFifoTask* task, const Message& msg) override;
  void TaskAffinityChanged(PerCpuFifoTask* task, const Message& msg) override;
  void TaskResync(PerCpuFifoTask* task, const TaskSnapshot& snap) override;

 private:
  struct alignas(64) CpuState {
    PerCpuFifoTask* current = nullptr;
    // Committed here, not yet reported on or off the CPU: the agent waits
    // for that news before it commits again (its commit is latched into
    // the CPU's local DSQ and runs once the agent sleeps).
    PerCpuFifoTask* pending = nullptr;
    PerCpuRunQueue rq;
    Channel* channel = nullptr;
    std::atomic<int> assigned{0};
    LostMessageWatch lost_watch;  // when this agent recovers lost messages
  };
  // After draining: if messages were dropped since the last call, resyncs
  // the tasks whose messages come to `cpu`'s channels (see scheduler.h).
  void RecoverIfMessagesLost(int cpu);

  void Drain(Channel* channel);
  // Moves a runnable, unassigned task to `cpu`: AssociateTask, enqueue,
  // Ping. A stale association (a message is pending on the old channel)
  // defers the move until that message is consumed.
  void Migrate(PerCpuFifoTask* task, int cpu, uint32_t seqnum);
  void RetryDeferred();
  void FifoSchedule(int cpu, uint32_t agent_barrier, bool prio_boost);
  // The task left its CPU (or its queue).
  void TaskOffCpu(PerCpuFifoTask* task, bool blocked);
  void Forget(PerCpuFifoTask* task);
  // Takes `task` off its CPU (queue and load) if its affinity no longer
  // allows that CPU; it is then migrated like a new task.
  void UnassignIfDisallowed(PerCpuFifoTask* task);
  // Queues a task that went off its CPU runnable (preempted, yielded) on
  // its CPU's queue; an unassigned one is assigned first.
  void Requeue(PerCpuFifoTask* task, uint32_t seqnum);

  std::unique_ptr<CpuState[]> cs_;
  int default_cpu_;
  int rr_next_ = 0;                        // default agent only
  std::vector<PerCpuFifoTask*> deferred_;  // default agent only
  std::atomic<int> num_tasks_{0};
};

class PerCpuFifoAgent : public Agent {
 public:
  PerCpuFifoAgent(Enclave* enclave, int cpu, PerCpuFifoScheduler* scheduler)
      : Agent(enclave, cpu), scheduler_(scheduler) {}

  void Step() override { scheduler_->Schedule(cpu(), status_word()); }
  bool SchedulerEmpty() const override { return scheduler_->Empty(cpu()); }

 private:
  PerCpuFifoScheduler* const scheduler_;
};

class FullPerCpuFifoAgent : public FullAgent {
 public:
  FullPerCpuFifoAgent(Enclave* enclave, const PerCpuFifoConfig& config);
  ~FullPerCpuFifoAgent() override;

  PerCpuFifoScheduler* scheduler() const override { return scheduler_.get(); }

 protected:
  std::unique_ptr<Agent> MakeAgent(int cpu) override;

 private:
  std::unique_ptr<PerCpuFifoScheduler> scheduler_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_SCHEDULERS_FIFO_PERCPU_H_
