// SPDX-License-Identifier: Apache-2.0
// enclave.h: Enclave, the kernel side as the agents and schedulers see it.
//
// An enclave is the set of CPUs and tasks one scheduler manages, with its
// channels, status words, transaction slots, agents and (optionally) the
// kernel's fast-path runqueue. Schedulers talk only to this interface, so
// the same scheduler source runs on the real sched_ext backend
// (agent/kernel/, over mmapped BPF maps) and on the deterministic simulator
// (agent/sim/). A backend implements the pure virtual methods; they map
// one-to-one onto the kernel side's mechanisms:
//
//   AgentStatusWord/TaskStatusWord  entries of the status-word arrays
//   TxnSlot                         entries of the transaction-slot array
//   CommitRunRequests(cpus)         commit the OPEN slots of `cpus`: outcomes
//                                   known on return (the commit program)
//   CommitSyncRequests(cpus)        the same, all or nothing (a sync group)
//   LocalYield / Ping               park the calling agent / wake one
//   RunqueueOp                      claim a task from / release it to the fast path
//   DefaultChannel / CpuChannel     the ring buffers
//
// Time: Now() is the kernel clock (clock.h); the simulator's is virtual.
//
// Thread safety: backends make every method safe to call from any agent
// thread; AttachAgent happens before agents start.
#ifndef GHOST_HYBRID_AGENT_LIB_ENCLAVE_H_
#define GHOST_HYBRID_AGENT_LIB_ENCLAVE_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/lib/channel.h"
#include "agent/lib/run_request.h"
#include "agent/lib/status_word.h"
#include "agent/lib/topology.h"
#include "bpf/intf.h"

namespace gh {

class Agent;

class Enclave {
 public:
  // `cpus` are the enclave's CPUs. REQUIRES: cpus is a subset of topology.
  Enclave(Topology topology, CpuList cpus);
  virtual ~Enclave();
  Enclave(const Enclave&) = delete;
  Enclave& operator=(const Enclave&) = delete;

  const Topology& topology() const { return topology_; }
  const CpuList& cpus() const { return cpus_; }

  // Returns the kernel clock (clock.h).
  virtual absl::Time Now() const = 0;

  // --- status words
  // REQUIRES: 0 <= cpu < GH_MAX_CPUS.
  virtual StatusWord AgentStatusWord(int cpu) = 0;
  // `sw_index` comes from TASK_NEW. REQUIRES: sw_index < GH_MAX_TASKS.
  virtual StatusWord TaskStatusWord(uint32_t sw_index) = 0;

  // Frees a task status word whose task the scheduler has forgotten (it
  // consumed TASK_DEAD/DEPARTED, or found the word GH_SW_TASK_CANFREE when
  // resyncing). The kernel side reuses a word only after this (ghOSt's
  // CANFREE), so a word read for a task always describes that task. The
  // real backend frees in batches (see FlushStatusWordFrees).
  virtual void FreeTaskStatusWord(uint32_t sw_index, uint64_t gtid) = 0;
  // Hands the batch of freed words to the kernel side now (agents call it
  // after each Step).
  virtual void FlushStatusWordFrees() {}
  // Returns how many messages the kernel side has dropped so far (a full
  // channel). An agent that sees it move resyncs its tasks whose status
  // word counts a loss (GH_SW msgs_lost).
  virtual uint64_t MessagesDropped() const = 0;

  // --- channels
  virtual Channel& DefaultChannel() = 0;
  // The per-CPU channel of `cpu` (the per-CPU model). REQUIRES: cpu in cpus().
  virtual Channel& CpuChannel(int cpu) = 0;

  // --- transactions
  // Returns the RunRequest of `cpu`'s slot. REQUIRES: 0 <= cpu < GH_MAX_CPUS
  // and InitRunRequests() ran.
  RunRequest* GetRunRequest(int cpu);

  // Commits the OPEN slots of `cpus` as one group; every slot holds its
  // outcome when this returns (nothing waits for the target CPUs). Slots of
  // `cpus` that are not OPEN are ignored. Returns true iff every submitted
  // slot COMPLETEd. A COMPLETE slot on the CPU of an active agent gives that
  // CPU to the task and parks the agent: for a local commit (the caller's
  // own CPU) the real backend returns once the agent is woken again (by a
  // message on its channel or a Ping) -- except the global agent, which
  // parks with LocalYield after its round; the simulator returns at once
  // and steps the agent again when it is woken.
  virtual bool CommitRunRequests(const CpuList& cpus) = 0;
  // ghOSt's sync group commit: as CommitRunRequests, but all or nothing.
  // Either every submitted slot COMPLETEs, or none of their tasks moves or
  // runs: the first slot (in CPU order) that fails keeps its outcome and
  // every other one is POISONED. Returns true iff all COMPLETEd.
  virtual bool CommitSyncRequests(const CpuList& cpus) = 0;

  // Parks the agent of `cpu` (the caller) until pinged, or until `wake_by`
  // if that comes first, unless the agent's Aseq is no longer
  // `agent_barrier`. Returns true iff it parked (on the real backend: true
  // after it was parked and woken again).
  virtual bool LocalYield(int cpu, uint32_t agent_barrier, uint32_t run_flags,
                          absl::Time wake_by = absl::InfiniteFuture()) = 0;

  // --- agents
  // Registers the agent running on `cpu`. REQUIRES: cpu in cpus().
  void AttachAgent(int cpu, Agent* agent);
  void DetachAgent(int cpu);
  // Returns the agent of `cpu`, or nullptr.
  Agent* GetAgent(int cpu) const;

  // The calling agent of `cpu` lets the tasks queued on its CPU run before
  // it runs again (sched_yield on the real backend; nothing to do in the
  // simulator, where agents take no CPU time).
  virtual void YieldAgentCpu(int cpu) {}

  // Wakes the agent of `cpu` if it is parked (preempting the managed task on
  // that CPU).
  virtual absl::Status Ping(int cpu) = 0;

  // --- the global role (centralized model)
  // Hands the global role to the agent of `to` and wakes it, if the agent of
  // `from` still holds the role (from = -1: whoever holds it). Both agents'
  // Aseq moves, so an agent that read its Aseq before the move and decided
  // to park is told to look again (LocalYield fails). Returns false if the
  // role had already moved on (someone else moved it first).
  virtual bool MoveGlobal(int from, int to) = 0;
  // The CPU whose agent holds the global role, or -1. This is the kernel's
  // word, not a copy: the kernel side also moves the role by itself when a
  // higher class holds the global CPU for too long.
  virtual int GlobalCpu() const = 0;

  // --- fast path
  // Returns true iff the kernel side runs queued tasks on idle CPUs itself.
  virtual bool bpf_pick() const = 0;
  // Moves a queued task between the owners: CLAIM takes it from the fast
  // path for the agent, RELEASE gives it back (invariant 7). Returns
  // NotFound if it was not waiting in the queue it would leave.
  virtual absl::Status RunqueueOp(uint64_t gtid, gh_rq_op op) = 0;

 protected:
  // Returns the transaction slot of `cpu`; called by InitRunRequests.
  virtual gh_txn* TxnSlot(int cpu) = 0;
  // Hook for backends: `agent` was attached to `cpu`.
  virtual void AgentAttached(int cpu) {}

 public:
  // Hook for backends, called on the agent thread of `cpu` once it is pinned
  // there, before its first Step() (the real backend registers the thread
  // with the kernel side and moves it into the scheduling class).
  virtual void AgentThreadStarted(int cpu) {}

 protected:

  // Builds the RunRequests. REQUIRES: called once by the derived
  // constructor, after its slots exist.
  void InitRunRequests();

 private:
  const Topology topology_;
  const CpuList cpus_;
  std::vector<std::unique_ptr<RunRequest>> run_requests_;
  std::vector<Agent*> agents_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_ENCLAVE_H_
