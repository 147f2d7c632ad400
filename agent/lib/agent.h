// SPDX-License-Identifier: Apache-2.0
// agent.h: Agent (one per CPU), FullAgent (all agents of an enclave plus
// their scheduler) and AgentProcess (a FullAgent that lives until SIGINT or
// SIGTERM).
//
// An agent's work is one iteration of its loop, Step(): read the agent
// barrier, drain messages, decide, commit or LocalYield. The seam between the
// backends is who calls Step():
//   - real backend: StartThread() runs one std::thread per agent, pinned to
//     its CPU, looping `while (!Finished() || !SchedulerEmpty()) Step();`;
//     LocalYield blocks inside the backend until the agent is pinged;
//   - simulator: no threads; the simulated kernel calls Step() of each
//     active agent in virtual time, and LocalYield just marks it parked.
//
// Thread safety: Finished()/RequestFinish() are atomic; everything else is
// used by the agent's own thread (or the simulator's single thread).
#ifndef GHOST_HYBRID_AGENT_LIB_AGENT_H_
#define GHOST_HYBRID_AGENT_LIB_AGENT_H_

#include <atomic>
#include <memory>
#include <pthread.h>

#include <cstddef>
#include <vector>

#include "absl/time/time.h"
#include "agent/lib/enclave.h"
#include "agent/lib/scheduler.h"
#include "agent/lib/status_word.h"

namespace gh {

class Agent {
 public:
  // REQUIRES: cpu in enclave->cpus(); enclave outlives the agent.
  Agent(Enclave* enclave, int cpu);
  virtual ~Agent();  // joins the thread if it still runs
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  int cpu() const { return cpu_; }
  Enclave* enclave() const { return enclave_; }
  StatusWord status_word() const { return enclave_->AgentStatusWord(cpu_); }
  // Returns true iff a higher class holds this agent's CPU.
  bool boosted_priority() const { return status_word().boosted_priority(); }

  // Wakes this agent if it is parked.
  void Ping();

  // One iteration of the agent loop (see the file comment).
  virtual void Step() = 0;

  // Returns true iff the agent's scheduler has nothing left for this agent.
  virtual bool SchedulerEmpty() const = 0;

  // --- real-backend threading
  // Starts the agent thread. REQUIRES: not started.
  void StartThread();
  // Asks the loop to end once the scheduler is empty (or at once with
  // `force`), and pings the agent so a parked one notices.
  void RequestFinish(bool force);
  // Waits for the thread. REQUIRES: RequestFinish() was called.
  void JoinThread();
  bool Finished() const { return finished_.load(std::memory_order_acquire); }
  // Returns the number of completed Step() calls on the thread.
  uint64_t thread_steps() const { return steps_.load(std::memory_order_relaxed); }
  // Returns the CPU time the thread has used so far (zero if it never
  // started; its total once it left its loop): what the agent costs the
  // machine.
  absl::Duration thread_cpu_time() const;
  // Returns true iff the thread was pinned to cpu() successfully.
  bool pinned() const { return pinned_.load(std::memory_order_acquire); }
  // Returns true iff the thread left its loop.
  bool exited() const { return exited_.load(std::memory_order_acquire); }

 private:
  void ThreadBody();

  Enclave* const enclave_;
  const int cpu_;
  // A pthread rather than a std::thread: its stack is small (kStackBytes),
  // and the CLI locks all memory (mlockall), so an 8 MB default stack per
  // agent would be faulted in up front, which an --attach pays for.
  static constexpr size_t kStackBytes = 1 << 20;
  pthread_t thread_ = {};
  bool thread_started_ = false;
  // Release/acquire: RequestFinish publishes the decision to the loop.
  std::atomic<bool> finished_{false};
  std::atomic<bool> force_{false};
  std::atomic<bool> pinned_{false};
  std::atomic<bool> exited_{false};
  std::atomic<uint64_t> steps_{0};
  std::atomic<int64_t> final_cpu_ns_{0};  // set before exited_
};

// All agents of an enclave. A policy derives from it, creates its scheduler
// in its constructor and then calls CreateAgents() and the scheduler's
// EnclaveReady().
class FullAgent {
 public:
  explicit FullAgent(Enclave* enclave);
  // REQUIRES: derived classes call TerminateAgents() in their destructor
  // (before their scheduler is destroyed).
  virtual ~FullAgent();

  Enclave* enclave() const { return enclave_; }
  virtual Scheduler* scheduler() const = 0;
  // Returns the agent of `cpu`, or nullptr.
  Agent* agent(int cpu) const;
  const std::vector<std::unique_ptr<Agent>>& agents() const { return agents_; }

  // Real backend: starts one pinned thread per agent.
  void StartAgentThreads();
  // The agent threads' CPU time and Step() calls so far, summed.
  absl::Duration ThreadCpuTime() const;
  uint64_t ThreadSteps() const;
  // Ends the agent threads (if started): `force` stops them even if tasks
  // remain (the kernel side returns those to the fair class). Detaches the
  // agents from the enclave. Idempotent.
  void TerminateAgents(bool force);

 protected:
  // Creates an agent per enclave CPU with MakeAgent and attaches it.
  void CreateAgents();
  virtual std::unique_ptr<Agent> MakeAgent(int cpu) = 0;

 private:
  Enclave* const enclave_;
  std::vector<std::unique_ptr<Agent>> agents_;
  bool threads_started_ = false;
  bool terminated_ = false;
};

// Process-wide SIGINT/SIGTERM notification through a self-pipe (the handler
// is async-signal-safe).
class ExitSignals {
 public:
  // Installs the handlers (saving the previous ones). Idempotent.
  static void Install();
  // Restores the previous handlers.
  static void Restore();
  // Blocks until a signal or Notify(). Returns the signal number, 0 for
  // Notify().
  static int Wait();
  static void Notify(int sig);
};

// Runs FullAgentType(enclave, config) until SIGINT/SIGTERM; FullAgentType is
// e.g. FullCentralizedFifoAgent. Used by the CLI on the real backend.
template <typename FullAgentType, typename ConfigType>
class AgentProcess {
 public:
  AgentProcess(Enclave* enclave, const ConfigType& config) {
    ExitSignals::Install();
    full_agent_ = std::make_unique<FullAgentType>(enclave, config);
    full_agent_->StartAgentThreads();
  }
  ~AgentProcess() {
    full_agent_->TerminateAgents(/*force=*/true);
    full_agent_.reset();
    ExitSignals::Restore();
  }

  FullAgentType* full_agent() const { return full_agent_.get(); }
  // Blocks until SIGINT/SIGTERM or RequestExit(); returns the signal or 0.
  int WaitForExit() { return ExitSignals::Wait(); }
  void RequestExit() { ExitSignals::Notify(0); }

 private:
  std::unique_ptr<FullAgentType> full_agent_;
};

}  // namespace gh

#endif  // GHOST_HYBRID_AGENT_LIB_AGENT_H_
