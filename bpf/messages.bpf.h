/* SPDX-License-Identifier: GPL-2.0 */
/*
 * messages.bpf.h: the message path. A task's state change becomes one
 * struct gh_msg on the task's channel, a BPF ring buffer in the `channels`
 * map-of-maps (channel 0 is the default; the agent associates a task with
 * another channel through the task_chan map).
 *
 * Ordering contract (ghOSt's): the task's Tseq (status-word barrier) is
 * incremented BEFORE the message carrying the new value is published, even
 * when the ring is full and the message is dropped, so an agent that has
 * consumed everything sees barrier == its copy, and any other barrier means
 * "you have unread news". bpf_ringbuf_submit() publishes with release
 * semantics, so a consumer that sees the record also sees the barrier.
 *
 * Every message delivered to a channel with an associated agent advances
 * that agent's Aseq AFTER it is published, and wakes the agent if it is
 * parked: an agent that reads Aseq, then drains its channel, then commits
 * with that Aseq fails AGENT_STALE if anything arrived after the read.
 */
#ifndef GHOST_HYBRID_MESSAGES_BPF_H
#define GHOST_HYBRID_MESSAGES_BPF_H

#include "common.bpf.h"

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

static void agent_wake(s32 cpu);	/* agents.bpf.h */

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

	if (chan >= GH_MAX_CHANNELS)
		return 0;
	cpu = chan_agent[chan];
	asw = agent_sw_of(cpu);
	if (!asw)
		return 0;
	seq = __sync_add_and_fetch(&asw->barrier, 1);
	if (wake)
		agent_wake(cpu);
	return seq;
}

/* Reserves a message on @chan; NULL (and a counted drop) when full. */
static __always_inline struct gh_msg *msg_reserve(u32 chan)
{
	struct gh_msg *msg;
	void *ring;

	ring = bpf_map_lookup_elem(&channels, &chan);
	if (!ring) {
		chan = GH_DEFAULT_CHANNEL;
		ring = bpf_map_lookup_elem(&channels, &chan);
		if (!ring)
			return NULL;
	}
	msg = bpf_ringbuf_reserve(ring, sizeof(*msg), 0);
	if (!msg) {
		stat_inc(GH_STAT_MSGS_DROPPED);
		return NULL;
	}
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

static __always_inline u32 task_channel(struct task_ctx *tctx)
{
	u64 gtid = tctx->gtid;
	u32 *chan = bpf_map_lookup_elem(&task_chan, &gtid);

	return chan ? *chan : GH_DEFAULT_CHANNEL;
}

/*
 * Starts a task message: advances Tseq, then reserves the record and fills
 * the header and gtid. Returns NULL if the task is not managed or the
 * channel is full (Tseq is advanced either way, as in ghOSt).
 */
static __always_inline struct gh_msg *task_msg_begin(struct task_ctx *tctx,
						     u16 type, u32 flags, s32 cpu)
{
	struct gh_status_word *sw;
	struct gh_msg *msg;
	u32 seq;

	if (!is_managed(tctx))
		return NULL;
	sw = task_sw_of(tctx);
	if (!sw)
		return NULL;
	seq = __sync_add_and_fetch(&sw->barrier, 1);
	msg = msg_reserve(task_channel(tctx));
	if (!msg)
		return NULL;
	msg->hdr.type = type;
	msg->hdr.length = sizeof(*msg);
	msg->hdr.seqnum = seq;
	msg->hdr.flags = flags;
	msg->hdr.cpu = cpu;
	msg->hdr.time = bpf_ktime_get_ns();
	msg->gtid = tctx->gtid;
	return msg;
}

static __always_inline void task_msg_end(struct task_ctx *tctx, struct gh_msg *msg)
{
	u32 chan = task_channel(tctx);
	bool wake = msg->hdr.type != GH_MSG_TASK_ON_CPU;

	msg_submit(msg);
	agent_note_message(chan, wake);
}

/* A task message with the common off-CPU payload (BLOCKED, PREEMPT, ...). */
static __always_inline void send_task_off_msg(struct task_ctx *tctx, u16 type,
					      u32 flags, s32 cpu, u64 runtime)
{
	struct gh_msg *msg = task_msg_begin(tctx, type, flags, cpu);

	if (!msg)
		return;
	msg->off.runtime = runtime;
	if (cpu_valid(cpu))
		msg->off.cpu_seqnum = cpu_seqnum[cpu & (GH_MAX_CPUS - 1)];
	task_msg_end(tctx, msg);
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
	msg = msg_reserve(chan);
	if (msg) {
		asw = chan < GH_MAX_CHANNELS ? agent_sw_of(chan_agent[chan]) : NULL;
		msg->hdr.type = type;
		msg->hdr.length = sizeof(*msg);
		msg->hdr.seqnum = asw ? READ_ONCE(asw->barrier) + 1 : 0;
		msg->hdr.cpu = cpu;
		msg->hdr.time = bpf_ktime_get_ns();
		msg->cpu.cpu = cpu;
		msg->cpu.reason = reason;
		msg_submit(msg);
	}
	agent_note_message(chan, type != GH_MSG_CPU_TICK);
}

#endif /* GHOST_HYBRID_MESSAGES_BPF_H */
