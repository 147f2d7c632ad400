// SPDX-License-Identifier: Apache-2.0
// sim_scaling.cc: how fast the centralized FIFO agent decides on the
// simulated kernel, as the number of virtual CPUs grows.
//
// What it measures: scheduling decisions per second of host CPU time, and
// nanoseconds per decision, for the centralized FIFO agent
// (agent/schedulers/fifo_centralized.h) running on SimKernel with 8, 32, 64,
// 128 and 256 virtual CPUs, on one host core.
//
// A decision is one transaction the agent committed with outcome
// GH_TXN_COMPLETE: one task placed on one CPU (the simulator's natural unit;
// failed transactions are counted separately and are not decisions).
//
// How:
//  - Workload (saturating): tasks_per_cpu x N CPU-bound tasks, so the
//    agent's run queue never empties. Each task runs [Run(segment), Yield]
//    over and over; the preemption slice (--slice_ns) is no longer than the
//    agent's step, so at every round the slice of every running task has
//    expired and the agent re-decides every CPU but its own: each round
//    drains TASK_ON_CPU/TASK_PREEMPT/TASK_YIELD messages, requeues the
//    expired tasks and commits N-1 transactions as one group.
//  - The simulator has no threads: the simulated kernel's work and the
//    agent's are interleaved on one thread, so the headline CPU time is the
//    whole simulation's, i.e. the cost of a decision including the simulated
//    kernel's side of it (messages, status words, validating the commit).
//  - That thread is pinned to one host core (sched_setaffinity); its CPU
//    time is read with clock_gettime(CLOCK_THREAD_CPUTIME_ID) around the
//    measured interval only (building the kernel, agents and tasks and a
//    warm-up are excluded). Traces are off (record_trace = false).
//  - Each CPU count runs --reps times, a fresh simulator each time (the
//    simulation is deterministic: reps differ only in host noise), the reps
//    of the CPU counts interleaved; the rep with the median rate is
//    reported and every rep is kept.
//  - Three more, shorter reps per CPU count attribute the time (steady
//    clock around each agent Step() and each CommitRunRequests(), median of
//    each share): the agent's own share (Step minus commit), the commit path
//    (the simulated kernel validating and applying transactions, starting
//    and preempting tasks) and the rest of the simulator (event queue, task
//    scripts). They are not part of the headline numbers.
//  - Sanity (non-zero exit): no simulator invariant violation, no dropped
//    message, no task ran out of script, the agent's and the kernel's
//    COMPLETE counts agree, decisions at every CPU count. The targets
//    (>= 1M decisions/s at 64 CPUs; rate at 256 >= 0.8 x rate at 8) are
//    reported, not enforced.
//
// Output: a table on stdout and JSON at --out (default
// bench/results/sim.json): per CPU count decisions, cpu_seconds,
// decisions_per_sec, ns_per_decision and the attribution; the host CPU
// model, the date, and whether each target is met with its ratio.
#include <sched.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "agent/schedulers/fifo_centralized.h"
#include "agent/sim/sim_kernel.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::vector<std::string>, cpus,
          std::vector<std::string>({"8", "32", "64", "128", "256"}),
          "virtual CPU counts to measure, comma-separated");
ABSL_FLAG(int, reps, 5, "repetitions per CPU count (the median is reported)");
ABSL_FLAG(int64_t, decisions, 1000000, "decisions measured per repetition");
ABSL_FLAG(double, max_rep_seconds, 2.0,
          "stop a repetition early after this much CPU time");
ABSL_FLAG(int, tasks_per_cpu, 4, "CPU-bound tasks per virtual CPU");
ABSL_FLAG(int64_t, slice_ns, 1000,
          "preemption time slice, virtual ns (<= the 1us agent step: every "
          "CPU is re-decided every round)");
ABSL_FLAG(int64_t, segment_ns, 10000,
          "virtual runtime between two sched_yield()s of a task (it is "
          "preempted at every slice in between)");
ABSL_FLAG(bool, attribute, true,
          "one extra rep per CPU count that splits the time between the "
          "agent, the commit path and the rest of the simulator");
ABSL_FLAG(bool, absl_deadlock_detection, true,
          "leave Abseil's Mutex deadlock detection as the library sets it "
          "(false: kIgnore, to measure what it costs)");
ABSL_FLAG(int, host_cpu, -1, "host CPU to pin to (-1: the current one)");
ABSL_FLAG(std::string, out, "bench/results/sim.json", "JSON output path");
ABSL_FLAG(bool, smoke, false,
          "a run of a few seconds: 8 and 32 CPUs, 2 reps of 20,000 decisions");

namespace gh {
namespace {

constexpr double kTargetRateAt64 = 1e6;  // decisions/s at 64 virtual CPUs
constexpr double kTargetRatio256To8 = 0.8;
const absl::Duration kAgentStep = absl::Microseconds(1);  // SimConfig default
// Reading the thread CPU clock is a system call (~2us here): read it about
// once per this many decisions.
constexpr int kDecisionsPerClockRead = 4096;
// Attribution: this many reps of a quarter of --decisions each per CPU count.
constexpr int kAttributionReps = 3;

struct Params {
  std::vector<int> cpus;
  int reps;
  int64_t decisions;
  double max_rep_seconds;
  int tasks_per_cpu;
  absl::Duration slice;
  absl::Duration segment;  // virtual runtime between a task's yields
  int warmup_rounds;
  bool attribute;
};

// Shares of the attribution rep's time (steady clock), summing to 1.
struct Attribution {
  double agent = 0;   // Agent::Step() minus the commits inside it
  double commit = 0;  // SimKernel::CommitRunRequests()
  double other_sim = 0;
};

struct RepResult {
  uint64_t decisions = 0;
  uint64_t failed_txns = 0;
  uint64_t messages = 0;
  uint64_t yields = 0;  // TASK_YIELD messages
  uint64_t commit_groups = 0;
  double cpu_seconds = 0;
  double virtual_seconds = 0;
  Attribution attribution;  // attribution rep only
  double rate() const { return cpu_seconds > 0 ? decisions / cpu_seconds : 0; }
  double ns_per_decision() const { return decisions ? cpu_seconds * 1e9 / decisions : 0; }
};

struct CpuCountResult {
  int cpus = 0;
  int tasks = 0;
  std::vector<RepResult> reps;
  RepResult median;
  std::optional<Attribution> attribution;
};

// ---------------------------------------------------------------- host

int64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Pins the calling thread to `cpu` (-1: the one it runs on). Returns the CPU
// or -1 on failure.
int PinToOneCore(int cpu) {
  if (cpu < 0) cpu = sched_getcpu();
  if (cpu < 0) return -1;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0 ? cpu : -1;
}

std::string HostCpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "unknown" : line.substr(start);
  }
  return "unknown";
}

// Returns the first three fields of /proc/loadavg (other load on the host
// makes the numbers noisier), or "unknown".
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  return (in >> a >> b >> c) ? a + " " + b + " " + c : "unknown";
}

std::string KernelRelease() {
  utsname u;
  return uname(&u) == 0 ? u.release : "unknown";
}

// --------------------------------------------------------- attribution

// SimKernel that can time its commit path.
class TimedSimKernel : public SimKernel {
 public:
  using SimKernel::SimKernel;

  bool CommitRunRequests(const CpuList& cpus) override {
    if (!timing_) return SimKernel::CommitRunRequests(cpus);
    const int64_t t0 = SteadyNs();
    const bool ok = SimKernel::CommitRunRequests(cpus);
    commit_ns_ += SteadyNs() - t0;
    return ok;
  }

  void set_timing(bool on) { timing_ = on; }
  int64_t commit_ns() const { return commit_ns_; }

 private:
  bool timing_ = false;
  int64_t commit_ns_ = 0;
};

// Stands in for an agent on the enclave and times its Step().
class TimedAgent : public Agent {
 public:
  TimedAgent(Enclave* enclave, Agent* inner, int64_t* step_ns)
      : Agent(enclave, inner->cpu()), inner_(inner), step_ns_(step_ns) {}

  void Step() override {
    const int64_t t0 = SteadyNs();
    inner_->Step();
    *step_ns_ += SteadyNs() - t0;
  }
  bool SchedulerEmpty() const override { return inner_->SchedulerEmpty(); }

 private:
  Agent* const inner_;
  int64_t* const step_ns_;
};

// ----------------------------------------------------------- one run

uint64_t CompletedTxns(const Scheduler& s) { return s.stats().txns(GH_TXN_COMPLETE); }

uint64_t FailedTxns(const Scheduler& s) {
  uint64_t n = 0;
  for (uint32_t st = GH_TXN_COMPLETE + 1; st < GH_TXN_NR_STATES; ++st) n += s.stats().txns(st);
  return n;
}

uint64_t Messages(const Scheduler& s) {
  uint64_t n = 0;
  for (int t = 0; t < GH_MSG_NR_TYPES; ++t) n += s.stats().messages(t);
  return n;
}

uint64_t CommitGroups(const Scheduler& s) {
  uint64_t n = 0;
  for (int b = 0; b < kGroupSizeBuckets; ++b) n += s.stats().groups(b);
  return n;
}

SimConfig MakeConfig(int ncpus, uint64_t seed) {
  SimConfig c;
  c.topology = Topology::Synthetic(ncpus, 1, ncpus, 1);
  c.seed = seed;
  c.agent_step = kAgentStep;
  c.record_trace = false;  // the trace would grow by records per decision
  return c;
}

// Virtual runtime a task gets per decision: it is committed at one round
// and preempted at the first round after its slice.
absl::Duration RuntimePerDecision(absl::Duration slice) {
  const int64_t rounds = (slice + kAgentStep - absl::Nanoseconds(1)) / kAgentStep;
  return kAgentStep * std::max<int64_t>(1, rounds);
}

// One task's script: [Run(segment), Yield] repeated, long enough (twice over)
// for `decisions` decisions among `ntasks` tasks. A task that ran out would
// exit, which CheckRun reports.
std::vector<SimAction> CpuBoundScript(const Params& p, int ntasks, int64_t decisions) {
  const absl::Duration runtime = RuntimePerDecision(p.slice) * (decisions / ntasks + 1);
  const int64_t segments = 2 * (runtime / p.segment + 1);
  std::vector<SimAction> script;
  script.reserve(2 * segments);
  for (int64_t i = 0; i < segments; ++i) {
    script.push_back(SimAction::Run(p.segment));
    script.push_back(SimAction::Yield());
  }
  return script;
}

// Adds the CPU-bound tasks, arrivals spread over one slice.
void AddSaturatingTasks(SimKernel& k, const Params& p, int ntasks, int64_t decisions) {
  const std::vector<SimAction> script = CpuBoundScript(p, ntasks, decisions);
  for (int i = 0; i < ntasks; ++i)
    k.AddTask({.arrival = p.slice * i / ntasks, .script = script});
}

// Returns an error message if the run misbehaved, or nullopt.
std::optional<std::string> CheckRun(const SimKernel& k, const Scheduler& s) {
  if (!k.violations().empty()) return "simulator invariant: " + k.violations().front();
  if (k.kernel_stat(GH_STAT_MSGS_DROPPED) != 0) return std::string("messages dropped");
  if (k.kernel_stat(GH_STAT_TXN_COMPLETE) != CompletedTxns(s))
    return absl::StrFormat("kernel COMPLETE %d != agent COMPLETE %d",
                           k.kernel_stat(GH_STAT_TXN_COMPLETE), CompletedTxns(s));
  if (k.tasks_ended() != 0) return std::string("a CPU-bound task ran out of script");
  return std::nullopt;
}

// Rounds simulated between reads of the CPU clock (each round makes up to
// ncpus - 1 decisions).
int ChunkRounds(int ncpus) { return std::max(50, kDecisionsPerClockRead / (ncpus - 1)); }

// Simulates until `decisions` more decisions or `cap_ns` of thread CPU time.
// Returns the thread CPU time spent (ns).
int64_t RunMeasured(SimKernel& k, const Scheduler& s, int ncpus, uint64_t decisions,
                    int64_t cap_ns) {
  const absl::Duration chunk = kAgentStep * ChunkRounds(ncpus);
  const uint64_t target = CompletedTxns(s) + decisions;
  const int64_t t0 = ThreadCpuNs();
  int64_t t1 = t0;
  while (CompletedTxns(s) < target && t1 - t0 < cap_ns) {
    k.RunFor(chunk);
    t1 = ThreadCpuNs();
  }
  return t1 - t0;
}

// One repetition at `ncpus`: builds the simulator, warms up, then simulates
// `p.decisions` decisions (or up to the CPU-time cap) and measures them.
// With `attribute`, also times the agents' steps and the commits.
RepResult RunOnce(int ncpus, const Params& p, uint64_t seed, bool attribute,
                  std::string* error) {
  TimedSimKernel k(MakeConfig(ncpus, seed));
  std::vector<std::unique_ptr<TimedAgent>> timed;  // declared before `fa`: outlives it
  int64_t step_ns = 0;
  FullCentralizedFifoAgent fa(
      &k, CentralizedFifoConfig{.global_cpu = 0, .preemption_time_slice = p.slice});
  if (attribute) {
    // No agent has stepped yet: all are active, so re-attaching changes nothing.
    for (const auto& a : fa.agents()) {
      timed.push_back(std::make_unique<TimedAgent>(&k, a.get(), &step_ns));
      k.DetachAgent(a->cpu());
      k.AttachAgent(a->cpu(), timed.back().get());
    }
  }
  const Scheduler& s = *fa.scheduler();
  // Decisions the scripts must last for: warm-up, measured, the last chunk.
  const int64_t all_decisions =
      p.decisions + int64_t{p.warmup_rounds + ChunkRounds(ncpus) + 1} * ncpus;
  AddSaturatingTasks(k, p, p.tasks_per_cpu * ncpus, all_decisions);
  k.RunFor(kAgentStep * p.warmup_rounds);

  const uint64_t d0 = CompletedTxns(s), f0 = FailedTxns(s), m0 = Messages(s),
                 y0 = s.stats().messages(GH_MSG_TASK_YIELD), g0 = CommitGroups(s);
  const absl::Duration v0 = k.elapsed();
  step_ns = 0;
  k.set_timing(attribute);
  const int64_t wall0 = SteadyNs();
  const int64_t cpu_ns = RunMeasured(k, s, ncpus, static_cast<uint64_t>(p.decisions),
                                     static_cast<int64_t>(p.max_rep_seconds * 1e9));
  const double wall_ns = static_cast<double>(SteadyNs() - wall0);

  RepResult r;
  r.decisions = CompletedTxns(s) - d0;
  r.failed_txns = FailedTxns(s) - f0;
  r.messages = Messages(s) - m0;
  r.yields = s.stats().messages(GH_MSG_TASK_YIELD) - y0;
  r.commit_groups = CommitGroups(s) - g0;
  r.cpu_seconds = cpu_ns * 1e-9;
  r.virtual_seconds = absl::ToDoubleSeconds(k.elapsed() - v0);
  if (attribute && wall_ns > 0) {
    r.attribution.commit = k.commit_ns() / wall_ns;
    r.attribution.agent = (step_ns - k.commit_ns()) / wall_ns;
    r.attribution.other_sim = 1 - r.attribution.commit - r.attribution.agent;
  }
  if (auto bad = CheckRun(k, s)) *error = absl::StrFormat("%d cpus: %s", ncpus, *bad);
  if (r.decisions == 0 && error->empty())
    *error = absl::StrFormat("%d cpus: no decision in %.3fs", ncpus, r.cpu_seconds);
  return r;
}

// Sets c->median to the rep with the median rate.
void SelectMedian(CpuCountResult* c) {
  std::vector<RepResult> sorted = c->reps;
  std::sort(sorted.begin(), sorted.end(),
            [](const RepResult& a, const RepResult& b) { return a.rate() < b.rate(); });
  if (!sorted.empty()) c->median = sorted[sorted.size() / 2];
}

// Attributes the time at `ncpus`: kAttributionReps short reps, the median of
// each share. (Wall-clock shares: a rep in which the host deschedules the
// thread charges the gap to whatever was running; the median drops it.)
Attribution Attribute(int ncpus, const Params& p, std::string* error) {
  Params short_p = p;
  short_p.decisions = std::max<int64_t>(20000, p.decisions / 4);
  std::vector<double> agent, commit;
  for (int i = 0; i < kAttributionReps && error->empty(); ++i) {
    const Attribution a = RunOnce(ncpus, short_p, /*seed=*/1, /*attribute=*/true, error).attribution;
    agent.push_back(a.agent);
    commit.push_back(a.commit);
  }
  if (agent.empty()) return {};
  std::sort(agent.begin(), agent.end());
  std::sort(commit.begin(), commit.end());
  Attribution m;
  m.agent = agent[agent.size() / 2];
  m.commit = commit[commit.size() / 2];
  m.other_sim = 1 - m.agent - m.commit;
  return m;
}

// Runs every rep of every CPU count, then the attribution reps. The reps
// interleave the CPU counts (8, 32, ..., 8, 32, ...), so a change in the
// host's load over time hits every count alike rather than skewing ratios.
std::vector<CpuCountResult> RunAll(const Params& p, std::string* error) {
  std::vector<CpuCountResult> out(p.cpus.size());
  for (size_t i = 0; i < p.cpus.size(); ++i) {
    out[i].cpus = p.cpus[i];
    out[i].tasks = p.tasks_per_cpu * p.cpus[i];
  }
  for (int rep = 0; rep < p.reps; ++rep) {
    std::fprintf(stderr, "rep %d/%d ...\n", rep + 1, p.reps);
    for (CpuCountResult& c : out) {
      c.reps.push_back(RunOnce(c.cpus, p, /*seed=*/1 + rep, /*attribute=*/false, error));
      if (!error->empty()) return out;
    }
  }
  for (CpuCountResult& c : out) SelectMedian(&c);
  if (!p.attribute) return out;
  std::fprintf(stderr, "attribution ...\n");
  for (CpuCountResult& c : out) {
    c.attribution = Attribute(c.cpus, p, error);
    if (!error->empty()) return out;
  }
  return out;
}

// ------------------------------------------------------------- report

double DecisionsPerGroup(const RepResult& r) {
  return r.commit_groups ? static_cast<double>(r.decisions) / r.commit_groups : 0.0;
}

// True iff the agent re-decided (nearly) every CPU but its own each round,
// as the workload intends; false means the numbers measure something else.
bool Saturated(const CpuCountResult& c) {
  return DecisionsPerGroup(c.median) >= 0.9 * (c.cpus - 1);
}

nlohmann::json RepJson(const RepResult& r) {
  return {{"decisions", r.decisions},
          {"cpu_seconds", r.cpu_seconds},
          {"decisions_per_sec", r.rate()},
          {"ns_per_decision", r.ns_per_decision()},
          {"failed_txns", r.failed_txns},
          {"messages", r.messages},
          {"yields", r.yields},
          {"commit_groups", r.commit_groups},
          {"virtual_seconds", r.virtual_seconds}};
}

nlohmann::json AttributionJson(const Attribution& a, double ns_per_decision) {
  return {{"agent_share", a.agent},
          {"commit_share", a.commit},
          {"other_sim_share", a.other_sim},
          {"agent_ns_per_decision", a.agent * ns_per_decision},
          {"commit_ns_per_decision", a.commit * ns_per_decision},
          {"other_sim_ns_per_decision", a.other_sim * ns_per_decision}};
}

nlohmann::json ResultJson(const CpuCountResult& c) {
  nlohmann::json j = RepJson(c.median);
  j["cpus"] = c.cpus;
  j["tasks"] = c.tasks;
  j["decisions_per_commit_group"] = DecisionsPerGroup(c.median);
  j["saturated"] = Saturated(c);
  j["attribution"] = c.attribution
                         ? AttributionJson(*c.attribution, c.median.ns_per_decision())
                         : nlohmann::json(nullptr);
  j["reps"] = nlohmann::json::array();
  for (const RepResult& r : c.reps) j["reps"].push_back(RepJson(r));
  return j;
}

const CpuCountResult* Find(const std::vector<CpuCountResult>& rs, int cpus) {
  for (const CpuCountResult& r : rs)
    if (r.cpus == cpus) return &r;
  return nullptr;
}

// `measured` and `ratio` (measured / target) are null when not measured.
nlohmann::json Target(const char* what, double target, std::optional<double> measured) {
  nlohmann::json t = {{"what", what}, {"target", target}};
  if (measured) {
    t["measured"] = *measured;
    t["ratio"] = *measured / target;
    t["met"] = *measured >= target;
  } else {
    t["measured"] = t["ratio"] = t["met"] = nullptr;
  }
  return t;
}

nlohmann::json TargetsJson(const std::vector<CpuCountResult>& rs) {
  const CpuCountResult* c8 = Find(rs, 8);
  const CpuCountResult* c64 = Find(rs, 64);
  const CpuCountResult* c256 = Find(rs, 256);
  std::optional<double> rate64, ratio;
  if (c64) rate64 = c64->median.rate();
  if (c8 && c256 && c8->median.rate() > 0) ratio = c256->median.rate() / c8->median.rate();
  return {{"rate_at_64",
           Target("decisions/s at 64 virtual CPUs on one host core >= 1,000,000",
                  kTargetRateAt64, rate64)},
          {"scaling_256_vs_8",
           Target("(decisions/s at 256 CPUs) / (decisions/s at 8 CPUs) >= 0.8",
                  kTargetRatio256To8, ratio)}};
}

nlohmann::json ReportJson(const Params& p, const std::vector<CpuCountResult>& rs,
                          int pinned_cpu, const std::string& load_at_start, bool smoke) {
  nlohmann::json j;
  j["benchmark"] = "sim_scaling";
  j["smoke"] = smoke;
  j["date"] = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  j["host"] = {{"cpu_model", HostCpuModel()},
               {"online_cpus", sysconf(_SC_NPROCESSORS_ONLN)},
               {"pinned_cpu", pinned_cpu},
               {"loadavg_at_start", load_at_start},
               {"kernel", KernelRelease()}};
  j["method"] = {
      {"decision", "a transaction the centralized FIFO agent committed with outcome "
                   "GH_TXN_COMPLETE (one task placed on one CPU)"},
      {"cpu_time", "CLOCK_THREAD_CPUTIME_ID of the one simulator thread (simulated kernel "
                   "and agent interleaved), pinned to one host core; setup and warm-up "
                   "excluded"},
      {"workload", "tasks_per_cpu x cpus CPU-bound tasks running [Run(segment), Yield] "
                   "forever; preemption slice <= agent step, so every round re-decides "
                   "every CPU but the global agent's"},
      {"summary", "per CPU count, the repetition with the median decisions/s"},
      {"attribution", "3 extra short repetitions, steady clock around Agent::Step() and "
                      "SimKernel::CommitRunRequests(); agent = steps minus commits, "
                      "commit = the simulated kernel's commit path, other_sim = the rest; "
                      "median share of wall time, scaled to the median ns/decision"}};
  j["config"] = {{"reps", p.reps},
                 {"decisions_per_rep", p.decisions},
                 {"max_rep_seconds", p.max_rep_seconds},
                 {"tasks_per_cpu", p.tasks_per_cpu},
                 {"slice_ns", absl::ToInt64Nanoseconds(p.slice)},
                 {"segment_ns", absl::ToInt64Nanoseconds(p.segment)},
                 {"agent_step_ns", absl::ToInt64Nanoseconds(kAgentStep)},
                 {"warmup_rounds", p.warmup_rounds},
                 {"absl_deadlock_detection", absl::GetFlag(FLAGS_absl_deadlock_detection)}};
  j["results"] = nlohmann::json::array();
  for (const CpuCountResult& r : rs) j["results"].push_back(ResultJson(r));
  j["targets"] = TargetsJson(rs);
  return j;
}

bool WriteJson(const std::string& path, const nlohmann::json& j) {
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    if (!(out << j.dump(2) << "\n")) return false;
  }
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

void PrintHeader() {
  std::printf("%5s %6s %10s %7s %12s %8s %9s  %s\n", "cpus", "tasks", "decisions", "cpu_s",
              "decisions/s", "ns/dec", "dec/group", "ns/dec: agent commit other-sim");
}

void PrintRow(const CpuCountResult& c) {
  const RepResult& m = c.median;
  std::printf("%5d %6d %10llu %7.3f %12.0f %8.1f %9.1f", c.cpus, c.tasks,
              static_cast<unsigned long long>(m.decisions), m.cpu_seconds, m.rate(),
              m.ns_per_decision(), DecisionsPerGroup(m));
  if (c.attribution) {
    const double ns = m.ns_per_decision();
    std::printf("  %6.0f %6.0f %6.0f", c.attribution->agent * ns, c.attribution->commit * ns,
                c.attribution->other_sim * ns);
  }
  std::printf("\n");
  std::fflush(stdout);
}

void PrintTargets(const nlohmann::json& t) {
  for (const char* name : {"rate_at_64", "scaling_256_vs_8"}) {
    const nlohmann::json& x = t[name];
    if (x["met"].is_null()) {
      std::printf("target %-17s not measured\n", name);
    } else {
      std::printf("target %-17s %s (measured %.3g, target %.3g: %.2fx)\n", name,
                  x["met"].get<bool>() ? "MET" : "MISSED", x["measured"].get<double>(),
                  x["target"].get<double>(), x["ratio"].get<double>());
    }
  }
}

// ------------------------------------------------------------- main

std::optional<Params> ParamsFromFlags(std::string* error) {
  Params p;
  const bool smoke = absl::GetFlag(FLAGS_smoke);
  p.reps = smoke ? 2 : absl::GetFlag(FLAGS_reps);
  p.decisions = smoke ? 20000 : absl::GetFlag(FLAGS_decisions);
  p.max_rep_seconds = absl::GetFlag(FLAGS_max_rep_seconds);
  p.tasks_per_cpu = absl::GetFlag(FLAGS_tasks_per_cpu);
  p.slice = absl::Nanoseconds(absl::GetFlag(FLAGS_slice_ns));
  p.segment = absl::Nanoseconds(absl::GetFlag(FLAGS_segment_ns));
  p.warmup_rounds = smoke ? 20 : 200;
  p.attribute = absl::GetFlag(FLAGS_attribute);
  const std::vector<std::string> cpus =
      smoke ? std::vector<std::string>{"8", "32"} : absl::GetFlag(FLAGS_cpus);
  for (const std::string& s : cpus) {
    int n;
    if (!absl::SimpleAtoi(s, &n) || n < 2 || n > GH_MAX_CPUS) {
      *error = "bad --cpus entry '" + s + "' (2.." + std::to_string(GH_MAX_CPUS) + ")";
      return std::nullopt;
    }
    p.cpus.push_back(n);
  }
  if (p.cpus.empty() || p.reps < 1 || p.decisions < 1 || p.tasks_per_cpu < 2 ||
      p.slice <= absl::ZeroDuration() || p.segment <= absl::ZeroDuration()) {
    *error = "need --cpus, --reps >= 1, --decisions >= 1, --tasks_per_cpu >= 2, "
             "--slice_ns > 0, --segment_ns > 0";
    return std::nullopt;
  }
  return p;
}

int Main() {
  std::string error;
  const std::optional<Params> p = ParamsFromFlags(&error);
  if (!p) {
    std::fprintf(stderr, "sim_scaling: %s\n", error.c_str());
    return 2;
  }
  if (!absl::GetFlag(FLAGS_absl_deadlock_detection))
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string load_at_start = LoadAverage();
  const int pinned = PinToOneCore(absl::GetFlag(FLAGS_host_cpu));
  if (pinned < 0) {
    std::fprintf(stderr, "sim_scaling: cannot pin to one host core\n");
    return 1;
  }
  std::printf("sim_scaling: centralized FIFO agent on SimKernel; host CPU %d (%s, load %s); "
              "median of %d reps\n", pinned, HostCpuModel().c_str(), load_at_start.c_str(),
              p->reps);
  std::fflush(stdout);
  const std::vector<CpuCountResult> results = RunAll(*p, &error);
  if (!error.empty()) {
    std::fprintf(stderr, "sim_scaling: FAILED: %s\n", error.c_str());
    return 1;
  }
  PrintHeader();
  for (const CpuCountResult& c : results) {
    PrintRow(c);
    if (!Saturated(c))
      std::printf("warning: %d cpus: not saturated (%.1f decisions per round, want %d)\n",
                  c.cpus, DecisionsPerGroup(c.median), c.cpus - 1);
  }
  const nlohmann::json report =
      ReportJson(*p, results, pinned, load_at_start, absl::GetFlag(FLAGS_smoke));
  PrintTargets(report["targets"]);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (!WriteJson(out, report)) {
    std::fprintf(stderr, "sim_scaling: cannot write %s\n", out.c_str());
    return 1;
  }
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace
}  // namespace gh

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return gh::Main();
}
