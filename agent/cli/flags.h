// SPDX-License-Identifier: Apache-2.0
// flags.h: ghost_hybrid's command line.
//
//   ghost_hybrid [FLAGS] -- COMMAND [ARGS...]
//   ghost_hybrid [FLAGS] --pid=PID
//   ghost_hybrid [FLAGS]            (manage tasks that opt in, until SIGINT)
//   ghost_hybrid --persist | --attach [...]   (agent/kernel/persistent_scheduler.h)
//   ghost_hybrid --detach | --stop
//
// Flags are Abseil flags, spelled with dashes on the command line
// (--bpf-pick, --global-cpu); underscores are accepted too. Parsing is done
// here rather than by absl::ParseCommandLine so that every usage error is
// one sentence and exit status 2 (Abseil's parser exits 1).
#ifndef GHOST_HYBRID_AGENT_CLI_FLAGS_H_
#define GHOST_HYBRID_AGENT_CLI_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bpf/intf.h"

namespace gh {

// Documented exit statuses (besides COMMAND's own).
enum ExitStatus {
  kExitOk = 0,
  kExitFailure = 1,       // runtime failure (scheduler ejected, ...)
  kExitUsage = 2,         // bad flag, value, CPU list, pid
  kExitEnvironment = 3,   // not root, no sched_ext, another scheduler loaded
  kExitLoad = 4,          // BPF load/verifier/attach failure
  kExitEjected = 70,      // the kernel ejected the scheduler while COMMAND ran
  kExitNotFound = 127,    // COMMAND not found
};

enum class Model { kCentralized, kPerCpu };

struct Config {
  bool bpf_pick = false;
  Model model = Model::kCentralized;
  std::vector<int> cpus;          // the enclave; empty = all
  int global_cpu = -1;            // -1: first enclave CPU
  absl::Duration slice = absl::Nanoseconds(GH_DEFAULT_SLICE_NS);
  absl::Duration agent_spin = absl::ZeroDuration();
  absl::Duration global_cpu_after = absl::Milliseconds(2);
  absl::Duration watchdog = absl::Seconds(5);
  uint32_t channel_bytes = GH_CHANNEL_RING_BYTES;
  absl::Duration stats_interval = absl::Seconds(1);
  std::string stats_json;
  int pid = 0;
  std::string user;
  bool dump = false;
  // A scheduler that outlives its agent: load one (--persist), take one
  // over (--attach), make its agent leave (--detach), unload it (--stop).
  bool persist = false;
  bool attach = false;
  bool detach = false;
  bool stop = false;
  // --monitor[=INTERVAL]: watch a running instance (zero: not asked).
  absl::Duration monitor = absl::ZeroDuration();
  bool json = false;  // --monitor prints JSON lines
  // -v: with each stats line, the kernel side's view; -vv: libbpf's own
  // messages too. (Also GHOST_HYBRID_DEBUG=1, GHOST_HYBRID_LIBBPF_DEBUG=1.)
  int verbose = 0;
  bool help = false;
  bool version = false;  // -V / --version
  std::vector<std::string> command;
};

// Parses argv. Errors are InvalidArgument with a one-sentence message.
absl::StatusOr<Config> ParseCommandLine(int argc, char** argv);

// Parses a CPU list like "0-3,6". Errors name the offending piece.
absl::StatusOr<std::vector<int>> ParseCpuList(const std::string& text);

std::string UsageText();

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_CLI_FLAGS_H_
