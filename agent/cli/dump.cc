#include "agent/cli/dump.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/lib/message.h"
#include "agent/lib/run_request.h"
#include "bpf/intf.h"

namespace gh {
namespace {

// Reads element @key of the pinned map @name into @value.
absl::Status ReadPinned(const std::string& dir, const char* name, uint32_t key, void* value) {
  std::string path = absl::StrCat(dir, "/", name);
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat(
        "cannot open ", path, " (", strerror(errno),
        "): is ghost_hybrid running, and are you root?"));
  }
  int err = bpf_map_lookup_elem(fd, &key, value);
  close(fd);
  if (err) return absl::InternalError(absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> DumpPinnedState(const std::string& dir) {
  std::string out;
  auto rq = std::make_unique<gh_runqueue>();
  if (absl::Status s = ReadPinned(dir, "runqueue", 0, rq.get()); !s.ok()) return s;
  uint32_t n = rq->tail - rq->head;
  absl::StrAppendFormat(&out, "runqueue: %u records (head %u, tail %u)\n", n, rq->head, rq->tail);
  for (uint32_t i = rq->head; i != rq->tail; i++) {
    const gh_rq_entry& e = rq->entries[i % GH_RQ_SIZE];
    if (e.gtid) {
      absl::StrAppendFormat(&out, "  gtid=%#x pid=%u enqueued=%uns flags=%#x enq_seq=%u\n", e.gtid,
                            GH_GTID_PID(e.gtid), e.enqueue_time, e.flags, e.enq_seq);
    }
  }
  int ncpu = static_cast<int>(sysconf(_SC_NPROCESSORS_CONF));
  out += "cpus:\n";
  for (int cpu = 0; cpu < ncpu && cpu < GH_MAX_CPUS; cpu++) {
    gh_txn t;
    gh_status_word a;
    if (absl::Status s = ReadPinned(dir, "txn", cpu, &t); !s.ok()) return s;
    if (absl::Status s = ReadPinned(dir, "agent_sw", cpu, &a); !s.ok()) return s;
    absl::StrAppendFormat(&out,
                          "  cpu %d: txn %s gtid=%#x task_barrier=%u | agent aseq=%u flags=%#x%s%s%s\n",
                          cpu, RunRequest::StateName(t.state), t.gtid, t.task_barrier, a.barrier,
                          a.flags, (a.flags & GH_SW_AGENT_GLOBAL) ? " GLOBAL" : "",
                          (a.flags & GH_SW_AGENT_ACTIVE) ? " ACTIVE" : "",
                          (a.flags & GH_SW_BOOST_PRIO) ? " BOOST_PRIO" : "");
  }
  out += "tasks (status words in use):\n";
  for (uint32_t i = 0; i < GH_MAX_TASKS; i++) {
    gh_status_word w;
    if (absl::Status s = ReadPinned(dir, "task_sw", i, &w); !s.ok()) return s;
    if (!(w.flags & GH_SW_INUSE)) continue;
    absl::StrAppendFormat(&out, "  gtid=%#x pid=%u tseq=%u %s%s cpu=%d runtime=%uns\n", w.gtid,
                          GH_GTID_PID(w.gtid), w.barrier,
                          (w.flags & GH_SW_TASK_ONCPU) ? "ONCPU" : "",
                          (w.flags & GH_SW_TASK_RUNNABLE) ? " RUNNABLE" : "", w.cpu, w.runtime);
  }
  return out;
}

}  // namespace gh
