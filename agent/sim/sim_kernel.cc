// SPDX-License-Identifier: Apache-2.0
// sim_kernel.cc: SimKernel construction, the event loop, agents, channels and
// CPU messages. Task life cycle: sim_tasks.cc; transactions: sim_txn.cc.
#include "agent/sim/sim_kernel.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/lib/agent.h"
#include "agent/lib/check.h"
#include "agent/lib/clock.h"

namespace gh {

namespace {

CpuList EnclaveCpus(const SimConfig& c) {
  return c.enclave_cpus.Empty() ? c.topology.all_cpus() : c.enclave_cpus;
}

// Single-writer stores to shared words: release so that an agent's acquire
// load of the barrier or flags sees what was written before.
void StoreRelease(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

bool Wakes(int type) {
  return type != GH_MSG_TASK_ON_CPU && type != GH_MSG_CPU_TICK;
}

}  // namespace

SimKernel::SimKernel(SimConfig config)
    : Enclave(config.topology, EnclaveCpus(config)),
      config_(std::move(config)),
      rng_(config_.seed),
      cpus_(config_.topology.cpu_id_limit()),
      agent_sw_(GH_MAX_CPUS),
      task_sw_(GH_MAX_TASKS),
      txns_(GH_MAX_CPUS),
      agent_channel_(GH_MAX_CPUS, -1) {
  for (uint32_t i = 0; i < GH_MAX_TASKS; ++i) free_sw_.push_back(i);
  for (int c = 0; c < 1 + config_.topology.cpu_id_limit(); ++c)
    channels_.push_back(std::make_unique<SimChannel>(this, c));
  for (int c : cpus()) {
    agent_sw_[c].flags = GH_SW_INUSE;
    agent_sw_[c].cpu = c;
    RefreshCpuAvail(c);
  }
  InitRunRequests();
  if (config_.tick_period > absl::ZeroDuration())
    Schedule(absl::ToInt64Nanoseconds(config_.tick_period), Ev::kTick, 0, 0);
}

SimKernel::~SimKernel() = default;

absl::Time SimKernel::Now() const { return KernelTime(now_); }

StatusWord SimKernel::AgentStatusWord(int cpu) {
  GH_CHECK(cpu >= 0 && cpu < GH_MAX_CPUS);
  return StatusWord(&agent_sw_[cpu]);
}

StatusWord SimKernel::TaskStatusWord(uint32_t sw_index) {
  GH_CHECK_LT(sw_index, static_cast<uint32_t>(GH_MAX_TASKS));
  return StatusWord(&task_sw_[sw_index]);
}

Channel& SimKernel::CpuChannel(int cpu) {
  GH_CHECK(cpus().IsSet(cpu));
  return *channels_[1 + cpu];
}

// --------------------------------------------------------------- events

void SimKernel::Schedule(int64_t t, Ev kind, int a, uint64_t b) {
  events_.push(Event{t, next_seq_++, kind, a, b});
}

void SimKernel::Handle(const Event& ev) {
  switch (ev.kind) {
    case Ev::kArrive: Arrive(ev.a); break;
    case Ev::kRunEnd:
      if (tasks_[ev.a].gen == ev.b) RunEnd(ev.a);
      break;
    case Ev::kWake:
      if (tasks_[ev.a].gen == ev.b) Wake(ev.a);
      break;
    case Ev::kAgentStep: RunAgentStep(ev.a, ev.b); break;
    case Ev::kAgentTimer:
      // The park it was set for has not ended by other means.
      if (!cpus_[ev.a].agent_active && cpus_[ev.a].step_gen == ev.b) ActivateAgent(ev.a);
      break;
    case Ev::kBusyStart:
      if (cpus_[ev.a].busy++ == 0) TakeCpu(ev.a);
      break;
    case Ev::kBusyEnd:
      if (--cpus_[ev.a].busy == 0) ReleaseCpu(ev.a);
      break;
    case Ev::kPublish: {
      GH_CHECK(!in_flight_.empty());
      auto [channel, msg] = in_flight_.front();
      in_flight_.pop_front();
      Publish(channel, msg, static_cast<int>(ev.b) - 1);
      break;
    }
    case Ev::kTick: Tick(); break;
    case Ev::kSliceEnd:
      if (tasks_[ev.a].gen == ev.b) SliceEnd(ev.a);
      break;
  }
}

void SimKernel::RunFor(absl::Duration d) {
  const int64_t end = now_ + absl::ToInt64Nanoseconds(d);
  while (!events_.empty() && events_.top().t <= end) {
    const Event ev = events_.top();
    events_.pop();
    now_ = ev.t;
    Handle(ev);
  }
  now_ = end;
}

absl::Status SimKernel::RunUntilDone(absl::Duration limit) {
  const int64_t end = absl::ToInt64Nanoseconds(limit);
  while (ended_ < tasks_added() && !events_.empty() && events_.top().t <= end) {
    const Event ev = events_.top();
    events_.pop();
    now_ = ev.t;
    Handle(ev);
  }
  if (ended_ == tasks_added()) return absl::OkStatus();
  std::string left;
  int shown = 0;
  for (const Task& t : tasks_) {
    if (t.state == SimTaskState::kEnded) continue;
    if (shown++ < 8) absl::StrAppendFormat(&left, " %#x:%d", t.gtid, static_cast<int>(t.state));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      tasks_added() - ended_, " tasks unfinished at t=", now_, "ns:", left));
}

void SimKernel::Trace(int cpu, TraceKind kind, uint64_t gtid, uint32_t arg) {
  if (config_.record_trace) trace_.push_back(TraceRecord{now_, cpu, kind, arg, gtid});
}

void SimKernel::Violation(const std::string& what) {
  violations_.push_back(absl::StrCat("t=", now_, " ", what));
}

// --------------------------------------------------------------- agents

void SimKernel::AgentAttached(int cpu) { ActivateAgent(cpu); }

void SimKernel::ActivateAgent(int cpu) {
  Cpu& c = cpus_[cpu];
  if (c.agent_active || GetAgent(cpu) == nullptr) return;
  c.agent_active = true;
  StoreRelease(&agent_sw_[cpu].flags, agent_sw_[cpu].flags | GH_SW_AGENT_ACTIVE);
  RefreshCpuAvail(cpu);
  // The agent takes its CPU: the managed task there is preempted.
  if (c.current >= 0) Preempt(c.current, /*repick=*/false);
  int64_t delay = absl::ToInt64Nanoseconds(config_.wake_latency);
  if (config_.wake_jitter > absl::ZeroDuration())
    delay += rng_.Range(0, absl::ToInt64Nanoseconds(config_.wake_jitter) - 1);
  ScheduleStep(cpu, delay);
}

void SimKernel::ParkAgent(int cpu, bool repick) {
  Cpu& c = cpus_[cpu];
  if (!c.agent_active) return;
  c.agent_active = false;
  c.step_pending = false;
  ++c.step_gen;
  StoreRelease(&agent_sw_[cpu].flags, agent_sw_[cpu].flags & ~GH_SW_AGENT_ACTIVE);
  ++kstats_[GH_STAT_AGENT_PARKS];
  Trace(cpu, TraceKind::kPark, 0, 0);
  RefreshCpuAvail(cpu);
  if (repick) TryBpfPick(cpu);
}

void SimKernel::ScheduleStep(int cpu, int64_t delay) {
  Cpu& c = cpus_[cpu];
  if (!config_.auto_step_agents || c.step_pending) return;
  c.step_pending = true;
  Schedule(now_ + delay, Ev::kAgentStep, cpu, ++c.step_gen);
}

void SimKernel::RunAgentStep(int cpu, uint64_t gen) {
  Cpu& c = cpus_[cpu];
  if (gen != c.step_gen || !c.agent_active) return;
  c.step_pending = false;
  GetAgent(cpu)->Step();
  if (c.agent_active) ScheduleStep(cpu, absl::ToInt64Nanoseconds(config_.agent_step));
}

void SimKernel::StepAgent(int cpu) {
  Agent* a = GetAgent(cpu);
  GH_CHECK(a != nullptr);
  a->Step();
}

bool SimKernel::LocalYield(int cpu, uint32_t agent_barrier, uint32_t run_flags,
                           absl::Time wake_by) {
  GH_CHECK(cpus().IsSet(cpu));
  if (agent_sw_[cpu].barrier != agent_barrier) return false;  // stale: rerun
  ParkAgent(cpu, /*repick=*/true);
  if (wake_by != absl::InfiniteFuture() && !cpus_[cpu].agent_active) {
    const int64_t t = std::max<int64_t>(now_, static_cast<int64_t>(KernelNs(wake_by)));
    Schedule(t, Ev::kAgentTimer, cpu, cpus_[cpu].step_gen);
  }
  return true;
}

absl::Status SimKernel::Ping(int cpu) {
  if (!cpus().IsSet(cpu)) return absl::InvalidArgumentError("cpu not in enclave");
  ++kstats_[GH_STAT_AGENT_PINGS];
  Trace(cpu, TraceKind::kPing, 0, 0);
  ActivateAgent(cpu);
  return absl::OkStatus();
}

bool SimKernel::MoveGlobal(int from, int to) {
  GH_CHECK(cpus().IsSet(to));
  if (from >= 0 && global_cpu_ != from) return global_cpu_ == to;
  from = global_cpu_;
  global_cpu_ = to;
  StoreRelease(&agent_sw_[to].flags, agent_sw_[to].flags | GH_SW_AGENT_GLOBAL);
  BumpAseq(to);
  if (from >= 0 && from != to) {
    StoreRelease(&agent_sw_[from].flags, agent_sw_[from].flags & ~GH_SW_AGENT_GLOBAL);
    BumpAseq(from);
  }
  ++kstats_[GH_STAT_AGENT_PINGS];
  Trace(to, TraceKind::kPing, 0, 1);
  ActivateAgent(to);
  return true;
}

uint32_t SimKernel::BumpAseq(int cpu) {
  const uint32_t v = agent_sw_[cpu].barrier + 1;
  StoreRelease(&agent_sw_[cpu].barrier, v);
  return v;
}

void SimKernel::RefreshCpuAvail(int cpu) {
  const Cpu& c = cpus_[cpu];
  const bool avail = c.current < 0 && c.busy == 0 && !c.agent_active;
  const uint32_t f = agent_sw_[cpu].flags;
  StoreRelease(&agent_sw_[cpu].flags, avail ? (f | GH_SW_CPU_AVAIL) : (f & ~GH_SW_CPU_AVAIL));
}

// ------------------------------------------------- higher-class interference

void SimKernel::AddHigherClassBusy(int cpu, absl::Duration from, absl::Duration to) {
  GH_CHECK(cpus().IsSet(cpu));
  GH_CHECK(from < to);
  Schedule(std::max(now_, absl::ToInt64Nanoseconds(from)), Ev::kBusyStart, cpu, 0);
  Schedule(std::max(now_, absl::ToInt64Nanoseconds(to)), Ev::kBusyEnd, cpu, 0);
}

void SimKernel::TakeCpu(int cpu) {
  Trace(cpu, TraceKind::kBusy, 0, 1);
  StoreRelease(&agent_sw_[cpu].flags, agent_sw_[cpu].flags | GH_SW_BOOST_PRIO);
  RefreshCpuAvail(cpu);
  ++kstats_[GH_STAT_CPU_RELEASES];
  if (cpus_[cpu].current >= 0) Preempt(cpus_[cpu].current, /*repick=*/false);
  SendCpuMsg(cpu, GH_MSG_CPU_BUSY, 0);
}

void SimKernel::ReleaseCpu(int cpu) {
  Trace(cpu, TraceKind::kBusy, 0, 0);
  StoreRelease(&agent_sw_[cpu].flags, agent_sw_[cpu].flags & ~GH_SW_BOOST_PRIO);
  RefreshCpuAvail(cpu);
  SendCpuMsg(cpu, GH_MSG_CPU_AVAILABLE, 0);
  TryBpfPick(cpu);
}

void SimKernel::Tick() {
  for (int c : cpus())
    if (cpus_[c].current >= 0) SendCpuMsg(c, GH_MSG_CPU_TICK, 0);
  Schedule(now_ + absl::ToInt64Nanoseconds(config_.tick_period), Ev::kTick, 0, 0);
}

// ------------------------------------------------------------- channels

void SimKernel::SendCpuMsg(int cpu, int type, uint32_t reason) {
  gh_msg m = {};
  m.hdr.type = static_cast<uint16_t>(type);
  m.hdr.length = sizeof(gh_msg);
  m.hdr.seqnum = BumpAseq(cpu);
  m.hdr.cpu = static_cast<uint32_t>(cpu);
  m.hdr.time = static_cast<uint64_t>(now_);
  m.cpu.cpu = static_cast<uint32_t>(cpu);
  m.cpu.reason = reason;
  const int ch = agent_channel_[cpu] >= 0 ? agent_channel_[cpu] : GH_DEFAULT_CHANNEL;
  Deliver(ch, m, cpu);
}

void SimKernel::Deliver(int channel, const gh_msg& msg, int aseq_done_cpu) {
  if (config_.msg_delay > absl::ZeroDuration()) {
    in_flight_.emplace_back(channel, msg);
    Schedule(now_ + absl::ToInt64Nanoseconds(config_.msg_delay), Ev::kPublish,
             0, static_cast<uint64_t>(aseq_done_cpu + 1));
    return;
  }
  Publish(channel, msg, aseq_done_cpu);
}

void SimKernel::Publish(int channel, const gh_msg& msg, int aseq_done_cpu) {
  SimChannel& ch = *channels_[channel];
  const bool dropped = ch.q_.size() >= config_.channel_capacity;
  if (dropped) {
    // As the kernel side: the task's word counts the loss, and the agent
    // is told (Aseq, wakeup) so that it resyncs the task.
    ++kstats_[GH_STAT_MSGS_DROPPED];
    const int ti = msg.hdr.type <= GH_MSG_TASK_LAST ? Find(msg.gtid) : -1;
    if (ti >= 0) {
      gh_status_word& sw = Sw(ti);
      __atomic_store_n(&sw.msgs_lost, sw.msgs_lost + 1, __ATOMIC_RELEASE);
    }
  } else {
    ch.q_.push_back(msg);
    ++ch.published_;
    ++kstats_[GH_STAT_MSGS];
  }
  const int agent = ChannelAgent(channel);
  if (agent < 0) return;
  if (agent != aseq_done_cpu) BumpAseq(agent);
  if ((dropped || Wakes(msg.hdr.type)) && agent != suppress_wake_cpu_) ActivateAgent(agent);
}

absl::Status SimKernel::AssociateTask(int channel, uint64_t gtid, uint32_t sw_index,
                                      uint32_t barrier) {
  const int ti = Find(gtid);
  if (ti < 0 || tasks_[ti].state == SimTaskState::kEnded)
    return absl::NotFoundError(absl::StrFormat("no task %#x", gtid));
  if (Sw(ti).barrier != barrier)
    return absl::FailedPreconditionError(absl::StrFormat(
        "task %#x: barrier %u is stale (Tseq %u)", gtid, barrier, Sw(ti).barrier));
  if (tasks_[ti].sw != sw_index)
    return absl::NotFoundError(absl::StrFormat("task %#x has no status word %u", gtid, sw_index));
  tasks_[ti].channel = channel;
  Sw(ti).channel = static_cast<uint32_t>(channel);
  return absl::OkStatus();
}

int SimKernel::ChannelAgent(int channel) const {
  // As the kernel side's channel_agent_cpu (bpf/messages.bpf.h): a default
  // channel tied to an agent follows the global role, read from the one
  // value a move changes.
  const int agent = channels_[channel]->agent_;
  if (channel == GH_DEFAULT_CHANNEL && agent >= 0 && global_cpu_ >= 0) return global_cpu_;
  return agent;
}

absl::Status SimKernel::SetChannelAgent(int channel, int cpu) {
  if (cpu >= 0 && !cpus().IsSet(cpu))
    return absl::InvalidArgumentError("cpu not in enclave");
  SimChannel& ch = *channels_[channel];
  if (ch.agent_ >= 0) agent_channel_[ch.agent_] = -1;
  ch.agent_ = cpu;
  if (cpu >= 0) agent_channel_[cpu] = channel;
  return absl::OkStatus();
}

}  // namespace gh
