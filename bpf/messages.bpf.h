/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * messages.bpf.h: the message path. A task's state change becomes one
 * struct gh_msg on the task's channel, a BPF ring buffer in the `channels`
 * map-of-maps (channel 0 is the default; the agent moves a task to another
 * channel with gh_associate, which writes the channel next to the task's
 * Tseq in its status word).
 *
 * Ordering contract (ghOSt's): the task's Tseq (status-word barrier) is
 * incremented BEFORE the message carrying the new value is published, even
 * when the ring is full and the message is dropped, so an agent that has
 * consumed everything sees barrier == its copy, and any other barrier means
 * "you have unread news". bpf_ringbuf_submit() publishes with release
 * semantics, so a consumer that sees the record also sees the barrier.
 *
 * A message dropped because its ring is full still counts: the task's
 * status word counts the loss (msgs_lost), and the channel's agent is
 * woken and its Aseq advanced, so it learns of the loss at once and
 * resynchronises the task from its status word.
 *
 * Every message delivered to a channel with an associated agent advances
 * that agent's Aseq AFTER it is published, and wakes the agent if it is
 * parked: an agent that reads Aseq, then drains its channel, then commits
 * with that Aseq fails AGENT_STALE if anything arrived after the read.
 */
#ifndef GHOST_HYBRID_MESSAGES_BPF_H
#define GHOST_HYBRID_MESSAGES_BPF_H

#include "common.bpf.h"
#include "wake.bpf.h"

struct channel_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, GH_CHANNEL_RING_BYTES);
} default_channel SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, GH_MAX_CHANNELS);
	__type(key, u32);
	__array(values, struct channel_ring);
} channels SEC(".maps") = {
	.values = { [GH_DEFAULT_CHANNEL] = &default_channel },
};

/*
 * The CPU of the agent channel @chan is tied to, or -1. In the centralized
 * model (global_cpu >= 0) the default channel, once tied to an agent, is
 * tied to the global role: its agent is whoever holds the role, read from
 * global_cpu, the one word a move of the role changes. (A second word that
 * each move updated after global_cpu could be left behind by two moves at
 * once: news then woke and advanced an agent that no longer drained the
 * channel, which spun at agent priority with its Aseq always moving while
 * the channel filled, until the watchdog ejected the scheduler.)
 */
static __always_inline s32 channel_agent_cpu(u32 chan)
{
	s32 cpu, global;

	if (chan >= GH_MAX_CHANNELS)
		return -1;
	cpu = chan_agent[chan];
	if (chan == GH_DEFAULT_CHANNEL && cpu >= 0) {
		global = READ_ONCE(global_cpu);
		if (global >= 0)
			cpu = global;
	}
	return cpu;
}

/*
 * Counts a message for channel @chan's agent (Aseq) and returns that Aseq;
 * with @wake, also wakes the agent if it is parked. TASK_ON_CPU and
 * CPU_TICK do not wake: a per-CPU agent woken by the ON_CPU of the task it
 * just committed would preempt that task, forever.
 */
static __always_inline u32 agent_note_message(u32 chan, bool wake)
{
	struct gh_status_word *asw;
	s32 cpu;
	u32 seq = 0;

	cpu = channel_agent_cpu(chan);
	asw = agent_sw_of(cpu);
	if (!asw)
		return 0;
	seq = __sync_add_and_fetch(&asw->barrier, 1);
	if (wake)
		agent_wake(cpu);
	return seq;
}

/* The ring of channel @chan, or the default channel's. */
static __always_inline void *channel_ring(u32 *chan)
{
	void *ring = bpf_map_lookup_elem(&channels, chan);

	if (!ring) {
		*chan = GH_DEFAULT_CHANNEL;
		ring = bpf_map_lookup_elem(&channels, chan);
	}
	return ring;
}

/* Reserves a message on @ring; NULL when full (the caller counts the drop). */
static __always_inline struct gh_msg *msg_reserve(void *ring)
{
	struct gh_msg *msg;

	if (!ring)
		return NULL;
	msg = bpf_ringbuf_reserve(ring, sizeof(*msg), 0);
	if (msg)
		__builtin_memset(msg, 0, sizeof(*msg));
	return msg;
}

static __always_inline void msg_submit(struct gh_msg *msg)
{
	/*
	 * No wakeup: nothing sleeps on a channel ring (agents spin on it, and
	 * a parked agent sleeps on its doorbell), and the wakeup is an
	 * irq_work self-interrupt per message, several us in a VM.
	 */
	bpf_ringbuf_submit(msg, BPF_RB_NO_WAKEUP);
	stat_inc(GH_STAT_MSGS);
}

/*
 * Advances @sw's Tseq and returns the new value, and in @chan the channel
 * the message carrying it goes to: one atomic add on the barrier+channel
 * word, so gh_associate's compare-and-swap either precedes this message
 * (which then takes the new channel) or fails on the moved Tseq.
 */
static __always_inline u32 task_seq_next(struct gh_status_word *sw, u32 *chan)
{
	u64 *word = (u64 *)&sw->barrier;
	u64 v = __sync_add_and_fetch(word, 1);

	if (!(u32)v) {
		/* Tseq wrapped after 2^32 messages: take the carry back out of
		 * the channel half. */
		v = __sync_add_and_fetch(word, -(1ULL << 32));
	}
	*chan = v >> 32;
	return (u32)v;
}

/*
 * A task message being built: the record, and the channel it goes to
 * (looked up once per message).
 */
struct task_msg {
	struct gh_msg *msg;
	void *ring;
	u32 chan;
};

/*
 * Starts a task message stamped @now (the caller's clock reading, when it
 * has one): advances Tseq, then reserves the record and fills the header
 * and gtid. Returns false if the task is not managed or the
 * channel is full (Tseq is advanced either way, as in ghOSt).
 */
static __always_inline bool task_msg_begin(struct task_msg *tm, struct task_ctx *tctx,
					   u16 type, u32 flags, s32 cpu, u64 now)
{
	struct gh_status_word *sw;
	struct gh_msg *msg;
	u32 seq;

	if (!is_managed(tctx))
		return false;
	sw = task_sw_of(tctx);
	if (!sw)
		return false;
	seq = task_seq_next(sw, &tm->chan);
	tm->ring = channel_ring(&tm->chan);
	msg = tm->msg = msg_reserve(tm->ring);
	if (!msg) {
		/*
		 * Lost: the word says so, then the global count moves, then
		 * the agent wakes. In that order: an agent that sees the
		 * count move and scans the words must find this one.
		 */
		__sync_fetch_and_add(&sw->msgs_lost, 1);
		stat_inc(GH_STAT_MSGS_DROPPED);
		agent_note_message(tm->chan, true);
		return false;
	}
	msg->hdr.type = type;
	msg->hdr.length = sizeof(*msg);
	msg->hdr.seqnum = seq;
	msg->hdr.flags = flags;
	msg->hdr.cpu = cpu;
	msg->hdr.time = now;
	msg->gtid = tctx->gtid;
	return true;
}

/*
 * True if a task message must wake its agent. ON_CPU never does (see
 * agent_note_message). With the fast path on (or no agent), the agent
 * decides nothing for the tasks the fast path owns: their news waits until
 * the agent has something to decide (a task in its own DSQ), or until
 * news_wake_bytes of it are unread (about 64 messages, at most a quarter
 * of the channel), long before the channel could fill.
 *
 * Small on purpose. A woken agent drains its whole backlog first on its
 * CPU, so the backlog's length is how long a task waiting for that CPU
 * waits. With a quarter of a 1 MB ring (about 3,600 messages) cyclictest's
 * p99 under --bpf-pick was 3x scx_simple's; with about 110 it halved, with
 * about 28 it fell a little further for twice the agent's CPU time
 * (bench/latency/FINDINGS.md, 2026-12-03 fourth run).
 */
static __always_inline bool task_msg_wakes(struct task_msg *tm)
{
	if (tm->msg->hdr.type == GH_MSG_TASK_ON_CPU)
		return false;
	if (!fast_path_on())
		return true;
	return owned_queued(GH_OWNER_AGENT) > 0 ||
	       bpf_ringbuf_query(tm->ring, BPF_RB_AVAIL_DATA) > news_wake_bytes;
}

static __always_inline void task_msg_end(struct task_msg *tm)
{
	bool wake = task_msg_wakes(tm);

	msg_submit(tm->msg);
	agent_note_message(tm->chan, wake);
}

/* A task message with the common off-CPU payload (BLOCKED, PREEMPT, ...). */
static __always_inline void send_task_off_msg(struct task_ctx *tctx, u16 type,
					      u32 flags, s32 cpu, u64 runtime, u64 now)
{
	struct task_msg tm;

	if (!task_msg_begin(&tm, tctx, type, flags, cpu, now))
		return;
	tm.msg->off.runtime = runtime;
	if (cpu_valid(cpu))
		tm.msg->off.cpu_seqnum = cpu_state_of(cpu)->seqnum;
	task_msg_end(&tm);
}

/*
 * A CPU message to the channel of @cpu's agent. The agent's Aseq advances
 * after the record is published (see agent_note_message), so an agent that
 * read Aseq before draining can never commit past an unread message; the
 * seqnum field carries the Aseq the message is expected to cause.
 */
static __always_inline void send_cpu_msg(s32 cpu, u16 type, u32 reason)
{
	struct gh_status_word *asw;
	struct gh_msg *msg;
	u32 chan;

	if (!cpu_valid(cpu))
		return;
	chan = cpu_channel[cpu & (GH_MAX_CPUS - 1)];
	msg = msg_reserve(channel_ring(&chan));
	if (msg) {
		asw = agent_sw_of(channel_agent_cpu(chan));
		msg->hdr.type = type;
		msg->hdr.length = sizeof(*msg);
		msg->hdr.seqnum = asw ? READ_ONCE(asw->barrier) + 1 : 0;
		msg->hdr.cpu = cpu;
		msg->hdr.time = bpf_ktime_get_ns();
		msg->cpu.cpu = cpu;
		msg->cpu.reason = reason;
		msg_submit(msg);
	} else {
		stat_inc(GH_STAT_MSGS_DROPPED);	/* the agent word's flags tell it */
	}
	agent_note_message(chan, type != GH_MSG_CPU_TICK);
}

/* TASK_WAKEUP: @p became runnable on @waker_cpu's wakeup. */
static __always_inline void send_wakeup_msg(struct task_ctx *tctx, struct task_struct *p,
					    u32 flags, s32 waker_cpu, u64 now)
{
	struct gh_status_word *sw = task_sw_of(tctx);
	struct task_msg tm;

	if (!task_msg_begin(&tm, tctx, GH_MSG_TASK_WAKEUP, flags, waker_cpu, now))
		return;
	tm.msg->wakeup.last_ran_cpu = sw ? sw->cpu : -1;
	tm.msg->wakeup.wake_up_cpu = scx_bpf_task_cpu(p);
	tm.msg->wakeup.waker_cpu = waker_cpu;
	/* An ordinary wakeup: the task joins the back of the agent's queue. */
	tm.msg->wakeup.deferrable = 1;
	task_msg_end(&tm);
}

/* TASK_ON_CPU: the task got @cpu, by a commit or (@flags) a BPF pick. */
static __always_inline void send_on_cpu_msg(struct task_ctx *tctx, u32 flags, s32 cpu, u64 now)
{
	struct task_msg tm;

	if (!task_msg_begin(&tm, tctx, GH_MSG_TASK_ON_CPU, flags, cpu, now))
		return;
	tm.msg->on_cpu.commit_time = tctx->commit_time;
	if (cpu_valid(cpu))
		tm.msg->on_cpu.cpu_seqnum = cpu_state_of(cpu)->seqnum;
	task_msg_end(&tm);
}

/* TASK_AFFINITY_CHANGED with the new mask (already in tctx->cpumask). */
static __always_inline void send_affinity_msg(struct task_ctx *tctx)
{
	struct task_msg tm;
	int i;

	if (!task_msg_begin(&tm, tctx, GH_MSG_TASK_AFFINITY_CHANGED, 0,
			    bpf_get_smp_processor_id(), bpf_ktime_get_ns()))
		return;
	for (i = 0; i < GH_CPUMASK_WORDS; i++)
		tm.msg->affinity.cpumask[i] = tctx->cpumask[i];
	task_msg_end(&tm);
}

/*
 * TASK_NEW for a task that just got status word @idx, followed by
 * TASK_AFFINITY_CHANGED if its mask leaves out an enclave CPU.
 */
static __always_inline void send_task_new_msg(struct task_ctx *tctx, struct task_struct *p,
					      u32 flags, u32 idx)
{
	struct task_msg tm;
	bool some;

	if (!task_msg_begin(&tm, tctx, GH_MSG_TASK_NEW, flags, bpf_get_smp_processor_id(),
			    bpf_ktime_get_ns()))
		return;
	tm.msg->task_new.runtime = p->se.sum_exec_runtime;
	tm.msg->task_new.sw_index = idx;
	tm.msg->task_new.runnable = tctx->runnable;
	tm.msg->task_new.nice = p->static_prio - 120;
	task_msg_end(&tm);
	/* A task born pinned (a child of a taskset): its mask follows at once,
	 * before any decision can be made about it. */
	if (!task_mask_covers_enclave(tctx, &some))
		send_affinity_msg(tctx);
}

/* TASK_PRIORITY_CHANGED. */
static __always_inline void send_priority_msg(struct task_ctx *tctx, struct task_struct *p)
{
	struct task_msg tm;

	if (!task_msg_begin(&tm, tctx, GH_MSG_TASK_PRIORITY_CHANGED, 0,
			    bpf_get_smp_processor_id(), bpf_ktime_get_ns()))
		return;
	tm.msg->priority.weight = tctx->weight;
	tm.msg->priority.nice = p->static_prio - 120;
	task_msg_end(&tm);
}

#endif /* GHOST_HYBRID_MESSAGES_BPF_H */
