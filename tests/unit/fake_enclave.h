// SPDX-License-Identifier: Apache-2.0
// fake_enclave.h: a minimal Enclave for library tests that need no kernel
// model: slots and status words are plain arrays, commits complete or fail
// with a scripted outcome, LocalYield blocks until Ping (like the real
// backend, so agent threads can be tested).
#ifndef GHOST_HYBRID_TESTS_UNIT_FAKE_ENCLAVE_H_
#define GHOST_HYBRID_TESTS_UNIT_FAKE_ENCLAVE_H_

#include <deque>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/lib/enclave.h"

namespace gh {

class FakeChannel : public Channel {
 public:
  int id() const override { return 0; }
  Message Peek() override { return q.empty() ? Message() : Message(&q.front()); }
  void Consume(const Message& m) override { q.pop_front(); }
  absl::Status AssociateTask(uint64_t, uint32_t, uint32_t) override { return absl::OkStatus(); }
  absl::Status SetAgent(int) override { return absl::OkStatus(); }
  std::deque<gh_msg> q;
};


class FakeEnclave : public Enclave {
 public:
  explicit FakeEnclave(int ncpus)
      : Enclave(Topology::Synthetic(ncpus, 1, 1, 1),
                Topology::Synthetic(ncpus, 1, 1, 1).all_cpus()),
        agent_sw_(GH_MAX_CPUS),
        txns_(GH_MAX_CPUS),
        task_sw_(16),
        wake_tokens_(GH_MAX_CPUS, 0) {
    InitRunRequests();
  }
  absl::Time Now() const override { return absl::UnixEpoch(); }
  StatusWord AgentStatusWord(int cpu) override { return StatusWord(&agent_sw_[cpu]); }
  StatusWord TaskStatusWord(uint32_t i) override { return StatusWord(&task_sw_[i]); }
  void FreeTaskStatusWord(uint32_t, uint64_t) override { ++words_freed; }
  uint64_t MessagesDropped() const override { return 0; }
  Channel& DefaultChannel() override { return channel_; }
  Channel& CpuChannel(int) override { return channel_; }
  bool CommitRunRequests(const CpuList& cpus) override {
    bool all = true;
    for (int c : cpus) {
      if (txns_[c].state != GH_TXN_OPEN) continue;
      txns_[c].state = outcome;
      all = all && outcome == GH_TXN_COMPLETE;
      ++commits;
    }
    return all;
  }
  // Every slot gets `outcome` here too: the fake plays no validation.
  bool CommitSyncRequests(const CpuList& cpus) override { return CommitRunRequests(cpus); }
  bool LocalYield(int cpu, uint32_t, uint32_t, absl::Time) override {  // no timer
    // A Ping that came before the park is not lost: it left a token.
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(
        +[](int* p) { return *p > 0; }, &wake_tokens_[cpu]));
    --wake_tokens_[cpu];
    return true;
  }
  absl::Status Ping(int cpu) override {
    absl::MutexLock l(&mu_);
    wake_tokens_[cpu] = 1;
    return absl::OkStatus();
  }
  bool MoveGlobal(int from, int to) override {
    {
      absl::MutexLock l(&mu_);
      if (from >= 0 && global_cpu_ != from) return global_cpu_ == to;
      global_cpu_ = to;
    }
    return Ping(to).ok();
  }
  int GlobalCpu() const override {
    absl::MutexLock l(&mu_);
    return global_cpu_;
  }
  bool bpf_pick() const override { return false; }
  absl::Status RunqueueOp(uint64_t, gh_rq_op) override {
    return absl::NotFoundError("no runqueue");
  }

  uint32_t outcome = GH_TXN_COMPLETE;
  int commits = 0;
  int words_freed = 0;
  FakeChannel channel_;
  std::vector<gh_status_word> agent_sw_;

 protected:
  gh_txn* TxnSlot(int cpu) override { return &txns_[cpu]; }

 private:
  std::vector<gh_txn> txns_;
  std::vector<gh_status_word> task_sw_;
  mutable absl::Mutex mu_;
  int global_cpu_ = -1;
  std::vector<int> wake_tokens_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_TESTS_UNIT_FAKE_ENCLAVE_H_
