// SPDX-License-Identifier: Apache-2.0
// workload.h: starting the user's command as a managed task tree.
//
// The command is forked, switched to SCHED_EXT (its threads and children
// inherit the policy), stripped of every inherited file descriptor but
// stdin/stdout/stderr (an inherited BPF link would keep the scheduler
// alive), dropped to the invoking user when ghost_hybrid runs under sudo,
// and exec'd. A pipe with O_CLOEXEC reports an exec failure back to the
// parent, so "command not found" is an error, not a mystery exit status.
#ifndef GHOST_HYBRID_AGENT_CLI_WORKLOAD_H_
#define GHOST_HYBRID_AGENT_CLI_WORKLOAD_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gh {

struct Credentials {
  uid_t uid;
  gid_t gid;
  std::string name;
};

// Resolves --user (or SUDO_USER when empty) to credentials. Returns nullopt
// when the workload should keep running as the caller (no sudo, no --user).
absl::StatusOr<std::optional<Credentials>> ResolveWorkloadUser(const std::string& user_flag);

// Forks and execs @argv as a SCHED_EXT task tree allowed on the enclave's
// CPUs @cpus (empty: all), whatever ghost_hybrid's own affinity. Returns
// its pid, or an error naming the cause (e.g. command not found).
absl::StatusOr<pid_t> StartWorkload(const std::vector<std::string>& argv,
                                    const std::optional<Credentials>& creds,
                                    const std::vector<int>& cpus);

// Moves every thread of process @pid into SCHED_EXT. Returns how many.
absl::StatusOr<int> AdoptProcess(pid_t pid);

// Maps a wait status to a shell-style exit code (128 + signal).
int ExitCodeOf(int wait_status);

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_CLI_WORKLOAD_H_
