/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cpu_owner.bpf.h: whether an enclave CPU is ours or held by a higher
 * scheduling class (fair, RT, deadline: every class above sched_ext).
 *
 * ghOSt's kernel tells the agent when CFS takes one of its CPUs (the agent's
 * status word gets BOOST_PRIO, a CPU_BUSY message follows) and when it gives
 * it back. sched_ext reports this only partly: ops.cpu_release runs when a
 * higher class preempts one of OUR tasks, but not when it wakes on an idle
 * CPU, and a task it preempts with slice left is kept on the CPU without
 * ops.enqueue. So a CPU is marked held from several places:
 *   - ops.cpu_release;
 *   - ops.stopping, for a task (agent or managed) stopped while runnable
 *     with slice left: only a higher class does that (our own preemptions,
 *     SCX_ENQ_PREEMPT and SCX_KICK_PREEMPT, zero the slice first);
 *   - gh_commit, when the target CPU's current task is of a higher class
 *     (an idle CPU a higher class took without our knowing): that
 *     transaction fails CPU_UNAVAIL and leaves the task with the agent.
 * and free again when sched_ext next asks us for work there (ops.dispatch)
 * or runs one of our tasks there (ops.running), or in ops.cpu_acquire, if
 * no higher-class task is runnable there any more: sched_ext's deadline
 * server runs our tasks for a few ms per second even under a hog.
 */
#ifndef GHOST_HYBRID_CPU_OWNER_BPF_H
#define GHOST_HYBRID_CPU_OWNER_BPF_H

#include "common.bpf.h"
#include "messages.bpf.h"

/*
 * A higher class holds @cpu: raise the agent's GH_SW_BOOST_PRIO and tell it
 * (CPU_BUSY), so that it stops choosing the CPU. Idempotent.
 */
static void cpu_mark_held(s32 cpu, u32 reason)
{
	struct gh_status_word *asw = agent_sw_of(cpu);
	struct gh_cpu_state *cs = cpu_state_of(cpu);

	if (!cpu_valid(cpu) || cs->held)
		return;
	cs->held_since = bpf_ktime_get_ns();
	cs->held = 1;
	stat_inc(GH_STAT_CPU_RELEASES);
	if (asw)
		__sync_fetch_and_and(&asw->flags, ~GH_SW_CPU_AVAIL);
	if (asw)
		__sync_fetch_and_or(&asw->flags, GH_SW_BOOST_PRIO);
	send_cpu_msg(cpu, GH_MSG_CPU_BUSY, reason);
	/* The global role moves only if this lasts: see handoff_timer_fn. */
}

/*
 * True if a higher class has a task runnable on the CPU whose runqueue the
 * current operation holds locked. Since kernel 6.17 sched_ext has a
 * deadline server: on a CPU a fair-class hog holds, it still runs our
 * tasks for a few ms per second. That ops.dispatch or ops.running is no
 * sign the CPU is ours again, and treating it as one handed the global
 * role back to the hog's CPU.
 */
static __always_inline bool locked_cpu_runs_higher_class(void)
{
	struct rq *rq = scx_bpf_locked_rq();

	return rq && rq->nr_running > rq->scx.nr_running;
}

/*
 * @cpu is ours again, unless a higher class still has work there: clear
 * BOOST_PRIO, CPU_AVAILABLE. Idempotent. REQUIRES: @cpu's runqueue is
 * locked (ops.dispatch, ops.running, ops.cpu_acquire).
 */
static __always_inline void cpu_mark_free(s32 cpu)
{
	struct gh_status_word *asw = agent_sw_of(cpu);
	struct gh_cpu_state *cs = cpu_state_of(cpu);

	if (!cpu_valid(cpu) || !cs->held)
		return;
	if (locked_cpu_runs_higher_class())
		return;
	cs->held = 0;
	cs->rescued = 0;
	if (asw)
		__sync_fetch_and_and(&asw->flags, ~GH_SW_BOOST_PRIO);
	send_cpu_msg(cpu, GH_MSG_CPU_AVAILABLE, 0);
}

/*
 * True if @cpu is running a task of a higher class right now. Under
 * SCX_OPS_SWITCH_PARTIAL exactly the SCHED_EXT tasks are ours; pid 0 is
 * the CPU's idle task.
 */
static bool cpu_runs_higher_class(s32 cpu)
{
	struct task_struct *curr;
	bool higher;

	bpf_rcu_read_lock();
	curr = scx_bpf_cpu_curr(cpu);
	higher = curr && curr->pid != 0 && curr->policy != GH_SCHED_EXT;
	bpf_rcu_read_unlock();
	return higher;
}

/*
 * ops.update_idle: keeps GH_SW_CPU_AVAIL in @cpu's agent status word equal
 * to "idle, and no higher class holds it", so that the agent can tell a
 * free CPU from one it merely believes free.
 */
static __always_inline void cpu_note_idle(s32 cpu, bool idle)
{
	struct gh_status_word *asw = agent_sw_of(cpu);

	if (!asw)
		return;
	if (idle && !cpu_state_of(cpu)->held)
		__sync_fetch_and_or(&asw->flags, GH_SW_CPU_AVAIL);
	else
		__sync_fetch_and_and(&asw->flags, ~GH_SW_CPU_AVAIL);
}

/*
 * Re-enqueueing a held CPU's local DSQ (ops.cpu_release, the rescue of
 * stranded tasks) sends its tasks back to their owner to be placed
 * elsewhere. A task that must stay on that CPU (inside migrate_disable(),
 * an agent with no usable successor) comes straight back, and sched_ext
 * ejects a scheduler that re-enqueues one task more than
 * SCX_REENQ_MAX_REPEAT (256) times without it running. So once a task has
 * bounced GH_REENQ_STREAK_PAUSE times, its CPU's re-enqueues pause until
 * that task runs (or leaves): the tasks wait for the CPU instead, as they
 * would without the re-enqueue.
 */
#define GH_REENQ_STREAK_PAUSE 32

/* ops.enqueue with SCX_ENQ_REENQ: one more bounce for @tctx's task. */
static __always_inline void reenq_note(struct task_struct *p, struct task_ctx *tctx)
{
	s32 cpu = scx_bpf_task_cpu(p);

	if (++tctx->reenq_streak < GH_REENQ_STREAK_PAUSE || !cpu_valid(cpu))
		return;
	if (!cpu_state_of(cpu)->reenq_paused)
		stat_inc(GH_STAT_REENQ_PAUSES);
	cpu_state_of(cpu)->reenq_paused = 1;
	tctx->reenq_paused_cpu = cpu;
}

/* ops.running or ops.disable: @tctx's task no longer waits to run. */
static __always_inline void reenq_note_ran(struct task_ctx *tctx)
{
	s32 cpu = tctx->reenq_paused_cpu;

	/* Only the task that paused a CPU (reenq_note) lifts the pause. */
	if (tctx->reenq_streak >= GH_REENQ_STREAK_PAUSE && cpu_valid(cpu))
		cpu_state_of(cpu)->reenq_paused = 0;
	tctx->reenq_streak = 0;
}

static __always_inline bool reenq_allowed(s32 cpu)
{
	return cpu_valid(cpu) && !cpu_state_of(cpu)->reenq_paused;
}

#endif /* GHOST_HYBRID_CPU_OWNER_BPF_H */
