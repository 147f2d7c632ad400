// SPDX-License-Identifier: Apache-2.0
// kernel_enclave.h: the real Enclave backend, over the loaded ghost_hybrid
// sched_ext scheduler (BpfScheduler).
//
// Status words and transaction slots are the scheduler's mmapped array
// maps; channels are its ring buffers read with RingChannel (no syscall on
// the message path); a group commit is one run of the gh_commit syscall
// program followed by a spin on the slots' outcomes; LocalYield parks the
// agent in BPF (gh_local_yield) and sleeps on the agent's doorbell until a
// Ping or a message for it sets GH_SW_AGENT_ACTIVE again.
//
// Thread safety: as Enclave. Each Channel has one consumer thread.
#ifndef GHOST_HYBRID_AGENT_KERNEL_KERNEL_ENCLAVE_H_
#define GHOST_HYBRID_AGENT_KERNEL_KERNEL_ENCLAVE_H_

#include <atomic>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "agent/kernel/bpf_scheduler.h"
#include "agent/lib/enclave.h"

namespace gh {

class KernelEnclave : public Enclave {
 public:
  // REQUIRES: @sched outlives this enclave; @cpus are in its enclave and it
  // has a channel per CPU when the per-CPU model will run.
  KernelEnclave(BpfScheduler* sched, Topology topology, CpuList cpus);
  ~KernelEnclave() override;

  absl::Time Now() const override;
  StatusWord AgentStatusWord(int cpu) override;
  StatusWord TaskStatusWord(uint32_t sw_index) override;
  void FreeTaskStatusWord(uint32_t sw_index, uint64_t gtid) override;
  void FlushStatusWordFrees() override;
  uint64_t MessagesDropped() const override;
  Channel& DefaultChannel() override;
  Channel& CpuChannel(int cpu) override;
  bool CommitRunRequests(const CpuList& cpus) override;
  bool CommitSyncRequests(const CpuList& cpus) override;
  bool LocalYield(int cpu, uint32_t agent_barrier, uint32_t run_flags,
                  absl::Time wake_by) override;
  absl::Status Ping(int cpu) override;
  void YieldAgentCpu(int cpu) override;
  bool MoveGlobal(int from, int to) override;
  int GlobalCpu() const override;
  bool bpf_pick() const override;
  absl::Status RunqueueOp(uint64_t gtid, gh_rq_op op) override;
  // Registers the calling thread as @cpu's agent and makes it SCHED_EXT.
  void AgentThreadStarted(int cpu) override;

  BpfScheduler* sched() const { return sched_; }
  // The kernel side's wiring for one agent model; call one of the two
  // before starting agents.
  //
  // The centralized model, its global agent first on @global_cpu: agent
  // threads may run on any enclave CPU (the kernel side runs a global agent
  // whose CPU a higher class took on the nearest free CPU, in
  // Topology::NearestFirst order), and a commit never parks the committing
  // agent (the global agent parks after its round, outside the round lock).
  // REQUIRES: @global_cpu in cpus().
  void UseCentralizedModel(int global_cpu);
  // The per-CPU model: each CPU's messages go to its own channel (CPU c's
  // is channel c + 1; REQUIRES: the scheduler has them), and each agent
  // stays pinned to its CPU and parks on its local commit.
  void UsePerCpuModel();

 protected:
  gh_txn* TxnSlot(int cpu) override;

 private:
  class RingBufferChannel;
  // Commits the OPEN slots of @cpus with gh_commit @flags (enum
  // gh_commit_args_flags), parking the caller first on a per-CPU agent's
  // local commit.
  bool CommitGroup(const CpuList& cpus, uint32_t flags);
  // Sleeps on @cpu's doorbell until its agent is active again, or until
  // @wake_by (then it makes itself active: Unpark).
  void SleepUntilActive(int cpu, absl::Time wake_by = absl::InfiniteFuture());
  // @cpu's agent, parked by the kernel side but running, becomes active
  // again the way a message would make it, and drains the doorbell that
  // rang for it.
  void Unpark(int cpu);
  // True iff the caller is the agent thread of @cpu.
  bool IsAgentThreadOf(int cpu) const;

  // Runs gh_sw_free on the batch. REQUIRES: frees_mu_ held.
  void FlushFreesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(frees_mu_);

  BpfScheduler* const sched_;
  std::vector<std::unique_ptr<RingBufferChannel>> channels_;  // by channel id
  absl::Mutex frees_mu_;
  gh_sw_free_args frees_ ABSL_GUARDED_BY(frees_mu_) = {};
  std::atomic<bool> frees_pending_{false};
  bool centralized_ = false;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_KERNEL_KERNEL_ENCLAVE_H_
