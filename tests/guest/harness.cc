// SPDX-License-Identifier: Apache-2.0
#include "tests/guest/harness.h"

#include "gtest/gtest.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/kernel/task_policy.h"
#include "agent/lib/message.h"
#include "agent/lib/run_request.h"

namespace gh::testing {
namespace {

void Spin(absl::Duration d) {
  absl::Time end = absl::Now() + d;
  volatile uint64_t x = 0;
  while (absl::Now() < end) x = x + 1;
}

[[noreturn]] void ChildMain(int in, int out) {
  if (!SetSchedExt(0).ok()) _exit(90);
  char c = 'R';
  if (write(out, &c, 1) != 1) _exit(91);
  for (;;) {
    if (read(in, &c, 1) != 1) _exit(92);  // blocking here is "sleep"
    switch (c) {
      case 'b': break;
      case 'y': sched_yield(); break;
      case 's': Spin(absl::Milliseconds(2)); break;
      case 'x': _exit(0);
      default: _exit(93);
    }
    if (write(out, &c, 1) != 1) _exit(94);
  }
}

}  // namespace

absl::StatusOr<ScriptedChild> ScriptedChild::Spawn() {
  int down[2], up[2];
  if (pipe(down) != 0 || pipe(up) != 0) return absl::InternalError("pipe");
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork");
  if (pid == 0) {
    // Keep only the two pipe ends: an inherited BPF link fd would keep the
    // scheduler attached for as long as this child lives.
    int hi_in = fcntl(down[0], F_DUPFD, 1000), hi_out = fcntl(up[1], F_DUPFD, 1000);
    int in = dup2(hi_in, 3), out = dup2(hi_out, 4);
    if (in != 3 || out != 4 || syscall(SYS_close_range, 5, ~0u, 0) != 0) _exit(95);
    ChildMain(in, out);
  }
  close(down[0]);
  close(up[1]);
  ScriptedChild c;
  c.pid_ = pid;
  c.to_child_ = down[1];
  c.from_child_ = up[0];
  return c;
}

ScriptedChild::ScriptedChild(ScriptedChild&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      to_child_(std::exchange(o.to_child_, -1)),
      from_child_(std::exchange(o.from_child_, -1)) {}

ScriptedChild::~ScriptedChild() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (to_child_ >= 0) close(to_child_);
  if (from_child_ >= 0) close(from_child_);
}

bool ScriptedChild::Send(char cmd) { return write(to_child_, &cmd, 1) == 1; }

bool ScriptedChild::WaitReply(absl::Duration timeout) {
  pollfd p = {from_child_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 1) return false;
  char c;
  return read(from_child_, &c, 1) == 1;
}

int ScriptedChild::Wait(absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    int status;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return -1;
}

absl::StatusOr<std::unique_ptr<Harness>> Harness::Start(const BpfSchedulerOptions& options) {
  absl::StatusOr<std::unique_ptr<BpfScheduler>> s = BpfScheduler::Load(options);
  if (!s.ok()) return s.status();
  auto h = std::make_unique<Harness>();
  h->sched_ = std::move(*s);
  return h;
}

Harness::~Harness() {
  if (!sched_) return;
  const ExitInfo info = sched_->exit_info();
  EXPECT_EQ(info.kind, 0) << "the kernel ejected the scheduler: " << info.reason << ": "
                          << info.message;
}

void Harness::Drain() {
  RingChannel& ch = sched_->channel(GH_DEFAULT_CHANNEL);
  while (const gh_msg* m = ch.Peek()) {
    log_.push_back(*m);
    ch.Consume();
  }
}

std::vector<gh_msg> Harness::MessagesOf(pid_t pid) const {
  std::vector<gh_msg> out;
  for (const gh_msg& m : log_) {
    if (m.hdr.type <= GH_MSG_TASK_LAST && GH_GTID_PID(m.gtid) == static_cast<uint32_t>(pid)) {
      out.push_back(m);
    }
  }
  return out;
}

bool Harness::WaitUntil(const std::function<bool()>& pred, absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  for (;;) {
    Drain();
    if (pred()) return true;
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Microseconds(200));
  }
}

const gh_msg* Harness::WaitForMessage(pid_t pid, int type, absl::Duration timeout,
                                      size_t after_index) {
  const gh_msg* found = nullptr;
  WaitUntil(
      [&] {
        for (size_t i = after_index; i < log_.size(); i++) {
          const gh_msg& m = log_[i];
          if (m.hdr.type == type && GH_GTID_PID(m.gtid) == static_cast<uint32_t>(pid)) {
            found = &m;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

uint64_t Harness::GtidOf(pid_t pid) const {
  for (const gh_msg& m : log_) {
    if (m.hdr.type == GH_MSG_TASK_NEW && GH_GTID_PID(m.gtid) == static_cast<uint32_t>(pid)) {
      return m.gtid;
    }
  }
  return 0;
}

uint32_t Harness::LastSeqnum(pid_t pid) const {
  std::vector<gh_msg> msgs = MessagesOf(pid);
  return msgs.empty() ? 0 : msgs.back().hdr.seqnum;
}

gh_status_word* Harness::StatusWordOf(pid_t pid) {
  for (const gh_msg& m : log_) {
    if (m.hdr.type == GH_MSG_TASK_NEW && GH_GTID_PID(m.gtid) == static_cast<uint32_t>(pid)) {
      return sched_->task_sw(m.task_new.sw_index);
    }
  }
  return nullptr;
}

void Harness::Open(int cpu, uint64_t gtid, uint32_t task_barrier, int64_t agent_barrier,
                   uint32_t commit_flags) {
  gh_txn* t = sched_->txn(cpu);
  t->gtid = gtid;
  t->task_barrier = task_barrier;
  t->check_agent_barrier = agent_barrier >= 0;
  t->agent_barrier = agent_barrier >= 0 ? static_cast<uint32_t>(agent_barrier) : 0;
  t->commit_flags = commit_flags;
  t->run_flags = 0;
  t->slice_ns = 0;
  __atomic_store_n(&t->state, GH_TXN_OPEN, __ATOMIC_RELEASE);
}

namespace {

// The ABI cpumask of @cpus.
void MaskOf(const std::vector<int>& cpus, uint64_t (&mask)[GH_CPUMASK_WORDS]) {
  for (uint64_t& w : mask) w = 0;
  for (int cpu : cpus) mask[cpu / 64] |= 1ull << (cpu % 64);
}

}  // namespace

std::vector<uint32_t> Harness::CommitGroup(const std::vector<int>& cpus, absl::Duration timeout) {
  uint64_t mask[GH_CPUMASK_WORDS];
  MaskOf(cpus, mask);
  std::vector<uint32_t> out(cpus.size(), GH_TXN_SUBMITTED);
  if (!sched_->Commit(mask).ok()) return out;
  absl::Time end = absl::Now() + timeout;
  for (size_t i = 0; i < cpus.size(); i++) {
    gh_txn* t = sched_->txn(cpus[i]);
    uint32_t s;
    while ((s = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE)) < GH_TXN_COMPLETE &&
           absl::Now() < end) {
      // Sleep, not yield: this fair-class thread would otherwise keep the
      // target CPU from ever reaching ops.dispatch.
      absl::SleepFor(absl::Microseconds(50));
    }
    out[i] = s;
  }
  return out;
}

uint32_t Harness::CommitOneWhenCpuFree(int cpu, absl::Duration timeout) {
  return RetryWhileCpuUnavailable(
      {cpu}, timeout, [&](absl::Duration left) { return CommitGroup({cpu}, left); })[0];
}

std::vector<uint32_t> Harness::RetryWhileCpuUnavailable(
    const std::vector<int>& cpus, absl::Duration timeout,
    const std::function<std::vector<uint32_t>(absl::Duration left)>& commit, int* retries) {
  std::vector<gh_txn> opened;
  for (int cpu : cpus) opened.push_back(*sched_->txn(cpu));
  const absl::Time end = absl::Now() + timeout;
  for (int n = 0;; n++) {
    std::vector<uint32_t> got = commit(end - absl::Now());
    const bool busy = std::find(got.begin(), got.end(), GH_TXN_CPU_UNAVAIL) != got.end();
    if (!busy || absl::Now() >= end) {
      if (retries) *retries = n;
      return got;
    }
    absl::SleepFor(absl::Milliseconds(1));
    for (size_t i = 0; i < cpus.size(); i++) {
      const gh_txn& o = opened[i];
      Open(cpus[i], o.gtid, o.task_barrier,
           o.check_agent_barrier ? static_cast<int64_t>(o.agent_barrier) : -1, o.commit_flags);
    }
  }
}

bool Harness::KeepCommittedUntil(pid_t pid, int cpu, absl::Duration timeout,
                                 const std::function<bool(absl::Duration)>& done) {
  const gh_status_word* sw = StatusWordOf(pid);
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (done(absl::Milliseconds(500))) return true;
    const uint32_t flags = sw ? __atomic_load_n(&sw->flags, __ATOMIC_ACQUIRE) : 0;
    if (!(flags & GH_SW_TASK_ONCPU) && (flags & GH_SW_TASK_RUNNABLE)) {
      Drain();
      Open(cpu, GtidOf(pid), LastSeqnum(pid));
      (void)CommitOneWhenCpuFree(cpu, absl::Seconds(1));
    }
  }
  return false;
}

std::string MsgTypeName(int type) { return Message::TypeName(type); }

std::string TxnStateName(uint32_t state) { return RunRequest::StateName(state); }

std::vector<uint32_t> Harness::CommitAtOnce(const std::vector<int>& cpus, uint32_t flags) {
  uint64_t mask[GH_CPUMASK_WORDS];
  MaskOf(cpus, mask);
  absl::StatusOr<uint32_t> n = sched_->Commit(mask, flags);
  EXPECT_TRUE(n.ok() && *n == cpus.size()) << "the commit program did not take every slot";
  std::vector<uint32_t> out;
  for (int cpu : cpus) out.push_back(__atomic_load_n(&sched_->txn(cpu)->state, __ATOMIC_ACQUIRE));
  return out;
}

std::vector<uint32_t> Harness::CommitAtOnceWhenCpusFree(const std::vector<int>& cpus,
                                                        uint32_t flags, absl::Duration timeout,
                                                        int* busy_retries) {
  return RetryWhileCpuUnavailable(
      cpus, timeout, [&](absl::Duration) { return CommitAtOnce(cpus, flags); }, busy_retries);
}

void SetAffinity(pid_t pid, const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  EXPECT_EQ(sched_setaffinity(pid, sizeof(set), &set), 0);
}

ScopedAffinity::ScopedAffinity(const std::vector<int>& cpus) {
  CPU_ZERO(&saved_);
  EXPECT_EQ(sched_getaffinity(0, sizeof(saved_), &saved_), 0);
  SetAffinity(0, cpus);
}

ScopedAffinity::~ScopedAffinity() { sched_setaffinity(0, sizeof(saved_), &saved_); }

std::vector<int> CpusUpTo(int last) {
  std::vector<int> cpus;
  for (int c = 0; c <= last; c++) cpus.push_back(c);
  return cpus;
}

pid_t SpawnSpinner(const std::vector<int>& cpus) {
  pid_t pid = fork();
  if (pid == 0) {
    if (syscall(SYS_close_range, 3, ~0u, 0) != 0) _exit(95);
    SetAffinity(0, cpus);
    if (!SetSchedExt(0).ok()) _exit(90);
    volatile unsigned long x = 0;
    for (;;) x = x + 1;
  }
  return pid;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace gh::testing
