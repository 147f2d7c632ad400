// SPDX-License-Identifier: Apache-2.0
// scheduler.h: Scheduler and BasicDispatchScheduler, the base of every
// scheduling policy.
//
// A Scheduler owns the policy's state for the CPUs of one enclave and talks
// to the kernel side only through Enclave, so it runs unchanged on the real
// and the simulated backend. BasicDispatchScheduler<TaskType, Locking> adds
// ghOSt's message dispatch: DispatchMessage() looks the task up by gtid
// (creating it on TASK_NEW), calls the handler for the message type and then
// advances the task's seqnum to the message's (except for TASK_NEW, whose
// handler sets it, and DEAD/DEPARTED, whose handlers free the task). Its
// TaskAllocator locks as Locking says (task.h).
//
// Lost messages. When a channel is full the kernel side drops the message,
// counts the loss in the task's status word (msgs_lost) and wakes the
// channel's agent. An agent that sees Enclave::MessagesDropped() move calls
// RecoverLostMessages() after draining its channel: every task of its
// whose word counts a new loss is resynchronised from the word (Tseq,
// runnable, on CPU and where; a task gone for good is forgotten as if
// DEPARTED arrived), and the agent of the default channel also takes in
// tasks whose TASK_NEW was lost. The word's flags are read after its Tseq,
// so they may already show the change the next message will announce; that
// one message is skipped if the resync already applied it, as is any
// message at or below the Tseq the resync read.
//
// Status words: after a task's DEAD or DEPARTED, the dispatch frees its
// word (Enclave::FreeTaskStatusWord); until then the kernel side keeps it.
//
// Thread safety: the dispatch itself keeps no state besides the allocator
// (locked) and the stats (atomic); policies document their own rules.
#ifndef GHOST_HYBRID_AGENT_LIB_SCHEDULER_H_
#define GHOST_HYBRID_AGENT_LIB_SCHEDULER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

  // Takes in every live task the kernel side already manages, from the
  // status words: for an agent that takes over a running scheduler
  // (--attach). Call before any agent runs. Returns how many it took in.
  virtual int DiscoverTasks() { return 0; }

  // One line per task the scheduler holds (gtid, state, CPU, Tseq): its
  // view, printed beside the kernel's exit dump after an ejection. Safe
  // while agents run.
  virtual std::string DescribeTasks() const { return ""; }

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

// When an agent must look for lost messages: after the kernel side's drop
// count moved, and for the scan for lost TASK_NEWs (which reads every task
// status word) at most every kAdoptScanPeriod, however often drops come --
// a scan put off is done at a later call even if nothing more was dropped.
// One per agent that recovers; used by that agent only.
class LostMessageWatch {
 public:
  static constexpr absl::Duration kAdoptScanPeriod = absl::Milliseconds(10);

  // Returns true iff the caller should recover now; then *adopt says
  // whether to scan for lost TASK_NEWs too (only if `may_adopt`). Called in
  // every agent round: the clock is read only once something was dropped.
  bool Due(uint64_t dropped, const Enclave& clock, bool may_adopt, bool* adopt) {
    if (dropped == drops_seen_ && !adopt_pending_) return false;
    drops_seen_ = dropped;
    const absl::Time now = clock.Now();
    *adopt = may_adopt && now - last_adopt_scan_ >= kAdoptScanPeriod;
    if (*adopt) last_adopt_scan_ = now;
    adopt_pending_ = may_adopt && !*adopt;
    return true;
  }

 private:
  uint64_t drops_seen_ = 0;
  bool adopt_pending_ = false;
  absl::Time last_adopt_scan_ = absl::InfinitePast();
};

// A task's state as its status word tells it, for a resync.
struct TaskSnapshot {
  uint32_t barrier = 0;  // Tseq, read first
  bool runnable = false;
  bool on_cpu = false;
  int cpu = -1;          // where it runs (on_cpu) or last ran
};

template <typename TaskType, AllocatorLocking Locking = AllocatorLocking::kThreadSafe>
class BasicDispatchScheduler : public Scheduler {
 public:
  BasicDispatchScheduler(Enclave* enclave, CpuList cpus)
      : Scheduler(enclave, cpus) {}

  // Hands `msg` to its handler (see the file comment).
  void DispatchMessage(const Message& msg);

  // Resyncs each task `mine` accepts whose status word counts a loss not
  // seen yet; with `adopt`, also takes in live tasks whose TASK_NEW was
  // lost and frees the words of tasks that came and went unseen. Call after
  // draining the channel(s) the tasks' messages arrive on.
  void RecoverLostMessages(const std::function<bool(const TaskType*)>& mine, bool adopt);

  // Every in-use word's task is admitted and resynced, as a lost TASK_NEW
  // is; messages already read by the previous agent (at or below the Tseq
  // read here) are then skipped as a resync's are.
  int DiscoverTasks() override;

  TaskAllocator<TaskType, Locking>* allocator() { return &allocator_; }

 protected:
  // Brings `task`, in whatever state the scheduler had it, in line with
  // `snap` (a live task): what the lost messages would have done. The
  // seqnum is already snap.barrier.
  virtual void TaskResync(TaskType* task, const TaskSnapshot& snap) = 0;

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
  // True iff `msg` is one a resync of `task` already accounted for.
  static bool AppliedByResync(const TaskType* task, const Message& msg);
  // Resyncs `task` from its word. Returns false if the task was gone for
  // good and is now freed.
  bool Resync(TaskType* task);
  // Admits the task of word @i, which has no task here yet, as blocked,
  // then resyncs it. Returns false if it was not admitted.
  bool AdoptFromStatusWord(uint32_t i, const StatusWord& sw);
  // Calls the DEAD/DEPARTED handler (which frees the task), then frees
  // the task's status word.
  void ForgetTask(TaskType* task, const Message& msg, bool dead);
  // Splits a runnable task's wait for a CPU into hops (hop_latency.h).
  void NoteWait(TaskType* task, const Message& msg);

  TaskAllocator<TaskType, Locking> allocator_;
};

template <typename TaskType, AllocatorLocking Locking>
bool BasicDispatchScheduler<TaskType, Locking>::AppliedByResync(const TaskType* task,
                                                       const Message& msg) {
  if (!task->resynced) return false;
  if (msg.seqnum() <= task->seqnum) return true;
  if (!task->resync_window || msg.seqnum() != task->resync_barrier + 1) return false;
  const bool runnable = task->resync_flags & GH_SW_TASK_RUNNABLE;
  const bool on_cpu = task->resync_flags & GH_SW_TASK_ONCPU;
  switch (msg.type()) {
    case GH_MSG_TASK_WAKEUP: return runnable;
    case GH_MSG_TASK_BLOCKED: return !runnable;
    case GH_MSG_TASK_ON_CPU: return on_cpu && !task->resync_committed;
    case GH_MSG_TASK_PREEMPT:
    case GH_MSG_TASK_YIELD: return runnable && !on_cpu && !task->resync_committed;
    default: return false;
  }
}

template <typename TaskType, AllocatorLocking Locking>
void BasicDispatchScheduler<TaskType, Locking>::ForgetTask(TaskType* task, const Message& msg,
                                                  bool dead) {
  const uint32_t sw_index = task->sw_index;
  const uint64_t gtid = task->gtid;
  if (dead) {
    TaskDead(task, msg);
  } else {
    TaskDeparted(task, msg);
  }
  enclave()->FreeTaskStatusWord(sw_index, gtid);
}

template <typename TaskType, AllocatorLocking Locking>
bool BasicDispatchScheduler<TaskType, Locking>::Resync(TaskType* task) {
  const StatusWord& sw = task->status_word;
  const uint32_t lost = sw.msgs_lost();
  TaskSnapshot snap;
  snap.barrier = sw.barrier();  // acquire: the fields below are at least this new
  const uint32_t flags = sw.flags();
  snap.runnable = flags & GH_SW_TASK_RUNNABLE;
  snap.on_cpu = flags & GH_SW_TASK_ONCPU;
  snap.cpu = sw.cpu();
  task->msgs_lost_seen = lost;
  stats().Count(kCtrTaskResyncs);
  if (sw.gtid() != task->gtid || (flags & GH_SW_TASK_CANFREE) || !(flags & GH_SW_INUSE)) {
    // Its DEAD or DEPARTED was lost: forget it as if it had arrived.
    gh_msg m = {};
    m.hdr.type = GH_MSG_TASK_DEPARTED;
    m.hdr.length = sizeof(m);
    m.hdr.seqnum = snap.barrier;
    m.hdr.cpu = static_cast<uint32_t>(snap.cpu);
    m.gtid = task->gtid;
    ForgetTask(task, Message(&m), /*dead=*/false);
    return false;
  }
  task->seqnum.store(snap.barrier);
  task->resynced = true;
  task->resync_barrier = snap.barrier;
  task->resync_flags = flags;
  task->resync_window = true;
  task->resync_committed = false;
  TaskResync(task, snap);
  return true;
}

template <typename TaskType, AllocatorLocking Locking>
void BasicDispatchScheduler<TaskType, Locking>::RecoverLostMessages(
    const std::function<bool(const TaskType*)>& mine, bool adopt) {
  std::vector<TaskType*> lost;
  allocator_.ForEachTask([&](TaskType* t) {
    if (mine(t) && t->status_word.msgs_lost() != t->msgs_lost_seen) lost.push_back(t);
    return true;
  });
  for (TaskType* t : lost) Resync(t);
  if (!adopt) return;
  // Words freed but still in the backend's batch would look like tasks
  // that came and went unseen, and be freed twice.
  enclave()->FlushStatusWordFrees();
  for (uint32_t i = 0; i < GH_MAX_TASKS; ++i) {
    const StatusWord sw = enclave()->TaskStatusWord(i);
    if (!sw.in_use() || sw.msgs_lost() == 0) continue;
    const uint64_t gtid = sw.gtid();
    if (gtid == GH_NULL_GTID || allocator_.GetTask(gtid) != nullptr) continue;
    if (sw.can_free()) {
      // Came and went unseen (its TASK_NEW, if still unread, is then
      // skipped: the word is no longer its).
      enclave()->FreeTaskStatusWord(i, gtid);
      continue;
    }
    // Its TASK_NEW was lost.
    AdoptFromStatusWord(i, sw);
  }
}

template <typename TaskType, AllocatorLocking Locking>
bool BasicDispatchScheduler<TaskType, Locking>::AdoptFromStatusWord(uint32_t i, const StatusWord& sw) {
  gh_msg m = {};
  m.hdr.type = GH_MSG_TASK_NEW;
  m.hdr.length = sizeof(m);
  m.hdr.seqnum = sw.barrier();
  m.gtid = sw.gtid();
  m.task_new.sw_index = i;
  m.task_new.runnable = 0;
  auto [task, created] = allocator_.GetOrCreate(m.gtid, sw);
  if (!created) return false;
  task->sw_index = i;
  task->allowed = cpus();
  TaskNew(task, Message(&m));
  stats().Count(kCtrTasksAdopted);
  return Resync(task);
}

template <typename TaskType, AllocatorLocking Locking>
int BasicDispatchScheduler<TaskType, Locking>::DiscoverTasks() {
  int adopted = 0;
  for (uint32_t i = 0; i < GH_MAX_TASKS; ++i) {
    const StatusWord sw = enclave()->TaskStatusWord(i);
    const uint64_t gtid = sw.gtid();
    if (!sw.in_use() || sw.can_free() || gtid == GH_NULL_GTID) continue;
    if (allocator_.GetTask(gtid) != nullptr) continue;
    if (AdoptFromStatusWord(i, sw)) ++adopted;
  }
  return adopted;
}

template <typename TaskType, AllocatorLocking Locking>
void BasicDispatchScheduler<TaskType, Locking>::NoteWait(TaskType* task, const Message& msg) {
  switch (msg.type()) {
    case GH_MSG_TASK_WAKEUP:
    case GH_MSG_TASK_PREEMPT:
    case GH_MSG_TASK_YIELD:
      task->runnable_since_ns = msg.time_ns();
      return;
    case GH_MSG_TASK_ON_CPU: break;
    case GH_MSG_TASK_AFFINITY_CHANGED:
    case GH_MSG_TASK_PRIORITY_CHANGED:
      return;  // a waiting task still waits
    default:
      task->runnable_since_ns = 0;
      return;
  }
  const uint64_t since = std::exchange(task->runnable_since_ns, 0);
  const uint64_t ran = msg.time_ns(), commit = msg.on_cpu().commit_time;
  if (since == 0 || ran < since) return;
  if (msg.bpf_picked()) {
    stats().NoteHop(kHopWaitToPick, ran - since);
  } else if (commit >= since && commit <= ran) {
    // Committed since it became runnable (an older commit_time: the
    // kernel ran it by itself, no decision to time).
    stats().NoteHop(kHopWaitToCommit, commit - since);
    stats().NoteHop(kHopCommitToRun, ran - commit);
  }
}

template <typename TaskType, AllocatorLocking Locking>
void BasicDispatchScheduler<TaskType, Locking>::DispatchMessage(const Message& msg) {
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

  TaskType* task = allocator_.GetTask(msg.gtid());
  if (msg.type() == GH_MSG_TASK_NEW) {
    if (task != nullptr) {
      // Admitted already by a resync that found its TASK_NEW missing.
      GH_CHECK_MSG(AppliedByResync(task, msg), "TASK_NEW for a known task: " + msg.ToString());
      stats().Count(kCtrMsgsSkipped);
      return;
    }
    const gh_payload_task_new& p = msg.task_new();
    const StatusWord sw = enclave()->TaskStatusWord(p.sw_index);
    if (sw.gtid() != msg.gtid()) {
      // Gone, and its word freed by a recovery that saw it leave first.
      stats().Count(kCtrUnknownTaskMsgs);
      return;
    }
    task = allocator_.GetOrCreate(msg.gtid(), sw).first;
    task->sw_index = p.sw_index;
    task->allowed = cpus();
    TaskNew(task, msg);  // sets task->seqnum
    return;
  }
  if (task == nullptr) {
    // The kernel side admitted the task before this agent started, or a
    // recovery already forgot it: there is nothing consistent to do.
    stats().Count(kCtrUnknownTaskMsgs);
    return;
  }
  // A message of this task was lost before this one: resync first (the
  // handlers expect the states in between), which usually covers this
  // message too.
  if (task->status_word.msgs_lost() != task->msgs_lost_seen && !Resync(task)) {
    stats().Count(kCtrMsgsSkipped);
    return;
  }
  const bool applied = AppliedByResync(task, msg);
  if (msg.seqnum() > task->resync_barrier) task->resync_window = false;
  if (applied) {
    stats().Count(kCtrMsgsSkipped);
    if (msg.seqnum() > task->seqnum) task->seqnum.store(msg.seqnum());
    return;
  }
  if (msg.type() == GH_MSG_TASK_ON_CPU && msg.bpf_picked())
    stats().Count(kCtrBpfPicksSeen);
  NoteWait(task, msg);

  bool advance = true;
  switch (msg.type()) {
    case GH_MSG_TASK_WAKEUP: TaskRunnable(task, msg); break;
    case GH_MSG_TASK_BLOCKED: TaskBlocked(task, msg); break;
    case GH_MSG_TASK_PREEMPT: TaskPreempted(task, msg); break;
    case GH_MSG_TASK_YIELD: TaskYield(task, msg); break;
    case GH_MSG_TASK_DEAD:
    case GH_MSG_TASK_DEPARTED:
      advance = false;  // the handler frees the task
      ForgetTask(task, msg, msg.type() == GH_MSG_TASK_DEAD);
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
