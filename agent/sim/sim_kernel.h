// SPDX-License-Identifier: Apache-2.0
// sim_kernel.h: SimKernel, a deterministic simulated kernel side, and the
// Enclave the agents use on it.
//
// It models what the BPF side does, with the same ABI structs and codes:
// virtual CPUs (some may be held by a higher class for a while), scripted
// tasks (sim_workload.h), per-task Tseq and per-agent Aseq status words,
// channels of gh_msg records, transaction slots validated in the kernel's
// order, agents that are parked or active, and optionally the fast path
// (`bpf_pick`: new and woken tasks go on a FIFO runqueue that idle CPUs pop).
//
// Semantics (identical to the kernel side):
//  - every task message first increments the task's Tseq, then is published
//    carrying it; a message on a channel tied to an agent (Channel::SetAgent)
//    increments that agent's Aseq and wakes it if parked (TASK_ON_CPU and
//    CPU_TICK do not wake); CPU_BUSY/CPU_AVAILABLE/CPU_TICK increment the
//    CPU's agent Aseq and carry it;
//  - an active agent occupies its CPU: waking one preempts the managed task
//    there (TASK_PREEMPT); an agent whose CPU a higher class holds still gets
//    to run (it is "boosted", GH_SW_BOOST_PRIO) so it can hand off and yield;
//  - a COMPLETE transaction preempts the managed task on the target CPU,
//    parks the CPU's agent if it was active (a local commit gives the CPU to
//    the task) and runs the target there, followed by TASK_ON_CPU;
//  - a task that exits on a CPU gets TASK_BLOCKED, then TASK_DEAD.
//
// Determinism: one thread, virtual time, an event queue ordered by (time,
// insertion sequence), SimRandom for the only random choice (wake jitter).
// Agents are not threads: the kernel calls Agent::Step() of each active agent
// every `agent_step` of virtual time (or tests call StepAgent themselves when
// `auto_step_agents` is off). LocalYield parks without blocking.
//
// Invariant checks (violations()): a task never runs on two CPUs, a CPU never
// runs two tasks, only runnable tasks start running.
//
// Thread safety: none; everything runs on the caller's thread.
#ifndef GHOST_HYBRID_AGENT_SIM_SIM_KERNEL_H_
#define GHOST_HYBRID_AGENT_SIM_SIM_KERNEL_H_

#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/lib/enclave.h"
#include "agent/sim/sim_channel.h"
#include "agent/sim/sim_random.h"
#include "agent/sim/sim_trace.h"
#include "agent/sim/sim_workload.h"

namespace gh {

struct SimConfig {
  Topology topology = Topology::Synthetic(4, 1, 4, 1);
  CpuList enclave_cpus;  // empty: every CPU of `topology`
  uint64_t seed = 1;
  bool bpf_pick = false;
  absl::Duration agent_step = absl::Microseconds(1);  // one Step() of an agent
  absl::Duration wake_latency = absl::Microseconds(1);  // Ping/message to Step
  absl::Duration wake_jitter = absl::ZeroDuration();  // + random [0, jitter)
  absl::Duration msg_delay = absl::ZeroDuration();  // Tseq bump to publication
  absl::Duration tick_period = absl::ZeroDuration();  // 0: no CPU_TICK
  bool auto_step_agents = true;
  size_t channel_capacity = 16384;  // records; more are dropped (and counted)
  bool record_trace = true;
};

enum class SimTaskState { kNotArrived, kRunnable, kRunning, kBlocked, kEnded };

class SimKernel : public Enclave {
 public:
  explicit SimKernel(SimConfig config);
  ~SimKernel() override;

  // ------------------------------------------------------------- Enclave
  absl::Time Now() const override;
  StatusWord AgentStatusWord(int cpu) override;
  StatusWord TaskStatusWord(uint32_t sw_index) override;
  void FreeTaskStatusWord(uint32_t sw_index, uint64_t gtid) override;
  uint64_t MessagesDropped() const override { return kstats_[GH_STAT_MSGS_DROPPED]; }
  Channel& DefaultChannel() override { return *channels_[0]; }
  Channel& CpuChannel(int cpu) override;
  bool CommitRunRequests(const CpuList& cpus) override;
  bool CommitSyncRequests(const CpuList& cpus) override;
  bool LocalYield(int cpu, uint32_t agent_barrier, uint32_t run_flags,
                  absl::Time wake_by = absl::InfiniteFuture()) override;
  absl::Status Ping(int cpu) override;
  bool MoveGlobal(int from, int to) override;
  int GlobalCpu() const override { return global_cpu_; }
  bool bpf_pick() const override { return config_.bpf_pick; }
  absl::Status RunqueueOp(uint64_t gtid, gh_rq_op op) override;

  // ------------------------------------------------------------ workload
  // Adds a task that arrives at spec.arrival (virtual time since start; in
  // the past means now). Returns its gtid.
  uint64_t AddTask(const SimTaskSpec& spec);
  // A higher class holds `cpu` during [from, to) (virtual times since start).
  void AddHigherClassBusy(int cpu, absl::Duration from, absl::Duration to);
  // Immediate external events on a task (between Run* calls or in a hook).
  void SetAffinity(uint64_t gtid, const CpuList& mask);
  void SetNice(uint64_t gtid, int nice);
  void Depart(uint64_t gtid);
  // Called with the commit mask at the start of every CommitRunRequests,
  // before any slot is validated: lets tests model a race with the agent.
  void SetBeforeCommitHook(std::function<void(const CpuList&)> hook) {
    before_commit_ = std::move(hook);
  }

  // ------------------------------------------------------------- running
  // Processes events up to now + d; the clock then reads now + d.
  void RunFor(absl::Duration d);
  // Runs until every added task has ended. Returns DeadlineExceeded (naming
  // the unfinished tasks) if virtual time `limit` passes first.
  absl::Status RunUntilDone(absl::Duration limit);
  // Calls Step() of the agent of `cpu` now. REQUIRES: an attached agent.
  void StepAgent(int cpu);

  // ----------------------------------------------------------- inspection
  absl::Duration elapsed() const { return absl::Nanoseconds(now_); }
  // Returns the gtid running on `cpu`, or 0.
  uint64_t running_on(int cpu) const;
  // Returns the CPU `gtid` runs on, or -1.
  int task_cpu(uint64_t gtid) const;
  SimTaskState task_state(uint64_t gtid) const;
  // Returns the index of the task's status word. REQUIRES: it arrived.
  uint32_t sw_index(uint64_t gtid) const;
  uint32_t tseq(uint64_t gtid) const;
  uint32_t aseq(int cpu) const { return agent_sw_[cpu].barrier; }
  bool agent_active(int cpu) const { return cpus_[cpu].agent_active; }
  bool cpu_busy(int cpu) const { return cpus_[cpu].busy > 0; }
  int tasks_added() const { return static_cast<int>(tasks_.size()); }
  int tasks_ended() const { return ended_; }
  const std::vector<TraceRecord>& trace() const { return trace_; }
  const std::vector<std::string>& violations() const { return violations_; }
  // Returns the live records of the fast-path runqueue, head first.
  std::vector<gh_rq_entry> bpf_runqueue() const;
  uint64_t kernel_stat(gh_stat s) const { return kstats_[s]; }
  SimChannel& channel(int id) { return *channels_[id]; }

 protected:
  gh_txn* TxnSlot(int cpu) override { return &txns_[cpu]; }
  void AgentAttached(int cpu) override;

 private:
  friend class SimChannel;

  enum class Ev : uint8_t { kArrive, kRunEnd, kWake, kAgentStep, kAgentTimer,
                            kBusyStart, kBusyEnd, kPublish, kTick, kSliceEnd };
  struct Event {
    int64_t t;
    uint64_t seq;
    Ev kind;
    int a;
    uint64_t b;
  };
  struct Later {
    bool operator()(const Event& x, const Event& y) const {
      return x.t != y.t ? x.t > y.t : x.seq > y.seq;
    }
  };
  struct Task {
    uint64_t gtid;
    SimTaskSpec spec;
    SimTaskState state = SimTaskState::kNotArrived;
    size_t pc = 0;
    int64_t remaining = -1;  // ns left of script[pc] if it is kRun; -1 unset
    int64_t seg_start = 0;   // when the current run segment started
    int cpu = -1, last_cpu = -1;
    uint32_t sw = 0;
    int channel = GH_DEFAULT_CHANNEL;
    CpuList affinity;
    uint64_t gen = 0;      // bumped on every transition; stale events ignored
    int64_t slice = 0;     // ns of its commit's slice; 0: none (runs on)
    uint32_t rq_seq = 0;   // matches SimRqEntry.seq while queued
    bool bpf_owned = false;  // waiting in the fast path's queue
    int64_t run_start = 0;
    uint64_t runtime = 0;
  };
  struct Cpu {
    int current = -1;  // task index
    int busy = 0;      // nesting depth of higher-class windows
    bool agent_active = false;
    bool step_pending = false;
    uint64_t step_gen = 0;
    uint32_t cpu_seq = 0;
  };

  // sim_kernel.cc: events, agents, channels.
  void Schedule(int64_t t, Ev kind, int a, uint64_t b);
  void Handle(const Event& ev);
  void Trace(int cpu, TraceKind kind, uint64_t gtid, uint32_t arg);
  void Violation(const std::string& what);
  void ActivateAgent(int cpu);
  void ParkAgent(int cpu, bool repick);
  void ScheduleStep(int cpu, int64_t delay);
  void RunAgentStep(int cpu, uint64_t gen);
  uint32_t BumpAseq(int cpu);
  void RefreshCpuAvail(int cpu);
  void TakeCpu(int cpu);
  void ReleaseCpu(int cpu);
  void Deliver(int channel, const gh_msg& msg, int aseq_done_cpu);
  void Publish(int channel, const gh_msg& msg, int aseq_done_cpu);
  void SendCpuMsg(int cpu, int type, uint32_t reason);
  void Tick();
  absl::Status AssociateTask(int channel, uint64_t gtid, uint32_t sw_index, uint32_t barrier);
  absl::Status SetChannelAgent(int channel, int cpu);
  // The agent @channel wakes and advances, or -1.
  int ChannelAgent(int channel) const;

  // sim_tasks.cc: task life cycle.
  int Find(uint64_t gtid) const;
  void Arrive(int ti);
  void Wake(int ti);
  void StartRunning(int ti, int cpu, bool bpf_picked);
  int StopRunning(int ti);
  void Continue(int ti);
  void RunEnd(int ti);
  // Takes the task off its CPU with TASK_PREEMPT (@msg_flags, e.g.
  // GH_MSG_F_SLICE_ENDED).
  void Preempt(int ti, bool repick, uint32_t msg_flags = 0);
  // The task's slice ran out: preempt it if anything waits, else renew it
  // (the kernel side's ops.dispatch does the same).
  void SliceEnd(int ti);
  void Exit(int ti);
  void DepartTask(int ti);
  // Sets t.state, keeping nr_runnable_ (tasks waiting for a CPU) exact.
  void SetState(Task& t, SimTaskState state) {
    nr_runnable_ += (state == SimTaskState::kRunnable) - (t.state == SimTaskState::kRunnable);
    t.state = state;
  }
  void ApplyAffinity(int ti, const CpuList& mask);
  void SendAffinityMsg(int ti);  // TASK_AFFINITY_CHANGED with its mask
  void ApplyNice(int ti, int nice);
  void SendTaskMsg(int ti, int type, uint32_t flags, gh_msg msg);
  void EndTask(int ti, int type);
  gh_status_word& Sw(int ti) { return task_sw_[tasks_[ti].sw]; }

  // sim_txn.cc: transactions and the fast path.
  // Validates `txn` for `cpu` (bpf/txn_spec.h); *ti: the target's task
  // index, -1 for none (GH_IDLE_GTID, or not found).
  uint32_t ValidateTxn(int cpu, const gh_txn& txn, int* ti);
  // Carries out a valid `txn` for `cpu` (target task index `ti`).
  void LatchTxn(int cpu, const gh_txn& txn, int ti);
  // Claims `cpu`'s slot if it is OPEN.
  bool ClaimTxn(int cpu);
  // Writes `cpu`'s outcome (after commit_time, as the kernel side does).
  void FinishTxn(int cpu, uint32_t outcome);
  void RqPush(int ti, uint32_t flags);
  // A fast-path queue record and the task's rq_seq when it was queued.
  struct SimRqEntry {
    gh_rq_entry e;
    uint32_t seq;
  };
  bool RqLive(const SimRqEntry& r) const;
  void TryBpfPick(int cpu);
  void KickIdleCpus();

  const SimConfig config_;
  SimRandom rng_;
  int64_t now_ = 0;
  uint64_t next_seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, Later> events_;

  std::vector<Cpu> cpus_;
  std::vector<Task> tasks_;
  int nr_runnable_ = 0;  // tasks in kRunnable: waiting for a CPU (SetState)
  std::unordered_map<uint64_t, int> by_gtid_;
  int ended_ = 0;
  int global_cpu_ = -1;
  int suppress_wake_cpu_ = -1;  // see LatchTxn

  std::vector<gh_status_word> agent_sw_;
  std::vector<gh_status_word> task_sw_;
  std::deque<uint32_t> free_sw_;
  std::vector<gh_txn> txns_;
  std::vector<std::unique_ptr<SimChannel>> channels_;
  std::vector<int> agent_channel_;  // cpu -> channel tied to its agent, or -1
  std::deque<std::pair<int, gh_msg>> in_flight_;  // msg_delay > 0
  std::deque<SimRqEntry> rq_;
  uint64_t kstats_[GH_NR_STATS] = {};

  std::function<void(const CpuList&)> before_commit_;
  std::vector<TraceRecord> trace_;
  std::vector<std::string> violations_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_SIM_SIM_KERNEL_H_
