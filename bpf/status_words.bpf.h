/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * status_words.bpf.h: the life of a task status word (ghOSt's CANFREE).
 *
 * ops.enable takes a word from sw_free for a new task; ops.disable marks it
 * GH_SW_TASK_CANFREE (the gtid stays) before it sends the task's last
 * message. The word goes back to sw_free only when the agent, having
 * consumed that DEAD/DEPARTED (or found the task gone while resyncing it),
 * frees it here. Until then an agent that reads the word learns the truth
 * about that task and no other: a word is never reused under an agent that
 * still holds the task.
 */
#ifndef GHOST_HYBRID_STATUS_WORDS_BPF_H
#define GHOST_HYBRID_STATUS_WORDS_BPF_H

#include "common.bpf.h"
#include "messages.bpf.h"

/* Frees word @idx if it is CANFREE and still @gtid's; true if it was. */
static __always_inline bool sw_free_one(u32 idx, u64 gtid)
{
	struct gh_status_word *sw;

	if (idx >= GH_MAX_TASKS || gtid == GH_NULL_GTID)
		return false;
	sw = bpf_map_lookup_elem(&task_sw, &idx);
	if (!sw || READ_ONCE(sw->gtid) != gtid)
		return false;
	/* One winner if the same word is freed twice. */
	if (__sync_val_compare_and_swap(&sw->flags, GH_SW_INUSE | GH_SW_TASK_CANFREE, 0) !=
	    (GH_SW_INUSE | GH_SW_TASK_CANFREE))
		return false;
	WRITE_ONCE(sw->gtid, GH_NULL_GTID);
	bpf_map_push_elem(&sw_free, &idx, 0);
	return true;
}

/*
 * AssociateTask: routes @args->gtid's later messages to @args->channel,
 * iff its Tseq is still @args->barrier. The compare-and-swap on the
 * barrier+channel word and the publishers' atomic add on it are ordered:
 * either no message was published since the agent's last one (and every
 * later one takes the new channel), or this fails with -ESTALE and nothing
 * changed -- no message is ever left on the old channel unseen.
 */
SEC("syscall")
int gh_associate(struct gh_associate_args *args)
{
	u32 idx = args->sw_index, chan = args->channel;
	struct gh_status_word *sw;
	u64 *word, old;

	if (chan >= GH_MAX_CHANNELS || !bpf_map_lookup_elem(&channels, &chan)) {
		args->result = -EINVAL;
		return 0;
	}
	sw = idx < GH_MAX_TASKS ? bpf_map_lookup_elem(&task_sw, &idx) : NULL;
	if (!sw || READ_ONCE(sw->gtid) != args->gtid || args->gtid == GH_NULL_GTID ||
	    (READ_ONCE(sw->flags) & (GH_SW_INUSE | GH_SW_TASK_CANFREE)) != GH_SW_INUSE) {
		args->result = -ENOENT;
		return 0;
	}
	word = (u64 *)&sw->barrier;
	old = READ_ONCE(*word);
	if ((u32)old != args->barrier ||
	    __sync_val_compare_and_swap(word, old, ((u64)chan << 32) | args->barrier) != old) {
		args->result = -ESTALE;
		return 0;
	}
	args->result = 0;
	return 0;
}

/*
 * The agent frees a batch of words (struct gh_sw_free_args). Each entry is
 * copied out with bpf_probe_read_kernel(): the context of a SYSCALL program
 * is a kernel copy of the caller's buffer, and kernels before 7.x (6.19)
 * refuse a load through a context pointer that was moved at all.
 */
SEC("syscall")
int gh_sw_free(struct gh_sw_free_args *args)
{
	u32 i, nr = args->nr, freed = 0;
	typeof(args->words[0]) w;

	if (nr > GH_SW_FREE_BATCH)
		nr = GH_SW_FREE_BATCH;
	for (i = 0; i < nr && i < GH_SW_FREE_BATCH; i++) {
		if (bpf_probe_read_kernel(&w, sizeof(w), &args->words[i]))
			break;
		if (sw_free_one(w.sw_index, w.gtid)) {
			freed++;
			stat_inc(GH_STAT_SW_FREED);
		} else {
			stat_inc(GH_STAT_SW_FREE_REJECTED);
		}
	}
	args->nr_freed = freed;
	return 0;
}

#endif /* GHOST_HYBRID_STATUS_WORDS_BPF_H */
