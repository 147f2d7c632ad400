/* SPDX-License-Identifier: GPL-2.0 */
/*
 * transactions.bpf.h: the transaction path.
 *
 *   agent                     gh_commit (syscall prog)      target CPU
 *   fill txn[cpu], OPEN  -->  OPEN -> SUBMITTED, kick  -->  ops.dispatch:
 *   ...for a group of CPUs    (one run for the group)       SUBMITTED -> CLAIMED,
 *   wait for outcomes    <----------------------------------validate, run the
 *                                                           task or write why not
 *
 * Validation on the target CPU, in order (first failure wins):
 *   CPU outside the enclave or held by a higher class  CPU_UNAVAIL
 *   (gh_commit also marks a CPU held when it sees a higher class run there)
 *   bad commit/run flag bits                           INVALID_FLAGS
 *   gtid 0                                             INVALID_TARGET
 *   no such task (exited, or pid reused: gtid differs) TARGET_NOT_FOUND
 *   agent barrier given and != the agent's Aseq        AGENT_STALE
 *   task barrier != the task's Tseq                    TARGET_STALE
 *   task running on a CPU                              TARGET_ONCPU
 *   task not runnable                                  TARGET_NOT_RUNNABLE
 *   CPU not in the task's affinity                     CPU_UNAVAIL
 * otherwise the task leaves BPF custody into this CPU's local DSQ and the
 * outcome is COMPLETE; ops.running then sends TASK_ON_CPU. A failure
 * touches nothing: the task stays in custody, runnable, for the next try.
 *
 * CPU-level failures (outside the enclave, held by a higher class) are
 * written by gh_commit itself: such a CPU would not run ops.dispatch soon,
 * and ops.cpu_release fails a slot still SUBMITTED when the CPU is taken.
 */
#ifndef GHOST_HYBRID_TRANSACTIONS_BPF_H
#define GHOST_HYBRID_TRANSACTIONS_BPF_H

#include "common.bpf.h"

static void cpu_mark_held(s32 cpu, u32 reason, bool fail_txn);	/* cpu_owner.bpf.h */
static bool cpu_runs_higher_class(s32 cpu);	/* cpu_owner.bpf.h */

static __always_inline void txn_finish(struct gh_txn *t, u32 outcome)
{
	t->commit_time = bpf_ktime_get_ns();
	/* Outcome last: the agent polls state, then reads commit_time. */
	__sync_lock_test_and_set(&t->state, outcome);
	stat_inc(outcome == GH_TXN_COMPLETE ? GH_STAT_TXN_COMPLETE : GH_STAT_TXN_FAILED);
}

/*
 * Ends a transaction claimed by @cpu's dispatch. A failed local commit
 * (one that checks the agent barrier) wakes the parked agent that made it,
 * as ghOSt returns a failed local commit to its agent at once.
 */
static __always_inline bool txn_done(struct gh_txn *t, s32 cpu, u32 outcome)
{
	bool local = t->check_agent_barrier;

	txn_finish(t, outcome);
	if (outcome != GH_TXN_COMPLETE && local)
		agent_wake(cpu);
	return outcome == GH_TXN_COMPLETE;
}

/* Fails @cpu's slot with @outcome if it is still SUBMITTED. */
static __always_inline void txn_fail_submitted(s32 cpu, u32 outcome)
{
	struct gh_txn *t = txn_of(cpu);

	if (t && __sync_val_compare_and_swap(&t->state, GH_TXN_SUBMITTED,
					     GH_TXN_CLAIMED) == GH_TXN_SUBMITTED)
		txn_done(t, cpu, outcome);
}

/* Commits the OPEN slots of the CPUs in args->cpumask as one group. */
SEC("syscall")
int gh_commit(struct gh_commit_args *args)
{
	u64 mask[GH_CPUMASK_WORDS];
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
						      GH_TXN_SUBMITTED) != GH_TXN_OPEN)
			continue;
		n++;
		stat_inc(GH_STAT_TXN_SUBMITTED);
		if (!cpu_in_enclave(cpu) || cpu_held[cpu & (GH_MAX_CPUS - 1)]) {
			txn_fail_submitted(cpu, GH_TXN_CPU_UNAVAIL);
			continue;
		}
		/*
		 * Taken while idle, so nothing told us: mark it held so that
		 * the agent stops choosing it, and kick it all the same. (On
		 * the committer's own CPU, curr is the committer.)
		 */
		if (cpu != bpf_get_smp_processor_id() && cpu_runs_higher_class(cpu))
			cpu_mark_held(cpu, 0, false);
		/* A local commit needs no kick: its agent parks right after. */
		if (cpu != bpf_get_smp_processor_id())
			scx_bpf_kick_cpu(cpu, (t->commit_flags & GH_COMMIT_AT_SCHEDULE) ?
					 SCX_KICK_IDLE : SCX_KICK_PREEMPT);
	}
	args->nr_submitted = n;
	return 0;
}

/* Validates @t against @cpu; returns GH_TXN_COMPLETE or the failure. */
static __always_inline u32 txn_validate(struct gh_txn *t, s32 cpu,
					struct task_struct *p, struct task_ctx *tctx)
{
	struct gh_status_word *asw, *sw;

	if (!tctx || tctx->gtid != t->gtid || tctx->is_agent)
		return GH_TXN_TARGET_NOT_FOUND;
	if (t->check_agent_barrier) {
		asw = agent_sw_of(cpu);
		if (!asw || READ_ONCE(asw->barrier) != t->agent_barrier)
			return GH_TXN_AGENT_STALE;
	}
	sw = task_sw_of(tctx);
	if (!sw || READ_ONCE(sw->barrier) != t->task_barrier)
		return GH_TXN_TARGET_STALE;
	if (tctx->oncpu)
		return GH_TXN_TARGET_ONCPU;
	if (!tctx->runnable || !READ_ONCE(tctx->custody))
		return GH_TXN_TARGET_NOT_RUNNABLE;
	if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
		return GH_TXN_CPU_UNAVAIL;
	return GH_TXN_COMPLETE;
}

/*
 * ops.dispatch part: applies @cpu's submitted transaction, if any.
 * Returns true if it put a task on this CPU.
 */
static __always_inline bool txn_apply(s32 cpu)
{
	struct gh_txn *t = txn_of(cpu);
	struct task_struct *p;
	struct task_ctx *tctx;
	u32 outcome;
	u64 slice;

	if (!t || __sync_val_compare_and_swap(&t->state, GH_TXN_SUBMITTED,
					      GH_TXN_CLAIMED) != GH_TXN_SUBMITTED)
		return false;
	if (!cpu_in_enclave(cpu) || cpu_held[cpu & (GH_MAX_CPUS - 1)]) {
		return txn_done(t, cpu, GH_TXN_CPU_UNAVAIL);
	}
	if ((t->commit_flags & ~GH_COMMIT_FLAGS_ALL) || (t->run_flags & ~GH_RUN_FLAGS_ALL)) {
		return txn_done(t, cpu, GH_TXN_INVALID_FLAGS);
	}
	if (t->gtid == GH_NULL_GTID) {
		return txn_done(t, cpu, GH_TXN_INVALID_TARGET);
	}
	if (t->gtid == GH_IDLE_GTID) {
		/* Stay idle: nothing else is dispatched this round. */
		txn_finish(t, GH_TXN_COMPLETE);
		return true;
	}
	p = bpf_task_from_pid(GH_GTID_PID(t->gtid));
	if (!p) {
		return txn_done(t, cpu, GH_TXN_TARGET_NOT_FOUND);
	}
	tctx = lookup_task_ctx(p);
	outcome = txn_validate(t, cpu, p, tctx);
	/* Take the task out of custody; losing this race means it just left. */
	if (outcome == GH_TXN_COMPLETE && tctx &&
	    __sync_val_compare_and_swap(&tctx->custody, 1, 0) != 1)
		outcome = GH_TXN_TARGET_NOT_RUNNABLE;
	if (outcome == GH_TXN_COMPLETE && tctx) {
		slice = t->slice_ns ? t->slice_ns : txn_slice_ns;
		tctx->txn_commit = 1;
		tctx->picked_by_bpf = 0;
		tctx->commit_time = bpf_ktime_get_ns();
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice, 0);
	}
	bpf_task_release(p);
	return txn_done(t, cpu, outcome);
}

#endif /* GHOST_HYBRID_TRANSACTIONS_BPF_H */
