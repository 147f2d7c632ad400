// SPDX-License-Identifier: Apache-2.0
#include "agent/lib/scheduler.h"

#include "agent/lib/check.h"

namespace gh {

Scheduler::Scheduler(Enclave* enclave, CpuList cpus)
    : enclave_(enclave), cpus_(cpus) {
  GH_CHECK(enclave != nullptr);
  GH_CHECK(!cpus.Empty());
  GH_CHECK(cpus.Intersect(enclave->cpus()) == cpus);
}

Scheduler::~Scheduler() = default;

bool Scheduler::CommitGroup(const CpuList& cpus) {
  CpuList opened;
  for (int c : cpus)
    if (enclave_->GetRunRequest(c)->open()) opened.Set(c);
  const bool all = enclave_->CommitRunRequests(opened);
  stats_.CountGroup(opened.Size());
  for (int c : opened) {
    const RunRequest* req = enclave_->GetRunRequest(c);
    stats_.CountTxn(req->state());
    if (req->succeeded()) stats_.NoteCommitted(req->target());
  }
  return all;
}

bool Scheduler::CommitOne(RunRequest* req) {
  const bool ok = req->Commit();
  stats_.CountGroup(1);
  stats_.CountTxn(req->state());
  if (ok) stats_.NoteCommitted(req->target());
  return ok;
}

bool Scheduler::MoveGlobalRole(int from, int to) {
  stats_.Count(kCtrPings);
  return enclave_->MoveGlobal(from, to);
}

void Scheduler::PingAgent(int cpu) {
  stats_.Count(kCtrPings);
  const absl::Status s = enclave_->Ping(cpu);
  GH_CHECK_MSG(s.ok(), std::string(s.message()));
}

}  // namespace gh
