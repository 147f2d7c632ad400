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
 * A sync group (ghOSt's; GH_COMMIT_ARGS_SYNC_GROUP) is all or nothing: its
 * tasks wait in per-CPU latch DSQs, which nothing consumes, until every
 * slot is valid, and go back to the agent's DSQ if one is not
 * (commit_sync_group).
 *
 * The outcome of every slot is known when the call returns: the agent
 * never waits for a target CPU. A failed transaction touches nothing: the
 * task stays in the agent's DSQ and the target CPU's running task is not
 * disturbed (no kick, no preemption). The validation and the outcome of
 * each case are in txn_spec.h, which the simulator compiles too; this file
 * gathers the facts (txn_cpu_usable, txn_task_facts) and carries out a
 * COMPLETE.
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
#include "txn_spec.h"

static __always_inline void txn_finish(struct gh_txn *t, u32 outcome)
{
	t->commit_time = bpf_ktime_get_ns();
	/* Outcome last: the agent reads state, then commit_time. */
	__sync_lock_test_and_set(&t->state, outcome);
	stat_inc(outcome == GH_TXN_COMPLETE ? GH_STAT_TXN_COMPLETE : GH_STAT_TXN_FAILED);
}

/* Can anything run on @cpu now? */
static __always_inline bool txn_cpu_usable(s32 cpu, bool local)
{
	if (!cpu_in_enclave(cpu) || cpu_state_of(cpu)->held)
		return false;
	/* Taken while idle, so nothing told us (on the caller's own CPU,
	 * curr is the caller). */
	if (!local && cpu_runs_higher_class(cpu)) {
		cpu_mark_held(cpu, 0);
		return false;
	}
	return true;
}

/* The task-level facts (txn_spec.h), once the target was found. */
static __always_inline void txn_task_facts(struct gh_txn_facts *f, struct gh_txn *t, s32 cpu,
					   struct task_struct *p, struct task_ctx *tctx)
{
	struct gh_status_word *sw = task_sw_of(tctx);

	f->task_barrier_current = sw && READ_ONCE(sw->barrier) == t->task_barrier;
	f->on_cpu = tctx->oncpu;
	f->on_this_cpu = scx_bpf_task_cpu(p) == cpu;
	f->fast_path_owned = READ_ONCE(tctx->owner) == GH_OWNER_BPF;
	/* Whether it still waits in the agent's DSQ, the move itself tells. */
	f->runnable = tctx->runnable;
	f->cpu_allowed = bpf_cpumask_test_cpu(cpu, p->cpus_ptr);
	f->pinned_elsewhere = task_migration_disabled(p) && scx_bpf_task_cpu(p) != cpu;
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
 * Validates the claimed slot of @cpu (txn_spec.h) and, if valid, moves its
 * task into @cpu's local DSQ or, for a sync group (@staged), into @cpu's
 * latch DSQ, where it waits until the whole group is valid (txn_publish).
 * Returns the outcome; kicks nothing (txn_kick). @self is the caller's CPU.
 *
 * A global function, not inlined: the verifier checks it once, for any
 * CPU, instead of once for each of the loops that call it (start-up time:
 * verifying it inline in both commit loops took 1.75 s of the guest's
 * load). Hence scalar arguments only: the slot is looked up again here.
 */
__noinline int txn_latch(u32 cpu, s32 self, u32 staged)
{
	u64 dsq = staged ? GH_DSQ_LATCH_BASE + cpu : SCX_DSQ_LOCAL_ON | cpu;
	bool local = (s32)cpu == self;
	struct gh_txn_facts f = {};
	struct bpf_iter_scx_dsq it;
	struct gh_status_word *asw;
	struct task_struct *p = NULL;
	struct task_ctx *tctx = NULL;
	struct gh_txn *t = txn_of(cpu);
	u64 enq_flags = 0;
	u32 outcome;

	if (!t)	/* never: the caller claimed it */
		return GH_TXN_INVALID_CPU;
	f.cpu_usable = txn_cpu_usable(cpu, local);
	asw = agent_sw_of(cpu);
	f.agent_barrier_current = asw && READ_ONCE(asw->barrier) == t->agent_barrier;
	if (f.cpu_usable && t->gtid != GH_NULL_GTID && t->gtid != GH_IDLE_GTID) {
		p = bpf_task_from_pid(GH_GTID_PID(t->gtid));
		tctx = p ? lookup_task_ctx(p) : NULL;
		f.target_found = tctx && tctx->gtid == t->gtid && !tctx->is_agent;
	}
	if (!f.target_found) {
		if (p)
			bpf_task_release(p);
		return gh_txn_outcome(t, &f);
	}
	if (!tctx) {	/* never: target_found implies it (for the verifier) */
		bpf_task_release(p);
		return GH_TXN_TARGET_NOT_FOUND;
	}
	/* The iterator first: whatever happens to the task after this point
	 * makes the move fail rather than act on what we validated. */
	bpf_rcu_read_lock();
	bpf_iter_scx_dsq_new(&it, GH_DSQ_AGENT, 0);
	txn_task_facts(&f, t, cpu, p, tctx);
	outcome = gh_txn_outcome(t, &f);
	if (outcome == GH_TXN_COMPLETE && !tctx->oncpu && txn_kept_on(p, cpu)) {
		/* Nothing to move: for the agent it never left the CPU (no
		 * message said so), and it resumes without a TASK_ON_CPU. */
	} else if (outcome == GH_TXN_COMPLETE && !tctx->oncpu) {
		if (!local && (t->commit_flags & GH_COMMIT_AT_TXN_COMMIT))
			enq_flags = SCX_ENQ_PREEMPT;
		tctx->slice_ns = t->slice_ns ? t->slice_ns : txn_slice_ns;
		tctx->commit_time = bpf_ktime_get_ns();
		/* A staged task is not committed yet: if it is re-enqueued
		 * before the group publishes, no PREEMPT may follow. */
		tctx->txn_commit = !staged;
		scx_bpf_dsq_move_set_slice(&it, tctx->slice_ns);
		if (!scx_bpf_dsq_move(&it, p, dsq, staged ? 0 : enq_flags)) {
			tctx->txn_commit = 0;
			outcome = GH_TXN_TARGET_NOT_RUNNABLE;
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	bpf_rcu_read_unlock();
	bpf_task_release(p);
	return outcome;
}

/* After a COMPLETE on another CPU than the caller's: an idle transaction
 * preempts the CPU's task; a task moved there gets an idle CPU going. */
static __always_inline void txn_kick(struct gh_txn *t, s32 cpu, bool local)
{
	if (!local)
		scx_bpf_kick_cpu(cpu, t->gtid == GH_IDLE_GTID ? SCX_KICK_PREEMPT : SCX_KICK_IDLE);
}

/*
 * A sync group is valid: the task staged in @cpu's latch DSQ (if any: an
 * idle transaction, or a task already on or kept on @cpu, stages nothing)
 * moves to @cpu's local DSQ. Returns the slot's outcome: COMPLETE, unless
 * the task left the latch DSQ since it was staged (killed, or its affinity
 * changed in that instant): then TARGET_NOT_RUNNABLE, the one way a
 * published group can run only in part.
 */
static __always_inline u32 txn_publish(struct gh_txn *t, s32 cpu, bool local)
{
	u64 enq_flags = !local && (t->commit_flags & GH_COMMIT_AT_TXN_COMMIT) ? SCX_ENQ_PREEMPT : 0;
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	struct task_ctx *tctx;
	u32 outcome = GH_TXN_COMPLETE;
	bool staged = false;

	if (t->gtid == GH_IDLE_GTID)
		return outcome;
	bpf_rcu_read_lock();
	bpf_iter_scx_dsq_new(&it, GH_DSQ_LATCH_BASE + cpu, 0);
	while ((p = bpf_iter_scx_dsq_next(&it))) {
		tctx = lookup_task_ctx(p);
		if (!tctx || tctx->gtid != t->gtid)
			continue;
		staged = true;
		tctx->txn_commit = 1;
		scx_bpf_dsq_move_set_slice(&it, tctx->slice_ns);
		if (!scx_bpf_dsq_move(&it, p, SCX_DSQ_LOCAL_ON | cpu, enq_flags)) {
			tctx->txn_commit = 0;
			outcome = GH_TXN_TARGET_NOT_RUNNABLE;
		}
		break;
	}
	bpf_iter_scx_dsq_destroy(&it);
	bpf_rcu_read_unlock();
	if (staged)
		return outcome;
	/* Nothing staged: fine if nothing was to be moved. */
	p = bpf_task_from_pid(GH_GTID_PID(t->gtid));
	if (p) {
		tctx = lookup_task_ctx(p);
		if (tctx && !tctx->oncpu && !txn_kept_on(p, cpu))
			outcome = GH_TXN_TARGET_NOT_RUNNABLE;
		bpf_task_release(p);
	}
	return outcome;
}

/* A sync group failed: every task staged in @cpu's latch DSQ goes back to
 * the agent's DSQ, never having been anywhere it could run. */
static __always_inline void txn_unstage(s32 cpu)
{
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;

	bpf_rcu_read_lock();
	bpf_iter_scx_dsq_new(&it, GH_DSQ_LATCH_BASE + cpu, 0);
	while ((p = bpf_iter_scx_dsq_next(&it)))
		scx_bpf_dsq_move(&it, p, GH_DSQ_AGENT, 0);
	bpf_iter_scx_dsq_destroy(&it);
	bpf_rcu_read_unlock();
}

static __always_inline bool cpu_in_mask(const u64 *mask, u32 cpu)
{
	return mask[(cpu / 64) & (GH_CPUMASK_WORDS - 1)] & (1ULL << (cpu % 64));
}

/* Claims @cpu's slot if it is OPEN: it is then this call's to finish. */
static __always_inline struct gh_txn *txn_claim(u32 cpu)
{
	struct gh_txn *t = txn_of(cpu);

	if (!t || __sync_val_compare_and_swap(&t->state, GH_TXN_OPEN, GH_TXN_CLAIMED) != GH_TXN_OPEN)
		return NULL;
	stat_inc(GH_STAT_TXN_SUBMITTED);
	return t;
}

/*
 * Sync group, in two passes. First every slot is claimed, validated and
 * its task staged in the latch DSQ of the slot's CPU, where nothing runs
 * it; at the first failure the rest are POISONED unvalidated. Then either
 * every staged task goes back to the agent's DSQ (POISONED), or every one
 * moves to its CPU's local DSQ at once (COMPLETE) and the CPUs are kicked.
 */
static __always_inline u32 commit_sync_group(const u64 *mask, s32 self)
{
	u64 staged[GH_CPUMASK_WORDS] = {};
	bool failed = false;
	struct gh_txn *t;
	u32 cpu, outcome, n = 0;

	bpf_for(cpu, 0, nr_cpus) {
		if (cpu >= GH_MAX_CPUS)
			break;
		if (!cpu_in_mask(mask, cpu) || !(t = txn_claim(cpu)))
			continue;
		n++;
		if (failed) {
			txn_finish(t, GH_TXN_POISONED);
			continue;
		}
		outcome = txn_latch(cpu, self, 1);
		if (outcome == GH_TXN_COMPLETE) {
			staged[(cpu / 64) & (GH_CPUMASK_WORDS - 1)] |= 1ULL << (cpu % 64);
		} else {
			txn_finish(t, outcome);
			failed = true;
		}
	}
	bpf_for(cpu, 0, nr_cpus) {
		if (cpu >= GH_MAX_CPUS)
			break;
		if (!cpu_in_mask(staged, cpu) || !(t = txn_of(cpu)))
			continue;
		if (failed) {
			txn_unstage(cpu);
			txn_finish(t, GH_TXN_POISONED);
			continue;
		}
		outcome = txn_publish(t, cpu, (s32)cpu == self);
		txn_finish(t, outcome);
		if (outcome == GH_TXN_COMPLETE)
			txn_kick(t, cpu, (s32)cpu == self);
	}
	return n;
}

/* Commits the OPEN slots of the CPUs in args->cpumask as one group: each
 * slot on its own, or all or none (GH_COMMIT_ARGS_SYNC_GROUP). */
SEC("syscall")
int gh_commit(struct gh_commit_args *args)
{
	u64 mask[GH_CPUMASK_WORDS];
	s32 self = bpf_get_smp_processor_id();
	struct gh_txn *t;
	u32 cpu, n = 0, outcome;

	/* A copy: the verifier refuses a variable index into the context. */
	__builtin_memcpy(mask, args->cpumask, sizeof(mask));
	if (args->flags & GH_COMMIT_ARGS_SYNC_GROUP) {
		args->nr_submitted = commit_sync_group(mask, self);
		return 0;
	}
	bpf_for(cpu, 0, nr_cpus) {
		if (cpu >= GH_MAX_CPUS)
			break;
		if (!cpu_in_mask(mask, cpu) || !(t = txn_claim(cpu)))
			continue;
		n++;
		outcome = txn_latch(cpu, self, 0);
		txn_finish(t, outcome);
		if (outcome == GH_TXN_COMPLETE)
			txn_kick(t, cpu, (s32)cpu == self);
	}
	args->nr_submitted = n;
	return 0;
}

#endif /* GHOST_HYBRID_TRANSACTIONS_BPF_H */
