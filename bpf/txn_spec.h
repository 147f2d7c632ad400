/* SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0 */
/*
 * txn_spec.h: what a transaction's outcome is, defined once.
 *
 * Both kernel sides compile this: the BPF commit program
 * (bpf/transactions.bpf.h) and the simulator (agent/sim/sim_txn.cc). Each
 * gathers the facts below about the slot's CPU and target from its own
 * state, and gh_txn_outcome() turns them into the outcome, checking in one
 * order: the first failure wins. What a COMPLETE does (move the task into
 * the CPU's local DSQ, or run it in the simulator) stays with each side.
 *
 *   CPU outside the enclave, or held by a higher class  CPU_UNAVAIL
 *   gtid 0                                              INVALID_TARGET
 *   no such task (exited, or pid reused: gtid differs)  TARGET_NOT_FOUND
 *   commit or run flag bits outside the ABI             INVALID_FLAGS
 *   agent barrier checked and != the agent's Aseq       AGENT_STALE
 *   GH_IDLE_GTID                                        COMPLETE (the CPU's
 *                                      managed task is preempted; nothing
 *                                      is moved there, so it goes idle)
 *   task barrier != the task's Tseq                     TARGET_STALE
 *   task on a CPU                                       TARGET_ONCPU, or
 *                                      COMPLETE with GH_ALLOW_TASK_ONCPU
 *                                      if that CPU is the slot's
 *   task waits in the fast path's queue (claim it)      NOT_PERMITTED
 *   task neither on a CPU nor waiting                   TARGET_NOT_RUNNABLE
 *   the slot's CPU is not in the task's affinity        INVALID_CPU
 *   task inside migrate_disable() on another CPU        CPU_UNAVAIL
 *   otherwise                                           COMPLETE
 */
#ifndef GHOST_HYBRID_TXN_SPEC_H
#define GHOST_HYBRID_TXN_SPEC_H

#include "intf.h"

#ifdef __bpf__
#define GH_SPEC_INLINE static __always_inline
#else
#define GH_SPEC_INLINE static inline
#endif

/* The facts one slot is validated against; fields after target_found are
 * read only when the target was found. */
struct gh_txn_facts {
	__u8 cpu_usable;		/* in the enclave, no higher class on it */
	__u8 target_found;		/* a live managed task has this gtid */
	__u8 agent_barrier_current;	/* the CPU's agent Aseq == slot's */
	__u8 task_barrier_current;	/* the task's Tseq == slot's */
	__u8 on_cpu;			/* the task runs on some CPU */
	__u8 on_this_cpu;		/* ... on the slot's CPU */
	__u8 fast_path_owned;		/* it waits in the fast path's queue */
	__u8 runnable;			/* it waits to run (not asleep) */
	__u8 cpu_allowed;		/* the slot's CPU is in its affinity */
	__u8 pinned_elsewhere;		/* migrate_disable()d on another CPU */
};

GH_SPEC_INLINE __u32 gh_txn_outcome(const struct gh_txn *t, const struct gh_txn_facts *f)
{
	if (!f->cpu_usable)
		return GH_TXN_CPU_UNAVAIL;
	if (t->gtid == GH_NULL_GTID)
		return GH_TXN_INVALID_TARGET;
	if (t->gtid != GH_IDLE_GTID && !f->target_found)
		return GH_TXN_TARGET_NOT_FOUND;
	if ((t->commit_flags & ~(__u32)GH_COMMIT_FLAGS_ALL) ||
	    (t->run_flags & ~(__u32)GH_RUN_FLAGS_ALL))
		return GH_TXN_INVALID_FLAGS;
	if (t->check_agent_barrier && !f->agent_barrier_current)
		return GH_TXN_AGENT_STALE;
	if (t->gtid == GH_IDLE_GTID)
		return GH_TXN_COMPLETE;
	if (!f->task_barrier_current)
		return GH_TXN_TARGET_STALE;
	if (f->on_cpu)
		return (t->commit_flags & GH_ALLOW_TASK_ONCPU) && f->on_this_cpu ?
			       GH_TXN_COMPLETE : GH_TXN_TARGET_ONCPU;
	if (f->fast_path_owned)
		return GH_TXN_NOT_PERMITTED;
	if (!f->runnable)
		return GH_TXN_TARGET_NOT_RUNNABLE;
	if (!f->cpu_allowed)
		return GH_TXN_INVALID_CPU;
	if (f->pinned_elsewhere)
		return GH_TXN_CPU_UNAVAIL;
	return GH_TXN_COMPLETE;
}

#endif /* GHOST_HYBRID_TXN_SPEC_H */
