// SPDX-License-Identifier: Apache-2.0
#include "agent/cli/flags.h"

#include <algorithm>
#include <set>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/lib/topology.h"

ABSL_FLAG(bool, bpf_pick, false,
          "Turn on the in-kernel fast path: BPF queues new and woken tasks and runs "
          "them on idle CPUs without waiting for the agent.");
ABSL_FLAG(std::string, model, "centralized",
          "Agent model: 'centralized' (one global agent decides for all CPUs) or "
          "'percpu' (one agent per CPU decides for its own CPU).");
ABSL_FLAG(std::string, cpus, "",
          "The enclave: CPUs ghost_hybrid may use, e.g. 0-3,6. Default: every online CPU.");
ABSL_FLAG(int, global_cpu, -1,
          "CPU of the centralized model's global agent (must be in --cpus). Default: the "
          "first enclave CPU.");
ABSL_FLAG(absl::Duration, slice, absl::Nanoseconds(GH_DEFAULT_SLICE_NS),
          "Time slice of every task an agent commits or the fast path picks, enforced by the "
          "kernel, in both models, e.g. 5ms; 'inf' for none (pure FIFO: a task runs until it "
          "blocks or yields, and a CPU-bound one starves the tasks queued behind it until "
          "the watchdog ejects the scheduler).");
ABSL_FLAG(absl::Duration, agent_spin, absl::ZeroDuration(),
          "How long the global agent keeps polling after its last decision before it parks "
          "and lets its CPU run workload, e.g. 50us; 0 (the default) parks at once.");
ABSL_FLAG(absl::Duration, global_cpu_after, absl::Milliseconds(2),
          "How long a task waits for one of the other CPUs before the centralized model may "
          "run it on the global agent's own CPU, e.g. 1ms; 0: at once. Work there is "
          "preempted whenever the agent wakes, and keeps its CPU from idling.");
ABSL_FLAG(absl::Duration, watchdog, absl::Seconds(5),
          "sched_ext watchdog: a runnable task waiting longer ejects the scheduler and "
          "returns every task to the fair class (100ms..30s).");
ABSL_FLAG(absl::Duration, stats_interval, absl::ZeroDuration(),
          "Print a stats line on stderr this often, e.g. 1s; 0 (default) for none: stdout "
          "belongs to the command.");
ABSL_FLAG(int64_t, channel_bytes, GH_CHANNEL_RING_BYTES,
          "Bytes of each message channel (a ring buffer): a power of two from 4096 to "
          "1073741824. A full channel drops messages; the agent then resyncs each task that "
          "lost one from its status word.");
ABSL_FLAG(std::string, stats_json, "", "Write the final counters as JSON to this file.");
ABSL_FLAG(int, pid, 0, "Manage this existing process (all its threads) instead of a command.");
ABSL_FLAG(std::string, user, "",
          "Run COMMAND as this user. Default: $SUDO_USER when run through sudo, so the "
          "workload does not run as root by accident.");
ABSL_FLAG(absl::Duration, monitor, absl::ZeroDuration(),
          "Watch the running ghost_hybrid from another shell: every INTERVAL (seconds, or a "
          "duration such as 500ms; 1 when given as --monitor alone), a line of its kernel "
          "side's counters, as rates and totals; ends with Ctrl-C or when that scheduler goes "
          "away.");
ABSL_FLAG(bool, json, false, "With --monitor: one JSON object per line, every counter.");
ABSL_FLAG(bool, persist, false,
          "Keep the scheduler loaded when this agent exits or dies (centralized model): the "
          "kernel side then runs every task itself until another agent takes over with "
          "--attach; --stop unloads it.");
ABSL_FLAG(bool, attach, false,
          "Take over the persistent scheduler (--persist) that runs already, with its "
          "settings: adopt every task it manages and decide for them from now on. Refused "
          "while another agent is attached, or if that scheduler speaks another ABI.");
ABSL_FLAG(bool, detach, false,
          "Make the agent attached to the persistent scheduler hand its tasks to the kernel "
          "side and exit (the scheduler stays loaded), and exit once it has.");
ABSL_FLAG(bool, stop, false,
          "Unload the persistent scheduler (after detaching its agent, if any): every task it "
          "managed returns to the fair class.");
ABSL_FLAG(bool, dump, false,
          "Print the state of the running ghost_hybrid (runqueue, status words, "
          "transactions, counters) from its pinned maps, and exit.");

namespace gh {
namespace {

constexpr const char* kFlagNames[] = {"bpf_pick", "model", "cpus", "global_cpu", "slice", "agent_spin",
                                      "global_cpu_after", "watchdog", "channel_bytes",
                                      "stats_interval", "stats_json", "pid", "user", "persist",
                                      "attach", "detach", "stop", "monitor", "json", "dump"};

// Flags that set how the scheduler is loaded: an agent that attaches takes
// the running scheduler's.
constexpr const char* kLoadFlags[] = {"bpf_pick", "model", "cpus", "slice", "watchdog",
                                      "channel_bytes", "persist"};

absl::Status Usage(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(what, " (see ghost_hybrid --help)"));
}

// The agent's own waits (--agent-spin, --global-cpu-after): 0 to 1 s.
absl::Status CheckAgentWait(const char* flag, absl::Duration d, const char* example) {
  if (d >= absl::ZeroDuration() && d <= absl::Seconds(1)) return absl::OkStatus();
  return Usage(absl::StrCat("--", flag, " must be between 0 and 1s, e.g. ", example));
}

}  // namespace

// One parser for CPU lists, CpuList's (bounded by GH_MAX_CPUS: a huge range
// fails at once instead of being expanded).
absl::StatusOr<std::vector<int>> ParseCpuList(const std::string& text) {
  absl::StatusOr<CpuList> list = CpuList::Parse(text);
  if (!list.ok()) {
    return Usage(absl::StrCat("bad CPU list '--cpus=", text, "': use CPU numbers from 0 to ",
                              GH_MAX_CPUS - 1, " and ranges like 0-3,6"));
  }
  if (list->Empty()) return Usage(absl::StrCat("--cpus=", text, " names no CPU"));
  std::vector<int> cpus;
  for (int c : *list) cpus.push_back(c);
  return cpus;
}

absl::StatusOr<Config> ParseCommandLine(int argc, char** argv) {
  Config cfg;
  std::set<std::string> given;  // flags named on the command line
  int i = 1;
  for (; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "--") {
      i++;
      break;
    }
    if (arg == "--help" || arg == "-h") {
      cfg.help = true;
      return cfg;
    }
    if (arg == "--version" || arg == "-V") {
      cfg.version = true;
      return cfg;
    }
    if (arg == "-v" || arg == "--verbose") {
      cfg.verbose++;
      continue;
    }
    if (arg == "-vv") {
      cfg.verbose += 2;
      continue;
    }
    // --monitor alone: every second; --monitor N or --monitor=N: N seconds
    // (the scx schedulers' convention); --monitor=500ms as any duration.
    if (arg == "--monitor") {
      double secs;
      if (i + 1 < argc && absl::SimpleAtod(argv[i + 1], &secs)) {
        arg = absl::StrCat("--monitor=", argv[++i], "s");
      } else {
        arg = "--monitor=1s";
      }
    } else if (double secs; absl::StartsWith(arg, "--monitor=") &&
               absl::SimpleAtod(arg.substr(10), &secs)) {
      arg += "s";
    }
    if (arg.rfind("--", 0) != 0) {
      return Usage(absl::StrCat("unexpected argument '", arg,
                                "': put the command after '--', as in ghost_hybrid -- ", arg));
    }
    std::string body = arg.substr(2), name_str = body, value;
    bool has_value = false;
    if (size_t eq = body.find('='); eq != std::string::npos) {
      name_str = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    name_str = absl::StrReplaceAll(name_str, {{"-", "_"}});
    absl::string_view name = name_str;
    bool negated = false;
    // --no-bpf-pick (the convention) and --nobpf-pick (Abseil's).
    if (!absl::FindCommandLineFlag(name) &&
        (absl::ConsumePrefix(&name, "no_") || absl::ConsumePrefix(&name, "no"))) {
      negated = true;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool ours = std::find(std::begin(kFlagNames), std::end(kFlagNames), name) != std::end(kFlagNames);
    if (!flag || !ours) return Usage(absl::StrCat("unknown flag '", arg, "'"));
    bool is_bool = flag->IsOfType<bool>();
    if (negated && (!is_bool || has_value)) return Usage(absl::StrCat("unknown flag '", arg, "'"));
    if (is_bool && !has_value) {
      value = negated ? "false" : "true";
    } else if (!has_value) {
      if (i + 1 >= argc) return Usage(absl::StrCat("flag '", arg, "' needs a value"));
      value = argv[++i];
    }
    std::string err;
    if (!flag->ParseFrom(value, &err)) {
      if (flag->IsOfType<absl::Duration>()) err = "a duration needs a unit, as in 5ms, 1s or inf";
      return Usage(absl::StrCat("bad value '", value, "' for --", absl::StrReplaceAll(name, {{"_", "-"}}),
                                ": ", err));
    }
    given.insert(std::string(name));
  }
  for (; i < argc; i++) cfg.command.push_back(argv[i]);

  cfg.bpf_pick = absl::GetFlag(FLAGS_bpf_pick);
  std::string model = absl::GetFlag(FLAGS_model);
  if (model == "centralized") {
    cfg.model = Model::kCentralized;
  } else if (model == "percpu" || model == "per-cpu" || model == "per_cpu") {
    cfg.model = Model::kPerCpu;
  } else {
    return Usage(absl::StrCat("--model=", model, " is not a model: use centralized or percpu"));
  }
  // A flag that would do nothing in the chosen model is refused, not ignored.
  if (cfg.model == Model::kPerCpu) {
    for (const char* f : {"global_cpu", "agent_spin", "global_cpu_after"}) {
      if (!given.count(f)) continue;
      return Usage(absl::StrCat("--", absl::StrReplaceAll(f, {{"_", "-"}}),
                                " applies to the centralized model only: drop it, or use "
                                "--model=centralized"));
    }
  }
  if (!absl::GetFlag(FLAGS_cpus).empty()) {
    absl::StatusOr<std::vector<int>> cpus = ParseCpuList(absl::GetFlag(FLAGS_cpus));
    if (!cpus.ok()) return cpus.status();
    cfg.cpus = *cpus;
  }
  cfg.global_cpu = absl::GetFlag(FLAGS_global_cpu);
  cfg.slice = absl::GetFlag(FLAGS_slice);
  cfg.agent_spin = absl::GetFlag(FLAGS_agent_spin);
  if (absl::Status s = CheckAgentWait("agent-spin", cfg.agent_spin, "100us"); !s.ok()) return s;
  cfg.global_cpu_after = absl::GetFlag(FLAGS_global_cpu_after);
  if (absl::Status s = CheckAgentWait("global-cpu-after", cfg.global_cpu_after, "2ms"); !s.ok())
    return s;
  if (cfg.slice <= absl::ZeroDuration()) return Usage("--slice must be positive or 'inf'");
  cfg.watchdog = absl::GetFlag(FLAGS_watchdog);
  if (cfg.watchdog < absl::Milliseconds(100) || cfg.watchdog > absl::Seconds(30)) {
    return Usage("--watchdog must be between 100ms and 30s, sched_ext's limit");
  }
  const int64_t ring = absl::GetFlag(FLAGS_channel_bytes);
  if (ring < 4096 || ring > (int64_t{1} << 30) || (ring & (ring - 1)) != 0) {
    return Usage("--channel-bytes must be a power of two from 4096 to 1073741824");
  }
  cfg.channel_bytes = static_cast<uint32_t>(ring);
  cfg.stats_interval = absl::GetFlag(FLAGS_stats_interval);
  if (cfg.stats_interval < absl::ZeroDuration()) return Usage("--stats-interval must not be negative");
  cfg.stats_json = absl::GetFlag(FLAGS_stats_json);
  cfg.pid = absl::GetFlag(FLAGS_pid);
  if (cfg.pid < 0) return Usage("--pid must be a process id");
  cfg.user = absl::GetFlag(FLAGS_user);
  cfg.dump = absl::GetFlag(FLAGS_dump);
  cfg.monitor = absl::GetFlag(FLAGS_monitor);
  cfg.json = absl::GetFlag(FLAGS_json);
  if (given.count("monitor") && cfg.monitor < absl::Milliseconds(100)) {
    return Usage("--monitor's interval must be 100ms or more, e.g. --monitor=1s");
  }
  if (cfg.json && !given.count("monitor")) return Usage("--json goes with --monitor");
  if (given.count("monitor") && (!cfg.command.empty() || cfg.pid)) {
    return Usage("--monitor watches a ghost_hybrid that runs already: give it no command or --pid");
  }
  if (cfg.pid && !cfg.command.empty()) return Usage("give either --pid or a command, not both");
  cfg.persist = absl::GetFlag(FLAGS_persist);
  cfg.attach = absl::GetFlag(FLAGS_attach);
  cfg.detach = absl::GetFlag(FLAGS_detach);
  cfg.stop = absl::GetFlag(FLAGS_stop);
  if (cfg.detach || cfg.stop) {
    const char* self = cfg.detach ? "--detach" : "--stop";
    for (const std::string& f : given) {
      if (f == (cfg.detach ? "detach" : "stop")) continue;
      return Usage(absl::StrCat(self, " acts on the persistent scheduler alone: drop --",
                                absl::StrReplaceAll(f, {{"_", "-"}})));
    }
    if (!cfg.command.empty()) return Usage(absl::StrCat(self, " takes no command"));
  }
  if (cfg.attach) {
    for (const char* f : kLoadFlags) {
      if (!given.count(f)) continue;
      return Usage(absl::StrCat("--attach takes the settings of the scheduler it attaches to: "
                                "drop --", absl::StrReplaceAll(f, {{"_", "-"}})));
    }
    for (const char* f : {"monitor", "dump"}) {
      if (given.count(f)) return Usage(absl::StrCat("--attach and --", f, " do not go together"));
    }
  }
  if (cfg.persist && cfg.model == Model::kPerCpu) {
    return Usage("--persist supports the centralized model only (per-CPU agents own channels "
                 "that a new agent cannot take over yet): drop --model=percpu");
  }
  return cfg;
}

namespace {

// Appends `text` to `out` wrapped at 80 columns, each line indented by
// `indent` spaces.
void AppendWrapped(std::string* out, absl::string_view text, int indent) {
  constexpr size_t kWidth = 80;
  std::string line(indent, ' ');
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (line.size() > static_cast<size_t>(indent) && line.size() + 1 + word.size() > kWidth) {
      absl::StrAppend(out, line, "\n");
      line.assign(indent, ' ');
    }
    absl::StrAppend(&line, line.size() > static_cast<size_t>(indent) ? " " : "", word);
  }
  absl::StrAppend(out, line, "\n");
}

// A flag's default as a user would write it ("" and -1 mean "none").
std::string DefaultText(const absl::CommandLineFlag& f) {
  const std::string d = f.DefaultValue();
  if (d.empty() || d == "-1" || (d == "0" && f.Name() == "pid") || f.Name() == "monitor")
    return "";
  return absl::StrCat(" (default: ", d, ")");
}

}  // namespace

std::string UsageText() {
  std::string out =
      "usage: ghost_hybrid [FLAGS] -- COMMAND [ARGS...]\n"
      "       ghost_hybrid [FLAGS] --pid=PID\n"
      "       ghost_hybrid [FLAGS]\n"
      "       ghost_hybrid --persist [FLAGS] [-- COMMAND [ARGS...]]\n"
      "       ghost_hybrid --attach [-- COMMAND [ARGS...]]\n"
      "       ghost_hybrid --detach | --stop\n"
      "       ghost_hybrid --dump\n"
      "       ghost_hybrid --monitor[=INTERVAL] [--json]\n"
      "       ghost_hybrid -V | --version\n\n";
  AppendWrapped(&out,
                "Schedules COMMAND (all its threads and children) with a ghOSt-style "
                "user-space agent on sched_ext, optionally with the in-kernel BPF fast path. "
                "With --pid it manages an existing process instead; with neither, it manages "
                "only tasks that switch themselves to SCHED_EXT (policy 7), until SIGINT or "
                "SIGTERM. COMMAND runs as $SUDO_USER under sudo (see --user), never as root by "
                "accident.",
                0);
  out += "\nFLAGS\n";
  for (const char* name : kFlagNames) {
    absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
    const std::string dashed = absl::StrReplaceAll(name, {{"_", "-"}});
    const bool is_bool = f->IsOfType<bool>();
    std::string value = "=VALUE";
    if (f->IsOfType<absl::Duration>()) value = "=DURATION";
    if (f->Name() == "monitor") value = "[=DURATION]";
    for (auto [flag, v] : {std::pair{"model", "=MODEL"}, {"cpus", "=LIST"}, {"global_cpu", "=CPU"},
                           {"channel_bytes", "=BYTES"}, {"stats_json", "=FILE"}, {"pid", "=PID"},
                           {"user", "=USER"}}) {
      if (f->Name() == flag) value = v;
    }
    // Actions (--dump, --stop, ...) are not negatable options.
    const bool negatable = is_bool && (f->Name() == "bpf_pick" || f->Name() == "json" ||
                                       f->Name() == "persist");
    absl::StrAppend(&out, "  --", negatable ? "[no-]" : "", dashed, is_bool ? "" : value,
                    is_bool ? "" : DefaultText(*f), "\n");
    AppendWrapped(&out, f->Help(), 6);
  }
  out +=
      "  -h, --help\n"
      "      Print this help and exit.\n"
      "  -v, --verbose\n"
      "      Name the optional sched_ext features the scheduler found in this\n"
      "      kernel. With each stats line (--stats-interval), the kernel side's\n"
      "      view: transaction slots, agent and task status words. Twice (-vv):\n"
      "      libbpf's own messages too, such as the verifier's log.\n"
      "  -V, --version\n"
      "      Print the version, the git commit it was built from and the running\n"
      "      kernel's optional sched_ext features, and exit.\n"
      "\nEXAMPLES\n"
      "  sudo ghost_hybrid --bpf-pick -- make -j8\n"
      "      Build with the fast path on; the agent decides for the rest.\n"
      "  sudo ghost_hybrid --model=percpu --cpus=0-3 -- ./server\n"
      "      One agent per CPU of 0-3; ./server's threads run only there.\n"
      "  sudo ghost_hybrid --slice=5ms --stats-interval=1s --pid=$(pidof app)\n"
      "      Take over a running process, with a stats line each second.\n"
      "  sudo ghost_hybrid --monitor=2s\n"
      "      From another shell: the running instance's counters every 2 s.\n"
      "  sudo ghost_hybrid --persist --bpf-pick\n"
      "  sudo ghost_hybrid --detach && sudo ./ghost_hybrid-new --attach\n"
      "      Upgrade the agent of a live machine: the tasks run on, decided by the\n"
      "      kernel side alone for the moment between the two agents.\n"
      "  sudo ghost_hybrid --dump\n"
      "      From another shell: the running instance's runqueue, agents and\n"
      "      counters. `sudo bpftool map dump name runqueue` shows the queue too.\n"
      "\nENVIRONMENT\n"
      "  SUDO_USER                 COMMAND runs as this user (unless --user).\n"
      "  GHOST_HYBRID_DEBUG=1      Same as -v.\n"
      "  GHOST_HYBRID_LIBBPF_DEBUG=1  Same as -vv.\n"
      "\nEXIT STATUS\n"
      "  COMMAND's own status when it ran under the scheduler throughout; else\n"
      "  70   the kernel ejected the scheduler while COMMAND ran (COMMAND's status\n"
      "       is in the message and in --stats-json; the kernel's exit dump is\n"
      "       printed on stderr)\n"
      "  1    runtime failure, or --stats-json could not be written\n"
      "  2    usage error (bad flag, value, CPU list, pid)\n"
      "  3    environment: not root, no sched_ext in this kernel, or another\n"
      "       sched_ext scheduler (or ghost_hybrid) already loaded\n"
      "  4    the BPF scheduler failed to load or attach\n"
      "  127  COMMAND not found\n";
  return out;
}

}  // namespace gh
