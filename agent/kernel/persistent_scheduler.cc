// SPDX-License-Identifier: Apache-2.0
#include "agent/kernel/persistent_scheduler.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "agent/kernel/bpf_scheduler.h"
#include "agent/kernel/pinned_map.h"
#include "skel/ghost_hybrid.skel.h"

namespace gh {
namespace {

using Bss = ghost_hybrid::ghost_hybrid__bss;
using Data = ghost_hybrid::ghost_hybrid__data;
using Rodata = ghost_hybrid::ghost_hybrid__rodata;  // in the fingerprint

constexpr uint64_t kSliceInf = ~0ull;

// The syscall programs an agent runs, pinned under their own names.
constexpr const char* kProgramPins[] = {"gh_commit", "gh_ping", "gh_local_yield",
                                        "gh_rq_op", "gh_sw_free", "gh_associate"};

constexpr uint64_t Mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ull; }

// This build's fingerprint of the ABI's layout: the sizes of every struct
// of bpf/intf.h and of the scheduler's global sections. Two builds with the
// same GH_ABI_VERSION but another fingerprint cannot share a scheduler.
constexpr uint64_t kAbiLayout = [] {
  const uint64_t parts[] = {
      GH_ABI_VERSION, sizeof(gh_msg_hdr), sizeof(gh_msg), sizeof(gh_status_word),
      sizeof(gh_txn), sizeof(gh_commit_args), sizeof(gh_rq_entry), sizeof(gh_rq_op_args),
      sizeof(gh_agent_args), sizeof(gh_sw_free_args), sizeof(gh_associate_args),
      sizeof(gh_exit_info), sizeof(gh_cpu_state), sizeof(gh_instance), sizeof(Bss), sizeof(Data),
      sizeof(Rodata), GH_NR_STATS, GH_MSG_NR_TYPES, GH_TXN_NR_STATES, GH_MAX_CPUS, GH_MAX_TASKS,
      GH_MAX_CHANNELS};
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t p : parts) h = Mix(h, p);
  return h;
}();

absl::Duration FromNs(uint64_t ns) {
  return ns == kSliceInf ? absl::InfiniteDuration() : absl::Nanoseconds(ns);
}

// Opens the pinned map @name and checks that it is the array this build's
// skeleton declares for @map (value size, entries).
absl::StatusOr<PinnedMap> OpenMatching(const std::string& dir, const char* name,
                                       const struct bpf_map* map) {
  absl::StatusOr<PinnedMap> m = PinnedMap::Open(dir, name);
  if (!m.ok()) return m.status();
  absl::StatusOr<bpf_map_info> info = m->Info();
  if (!info.ok()) return info.status();
  if (info->value_size != bpf_map__value_size(map) ||
      info->max_entries != bpf_map__max_entries(map)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the running scheduler's map %s has another layout than this build's: attach with the "
        "ghost_hybrid build that loaded it.",
        name));
  }
  return m;
}

// True if @pid runs a ghost_hybrid binary: the only process --detach
// signals, whatever pid the maps hold.
bool IsGhostHybrid(pid_t pid) {
  return ReadFirstLine(absl::StrCat("/proc/", pid, "/comm")).rfind("ghost_hybrid", 0) == 0;
}

// The fd of the inner map at @key of the map-of-maps @outer_fd.
absl::StatusOr<int> InnerMapFd(int outer_fd, uint32_t key, const char* what) {
  uint32_t id = 0;
  if (bpf_map_lookup_elem(outer_fd, &key, &id) != 0 || id == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the running scheduler has no ", what, " ", key, " (", strerror(errno), ")."));
  }
  int fd = bpf_map_get_fd_by_id(id);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", what, " ", key, ": ", strerror(errno)));
  }
  return fd;
}

}  // namespace

bool ProcessLives(pid_t pid) {
  if (pid <= 0) return false;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t paren = line.rfind(')');  // the name may hold spaces and ')'
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z' &&
         line[paren + 2] != 'X';
}

absl::StatusOr<PersistentStatus> ReadPersistentStatus(const std::string& dir) {
  if (geteuid() != 0) {
    return absl::PermissionDeniedError(
        "a persistent scheduler's pins are root's: run it with sudo.");
  }
  const std::string link = absl::StrCat(dir, "/link");
  if (access(link.c_str(), F_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(
        "no persistent ghost_hybrid scheduler is loaded (nothing pinned at ", link,
        "): start one with ghost_hybrid --persist."));
  }
  absl::StatusOr<PinnedMap> inst = PinnedMap::Open(dir, "instance");
  if (!inst.ok()) return inst.status();
  absl::StatusOr<uint32_t> size = inst->ValueSize();
  if (!size.ok()) return size.status();
  std::vector<char> raw(std::max<uint32_t>(*size, sizeof(gh_instance)));
  if (*size < sizeof(uint32_t)) {
    return absl::FailedPreconditionError(absl::StrCat(inst->path(), " is no ghost_hybrid record."));
  }
  if (absl::Status s = inst->Read(0, raw.data()); !s.ok()) return s;
  PersistentStatus st;
  memcpy(&st.abi_version, raw.data(), sizeof(st.abi_version));
  if (*size != sizeof(gh_instance)) return st;
  memcpy(&st.instance, raw.data(), sizeof(gh_instance));
  st.abi_matches = st.abi_version == GH_ABI_VERSION && st.instance.abi_layout == kAbiLayout;
  if (!st.abi_matches) return st;
  absl::StatusOr<PinnedMap> bss = PinnedMap::Open(dir, "bss");
  if (!bss.ok()) return bss.status();
  absl::StatusOr<uint32_t> bss_size = bss->ValueSize();
  if (!bss_size.ok()) return bss_size.status();
  if (*bss_size != sizeof(Bss)) {
    st.abi_matches = false;
    return st;
  }
  auto value = std::make_unique<Bss>();
  if (absl::Status s = bss->Read(0, value.get()); !s.ok()) return s;
  st.agent_pid = value->agent_tgid;
  st.agent_threads = value->nr_agents;
  st.ejected = value->exit_info.kind != 0;
  st.exit_reason = std::string(value->exit_info.reason,
                               strnlen(value->exit_info.reason, sizeof(value->exit_info.reason)));
  return st;
}

std::string AbiMismatchMessage(const PersistentStatus& st) {
  const std::string by = st.instance.loader_version[0] && st.abi_version == st.instance.abi_version
                             ? absl::StrCat(" (loaded by ghost_hybrid ",
                                            std::string(st.instance.loader_version,
                                                        strnlen(st.instance.loader_version,
                                                                sizeof(st.instance.loader_version))),
                                            ")")
                             : "";
  const std::string what =
      st.abi_version == GH_ABI_VERSION
          ? absl::StrFormat("another layout of ABI version %u than this build", st.abi_version)
          : absl::StrFormat("ABI version %u and this build version %u", st.abi_version,
                            GH_ABI_VERSION);
  return absl::StrCat("the persistent scheduler", by, " speaks ", what,
                      ": attach with the build that loaded it, or replace it (ghost_hybrid "
                      "--stop, then --persist).");
}

absl::StatusOr<int> DetachAgent(const std::string& dir, absl::Duration timeout) {
  absl::StatusOr<PersistentStatus> st = ReadPersistentStatus(dir);
  if (!st.ok()) return st.status();
  if (!st->abi_matches) return absl::FailedPreconditionError(AbiMismatchMessage(*st));
  const int pid = st->agent_pid;
  // No agent thread alive: none is attached (a killed agent leaves its pid
  // behind, which may belong to another process by now).
  if (st->agent_threads == 0) return 0;
  if (pid > 0 && ProcessLives(pid) && IsGhostHybrid(pid) && kill(pid, SIGTERM) != 0) {
    return absl::InternalError(absl::StrCat("cannot signal agent process ", pid, ": ",
                                            strerror(errno)));
  }
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    absl::StatusOr<PersistentStatus> now = ReadPersistentStatus(dir);
    if (!now.ok()) return now.status();
    if (!ProcessLives(pid) && now->agent_threads == 0) return pid;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrFormat(
      "the agent (pid %d) did not detach within %s: stop it with kill -KILL %d (the "
      "scheduler runs every task itself once its agent threads are gone).",
      pid, absl::FormatDuration(timeout), pid));
}

absl::Status StopPersistent(const std::string& dir, absl::Duration timeout) {
  absl::StatusOr<PersistentStatus> st = ReadPersistentStatus(dir);
  if (!st.ok()) return st.status();
  if (st->abi_matches) {
    absl::StatusOr<int> detached = DetachAgent(dir, timeout);
    if (!detached.ok()) return detached.status();
  }
  // The link last: until then the scheduler runs as before.
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != ".." && name != "link") names.push_back(name);
    }
    closedir(d);
  }
  names.push_back("link");
  for (const std::string& name : names) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return absl::InternalError(absl::StrCat("cannot remove ", path, ": ", strerror(errno)));
    }
  }
  rmdir(dir.c_str());
  // "disabling" passes once every task is back in the fair class.
  const absl::Time end = absl::Now() + timeout;
  std::string state;
  while ((state = SchedExtState()) != "disabled" && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (state != "disabled") {
    return absl::DeadlineExceededError(absl::StrCat(
        "the pins are gone but the scheduler is still ", state, " after ",
        absl::FormatDuration(timeout), ": a process may hold its link open."));
  }
  return absl::OkStatus();
}

// ------------------------------------------------------ BpfScheduler side

absl::Status BpfScheduler::PinPersistent() {
  static_assert(std::size(kProgramPins) == kNumPrograms, "a pin name per program");
  const std::string& dir = options_.pin_dir;
  auto pin = [&](int fd, const char* name) -> absl::Status {
    const std::string path = absl::StrCat(dir, "/", name);
    unlink(path.c_str());
    if (bpf_obj_pin(fd, path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot pin ", path, ": ", strerror(errno)));
    }
    chmod(path.c_str(), 0600);
    pinned_.push_back(path);
    return absl::OkStatus();
  };
  gh_instance inst = {};
  inst.abi_version = GH_ABI_VERSION;
  inst.abi_layout = kAbiLayout;
  inst.flags = (options_.bpf_pick ? GH_INSTANCE_BPF_PICK : 0) |
               (options_.resume_after_agent ? GH_INSTANCE_RESUME_AFTER_AGENT : 0);
  inst.txn_slice_ns = skel_->rodata->txn_slice_ns;
  inst.pick_slice_ns = skel_->rodata->pick_slice_ns;
  inst.nr_cpus = static_cast<uint32_t>(nr_cpus_);
  inst.nr_channels = static_cast<uint32_t>(channels_.size());
  inst.channel_bytes = options_.channel_bytes;
  snprintf(inst.loader_version, sizeof(inst.loader_version), "%s",
           options_.loader_version.c_str());
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "gh_instance", sizeof(uint32_t), sizeof(inst), 1,
                          nullptr);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot record the instance: ", strerror(errno)));
  pinned_fds_.push_back(fd);
  const uint32_t zero = 0;
  if (bpf_map_update_elem(fd, &zero, &inst, BPF_ANY) != 0) {
    return absl::InternalError(absl::StrCat("cannot record the instance: ", strerror(errno)));
  }
  const std::pair<int, const char*> maps[] = {
      {fd, "instance"},
      {bpf_map__fd(skel_->maps.default_channel), "default_channel"},
      {bpf_map__fd(skel_->maps.channels), "channels"},
      {bpf_map__fd(skel_->maps.doorbells), "doorbells"},
      // A BPF timer dies with the last user reference to its map: pinned,
      // the periodic rescue and hand-off timer outlives the loader.
      {bpf_map__fd(skel_->maps.handoff_timers), "handoff_timers"},
  };
  for (const auto& [map_fd, name] : maps) {
    if (absl::Status s = pin(map_fd, name); !s.ok()) return s;
  }
  for (size_t i = 0; i < std::size(kProgramPins); i++) {
    if (absl::Status s = pin(prog_fds_[i], kProgramPins[i]); !s.ok()) return s;
  }
  // Last: an agent that finds the link finds everything else.
  if (absl::Status s = pin(bpf_link__fd(link_), "link"); !s.ok()) return s;
  keep_loaded_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BpfScheduler>> BpfScheduler::Attach(const std::string& dir,
                                                                   absl::Duration wait_for_exit) {
  absl::StatusOr<PersistentStatus> st = ReadPersistentStatus(dir);
  if (!st.ok()) return st.status();
  if (!st->abi_matches) return absl::FailedPreconditionError(AbiMismatchMessage(*st));
  if (st->ejected) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the persistent scheduler was stopped by the kernel (", st->exit_reason,
        "): unload it with ghost_hybrid --stop and start another with --persist."));
  }
  const gh_instance& inst = st->instance;
  if (inst.nr_channels < 1 || inst.nr_channels > GH_MAX_CHANNELS) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the persistent scheduler's record names %u channels: it is damaged; replace it "
        "(ghost_hybrid --stop, then --persist).",
        inst.nr_channels));
  }
  BpfSchedulerOptions o;
  o.bpf_pick = inst.flags & GH_INSTANCE_BPF_PICK;
  o.resume_after_agent = inst.flags & GH_INSTANCE_RESUME_AFTER_AGENT;
  o.txn_slice = FromNs(inst.txn_slice_ns);
  o.pick_slice = FromNs(inst.pick_slice_ns);
  o.nr_channels = static_cast<int>(inst.nr_channels);
  o.channel_bytes = inst.channel_bytes;
  o.pin_dir = dir;
  o.persist = true;
  o.loader_version = std::string(inst.loader_version,
                                 strnlen(inst.loader_version, sizeof(inst.loader_version)));
  std::unique_ptr<BpfScheduler> sched(new BpfScheduler(o));
  if (absl::Status s = sched->OpenPinned(dir, inst, wait_for_exit); !s.ok()) return s;
  return sched;
}

absl::Status BpfScheduler::OpenPinned(const std::string& dir, const gh_instance& inst,
                                      absl::Duration wait_for_exit) {
  nr_cpus_ = libbpf_num_possible_cpus();
  if (nr_cpus_ != static_cast<int>(inst.nr_cpus)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the persistent scheduler was loaded for %u possible CPUs and this machine now has %d: "
        "replace it (ghost_hybrid --stop, then --persist).",
        inst.nr_cpus, nr_cpus_));
  }
  // Opened for the layouts of the maps and sections only: nothing loads.
  skel_ = ghost_hybrid__open();
  if (!skel_) return absl::InternalError("cannot open the BPF object (libbpf).");
  auto keep = [&](absl::StatusOr<PinnedMap> m) -> absl::StatusOr<int> {
    if (!m.ok()) return m.status();
    pinned_fds_.push_back(m->Release());
    return pinned_fds_.back();
  };
  // The global sections: skel_'s pointers are redirected to the pins'.
  auto map_section = [&](const char* name, struct bpf_map* map, void** ptr) -> absl::Status {
    absl::StatusOr<int> fd = keep(OpenMatching(dir, name, map));
    if (!fd.ok()) return fd.status();
    const size_t bytes = bpf_map__value_size(map);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    if (p == MAP_FAILED) {
      return absl::InternalError(absl::StrCat("cannot map ", name, ": ", strerror(errno)));
    }
    pinned_mmaps_.emplace_back(p, bytes);
    *ptr = p;
    return absl::OkStatus();
  };
  if (absl::Status s = map_section("bss", skel_->maps.bss, reinterpret_cast<void**>(&skel_->bss));
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          map_section("data", skel_->maps.data, reinterpret_cast<void**>(&skel_->data));
      !s.ok()) {
    return s;
  }
  // ghOSt's order: the old agent has stopped deciding before this one
  // starts. A killed one's threads may take a moment to exit.
  const absl::Time end = absl::Now() + wait_for_exit;
  while (live_agent_threads() > 0) {
    const int pid = __atomic_load_n(&skel_->bss->agent_tgid, __ATOMIC_ACQUIRE);
    if (ProcessLives(pid) || absl::Now() >= end) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "an agent (pid %d) is attached to the persistent scheduler: detach it first with "
          "ghost_hybrid --detach.",
          pid));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  for (int cpu = 0; cpu < nr_cpus_; cpu++) {
    if (in_enclave(cpu)) options_.enclave.push_back(cpu);
  }
  absl::StatusOr<int> task_sw = keep(OpenMatching(dir, "task_sw", skel_->maps.task_sw));
  if (!task_sw.ok()) return task_sw.status();
  absl::StatusOr<int> agent_sw = keep(OpenMatching(dir, "agent_sw", skel_->maps.agent_sw));
  if (!agent_sw.ok()) return agent_sw.status();
  absl::StatusOr<int> txn = keep(OpenMatching(dir, "txn", skel_->maps.txn));
  if (!txn.ok()) return txn.status();
  if (absl::Status s = MapShared(*task_sw, *agent_sw, *txn); !s.ok()) return s;

  // Channels: the default one is pinned, the others hang off `channels`.
  absl::StatusOr<int> chan0 = keep(PinnedMap::Open(dir, "default_channel"));
  if (!chan0.ok()) return chan0.status();
  absl::StatusOr<int> chans = keep(PinnedMap::Open(dir, "channels"));
  if (!chans.ok()) return chans.status();
  std::vector<int> ring_fds = {*chan0};
  for (uint32_t i = 1; i < inst.nr_channels; i++) {
    absl::StatusOr<int> fd = InnerMapFd(*chans, i, "channel");
    if (!fd.ok()) return fd.status();
    inner_fds_.push_back(*fd);
    ring_fds.push_back(*fd);
  }
  for (int fd : ring_fds) {
    absl::StatusOr<RingChannel> ch = RingChannel::Open(fd);
    if (!ch.ok()) return ch.status();
    channels_.push_back(std::move(*ch));
  }
  absl::StatusOr<int> bells = keep(PinnedMap::Open(dir, "doorbells"));
  if (!bells.ok()) return bells.status();
  doorbell_fds_.assign(nr_cpus_, -1);
  doorbells_.resize(nr_cpus_);
  for (int cpu : options_.enclave) {
    absl::StatusOr<int> fd = InnerMapFd(*bells, static_cast<uint32_t>(cpu), "doorbell of CPU");
    if (!fd.ok()) return fd.status();
    inner_fds_.push_back(*fd);
    doorbell_fds_[cpu] = *fd;
    absl::StatusOr<RingChannel> bell = RingChannel::Open(*fd);
    if (!bell.ok()) return bell.status();
    doorbells_[cpu] = std::make_unique<RingChannel>(std::move(*bell));
  }
  for (size_t i = 0; i < std::size(kProgramPins); i++) {
    absl::StatusOr<int> fd = keep(PinnedMap::Open(dir, kProgramPins[i]));
    if (!fd.ok()) return fd.status();
    prog_fds_[i] = *fd;
  }
  keep_loaded_ = true;
  return absl::OkStatus();
}

}  // namespace gh
