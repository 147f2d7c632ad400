/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wake.bpf.h: waking a parked agent.
 *
 * A parked agent has cleared GH_SW_AGENT_ACTIVE in its status word and
 * sleeps in poll() on its doorbell, a small ring buffer of its own. Waking
 * it sets ACTIVE first and rings the doorbell only if ACTIVE was clear, so
 * an agent that re-checks ACTIVE before every sleep never misses a wakeup
 * and a running agent costs one atomic, not a ring wakeup (an irq_work
 * self-interrupt, several us in a VM).
 */
#ifndef GHOST_HYBRID_WAKE_BPF_H
#define GHOST_HYBRID_WAKE_BPF_H

#include "common.bpf.h"

struct doorbell_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} doorbell_template SEC(".maps");

/* One doorbell per CPU's agent; the loader creates and inserts them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, GH_MAX_CPUS);
	__type(key, u32);
	__array(values, struct doorbell_ring);
} doorbells SEC(".maps");

static __always_inline void doorbell_ring(s32 cpu)
{
	u32 idx = cpu;
	u64 one = 1;
	void *ring = bpf_map_lookup_elem(&doorbells, &idx);

	if (ring)
		bpf_ringbuf_output(ring, &one, sizeof(one), BPF_RB_FORCE_WAKEUP);
}

/* Makes @cpu's agent runnable if it is parked (Ping). */
static __always_inline void agent_wake(s32 cpu)
{
	struct gh_status_word *asw = agent_sw_of(cpu);
	u32 old;

	if (!asw)
		return;
	old = __sync_fetch_and_or(&asw->flags, GH_SW_AGENT_ACTIVE);
	if (old & GH_SW_AGENT_ACTIVE)
		return;
	stat_inc(GH_STAT_AGENT_PINGS);
	doorbell_ring(cpu);
}

#endif /* GHOST_HYBRID_WAKE_BPF_H */
