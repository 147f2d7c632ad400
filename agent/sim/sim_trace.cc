// SPDX-License-Identifier: Apache-2.0
#include "agent/sim/sim_trace.h"

#include "absl/strings/str_format.h"
#include "agent/lib/message.h"
#include "agent/lib/run_request.h"

namespace gh {

std::string TraceRecord::ToString() const {
  std::string s = absl::StrFormat("t=%d cpu=%d ", t_ns, cpu);
  switch (kind) {
    case TraceKind::kArrive:
      return s + absl::StrFormat("arrive gtid=%#x", gtid);
    case TraceKind::kRun:
      return s + absl::StrFormat("run gtid=%#x%s", gtid, arg ? " bpf" : "");
    case TraceKind::kStop:
      return s + absl::StrFormat("stop gtid=%#x %s", gtid, Message::TypeName(arg));
    case TraceKind::kTxn:
      return s + absl::StrFormat("txn gtid=%#x %s", gtid, RunRequest::StateName(arg));
    case TraceKind::kEnd:
      return s + absl::StrFormat("end gtid=%#x %s", gtid, Message::TypeName(arg));
    case TraceKind::kBusy:
      return s + (arg ? "busy" : "free");
    case TraceKind::kPing:
      return s + (arg ? "ping global" : "ping");
    case TraceKind::kPark:
      return s + "park";
  }
  return s + "?";
}

std::string TraceToString(const std::vector<TraceRecord>& trace) {
  std::string out;
  for (const TraceRecord& r : trace) {
    out += r.ToString();
    out += '\n';
  }
  return out;
}

}  // namespace gh
