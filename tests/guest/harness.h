// SPDX-License-Identifier: Apache-2.0
// harness.h: drives the ghost_hybrid ABI directly, without the agent, for
// the guest tests: loads the scheduler, spawns managed child tasks that
// obey scripted commands, records every message of the default channel,
// and opens/commits transactions with chosen (right or wrong) barriers.
//
// Must run as root on a kernel with sched_ext (the guest: scripts/vm.sh).
#ifndef GHOST_HYBRID_TESTS_GUEST_HARNESS_H_
#define GHOST_HYBRID_TESTS_GUEST_HARNESS_H_

#include <sched.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/kernel/bpf_scheduler.h"
#include "bpf/intf.h"

namespace gh::testing {

// A forked child that switched itself to SCHED_EXT and then executes one
// command byte at a time from the harness:
//   'b' block: read the next command (the task sleeps: TASK_BLOCKED)
//   'y' sched_yield()      's' spin ~2 ms of CPU     'x' exit(0)
// It writes one byte back after each command ('R' first, when ready).
class ScriptedChild {
 public:
  static absl::StatusOr<ScriptedChild> Spawn();
  ScriptedChild(ScriptedChild&&) noexcept;
  ScriptedChild& operator=(ScriptedChild&&) = delete;
  ~ScriptedChild();

  pid_t pid() const { return pid_; }
  bool Send(char cmd);
  // Waits up to @timeout for the child's next reply byte.
  bool WaitReply(absl::Duration timeout);
  // Waits for the child to exit; returns its exit status or -1.
  int Wait(absl::Duration timeout);

 private:
  ScriptedChild() = default;
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
};

class Harness {
 public:
  static absl::StatusOr<std::unique_ptr<Harness>> Start(const BpfSchedulerOptions& options);

  // Fails the running test if the kernel ejected the scheduler meanwhile:
  // no harness test provokes an ejection, so one is always a finding.
  ~Harness();

  BpfScheduler& sched() { return *sched_; }

  // Moves every pending message of the default channel into the log.
  void Drain();
  const std::vector<gh_msg>& log() const { return log_; }
  std::vector<gh_msg> MessagesOf(pid_t pid) const;
  // Drains until @pred holds or @timeout passes; returns whether it held.
  bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout);
  // Waits for a message of @type about @pid; returns it or nullopt.
  const gh_msg* WaitForMessage(pid_t pid, int type, absl::Duration timeout,
                               size_t after_index = 0);

  uint64_t GtidOf(pid_t pid) const;          // from TASK_NEW; 0 if unseen
  uint32_t LastSeqnum(pid_t pid) const;      // Tseq of the newest message
  gh_status_word* StatusWordOf(pid_t pid);   // nullptr if unseen

  // Opens @cpu's slot. @agent_barrier < 0: not checked.
  void Open(int cpu, uint64_t gtid, uint32_t task_barrier, int64_t agent_barrier = -1,
            uint32_t commit_flags = GH_COMMIT_AT_TXN_COMMIT);
  // Commits the slots of @cpus as one group and waits for every outcome.
  std::vector<uint32_t> CommitGroup(const std::vector<int>& cpus, absl::Duration timeout);
  uint32_t CommitOne(int cpu, absl::Duration timeout) { return CommitGroup({cpu}, timeout)[0]; }
  // Commits @cpu's open slot as an agent would: CPU_UNAVAIL means a
  // higher class holds the CPU for now (a kworker, or this harness woken
  // there), so the same slot is opened again and committed once more
  // every millisecond until another outcome or @timeout. Returns the last
  // outcome.
  uint32_t CommitOneWhenCpuFree(int cpu, absl::Duration timeout);
  // Waits up to @timeout for @done (called with how long it may wait)
  // while keeping @pid committed to @cpu as an agent would: a higher
  // class's blip may take the task off the CPU, back to the agent's queue
  // (its status word: runnable, not on a CPU), and nobody but the test
  // decides for it, so it is committed there again. Returns whether @done
  // held.
  bool KeepCommittedUntil(pid_t pid, int cpu, absl::Duration timeout,
                          const std::function<bool(absl::Duration)>& done);
  // Commits the open slots of @cpus as one group with gh_commit @flags
  // (enum gh_commit_args_flags) and returns their states read straight
  // after the call, in @cpus' order: the commit is latched.
  std::vector<uint32_t> CommitAtOnce(const std::vector<int>& cpus, uint32_t flags);
  uint32_t CommitAtOnce(int cpu) { return CommitAtOnce({cpu}, 0)[0]; }
  // CommitAtOnce as an agent would: while some slot fails CPU_UNAVAIL (a
  // higher class holds its CPU for now: a kworker, ksoftirqd) the same
  // slots are opened again and committed once more every millisecond, up
  // to @timeout. Such a failure moved nothing (a group is all or nothing).
  // Returns the last states; *@busy_retries, if given, counts the retries.
  std::vector<uint32_t> CommitAtOnceWhenCpusFree(const std::vector<int>& cpus, uint32_t flags,
                                                 absl::Duration timeout,
                                                 int* busy_retries = nullptr);
  uint32_t CommitAtOnceWhenCpuFree(int cpu) {
    return CommitAtOnceWhenCpusFree({cpu}, 0, absl::Seconds(2))[0];
  }

 private:
  // Calls @commit (given the time left) for the slots of @cpus as they are
  // open now; while one fails CPU_UNAVAIL, opens them again the same way
  // and calls it again every millisecond until @timeout. Returns the last
  // states; *@retries, if given, counts the calls after the first.
  std::vector<uint32_t> RetryWhileCpuUnavailable(
      const std::vector<int>& cpus, absl::Duration timeout,
      const std::function<std::vector<uint32_t>(absl::Duration left)>& commit,
      int* retries = nullptr);

  std::unique_ptr<BpfScheduler> sched_;
  std::vector<gh_msg> log_;
};

std::string MsgTypeName(int type);
std::string TxnStateName(uint32_t state);
std::string ReadFile(const std::string& path);

// Sets the affinity of @pid (0: the caller) to @cpus; a test failure if not.
void SetAffinity(pid_t pid, const std::vector<int>& cpus);
// Keeps the calling thread on @cpus for its lifetime, then restores the
// affinity it had: gtest runs every test in one process.
class ScopedAffinity {
 public:
  explicit ScopedAffinity(const std::vector<int>& cpus);
  ~ScopedAffinity();
  ScopedAffinity(const ScopedAffinity&) = delete;
  ScopedAffinity& operator=(const ScopedAffinity&) = delete;

 private:
  cpu_set_t saved_;
};
// CPUs 0..@last.
std::vector<int> CpusUpTo(int last);
// Forks a managed child that spins until killed, on @cpus from the start.
// It closes the scheduler's fds it inherited: holding the struct_ops link
// would keep the scheduler loaded after the test unloads it, with the
// child stranded in the agent's queue, unkillable until the watchdog
// ejects the scheduler.
pid_t SpawnSpinner(const std::vector<int>& cpus);

}  // namespace gh::testing

#endif  // GHOST_HYBRID_TESTS_GUEST_HARNESS_H_
