/* SPDX-License-Identifier: GPL-2.0 */
/*
 * runqueue.bpf.h: the fast path's FIFO. With bpf_pick on, every managed
 * task that becomes runnable is appended here (preempted tasks go to the
 * front, as the centralized FIFO requeues them), and a CPU with nothing
 * committed pops the head (see fastpath_pick in ghost_hybrid.bpf.c).
 *
 * The queue is one array-map value, struct gh_runqueue: a ring of typed
 * records in [head, tail) under one bpf_spin_lock, so `bpftool map dump
 * name runqueue` prints every record, and the agent's reorder program
 * (gh_rq_op: requeue front/back, remove) and BPF never interleave.
 * Records are not removed when their task leaves BPF custody; a popped
 * record whose task is gone or was re-enqueued since (enq_seq differs), or
 * a tombstone left by a reorder (gtid 0), is stale and skipped.
 */
#ifndef GHOST_HYBRID_RUNQUEUE_BPF_H
#define GHOST_HYBRID_RUNQUEUE_BPF_H

#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct gh_runqueue);
} runqueue SEC(".maps");

#define RQ_MASK (GH_RQ_SIZE - 1)

static __always_inline struct gh_runqueue *rq_get(void)
{
	u32 zero = 0;

	return bpf_map_lookup_elem(&runqueue, &zero);
}

/* Appends (or prepends, @front) a record; false if the queue is full. */
static __always_inline bool rq_push_locked(struct gh_runqueue *rq,
					   struct gh_rq_entry *e, bool front)
{
	u32 idx;

	if (rq->tail - rq->head >= GH_RQ_SIZE)
		return false;
	if (front) {
		rq->head--;
		idx = rq->head & RQ_MASK;
	} else {
		idx = rq->tail & RQ_MASK;
		rq->tail++;
	}
	rq->entries[idx] = *e;
	return true;
}

static __always_inline bool rq_push(u64 gtid, u32 enq_seq, u32 flags, bool front)
{
	struct gh_runqueue *rq = rq_get();
	struct gh_rq_entry e = {
		.gtid = gtid,
		.enqueue_time = bpf_ktime_get_ns(),
		.flags = flags,
		.enq_seq = enq_seq,
	};
	bool ok;

	if (!rq)
		return false;
	bpf_spin_lock(&rq->lock);
	ok = rq_push_locked(rq, &e, front);
	bpf_spin_unlock(&rq->lock);
	if (!ok)
		stat_inc(GH_STAT_RQ_FULL);
	return ok;
}

/* Pops the head record into @out; false if empty. */
static __always_inline bool rq_pop(struct gh_rq_entry *out)
{
	struct gh_runqueue *rq = rq_get();
	bool ok = false;

	if (!rq)
		return false;
	bpf_spin_lock(&rq->lock);
	if (rq->head != rq->tail) {
		*out = rq->entries[rq->head & RQ_MASK];
		rq->entries[rq->head & RQ_MASK].gtid = GH_NULL_GTID;
		rq->head++;
		ok = true;
	}
	bpf_spin_unlock(&rq->lock);
	return ok;
}

/*
 * Removes the first record for @gtid, copying it to @out: the slot becomes
 * a tombstone (gtid 0) that rq_pop hands out as stale. Linear in the queue
 * length; the agent calls it for reorders, not on every decision.
 */
static __always_inline bool rq_remove_locked(struct gh_runqueue *rq, u64 gtid,
					     struct gh_rq_entry *out)
{
	u32 n = rq->tail - rq->head, i, idx;

	for (i = 0; i < GH_RQ_SIZE && i < n; i++) {
		idx = (rq->head + i) & RQ_MASK;
		if (rq->entries[idx].gtid == gtid) {
			*out = rq->entries[idx];
			rq->entries[idx].gtid = GH_NULL_GTID;
			return true;
		}
	}
	return false;
}

/* Reorders the runqueue for the agent: requeue at front/back, or remove. */
SEC("syscall")
int gh_rq_op(struct gh_rq_op_args *args)
{
	struct gh_runqueue *rq = rq_get();
	struct gh_rq_entry e = {};
	bool found, ok = true;

	if (!rq)
		return 0;
	bpf_spin_lock(&rq->lock);
	found = rq_remove_locked(rq, args->gtid, &e);
	if (found && args->op == GH_RQ_OP_REQUEUE_FRONT) {
		e.flags |= GH_RQ_F_PRIO_BOOST;
		ok = rq_push_locked(rq, &e, true);
	} else if (found && args->op == GH_RQ_OP_REQUEUE_BACK) {
		e.flags |= GH_RQ_F_YIELD;
		ok = rq_push_locked(rq, &e, false);
	}
	bpf_spin_unlock(&rq->lock);
	args->result = !found ? -2 /* ENOENT */ : ok ? 0 : -28 /* ENOSPC */;
	return 0;
}

#endif /* GHOST_HYBRID_RUNQUEUE_BPF_H */
