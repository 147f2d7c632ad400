// SPDX-License-Identifier: Apache-2.0
// status_word.h: StatusWord, a read-only view over one gh_status_word.
//
// Status words live in memory the kernel side writes (an mmapable BPF array
// map on the real backend, a plain array in the simulator); agents read them
// without a system call. Task words carry the task's Tseq, agent words the
// agent's Aseq, both in `barrier`. The kernel side stores the barrier with
// release ordering *before* publishing the message carrying the same value,
// so an agent that loads the barrier with acquire ordering and finds it equal
// to the last seqnum it consumed knows it has seen every message of the task
// (or agent), and sees the flags and fields written before that store.
//
// Thread safety: a StatusWord is a pointer-sized value; any number of
// threads may read through copies of it concurrently.
#ifndef GHOST_HYBRID_AGENT_LIB_STATUS_WORD_H_
#define GHOST_HYBRID_AGENT_LIB_STATUS_WORD_H_

#include <cstdint>

#include "absl/time/time.h"
#include "agent/lib/check.h"
#include "agent/lib/clock.h"
#include "bpf/intf.h"

namespace gh {

class StatusWord {
 public:
  // A Tseq or Aseq value as read from a status word.
  using BarrierToken = uint32_t;

  StatusWord() = default;
  explicit StatusWord(const gh_status_word* sw) : sw_(sw) {}

  // Returns true iff this view points at no status word.
  bool empty() const { return sw_ == nullptr; }

  // Returns the barrier (Tseq or Aseq). REQUIRES: !empty().
  // Acquire: pairs with the kernel side's release store of the barrier, which
  // precedes the message carrying it, so fields written before are visible.
  BarrierToken barrier() const {
    GH_CHECK(sw_ != nullptr);
    return __atomic_load_n(&sw_->barrier, __ATOMIC_ACQUIRE);
  }

  // Returns true iff `prev` is no longer the current barrier.
  bool stale(BarrierToken prev) const { return prev != barrier(); }

  // Returns the gh_sw_flags bits. Acquire for the same reason as barrier().
  uint32_t flags() const {
    GH_CHECK(sw_ != nullptr);
    return __atomic_load_n(&sw_->flags, __ATOMIC_ACQUIRE);
  }

  bool in_use() const { return flags() & GH_SW_INUSE; }
  // Task words.
  bool on_cpu() const { return flags() & GH_SW_TASK_ONCPU; }
  bool runnable() const { return flags() & GH_SW_TASK_RUNNABLE; }
  // The task left (DEAD/DEPARTED sent); the word is the agent's to free.
  bool can_free() const { return flags() & GH_SW_TASK_CANFREE; }
  // Agent words.
  bool cpu_avail() const { return flags() & GH_SW_CPU_AVAIL; }
  bool boosted_priority() const { return flags() & GH_SW_BOOST_PRIO; }
  bool agent_active() const { return flags() & GH_SW_AGENT_ACTIVE; }
  bool agent_global() const { return flags() & GH_SW_AGENT_GLOBAL; }

  // Plain fields: relaxed loads, they are advisory (the barrier orders them).
  uint64_t gtid() const { return __atomic_load_n(&sw_->gtid, __ATOMIC_RELAXED); }
  uint64_t runtime_ns() const {
    return __atomic_load_n(&sw_->runtime, __ATOMIC_RELAXED);
  }
  absl::Time switch_time() const {
    return KernelTime(__atomic_load_n(&sw_->switch_time, __ATOMIC_RELAXED));
  }
  // Returns the CPU the owner runs or last ran on, -1 if never.
  int cpu() const { return __atomic_load_n(&sw_->cpu, __ATOMIC_RELAXED); }
  // Task words: how many of its messages were dropped (a full channel).
  uint32_t msgs_lost() const { return __atomic_load_n(&sw_->msgs_lost, __ATOMIC_ACQUIRE); }
  // Task words: the channel its messages go to.
  uint32_t channel() const { return __atomic_load_n(&sw_->channel, __ATOMIC_RELAXED); }

  const gh_status_word* raw() const { return sw_; }

 private:
  const gh_status_word* sw_ = nullptr;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_STATUS_WORD_H_
