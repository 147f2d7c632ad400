// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/dump.h"

#include <algorithm>
#include <vector>
#include <bpf/bpf.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/lib/message.h"
#include "agent/cli/report.h"
#include "agent/kernel/pinned_map.h"
#include "agent/lib/run_request.h"
#include "bpf/intf.h"
#include "skel/ghost_hybrid.skel.h"

namespace gh {

namespace {

using Bss = ghost_hybrid::ghost_hybrid__bss;

// The running scheduler's global variables (bss), as one snapshot.
absl::StatusOr<std::unique_ptr<Bss>> ReadPinnedBss(const std::string& dir) {
  absl::StatusOr<PinnedMap> bss = PinnedMap::Open(dir, "bss");
  if (!bss.ok()) return bss.status();
  absl::StatusOr<uint32_t> size = bss->ValueSize();
  if (!size.ok()) return size.status();
  if (*size != sizeof(Bss)) {
    return absl::FailedPreconditionError(
        "the running ghost_hybrid is another build than this one: use its own binary.");
  }
  auto value = std::make_unique<Bss>();
  if (absl::Status s = bss->Read(0, value.get()); !s.ok()) return s;
  return value;
}

}  // namespace

absl::StatusOr<std::array<uint64_t, GH_NR_STATS>> ReadPinnedCounters(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Bss>> bss = ReadPinnedBss(dir);
  if (!bss.ok()) return bss.status();
  const std::unique_ptr<Bss>& value = *bss;
  std::array<uint64_t, GH_NR_STATS> out;
  std::copy(std::begin(value->stats), std::end(value->stats), out.begin());
  return out;
}

absl::StatusOr<std::string> DumpPinnedState(const std::string& dir) {
  absl::StatusOr<PinnedMap> runqueue = PinnedMap::Open(dir, "runqueue");
  if (!runqueue.ok()) return runqueue.status();
  absl::StatusOr<PinnedMap> txns = PinnedMap::Open(dir, "txn");
  if (!txns.ok()) return txns.status();
  absl::StatusOr<PinnedMap> agent_sws = PinnedMap::Open(dir, "agent_sw");
  if (!agent_sws.ok()) return agent_sws.status();
  absl::StatusOr<PinnedMap> task_sws = PinnedMap::Open(dir, "task_sw");
  if (!task_sws.ok()) return task_sws.status();

  absl::StatusOr<std::unique_ptr<Bss>> bss = ReadPinnedBss(dir);
  if (!bss.ok()) return bss.status();

  std::string out;
  // A persistent scheduler may run without an agent (the kernel side then
  // runs every task itself).
  if ((*bss)->nr_agents == 0) {
    out += "agent: none attached\n";
  } else {
    absl::StrAppendFormat(&out, "agent: process %d, %u threads\n", (*bss)->agent_tgid,
                          (*bss)->nr_agents);
  }
  // Stopped by the kernel (a persistent scheduler's pins outlive that):
  // why, and the kernel's dump of that moment.
  const gh_exit_info& e = (*bss)->exit_info;
  if (e.kind != 0) {
    absl::StrAppendFormat(&out, "stopped by the kernel: %s: %s\n",
                          std::string(e.reason, strnlen(e.reason, sizeof(e.reason))),
                          std::string(e.msg, strnlen(e.msg, sizeof(e.msg))));
    absl::StrAppend(&out, std::string((*bss)->exit_dump,
                                      strnlen((*bss)->exit_dump, sizeof((*bss)->exit_dump))),
                    "\n");
  }
  std::vector<gh_rq_entry> rq = runqueue->ReadAll<gh_rq_entry>();
  std::sort(rq.begin(), rq.end(), [](const gh_rq_entry& a, const gh_rq_entry& b) {
    return a.enqueue_time < b.enqueue_time;
  });
  absl::StrAppendFormat(&out, "runqueue: %u queued tasks\n", rq.size());
  for (const gh_rq_entry& e : rq) {
    absl::StrAppendFormat(&out, "  gtid=%#x pid=%u owner=%s enqueued=%uns flags=%#x\n", e.gtid,
                          GH_GTID_PID(e.gtid), e.owner == GH_OWNER_BPF ? "bpf" : "agent",
                          e.enqueue_time, e.flags);
  }
  int ncpu = static_cast<int>(sysconf(_SC_NPROCESSORS_CONF));
  // When the CPU section was read (CLOCK_MONOTONIC), to line it up with
  // other events: the role and the slots change from moment to moment.
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  absl::StrAppendFormat(&out, "cpus (read at monotonic %d.%09d s):\n", now.tv_sec, now.tv_nsec);
  for (int cpu = 0; cpu < ncpu && cpu < GH_MAX_CPUS; cpu++) {
    gh_txn t;
    gh_status_word a;
    if (absl::Status s = txns->Read(cpu, &t); !s.ok()) return s;
    if (absl::Status s = agent_sws->Read(cpu, &a); !s.ok()) return s;
    absl::StrAppendFormat(&out,
                          "  cpu %d: txn %s gtid=%#x task_barrier=%u | agent tid=%u aseq=%u flags=%#x%s%s%s\n",
                          cpu, RunRequest::StateName(t.state), t.gtid, t.task_barrier,
                          (a.flags & GH_SW_INUSE) ? GH_GTID_PID(a.gtid) : 0, a.barrier,
                          a.flags, (a.flags & GH_SW_AGENT_GLOBAL) ? " GLOBAL" : "",
                          (a.flags & GH_SW_AGENT_ACTIVE) ? " ACTIVE" : "",
                          (a.flags & GH_SW_BOOST_PRIO) ? " BOOST_PRIO" : "");
  }
  out += "tasks (status words in use):\n";
  for (uint32_t i = 0; i < GH_MAX_TASKS; i++) {
    gh_status_word w;
    if (absl::Status s = task_sws->Read(i, &w); !s.ok()) return s;
    if (!(w.flags & GH_SW_INUSE)) continue;
    absl::StrAppendFormat(&out, "  gtid=%#x pid=%u tseq=%u %s%s cpu=%d runtime=%uns\n", w.gtid,
                          GH_GTID_PID(w.gtid), w.barrier,
                          (w.flags & GH_SW_TASK_ONCPU) ? "ONCPU" : "",
                          (w.flags & GH_SW_TASK_RUNNABLE) ? " RUNNABLE" : "", w.cpu, w.runtime);
  }
  absl::StatusOr<std::array<uint64_t, GH_NR_STATS>> counters = ReadPinnedCounters(dir);
  if (!counters.ok()) return counters.status();
  out += "counters (kernel side, since the scheduler was loaded):\n";
  for (int i = 0; i < GH_NR_STATS; i++)
    absl::StrAppendFormat(&out, "  %-18s %u\n", KernelStatName(i), (*counters)[i]);
  return out;
}

}  // namespace gh
