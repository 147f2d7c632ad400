// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/report.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/lib/run_request.h"

namespace gh {

Snapshot Snapshot::Take(const AgentStats& a, const BpfScheduler& k) {
  Snapshot s;
  s.when = absl::Now();
  // Tasks adopted from their status words (a lost TASK_NEW, or taken over
  // from another agent) arrived without a TASK_NEW the agent read.
  s.tasks_new = a.messages(GH_MSG_TASK_NEW) + a.counter(kCtrTasksAdopted);
  s.tasks_gone = a.messages(GH_MSG_TASK_DEAD) + a.messages(GH_MSG_TASK_DEPARTED);
  for (int t = 0; t < GH_MSG_NR_TYPES; t++) s.messages += a.messages(t);
  s.txn_ok = a.txns(GH_TXN_COMPLETE);
  for (uint32_t st = GH_TXN_COMPLETE + 1; st < GH_TXN_NR_STATES; st++) s.txn_failed += a.txns(st);
  s.bpf_picks = k.stat(GH_STAT_BPF_PICKS);
  s.migrations = a.counter(kCtrGlobalMigrations);
  s.slice_preemptions = a.counter(kCtrSlicePreemptions);
  s.kernel_msgs = k.stat(GH_STAT_MSGS);
  s.kernel_dropped = k.stat(GH_STAT_MSGS_DROPPED);
  s.kernel_handoffs = k.stat(GH_STAT_GLOBAL_HANDOFFS);
  return s;
}

namespace {

double PerSecond(uint64_t a, uint64_t b, absl::Duration d) {
  double secs = absl::ToDoubleSeconds(d);
  return secs > 0 ? static_cast<double>(b - a) / secs : 0;
}

std::string FailedByOutcome(const AgentStats& a) {
  std::string out;
  for (uint32_t st = GH_TXN_COMPLETE + 1; st < GH_TXN_NR_STATES; st++) {
    if (uint64_t n = a.txns(st)) {
      absl::StrAppend(&out, out.empty() ? "" : " ", RunRequest::StateName(st), "=", n);
    }
  }
  return out;
}

}  // namespace

std::string StatsLine(const Snapshot& start, const Snapshot& prev, const Snapshot& now,
                      const AgentStats& a) {
  absl::Duration d = now.when - prev.when;
  std::string failed = FailedByOutcome(a);
  return absl::StrFormat(
      "ghost_hybrid: t=%.1fs tasks=%d msgs/s=%.0f txn ok=%d failed=%d%s bpf_picks/s=%.0f "
      "migrations=%d slice_preemptions=%d",
      absl::ToDoubleSeconds(now.when - start.when), now.tasks_new - now.tasks_gone,
      PerSecond(prev.messages, now.messages, d), now.txn_ok, now.txn_failed,
      failed.empty() ? "" : " (" + failed + ")", PerSecond(prev.bpf_picks, now.bpf_picks, d),
      now.migrations, now.slice_preemptions);
}

const char* KernelStatName(int stat) {
  // In enum gh_stat order (bpf/intf.h).
  static const char* const kNames[] = {
      "msgs", "msgs_dropped", "txn_submitted", "txn_complete", "txn_failed", "bpf_picks",
      "rq_stale", "rq_full", "agent_parks", "agent_pings", "cpu_releases", "global_handoffs",
      "sw_exhausted", "stale_oncpu", "agent_moves", "direct_picks", "slice_extensions",
      "sw_freed", "sw_free_rejected", "stranded_reenqs", "agentless_picks",
      "forgotten_nudges", "reenq_pauses"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == GH_NR_STATS, "a name per gh_stat");
  return stat >= 0 && stat < GH_NR_STATS ? kNames[stat] : "?";
}

nlohmann::json StatsJson(const Snapshot& start, const Snapshot& now, const AgentStats& a,
                         const BpfScheduler& k, bool ejected, int command_status,
                         const AgentCost& cost) {
  nlohmann::json kernel = nlohmann::json::object();
  for (int i = 0; i < GH_NR_STATS; i++) kernel[KernelStatName(i)] = k.stat(static_cast<gh_stat>(i));
  return {{"seconds", absl::ToDoubleSeconds(now.when - start.when)},
          {"ejected", ejected},
          {"command_status", command_status < 0 ? nlohmann::json(nullptr)
                                                : nlohmann::json(command_status)},
          {"bpf_pick", k.options().bpf_pick},
          {"tasks_new", now.tasks_new},
          {"tasks_gone", now.tasks_gone},
          {"txn_complete", now.txn_ok},
          {"txn_failed", now.txn_failed},
          {"bpf_picks", now.bpf_picks},
          {"migrations", now.migrations},
          {"slice_preemptions", now.slice_preemptions},
          {"agent_cpu_seconds", absl::ToDoubleSeconds(cost.cpu)},
          {"agent_steps", cost.steps},
          {"agent", a.ToJson()},
          {"kernel", kernel}};
}

absl::Status WriteJson(const std::string& path, const nlohmann::json& j) {
  const std::string text = j.dump(1) + "\n";
  FILE* f = fopen(path.c_str(), "w");
  bool ok = f && fwrite(text.data(), 1, text.size(), f) == text.size();
  const int err = errno;
  if (f && fclose(f) != 0) ok = false;
  if (!ok) {
    return absl::UnavailableError(
        absl::StrCat("cannot write ", path, ": ", strerror(f ? errno : err)));
  }
  return absl::OkStatus();
}

std::string DebugState(const BpfScheduler& k) {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  std::string out = absl::StrFormat("  mono=%d.%03d cpus:", ts.tv_sec, ts.tv_nsec / 1000000);
  for (int cpu = 0; cpu < k.nr_cpus(); cpu++) {
    const gh_txn* t = k.txn(cpu);
    absl::StrAppendFormat(&out, " | cpu%d txn=%s/%x agent_sw=%x", cpu,
                          RunRequest::StateName(t->state), t->gtid, k.agent_sw(cpu)->flags);
  }
  out += "\n  agents:";
  for (int cpu = 0; cpu < k.nr_cpus(); cpu++) {
    std::string dir = absl::StrCat("/proc/self/task/", k.agent_tid(cpu));
    std::string stat = ReadFirstLine(dir + "/stat"), wchan = ReadFirstLine(dir + "/wchan");
    size_t rp = stat.rfind(')');
    absl::StrAppend(&out, " [cpu", cpu, " ", rp == std::string::npos ? "?" : stat.substr(rp + 2, 1),
                    " ", wchan, "]");
    if (wchan.find("folio") != std::string::npos) {
      std::ifstream ks(dir + "/stack");
      for (std::string l; std::getline(ks, l);) absl::StrAppend(&out, "\n      ", l);
    }
  }
  out += "\n  tasks:";
  for (uint32_t i = 0; i < GH_MAX_TASKS; i++) {
    const gh_status_word* w = k.task_sw(i);
    if (w->flags & GH_SW_INUSE) {
      absl::StrAppendFormat(&out, " %x:flags=%x:cpu=%d:tseq=%u", w->gtid, w->flags, w->cpu,
                            w->barrier);
    }
  }
  return out + "\n";
}

}  // namespace gh
