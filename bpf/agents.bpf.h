/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * agents.bpf.h: the special standing of agent threads.
 *
 * An agent thread is a SCHED_EXT task whose tid the loader wrote into
 * agent_pid[cpu] before the thread switched class; it is pinned to that CPU.
 *
 * - Active agents run before anything else on their CPU: ops.enqueue puts
 *   them at the head of the CPU's local DSQ and preempts the current task.
 * - An inactive agent is parked: it cleared GH_SW_AGENT_ACTIVE (LocalYield,
 *   gh_local_yield) and sleeps on its doorbell, a small ring buffer. It is
 *   woken by a Ping (gh_ping) or by a message on its channel: both set
 *   ACTIVE first and then ring the doorbell, so the agent, which re-checks
 *   ACTIVE before sleeping, never misses a wakeup (wake.bpf.h). Parked agents sleep
 *   rather than wait in BPF custody, so the sched_ext watchdog never sees a
 *   runnable agent that does not run.
 * - An agent displaced by a higher class, or whose CPU one holds
 *   (cpu_owner.bpf.h), runs on the first usable CPU of global_successors[]
 *   (the agent's topology order: SMT sibling, L3, NUMA node, any) instead
 *   of waiting behind the intruder: a displaced global agent sees
 *   GH_SW_BOOST_PRIO there and hands the role on itself, as in ghOSt.
 * - The same timer re-enqueues tasks committed to a CPU that a higher class
 *   took while it was idle (rescue_stranded_tasks).
 * - As a fallback, when a higher class holds the global CPU for longer
 *   than handoff_delay_ns (a timer checks; it also notices a higher class
 *   that took the CPU while its agent was waiting to run there, which no
 *   callback reports), the role moves kernel-side to
 *   the first available successor, whose agent is woken with
 *   GH_SW_AGENT_GLOBAL set; the old agent finds it lost the role when it
 *   runs again and parks.
 */
#ifndef GHOST_HYBRID_AGENTS_BPF_H
#define GHOST_HYBRID_AGENTS_BPF_H

#include "common.bpf.h"
#include "wake.bpf.h"
#include "cpu_owner.bpf.h"
#include "runqueue.bpf.h"

/* ops.enqueue for an agent thread: run it next on its own CPU. */
static __always_inline void agent_enqueue(struct task_struct *p,
					  struct task_ctx *tctx, u64 enq_flags)
{
	s32 cpu = tctx->agent_cpu, c;
	struct gh_status_word *asw;
	u32 i;

	if (!cpu_valid(cpu))
		cpu = scx_bpf_task_cpu(p);
	/*
	 * The agent was displaced from its CPU (ops.stopping), or a higher
	 * class holds that CPU: run it on the first usable successor instead,
	 * rather than behind the intruder. A displaced global agent finishes
	 * its round there, sees GH_SW_BOOST_PRIO and hands the global role on
	 * itself, as ghOSt's boosted agent does; an agent that just handed the
	 * role on (and may still hold the scheduler's round lock) gets to
	 * release it and park, on a CPU other than the new global agent's.
	 * Only centralized agents may run elsewhere (per-CPU agents' affinity
	 * is their own CPU, so the cpumask test keeps them home).
	 */
	bool displaced = tctx->displaced;
	s32 global = READ_ONCE(global_cpu);

	tctx->displaced = 0;
	/* Inside a migrate_disable() section it cannot leave this CPU. */
	if (task_migration_disabled(p)) {
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, agent_slice_ns,
				   SCX_ENQ_HEAD | SCX_ENQ_PREEMPT);
		return;
	}
	/*
	 * The global agent woken on a CPU that a higher class took while it
	 * slept (nothing tells us of that): it would wait behind the
	 * intruder, and the scheduler with it.
	 */
	if (cpu == global && !cpu_state_of(cpu)->held && cpu_runs_higher_class(cpu))
		cpu_mark_held(cpu, 0);
	if (displaced || cpu_state_of(cpu)->held) {
		for (i = 0; i < GH_MAX_CPUS && i < nr_cpus; i++) {
			c = global_successors[i];
			if (c < 0)
				break;
			if (c != cpu && (c != global || cpu == global) && cpu_in_enclave(c) &&
			    !cpu_state_of(c)->held &&
			    bpf_cpumask_test_cpu(c, p->cpus_ptr)) {
				cpu = c;
				stat_inc(GH_STAT_AGENT_MOVES);
				break;
			}
		}
	}
	/*
	 * An agent that yielded lets the tasks queued on its CPU run first
	 * (the global agent does so when it has kept its own CPU's task
	 * waiting for too long).
	 */
	if (tctx->agent_yielded) {
		tctx->agent_yielded = 0;
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL_ON | cpu, agent_slice_ns, 0);
		return;
	}
	/*
	 * Only an active agent preempts its CPU's task. A parked one woken for
	 * nothing (a poll timeout, a late doorbell interrupt) just looks at
	 * ACTIVE and sleeps again: preempting for that would send TASK_PREEMPT,
	 * whose wakeup rings the doorbell again, and so on, forever.
	 */
	asw = agent_sw_of(cpu);
	if (asw && !(READ_ONCE(asw->flags) & GH_SW_AGENT_ACTIVE)) {
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL_ON | cpu, agent_slice_ns, 0);
		return;
	}
	/* The task it preempts resumes after it (ops.stopping). */
	if (resume_after_agent && cpu_valid(cpu))
		cpu_state_of(cpu)->agent_preempting = 1;
	scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL_ON | cpu, agent_slice_ns,
			   SCX_ENQ_HEAD | SCX_ENQ_PREEMPT);
}

/*
 * Moves the global role (GH_SW_AGENT_GLOBAL, global_cpu, and with it the
 * default channel's news: channel_agent_cpu) from @from's agent to @to's,
 * if @from's agent still holds it; @from < 0: whoever holds it. Returns
 * true if @to's agent holds the role afterwards.
 *
 * global_cpu is the one word that says who holds the role, and it only
 * changes by compare-and-swap, so two movers (an agent's Ping and the
 * handoff timer) cannot both win: the loser learns it lost and does
 * nothing. The flags follow global_cpu and are reconciled against it at
 * the end, in case a later move overtook this one.
 *
 * Both agents' Aseq moves after global_cpu, as for a message: an agent
 * that read its Aseq before the move and then decided to park (it was not
 * global) gets -ESTALE from gh_local_yield and looks again.
 */
static bool global_move(s32 from, s32 to)
{
	struct gh_status_word *to_sw = agent_sw_of(to), *from_sw;
	u32 tries;

	if (!to_sw)
		return false;
	for (tries = 0; tries < 4; tries++) {
		s32 cur = READ_ONCE(global_cpu);

		if (from >= 0 && cur != from)
			return cur == to;
		if (__sync_val_compare_and_swap(&global_cpu, cur, to) == cur) {
			from = cur;
			break;
		}
	}
	if (tries == 4)
		return false;
	__sync_fetch_and_or(&to_sw->flags, GH_SW_AGENT_GLOBAL);
	__sync_fetch_and_add(&to_sw->barrier, 1);
	from_sw = from != to ? agent_sw_of(from) : NULL;
	if (from_sw) {
		__sync_fetch_and_and(&from_sw->flags, ~GH_SW_AGENT_GLOBAL);
		__sync_fetch_and_add(&from_sw->barrier, 1);
	}
	if (READ_ONCE(global_cpu) != to)
		__sync_fetch_and_and(&to_sw->flags, ~GH_SW_AGENT_GLOBAL);
	if (from_sw && READ_ONCE(global_cpu) == from)
		__sync_fetch_and_or(&from_sw->flags, GH_SW_AGENT_GLOBAL);
	return true;
}

/*
 * Moves the global role away from @cpu (held by a higher class) to the
 * first usable successor and wakes its agent. Returns the new global CPU,
 * or -1 (no successor, or the role had left @cpu already).
 */
static __always_inline s32 global_handoff(s32 cpu)
{
	s32 next = -1, c;
	u32 i;

	for (i = 0; i < GH_MAX_CPUS && i < nr_cpus; i++) {
		c = global_successors[i];
		if (c < 0)
			break;
		if (c != cpu && cpu_in_enclave(c) && agent_pid[c & (GH_MAX_CPUS - 1)] &&
		    !cpu_state_of(c)->held) {
			next = c;
			break;
		}
	}
	if (next < 0 || !global_move(cpu, next))
		return -1;
	stat_inc(GH_STAT_GLOBAL_HANDOFFS);
	agent_wake(next);
	return next;
}

/*
 * Ping: wake @args->cpu's agent. With make_global, first hand it the
 * global role if @args->from_cpu's agent still holds it (from_cpu < 0:
 * whoever holds it); result -EAGAIN if the role had moved on.
 */
SEC("syscall")
int gh_ping(struct gh_agent_args *args)
{
	struct gh_status_word *asw = agent_sw_of(args->cpu);

	/* The agent may not have started yet: it then starts active. */
	if (!asw || !cpu_in_enclave(args->cpu)) {
		args->result = -EINVAL;
		return 0;
	}
	if (args->make_global && !global_move(args->from_cpu, args->cpu)) {
		args->result = -EAGAIN;
		return 0;
	}
	agent_wake(args->cpu);
	args->result = 0;
	return 0;
}

/*
 * LocalYield, first half: park @args->cpu's agent unless its Aseq moved
 * past @args->agent_barrier (result -ESTALE: new messages, keep running).
 * The agent then sleeps on its doorbell until ACTIVE is set again.
 */
SEC("syscall")
int gh_local_yield(struct gh_agent_args *args)
{
	struct gh_status_word *asw = agent_sw_of(args->cpu);

	if (!asw) {
		args->result = -EINVAL;
		return 0;
	}
	__sync_fetch_and_and(&asw->flags, ~GH_SW_AGENT_ACTIVE);
	if (args->check_barrier && READ_ONCE(asw->barrier) != args->agent_barrier) {
		__sync_fetch_and_or(&asw->flags, GH_SW_AGENT_ACTIVE);
		args->result = -ESTALE;
		return 0;
	}
	stat_inc(GH_STAT_AGENT_PARKS);
	args->result = 0;
	return 0;
}


/* The handoff watchdog: a timer that moves the global role off a CPU a
 * higher class has held for handoff_delay_ns. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct periodic_timer);
} handoff_timers SEC(".maps");

/*
 * Tasks committed to a CPU that a higher class then took while it was idle
 * (no ops.cpu_release: the CPU was not running one of ours), or in the
 * instant before the commit saw it held, would wait behind the intruder
 * until sched_ext's deadline server runs them, up to a second later. Found
 * here, they are re-enqueued (ops.enqueue, SCX_ENQ_REENQ): back to their
 * owner with a TASK_PREEMPT, to be placed on another CPU, since this one is
 * now marked held. Once per hold: a task the kernel keeps on its CPU
 * (exiting, migrate_disable()) comes straight back to that local DSQ, and
 * re-enqueued at every tick it would reach sched_ext's limit of re-enqueues
 * without running (SCX_REENQ_MAX_REPEAT), which ejects the scheduler.
 */
static __always_inline void rescue_stranded_tasks(void)
{
	u32 cpu;

	bpf_for(cpu, 0, nr_cpus) {
		if (!cpu_in_enclave(cpu) || cpu_state_of(cpu)->rescued || !reenq_allowed(cpu) ||
		    !scx_bpf_dsq_nr_queued(SCX_DSQ_LOCAL_ON | cpu) || !cpu_runs_higher_class(cpu))
			continue;
		cpu_mark_held(cpu, 0);
		cpu_state_of(cpu)->rescued = 1;
		/* Without the kfunc (GH_KFEAT_DSQ_REENQ) they wait for the CPU
		 * to schedule again; marked held, it gets no new commits. */
		if (bpf_ksym_exists(scx_bpf_dsq_reenq)) {
			scx_bpf_dsq_reenq(SCX_DSQ_LOCAL_ON | cpu, 0);
			stat_inc(GH_STAT_STRANDED_REENQS);
		}
	}
}

static int handoff_timer_fn(void *map, int *key, struct bpf_timer *timer)
{
	s32 g = READ_ONCE(global_cpu);
	struct gh_cpu_state *gc = cpu_state_of(g);

	rescue_stranded_tasks();
	forgotten_task_nudge();

	if (cpu_valid(g)) {
		/* Taken while its agent waited to run there: nothing told us. */
		if (!gc->held && cpu_runs_higher_class(g))
			cpu_mark_held(g, 0);
		if (gc->held && bpf_ktime_get_ns() - gc->held_since >= handoff_delay_ns)
			global_handoff(g);
	}
	bpf_timer_start(timer, handoff_delay_ns / 2, 0);
	return 0;
}

/* Arms the handoff watchdog; called from ops.init. */
static __always_inline s32 handoff_timer_arm(void)
{
	return periodic_timer_arm(&handoff_timers, handoff_timer_fn, handoff_delay_ns / 2);
}

#endif /* GHOST_HYBRID_AGENTS_BPF_H */
