// SPDX-License-Identifier: Apache-2.0
#include "agent/kernel/bpf_scheduler.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <atomic>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "skel/ghost_hybrid.skel.h"

namespace gh {
namespace {

constexpr uint64_t kSliceInf = ~0ull;

std::mutex g_log_mu;
std::vector<std::string>* g_warnings = new std::vector<std::string>();
std::string* g_last_log = new std::string();  // verifier log tail

std::atomic<bool> g_libbpf_debug{false};

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  // Sized to the message: libbpf prints a rejected program's whole
  // verifier log in one call, and its last lines say why.
  va_list measure;
  va_copy(measure, args);
  int len = vsnprintf(nullptr, 0, fmt, measure);
  va_end(measure);
  std::string buf(len > 0 ? len : 0, '\0');
  vsnprintf(buf.data(), buf.size() + 1, fmt, args);
  std::lock_guard<std::mutex> lock(g_log_mu);
  if (level == LIBBPF_WARN) {
    g_warnings->push_back(buf.substr(0, 4096));
    g_last_log->append(buf);
    if (g_last_log->size() > 16384) g_last_log->erase(0, g_last_log->size() - 16384);
  }
  if (g_libbpf_debug.load(std::memory_order_relaxed)) fputs(buf.c_str(), stderr);
  return 0;
}

uint64_t ToNs(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return kSliceInf;
  return static_cast<uint64_t>(absl::ToInt64Nanoseconds(d));
}

// Maps the array @map's values (@fd: the map itself, or its pinned twin).
template <typename T>
absl::StatusOr<T*> MapArray(struct bpf_map* map, int fd) {
  size_t bytes = static_cast<size_t>(bpf_map__value_size(map)) * bpf_map__max_entries(map);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    return absl::InternalError(absl::StrCat("cannot mmap map ", bpf_map__name(map), ": ",
                                            strerror(errno)));
  }
  return static_cast<T*>(p);
}

void UnmapArray(struct bpf_map* map, void* p) {
  if (p) munmap(p, static_cast<size_t>(bpf_map__value_size(map)) * bpf_map__max_entries(map));
}

}  // namespace

absl::Status CheckSchedExtAvailable() {
  if (geteuid() != 0) {
    return absl::PermissionDeniedError(
        "loading a BPF scheduler needs root: run it with sudo.");
  }
  if (access("/sys/kernel/sched_ext/state", R_OK) != 0) {
    return absl::FailedPreconditionError(
        "this kernel has no sched_ext (/sys/kernel/sched_ext is missing): boot a kernel "
        "built with CONFIG_SCHED_CLASS_EXT=y, Linux 6.12 or later.");
  }
  // A scheduler that was just unloaded passes through "disabling": give the
  // kernel a moment before calling the slot taken.
  std::string state = SchedExtState();
  for (int i = 0; i < 100 && state != "disabled" && state != "enabled"; i++) {
    usleep(20000);
    state = SchedExtState();
  }
  if (state != "disabled") {
    std::string ops = ReadFirstLine("/sys/kernel/sched_ext/root/ops");
    return absl::AlreadyExistsError(absl::StrCat(
        "another sched_ext scheduler is loaded (", ops.empty() ? state : ops,
        "): stop it first; only one can run at a time."));
  }
  return absl::OkStatus();
}

const std::vector<std::string>& BpfScheduler::load_warnings() { return *g_warnings; }

BpfScheduler::BpfScheduler(const BpfSchedulerOptions& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<BpfScheduler>> BpfScheduler::Load(
    const BpfSchedulerOptions& options) {
  if (absl::Status s = CheckSchedExtAvailable(); !s.ok()) return s;
  std::unique_ptr<BpfScheduler> sched(new BpfScheduler(options));
  if (absl::Status s = sched->Setup(); !s.ok()) return s;  // dtor cleans up
  return sched;
}

absl::Status BpfScheduler::Setup() {
  g_libbpf_debug = options_.libbpf_debug;
  libbpf_set_print(LibbpfPrint);
  nr_cpus_ = libbpf_num_possible_cpus();
  if (nr_cpus_ <= 0 || nr_cpus_ > GH_MAX_CPUS) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "this machine has %d possible CPUs; ghost_hybrid supports up to %d.", nr_cpus_,
        GH_MAX_CPUS));
  }
  for (int cpu : options_.enclave) {
    if (cpu < 0 || cpu >= nr_cpus_) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "CPU %d is outside this machine (CPUs 0-%d).", cpu, nr_cpus_ - 1));
    }
  }
  skel_ = ghost_hybrid__open();
  if (!skel_) return absl::InternalError("cannot open the BPF object (libbpf).");
  if (options_.libbpf_debug) {
    // -vv: the verifier's statistics of each program (insns, time).
    struct bpf_program* prog;
    bpf_object__for_each_program(prog, skel_->obj) bpf_program__set_log_level(prog, 4);
  }
  skel_->rodata->bpf_pick = options_.bpf_pick;
  skel_->rodata->txn_slice_ns = ToNs(options_.txn_slice);
  skel_->rodata->pick_slice_ns = ToNs(options_.pick_slice);
  skel_->rodata->send_cpu_tick = options_.send_cpu_tick;
  skel_->rodata->resume_after_agent = options_.resume_after_agent;
  skel_->rodata->persist = options_.persist;
  if (options_.persist && options_.pin_dir.empty()) {
    return absl::InvalidArgumentError("a persistent scheduler needs a pin directory.");
  }
  skel_->rodata->nr_cpus = static_cast<uint32_t>(nr_cpus_);
  int64_t ms = absl::ToInt64Milliseconds(options_.watchdog);
  if (ms < 100 || ms > 30000) {
    return absl::InvalidArgumentError(
        "the watchdog must be between 100ms and 30s (sched_ext's limit).");
  }
  skel_->struct_ops.ghost_hybrid_ops->timeout_ms = static_cast<uint32_t>(ms);
  // Well before the watchdog would eject the scheduler for such a task.
  skel_->rodata->forgotten_after_ns =
      static_cast<uint64_t>(std::min<int64_t>(1000, ms / 4)) * 1000000;
  const uint32_t page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  const uint32_t ring = options_.channel_bytes;
  if (ring < page || ring > (1u << 30) || (ring & (ring - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the channel size must be a power of two between %u and %u bytes (got %u).", page,
        1u << 30, ring));
  }
  // A channel smaller than four batches of news would fill before the
  // agent is woken to drain it.
  skel_->rodata->news_wake_bytes = std::min<uint32_t>(GH_NEWS_WAKE_BYTES, ring / 4);
  if (bpf_map__set_max_entries(skel_->maps.default_channel, ring) != 0) {
    return absl::InternalError(absl::StrCat("cannot size the default channel: ", strerror(errno)));
  }

  absl::Time t0 = absl::Now();
  if (ghost_hybrid__load(skel_) != 0) {
    std::lock_guard<std::mutex> lock(g_log_mu);
    std::string tail = g_last_log->size() > 2000 ? g_last_log->substr(g_last_log->size() - 2000)
                                                 : *g_last_log;
    return absl::InternalError(absl::StrCat(
        "the kernel's BPF verifier rejected the scheduler (", strerror(errno),
        "); this ghost_hybrid build does not match the running kernel: rebuild "
        "with 'make clean all'. Verifier log tail:\n", tail));
  }
  start_up_.verify = absl::Now() - t0;
  TakeProgramFds();
  t0 = absl::Now();
  // Enclave: all CPUs unless told otherwise.
  for (int cpu = 0; cpu < nr_cpus_; cpu++) {
    bool in = options_.enclave.empty();
    for (int c : options_.enclave) in |= (c == cpu);
    if (in) skel_->bss->enclave[cpu / 64] |= 1ull << (cpu % 64);
  }
  // Free status-word indices.
  int free_fd = bpf_map__fd(skel_->maps.sw_free);
  for (uint32_t i = 0; i < GH_MAX_TASKS; i++) {
    if (bpf_map_update_elem(free_fd, nullptr, &i, BPF_ANY) != 0) {
      return absl::InternalError(absl::StrCat("cannot fill sw_free: ", strerror(errno)));
    }
  }
  if (absl::Status s = CreateInnerMaps(); !s.ok()) return s;
  if (absl::Status s = MapShared(bpf_map__fd(skel_->maps.task_sw),
                                 bpf_map__fd(skel_->maps.agent_sw), bpf_map__fd(skel_->maps.txn));
      !s.ok()) {
    return s;
  }
  if (!options_.pin_dir.empty()) {
    if (absl::Status s = PinMaps(); !s.ok()) return s;
  }
  start_up_.prepare = absl::Now() - t0;
  t0 = absl::Now();
  link_ = bpf_map__attach_struct_ops(skel_->maps.ghost_hybrid_ops);
  start_up_.attach = absl::Now() - t0;
  if (!link_) {
    int err = errno;
    if (err == EBUSY || err == EEXIST) {
      return absl::AlreadyExistsError(
          "another sched_ext scheduler is loaded: stop it first; only one can run at a time.");
    }
    return absl::InternalError(absl::StrCat("cannot attach the scheduler: ", strerror(err)));
  }
  if (options_.persist) return PinPersistent();
  return absl::OkStatus();
}

void BpfScheduler::TakeProgramFds() {
  prog_fds_[kCommit] = bpf_program__fd(skel_->progs.gh_commit);
  prog_fds_[kPing] = bpf_program__fd(skel_->progs.gh_ping);
  prog_fds_[kLocalYield] = bpf_program__fd(skel_->progs.gh_local_yield);
  prog_fds_[kRqOp] = bpf_program__fd(skel_->progs.gh_rq_op);
  prog_fds_[kSwFree] = bpf_program__fd(skel_->progs.gh_sw_free);
  prog_fds_[kAssociate] = bpf_program__fd(skel_->progs.gh_associate);
}

absl::Status BpfScheduler::CreateInnerMaps() {
  // Channel 0 is the object's own default_channel; 1.. are created here.
  int chans_fd = bpf_map__fd(skel_->maps.channels);
  int nchan = std::max(1, std::min(options_.nr_channels, static_cast<int>(GH_MAX_CHANNELS)));
  std::vector<int> ring_fds = {bpf_map__fd(skel_->maps.default_channel)};
  for (int i = 1; i < nchan; i++) {
    int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "gh_channel", 0, 0,
                            options_.channel_bytes, nullptr);
    uint32_t key = static_cast<uint32_t>(i);
    if (fd < 0 || bpf_map_update_elem(chans_fd, &key, &fd, BPF_ANY) != 0) {
      return absl::InternalError(absl::StrCat("cannot create channel ", i, ": ", strerror(errno)));
    }
    inner_fds_.push_back(fd);
    ring_fds.push_back(fd);
  }
  for (int fd : ring_fds) {
    absl::StatusOr<RingChannel> ch = RingChannel::Open(fd);
    if (!ch.ok()) return ch.status();
    channels_.push_back(std::move(*ch));
  }
  int bells_fd = bpf_map__fd(skel_->maps.doorbells);
  doorbell_fds_.assign(nr_cpus_, -1);
  doorbells_.resize(nr_cpus_);
  for (int cpu = 0; cpu < nr_cpus_; cpu++) {
    if (!in_enclave(cpu)) continue;
    int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "gh_doorbell", 0, 0, 4096, nullptr);
    uint32_t key = static_cast<uint32_t>(cpu);
    if (fd < 0 || bpf_map_update_elem(bells_fd, &key, &fd, BPF_ANY) != 0) {
      return absl::InternalError(
          absl::StrCat("cannot create doorbell for CPU ", cpu, ": ", strerror(errno)));
    }
    inner_fds_.push_back(fd);
    doorbell_fds_[cpu] = fd;
    absl::StatusOr<RingChannel> bell = RingChannel::Open(fd);
    if (!bell.ok()) return bell.status();
    doorbells_[cpu] = std::make_unique<RingChannel>(std::move(*bell));
  }
  return absl::OkStatus();
}

absl::Status BpfScheduler::MapShared(int task_sw_fd, int agent_sw_fd, int txn_fd) {
  absl::StatusOr<gh_status_word*> tsw = MapArray<gh_status_word>(skel_->maps.task_sw, task_sw_fd);
  if (!tsw.ok()) return tsw.status();
  task_sw_ = *tsw;
  absl::StatusOr<gh_status_word*> asw = MapArray<gh_status_word>(skel_->maps.agent_sw, agent_sw_fd);
  if (!asw.ok()) return asw.status();
  agent_sw_ = *asw;
  absl::StatusOr<gh_txn*> t = MapArray<gh_txn>(skel_->maps.txn, txn_fd);
  if (!t.ok()) return t.status();
  txn_ = *t;
  return absl::OkStatus();
}

absl::Status BpfScheduler::PinMaps() {
  const std::string& dir = options_.pin_dir;
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", strerror(errno)));
  }
  chmod(dir.c_str(), 0700);  // root only, even if it existed
  struct bpf_map* maps[] = {skel_->maps.runqueue, skel_->maps.task_sw, skel_->maps.agent_sw,
                            skel_->maps.txn, skel_->maps.bss, skel_->maps.data};
  for (struct bpf_map* m : maps) {
    // Internal maps are named "ghost_hy.bss" and so on; bpffs names may not
    // contain dots, so pin them as bss and data.
    std::string name = bpf_map__name(m);
    std::string path = absl::StrCat(dir, "/", name.substr(name.rfind('.') + 1));
    unlink(path.c_str());
    if (bpf_obj_pin(bpf_map__fd(m), path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot pin ", path, ": ", strerror(errno)));
    }
    chmod(path.c_str(), 0600);
    pinned_.push_back(path);
  }
  return absl::OkStatus();
}

void BpfScheduler::Unpin() {
  for (const std::string& p : pinned_) unlink(p.c_str());
  if (!pinned_.empty()) rmdir(options_.pin_dir.c_str());
  pinned_.clear();
}

BpfScheduler::~BpfScheduler() {
  if (link_) {
    if (keep_loaded_) bpf_link__disconnect(link_);  // its pin keeps it attached
    bpf_link__destroy(link_);
  }
  if (!keep_loaded_) Unpin();
  channels_.clear();
  doorbells_.clear();
  if (skel_) {
    UnmapArray(skel_->maps.task_sw, task_sw_);
    UnmapArray(skel_->maps.agent_sw, agent_sw_);
    UnmapArray(skel_->maps.txn, txn_);
  }
  for (auto [addr, bytes] : pinned_mmaps_) munmap(addr, bytes);
  for (int fd : pinned_fds_) close(fd);
  for (int fd : inner_fds_) close(fd);
  if (skel_) ghost_hybrid__destroy(skel_);
}

int BpfScheduler::RunProgram(int prog_fd, void* ctx, size_t size) {
  bpf_test_run_opts opts = {};
  opts.sz = sizeof(opts);
  opts.ctx_in = ctx;
  opts.ctx_size_in = static_cast<uint32_t>(size);
  int err = bpf_prog_test_run_opts(prog_fd, &opts);
  return err ? -errno : 0;
}

absl::StatusOr<uint32_t> BpfScheduler::Commit(const uint64_t (&mask)[GH_CPUMASK_WORDS],
                                              uint32_t flags) {
  gh_commit_args args = {};
  memcpy(args.cpumask, mask, sizeof(args.cpumask));
  args.flags = flags;
  if (int err = RunProgram(prog_fds_[kCommit], &args, sizeof(args))) {
    return absl::InternalError(absl::StrCat("commit failed: ", strerror(-err)));
  }
  return args.nr_submitted;
}

absl::StatusOr<int> BpfScheduler::RunPing(int cpu, bool make_global, int from_cpu) {
  gh_agent_args args = {};
  args.cpu = cpu;
  args.make_global = make_global;
  args.from_cpu = from_cpu;
  if (int err = RunProgram(prog_fds_[kPing], &args, sizeof(args))) {
    return absl::InternalError(absl::StrCat("ping failed: ", strerror(-err)));
  }
  if (args.result == -EINVAL) return absl::InvalidArgumentError(absl::StrCat("no agent on CPU ", cpu));
  return args.result;
}

absl::Status BpfScheduler::Ping(int cpu) { return RunPing(cpu, false, -1).status(); }

absl::StatusOr<bool> BpfScheduler::MoveGlobal(int from, int to) {
  absl::StatusOr<int> result = RunPing(to, true, from);
  if (!result.ok()) return result.status();
  return *result != -EAGAIN;
}

absl::StatusOr<bool> BpfScheduler::LocalYieldPrepare(int cpu, bool check, uint32_t barrier) {
  gh_agent_args args = {};
  args.cpu = cpu;
  args.check_barrier = check;
  args.agent_barrier = barrier;
  if (int err = RunProgram(prog_fds_[kLocalYield], &args, sizeof(args))) {
    return absl::InternalError(absl::StrCat("local yield failed: ", strerror(-err)));
  }
  if (args.result == -ESTALE) return false;
  if (args.result) return absl::InvalidArgumentError(absl::StrCat("no agent on CPU ", cpu));
  return true;
}

absl::Status BpfScheduler::RunqueueOp(uint64_t gtid, gh_rq_op op) {
  gh_rq_op_args args = {};
  args.gtid = gtid;
  args.op = op;
  if (int err = RunProgram(prog_fds_[kRqOp], &args, sizeof(args))) {
    return absl::InternalError(absl::StrCat("runqueue op failed: ", strerror(-err)));
  }
  if (args.result == -ENOENT) {
    return absl::NotFoundError(absl::StrCat("task ", gtid, " is not waiting in the queue it would leave"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> BpfScheduler::FreeStatusWords(const gh_sw_free_args& batch) {
  gh_sw_free_args args = batch;
  if (int err = RunProgram(prog_fds_[kSwFree], &args, sizeof(args))) {
    return absl::InternalError(absl::StrCat("freeing status words failed: ", strerror(-err)));
  }
  return args.nr_freed;
}

absl::Status BpfScheduler::AssociateTask(uint64_t gtid, uint32_t sw_index, uint32_t barrier,
                                         uint32_t channel) {
  if (channel >= channels_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("no channel ", channel));
  }
  gh_associate_args args = {};
  args.gtid = gtid;
  args.sw_index = sw_index;
  args.channel = channel;
  args.barrier = barrier;
  if (int err = RunProgram(prog_fds_[kAssociate], &args, sizeof(args))) {
    return absl::InternalError(absl::StrCat("cannot associate task: ", strerror(-err)));
  }
  switch (args.result) {
    case 0: return absl::OkStatus();
    case -ESTALE:
      return absl::FailedPreconditionError(
          absl::StrFormat("task %#x: Tseq %u is stale", gtid, barrier));
    case -ENOENT: return absl::NotFoundError(absl::StrFormat("no task %#x", gtid));
    default: return absl::InvalidArgumentError(absl::StrCat("no channel ", channel));
  }
}

void BpfScheduler::RegisterAgent(int cpu, int tid, bool active) {
  if (active) __atomic_fetch_or(&agent_sw_[cpu].flags, GH_SW_AGENT_ACTIVE, __ATOMIC_SEQ_CST);
  __atomic_store_n(&skel_->bss->agent_pid[cpu], tid, __ATOMIC_SEQ_CST);
}

int BpfScheduler::agent_tid(int cpu) const {
  if (cpu < 0 || cpu >= nr_cpus_) return 0;
  return __atomic_load_n(&skel_->bss->agent_pid[cpu], __ATOMIC_ACQUIRE);
}

void BpfScheduler::SetChannelAgent(uint32_t channel, int cpu) {
  __atomic_store_n(&skel_->data->chan_agent[channel], cpu, __ATOMIC_SEQ_CST);
}

void BpfScheduler::SetCpuChannel(int cpu, uint32_t channel) {
  __atomic_store_n(&skel_->bss->cpu_channel[cpu], channel, __ATOMIC_SEQ_CST);
}

void BpfScheduler::SetGlobalSuccessors(const std::vector<int>& successors) {
  // Rewritten in place while BPF may read it: a reader sees each entry old
  // or new, every one of them an enclave CPU or the -1 that ends the list.
  for (size_t i = 0; i < GH_MAX_CPUS; i++) {
    int v = i < successors.size() ? successors[i] : -1;
    __atomic_store_n(&skel_->data->global_successors[i], v, __ATOMIC_SEQ_CST);
  }
}

void BpfScheduler::SetGlobalCpu(int cpu, const std::vector<int>& successors) {
  SetGlobalSuccessors(successors);
  __atomic_store_n(&skel_->data->global_cpu, cpu, __ATOMIC_SEQ_CST);
}

int BpfScheduler::global_cpu() const {
  return __atomic_load_n(&skel_->data->global_cpu, __ATOMIC_ACQUIRE);
}

int BpfScheduler::doorbell_fd(int cpu) const {
  return cpu >= 0 && cpu < static_cast<int>(doorbell_fds_.size()) ? doorbell_fds_[cpu] : -1;
}

void BpfScheduler::DrainDoorbell(int cpu) {
  if (cpu >= 0 && cpu < static_cast<int>(doorbells_.size()) && doorbells_[cpu]) {
    doorbells_[cpu]->DrainAll();
  }
}

bool BpfScheduler::in_enclave(int cpu) const {
  if (cpu < 0 || cpu >= nr_cpus_) return false;
  return skel_->bss->enclave[cpu / 64] & (1ull << (cpu % 64));
}

uint64_t BpfScheduler::stat(gh_stat which) const {
  return __atomic_load_n(&skel_->bss->stats[which], __ATOMIC_ACQUIRE);
}

uint64_t BpfScheduler::kernel_features() const {
  return __atomic_load_n(&skel_->bss->kernel_features, __ATOMIC_ACQUIRE);
}

ExitInfo BpfScheduler::exit_info() const {
  ExitInfo info;
  info.kind = __atomic_load_n(&skel_->bss->exit_info.kind, __ATOMIC_ACQUIRE);
  if (info.kind == 0) return info;  // still running: nothing else written
  info.exit_code = skel_->bss->exit_info.exit_code;
  info.reason = std::string(skel_->bss->exit_info.reason,
                            strnlen(skel_->bss->exit_info.reason, sizeof(skel_->bss->exit_info.reason)));
  info.message = std::string(skel_->bss->exit_info.msg,
                             strnlen(skel_->bss->exit_info.msg, sizeof(skel_->bss->exit_info.msg)));
  info.dump = std::string(skel_->bss->exit_dump,
                          strnlen(skel_->bss->exit_dump, sizeof(skel_->bss->exit_dump)));
  return info;
}

bool BpfScheduler::Attached() const {
  return __atomic_load_n(&skel_->bss->exit_info.kind, __ATOMIC_ACQUIRE) == 0;
}

void BpfScheduler::SetAgentProcess(int pid) {
  __atomic_store_n(&skel_->bss->agent_tgid, pid, __ATOMIC_SEQ_CST);
}

uint32_t BpfScheduler::live_agent_threads() const {
  return __atomic_load_n(&skel_->bss->nr_agents, __ATOMIC_ACQUIRE);
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

std::string SchedExtState() { return ReadFirstLine("/sys/kernel/sched_ext/state"); }

bool BpfScheduler::Running() const {
  return exit_info().kind == 0 && SchedExtState() == "enabled";
}

}  // namespace gh
