/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * exit_dump.bpf.h: our lines in the kernel's debug dump of an ejection.
 *
 * When sched_ext ejects the scheduler (a stall, an error), it writes a
 * debug dump into the exit info: each CPU's state and each runnable task.
 * ops.dump, ops.dump_cpu and ops.dump_task add ours to it: the global
 * role and both owner DSQs' depths; each CPU's transaction slot and agent
 * status word; each managed task's gtid, Tseq, owner and held-back message.
 * ops.exit (ghost_hybrid.bpf.c) copies the dump for the loader to print.
 */
#ifndef GHOST_HYBRID_EXIT_DUMP_BPF_H
#define GHOST_HYBRID_EXIT_DUMP_BPF_H

#include "common.bpf.h"

#define gh_dump(fmt, args...)							\
({										\
	static char ___fmt[] = fmt;						\
	unsigned long long ___param[___bpf_narg(args)];				\
	_Pragma("GCC diagnostic push")						\
	_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")			\
	___bpf_fill(___param, args);						\
	_Pragma("GCC diagnostic pop")						\
	scx_bpf_dump_bstr(___fmt, ___param, sizeof(___param));			\
})

void BPF_STRUCT_OPS(ghost_hybrid_dump, struct scx_dump_ctx *dctx)
{
	gh_dump("ghost_hybrid: global_cpu=%d bpf_pick=%d persist=%d agent threads %u of pid %d",
		global_cpu, bpf_pick, persist, nr_agents, agent_tgid);
	gh_dump("ghost_hybrid: agent DSQ %d queued, fast-path DSQ %d",
		scx_bpf_dsq_nr_queued(GH_DSQ_AGENT), scx_bpf_dsq_nr_queued(GH_DSQ_BPF));
}

void BPF_STRUCT_OPS(ghost_hybrid_dump_cpu, struct scx_dump_ctx *dctx, s32 cpu, bool idle)
{
	struct gh_status_word *asw = agent_sw_of(cpu);
	struct gh_txn *t = txn_of(cpu);

	if (!cpu_in_enclave(cpu) || !asw || !t)
		return;
	gh_dump("ghost_hybrid: txn state=%u gtid=%llx | agent tid=%u aseq=%u flags=%x held=%d",
		t->state, t->gtid, (u32)GH_GTID_PID(asw->gtid), asw->barrier, asw->flags,
		cpu_state_of(cpu)->held);
}

void BPF_STRUCT_OPS(ghost_hybrid_dump_task, struct scx_dump_ctx *dctx, struct task_struct *p)
{
	struct task_ctx *tctx = lookup_task_ctx(p);
	struct gh_status_word *sw;

	if (!tctx || !is_managed(tctx))
		return;
	sw = task_sw_of(tctx);
	gh_dump("ghost_hybrid: gtid=%llx tseq=%u owner=%s runnable=%u oncpu=%u news=%u",
		tctx->gtid, sw ? sw->barrier : 0, tctx->owner == GH_OWNER_BPF ? "bpf" : "agent",
		tctx->runnable, tctx->oncpu, tctx->news_pending);
}

#endif /* GHOST_HYBRID_EXIT_DUMP_BPF_H */
