// SPDX-License-Identifier: Apache-2.0
// task.h: Seqnum, Task and TaskAllocator: the agent's record of one managed
// thread, keyed by gtid.
//
// Every message about a task carries the task's new Tseq. The agent keeps the
// seqnum of the last message it consumed in Task::seqnum and passes it as a
// transaction's target barrier; the kernel side rejects the transaction
// (TARGET_STALE) if the task's status-word barrier has moved since. The kernel
// may consume messages itself (the fast path), so consecutive messages can
// skip values: Advance only requires the seqnum to grow.
//
// Thread safety: Seqnum is atomic. Task fields other than seqnum belong to the
// agent that handles the task's messages. TaskAllocator is internally locked.
#ifndef GHOST_HYBRID_AGENT_LIB_TASK_H_
#define GHOST_HYBRID_AGENT_LIB_TASK_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "agent/lib/check.h"
#include "agent/lib/status_word.h"
#include "agent/lib/topology.h"

namespace gh {

// A sequence number read by other threads (stats, a global agent inspecting
// a task that a per-CPU agent updates).
class Seqnum {
 public:
  // Relaxed: callers that only compare or print need no ordering.
  operator uint32_t() const { return v_.load(std::memory_order_relaxed); }
  Seqnum& operator=(uint32_t v) {
    v_.store(v, std::memory_order_relaxed);
    return *this;
  }
  // Acquire/release: pairs a reader on another agent thread with the writer,
  // so state the writer updated before store() is visible after load().
  uint32_t load() const { return v_.load(std::memory_order_acquire); }
  void store(uint32_t v) { v_.store(v, std::memory_order_release); }

 private:
  std::atomic<uint32_t> v_{0};
};

struct Task {
  Task(uint64_t gtid, StatusWord sw) : gtid(gtid), status_word(sw) {}
  virtual ~Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  // Returns OK and records `next` iff it is newer than the current seqnum;
  // returns FailedPrecondition (and changes nothing) if it went backwards or
  // repeated, which means messages were reordered or replayed.
  absl::Status TryAdvance(uint32_t next) {
    const uint32_t cur = seqnum;
    if (next <= cur) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "gtid %#x: seqnum %u does not advance %u", gtid, next, cur));
    }
    seqnum.store(next);
    return absl::OkStatus();
  }

  // Like TryAdvance, but a seqnum that does not grow is fatal.
  void Advance(uint32_t next) {
    const absl::Status s = TryAdvance(next);
    GH_CHECK_MSG(s.ok(), std::string(s.message()));
  }

  const uint64_t gtid;
  StatusWord status_word;
  uint32_t sw_index = 0;  // from TASK_NEW: the word to free when it leaves
  Seqnum seqnum;
  // Lost messages: the word's msgs_lost when the agent last synced the task
  // with it, and whether it ever resynced (then a message the resync
  // already accounted for is skipped, not fatal; see scheduler.h).
  uint32_t msgs_lost_seen = 0;
  bool resynced = false;
  uint32_t resync_barrier = 0;  // the Tseq the last resync read
  uint32_t resync_flags = 0;    // and the flags it read after it
  // Open from a resync until the next message is handled: while open,
  // message resync_barrier + 1 is skipped if the flags already showed its
  // change -- except a PREEMPT or YIELD once the agent has committed the
  // task since (resync_committed): that one answers the commit.
  bool resync_window = false;
  bool resync_committed = false;
  // The enclave CPUs it may run on: all of them at TASK_NEW, then what
  // TASK_AFFINITY_CHANGED says (BasicDispatchScheduler keeps it). Empty: it
  // may run on none of them, and the kernel side runs it itself.
  CpuList allowed;
  // The kernel's clock (ns) when it last became runnable off a CPU
  // (WAKEUP, PREEMPT, YIELD); 0 while it runs or sleeps. For HopLatency.
  uint64_t runnable_since_ns = 0;
};

// How a TaskAllocator keeps its map safe: with a lock of its own around each
// call (kThreadSafe: several agent threads decide at once, as in the per-CPU
// model), or by its scheduler serializing every call (kCallerSerialized: the
// centralized model, whose calls all come inside its round lock or before
// the agent threads start). The lock is about a fifth of the work the
// agent does per message (bench/latency/FINDINGS.md, the thirteenth run),
// so a scheduler that serializes anyway does without it. ghOSt has the
// same pair (SingleThreadMallocTaskAllocator, ThreadSafeMallocTaskAllocator).
enum class AllocatorLocking { kThreadSafe, kCallerSerialized };

// Owns the agent's tasks. TaskType must derive from Task and be constructible
// from (gtid, StatusWord). Thread safety: as `Locking` says.
template <typename TaskType, AllocatorLocking Locking = AllocatorLocking::kThreadSafe>
class TaskAllocator {
 public:
  // Returns the task of `gtid`, or nullptr if it is unknown.
  TaskType* GetTask(uint64_t gtid) const {
    Guard g(this);
    auto it = tasks_.find(gtid);
    return it == tasks_.end() ? nullptr : it->second.get();
  }

  // Returns {task, true} after creating the task of `gtid`, or
  // {existing task, false} if it already exists.
  std::pair<TaskType*, bool> GetOrCreate(uint64_t gtid, StatusWord sw) {
    Guard g(this);
    auto& slot = tasks_[gtid];
    if (slot) return {slot.get(), false};
    slot = std::make_unique<TaskType>(gtid, sw);
    return {slot.get(), true};
  }

  // Destroys `task`. REQUIRES: it came from this allocator.
  void FreeTask(TaskType* task) {
    Guard g(this);
    auto it = tasks_.find(task->gtid);
    GH_CHECK(it != tasks_.end() && it->second.get() == task);
    tasks_.erase(it);
  }

  size_t size() const {
    Guard g(this);
    return tasks_.size();
  }

  // Calls fn(task) for every task, in no particular order, until fn returns
  // false. REQUIRES: fn does not call back into the allocator.
  void ForEachTask(const std::function<bool(TaskType*)>& fn) const {
    Guard g(this);
    for (auto& [gtid, task] : tasks_)
      if (!fn(task.get())) return;
  }

 private:
  // Holds mu_ for a call, unless the caller serializes.
  class Guard {
   public:
    explicit Guard(const TaskAllocator* a) : mu_(Locking == AllocatorLocking::kThreadSafe
                                                     ? &a->mu_ : nullptr) {
      if (mu_) mu_->Lock();
    }
    ~Guard() {
      if (mu_) mu_->Unlock();
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    absl::Mutex* const mu_;
  };

  mutable absl::Mutex mu_;
  std::unordered_map<uint64_t, std::unique_ptr<TaskType>> tasks_;  // under mu_ or the caller's
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_TASK_H_
