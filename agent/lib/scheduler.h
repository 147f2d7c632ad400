// SPDX-License-Identifier: Apache-2.0
// scheduler.h: Scheduler and BasicDispatchScheduler, the base of every
// scheduling policy.
//
// A Scheduler owns the policy's state for the CPUs of one enclave and talks
// to the kernel side only through Enclave, so it runs unchanged on the real
// and the simulated backend. BasicDispatchScheduler<TaskType> adds ghOSt's
// message dispatch: DispatchMessage() looks the task up by gtid (creating it
// on TASK_NEW), calls the handler for the message type and then advances the
// task's seqnum to the message's (except for TASK_NEW, whose handler sets it,
// and DEAD/DEPARTED, whose handlers free the task).
//
// Thread safety: the dispatch itself keeps no state besides the allocator
// (locked) and the stats (atomic); policies document their own rules.
#ifndef GHOST_HYBRID_AGENT_LIB_SCHEDULER_H_
#define GHOST_HYBRID_AGENT_LIB_SCHEDULER_H_

#include <memory>

#include "absl/time/time.h"
#include "agent/lib/enclave.h"
#include "agent/lib/message.h"
#include "agent/lib/stats.h"
#include "agent/lib/task.h"
#include "agent/lib/topology.h"

namespace gh {

class Scheduler {
 public:
  // REQUIRES: `cpus` is a subset of enclave->cpus(); enclave outlives this.
  Scheduler(Enclave* enclave, CpuList cpus);
  virtual ~Scheduler();

  Enclave* enclave() const { return enclave_; }
  const CpuList& cpus() const { return cpus_; }
  const Topology& topology() const { return enclave_->topology(); }
  AgentStats& stats() { return stats_; }
  const AgentStats& stats() const { return stats_; }

  // Called once every CPU has its agent attached, before any agent runs.
  virtual void EnclaveReady() {}

  // Returns true iff the scheduler manages no task any more.
  virtual bool Empty() const = 0;

  // Returns the kernel clock.
  absl::Time MonotonicNow() const { return enclave_->Now(); }

 protected:
  // Commits the OPEN slots of `cpus` as one group and counts the group size
  // and each outcome. Returns true iff all succeeded.
  bool CommitGroup(const CpuList& cpus);
  // Commits `req` alone (a local commit) and counts its outcome.
  bool CommitOne(RunRequest* req);
  // Pings the agent of `cpu`.
  void PingAgent(int cpu);
  // Enclave::MoveGlobal, counted as a ping (it wakes `to`'s agent).
  bool MoveGlobalRole(int from, int to);

 private:
  Enclave* const enclave_;
  const CpuList cpus_;
  AgentStats stats_;
};

template <typename TaskType>
class BasicDispatchScheduler : public Scheduler {
 public:
  BasicDispatchScheduler(Enclave* enclave, CpuList cpus)
      : Scheduler(enclave, cpus) {}

  // Hands `msg` to its handler (see the file comment).
  void DispatchMessage(const Message& msg);

  TaskAllocator<TaskType>* allocator() { return &allocator_; }

 protected:
  // Task handlers. `task` is never null. TaskDead and TaskDeparted must free
  // the task (allocator()->FreeTask).
  virtual void TaskNew(TaskType* task, const Message& msg) = 0;
  virtual void TaskRunnable(TaskType* task, const Message& msg) = 0;
  virtual void TaskBlocked(TaskType* task, const Message& msg) = 0;
  virtual void TaskPreempted(TaskType* task, const Message& msg) = 0;
  virtual void TaskYield(TaskType* task, const Message& msg) = 0;
  virtual void TaskDead(TaskType* task, const Message& msg) = 0;
  virtual void TaskDeparted(TaskType* task, const Message& msg) = 0;
  virtual void TaskOnCpu(TaskType* task, const Message& msg) = 0;
  virtual void TaskAffinityChanged(TaskType* task, const Message& msg) {}
  virtual void TaskPriorityChanged(TaskType* task, const Message& msg) {}
  // CPU handlers.
  virtual void CpuTick(const Message& msg) {}
  virtual void CpuAvailable(const Message& msg) {}
  virtual void CpuBusy(const Message& msg) {}

 private:
  TaskAllocator<TaskType> allocator_;
};

template <typename TaskType>
void BasicDispatchScheduler<TaskType>::DispatchMessage(const Message& msg) {
  stats().CountMessage(msg.type());
  if (msg.is_cpu_msg()) {
    switch (msg.type()) {
      case GH_MSG_CPU_TICK: CpuTick(msg); break;
      case GH_MSG_CPU_AVAILABLE: CpuAvailable(msg); break;
      case GH_MSG_CPU_BUSY: CpuBusy(msg); break;
    }
    return;
  }
  GH_CHECK_MSG(msg.is_task_msg(), msg.ToString());

  TaskType* task;
  if (msg.type() == GH_MSG_TASK_NEW) {
    const gh_payload_task_new& p = msg.task_new();
    bool allocated;
    std::tie(task, allocated) = allocator_.GetOrCreate(
        msg.gtid(), enclave()->TaskStatusWord(p.sw_index));
    GH_CHECK_MSG(allocated, "TASK_NEW for a known task: " + msg.ToString());
    task->allowed = cpus();
    TaskNew(task, msg);  // sets task->seqnum
    return;
  }
  task = allocator_.GetTask(msg.gtid());
  if (task == nullptr) {
    // The kernel side admitted the task before this agent started (or its
    // TASK_NEW was lost): there is nothing consistent to do with it.
    stats().Count(kCtrUnknownTaskMsgs);
    return;
  }
  if (msg.type() == GH_MSG_TASK_ON_CPU && msg.bpf_picked())
    stats().Count(kCtrBpfPicksSeen);

  bool advance = true;
  switch (msg.type()) {
    case GH_MSG_TASK_WAKEUP: TaskRunnable(task, msg); break;
    case GH_MSG_TASK_BLOCKED: TaskBlocked(task, msg); break;
    case GH_MSG_TASK_PREEMPT: TaskPreempted(task, msg); break;
    case GH_MSG_TASK_YIELD: TaskYield(task, msg); break;
    case GH_MSG_TASK_DEAD:
      advance = false;  // the handler freed the task
      TaskDead(task, msg);
      break;
    case GH_MSG_TASK_DEPARTED:
      advance = false;
      TaskDeparted(task, msg);
      break;
    case GH_MSG_TASK_AFFINITY_CHANGED:
      task->allowed =
          CpuList::FromWords(reinterpret_cast<const uint64_t*>(msg.affinity().cpumask))
              .Intersect(cpus());
      TaskAffinityChanged(task, msg);
      break;
    case GH_MSG_TASK_PRIORITY_CHANGED: TaskPriorityChanged(task, msg); break;
    case GH_MSG_TASK_ON_CPU: TaskOnCpu(task, msg); break;
    default: GH_CHECK_MSG(false, "unknown message " + msg.ToString());
  }
  if (advance) task->Advance(msg.seqnum());
}

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_SCHEDULER_H_
