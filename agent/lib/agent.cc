// SPDX-License-Identifier: Apache-2.0
#include "agent/lib/agent.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <cstdio>

#include "agent/lib/check.h"

namespace gh {

Agent::Agent(Enclave* enclave, int cpu) : enclave_(enclave), cpu_(cpu) {
  GH_CHECK(enclave->cpus().IsSet(cpu));
}

Agent::~Agent() {
  if (thread_started_) {
    RequestFinish(/*force=*/true);
    JoinThread();
  }
}

void Agent::Ping() {
  const absl::Status s = enclave_->Ping(cpu_);
  GH_CHECK_MSG(s.ok(), std::string(s.message()));
}

void Agent::StartThread() {
  GH_CHECK(!thread_started_);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStackBytes);
  const int err = pthread_create(
      &thread_, &attr,
      [](void* self) -> void* {
        static_cast<Agent*>(self)->ThreadBody();
        return nullptr;
      },
      this);
  pthread_attr_destroy(&attr);
  GH_CHECK_MSG(err == 0, "cannot start an agent thread");
  thread_started_ = true;
}

void Agent::RequestFinish(bool force) {
  force_.store(force, std::memory_order_release);
  finished_.store(true, std::memory_order_release);
  // A parked agent only re-checks Finished() once woken.
  (void)enclave_->Ping(cpu_);
}

void Agent::JoinThread() {
  if (!thread_started_) return;
  pthread_join(thread_, nullptr);
  thread_started_ = false;
}

absl::Duration Agent::thread_cpu_time() const {
  if (exited()) return absl::Nanoseconds(final_cpu_ns_.load(std::memory_order_relaxed));
  clockid_t clock;
  timespec ts;
  if (!thread_started_ || pthread_getcpuclockid(thread_, &clock) != 0 ||
      clock_gettime(clock, &ts) != 0)
    return absl::ZeroDuration();
  return absl::DurationFromTimespec(ts);
}

void Agent::ThreadBody() {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu_, &set);
  const int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (err != 0) {
    std::fprintf(stderr, "agent %d: cannot pin to its CPU (errno %d)\n", cpu_,
                 err);
  } else {
    pinned_.store(true, std::memory_order_release);
  }
  enclave_->AgentThreadStarted(cpu_);
  while (!Finished() ||
         (!force_.load(std::memory_order_acquire) && !SchedulerEmpty())) {
    Step();
    enclave_->FlushStatusWordFrees();
    steps_.fetch_add(1, std::memory_order_relaxed);
  }
  // Its total, readable once the thread is gone (exited_ publishes it).
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
    final_cpu_ns_.store(absl::ToInt64Nanoseconds(absl::DurationFromTimespec(ts)),
                        std::memory_order_relaxed);
  exited_.store(true, std::memory_order_release);
}

FullAgent::FullAgent(Enclave* enclave) : enclave_(enclave) {}

absl::Duration FullAgent::ThreadCpuTime() const {
  absl::Duration sum;
  for (const auto& a : agents_) sum += a->thread_cpu_time();
  return sum;
}

uint64_t FullAgent::ThreadSteps() const {
  uint64_t sum = 0;
  for (const auto& a : agents_) sum += a->thread_steps();
  return sum;
}

FullAgent::~FullAgent() { GH_CHECK_MSG(terminated_ || agents_.empty(),
                                       "FullAgent: TerminateAgents not called"); }

Agent* FullAgent::agent(int cpu) const {
  for (const auto& a : agents_)
    if (a->cpu() == cpu) return a.get();
  return nullptr;
}

void FullAgent::CreateAgents() {
  GH_CHECK(agents_.empty());
  for (int cpu : enclave_->cpus()) {
    agents_.push_back(MakeAgent(cpu));
    enclave_->AttachAgent(cpu, agents_.back().get());
  }
}

void FullAgent::StartAgentThreads() {
  GH_CHECK(!threads_started_);
  threads_started_ = true;
  for (auto& a : agents_) a->StartThread();
}

void FullAgent::TerminateAgents(bool force) {
  if (terminated_) return;
  terminated_ = true;
  if (threads_started_) {
    for (auto& a : agents_) a->RequestFinish(force);
    // An agent may park again after its wakeup while others still drain the
    // scheduler; keep waking the ones that have not left their loop.
    for (;;) {
      bool all_exited = true;
      for (auto& a : agents_) {
        if (a->exited()) continue;
        all_exited = false;
        (void)enclave_->Ping(a->cpu());
      }
      if (all_exited) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (auto& a : agents_) a->JoinThread();
  }
  for (auto& a : agents_) enclave_->DetachAgent(a->cpu());
}

// ---------------------------------------------------------------- signals

namespace {

int g_pipe[2] = {-1, -1};
bool g_installed = false;
struct sigaction g_old_int, g_old_term;

void OnSignal(int sig) {
  const int saved = errno;
  const char b = static_cast<char>(sig);
  (void)!write(g_pipe[1], &b, 1);
  errno = saved;
}

}  // namespace

void ExitSignals::Install() {
  if (g_installed) return;
  if (g_pipe[0] < 0) GH_CHECK_EQ(pipe(g_pipe), 0);
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  GH_CHECK_EQ(sigaction(SIGINT, &sa, &g_old_int), 0);
  GH_CHECK_EQ(sigaction(SIGTERM, &sa, &g_old_term), 0);
  g_installed = true;
}

void ExitSignals::Restore() {
  if (!g_installed) return;
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
  g_installed = false;
}

int ExitSignals::Wait() {
  GH_CHECK(g_pipe[0] >= 0);
  char b = 0;
  while (read(g_pipe[0], &b, 1) < 0) GH_CHECK_EQ(errno, EINTR);
  return b;
}

void ExitSignals::Notify(int sig) {
  if (g_pipe[0] < 0) GH_CHECK_EQ(pipe(g_pipe), 0);
  OnSignal(sig);
}

}  // namespace gh
