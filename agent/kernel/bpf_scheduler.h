// SPDX-License-Identifier: Apache-2.0
// bpf_scheduler.h: loads, attaches and owns the ghost_hybrid sched_ext
// scheduler (bpf/ghost_hybrid.bpf.c), and gives typed access to its maps.
//
// This is the one place that knows the skeleton. Everything above it (the
// real Enclave backend, the CLI, the guest tests) sees the ABI of
// bpf/intf.h only: status words and transaction slots as mmapped arrays,
// channels as RingChannels, and the syscall programs as plain calls.
//
// Lifetime: Load() attaches the scheduler; destroying the object (or the
// process dying in any way) closes the struct_ops link, which ends the
// scheduler and returns every managed task to the fair class. A persistent
// scheduler (options.persist) pins its link, programs and maps instead and
// outlives the process: Attach() takes it over from another process, and
// persistent_scheduler.h detaches agents from it and unloads it.
#ifndef GHOST_HYBRID_AGENT_KERNEL_BPF_SCHEDULER_H_
#define GHOST_HYBRID_AGENT_KERNEL_BPF_SCHEDULER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/kernel/ring_channel.h"
#include "bpf/intf.h"

struct ghost_hybrid;  // the generated skeleton
struct bpf_link;

namespace gh {

struct BpfSchedulerOptions {
  bool bpf_pick = false;                     // the in-kernel fast path
  absl::Duration watchdog = absl::Seconds(5);
  absl::Duration txn_slice = absl::InfiniteDuration();  // committed tasks
  absl::Duration pick_slice = absl::Nanoseconds(GH_DEFAULT_SLICE_NS);  // fast-path picks
  std::vector<int> enclave;        // CPUs the scheduler may use; empty: all
  int nr_channels = 1;             // default channel + per-CPU channels
  // Bytes of each channel ring: a power of two, at least a page. A full
  // ring drops messages; the agent then resyncs each task that lost one.
  uint32_t channel_bytes = GH_CHANNEL_RING_BYTES;
  bool send_cpu_tick = false;
  // A task its CPU's agent preempted resumes when the agent parks, with no
  // message (the centralized model; per-CPU agents recommit it instead).
  bool resume_after_agent = false;
  // Copy libbpf's own messages (verifier log, attach steps) to stderr.
  bool libbpf_debug = false;
  std::string pin_dir;             // if set, pin the maps there (mode 0700)
  // Outlive this process: pin the link and the programs too, and record a
  // gh_instance for Attach(). REQUIRES: pin_dir.
  bool persist = false;
  std::string loader_version;      // recorded in the gh_instance
};

// Why the scheduler stopped, as recorded by ops.exit.
struct ExitInfo {
  int kind = 0;  // enum scx_exit_kind; 0 while running
  int64_t exit_code = 0;
  std::string reason;
  std::string message;
  std::string dump;  // the kernel's debug dump, with ops.dump*'s lines
};

class BpfScheduler {
 public:
  // Loads and attaches the scheduler. Fails with one sentence naming the
  // cause and the remedy (not root, no sched_ext, another scheduler loaded,
  // verifier rejection), leaving nothing loaded or pinned.
  static absl::StatusOr<std::unique_ptr<BpfScheduler>> Load(
      const BpfSchedulerOptions& options);

  // Takes over the persistent scheduler pinned at @pin_dir (ghost_hybrid
  // --attach): maps its shared memory, opens its channels and programs,
  // and adopts the settings it was loaded with (options()). Refused, with
  // the scheduler untouched, if it speaks another ABI (GH_ABI_VERSION or
  // layout) or if another process's agents are attached (a dying one is
  // waited for up to @wait_for_exit).
  static absl::StatusOr<std::unique_ptr<BpfScheduler>> Attach(const std::string& pin_dir,
                                                              absl::Duration wait_for_exit);

  // A persistent scheduler stays loaded when this object is destroyed.
  ~BpfScheduler();
  BpfScheduler(const BpfScheduler&) = delete;
  BpfScheduler& operator=(const BpfScheduler&) = delete;

  // Shared memory. REQUIRES: index in range (idx < GH_MAX_TASKS, cpu <
  // nr_cpus()).
  gh_status_word* task_sw(uint32_t idx) const { return &task_sw_[idx]; }
  gh_status_word* agent_sw(int cpu) const { return &agent_sw_[cpu]; }
  gh_txn* txn(int cpu) const { return &txn_[cpu]; }

  // Commits the OPEN slots of the CPUs in @mask as one group: each slot
  // holds its outcome when this returns. @flags: enum gh_commit_args_flags
  // (GH_COMMIT_ARGS_SYNC_GROUP: all or none). Returns how many were
  // committed.
  absl::StatusOr<uint32_t> Commit(const uint64_t (&mask)[GH_CPUMASK_WORDS], uint32_t flags = 0);
  // Wakes @cpu's agent (gh_ping).
  absl::Status Ping(int cpu);
  // gh_ping with make_global: hands @to's agent the global role if @from's
  // agent still holds it (-1: any) and wakes it; false if the role moved on.
  absl::StatusOr<bool> MoveGlobal(int from, int to);
  // Parks @cpu's agent unless its Aseq moved past @agent_barrier (when
  // @check). Returns false if it must not park (new messages).
  absl::StatusOr<bool> LocalYieldPrepare(int cpu, bool check, uint32_t agent_barrier);
  // Moves a queued task between the owners (enum gh_rq_op: CLAIM from the
  // fast path, RELEASE to it). NotFound if it was not waiting there.
  absl::Status RunqueueOp(uint64_t gtid, gh_rq_op op);
  // Frees task status words whose task the agent has forgotten (gh_sw_free):
  // each must be CANFREE and still belong to its gtid. Returns how many
  // were freed.
  absl::StatusOr<uint32_t> FreeStatusWords(const gh_sw_free_args& batch);
  // Routes task @gtid's later messages to @channel (0 is the default) iff
  // its Tseq is still @barrier (gh_associate): FailedPrecondition if it
  // moved (read the old channel first), NotFound if the task is gone.
  absl::Status AssociateTask(uint64_t gtid, uint32_t sw_index, uint32_t barrier,
                             uint32_t channel);

  // Registers the calling-to-be agent thread @tid for @cpu; call before the
  // thread switches to SCHED_EXT. @active: starts runnable.
  void RegisterAgent(int cpu, int tid, bool active);
  // The registered agent thread of @cpu, 0 if none.
  int agent_tid(int cpu) const;
  // Associates @channel's messages with @cpu's agent (Aseq, wakeups).
  void SetChannelAgent(uint32_t channel, int cpu);
  void SetCpuChannel(int cpu, uint32_t channel);
  // Where the kernel side runs a displaced global agent, or moves the
  // global role when a higher class keeps its CPU: the first usable of
  // @successors (nearest first; at most GH_MAX_CPUS are kept).
  void SetGlobalSuccessors(const std::vector<int>& successors);
  // The global role to @cpu, with its successors. Before agents start.
  void SetGlobalCpu(int cpu, const std::vector<int>& successors);
  int global_cpu() const;

  RingChannel& channel(uint32_t idx) { return channels_[idx]; }
  int doorbell_fd(int cpu) const;
  // Empties @cpu's doorbell after a wakeup.
  void DrainDoorbell(int cpu);
  int nr_channels() const { return static_cast<int>(channels_.size()); }
  int nr_cpus() const { return nr_cpus_; }
  bool in_enclave(int cpu) const;
  const BpfSchedulerOptions& options() const { return options_; }

  // Where Load()'s time went: the verifier (loading the object), filling
  // and mapping the maps, and the kernel enabling the scheduler.
  struct StartUp {
    absl::Duration verify, prepare, attach;
  };
  const StartUp& start_up() const { return start_up_; }

  uint64_t stat(gh_stat which) const;
  // The optional kernel features the loaded scheduler found and uses
  // (enum gh_kernel_feature; agent/kernel/kernel_features.h names them).
  uint64_t kernel_features() const;
  ExitInfo exit_info() const;
  // True while the kernel runs this scheduler.
  bool Running() const;
  bool persistent() const { return options_.persist; }
  // Records @pid as the process whose agents decide (0: none), so that
  // --detach and --attach can find it.
  void SetAgentProcess(int pid);
  // Agent threads alive, as the kernel side counts them.
  uint32_t live_agent_threads() const;
  // False once ops.exit ran (cheap: one load from the mmapped bss).
  bool Attached() const;
  // Warnings libbpf printed while loading (must be empty).
  static const std::vector<std::string>& load_warnings();

 private:
  explicit BpfScheduler(const BpfSchedulerOptions& options);
  absl::Status Setup();
  absl::Status CreateInnerMaps();
  absl::Status MapShared(int task_sw_fd, int agent_sw_fd, int txn_fd);
  absl::Status PinMaps();
  void Unpin();
  // persistent_scheduler.cc: pins what Attach() needs, and opens it.
  absl::Status PinPersistent();
  absl::Status OpenPinned(const std::string& dir, const gh_instance& inst,
                          absl::Duration wait_for_exit);
  // The programs' fds, from the skeleton (Load) or the pins (Attach).
  void TakeProgramFds();
  int RunProgram(int prog_fd, void* ctx, size_t size);
  // Runs gh_ping; returns its result (0, or -EAGAIN when the role had
  // moved on), or an error for a CPU without an agent.
  absl::StatusOr<int> RunPing(int cpu, bool make_global, int from_cpu);

  BpfSchedulerOptions options_;
  struct ::ghost_hybrid* skel_ = nullptr;
  struct ::bpf_link* link_ = nullptr;
  // The syscall programs' fds, owned by the skeleton after Load and by us
  // after Attach, in the order of their pins (kProgramPins in
  // persistent_scheduler.cc).
  enum Program { kCommit, kPing, kLocalYield, kRqOp, kSwFree, kAssociate, kNumPrograms };
  int prog_fds_[kNumPrograms] = {-1, -1, -1, -1, -1, -1};
  // Leave the scheduler loaded and pinned when destroyed: set once a
  // persistent scheduler is fully pinned, or attached to.
  bool keep_loaded_ = false;
  // Attach(): skel_'s bss and data point into these mmaps of the pinned
  // maps, and prog_fds_ and the maps' fds are ours to close.
  std::vector<std::pair<void*, size_t>> pinned_mmaps_;
  std::vector<int> pinned_fds_;
  int nr_cpus_ = 0;
  gh_status_word* task_sw_ = nullptr;
  gh_status_word* agent_sw_ = nullptr;
  gh_txn* txn_ = nullptr;
  std::vector<RingChannel> channels_;
  std::vector<int> inner_fds_;      // channel and doorbell ring fds we own
  std::vector<int> doorbell_fds_;   // per CPU, -1 if none
  std::vector<std::unique_ptr<RingChannel>> doorbells_;  // per CPU, or null
  std::vector<std::string> pinned_;
  StartUp start_up_;
};

// Returns OK if this kernel can run ghost_hybrid, or why not.
absl::Status CheckSchedExtAvailable();

// The first line of a small /proc or /sys file, or "" if it cannot be read.
std::string ReadFirstLine(const std::string& path);

// /sys/kernel/sched_ext/state ("enabled", "disabled", ...), or "" if the
// kernel has no sched_ext.
std::string SchedExtState();

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_KERNEL_BPF_SCHEDULER_H_
