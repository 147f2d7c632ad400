// SPDX-License-Identifier: Apache-2.0
// sim_tasks.cc: the simulated kernel's task life cycle and task messages.
#include "absl/strings/str_format.h"
#include "agent/lib/check.h"
#include "agent/sim/sim_kernel.h"

namespace gh {

namespace {

void StoreRelease(uint32_t* p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

// The kernel's sched_prio_to_weight, nice -20 .. 19.
constexpr uint32_t kNiceWeight[40] = {
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
    9548,  7620,  6100,  4904,  3906,  3121,  2501,  1991,  1586,  1277,
    1024,  820,   655,   526,   423,   335,   272,   215,   172,   137,
    110,   87,    70,    56,    45,    36,    29,    23,    18,    15};

}  // namespace

int SimKernel::Find(uint64_t gtid) const {
  auto it = by_gtid_.find(gtid);
  return it == by_gtid_.end() ? -1 : it->second;
}

uint64_t SimKernel::AddTask(const SimTaskSpec& spec) {
  const int ti = tasks_added();
  Task t;
  t.gtid = GH_GTID_MAKE(ti + 1, 1000 + ti);
  t.spec = spec;
  t.affinity = spec.affinity.Empty() ? cpus() : spec.affinity;
  tasks_.push_back(std::move(t));
  by_gtid_[tasks_[ti].gtid] = ti;
  Schedule(std::max(now_, absl::ToInt64Nanoseconds(spec.arrival)), Ev::kArrive, ti, 0);
  return tasks_[ti].gtid;
}

uint64_t SimKernel::running_on(int cpu) const {
  const int ti = cpus_[cpu].current;
  return ti < 0 ? 0 : tasks_[ti].gtid;
}

int SimKernel::task_cpu(uint64_t gtid) const {
  const int ti = Find(gtid);
  return ti < 0 ? -1 : tasks_[ti].cpu;
}

SimTaskState SimKernel::task_state(uint64_t gtid) const {
  const int ti = Find(gtid);
  GH_CHECK(ti >= 0);
  return tasks_[ti].state;
}

uint32_t SimKernel::sw_index(uint64_t gtid) const {
  const int ti = Find(gtid);
  GH_CHECK(ti >= 0);
  return tasks_[ti].sw;
}

uint32_t SimKernel::tseq(uint64_t gtid) const {
  const int ti = Find(gtid);
  GH_CHECK(ti >= 0);
  return task_sw_[tasks_[ti].sw].barrier;
}

void SimKernel::SendTaskMsg(int ti, int type, uint32_t flags, gh_msg m) {
  Task& t = tasks_[ti];
  // Tseq first (release), then the message that carries it.
  const uint32_t seq = Sw(ti).barrier + 1;
  StoreRelease(&Sw(ti).barrier, seq);
  m.hdr.type = static_cast<uint16_t>(type);
  m.hdr.length = sizeof(gh_msg);
  m.hdr.seqnum = seq;
  m.hdr.flags = flags;
  m.hdr.cpu = static_cast<uint32_t>(t.cpu >= 0 ? t.cpu : t.last_cpu);
  m.hdr.time = static_cast<uint64_t>(now_);
  m.gtid = t.gtid;
  Deliver(t.channel, m, -1);
}

void SimKernel::Arrive(int ti) {
  Task& t = tasks_[ti];
  if (free_sw_.empty()) {
    // The kernel side would leave the task to the fair class.
    ++kstats_[GH_STAT_SW_EXHAUSTED];
    Violation(absl::StrFormat("no status word for %#x", t.gtid));
    EndTask(ti, GH_MSG_TASK_DEPARTED);
    return;
  }
  t.sw = free_sw_.front();
  free_sw_.pop_front();
  const bool runnable = t.spec.start_blocked <= absl::ZeroDuration();
  gh_status_word& sw = Sw(ti);
  sw.gtid = t.gtid;
  sw.runtime = 0;
  sw.switch_time = static_cast<uint64_t>(now_);
  sw.cpu = -1;
  sw.channel = GH_DEFAULT_CHANNEL;
  sw.msgs_lost = 0;
  StoreRelease(&sw.flags, GH_SW_INUSE | (runnable ? GH_SW_TASK_RUNNABLE : 0));
  SetState(t, runnable ? SimTaskState::kRunnable : SimTaskState::kBlocked);
  ++t.gen;
  Trace(-1, TraceKind::kArrive, t.gtid, 0);
  gh_msg m = {};
  m.task_new.sw_index = t.sw;
  m.task_new.runnable = runnable;
  m.task_new.nice = t.spec.nice;
  const bool queue = runnable && config_.bpf_pick;
  SendTaskMsg(ti, GH_MSG_TASK_NEW, queue ? GH_MSG_F_BPF_QUEUED : 0, m);
  // As the kernel side does: a mask that leaves out an enclave CPU follows.
  if (t.affinity.Intersect(cpus()) != cpus()) SendAffinityMsg(ti);
  if (queue) {
    RqPush(ti, 0);
    KickIdleCpus();
  }
  if (!runnable)
    Schedule(now_ + absl::ToInt64Nanoseconds(t.spec.start_blocked), Ev::kWake, ti, t.gen);
}

void SimKernel::Wake(int ti) {
  Task& t = tasks_[ti];
  GH_CHECK(t.state == SimTaskState::kBlocked);
  SetState(t, SimTaskState::kRunnable);
  ++t.gen;
  StoreRelease(&Sw(ti).flags, Sw(ti).flags | GH_SW_TASK_RUNNABLE);
  gh_msg m = {};
  m.wakeup.last_ran_cpu = t.last_cpu;
  m.wakeup.wake_up_cpu = t.last_cpu >= 0 ? t.last_cpu : cpus().Front();
  m.wakeup.waker_cpu = -1;
  m.wakeup.deferrable = 1;
  SendTaskMsg(ti, GH_MSG_TASK_WAKEUP, config_.bpf_pick ? GH_MSG_F_BPF_QUEUED : 0, m);
  if (config_.bpf_pick) {
    RqPush(ti, GH_RQ_F_WAKEUP);
    KickIdleCpus();
  }
}

void SimKernel::StartRunning(int ti, int cpu, bool bpf_picked) {
  Task& t = tasks_[ti];
  Cpu& c = cpus_[cpu];
  // Invariants: one task per CPU, one CPU per task, only runnable tasks run.
  if (c.current >= 0)
    Violation(absl::StrFormat("cpu %d runs %#x and %#x", cpu, tasks_[c.current].gtid, t.gtid));
  if (t.state != SimTaskState::kRunnable || t.cpu >= 0)
    Violation(absl::StrFormat("%#x started on cpu %d in state %d (cpu %d)", t.gtid, cpu,
                              static_cast<int>(t.state), t.cpu));
  // Only StartRunning sets a CPU's current (with t.cpu) and StopRunning
  // clears it (setting t.last_cpu): the one CPU that could still list the
  // task is the one it last ran on. O(1), so the simulator scales.
  if (t.last_cpu >= 0 && t.last_cpu != cpu && cpus_[t.last_cpu].current == ti)
    Violation(absl::StrFormat("%#x on cpus %d and %d", t.gtid, t.last_cpu, cpu));
  SetState(t, SimTaskState::kRunning);
  t.cpu = cpu;
  t.run_start = now_;
  ++t.gen;
  ++t.rq_seq;  // any runqueue record of it is now stale
  t.bpf_owned = false;
  c.current = ti;
  ++c.cpu_seq;
  gh_status_word& sw = Sw(ti);
  sw.cpu = cpu;
  sw.switch_time = static_cast<uint64_t>(now_);
  StoreRelease(&sw.flags, sw.flags | GH_SW_TASK_ONCPU);
  RefreshCpuAvail(cpu);
  Trace(cpu, TraceKind::kRun, t.gtid, bpf_picked);
  if (bpf_picked) ++kstats_[GH_STAT_BPF_PICKS];
  gh_msg m = {};
  m.on_cpu.commit_time = static_cast<uint64_t>(now_);
  m.on_cpu.cpu_seqnum = c.cpu_seq;
  SendTaskMsg(ti, GH_MSG_TASK_ON_CPU, bpf_picked ? GH_MSG_F_BPF_PICKED : 0, m);
  // Slices are the kernel's: a committed task's ends on its own.
  if (bpf_picked) t.slice = 0;
  if (t.slice > 0) Schedule(now_ + t.slice, Ev::kSliceEnd, ti, t.gen);
  Continue(ti);
}

int SimKernel::StopRunning(int ti) {
  Task& t = tasks_[ti];
  GH_CHECK(t.state == SimTaskState::kRunning);
  const int cpu = t.cpu;
  t.runtime += static_cast<uint64_t>(now_ - t.run_start);
  if (t.remaining > 0) t.remaining = std::max<int64_t>(0, t.remaining - (now_ - t.seg_start));
  ++t.gen;
  t.cpu = -1;
  t.last_cpu = cpu;
  SetState(t, SimTaskState::kRunnable);
  cpus_[cpu].current = -1;
  ++cpus_[cpu].cpu_seq;
  gh_status_word& sw = Sw(ti);
  sw.runtime = t.runtime;
  sw.switch_time = static_cast<uint64_t>(now_);
  StoreRelease(&sw.flags, sw.flags & ~GH_SW_TASK_ONCPU);
  RefreshCpuAvail(cpu);
  return cpu;
}

namespace {

gh_msg OffMsg(uint64_t runtime, uint32_t cpu_seq) {
  gh_msg m = {};
  m.off.runtime = runtime;
  m.off.cpu_seqnum = cpu_seq;
  return m;
}

}  // namespace

void SimKernel::Continue(int ti) {
  Task& t = tasks_[ti];
  while (t.state == SimTaskState::kRunning) {
    if (t.pc >= t.spec.script.size()) {
      Exit(ti);
      return;
    }
    const SimAction& a = t.spec.script[t.pc];
    switch (a.kind) {
      case SimAction::Kind::kRun:
        if (t.remaining < 0) t.remaining = absl::ToInt64Nanoseconds(a.d);
        if (t.remaining > 0) {
          t.seg_start = now_;
          Schedule(now_ + t.remaining, Ev::kRunEnd, ti, t.gen);
          return;
        }
        ++t.pc;
        t.remaining = -1;
        break;
      case SimAction::Kind::kSetNice:
        ++t.pc;
        ApplyNice(ti, a.nice);
        break;
      case SimAction::Kind::kSetAffinity:
        ++t.pc;
        ApplyAffinity(ti, a.mask);
        break;
      case SimAction::Kind::kYield: {
        ++t.pc;
        const int cpu = StopRunning(ti);
        Trace(cpu, TraceKind::kStop, t.gtid, GH_MSG_TASK_YIELD);
        SendTaskMsg(ti, GH_MSG_TASK_YIELD, 0, OffMsg(t.runtime, cpus_[cpu].cpu_seq));
        TryBpfPick(cpu);
        return;
      }
      case SimAction::Kind::kBlock: {
        ++t.pc;
        const int cpu = StopRunning(ti);
        SetState(t, SimTaskState::kBlocked);
        StoreRelease(&Sw(ti).flags, Sw(ti).flags & ~GH_SW_TASK_RUNNABLE);
        Trace(cpu, TraceKind::kStop, t.gtid, GH_MSG_TASK_BLOCKED);
        SendTaskMsg(ti, GH_MSG_TASK_BLOCKED, 0, OffMsg(t.runtime, cpus_[cpu].cpu_seq));
        Schedule(now_ + absl::ToInt64Nanoseconds(a.d), Ev::kWake, ti, t.gen);
        TryBpfPick(cpu);
        return;
      }
      case SimAction::Kind::kExit:
        Exit(ti);
        return;
      case SimAction::Kind::kDepart:
        DepartTask(ti);
        return;
    }
  }
}

void SimKernel::RunEnd(int ti) {
  Task& t = tasks_[ti];
  GH_CHECK(t.state == SimTaskState::kRunning);
  t.remaining = -1;
  ++t.pc;
  Continue(ti);
}

void SimKernel::Preempt(int ti, bool repick, uint32_t msg_flags) {
  Task& t = tasks_[ti];
  const int cpu = StopRunning(ti);
  Trace(cpu, TraceKind::kStop, t.gtid, GH_MSG_TASK_PREEMPT);
  SendTaskMsg(ti, GH_MSG_TASK_PREEMPT, msg_flags, OffMsg(t.runtime, cpus_[cpu].cpu_seq));
  if (repick) TryBpfPick(cpu);
}

void SimKernel::SliceEnd(int ti) {
  Task& t = tasks_[ti];
  if (t.state != SimTaskState::kRunning) return;
  if (nr_runnable_ == 0) {  // nobody waits for a CPU
    ++kstats_[GH_STAT_SLICE_EXTENSIONS];
    Schedule(now_ + t.slice, Ev::kSliceEnd, ti, t.gen);
    return;
  }
  Preempt(ti, /*repick=*/true, GH_MSG_F_SLICE_ENDED);
}

void SimKernel::Exit(int ti) {
  Task& t = tasks_[ti];
  int cpu = -1;
  if (t.state == SimTaskState::kRunning) {
    cpu = StopRunning(ti);
    SetState(t, SimTaskState::kBlocked);
    StoreRelease(&Sw(ti).flags, Sw(ti).flags & ~GH_SW_TASK_RUNNABLE);
    Trace(cpu, TraceKind::kStop, t.gtid, GH_MSG_TASK_BLOCKED);
    SendTaskMsg(ti, GH_MSG_TASK_BLOCKED, 0, OffMsg(t.runtime, cpus_[cpu].cpu_seq));
  }
  // As the kernel side: CANFREE before the barrier moves for DEAD.
  StoreRelease(&Sw(ti).flags, GH_SW_INUSE | GH_SW_TASK_CANFREE);
  SendTaskMsg(ti, GH_MSG_TASK_DEAD, 0, OffMsg(t.runtime, 0));
  EndTask(ti, GH_MSG_TASK_DEAD);
  if (cpu >= 0) TryBpfPick(cpu);
}

void SimKernel::DepartTask(int ti) {
  Task& t = tasks_[ti];
  int cpu = -1;
  uint32_t flags = 0;
  if (t.state == SimTaskState::kRunning) {
    cpu = StopRunning(ti);
    flags = GH_MSG_F_WAS_CURRENT;
    Trace(cpu, TraceKind::kStop, t.gtid, GH_MSG_TASK_DEPARTED);
  }
  StoreRelease(&Sw(ti).flags, GH_SW_INUSE | GH_SW_TASK_CANFREE);
  SendTaskMsg(ti, GH_MSG_TASK_DEPARTED, flags,
              OffMsg(t.runtime, cpu >= 0 ? cpus_[cpu].cpu_seq : 0));
  EndTask(ti, GH_MSG_TASK_DEPARTED);
  if (cpu >= 0) TryBpfPick(cpu);
}

void SimKernel::EndTask(int ti, int type) {
  Task& t = tasks_[ti];
  SetState(t, SimTaskState::kEnded);
  ++t.gen;
  ++t.rq_seq;
  t.bpf_owned = false;
  ++ended_;
  Trace(-1, TraceKind::kEnd, t.gtid, static_cast<uint32_t>(type));
  // Its word (CANFREE) is the agent's to free (FreeTaskStatusWord).
}

void SimKernel::FreeTaskStatusWord(uint32_t sw_index, uint64_t gtid) {
  gh_status_word* sw = sw_index < GH_MAX_TASKS ? &task_sw_[sw_index] : nullptr;
  if (!sw || gtid == GH_NULL_GTID || sw->gtid != gtid ||
      sw->flags != (GH_SW_INUSE | GH_SW_TASK_CANFREE)) {
    ++kstats_[GH_STAT_SW_FREE_REJECTED];
    Violation(absl::StrFormat("agent freed status word %u for %#x: not that task's, or "
                              "the task has not left", sw_index, gtid));
    return;
  }
  ++kstats_[GH_STAT_SW_FREED];
  // The barrier is kept, so the next owner of the word continues its Tseq.
  sw->gtid = GH_NULL_GTID;
  StoreRelease(&sw->flags, 0);
  free_sw_.push_back(sw_index);
}

void SimKernel::SendAffinityMsg(int ti) {
  gh_msg m = {};
  for (int w = 0; w < GH_CPUMASK_WORDS; ++w) m.affinity.cpumask[w] = tasks_[ti].affinity.words()[w];
  SendTaskMsg(ti, GH_MSG_TASK_AFFINITY_CHANGED, 0, m);
}

void SimKernel::ApplyAffinity(int ti, const CpuList& mask) {
  Task& t = tasks_[ti];
  t.affinity = mask;
  SendAffinityMsg(ti);
  // The kernel migrates a task off a CPU it may no longer use.
  if (t.state == SimTaskState::kRunning && !mask.IsSet(t.cpu)) Preempt(ti, /*repick=*/true);
}

void SimKernel::ApplyNice(int ti, int nice) {
  nice = std::max(-20, std::min(19, nice));
  gh_msg m = {};
  m.priority.nice = nice;
  m.priority.weight = kNiceWeight[nice + 20];
  SendTaskMsg(ti, GH_MSG_TASK_PRIORITY_CHANGED, 0, m);
}

void SimKernel::SetAffinity(uint64_t gtid, const CpuList& mask) {
  const int ti = Find(gtid);
  GH_CHECK(ti >= 0 && tasks_[ti].state != SimTaskState::kEnded &&
           tasks_[ti].state != SimTaskState::kNotArrived);
  ApplyAffinity(ti, mask);
}

void SimKernel::SetNice(uint64_t gtid, int nice) {
  const int ti = Find(gtid);
  GH_CHECK(ti >= 0 && tasks_[ti].state != SimTaskState::kEnded &&
           tasks_[ti].state != SimTaskState::kNotArrived);
  ApplyNice(ti, nice);
}

void SimKernel::Depart(uint64_t gtid) {
  const int ti = Find(gtid);
  GH_CHECK(ti >= 0 && tasks_[ti].state != SimTaskState::kEnded &&
           tasks_[ti].state != SimTaskState::kNotArrived);
  DepartTask(ti);
}

}  // namespace gh
