// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/monitor.h"

#include <signal.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "agent/cli/dump.h"
#include "agent/cli/report.h"
#include "nlohmann/json.hpp"

namespace gh {
namespace {

std::atomic<bool> g_monitor_stop{false};

void OnMonitorSignal(int) { g_monitor_stop = true; }

double Rate(uint64_t before, uint64_t after, absl::Duration d) {
  return d > absl::ZeroDuration() ? static_cast<double>(after - before) / absl::ToDoubleSeconds(d)
                                  : 0.0;
}

}  // namespace

int RunMonitor(const std::string& pin_dir, absl::Duration interval, bool json) {
  auto prev = ReadPinnedCounters(pin_dir);
  if (!prev.ok()) {
    fprintf(stderr, "ghost_hybrid: %s\n", std::string(prev.status().message()).c_str());
    return 3;
  }
  signal(SIGINT, OnMonitorSignal);
  signal(SIGTERM, OnMonitorSignal);
  const absl::Time start = absl::Now();
  absl::Time prev_at = start;
  while (!g_monitor_stop.load()) {
    // Sleep in short steps so that a signal ends the monitor at once.
    const absl::Time due = prev_at + interval;
    while (!g_monitor_stop.load() && absl::Now() < due) {
      absl::SleepFor(std::min(absl::Milliseconds(50), due - absl::Now()));
    }
    if (g_monitor_stop.load()) break;
    auto now = ReadPinnedCounters(pin_dir);
    if (!now.ok()) {
      fprintf(stderr, "ghost_hybrid: the monitored scheduler is gone.\n");
      return 0;
    }
    const absl::Time at = absl::Now();
    const absl::Duration d = at - prev_at;
    const auto& p = *prev;
    const auto& n = *now;
    if (json) {
      nlohmann::json totals = nlohmann::json::object(), rates = nlohmann::json::object();
      for (int i = 0; i < GH_NR_STATS; i++) {
        totals[KernelStatName(i)] = n[i];
        rates[KernelStatName(i)] = Rate(p[i], n[i], d);
      }
      const nlohmann::json line = {{"t", absl::ToDoubleSeconds(at - start)},
                                   {"interval", absl::ToDoubleSeconds(d)},
                                   {"totals", totals},
                                   {"per_second", rates}};
      printf("%s\n", line.dump().c_str());
    } else {
      printf("t=%.1fs msgs/s=%.0f drops/s=%.0f txn/s=%.0f failed/s=%.0f bpf_picks/s=%.0f "
             "parks/s=%.0f (totals: txn %lu failed %lu msgs %lu dropped %lu)\n",
             absl::ToDoubleSeconds(at - start), Rate(p[GH_STAT_MSGS], n[GH_STAT_MSGS], d),
             Rate(p[GH_STAT_MSGS_DROPPED], n[GH_STAT_MSGS_DROPPED], d),
             Rate(p[GH_STAT_TXN_SUBMITTED], n[GH_STAT_TXN_SUBMITTED], d),
             Rate(p[GH_STAT_TXN_FAILED], n[GH_STAT_TXN_FAILED], d),
             Rate(p[GH_STAT_BPF_PICKS], n[GH_STAT_BPF_PICKS], d),
             Rate(p[GH_STAT_AGENT_PARKS], n[GH_STAT_AGENT_PARKS], d),
             static_cast<unsigned long>(n[GH_STAT_TXN_SUBMITTED]),
             static_cast<unsigned long>(n[GH_STAT_TXN_FAILED]),
             static_cast<unsigned long>(n[GH_STAT_MSGS]),
             static_cast<unsigned long>(n[GH_STAT_MSGS_DROPPED]));
    }
    fflush(stdout);
    prev = now;
    prev_at = at;
  }
  return 0;
}

}  // namespace gh
