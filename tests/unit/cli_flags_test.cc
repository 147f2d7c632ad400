// SPDX-License-Identifier: Apache-2.0
// Tests of ghost_hybrid's command-line parsing (agent/cli/flags.h).
#include "agent/cli/flags.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gh {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<Config> Parse(std::vector<std::string> args) {
  absl::FlagSaver restore_defaults_after_test;
  args.insert(args.begin(), "ghost_hybrid");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

// Tests that dashed flag names, values and the command after "--" parse.
TEST(CliFlags, ParsesDashedFlagsAndTheCommandAfterDoubleDash) {
  absl::StatusOr<Config> c = Parse({"--bpf-pick", "--cpus=0-2,5", "--global-cpu", "1",
                                    "--slice=5ms", "--", "make", "-j4"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->bpf_pick);
  EXPECT_THAT(c->cpus, ElementsAre(0, 1, 2, 5));
  EXPECT_EQ(c->global_cpu, 1);
  EXPECT_EQ(c->slice, absl::Milliseconds(5));
  EXPECT_EQ(c->model, Model::kCentralized);
  EXPECT_THAT(c->command, ElementsAre("make", "-j4"));
  absl::StatusOr<Config> p = Parse({"--model=per-cpu", "--slice", "2ms", "--", "true"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->model, Model::kPerCpu);
  EXPECT_EQ(p->slice, absl::Milliseconds(2));
}

// Tests that -V and --version ask for the version, whatever follows.
TEST(CliFlags, VersionFlagsAskForTheVersion) {
  for (const char* flag : {"-V", "--version"}) {
    absl::StatusOr<Config> c = Parse({flag, "--", "true"});
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c->version) << flag;
  }
  absl::StatusOr<Config> plain = Parse({"--", "true"});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->version);
}

// Tests that the defaults are: fast path off, centralized, 20ms slices, no
// periodic stats.
TEST(CliFlags, DefaultsAreAgentOnlyCentralizedWithSlices) {
  absl::StatusOr<Config> c = Parse({"--", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->bpf_pick);
  EXPECT_EQ(c->model, Model::kCentralized);
  EXPECT_EQ(c->slice, absl::Milliseconds(20));
  EXPECT_TRUE(c->cpus.empty());
  EXPECT_EQ(c->stats_interval, absl::ZeroDuration());  // stats are opt-in
  absl::StatusOr<Config> fifo = Parse({"--slice=inf", "--", "true"});
  ASSERT_TRUE(fifo.ok());
  EXPECT_EQ(fifo->slice, absl::InfiniteDuration());
}

// Tests that each kind of bad input is one sentence naming the problem.
TEST(CliFlags, RejectsBadInputWithAMessageNamingIt) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  } cases[] = {
      {{"--bogus", "--", "true"}, "unknown flag '--bogus'"},
      {{"--slice=fast", "--", "true"}, "bad value 'fast' for --slice"},
      {{"--cpus=3-1", "--", "true"}, "bad CPU list '--cpus=3-1'"},
      {{"--cpus=a", "--", "true"}, "bad CPU list '--cpus=a'"},
      {{"--slice=5", "--", "true"}, "a duration needs a unit"},
      {{"--model=percpu", "--global-cpu=1", "--", "true"}, "--global-cpu applies to the centralized"},
      {{"--model=percpu", "--agent-spin=1ms", "--", "true"}, "--agent-spin applies to the centralized"},
      {{"--model=percpu", "--global-cpu-after=1ms", "--", "true"},
       "--global-cpu-after applies to the centralized"},
      {{"--global-cpu-after=-1ms", "--", "true"}, "--global-cpu-after must be between 0 and 1s"},
      {{"--model=random", "--", "true"}, "--model=random is not a model"},
      {{"--watchdog=60s", "--", "true"}, "between 100ms and 30s"},
      {{"--pid=5", "--", "true"}, "either --pid or a command"},
      {{"true"}, "put the command after '--'"},
      {{"--global-cpu"}, "needs a value"},
      {{"--attach", "--bpf-pick"}, "--attach takes the settings of the scheduler it attaches to: drop --bpf-pick"},
      {{"--attach", "--slice=5ms"}, "drop --slice"},
      {{"--attach", "--dump"}, "--attach and --dump do not go together"},
      {{"--detach", "--persist"}, "--detach acts on the persistent scheduler alone: drop --persist"},
      {{"--stop", "--", "true"}, "--stop takes no command"},
      {{"--persist", "--model=percpu", "--", "true"}, "--persist supports the centralized model only"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Config> r = Parse(c.args);
    ASSERT_FALSE(r.ok()) << c.args[0];
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.says));
  }
}

// Tests that the persistent-scheduler actions parse, and that an attaching
// agent may still choose what is its own (the global CPU, stats).
TEST(CliFlags, PersistentSchedulerActionsParse) {
  absl::StatusOr<Config> p = Parse({"--persist", "--bpf-pick", "--", "make"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->persist);
  EXPECT_TRUE(p->bpf_pick);
  absl::StatusOr<Config> a = Parse({"--attach", "--global-cpu=1", "--stats-json=/tmp/x"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->attach);
  EXPECT_EQ(a->global_cpu, 1);
  absl::StatusOr<Config> d = Parse({"--detach"});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->detach);
  absl::StatusOr<Config> s = Parse({"--stop"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->stop);
}

// Tests that a huge CPU range fails at once, without being expanded.
TEST(CliFlags, HugeCpuRangeFailsAtOnce) {
  const absl::Time start = absl::Now();
  absl::StatusOr<Config> r = Parse({"--cpus=0-100000000", "--", "true"});
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(100));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("use CPU numbers from 0 to"));
}

// Tests that -v, --verbose and -vv add up.
TEST(CliFlags, VerboseFlagsCount) {
  absl::StatusOr<Config> c = Parse({"-v", "--verbose", "--", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->verbose, 2);
  absl::StatusOr<Config> vv = Parse({"-vv", "--", "true"});
  ASSERT_TRUE(vv.ok()) << vv.status();
  EXPECT_EQ(vv->verbose, 2);
}

// Tests --monitor's forms: alone (every second), with seconds as the scx
// schedulers take them, or with a duration.
TEST(CliFlags, MonitorTakesSecondsOrADuration) {
  struct Case {
    std::vector<std::string> args;
    absl::Duration want;
  } cases[] = {
      {{"--monitor"}, absl::Seconds(1)},
      {{"--monitor=1", "--json"}, absl::Seconds(1)},
      {{"--monitor", "2.5"}, absl::Milliseconds(2500)},
      {{"--monitor=500ms"}, absl::Milliseconds(500)},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Config> r = Parse(c.args);
    ASSERT_TRUE(r.ok()) << c.args[0] << ": " << r.status();
    EXPECT_EQ(r->monitor, c.want) << c.args[0];
  }
  EXPECT_FALSE(Parse({"--monitor=0.01"}).ok());  // under 100ms
}

// Tests that boolean flags take the --no- form the CLI conventions use.
TEST(CliFlags, BooleanFlagsTakeTheNoForm) {
  absl::StatusOr<Config> c = Parse({"--bpf-pick", "--no-bpf-pick", "--", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->bpf_pick);
}

// Tests that CPU lists are sorted and deduplicated.
TEST(CliFlags, CpuListsAreSortedAndUnique) {
  absl::StatusOr<std::vector<int>> cpus = ParseCpuList("3,1-2,2");
  ASSERT_TRUE(cpus.ok());
  EXPECT_THAT(*cpus, ElementsAre(1, 2, 3));
}

}  // namespace
}  // namespace gh
