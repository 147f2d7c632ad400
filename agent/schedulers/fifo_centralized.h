// SPDX-License-Identifier: Apache-2.0
// fifo_centralized.h: the centralized FIFO scheduler (ghOSt's
// schedulers/fifo/centralized), on the abstract Enclave.
//
// One global agent decides; every other agent parks in LocalYield. Each
// iteration the global agent drains the default channel, then
// GlobalSchedule():
//   1. picks the available CPUs: not held by a higher class, and with no
//      task of ours on them (slices are the kernel's: a task whose slice
//      ran out comes back by itself, as TASK_PREEMPT with slice_ended);
//   2. dequeues tasks in FIFO order, skipping (for one round) tasks that are
//      still on a CPU or have unread messages (Tseq != status-word barrier),
//      and opens a transaction per CPU, preferring the CPU the task last
//      ran on, then idle CPUs; the global agent's own CPU comes last;
//   3. commits all of them as one group; every outcome is known at once: a
//      success is TaskOnCpu, a failure requeues the task at the front with
//      prio_boost;
//   4. returns tasks that yielded during the round to the queue.
// The global agent spins while rounds make progress and parks (LocalYield)
// after `spin` without any, so that its CPU runs workload too; a message on
// the default channel (tied to the global agent) wakes it. It parks at
// once after giving its own CPU to a task, and a task of ours waiting on
// its CPU never waits longer than kOwnCpuHold for it: past that, the agent
// yields its CPU to that task for the task's slice.
// When a higher class takes the global CPU (GH_SW_BOOST_PRIO in the agent's
// status word) the agent hands the global role to the nearest available CPU
// (PickNextGlobalCPU, in Topology::NearestFirst order: SMT sibling, L3
// sibling, NUMA node, any; the kernel side uses the same order), pings that
// agent and parks itself on its next iteration.
//
// With the kernel's fast path (bpf_pick) the fast path owns new, woken and
// preempted tasks (messages flagged BPF_QUEUED): the agent tracks them
// (kBpfQueued) but never commits them; it learns that one runs from
// TASK_ON_CPU with BPF_PICKED.
//
// Lost messages (a full channel): after each drain the global agent
// resyncs the tasks whose status word counts a loss (TaskResync); a
// runnable one waiting somewhere joins the front of the agent's queue, or
// with the fast path on, the fast path's queue (released to it if it waits
// in the agent's DSQ).
//
// Thread safety: scheduler state is used by the agent that holds the global
// role, inside global_mu(). Who holds the role is the kernel's word
// (Enclave::GlobalCpu), never a copy: it moves by Enclave::MoveGlobal, a
// compare-and-swap from the holder, either here (PickNextGlobalCPU) or
// kernel-side, when a higher class holds the global CPU for too long. A
// move bumps both agents' Aseq, so an agent that decided to park just
// before it became global retries instead (no lost wakeup). global_mu()
// keeps the new holder out of the scheduler until the old one, possibly
// stopped in mid-round, has finished that round. Since every use of the
// tasks is inside it (or before the agent threads start), the task
// allocator takes no lock of its own (AllocatorLocking::kCallerSerialized).
#ifndef GHOST_HYBRID_AGENT_SCHEDULERS_FIFO_CENTRALIZED_H_
#define GHOST_HYBRID_AGENT_SCHEDULERS_FIFO_CENTRALIZED_H_

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/time/time.h"
#include "agent/lib/agent.h"
#include "agent/lib/scheduler.h"

namespace gh {

// States of a task and their legal transitions:
//   kBlocked   -> kRunnable (WAKEUP) | kBpfQueued (WAKEUP, fast path)
//   kRunnable  -> kQueued (Enqueue) | kOnCpu (commit, BPF pick) | kYielding
//   kQueued    -> kRunnable (Dequeue) | kBlocked (BLOCKED while queued)
//   kOnCpu     -> kRunnable (preempted) | kBlocked | kYielding (YIELD)
//                 | kBpfQueued (preempted or yielded, fast path)
//   kYielding  -> kQueued (end of the round) | kBlocked
//   kBpfQueued -> kOnCpu (BPF pick) | kBlocked
enum class CentralizedTaskState { kBlocked, kRunnable, kQueued, kOnCpu, kYielding, kBpfQueued };

struct CentralizedFifoTask : Task {
  CentralizedFifoTask(uint64_t gtid, StatusWord sw) : Task(gtid, sw) {}
  bool oncpu() const { return state == CentralizedTaskState::kOnCpu; }
  bool queued() const { return state == CentralizedTaskState::kQueued; }

  CentralizedTaskState state = CentralizedTaskState::kBlocked;
  int cpu = -1;             // valid while kOnCpu
  bool preempted = false;   // requeue at the front
  bool prio_boost = false;  // requeue at the front
};

struct CentralizedFifoConfig {
  int global_cpu = -1;  // -1 or not in the enclave: its first CPU
  // The slice of each commit, enforced by the kernel.
  absl::Duration preemption_time_slice = absl::InfiniteDuration();
  // How long the global agent spins without progress before it parks. A
  // spinning agent keeps its CPU from running workload and, in an emulated
  // guest, delays the other vCPUs' interrupts (bench/latency/FINDINGS.md,
  // eighth run): none by default.
  absl::Duration spin = absl::ZeroDuration();
  // How long a task waits for another CPU before it may take the global
  // agent's own CPU. Work there is preempted whenever the agent wakes, and
  // an agent CPU that never idles delays every wakeup IPI the other CPUs
  // get in an emulated guest (bench/latency/FINDINGS.md); so that CPU is
  // for overload, which a wait this long shows. The agent parks with a
  // timer for it.
  absl::Duration global_cpu_after = absl::ZeroDuration();
};

class CentralizedFifoScheduler
    : public BasicDispatchScheduler<CentralizedFifoTask, AllocatorLocking::kCallerSerialized> {
 public:
  using BarrierToken = StatusWord::BarrierToken;

  CentralizedFifoScheduler(Enclave* enclave, CpuList cpus,
                           const CentralizedFifoConfig& config);

  // Unties the default channel from agents (the global agent polls it) and
  // hands the global role to the configured CPU.
  void EnclaveReady() override;
  bool Empty() const override { return num_tasks_ == 0; }
  std::string DescribeTasks() const override;

  // What a scheduling round did.
  struct Round {
    int commits = 0;         // transactions committed (either outcome)
    bool own_cpu = false;    // a task was given the global agent's own CPU
    // When a task left waiting may take the global agent's CPU (park no
    // longer than that); InfiniteFuture: none.
    absl::Time own_cpu_due = absl::InfiniteFuture();
  };
  // One scheduling round (see the file comment). Called by the global agent.
  Round GlobalSchedule(const StatusWord& agent_sw, BarrierToken agent_sw_last);
  // Moves the global role off `this_cpu`. Returns true iff `this_cpu` no
  // longer holds it (moved here or, meanwhile, by the kernel side).
  bool PickNextGlobalCPU(BarrierToken agent_barrier, int this_cpu);
  int GetGlobalCPUId() const { return enclave()->GlobalCpu(); }
  // Called by the global agent inside global_mu() before each round:
  // counts a migration when the holder changed since the last round.
  void NoteGlobalRound(int cpu);
  // Called by the global agent after draining: if the kernel side dropped
  // messages since the last call, resyncs the tasks that lost one (and
  // adopts those whose TASK_NEW was lost). Returns true iff it did.
  bool RecoverIfMessagesLost();
  // Serializes the scheduling rounds of the agents (see the file comment).
  std::mutex& global_mu() const { return global_mu_; }
  absl::Duration spin() const { return spin_; }
  Channel& GetDefaultChannel() { return enclave()->DefaultChannel(); }
  // Returns true iff no higher class holds `cpu`.
  bool Available(int cpu) const;

  // Introspection (tests, the CLI).
  std::vector<uint64_t> RunqueueGtids() const;
  // Returns the gtid the scheduler believes runs on `cpu`, or 0.
  uint64_t CurrentGtid(int cpu) const;
  size_t YieldingCount() const { return yielding_tasks_.size(); }

 protected:
  void TaskNew(CentralizedFifoTask* task, const Message& msg) override;
  void TaskRunnable(CentralizedFifoTask* task, const Message& msg) override;
  void TaskBlocked(CentralizedFifoTask* task, const Message& msg) override;
  void TaskPreempted(CentralizedFifoTask* task, const Message& msg) override;
  void TaskYield(CentralizedFifoTask* task, const Message& msg) override;
  void TaskDead(CentralizedFifoTask* task, const Message& msg) override;
  void TaskDeparted(CentralizedFifoTask* task, const Message& msg) override;
  void TaskOnCpu(CentralizedFifoTask* task, const Message& msg) override;
  void TaskResync(CentralizedFifoTask* task, const TaskSnapshot& snap) override;

 private:
  struct alignas(64) CpuState {
    CentralizedFifoTask* current = nullptr;
  };

  // REQUIRES: task->state == kRunnable. Front iff prio_boost or preempted.
  void Enqueue(CentralizedFifoTask* task);
  CentralizedFifoTask* Dequeue();
  void RemoveFromRunqueue(CentralizedFifoTask* task);
  // Parks `task` for the rest of this round. REQUIRES: kOnCpu or kRunnable.
  void Yield(CentralizedFifoTask* task);
  void RemoveYielding(CentralizedFifoTask* task);
  // The task is known to run on `cpu`.
  void TaskOnCpu(CentralizedFifoTask* task, int cpu);
  // The fast path owns it now (a message flagged BPF_QUEUED).
  void ToBpfQueue(CentralizedFifoTask* task);
  // The CPU of `available` to give `task`, among those it is allowed on:
  // where it last ran, else one of `idle` (GH_SW_CPU_AVAIL), else any; the
  // global agent's own CPU only if none other and the task has waited
  // global_cpu_after (`own_cpu_due`: when it will have). -1 if none.
  int PickCpu(const CentralizedFifoTask* task, const CpuList& available, const CpuList& idle,
              int global_cpu, absl::Time now, absl::Time* own_cpu_due) const;
  // The task left its CPU: forget it as that CPU's current.
  void ClearCurrent(CentralizedFifoTask* task);
  // Takes the task out of every structure (before it is freed).
  void Detach(CentralizedFifoTask* task);

  std::vector<CpuState> cpu_states_;
  std::deque<CentralizedFifoTask*> run_queue_;
  std::vector<CentralizedFifoTask*> yielding_tasks_;
  const int initial_global_cpu_;
  int last_round_cpu_ = -1;  // guarded by global_mu_
  LostMessageWatch lost_watch_;  // guarded by global_mu_
  mutable std::mutex global_mu_;
  const absl::Duration preemption_time_slice_;
  const absl::Duration spin_;
  const absl::Duration global_cpu_after_;
  int num_tasks_ = 0;
};

class CentralizedFifoAgent : public Agent {
 public:
  CentralizedFifoAgent(Enclave* enclave, int cpu,
                       CentralizedFifoScheduler* scheduler)
      : Agent(enclave, cpu), scheduler_(scheduler) {}

  // Non-global agents LocalYield; the global one hands off if boosted, else
  // drains the default channel and runs GlobalSchedule.
  void Step() override;
  bool SchedulerEmpty() const override { return scheduler_->Empty(); }

 private:
  CentralizedFifoScheduler* const scheduler_;
  absl::Time idle_since_ = absl::InfiniteFuture();  // no progress since
  absl::Time awake_since_ = absl::InfinitePast();   // last woken from a park
};

class FullCentralizedFifoAgent : public FullAgent {
 public:
  // Creates the scheduler over all enclave CPUs and one agent per CPU.
  FullCentralizedFifoAgent(Enclave* enclave, const CentralizedFifoConfig& config);
  ~FullCentralizedFifoAgent() override;

  CentralizedFifoScheduler* scheduler() const override { return scheduler_.get(); }

 protected:
  std::unique_ptr<Agent> MakeAgent(int cpu) override;

 private:
  std::unique_ptr<CentralizedFifoScheduler> scheduler_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_SCHEDULERS_FIFO_CENTRALIZED_H_
