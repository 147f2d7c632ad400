// ghost_hybrid: schedules a command with a ghOSt-style agent on sched_ext.
// See flags.h for the command line and exit statuses, README.md for usage.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "agent/cli/flags.h"
#include "agent/cli/workload.h"
#include "agent/kernel/bpf_scheduler.h"

namespace gh {
namespace {

constexpr const char* kPinDir = "/sys/fs/bpf/ghost_hybrid";
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

// Counters of messages seen by type, drained from the default channel.
struct MessageCounts {
  uint64_t by_type[GH_MSG_NR_TYPES] = {};
  uint64_t total = 0;
  void Drain(RingChannel& ch) {
    while (const gh_msg* m = ch.Peek()) {
      if (m->hdr.type < GH_MSG_NR_TYPES) by_type[m->hdr.type]++;
      total++;
      ch.Consume();
    }
  }
};

void PrintStats(const BpfScheduler& s, const MessageCounts& m, absl::Duration since_start,
                FILE* out) {
  absl::FPrintF(out,
                "ghost_hybrid: t=%.1fs tasks_new=%d dead=%d msgs=%d txn_ok=%d txn_failed=%d "
                "bpf_picks=%d rq_stale=%d agent_handoffs=%d msgs_dropped=%d\n",
                absl::ToDoubleSeconds(since_start), m.by_type[GH_MSG_TASK_NEW],
                m.by_type[GH_MSG_TASK_DEAD], m.total, s.stat(GH_STAT_TXN_COMPLETE),
                s.stat(GH_STAT_TXN_FAILED), s.stat(GH_STAT_BPF_PICKS), s.stat(GH_STAT_RQ_STALE),
                s.stat(GH_STAT_GLOBAL_HANDOFFS), s.stat(GH_STAT_MSGS_DROPPED));
  fflush(out);
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

int Run(const Config& cfg) {
  int nr_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_CONF));
  if (absl::Status s = ValidateCpus(cfg, nr_cpus); !s.ok()) return Fail(kExitUsage, s);
  absl::StatusOr<std::optional<Credentials>> creds = ResolveWorkloadUser(cfg.user);
  if (!creds.ok()) return Fail(kExitUsage, creds.status());
  if (cfg.pid && kill(cfg.pid, 0) != 0 && errno == ESRCH) {
    return Fail(kExitUsage, absl::NotFoundError(absl::StrFormat(
                                "no process with pid %d: check the --pid value.", cfg.pid)));
  }
  if (!cfg.bpf_pick) {
    return Fail(kExitUsage, absl::UnimplementedError(
                                "this build schedules only with --bpf-pick: add --bpf-pick."));
  }

  BpfSchedulerOptions opts;
  opts.bpf_pick = cfg.bpf_pick;
  opts.watchdog = cfg.watchdog;
  opts.enclave = cfg.cpus;
  opts.pin_dir = kPinDir;
  absl::StatusOr<std::unique_ptr<BpfScheduler>> sched = BpfScheduler::Load(opts);
  if (!sched.ok()) return ExitForLoadError(sched.status());

  pid_t child = -1;
  if (!cfg.command.empty()) {
    absl::StatusOr<pid_t> pid = StartWorkload(cfg.command, *creds);
    if (!pid.ok()) {
      sched->reset();
      return Fail(pid.status().code() == absl::StatusCode::kNotFound ? kExitNotFound : kExitFailure,
                  pid.status());
    }
    child = *pid;
  } else if (cfg.pid) {
    absl::StatusOr<int> n = AdoptProcess(cfg.pid);
    if (!n.ok()) {
      sched->reset();
      return Fail(kExitUsage, n.status());
    }
  }

  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  MessageCounts counts;
  absl::Time start = absl::Now(), next_stats = start + cfg.stats_interval;
  int status = 0;
  bool child_done = false, ejected = false;
  while (!g_stop_signal.load()) {
    counts.Drain((*sched)->channel(GH_DEFAULT_CHANNEL));
    if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
      child_done = true;
      break;
    }
    if (!ejected && (*sched)->exit_info().kind != 0) {
      ExitInfo e = (*sched)->exit_info();
      fprintf(stderr, "ghost_hybrid: the kernel stopped the scheduler: %s%s%s\n",
              e.reason.c_str(), e.message.empty() ? "" : ": ", e.message.c_str());
      ejected = true;
      if (child <= 0) break;
    }
    if (cfg.stats_interval > absl::ZeroDuration() && absl::Now() >= next_stats) {
      PrintStats(**sched, counts, absl::Now() - start, stdout);
      next_stats += cfg.stats_interval;
    }
    absl::SleepFor(absl::Microseconds(500));
  }
  counts.Drain((*sched)->channel(GH_DEFAULT_CHANNEL));
  PrintStats(**sched, counts, absl::Now() - start, stderr);
  sched->reset();  // detach: every managed task returns to the fair class
  if (child > 0 && !child_done) waitpid(child, &status, 0);
  if (child > 0) return ExitCodeOf(status);
  return ejected ? kExitFailure : kExitOk;
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
  return gh::Run(*cfg);
}
