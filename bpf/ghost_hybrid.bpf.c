/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ghost_hybrid: ghOSt's scheduling-delegation model on sched_ext.
 *
 * This struct_ops scheduler plays the part of ghOSt's kernel for a
 * user-space agent (agent/), and adds an in-kernel fast path.
 *
 * a. Custody. Only tasks with policy SCHED_EXT are managed
 *    (SCX_OPS_SWITCH_PARTIAL; children inherit the policy). A runnable
 *    managed task is kept in BPF custody: ops.enqueue inserts it into no
 *    DSQ, so nothing runs it until a decision names it. Two kinds of
 *    decision exist (SCX_OPS_ENQ_LAST: even a CPU's last runnable task
 *    goes back to custody when its slice ends):
 *      - a transaction from the agent (transactions.bpf.h), applied by
 *        ops.dispatch on the target CPU after validating it against the
 *        task's Tseq, the agent's Aseq and the task's state;
 *      - with bpf_pick on, a fast-path pick: ops.dispatch on a CPU with no
 *        transaction pops the head of the BPF runqueue (runqueue.bpf.h).
 *    Either way the task is moved into that CPU's local DSQ, and
 *    ops.running sends TASK_ON_CPU, which advances the task's Tseq: an agent
 *    decision made before a fast-path pick can no longer commit.
 *
 * b. Messages (messages.bpf.h). Every state change of a managed task
 *    (enable, runnable, running, stopping, quiescent, yield, set_cpumask,
 *    set_weight, disable) becomes a message on the task's channel, in
 *    ghOSt's order: NEW, then ON_CPU / PREEMPT / YIELD / BLOCKED / WAKEUP
 *    ..., then DEAD or DEPARTED. The status word (task_sw) carries the same
 *    Tseq, readable by the agent without a syscall.
 *
 * c. Agents (agents.bpf.h). Agent threads are managed too but never
 *    queued: when runnable they run first on their own CPU; when parked
 *    they sleep on a doorbell. When a higher class takes or returns one
 *    of the enclave's CPUs, its agent is told (GH_SW_BOOST_PRIO, CPU_BUSY
 *    / CPU_AVAILABLE; cpu_owner.bpf.h). A displaced global agent runs on
 *    a successor CPU and hands the role on; a timer moves the global role
 *    off a CPU a higher class keeps.
 *
 * d. Safety. The watchdog (timeout_ms, set by the loader) ejects the
 *    scheduler if a runnable task waits too long, e.g. because the agent is
 *    stopped and the fast path is off; ops.exit records why for the loader.
 *    When the loader exits for any reason its struct_ops link closes and
 *    every managed task returns to the fair class.
 */
#include "common.bpf.h"
#include "messages.bpf.h"
#include "agents.bpf.h"
#include "runqueue.bpf.h"
#include "transactions.bpf.h"
#include "cpu_owner.bpf.h"

#define GH_TASK_RUNNING 0x0000
#define GH_TASK_NEW_STATE 0x0800

static __always_inline struct task_ctx *managed_ctx(struct task_struct *p)
{
	struct task_ctx *tctx = lookup_task_ctx(p);

	return is_managed(tctx) ? tctx : NULL;
}

/* Kicks one idle enclave CPU so that it pops the fast-path runqueue. */
static __always_inline void kick_idle_cpu(s32 hint)
{
	u32 cpu;

	if (cpu_in_enclave(hint) && scx_bpf_test_and_clear_cpu_idle(hint)) {
		scx_bpf_kick_cpu(hint, SCX_KICK_IDLE);
		return;
	}
	bpf_for(cpu, 0, nr_cpus) {
		if (cpu_in_enclave(cpu) && scx_bpf_test_and_clear_cpu_idle(cpu)) {
			scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
			return;
		}
	}
}

/* Pops runqueue records until one names a task this CPU can run now. */
static __always_inline bool fastpath_pick(s32 cpu)
{
	struct gh_rq_entry e;
	struct task_struct *p;
	struct task_ctx *tctx;
	bool ran = false;
	int i;

	for (i = 0; i < 8 && !ran; i++) {
		if (!rq_pop(&e))
			return false;
		p = e.gtid ? bpf_task_from_pid(GH_GTID_PID(e.gtid)) : NULL;
		if (!p) {
			stat_inc(GH_STAT_RQ_STALE);
			continue;
		}
		tctx = lookup_task_ctx(p);
		if (!tctx || tctx->gtid != e.gtid || tctx->enq_seq != e.enq_seq ||
		    !READ_ONCE(tctx->custody)) {
			stat_inc(GH_STAT_RQ_STALE);
		} else if (!bpf_cpumask_test_cpu(cpu, p->cpus_ptr)) {
			rq_push(e.gtid, e.enq_seq, e.flags, false);
		} else if (__sync_val_compare_and_swap(&tctx->custody, 1, 0) == 1) {
			tctx->picked_by_bpf = 1;
			tctx->txn_commit = 0;
			tctx->commit_time = bpf_ktime_get_ns();
			scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, pick_slice_ns, 0);
			stat_inc(GH_STAT_BPF_PICKS);
			ran = true;
		}
		bpf_task_release(p);
	}
	return ran;
}

/*
 * Records that the task with status word @idx now runs on @cpu. Should the
 * previous one still be marked on this CPU (a switch-out that reached no
 * ops.stopping of ours), its ONCPU flag is cleared: the agent skips tasks
 * it sees on a CPU, so a stale flag would keep that task waiting forever.
 */
static __always_inline void cpu_take_over(s32 cpu, u32 idx)
{
	struct gh_status_word *prev;
	u32 old, pidx;

	if (!cpu_valid(cpu))
		return;
	old = cpu_cur_sw[cpu & (GH_MAX_CPUS - 1)];
	cpu_cur_sw[cpu & (GH_MAX_CPUS - 1)] = idx + 1;
	if (!old || old == idx + 1)
		return;
	pidx = old - 1;
	prev = bpf_map_lookup_elem(&task_sw, &pidx);
	if (prev && prev->cpu == cpu && (READ_ONCE(prev->flags) & GH_SW_TASK_ONCPU)) {
		__sync_fetch_and_and(&prev->flags, ~GH_SW_TASK_ONCPU);
		stat_inc(GH_STAT_STALE_ONCPU);
	}
}

s32 BPF_STRUCT_OPS(ghost_hybrid_select_cpu, struct task_struct *p, s32 prev_cpu,
		   u64 wake_flags)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	bool is_idle = false;

	if (tctx && tctx->is_agent && cpu_valid(tctx->agent_cpu))
		return tctx->agent_cpu;
	if (bpf_pick && is_managed(tctx))
		return scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
	return prev_cpu;
}

void BPF_STRUCT_OPS(ghost_hybrid_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	u32 rq_flags = 0;
	bool front;

	if (tctx && tctx->is_agent) {
		agent_enqueue(p, tctx, enq_flags);
		return;
	}
	if (!is_managed(tctx)) {
		/* No status word could be given: run it like the default. */
		scx_bpf_dsq_insert(p, task_migration_disabled(p) ? SCX_DSQ_LOCAL : SCX_DSQ_GLOBAL,
				   SCX_SLICE_DFL, enq_flags);
		return;
	}
	/*
	 * Inside a migrate_disable() section (SCX_OPS_ENQ_MIGRATION_DISABLED
	 * brings it here): no other CPU can run it, so no agent decision can
	 * apply. It resumes here first, briefly, and comes back to us once it
	 * stops outside that section. Preempted, it is still on this CPU for
	 * the agent (ops.stopping sent nothing); woken, it is reported by the
	 * TASK_ON_CPU of ops.running (a commit meanwhile fails harmlessly,
	 * TARGET_NOT_RUNNABLE).
	 */
	if (task_migration_disabled(p)) {
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, pinned_resume_slice_ns,
				   enq_flags | SCX_ENQ_HEAD);
		return;
	}
	/*
	 * Queued again while the agent believes it holds a CPU: committed but
	 * taken back before it ran (ops.cpu_release's reenqueue), or dequeued
	 * by a property change while it ran. Tell the agent it is off the CPU.
	 */
	if (tctx->txn_commit || tctx->resuming) {
		tctx->txn_commit = 0;
		tctx->resuming = 0;
		send_task_off_msg(tctx, GH_MSG_TASK_PREEMPT, 0, scx_bpf_task_cpu(p), 0);
	}
	tctx->picked_by_bpf = 0;
	tctx->enq_seq++;
	WRITE_ONCE(tctx->custody, 1);
	if (!bpf_pick)
		return;
	if (enq_flags & SCX_ENQ_WAKEUP)
		rq_flags |= GH_RQ_F_WAKEUP;
	/* A task the higher class displaced keeps its place at the front. */
	front = enq_flags & SCX_ENQ_REENQ;
	if (rq_push(tctx->gtid, tctx->enq_seq, rq_flags, front))
		kick_idle_cpu(scx_bpf_task_cpu(p));
}

void BPF_STRUCT_OPS(ghost_hybrid_dequeue, struct task_struct *p, u64 deq_flags)
{
	struct task_ctx *tctx = managed_ctx(p);

	if (tctx)
		WRITE_ONCE(tctx->custody, 0);
}

void BPF_STRUCT_OPS(ghost_hybrid_dispatch, s32 cpu, struct task_struct *prev)
{
	struct gh_status_word *asw;
	struct task_ctx *pctx;

	/* Asked for work: no higher class has anything runnable here. */
	cpu_mark_free(cpu);
	if (txn_apply(cpu))
		return;
	/* An active agent that keeps running needs no company. */
	if (prev) {
		pctx = lookup_task_ctx(prev);
		asw = agent_sw_of(cpu);
		if (pctx && pctx->is_agent && pctx->runnable && asw &&
		    (READ_ONCE(asw->flags) & GH_SW_AGENT_ACTIVE))
			return;
	}
	if (bpf_pick && cpu_in_enclave(cpu))
		fastpath_pick(cpu);
}

void BPF_STRUCT_OPS(ghost_hybrid_runnable, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	struct gh_status_word *sw;
	struct gh_msg *msg;

	if (!tctx)
		return;
	tctx->runnable = 1;
	if (!is_managed(tctx))
		return;
	sw = task_sw_of(tctx);
	if (sw)
		__sync_fetch_and_or(&sw->flags, GH_SW_TASK_RUNNABLE);
	if (!(enq_flags & SCX_ENQ_WAKEUP))
		return;
	msg = task_msg_begin(tctx, GH_MSG_TASK_WAKEUP,
			     bpf_pick ? GH_MSG_F_BPF_QUEUED : 0,
			     bpf_get_smp_processor_id());
	if (!msg)
		return;
	msg->wakeup.last_ran_cpu = scx_bpf_task_cpu(p);
	msg->wakeup.wake_up_cpu = scx_bpf_task_cpu(p);
	msg->wakeup.waker_cpu = bpf_get_smp_processor_id();
	/* An ordinary wakeup: the task joins the back of the agent's queue. */
	msg->wakeup.deferrable = 1;
	task_msg_end(tctx, msg);
}

void BPF_STRUCT_OPS(ghost_hybrid_running, struct task_struct *p)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	struct gh_txn *txn;
	s32 cpu = scx_bpf_task_cpu(p);
	struct gh_status_word *sw;
	struct gh_msg *msg;
	u64 now = bpf_ktime_get_ns();

	if (!tctx)
		return;
	cpu_mark_free(cpu);
	/*
	 * Unlike ghOSt, an agent's Aseq does not advance when the agent is
	 * scheduled: only messages advance it. A per-CPU agent's local commit
	 * is validated after the agent has parked and been switched out, and
	 * must not fail AGENT_STALE because of that switch.
	 */
	if (!is_managed(tctx))
		return;
	tctx->oncpu = 1;
	tctx->run_start = now;
	if (cpu_valid(cpu))
		__sync_fetch_and_add(&cpu_seqnum[cpu & (GH_MAX_CPUS - 1)], 1);
	sw = task_sw_of(tctx);
	if (sw) {
		sw->cpu = cpu;
		sw->switch_time = now;
		__sync_fetch_and_or(&sw->flags, GH_SW_TASK_ONCPU);
	}
	cpu_take_over(cpu, tctx->sw_idx);
	/*
	 * TASK_ON_CPU, flagged BPF_PICKED for a fast-path pick, reports that
	 * the task got a CPU: by a transaction, a pick, or the kernel itself
	 * (an exiting task, or one that switched in while running). A task
	 * that continues (resuming after a property change's dequeue/enqueue
	 * while it ran) is still on the CPU for the agent: no message.
	 */
	WRITE_ONCE(tctx->custody, 0);
	if (tctx->picked_by_bpf || tctx->txn_commit || !tctx->resuming) {
		msg = task_msg_begin(tctx, GH_MSG_TASK_ON_CPU,
				     tctx->picked_by_bpf ? GH_MSG_F_BPF_PICKED : 0, cpu);
		if (msg) {
			msg->on_cpu.commit_time = tctx->commit_time;
			if (cpu_valid(cpu))
				msg->on_cpu.cpu_seqnum = cpu_seqnum[cpu & (GH_MAX_CPUS - 1)];
			task_msg_end(tctx, msg);
		}
	}
	tctx->picked_by_bpf = 0;
	tctx->txn_commit = 0;
	tctx->resuming = 0;
	/*
	 * A transaction for this CPU is waiting, but the kernel ran a task it
	 * already held in the local DSQ (dispatched earlier), and
	 * ops.dispatch only runs once that DSQ is empty: end this task's turn
	 * so that the transaction applies now rather than when it stops.
	 */
	txn = txn_of(cpu);
	if (txn && READ_ONCE(txn->state) == GH_TXN_SUBMITTED && txn->gtid != tctx->gtid)
		scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
}

void BPF_STRUCT_OPS(ghost_hybrid_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *actx = lookup_task_ctx(p);
	struct task_ctx *tctx = is_managed(actx) ? actx : NULL;

	/*
	 * An agent stopped while runnable, not yielding, with slice left was
	 * displaced by a higher class (cpu_owner.bpf.h). Zero its slice so
	 * that sched_ext hands it to ops.enqueue instead of keeping it behind
	 * the intruder; agent_enqueue then runs a displaced global agent on
	 * another CPU.
	 */
	if (actx && actx->is_agent) {
		if (runnable && !actx->yielding && p->scx.slice > 0 &&
		    !task_migration_disabled(p)) {
			p->scx.slice = 0;
			actx->displaced = 1;
			cpu_mark_held(scx_bpf_task_cpu(p), 0, true);
		}
		actx->yielding = 0;
		return;
	}
	struct gh_status_word *sw;
	s32 cpu = scx_bpf_task_cpu(p);
	u64 now = bpf_ktime_get_ns(), runtime = 0;

	if (!tctx)
		return;
	tctx->oncpu = 0;
	sw = task_sw_of(tctx);
	if (sw) {
		runtime = sw->runtime + (now - tctx->run_start);
		sw->runtime = runtime;
		sw->switch_time = now;
		__sync_fetch_and_and(&sw->flags, ~GH_SW_TASK_ONCPU);
	}
	if (!runnable) {
		/* Sleeping (ops.quiescent sends BLOCKED) or a property change
		 * that dequeues it while it runs and then resumes it. */
		tctx->resuming = 1;
		return;
	}
	/*
	 * Stopped inside a migrate_disable() section: it cannot leave this
	 * CPU, so it stays (at the head of the local DSQ, or through
	 * ops.enqueue's pinned case) and the agent keeps seeing it here. A
	 * higher class that displaced it holds the CPU meanwhile.
	 */
	if (task_migration_disabled(p)) {
		if (!tctx->yielding && p->scx.slice > 0)
			cpu_mark_held(cpu, 0, true);
		tctx->resuming = 1;
		tctx->yielding = 0;
		return;
	}
	/*
	 * Preempted with slice left: a higher class took the CPU (our own
	 * preemptions zero the slice first). sched_ext would keep the task at
	 * the head of this CPU's local DSQ until the intruder leaves; as in
	 * ghOSt, hand it back instead (zero slice: ops.enqueue, custody,
	 * PREEMPT) so the agent can run it elsewhere meanwhile.
	 */
	if (!tctx->yielding && p->scx.slice > 0) {
		p->scx.slice = 0;
		cpu_mark_held(cpu, 0, true);
	}
	send_task_off_msg(tctx, tctx->yielding ? GH_MSG_TASK_YIELD : GH_MSG_TASK_PREEMPT,
			  0, cpu, runtime);
	tctx->yielding = 0;
}

void BPF_STRUCT_OPS(ghost_hybrid_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	struct gh_status_word *sw;

	if (!tctx)
		return;
	tctx->runnable = 0;
	WRITE_ONCE(tctx->custody, 0);
	if (!is_managed(tctx))
		return;
	sw = task_sw_of(tctx);
	if (sw)
		__sync_fetch_and_and(&sw->flags, ~GH_SW_TASK_RUNNABLE);
	if (deq_flags & SCX_DEQ_SLEEP)
		tctx->resuming = 0;
	/* As in ghOSt, an exiting task's final switch-out is a BLOCKED too:
	 * TASK_DEAD then follows from ops.disable. */
	if (deq_flags & SCX_DEQ_SLEEP)
		send_task_off_msg(tctx, GH_MSG_TASK_BLOCKED, 0, scx_bpf_task_cpu(p),
				  sw ? sw->runtime : 0);
}

bool BPF_STRUCT_OPS(ghost_hybrid_yield, struct task_struct *from, struct task_struct *to)
{
	struct task_ctx *tctx = lookup_task_ctx(from);

	if (tctx && (tctx->is_agent || is_managed(tctx)))
		tctx->yielding = 1;
	/* With ops.yield present the kernel leaves the slice alone: end it. */
	from->scx.slice = 0;
	return false;
}

void BPF_STRUCT_OPS(ghost_hybrid_set_cpumask, struct task_struct *p,
		    const struct cpumask *cpumask)
{
	struct task_ctx *tctx = managed_ctx(p);
	struct gh_msg *msg;
	int i;

	u64 words[GH_CPUMASK_WORDS];
	bool changed = false;

	if (!tctx)
		return;
	/* ops.enable is followed by a report of the initial mask: not news. */
	for (i = 0; i < GH_CPUMASK_WORDS; i++) {
		words[i] = cpumask->bits[i];
		changed |= words[i] != tctx->cpumask[i];
		tctx->cpumask[i] = words[i];
	}
	if (!changed)
		return;
	msg = task_msg_begin(tctx, GH_MSG_TASK_AFFINITY_CHANGED, 0, bpf_get_smp_processor_id());
	if (!msg)
		return;
	for (i = 0; i < GH_CPUMASK_WORDS; i++)
		msg->affinity.cpumask[i] = words[i];
	task_msg_end(tctx, msg);
}

void BPF_STRUCT_OPS(ghost_hybrid_set_weight, struct task_struct *p, u32 weight)
{
	struct task_ctx *tctx = managed_ctx(p);
	struct gh_msg *msg;

	if (!tctx || tctx->weight == weight)
		return;	/* the initial report after ops.enable is not news */
	tctx->weight = weight;
	msg = task_msg_begin(tctx, GH_MSG_TASK_PRIORITY_CHANGED, 0, bpf_get_smp_processor_id());
	if (!msg)
		return;
	msg->priority.weight = weight;
	msg->priority.nice = p->static_prio - 120;
	task_msg_end(tctx, msg);
}

void BPF_STRUCT_OPS(ghost_hybrid_tick, struct task_struct *p)
{
	if (send_cpu_tick)
		send_cpu_msg(bpf_get_smp_processor_id(), GH_MSG_CPU_TICK, 0);
}

s32 BPF_STRUCT_OPS(ghost_hybrid_init_task, struct task_struct *p,
		   struct scx_init_task_args *args)
{
	if (!bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE))
		return -12; /* ENOMEM */
	return 0;
}

/* Registers @p as @cpu's agent thread. */
static __always_inline void agent_enable(struct task_ctx *tctx, s32 cpu, u32 pid)
{
	struct gh_status_word *asw = agent_sw_of(cpu);

	tctx->is_agent = 1;
	tctx->agent_cpu = cpu;
	if (asw) {
		asw->gtid = GH_GTID_MAKE(0, pid);
		asw->cpu = cpu;
		__sync_fetch_and_or(&asw->flags, GH_SW_INUSE);
	}
}

void BPF_STRUCT_OPS(ghost_hybrid_enable, struct task_struct *p)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	struct gh_status_word *sw;
	struct gh_msg *msg;
	u32 cpu, idx;
	u64 gtid;

	if (!tctx)
		return;
	bpf_for(cpu, 0, nr_cpus) {
		if (cpu < GH_MAX_CPUS && agent_pid[cpu] == p->pid) {
			agent_enable(tctx, cpu, p->pid);
			return;
		}
	}
	if (bpf_map_pop_elem(&sw_free, &idx) || idx >= GH_MAX_TASKS) {
		stat_inc(GH_STAT_SW_EXHAUSTED);
		return;	/* unmanaged: ops.enqueue runs it like the default */
	}
	gtid = GH_GTID_MAKE(__sync_add_and_fetch(&gtid_generation, 1), p->pid);
	tctx->sw_idx = idx;
	tctx->gtid = gtid;
	tctx->runnable = p->__state == GH_TASK_RUNNING || (p->__state & GH_TASK_NEW_STATE);
	tctx->weight = p->scx.weight;
	for (cpu = 0; cpu < GH_CPUMASK_WORDS; cpu++)
		tctx->cpumask[cpu] = p->cpus_ptr->bits[cpu];
	sw = task_sw_of(tctx);
	if (sw) {
		sw->barrier = 0;
		sw->gtid = gtid;
		sw->runtime = p->se.sum_exec_runtime;
		sw->switch_time = bpf_ktime_get_ns();
		sw->cpu = -1;
		WRITE_ONCE(sw->flags, GH_SW_INUSE | (tctx->runnable ? GH_SW_TASK_RUNNABLE : 0));
	}
	/*
	 * A task that switched in while running must not keep its CPU without
	 * a decision: zero its slice so that it goes through ops.enqueue.
	 */
	if (scx_bpf_task_running(p))
		scx_bpf_kick_cpu(scx_bpf_task_cpu(p), SCX_KICK_PREEMPT);
	msg = task_msg_begin(tctx, GH_MSG_TASK_NEW, bpf_pick ? GH_MSG_F_BPF_QUEUED : 0,
			     bpf_get_smp_processor_id());
	if (!msg)
		return;
	msg->task_new.runtime = p->se.sum_exec_runtime;
	msg->task_new.sw_index = idx;
	msg->task_new.runnable = tctx->runnable;
	msg->task_new.nice = p->static_prio - 120;
	task_msg_end(tctx, msg);
}

void BPF_STRUCT_OPS(ghost_hybrid_disable, struct task_struct *p)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	struct gh_status_word *sw;
	bool exiting = p->flags & GH_PF_EXITING;
	u64 gtid;
	u32 idx;

	if (!tctx)
		return;
	if (tctx->is_agent) {
		sw = agent_sw_of(tctx->agent_cpu);
		if (sw)
			__sync_fetch_and_and(&sw->flags, ~GH_SW_INUSE);
		tctx->is_agent = 0;
		return;
	}
	if (!is_managed(tctx))
		return;
	send_task_off_msg(tctx, exiting ? GH_MSG_TASK_DEAD : GH_MSG_TASK_DEPARTED,
			  tctx->oncpu ? GH_MSG_F_WAS_CURRENT : 0,
			  scx_bpf_task_cpu(p), 0);
	gtid = tctx->gtid;
	idx = tctx->sw_idx;
	sw = task_sw_of(tctx);
	if (sw)
		WRITE_ONCE(sw->flags, 0);
	bpf_map_delete_elem(&task_chan, &gtid);
	bpf_map_push_elem(&sw_free, &idx, 0);
	tctx->gtid = GH_NULL_GTID;
	tctx->custody = 0;
}

void BPF_STRUCT_OPS(ghost_hybrid_cpu_release, s32 cpu, struct scx_cpu_release_args *args)
{
	cpu_mark_held(cpu, args->reason, true);
	/* Tasks already dispatched here go back to custody (SCX_ENQ_REENQ). */
	scx_bpf_reenqueue_local();
}

void BPF_STRUCT_OPS(ghost_hybrid_cpu_acquire, s32 cpu, struct scx_cpu_acquire_args *args)
{
	cpu_mark_free(cpu);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(ghost_hybrid_init)
{
	if (abi_version != GH_ABI_VERSION)
		return -22; /* EINVAL */
	return handoff_timer_arm();
}

void BPF_STRUCT_OPS(ghost_hybrid_exit, struct scx_exit_info *ei)
{
	exit_info.kind = ei->kind;
	exit_info.exit_code = ei->exit_code;
	bpf_probe_read_kernel_str(exit_info.reason, sizeof(exit_info.reason), ei->reason);
	bpf_probe_read_kernel_str(exit_info.msg, sizeof(exit_info.msg), ei->msg);
}

SEC(".struct_ops.link")
struct sched_ext_ops ghost_hybrid_ops = {
	.select_cpu = (void *)ghost_hybrid_select_cpu,
	.enqueue = (void *)ghost_hybrid_enqueue,
	.dequeue = (void *)ghost_hybrid_dequeue,
	.dispatch = (void *)ghost_hybrid_dispatch,
	.runnable = (void *)ghost_hybrid_runnable,
	.running = (void *)ghost_hybrid_running,
	.stopping = (void *)ghost_hybrid_stopping,
	.quiescent = (void *)ghost_hybrid_quiescent,
	.yield = (void *)ghost_hybrid_yield,
	.set_cpumask = (void *)ghost_hybrid_set_cpumask,
	.set_weight = (void *)ghost_hybrid_set_weight,
	.tick = (void *)ghost_hybrid_tick,
	.init_task = (void *)ghost_hybrid_init_task,
	.enable = (void *)ghost_hybrid_enable,
	.disable = (void *)ghost_hybrid_disable,
	.cpu_release = (void *)ghost_hybrid_cpu_release,
	.cpu_acquire = (void *)ghost_hybrid_cpu_acquire,
	.init = (void *)ghost_hybrid_init,
	.exit = (void *)ghost_hybrid_exit,
	.flags = SCX_OPS_SWITCH_PARTIAL | SCX_OPS_ENQ_LAST | SCX_OPS_ENQ_MIGRATION_DISABLED,
	.timeout_ms = 5000,
	.name = "ghost_hybrid",
};
