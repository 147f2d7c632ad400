// ghost_hybrid: schedules a command with a ghOSt-style agent on sched_ext.
// See flags.h for the command line and exit statuses, README.md for usage.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "agent/cli/dump.h"
#include "agent/cli/flags.h"
#include "agent/cli/workload.h"
#include "agent/cli/report.h"
#include "agent/kernel/bpf_scheduler.h"
#include "agent/kernel/kernel_enclave.h"
#include "agent/kernel/task_policy.h"
#include "agent/lib/topology.h"
#include "agent/schedulers/fifo_centralized.h"
#include "agent/schedulers/fifo_percpu.h"

namespace gh {

constexpr const char* kPinDir = "/sys/fs/bpf/ghost_hybrid";

namespace {

std::atomic<int> g_stop_signal{0};

void OnSignal(int sig) { g_stop_signal.store(sig); }

int Fail(int code, const absl::Status& s) {
  fprintf(stderr, "ghost_hybrid: %s\n", std::string(s.message()).c_str());
  return code;
}

int ExitForLoadError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      return Fail(kExitEnvironment, s);
    case absl::StatusCode::kInvalidArgument:
      return Fail(kExitUsage, s);
    default:
      return Fail(kExitLoad, s);
  }
}

absl::Status ValidateCpus(const Config& cfg, int nr_cpus) {
  for (int c : cfg.cpus) {
    if (c >= nr_cpus) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--cpus names CPU %d but this machine has CPUs 0-%d.", c, nr_cpus - 1));
    }
  }
  if (cfg.global_cpu >= 0) {
    bool in = cfg.cpus.empty() ? cfg.global_cpu < nr_cpus : false;
    for (int c : cfg.cpus) in |= c == cfg.global_cpu;
    if (!in) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--global-cpu=%d is not in the enclave (--cpus): pick one of its CPUs.",
          cfg.global_cpu));
    }
  }
  return absl::OkStatus();
}

// The agent side: the enclave over the loaded scheduler plus one model's
// agents (a thread per enclave CPU).
struct AgentSide {
  std::unique_ptr<KernelEnclave> enclave;
  std::unique_ptr<FullAgent> agents;
};

absl::StatusOr<AgentSide> StartAgents(const Config& cfg, BpfScheduler& sched) {
  absl::StatusOr<Topology> topo = Topology::FromSysfs();
  if (!topo.ok()) return topo.status();
  CpuList cpus;
  for (int c = 0; c < sched.nr_cpus(); c++) {
    if (sched.in_enclave(c)) cpus.Set(c);
  }
  AgentSide side;
  side.enclave = std::make_unique<KernelEnclave>(&sched, *topo, cpus);
  if (cfg.model == Model::kPerCpu) {
    for (int c : cpus) sched.SetCpuChannel(c, static_cast<uint32_t>(c + 1));
    side.agents = std::make_unique<FullPerCpuFifoAgent>(side.enclave.get(), PerCpuFifoConfig{});
  } else {
    int global = cfg.global_cpu >= 0 ? cfg.global_cpu : cpus.Front();
    // The kernel side's successor order for a global CPU taken by a higher
    // class: SMT sibling, L3, NUMA node, any (PickNextGlobalCPU's order).
    std::vector<int> successors;
    for (const CpuList& level : {topo->siblings(global), topo->l3_siblings(global),
                                 topo->numa_cpus(global), cpus}) {
      for (int c : level.Intersect(cpus)) {
        if (c != global && std::find(successors.begin(), successors.end(), c) == successors.end())
          successors.push_back(c);
      }
    }
    sched.SetGlobalCpu(global, successors);
    side.enclave->set_movable_agents(true);
    side.agents = std::make_unique<FullCentralizedFifoAgent>(
        side.enclave.get(), CentralizedFifoConfig{global, cfg.slice, cfg.agent_spin});
  }
  side.agents->StartAgentThreads();
  return side;
}

// Why the kernel stopped the scheduler, and its exit dump (with our
// ops.dump lines: each CPU's transaction slot and agent, each task's Tseq).
void ReportEjection(const ExitInfo& e) {
  fprintf(stderr, "ghost_hybrid: the kernel stopped the scheduler: %s%s%s\n", e.reason.c_str(),
          e.message.empty() ? "" : ": ", e.message.c_str());
  if (!e.dump.empty()) {
    fprintf(stderr, "ghost_hybrid: the kernel's exit dump:\n%s%s", e.dump.c_str(),
            e.dump.back() == '\n' ? "" : "\n");
  }
}

int Run(const Config& cfg) {
  int nr_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_CONF));
  if (absl::Status s = ValidateCpus(cfg, nr_cpus); !s.ok()) return Fail(kExitUsage, s);
  if (cfg.model == Model::kPerCpu && cfg.bpf_pick) {
    return Fail(kExitUsage, absl::InvalidArgumentError(
                                "--model=percpu does not support --bpf-pick: a task the kernel "
                                "runs anywhere breaks per-CPU ownership; drop one of them."));
  }
  absl::StatusOr<std::optional<Credentials>> creds = ResolveWorkloadUser(cfg.user);
  if (!creds.ok()) return Fail(kExitUsage, creds.status());
  if (cfg.pid && kill(cfg.pid, 0) != 0 && errno == ESRCH) {
    return Fail(kExitUsage, absl::NotFoundError(absl::StrFormat(
                                "no process with pid %d: check the --pid value.", cfg.pid)));
  }

  BpfSchedulerOptions opts;
  opts.bpf_pick = cfg.bpf_pick;
  opts.watchdog = cfg.watchdog;
  // Slices are the kernel's: the centralized agent's policy, per commit and
  // per pick. ghOSt's per-CPU FIFO has none: its tasks run until they stop.
  opts.txn_slice = cfg.model == Model::kCentralized ? cfg.slice : absl::InfiniteDuration();
  opts.pick_slice = cfg.slice;
  opts.resume_after_agent = cfg.model == Model::kCentralized;
  opts.enclave = cfg.cpus;
  opts.pin_dir = kPinDir;
  opts.nr_channels = cfg.model == Model::kPerCpu ? nr_cpus + 1 : 1;
  absl::StatusOr<std::unique_ptr<BpfScheduler>> sched = BpfScheduler::Load(opts);
  if (!sched.ok()) return ExitForLoadError(sched.status());
  // A page fault in an agent could need a CPU that only the agent can give.
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    fprintf(stderr, "ghost_hybrid: warning: mlockall failed (%s); agent page faults may stall scheduling\n",
            strerror(errno));
  }

  absl::StatusOr<AgentSide> side = StartAgents(cfg, **sched);
  if (!side.ok()) {
    sched->reset();
    return Fail(kExitFailure, side.status());
  }
  const AgentStats& stats = side->agents->scheduler()->stats();

  pid_t child = -1;
  int status = 0;
  absl::Status started = absl::OkStatus();
  if (!cfg.command.empty()) {
    absl::StatusOr<pid_t> pid = StartWorkload(cfg.command, *creds, cfg.cpus);
    if (pid.ok()) child = *pid; else started = pid.status();
  } else if (cfg.pid) {
    absl::StatusOr<int> n = AdoptProcess(cfg.pid);
    if (!n.ok()) started = n.status();
  }

  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  Snapshot first = Snapshot::Take(stats, **sched), prev = first;
  absl::Time next_stats = first.when + cfg.stats_interval;
  bool child_done = false, ejected = false;
  while (started.ok() && !g_stop_signal.load()) {
    if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
      child_done = true;
      break;
    }
    if (!ejected && (*sched)->exit_info().kind != 0) {
      ReportEjection((*sched)->exit_info());
      ejected = true;
      if (child <= 0) break;
    }
    if (cfg.stats_interval > absl::ZeroDuration() && absl::Now() >= next_stats) {
      Snapshot now = Snapshot::Take(stats, **sched);
      printf("%s\n", StatsLine(first, prev, now, stats).c_str());
      if (getenv("GHOST_HYBRID_DEBUG")) fputs(DebugState(**sched).c_str(), stdout);
      prev = now;
      next_stats += cfg.stats_interval;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (!ejected && !(*sched)->Attached()) {
    ReportEjection((*sched)->exit_info());
    ejected = true;
  }
  Snapshot last = Snapshot::Take(stats, **sched);
  if (started.ok()) fprintf(stderr, "%s (summary)\n", StatsLine(first, first, last, stats).c_str());
  if (!cfg.stats_json.empty()) {
    std::ofstream(cfg.stats_json) << StatsJson(first, last, stats, **sched, ejected,
                                               child_done ? ExitCodeOf(status) : -1);
  }
  // Agents first (a parked one is pinged awake), then the scheduler: every
  // managed task returns to the fair class.
  side->agents->TerminateAgents(/*force=*/true);
  side->agents.reset();
  side->enclave.reset();
  sched->reset();
  if (!started.ok()) {
    int code = cfg.pid ? kExitUsage
               : started.code() == absl::StatusCode::kNotFound ? kExitNotFound : kExitFailure;
    return Fail(code, started);
  }
  if (child > 0 && !child_done) waitpid(child, &status, 0);
  if (child > 0 && ejected) {
    // Never silent: the command finished, but not under this scheduler.
    fprintf(stderr,
            "ghost_hybrid: the command exited with status %d, but the kernel ejected the "
            "scheduler while it ran (see above); exiting with status %d.\n",
            ExitCodeOf(status), kExitEjected);
    return kExitEjected;
  }
  if (child > 0) return ExitCodeOf(status);
  return ejected ? kExitEjected : kExitOk;
}

}  // namespace
}  // namespace gh

int main(int argc, char** argv) {
  absl::StatusOr<gh::Config> cfg = gh::ParseCommandLine(argc, argv);
  if (!cfg.ok()) return gh::Fail(gh::kExitUsage, cfg.status());
  if (cfg->help) {
    fputs(gh::UsageText().c_str(), stdout);
    return gh::kExitOk;
  }
  if (cfg->dump) {
    absl::StatusOr<std::string> dump = gh::DumpPinnedState(gh::kPinDir);
    if (!dump.ok()) return gh::Fail(gh::kExitEnvironment, dump.status());
    fputs(dump->c_str(), stdout);
    return gh::kExitOk;
  }
  return gh::Run(*cfg);
}
