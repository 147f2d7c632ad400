/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ghost_hybrid: ghOSt's scheduling-delegation model on sched_ext.
 *
 * This struct_ops scheduler plays the part of ghOSt's kernel for a
 * user-space agent (agent/), and adds an in-kernel fast path.
 *
 * a. Custody (runqueue.bpf.h). Only tasks with policy SCHED_EXT are
 *    managed (SCX_OPS_SWITCH_PARTIAL; children inherit the policy). A
 *    runnable managed task waits in its owner's DSQ: the agent's, which
 *    nothing in the kernel consumes, or with bpf_pick the fast path's FIFO,
 *    which every enclave CPU with nothing else pops in ops.dispatch. Two
 *    kinds of decision run a task:
 *      - a transaction from the agent (transactions.bpf.h): the commit
 *        program validates it against the task's Tseq, the agent's Aseq
 *        and the task's state, and moves the task into the target CPU's
 *        local DSQ inside the call, so the agent knows every outcome when
 *        the call returns;
 *      - with bpf_pick on, a fast-path pick: a woken task goes straight to
 *        an idle CPU from ops.select_cpu when nothing waits ahead of it,
 *        else a CPU with nothing to run pops the fast path's FIFO (a task
 *        that waits for that very CPU near the head first).
 *    Either way ops.running sends TASK_ON_CPU, which advances the task's
 *    Tseq: an agent decision made before a fast-path pick cannot commit.
 *    Slices are the kernel's: a committed or picked task runs for its
 *    slice (the transaction's, or pick_slice_ns); ops.dispatch renews it
 *    when nobody waits, else the task goes back to its owner's queue and
 *    the agent gets TASK_PREEMPT with GH_MSG_F_SLICE_ENDED.
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
 *
 * e. Persistence (--persist). The loader pins the link, so the scheduler
 *    outlives its agent. When the last agent thread exits (a crash, a
 *    SIGKILL, or a planned --detach), the fast path runs every managed
 *    task (agentless()) until another agent attaches (ghost_hybrid
 *    --attach) and takes its tasks over from their status words. The
 *    watchdog stays armed throughout.
 */
#include "common.bpf.h"
#include "messages.bpf.h"
#include "cpu_owner.bpf.h"
#include "runqueue.bpf.h"
#include "transactions.bpf.h"
#include "agents.bpf.h"
#include "status_words.bpf.h"
#include "exit_dump.bpf.h"

#define GH_TASK_RUNNING 0x0000
#define GH_TASK_NEW_STATE 0x0800

static __always_inline struct task_ctx *managed_ctx(struct task_struct *p)
{
	struct task_ctx *tctx = lookup_task_ctx(p);

	return is_managed(tctx) ? tctx : NULL;
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
	old = cpu_state_of(cpu)->cur_sw;
	cpu_state_of(cpu)->cur_sw = idx + 1;
	if (!old || old == idx + 1)
		return;
	pidx = old - 1;
	prev = bpf_map_lookup_elem(&task_sw, &pidx);
	if (prev && prev->cpu == cpu && (READ_ONCE(prev->flags) & GH_SW_TASK_ONCPU)) {
		__sync_fetch_and_and(&prev->flags, ~GH_SW_TASK_ONCPU);
		stat_inc(GH_STAT_STALE_ONCPU);
	}
}

/* The message flags of an off-CPU or wakeup event under the fast path. */
static __always_inline u32 queued_flag(void)
{
	return fast_path_on() ? GH_MSG_F_BPF_QUEUED : 0;
}

/*
 * Sends the TASK_NEW or TASK_WAKEUP that waited for the task to be queued:
 * an agent that reads it can then commit the task at once (sent earlier, a
 * commit racing the enqueue would fail TARGET_NOT_RUNNABLE). Called with
 * the task's runqueue locked, so no CPU can run it before this is out.
 */
static __always_inline void news_flush(struct task_ctx *tctx, struct task_struct *p, u64 now)
{
	struct gh_status_word *sw;
	u16 type = tctx->news_pending;

	tctx->news_pending = 0;
	if (type == GH_MSG_TASK_NEW) {
		send_task_new_msg(tctx, p, queued_flag(), tctx->sw_idx);
	} else if (type == GH_MSG_TASK_WAKEUP) {
		send_wakeup_msg(tctx, p, queued_flag(), tctx->waker_cpu, now);
	} else if (type == GH_MSG_TASK_PREEMPT || type == GH_MSG_TASK_YIELD) {
		sw = task_sw_of(tctx);
		send_task_off_msg(tctx, type, tctx->news_flags, scx_bpf_task_cpu(p),
				  sw ? sw->runtime : 0, now);
	}
}

/* Holds back an off-CPU message until the task is queued (news_flush). */
static __always_inline void news_defer(struct task_ctx *tctx, u16 type, u32 flags)
{
	tctx->news_pending = type;
	tctx->news_flags = flags;
}

/*
 * @p became runnable. There is no ops.runnable (a callback and a task
 * lookup per wakeup): the first of ops.select_cpu's direct pick,
 * ops.enqueue and ops.running to see the task runnable (tctx->runnable
 * clear: ops.quiescent clears it) does its work. A wakeup's TASK_WAKEUP
 * goes out once the task is queued (news_flush), on @waker_cpu's account.
 */
static __always_inline void note_runnable(struct task_ctx *tctx, bool wakeup, s32 waker_cpu)
{
	struct gh_status_word *sw;

	tctx->runnable = 1;
	if (!is_managed(tctx))
		return;
	sw = task_sw_of(tctx);
	if (sw)
		__sync_fetch_and_or(&sw->flags, GH_SW_TASK_RUNNABLE);
	if (wakeup) {
		tctx->news_pending = GH_MSG_TASK_WAKEUP;
		tctx->waker_cpu = waker_cpu;
	}
}

s32 BPF_STRUCT_OPS(ghost_hybrid_select_cpu, struct task_struct *p, s32 prev_cpu,
		   u64 wake_flags)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	s32 cpu, claimed, self = bpf_get_smp_processor_id();
	bool direct;

	if (tctx && tctx->is_agent && cpu_valid(tctx->agent_cpu))
		return tctx->agent_cpu;
	if (!is_managed(tctx))
		return prev_cpu;
	if (!fast_path_on()) {
		/*
		 * The centralized agent will place it: queue it where the
		 * waker runs, so that no idle CPU is woken just to hand it to
		 * the agent. (A per-CPU agent runs it on its own CPU.)
		 */
		if (resume_after_agent && bpf_cpumask_test_cpu(self, p->cpus_ptr))
			return self;
		return prev_cpu;
	}
	cpu = fast_select_cpu(p, prev_cpu, wake_flags, &direct, &claimed);
	tctx->claimed_cpu = claimed;
	if (direct) {
		/* On a CPU already: no ops.enqueue follows to send the news. */
		tctx->picked_by_bpf = 1;
		stat_inc(GH_STAT_DIRECT_PICKS);
		if (!tctx->runnable) {
			note_runnable(tctx, false, self);
			if (wake_flags & SCX_WAKE_TTWU)
				send_wakeup_msg(tctx, p, queued_flag(), self, bpf_ktime_get_ns());
		}
	}
	return cpu;
}

static __always_inline void enqueue_managed(struct task_struct *p, struct task_ctx *tctx,
					    u64 enq_flags, u64 now)
{
	bool in_enclave;
	s32 claimed;

	/*
	 * Inside a migrate_disable() section (SCX_OPS_ENQ_MIGRATION_DISABLED
	 * brings it here): no other CPU can run it, so no agent decision can
	 * apply. It resumes here first, briefly, and comes back to us once it
	 * stops outside that section. Preempted, it is still on this CPU for
	 * the agent (ops.stopping sent nothing); woken, it is reported by the
	 * TASK_ON_CPU of ops.running.
	 */
	if (task_migration_disabled(p)) {
		tctx->resume_here = 0;
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, pinned_resume_slice_ns,
				   enq_flags | SCX_ENQ_HEAD);
		return;
	}
	/* Stopped for its CPU's agent: it runs on once the agent parks. */
	if (tctx->resume_here) {
		tctx->resume_here = 0;
		tctx->resuming = 1;
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, tctx->slice_ns ?: pick_slice_ns, enq_flags);
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
		news_defer(tctx, GH_MSG_TASK_PREEMPT, queued_flag());
	}
	/*
	 * Pinned outside the enclave: no decision of ours can place it, so the
	 * kernel runs it (the agent still follows it through its messages).
	 */
	task_mask_covers_enclave(tctx, &in_enclave);
	if (!in_enclave) {
		scx_bpf_dsq_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
		return;
	}
	claimed = tctx->claimed_cpu;
	tctx->claimed_cpu = GH_CLAIM_NONE;
	/* A task the higher class displaced keeps its place at the front. */
	custody_enqueue(p, tctx, enq_flags, enq_flags & SCX_ENQ_REENQ, claimed, now);
}

void BPF_STRUCT_OPS(ghost_hybrid_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	u64 now;

	if (tctx && !tctx->runnable)
		note_runnable(tctx, enq_flags & SCX_ENQ_WAKEUP, bpf_get_smp_processor_id());
	if (tctx && (enq_flags & SCX_ENQ_REENQ))
		reenq_note(p, tctx);
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
	now = bpf_ktime_get_ns();
	enqueue_managed(p, tctx, enq_flags, now);
	news_flush(tctx, p, now);
}

/*
 * ops.dispatch with @prev's slice used up: if nobody waits for a CPU (no
 * task in either owner's DSQ, nothing committed here) and no higher class
 * wants this one, @prev runs on with a new slice, with no round trip
 * through the agent. Only a task a decision put here has a slice to
 * renew (slice_ns): one that switched in while running, or that the
 * kernel ran by itself, goes through custody like any other. REQUIRES:
 * @prev is still queued (ops.dispatch looks only then).
 */
static __always_inline bool slice_renew(struct task_struct *prev, struct task_ctx *tctx)
{
	if (!is_managed(tctx) || !tctx->slice_ns || tctx->yielding || tctx->news_pending ||
	    prev->scx.slice > 0 || task_migration_disabled(prev))
		return false;
	if (scx_bpf_dsq_nr_queued(SCX_DSQ_LOCAL) || owned_queued(GH_OWNER_AGENT) > 0 ||
	    owned_queued(GH_OWNER_BPF) > 0 || locked_cpu_runs_higher_class())
		return false;
	prev->scx.slice = tctx->slice_ns ?: pick_slice_ns;
	stat_inc(GH_STAT_SLICE_EXTENSIONS);
	return true;
}

void BPF_STRUCT_OPS(ghost_hybrid_dispatch, s32 cpu, struct task_struct *prev)
{
	struct gh_status_word *asw;
	struct task_ctx *pctx;

	/* Asked for work: no higher class has anything runnable here. */
	cpu_mark_free(cpu);
	/* A @prev that went to sleep has no slice to renew and is no agent
	 * that keeps running: no need to look it up. */
	if (!prev || !(prev->scx.flags & SCX_TASK_QUEUED))
		goto pick;
	pctx = lookup_task_ctx(prev);
	if (slice_renew(prev, pctx))
		return;
	/* An active agent that keeps running needs no company. */
	asw = agent_sw_of(cpu);
	if (pctx && pctx->is_agent && pctx->runnable && asw &&
	    (READ_ONCE(asw->flags) & GH_SW_AGENT_ACTIVE))
		return;
pick:
	/* A persistent scheduler's fast queue may hold tasks queued while no
	 * agent was attached: they run even once one is. */
	if (bpf_pick || persist)
		fast_pick(cpu);
}

void BPF_STRUCT_OPS(ghost_hybrid_running, struct task_struct *p)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	s32 cpu = scx_bpf_task_cpu(p);
	struct gh_status_word *sw;
	u64 now = bpf_ktime_get_ns();
	bool picked;

	if (!tctx)
		return;
	/*
	 * Runnable by a path with no ops.enqueue: a running task put back
	 * after a property change (resuming: no news), or an exiting task's
	 * wakeup.
	 */
	if (!tctx->runnable)
		note_runnable(tctx, !tctx->resuming, cpu);
	cpu_mark_free(cpu);
	if (tctx->reenq_streak)
		reenq_note_ran(tctx);
	/*
	 * Unlike ghOSt, an agent's Aseq does not advance when the agent is
	 * scheduled: only messages advance it. A per-CPU agent's local commit
	 * is validated while the agent still runs, and a centralized agent
	 * that preempted its CPU's task lets it resume when it parks.
	 */
	if (tctx->is_agent && cpu_valid(cpu))
		cpu_state_of(cpu)->agent_preempting = 0;
	if (!is_managed(tctx))
		return;
	/*
	 * Run again before any enqueue: an exiting task, which sched_ext keeps
	 * on its CPU without ops.enqueue. The off-CPU message held for the
	 * enqueue is moot now (sent, it would wake the agent, whose arrival
	 * preempts the task again, and so on until it exits): for the agent
	 * it never left the CPU, so it resumes without a TASK_ON_CPU either.
	 * A NEW or WAKEUP still goes out, before the TASK_ON_CPU.
	 */
	if (tctx->news_pending == GH_MSG_TASK_PREEMPT || tctx->news_pending == GH_MSG_TASK_YIELD) {
		tctx->news_pending = 0;
		tctx->resuming = 1;
	}
	news_flush(tctx, p, now);
	/* Popped from a departed agent's queue (fast_pick): a pick too. */
	picked = (tctx->picked_by_bpf ||
		  (READ_ONCE(tctx->owner) == GH_OWNER_AGENT && agentless())) &&
		 !tctx->txn_commit;
	custody_end(tctx);
	if (picked) {
		tctx->commit_time = now;
		tctx->slice_ns = pick_slice_ns;
		stat_inc(GH_STAT_BPF_PICKS);
		if (agentless())
			stat_inc(GH_STAT_AGENTLESS_PICKS);
	} else if (!tctx->txn_commit && !tctx->resuming) {
		tctx->slice_ns = 0;	/* run by the kernel itself: no decision */
	}
	tctx->oncpu = 1;
	tctx->run_start = now;
	if (cpu_valid(cpu))
		__sync_fetch_and_add(&cpu_state_of(cpu)->seqnum, 1);
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
	 * that continues (after a property change's dequeue/enqueue while it
	 * ran, or after its agent ran) is still on the CPU for the agent.
	 */
	if (picked || tctx->txn_commit || !tctx->resuming)
		send_on_cpu_msg(tctx, picked ? GH_MSG_F_BPF_PICKED : 0, cpu, now);
	tctx->picked_by_bpf = 0;
	tctx->txn_commit = 0;
	tctx->resuming = 0;
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
			cpu_mark_held(scx_bpf_task_cpu(p), 0);
		}
		actx->agent_yielded = actx->yielding;
		actx->yielding = 0;
		return;
	}
	struct gh_status_word *sw;
	s32 cpu = scx_bpf_task_cpu(p);
	u64 now = bpf_ktime_get_ns(), runtime = 0;
	u16 type = GH_MSG_TASK_PREEMPT;
	u32 flags;

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
			cpu_mark_held(cpu, 0);
		tctx->resuming = 1;
		tctx->yielding = 0;
		return;
	}
	/*
	 * Preempted with slice left: a higher class took the CPU (our own
	 * preemptions zero the slice first). sched_ext would keep the task at
	 * the head of this CPU's local DSQ until the intruder leaves; as in
	 * ghOSt, hand it back instead (zero slice: ops.enqueue, the front of
	 * its owner's queue, PREEMPT) so it can run elsewhere meanwhile.
	 */
	flags = queued_flag();
	if (tctx->yielding) {
		type = GH_MSG_TASK_YIELD;
	} else if (p->scx.slice > 0) {
		p->scx.slice = 0;
		cpu_mark_held(cpu, 0);
	} else if (resume_after_agent && cpu_valid(cpu) &&
		   cpu_state_of(cpu)->agent_preempting) {
		/* Its CPU's agent wants to run: it goes on afterwards. */
		cpu_state_of(cpu)->agent_preempting = 0;
		tctx->resume_here = 1;
		return;
	} else {
		/* Its slice ran out, or a commit took its CPU. */
		flags |= GH_MSG_F_SLICE_ENDED;
	}
	news_defer(tctx, type, flags);	/* sent by ops.enqueue, once queued */
	tctx->yielding = 0;
}

void BPF_STRUCT_OPS(ghost_hybrid_quiescent, struct task_struct *p, u64 deq_flags)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	struct gh_status_word *sw;

	if (!tctx)
		return;
	tctx->runnable = 0;
	if (!is_managed(tctx))
		return;
	custody_end(tctx);
	sw = task_sw_of(tctx);
	if (sw)
		__sync_fetch_and_and(&sw->flags, ~GH_SW_TASK_RUNNABLE);
	if (deq_flags & SCX_DEQ_SLEEP)
		tctx->resuming = 0;
	/*
	 * As in ghOSt, an exiting task's final switch-out is a BLOCKED too:
	 * TASK_DEAD then follows from ops.disable. A task falls asleep only
	 * while it runs, so ops.stopping has just taken it off its CPU and
	 * stamped the status word's switch_time: the message carries that
	 * moment, with no second clock read.
	 */
	if (deq_flags & SCX_DEQ_SLEEP)
		send_task_off_msg(tctx, GH_MSG_TASK_BLOCKED, 0, scx_bpf_task_cpu(p),
				  sw ? sw->runtime : 0, sw ? sw->switch_time : bpf_ktime_get_ns());
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
	bool changed = false;
	u64 word;
	int i;

	if (!tctx)
		return;
	/* ops.enable is followed by a report of the initial mask: not news. */
	for (i = 0; i < GH_CPUMASK_WORDS; i++) {
		word = cpumask->bits[i];
		changed |= word != tctx->cpumask[i];
		tctx->cpumask[i] = word;
	}
	if (changed)
		send_affinity_msg(tctx);
}

void BPF_STRUCT_OPS(ghost_hybrid_set_weight, struct task_struct *p, u32 weight)
{
	struct task_ctx *tctx = managed_ctx(p);

	if (!tctx || tctx->weight == weight)
		return;	/* the initial report after ops.enable is not news */
	tctx->weight = weight;
	send_priority_msg(tctx, p);
}

void BPF_STRUCT_OPS(ghost_hybrid_tick, struct task_struct *p)
{
	if (send_cpu_tick)
		send_cpu_msg(bpf_get_smp_processor_id(), GH_MSG_CPU_TICK, 0);
}

s32 BPF_STRUCT_OPS(ghost_hybrid_init_task, struct task_struct *p,
		   struct scx_init_task_args *args)
{
	struct task_ctx *tctx = bpf_task_storage_get(&task_ctxs, p, 0,
						     BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!tctx)
		return -ENOMEM;
	tctx->claimed_cpu = GH_CLAIM_NONE;	/* not CPU 0 */
	return 0;
}

/* Registers @p as @cpu's agent thread. */
static __always_inline void agent_enable(struct task_ctx *tctx, s32 cpu, u32 pid)
{
	struct gh_status_word *asw = agent_sw_of(cpu);

	tctx->is_agent = 1;
	tctx->agent_cpu = cpu;
	__sync_fetch_and_add(&nr_agents, 1);
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
		sw->channel = GH_DEFAULT_CHANNEL;
		sw->gtid = gtid;
		sw->runtime = p->se.sum_exec_runtime;
		sw->switch_time = bpf_ktime_get_ns();
		sw->cpu = -1;
		sw->msgs_lost = 0;
		WRITE_ONCE(sw->flags, GH_SW_INUSE | (tctx->runnable ? GH_SW_TASK_RUNNABLE : 0));
	}
	/*
	 * A task that switched in while running must not keep its CPU without
	 * a decision: zero its slice so that it goes through ops.enqueue.
	 */
	if (scx_bpf_task_running(p))
		scx_bpf_kick_cpu(scx_bpf_task_cpu(p), SCX_KICK_PREEMPT);
	/* A new task is announced once it is queued (news_flush). */
	if ((p->__state & GH_TASK_NEW_STATE) && !scx_bpf_task_running(p)) {
		tctx->news_pending = GH_MSG_TASK_NEW;
		return;
	}
	send_task_new_msg(tctx, p, queued_flag(), idx);
}

void BPF_STRUCT_OPS(ghost_hybrid_disable, struct task_struct *p)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	struct gh_status_word *sw;
	bool exiting = p->flags & GH_PF_EXITING;

	if (!tctx)
		return;
	if (tctx->reenq_streak)
		reenq_note_ran(tctx);
	if (tctx->is_agent) {
		sw = agent_sw_of(tctx->agent_cpu);
		if (sw)
			__sync_fetch_and_and(&sw->flags, ~GH_SW_INUSE);
		/* A later thread that reuses this tid is no agent. */
		if (cpu_valid(tctx->agent_cpu) &&
		    agent_pid[tctx->agent_cpu & (GH_MAX_CPUS - 1)] == p->pid)
			agent_pid[tctx->agent_cpu & (GH_MAX_CPUS - 1)] = 0;
		tctx->is_agent = 0;
		if (__sync_sub_and_fetch(&nr_agents, 1) == 0 && persist)
			handover_to_fast_path();
		return;
	}
	if (!is_managed(tctx))
		return;
	custody_end(tctx);
	news_flush(tctx, p, bpf_ktime_get_ns());
	/*
	 * The word outlives the task until the agent has consumed its last
	 * message and frees it (gh_sw_free): a recycled word would otherwise
	 * tell an agent resyncing a task about another task. CANFREE goes
	 * before the barrier moves (flags, then barrier, then message).
	 */
	sw = task_sw_of(tctx);
	if (sw)
		WRITE_ONCE(sw->flags, GH_SW_INUSE | GH_SW_TASK_CANFREE);
	/*
	 * TASK_DEAD follows the BLOCKED of the task's final switch-out. A task
	 * still runnable here (the scheduler is being unloaded while it exits)
	 * departs instead: the agent forgets a departing task in any state.
	 */
	send_task_off_msg(tctx, exiting && !tctx->runnable ? GH_MSG_TASK_DEAD : GH_MSG_TASK_DEPARTED,
			  tctx->oncpu ? GH_MSG_F_WAS_CURRENT : 0,
			  scx_bpf_task_cpu(p), 0, bpf_ktime_get_ns());
	tctx->gtid = GH_NULL_GTID;
}

void BPF_STRUCT_OPS(ghost_hybrid_cpu_release, s32 cpu, struct scx_cpu_release_args *args)
{
	cpu_mark_held(cpu, args->reason);
	/* Tasks already committed here go back to their owner (SCX_ENQ_REENQ). */
	if (reenq_allowed(cpu))
		scx_bpf_reenqueue_local();
}

void BPF_STRUCT_OPS(ghost_hybrid_cpu_acquire, s32 cpu, struct scx_cpu_acquire_args *args)
{
	cpu_mark_free(cpu);
}

void BPF_STRUCT_OPS(ghost_hybrid_update_idle, s32 cpu, bool idle)
{
	cpu_note_idle(cpu, idle);
}

s32 BPF_STRUCT_OPS_SLEEPABLE(ghost_hybrid_init)
{
	s32 err;
	u32 cpu;

	kernel_features = (bpf_ksym_exists(scx_bpf_dsq_reenq) ? GH_KFEAT_DSQ_REENQ : 0) |
			  (bpf_core_field_exists(struct rq, ext_server) ? GH_KFEAT_EXT_SERVER : 0);
	err = scx_bpf_create_dsq(GH_DSQ_AGENT, -1);
	if (!err)
		err = scx_bpf_create_dsq(GH_DSQ_BPF, -1);
	bpf_for(cpu, 0, nr_cpus) {
		if (!err)
			err = scx_bpf_create_dsq(GH_DSQ_LATCH_BASE + cpu, -1);
	}
	if (!err)
		err = runqueue_mirror_arm();
	if (err)
		return err;
	return handoff_timer_arm();
}

void BPF_STRUCT_OPS(ghost_hybrid_exit, struct scx_exit_info *ei)
{
	exit_info.exit_code = ei->exit_code;
	bpf_probe_read_kernel_str(exit_info.reason, sizeof(exit_info.reason), ei->reason);
	bpf_probe_read_kernel_str(exit_info.msg, sizeof(exit_info.msg), ei->msg);
	if (ei->dump)
		bpf_probe_read_kernel_str(exit_dump, sizeof(exit_dump), ei->dump);
	/* Last: the loader reads the rest once it sees a kind. */
	__sync_lock_test_and_set(&exit_info.kind, ei->kind);
}

SEC(".struct_ops.link")
struct sched_ext_ops ghost_hybrid_ops = {
	.select_cpu = (void *)ghost_hybrid_select_cpu,
	.enqueue = (void *)ghost_hybrid_enqueue,
	.dispatch = (void *)ghost_hybrid_dispatch,
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
	.update_idle = (void *)ghost_hybrid_update_idle,
	.init = (void *)ghost_hybrid_init,
	.exit = (void *)ghost_hybrid_exit,
	.dump = (void *)ghost_hybrid_dump,
	.dump_cpu = (void *)ghost_hybrid_dump_cpu,
	.dump_task = (void *)ghost_hybrid_dump_task,
	.exit_dump_len = GH_EXIT_DUMP_LEN,
	.flags = SCX_OPS_SWITCH_PARTIAL | SCX_OPS_ENQ_LAST | SCX_OPS_ENQ_MIGRATION_DISABLED |
		 SCX_OPS_KEEP_BUILTIN_IDLE,
	.timeout_ms = 5000,
	.name = "ghost_hybrid",
};
