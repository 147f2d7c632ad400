// SPDX-License-Identifier: Apache-2.0
#include "agent/kernel/kernel_enclave.h"

#include <poll.h>
#include <sched.h>
#include <unistd.h>
#include <time.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/kernel/task_policy.h"
#include "agent/lib/check.h"
#include "agent/lib/clock.h"

namespace gh {

// A Channel over one of the scheduler's ring buffers.
class KernelEnclave::RingBufferChannel : public Channel {
 public:
  RingBufferChannel(BpfScheduler* sched, int id) : sched_(sched), id_(id) {}

  int id() const override { return id_; }

  Message Peek() override {
    const gh_msg* m = sched_->channel(static_cast<uint32_t>(id_)).Peek();
    return m ? Message(m) : Message();
  }

  void Consume(const Message& msg) override {
    sched_->channel(static_cast<uint32_t>(id_)).Consume();
  }

  absl::Status AssociateTask(uint64_t gtid, uint32_t sw_index, uint32_t barrier) override {
    return sched_->AssociateTask(gtid, sw_index, barrier, static_cast<uint32_t>(id_));
  }

  absl::Status SetAgent(int cpu) override {
    sched_->SetChannelAgent(static_cast<uint32_t>(id_), cpu);
    return absl::OkStatus();
  }

 private:
  BpfScheduler* const sched_;
  const int id_;
};

KernelEnclave::KernelEnclave(BpfScheduler* sched, Topology topology, CpuList cpus)
    : Enclave(std::move(topology), cpus), sched_(sched) {
  for (int id = 0; id < sched_->nr_channels(); id++) {
    channels_.push_back(std::make_unique<RingBufferChannel>(sched_, id));
  }
  InitRunRequests();
}

KernelEnclave::~KernelEnclave() = default;

void KernelEnclave::UseCentralizedModel(int global_cpu) {
  GH_CHECK(cpus().IsSet(global_cpu));
  centralized_ = true;
  sched_->SetGlobalCpu(global_cpu, topology().NearestFirst(global_cpu, cpus()));
}

void KernelEnclave::UsePerCpuModel() {
  centralized_ = false;
  // No global role (a persistent scheduler may have had one): the default
  // channel wakes the agent it is tied to, not a former global agent.
  sched_->SetGlobalCpu(-1, {});
  for (int c : cpus()) {
    GH_CHECK_LT(c + 1, sched_->nr_channels());
    sched_->SetCpuChannel(c, static_cast<uint32_t>(c + 1));
  }
}

absl::Time KernelEnclave::Now() const {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // bpf_ktime_get_ns()'s clock
  return KernelTime(static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
                    static_cast<uint64_t>(ts.tv_nsec));
}

StatusWord KernelEnclave::AgentStatusWord(int cpu) { return StatusWord(sched_->agent_sw(cpu)); }

StatusWord KernelEnclave::TaskStatusWord(uint32_t sw_index) {
  return StatusWord(sched_->task_sw(sw_index));
}

void KernelEnclave::FreeTaskStatusWord(uint32_t sw_index, uint64_t gtid) {
  absl::MutexLock l(&frees_mu_);
  frees_.words[frees_.nr].sw_index = sw_index;
  frees_.words[frees_.nr].gtid = gtid;
  if (++frees_.nr == GH_SW_FREE_BATCH) FlushFreesLocked();
  frees_pending_.store(frees_.nr > 0, std::memory_order_relaxed);
}

void KernelEnclave::FlushStatusWordFrees() {
  if (!frees_pending_.load(std::memory_order_relaxed)) return;
  absl::MutexLock l(&frees_mu_);
  FlushFreesLocked();
  frees_pending_.store(false, std::memory_order_relaxed);
}

void KernelEnclave::FlushFreesLocked() {
  if (frees_.nr == 0) return;
  // A word the kernel side refuses (not CANFREE, or another task's) is
  // counted there (GH_STAT_SW_FREE_REJECTED); nothing else to do here.
  (void)sched_->FreeStatusWords(frees_);
  frees_.nr = 0;
}

// Tasks the kernel side found forgotten in the agent's queue are recovered
// the way a dropped message's task is (bpf/runqueue.bpf.h).
uint64_t KernelEnclave::MessagesDropped() const {
  return sched_->stat(GH_STAT_MSGS_DROPPED) + sched_->stat(GH_STAT_FORGOTTEN_NUDGES);
}

Channel& KernelEnclave::DefaultChannel() { return *channels_[GH_DEFAULT_CHANNEL]; }

// CPU c's channel is c + 1; the loader creates them for the per-CPU model.
Channel& KernelEnclave::CpuChannel(int cpu) {
  size_t id = static_cast<size_t>(cpu) + 1;
  return id < channels_.size() ? *channels_[id] : DefaultChannel();
}

gh_txn* KernelEnclave::TxnSlot(int cpu) { return sched_->txn(cpu); }

bool KernelEnclave::IsAgentThreadOf(int cpu) const {
  return sched_->agent_tid(cpu) == static_cast<int>(gettid());
}

bool KernelEnclave::CommitRunRequests(const CpuList& cpus) { return CommitGroup(cpus, 0); }

bool KernelEnclave::CommitSyncRequests(const CpuList& cpus) {
  return CommitGroup(cpus, GH_COMMIT_ARGS_SYNC_GROUP);
}

bool KernelEnclave::CommitGroup(const CpuList& cpus, uint32_t flags) {
  uint64_t mask[GH_CPUMASK_WORDS];
  for (int w = 0; w < GH_CPUMASK_WORDS; w++) mask[w] = cpus.words()[w];
  // A per-CPU agent's local commit (its own CPU): the agent parks first,
  // so that no message arriving between the commit and the park is missed,
  // and the task it commits runs as soon as the agent sleeps. A centralized
  // agent never parks here: it commits inside the round lock, and parks
  // after its round, outside it. (Asking whether the caller still holds the
  // global role is no test: the kernel side may move the role in the
  // middle of a round, and an agent asleep with the round lock held would
  // stop every decision.)
  int self = -1;
  for (int cpu : cpus) {
    if (!centralized_ && IsAgentThreadOf(cpu)) self = cpu;
  }
  if (self >= 0 && !sched_->LocalYieldPrepare(self, /*check=*/false, 0).ok()) return false;
  // Latched: every slot holds its outcome when the commit program returns.
  const bool committed = sched_->Commit(mask, flags).ok();
  bool all_complete = committed;
  for (int cpu : cpus) {
    const uint32_t s = __atomic_load_n(&sched_->txn(cpu)->state, __ATOMIC_ACQUIRE);
    if (s == GH_TXN_OPEN || s == GH_TXN_IDLE) continue;  // not ours to commit
    all_complete &= s == GH_TXN_COMPLETE;
  }
  if (self >= 0) {
    if (committed && sched_->txn(self)->state == GH_TXN_COMPLETE) {
      SleepUntilActive(self);
    } else {
      Unpark(self);  // failed: the agent runs on at once
    }
  }
  return all_complete;
}

void KernelEnclave::Unpark(int cpu) {
  (void)sched_->Ping(cpu);
  sched_->DrainDoorbell(cpu);
}

void KernelEnclave::SleepUntilActive(int cpu, absl::Time wake_by) {
  // ACTIVE is checked before every sleep and the doorbell is rung only
  // after ACTIVE is set, so no wakeup is lost; the 100 ms cap only bounds
  // how long a lost doorbell could cost.
  gh_status_word* sw = sched_->agent_sw(cpu);
  int fd = sched_->doorbell_fd(cpu);
  while (!(__atomic_load_n(&sw->flags, __ATOMIC_ACQUIRE) & GH_SW_AGENT_ACTIVE) &&
         sched_->Attached()) {
    const absl::Duration left = wake_by - Now();
    if (left <= absl::ZeroDuration()) {
      Unpark(cpu);  // woken by the clock
      return;
    }
    const timespec timeout = absl::ToTimespec(std::min(left, absl::Milliseconds(100)));
    pollfd p = {fd, POLLIN, 0};
    ppoll(&p, 1, &timeout, nullptr);
    sched_->DrainDoorbell(cpu);
  }
}

void KernelEnclave::AgentThreadStarted(int cpu) {
  if (centralized_) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus()) CPU_SET(c, &set);
    sched_setaffinity(0, sizeof(set), &set);  // the kernel side still places it on `cpu`
  }
  sched_->RegisterAgent(cpu, static_cast<int>(gettid()), /*active=*/true);
  absl::Status s = SetSchedExt(0);
  if (!s.ok()) fprintf(stderr, "ghost_hybrid: agent %d stays in the fair class: %s\n", cpu,
                       std::string(s.message()).c_str());
}

bool KernelEnclave::LocalYield(int cpu, uint32_t agent_barrier, uint32_t run_flags,
                               absl::Time wake_by) {
  absl::StatusOr<bool> parked = sched_->LocalYieldPrepare(cpu, /*check=*/true, agent_barrier);
  if (!parked.ok() || !*parked) return false;
  SleepUntilActive(cpu, wake_by);
  return true;
}

absl::Status KernelEnclave::Ping(int cpu) { return sched_->Ping(cpu); }

void KernelEnclave::YieldAgentCpu(int cpu) { sched_yield(); }

bool KernelEnclave::MoveGlobal(int from, int to) {
  absl::StatusOr<bool> moved = sched_->MoveGlobal(from, to);
  GH_CHECK_MSG(moved.ok(), std::string(moved.status().message()));
  // The kernel side's successors follow the role: nearest to its new CPU.
  if (*moved) sched_->SetGlobalSuccessors(topology().NearestFirst(to, cpus()));
  return *moved;
}

int KernelEnclave::GlobalCpu() const { return sched_->global_cpu(); }

bool KernelEnclave::bpf_pick() const { return sched_->options().bpf_pick; }

absl::Status KernelEnclave::RunqueueOp(uint64_t gtid, gh_rq_op op) {
  return sched_->RunqueueOp(gtid, op);
}

}  // namespace gh
