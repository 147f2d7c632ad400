// SPDX-License-Identifier: Apache-2.0
// persistent_scheduler.h: a ghost_hybrid scheduler that outlives its agent
// (ghost_hybrid --persist), and the hand-over between agents.
//
// A persistent scheduler pins under its pin directory, besides the maps
// --dump reads, its struct_ops link, its syscall programs, its channels and
// doorbells, and a gh_instance record (bpf/intf.h: the ABI it speaks and the
// settings it was loaded with). The link's pin keeps it loaded; removing
// the pins unloads it.
//
// Hand-over follows ghOSt's order: the old agent stops deciding before the
// new one starts, so no task is decided by both. One process's agents
// decide at a time: the one recorded in the scheduler's agent_tgid, while
// its agent threads live (the kernel side counts them). Between two agents
// the kernel side runs every task itself (bpf/common.bpf.h, agentless()).
//
//   BpfScheduler::Load (options.persist)  load and pin       --persist
//   BpfScheduler::Attach                  take over          --attach
//   DetachAgent                           hand back, exit    --detach
//   StopPersistent                        unload             --stop
#ifndef GHOST_HYBRID_AGENT_KERNEL_PERSISTENT_SCHEDULER_H_
#define GHOST_HYBRID_AGENT_KERNEL_PERSISTENT_SCHEDULER_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bpf/intf.h"

namespace gh {

// What the pins of a persistent scheduler say about it.
struct PersistentStatus {
  uint32_t abi_version = 0;   // the loader's GH_ABI_VERSION
  bool abi_matches = false;   // ... and layout are this build's
  gh_instance instance = {};  // valid iff abi_matches
  // Valid iff abi_matches:
  int agent_pid = 0;          // the process whose agents decide, 0: none
  uint32_t agent_threads = 0; // agent threads alive
  bool ejected = false;       // the kernel stopped it (ops.exit ran)
  std::string exit_reason;    // why, if ejected
};

// Reads the persistent scheduler pinned at @dir. NotFound, with a sentence
// naming the remedy, if there is none.
absl::StatusOr<PersistentStatus> ReadPersistentStatus(const std::string& dir);

// One sentence refusing an agent of another ABI than @st's scheduler.
std::string AbiMismatchMessage(const PersistentStatus& st);

// Asks the attached agent to hand its tasks to the kernel side and exit
// (SIGTERM; a persistent agent detaches on it), and waits up to @timeout
// until its process and agent threads are gone. Returns its pid, 0 if no
// agent was attached.
absl::StatusOr<int> DetachAgent(const std::string& dir, absl::Duration timeout);

// Detaches any agent, then removes the pins: the scheduler unloads and
// every managed task returns to the fair class. Works on a scheduler of
// another ABI too (its agent, if any, then finds its scheduler gone).
absl::Status StopPersistent(const std::string& dir, absl::Duration timeout);

// True while @pid runs: it exists and is not a zombie waiting for its
// parent to reap it.
bool ProcessLives(pid_t pid);

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_KERNEL_PERSISTENT_SCHEDULER_H_
