/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * runqueue.bpf.h: custody of runnable managed tasks, and the fast path.
 *
 * A runnable managed task that is not on a CPU waits in exactly one of two
 * dispatch queues (DSQs), and the DSQ is its owner (invariant 7):
 *
 *   GH_DSQ_AGENT  the agent's. Nothing in the kernel consumes it: a task
 *                 leaves it only when a commit (transactions.bpf.h) moves it
 *                 into a CPU's local DSQ, or the agent releases it.
 *   GH_DSQ_BPF    the fast path's (--bpf-pick), a FIFO that every enclave
 *                 CPU with nothing else to run pops in ops.dispatch. The
 *                 agent decides for such a task only after claiming it.
 *
 * A persistent scheduler (--persist) with no agent attached runs on the
 * fast path alone (agentless()): new arrivals join GH_DSQ_BPF and what the
 * departed agent left in GH_DSQ_AGENT is popped too. An agent that
 * attaches claims the tasks still waiting in GH_DSQ_BPF.
 *
 * Moving a task between DSQs is atomic in the kernel (scx_bpf_dsq_move
 * fails if the task left the source meanwhile), so the two deciders can
 * never both run the same task, and no lock of ours is needed.
 *
 * The `runqueue` hash map mirrors the queues for inspection: one typed
 * record per queued task (gtid, owner, since when, why), for `bpftool map
 * dump name runqueue`. It is bookkeeping only; the DSQs are the truth. A
 * timer refreshes it every GH_RQ_MIRROR_NS (runqueue_mirror_refresh)
 * rather than each enqueue and dequeue: a hash update and delete per
 * queued task cost about 3 us of every hand-over in the guest
 * (bench/latency/FINDINGS.md, the twelfth run), for a view only people
 * read.
 *
 * The fast path: a woken task that finds an idle CPU and an empty fast
 * queue goes straight to that CPU from ops.select_cpu (as scx_simple
 * does); otherwise it joins GH_DSQ_BPF and one idle CPU is kicked: the one
 * select_cpu claimed, else the first idle enclave CPU. A CPU that pops the
 * queue takes a task that waits for it near the head before the head
 * itself (fast_pick_own), so that threads handing work to each other stay
 * on one CPU.
 */
#ifndef GHOST_HYBRID_RUNQUEUE_BPF_H
#define GHOST_HYBRID_RUNQUEUE_BPF_H

#include "common.bpf.h"
#include "messages.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GH_MAX_TASKS);
	__type(key, u64);	/* gtid */
	__type(value, struct gh_rq_entry);
} runqueue SEC(".maps");

/* Moves the count of a task waiting in @from's DSQ to @to's (nr_owned). */
static __always_inline void owned_count_move(u32 from, u32 to)
{
	if (from == to)
		return;
	if (from)
		__sync_fetch_and_add(&nr_owned[from & 3], -1);
	if (to)
		__sync_fetch_and_add(&nr_owned[to & 3], 1);
}

/* Records that @tctx now waits in @owner's DSQ, since @now. */
static __always_inline void custody_record(struct task_ctx *tctx, u32 owner, u32 flags, u64 now)
{
	owned_count_move(__sync_lock_test_and_set(&tctx->owner, owner), owner);
	tctx->queued_at = now;
	tctx->rq_flags = flags;
	/* What runs it next: a pick (ON_CPU says BPF_PICKED) or a commit. */
	tctx->picked_by_bpf = owner == GH_OWNER_BPF;
}

/*
 * @tctx left its DSQ: it runs, sleeps, or is gone. There is no ops.dequeue
 * (each is a callback and a task lookup per hand-over): a task a CPU took
 * into its local DSQ counts as its owner's until it runs there (or comes
 * back through ops.enqueue, which records it afresh), a moment later.
 */
static __always_inline void custody_end(struct task_ctx *tctx)
{
	if (READ_ONCE(tctx->owner))
		owned_count_move(__sync_lock_test_and_set(&tctx->owner, GH_OWNER_NONE),
				 GH_OWNER_NONE);
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct periodic_timer);
} rq_mirror_timers SEC(".maps");

/*
 * The gtids the map holds (at most GH_RQ_MIRROR_MAX: every record written
 * is listed here), so that a refresh drops those no longer queued by
 * looking at them alone: a walk of the hash map visits every one of its
 * GH_MAX_TASKS buckets, about 0.5 ms in the guest, every 10 ms, on one CPU.
 * Global, not static, and 8 bytes wide: the skeleton's bss struct must
 * cover .bss exactly (dump.cc and --attach compare their sizes).
 */
__u64 mirror_gtids[GH_RQ_MIRROR_MAX];
__u64 mirror_nr;

/* Lists @gtid among the records the map holds, if there is room. */
static __always_inline void mirror_list(u64 gtid)
{
	u64 n = mirror_nr;

	if (n < GH_RQ_MIRROR_MAX) {
		mirror_gtids[n] = gtid;
		mirror_nr = n + 1;
	}
}

/* True if @gtid's task still waits in an owner's DSQ. */
static __always_inline bool still_queued(u64 gtid)
{
	struct task_struct *p = bpf_task_from_pid(GH_GTID_PID(gtid));
	struct task_ctx *tctx;
	bool queued = false;

	if (p) {
		tctx = lookup_task_ctx(p);
		queued = tctx && tctx->gtid == gtid && READ_ONCE(tctx->owner) != GH_OWNER_NONE;
		bpf_task_release(p);
	}
	return queued;
}

/* Writes the record of every task waiting in DSQ @dsq (new ones while there is room). */
static __always_inline void rq_mirror_add(u64 dsq)
{
	struct bpf_iter_scx_dsq it;
	struct gh_rq_entry e = {};
	struct task_struct *p;
	struct task_ctx *tctx;

	bpf_rcu_read_lock();
	if (bpf_iter_scx_dsq_new(&it, dsq, 0) == 0) {
		while ((p = bpf_iter_scx_dsq_next(&it))) {
			tctx = lookup_task_ctx(p);
			if (!is_managed(tctx))
				continue;
			e.gtid = tctx->gtid;
			e.enqueue_time = tctx->queued_at;
			e.flags = tctx->rq_flags;
			e.owner = READ_ONCE(tctx->owner);
			if (bpf_map_update_elem(&runqueue, &e.gtid, &e, BPF_EXIST) == 0)
				continue;	/* listed already */
			/* No record the list would not hold. */
			if (mirror_nr < GH_RQ_MIRROR_MAX &&
			    bpf_map_update_elem(&runqueue, &e.gtid, &e, BPF_NOEXIST) == 0)
				mirror_list(e.gtid);
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	bpf_rcu_read_unlock();
}

/* Makes the `runqueue` map show what waits in the two owners' DSQs now. */
static int runqueue_mirror_refresh(void *map, int *key, struct bpf_timer *timer)
{
	u32 i, n = mirror_nr;
	u64 gtid;

	/* The kept ones move to the front; the cursor lives in memory, where
	 * the verifier need not follow each value it takes. */
	mirror_nr = 0;
	bpf_for(i, 0, n) {
		if (i >= GH_RQ_MIRROR_MAX)
			break;
		gtid = mirror_gtids[i];
		if (still_queued(gtid))
			mirror_list(gtid);
		else
			bpf_map_delete_elem(&runqueue, &gtid);
	}
	rq_mirror_add(GH_DSQ_AGENT);
	rq_mirror_add(GH_DSQ_BPF);
	bpf_timer_start(timer, GH_RQ_MIRROR_NS, 0);
	return 0;
}

/* Starts the mirror's timer; called from ops.init. */
static __always_inline s32 runqueue_mirror_arm(void)
{
	return periodic_timer_arm(&rq_mirror_timers, runqueue_mirror_refresh, GH_RQ_MIRROR_NS);
}

/*
 * Stamps @p's arrival in the fast queue where fast_pick_own can read it
 * without a task-storage lookup: in p->scx.dsq_vtime, which only vtime
 * (priority) DSQs use, on the scheduler clock, a few loads where
 * bpf_ktime_get_ns() reads the clock source. A task the agent releases
 * to the queue keeps its older stamp: it is passed over less, not more.
 */
static __always_inline void fast_queue_stamp(struct task_struct *p)
{
	p->scx.dsq_vtime = scx_bpf_now();
}

/* True if the fast queue's head @head has waited longer than a pick slice. */
static __always_inline bool fast_queue_head_aged(struct task_struct *head)
{
	return scx_bpf_now() - head->scx.dsq_vtime > pick_slice_ns;
}

/*
 * Kicks one idle enclave CPU so that it pops the fast path's queue: the
 * one select_cpu claimed (@claimed), else the first idle one. Not after a
 * wakeup whose select_cpu just found every allowed CPU busy: a second look
 * would find the same, at several kfunc calls per wakeup (like
 * scx_simple, whose enqueue kicks nothing, the task waits for the next CPU
 * that looks for work).
 */
static __always_inline void kick_idle_cpu(s32 claimed)
{
	u32 cpu;

	if (claimed == GH_CLAIM_NONE_IDLE)
		return;
	/* select_cpu already took this one out of the idle mask for us. */
	if (cpu_in_enclave(claimed)) {
		scx_bpf_kick_cpu(claimed, SCX_KICK_IDLE);
		return;
	}
	bpf_for(cpu, 0, nr_cpus) {
		if (cpu_in_enclave(cpu) && scx_bpf_test_and_clear_cpu_idle(cpu)) {
			scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
			return;
		}
	}
}

/*
 * ops.enqueue for a managed task: into its owner's DSQ, at @now. @front: it
 * was displaced by a higher class and keeps its place at the head.
 */
static __always_inline void custody_enqueue(struct task_struct *p, struct task_ctx *tctx,
					    u64 enq_flags, bool front, s32 claimed_cpu, u64 now)
{
	u32 flags = (enq_flags & SCX_ENQ_WAKEUP) ? GH_RQ_F_WAKEUP : 0;
	bool fast = fast_path_on();

	if (front)
		flags |= GH_RQ_F_PREEMPTED;
	tctx->slice_ns = 0;	/* the next decision gives it a slice */
	custody_record(tctx, fast ? GH_OWNER_BPF : GH_OWNER_AGENT, flags, now);
	if (fast)
		fast_queue_stamp(p);
	scx_bpf_dsq_insert(p, fast ? GH_DSQ_BPF : GH_DSQ_AGENT, pick_slice_ns,
			   front ? SCX_ENQ_HEAD : 0);
	if (fast)
		kick_idle_cpu(claimed_cpu);
}

/*
 * True if the kernel's choice @cpu is this CPU with a task running on it:
 * a sync wakeup (pipes, sockets), for which the kernel offers the waker's
 * own CPU when some other CPU is idle and the waker's local DSQ is empty,
 * the waker being about to sleep. That CPU is busy, not idle: claimed and
 * kicked with SCX_KICK_IDLE it would do nothing, and the idle one would
 * stay idle. (A wakeup from an interrupt on an idle CPU runs with the idle
 * task, pid 0, as current: that CPU is idle, and claims itself.)
 */
static __always_inline bool waker_cpu_offered(s32 cpu)
{
	return cpu == bpf_get_smp_processor_id() && (u32)bpf_get_current_pid_tgid() != 0;
}

/*
 * ops.select_cpu's fast path: returns the CPU to wake @p on; on an idle
 * CPU with nothing queued ahead of it, @p is inserted there directly and
 * *@direct set.
 */
static __always_inline s32 fast_select_cpu(struct task_struct *p, s32 prev_cpu,
					   u64 wake_flags, bool *direct, s32 *claimed)
{
	bool is_idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);

	*direct = false;
	*claimed = is_idle ? GH_CLAIM_NONE : GH_CLAIM_NONE_IDLE;
	if (!is_idle || !cpu_in_enclave(cpu))
		return cpu;
	if (owned_queued(GH_OWNER_BPF) <= 0) {
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, pick_slice_ns, 0);
		*direct = true;
	} else if (!waker_cpu_offered(cpu)) {
		*claimed = cpu;
	}
	return cpu;
}

/*
 * Moves here the first of the fast queue's GH_FAST_PICK_OWN_DEPTH oldest
 * tasks whose CPU is @cpu: one that last ran here, or that select_cpu
 * woke for this CPU. Returns false if there is none, or if the head has
 * waited longer than a pick slice (then the head goes first: no task is
 * passed over for longer than a running task keeps its CPU). With fewer
 * than two tasks waiting there is nothing to choose: it looks at none.
 *
 * Why: a woken task joins the queue while its waker still runs, and the
 * waker, about to sleep (a request handed over), frees the CPU a moment
 * later. Popping the head there runs whatever another CPU queued first,
 * and the woken task on a third CPU: each such pick splits a pair of
 * threads that hand work back and forth into a pair that does so across
 * CPUs, with a cold cache and an IPI per hand-over from then on. Under
 * wakebench this cut our tasks' migrations from about 1,700 to 340 per
 * run (bench/latency/FINDINGS.md, the eleventh run).
 */
static __always_inline bool fast_pick_own(s32 cpu)
{
	struct task_struct *p, *head = NULL;
	struct bpf_iter_scx_dsq it;
	bool moved = false;
	u32 depth = 0;

	if (owned_queued(GH_OWNER_BPF) < 2)
		return false;
	bpf_rcu_read_lock();
	if (bpf_iter_scx_dsq_new(&it, GH_DSQ_BPF, 0) == 0) {
		while ((p = bpf_iter_scx_dsq_next(&it)) && depth++ < GH_FAST_PICK_OWN_DEPTH) {
			if (scx_bpf_task_cpu(p) != cpu) {
				head = head ?: p;
				continue;
			}
			/* Passing over the head: only if it has not waited a slice. */
			if (!head || !fast_queue_head_aged(head))
				moved = scx_bpf_dsq_move(&it, p, SCX_DSQ_LOCAL, 0);
			break;
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	bpf_rcu_read_unlock();
	return moved;
}

/*
 * ops.dispatch's fast path: runs a task of the fast queue here, this
 * CPU's own if one waits near the head (fast_pick_own), else the head. With no
 * agent attached, the tasks the departed agent left in its own queue go
 * first: they have waited longest, and the fast queue, refilled by every
 * slice that ends, may never be empty (ops.running counts them as picks).
 */
static __always_inline bool fast_pick(s32 cpu)
{
	if (!cpu_in_enclave(cpu))
		return false;
	if (agentless() && scx_bpf_dsq_move_to_local(GH_DSQ_AGENT))
		return true;
	return fast_pick_own(cpu) || scx_bpf_dsq_move_to_local(GH_DSQ_BPF);
}

/*
 * The last agent thread is gone from a persistent scheduler: wake every
 * idle enclave CPU, so that the tasks waiting for a decision run at once.
 */
static __always_inline void handover_to_fast_path(void)
{
	u32 cpu;

	bpf_for(cpu, 0, nr_cpus) {
		if (cpu_in_enclave(cpu))
			scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
	}
}

/*
 * Moves @gtid's task from DSQ @from to DSQ @to if it is still there.
 * Returns true if it moved.
 */
static __always_inline bool custody_move(u64 gtid, u64 from, u64 to, u32 owner, u32 flags)
{
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	struct task_ctx *tctx;
	bool moved = false;

	p = bpf_task_from_pid(GH_GTID_PID(gtid));
	if (!p)
		return false;
	tctx = lookup_task_ctx(p);
	/* The iterator first: a task queued after it started cannot move. */
	bpf_rcu_read_lock();
	if (bpf_iter_scx_dsq_new(&it, from, 0) == 0 && tctx && tctx->gtid == gtid &&
	    scx_bpf_dsq_move(&it, p, to, 0)) {
		custody_record(tctx, owner, flags, bpf_ktime_get_ns());
		moved = true;
	}
	bpf_iter_scx_dsq_destroy(&it);
	bpf_rcu_read_unlock();
	bpf_task_release(p);
	return moved;
}

/*
 * A task that has waited in the agent's DSQ for forgotten_after_ns is one
 * its agent no longer accounts for (none should wait that long; one did
 * after a hand-over, and the watchdog ejected the scheduler). It is
 * handed to the agent's recovery from lost messages: its status word
 * counts a loss and its agent is woken, so the agent resyncs it from the
 * word (runnable, not on a CPU) and decides for it. Once per
 * forgotten_after_ns per task; from the periodic timer (agents.bpf.h).
 */
static __always_inline void forgotten_task_nudge(void)
{
	struct bpf_iter_scx_dsq it;
	struct gh_status_word *sw;
	struct task_struct *p;
	struct task_ctx *tctx;
	u64 now = bpf_ktime_get_ns();

	if (agentless())
		return;	/* the fast path pops that DSQ itself */
	bpf_rcu_read_lock();
	if (bpf_iter_scx_dsq_new(&it, GH_DSQ_AGENT, 0) == 0) {
		while ((p = bpf_iter_scx_dsq_next(&it))) {
			tctx = lookup_task_ctx(p);
			if (!is_managed(tctx) || now - tctx->queued_at < forgotten_after_ns ||
			    now - tctx->nudged_at < forgotten_after_ns)
				continue;
			sw = task_sw_of(tctx);
			if (!sw)
				continue;
			tctx->nudged_at = now;
			/* As for a dropped message: the count, then the wakeup. */
			__sync_fetch_and_add(&sw->msgs_lost, 1);
			stat_inc(GH_STAT_FORGOTTEN_NUDGES);
			agent_note_message(sw->channel, true);
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	bpf_rcu_read_unlock();
}

/*
 * The agent's ownership requests (enum gh_rq_op): CLAIM a task from the
 * fast path's queue into its own, or RELEASE one of its own to the back of
 * the fast path's queue. result -ENOENT: the task was not waiting there.
 */
SEC("syscall")
int gh_rq_op(struct gh_rq_op_args *args)
{
	bool ok = false;

	if (args->op == GH_RQ_OP_CLAIM)
		ok = custody_move(args->gtid, GH_DSQ_BPF, GH_DSQ_AGENT, GH_OWNER_AGENT,
				  GH_RQ_F_CLAIMED);
	else if (args->op == GH_RQ_OP_RELEASE)
		ok = custody_move(args->gtid, GH_DSQ_AGENT, GH_DSQ_BPF, GH_OWNER_BPF, 0);
	if (ok && args->op == GH_RQ_OP_RELEASE)
		kick_idle_cpu(GH_CLAIM_NONE);
	args->result = ok ? 0 : -ENOENT;
	return 0;
}

#endif /* GHOST_HYBRID_RUNQUEUE_BPF_H */
