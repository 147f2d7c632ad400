/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * transactions.bpf.h: the transaction path, ghOSt's latched commit.
 *
 *   agent                          gh_commit (syscall prog, one run per group)
 *   fill txn[cpu], state OPEN -->  for each CPU of the group:
 *   ...for a group of CPUs           OPEN -> CLAIMED, validate,
 *                                    move the task into the CPU's local DSQ,
 *   read every outcome        <--    write the outcome, kick the CPU
 *
 * The outcome of every slot is known when the call returns: the agent
 * never waits for a target CPU. A failed transaction touches nothing: the
 * task stays in the agent's DSQ and the target CPU's running task is not
 * disturbed (no kick, no preemption). Validation, in order (first failure
 * wins; the simulator, agent/sim/sim_txn.cc, checks in the same order):
 *
 *   CPU outside the enclave, held by a higher class,
 *     or running one right now                         CPU_UNAVAIL
 *   gtid 0                                             INVALID_TARGET
 *   no such task (exited, or pid reused: gtid differs) TARGET_NOT_FOUND
 *   bad commit/run flag bits                           INVALID_FLAGS
 *   agent barrier given and != the agent's Aseq        AGENT_STALE
 *   (GH_IDLE_GTID: COMPLETE, the CPU is left alone)
 *   task barrier != the task's Tseq                    TARGET_STALE
 *   task on a CPU (COMPLETE if it runs on this one
 *     and ALLOW_TASK_ONCPU is set)                     TARGET_ONCPU
 *   task owned by the fast path (claim it first)       NOT_PERMITTED
 *   task not waiting in the agent's DSQ                TARGET_NOT_RUNNABLE
 *     (COMPLETE if the kernel keeps it queued on this CPU
 *     anyway: exiting, or inside migrate_disable())
 *   CPU not in the task's affinity                     INVALID_CPU
 *   task inside migrate_disable() on another CPU       CPU_UNAVAIL
 *
 * A valid task is moved with scx_bpf_dsq_move (allowed in SYSCALL
 * programs, with no runqueue lock held): the kernel re-checks under the
 * task's runqueue lock that it is still in the agent's DSQ, queued before
 * our iterator started, so a task that was dequeued, re-enqueued or had its
 * affinity changed since we looked is never moved (TARGET_NOT_RUNNABLE).
 * COMMIT_AT_TXN_COMMIT on another CPU than the caller's preempts that
 * CPU's task (its slice ends; it returns to the agent with
 * GH_MSG_F_SLICE_ENDED); COMMIT_AT_SCHEDULE, and a local commit (the
 * committing agent parks right after), run the task when the CPU next
 * schedules. The slice is the transaction's, enforced by the kernel.
 */
#ifndef GHOST_HYBRID_TRANSACTIONS_BPF_H
#define GHOST_HYBRID_TRANSACTIONS_BPF_H

#include "common.bpf.h"
#include "cpu_owner.bpf.h"
#include "runqueue.bpf.h"

static __always_inline void txn_finish(struct gh_txn *t, u32 outcome)
{
	t->commit_time = bpf_ktime_get_ns();
	/* Outcome last: the agent reads state, then commit_time. */
	__sync_lock_test_and_set(&t->state, outcome);
	stat_inc(outcome == GH_TXN_COMPLETE ? GH_STAT_TXN_COMPLETE : GH_STAT_TXN_FAILED);
}

/* The CPU-level checks: can anything run on @cpu now? */
static __always_inline u32 txn_check_cpu(s32 cpu, bool local)
{
	if (!cpu_in_enclave(cpu) || cpu_held[cpu & (GH_MAX_CPUS - 1)])
		return GH_TXN_CPU_UNAVAIL;
	/* Taken while idle, so nothing told us (on the caller's own CPU,
	 * curr is the caller). */
	if (!local && cpu_runs_higher_class(cpu)) {
		cpu_mark_held(cpu, 0);
		return GH_TXN_CPU_UNAVAIL;
	}
	return GH_TXN_COMPLETE;
}

/* The task-level checks, after the target was found. */
static __always_inline u32 txn_check_task(struct gh_txn *t, s32 cpu, struct task_struct *p,
					  struct task_ctx *tctx)
{
	struct gh_status_word *sw;

	sw = task_sw_of(tctx);
	if (!sw || READ_ONCE(sw->barrier) != t->task_barrier)
		return GH_TXN_TARGET_STALE;
	if (tctx->oncpu) {
		if ((t->commit_flags & GH_ALLOW_TASK_ONCPU) && scx_bpf_task_cpu(p) == cpu)
			return GH_TXN_COMPLETE;
		return GH_TXN_TARGET_ONCPU;
	}
	if (READ_ONCE(tctx->owner) == GH_OWNER_BPF)
		return GH_TXN_NOT_PERMITTED;
	/* Whether it waits in the agent's DSQ, the move itself tells. */
	if (!tctx->runnable)
		return GH_TXN_TARGET_NOT_RUNNABLE;
	if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
		return GH_TXN_INVALID_CPU;
	if (task_migration_disabled(p))
		return GH_TXN_CPU_UNAVAIL;
	return GH_TXN_COMPLETE;
}

/*
 * Whether the kernel itself keeps @p queued to run on @cpu, outside any
 * owner's DSQ: an exiting task, a task inside a migrate_disable() section
 * (ops.enqueue's pinned case), or one put back after a property change.
 * The agent still sees it on @cpu, and a commit of it there asks for what
 * the kernel will do anyway: it runs once the CPU's agent gets out of the
 * way. The read is unlocked; a task that leaves the local DSQ meanwhile
 * (it ran, slept or was migrated) reports that with a message.
 */
static __always_inline bool txn_kept_on(struct task_struct *p, s32 cpu)
{
	struct scx_dispatch_q *dsq = p->scx.dsq;

	return dsq && dsq->id == SCX_DSQ_LOCAL && scx_bpf_task_cpu(p) == cpu;
}

/*
 * Validates @t for @cpu and, if valid, moves its task into @cpu's local
 * DSQ. Returns the outcome. @local: @cpu is the caller's own CPU.
 */
static __always_inline u32 txn_latch(struct gh_txn *t, s32 cpu, bool local)
{
	struct bpf_iter_scx_dsq it;
	struct gh_status_word *asw;
	struct task_struct *p;
	struct task_ctx *tctx;
	u64 enq_flags = 0;
	u32 outcome;

	outcome = txn_check_cpu(cpu, local);
	if (outcome != GH_TXN_COMPLETE)
		return outcome;
	if (t->gtid == GH_NULL_GTID)
		return GH_TXN_INVALID_TARGET;
	p = t->gtid == GH_IDLE_GTID ? NULL : bpf_task_from_pid(GH_GTID_PID(t->gtid));
	tctx = p ? lookup_task_ctx(p) : NULL;
	if (t->gtid != GH_IDLE_GTID && (!tctx || tctx->gtid != t->gtid || tctx->is_agent))
		outcome = GH_TXN_TARGET_NOT_FOUND;
	else if ((t->commit_flags & ~GH_COMMIT_FLAGS_ALL) || (t->run_flags & ~GH_RUN_FLAGS_ALL))
		outcome = GH_TXN_INVALID_FLAGS;
	else if (t->check_agent_barrier && (!(asw = agent_sw_of(cpu)) ||
					    READ_ONCE(asw->barrier) != t->agent_barrier))
		outcome = GH_TXN_AGENT_STALE;
	if (!p || !tctx) {
		if (p)
			bpf_task_release(p);
		return outcome;
	}
	if (outcome != GH_TXN_COMPLETE) {
		bpf_task_release(p);
		return outcome;
	}
	/* The iterator first: whatever happens to the task after this point
	 * makes the move fail rather than act on what we validated. */
	bpf_rcu_read_lock();
	bpf_iter_scx_dsq_new(&it, GH_DSQ_AGENT, 0);
	outcome = txn_check_task(t, cpu, p, tctx);
	if (outcome == GH_TXN_COMPLETE && !tctx->oncpu && txn_kept_on(p, cpu)) {
		/* Nothing to move: for the agent it never left the CPU (no
		 * message said so), and it resumes without a TASK_ON_CPU. */
	} else if (outcome == GH_TXN_COMPLETE && !tctx->oncpu) {
		if (!local && (t->commit_flags & GH_COMMIT_AT_TXN_COMMIT))
			enq_flags = SCX_ENQ_PREEMPT;
		tctx->slice_ns = t->slice_ns ? t->slice_ns : txn_slice_ns;
		tctx->commit_time = bpf_ktime_get_ns();
		tctx->txn_commit = 1;
		scx_bpf_dsq_move_set_slice(&it, tctx->slice_ns);
		if (!scx_bpf_dsq_move(&it, p, SCX_DSQ_LOCAL_ON | cpu, enq_flags)) {
			tctx->txn_commit = 0;
			outcome = GH_TXN_TARGET_NOT_RUNNABLE;
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	bpf_rcu_read_unlock();
	bpf_task_release(p);
	if (outcome == GH_TXN_COMPLETE && !local)
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	return outcome;
}

/* Commits the OPEN slots of the CPUs in args->cpumask as one group. */
SEC("syscall")
int gh_commit(struct gh_commit_args *args)
{
	u64 mask[GH_CPUMASK_WORDS];
	s32 self = bpf_get_smp_processor_id();
	struct gh_txn *t;
	u32 cpu, n = 0;
	u64 word;

	/* A copy: the verifier refuses a variable index into the context. */
	__builtin_memcpy(mask, args->cpumask, sizeof(mask));
	bpf_for(cpu, 0, nr_cpus) {
		if (cpu >= GH_MAX_CPUS)
			break;
		word = mask[(cpu / 64) & (GH_CPUMASK_WORDS - 1)];
		if (!(word & (1ULL << (cpu % 64))))
			continue;
		t = txn_of(cpu);
		if (!t || __sync_val_compare_and_swap(&t->state, GH_TXN_OPEN,
						      GH_TXN_CLAIMED) != GH_TXN_OPEN)
			continue;
		n++;
		stat_inc(GH_STAT_TXN_SUBMITTED);
		txn_finish(t, txn_latch(t, cpu, (s32)cpu == self));
	}
	args->nr_submitted = n;
	return 0;
}

#endif /* GHOST_HYBRID_TRANSACTIONS_BPF_H */
