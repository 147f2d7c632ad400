// SPDX-License-Identifier: Apache-2.0
#include "agent/lib/enclave.h"

#include "agent/lib/check.h"

namespace gh {

Enclave::Enclave(Topology topology, CpuList cpus)
    : topology_(std::move(topology)), cpus_(cpus), agents_(GH_MAX_CPUS) {
  for (int c : cpus_) GH_CHECK(topology_.all_cpus().IsSet(c));
}

Enclave::~Enclave() = default;

void Enclave::InitRunRequests() {
  GH_CHECK(run_requests_.empty());
  run_requests_.reserve(GH_MAX_CPUS);
  for (int c = 0; c < GH_MAX_CPUS; ++c)
    run_requests_.push_back(std::make_unique<RunRequest>(this, c, TxnSlot(c)));
}

RunRequest* Enclave::GetRunRequest(int cpu) {
  GH_CHECK(cpu >= 0 && cpu < GH_MAX_CPUS);
  GH_CHECK_MSG(!run_requests_.empty(), "InitRunRequests() not called");
  return run_requests_[cpu].get();
}

void Enclave::AttachAgent(int cpu, Agent* agent) {
  GH_CHECK(cpus_.IsSet(cpu));
  GH_CHECK(agents_[cpu] == nullptr);
  agents_[cpu] = agent;
  AgentAttached(cpu);
}

void Enclave::DetachAgent(int cpu) {
  GH_CHECK(cpus_.IsSet(cpu));
  agents_[cpu] = nullptr;
}

Agent* Enclave::GetAgent(int cpu) const {
  if (cpu < 0 || cpu >= GH_MAX_CPUS) return nullptr;
  return agents_[cpu];
}

}  // namespace gh
