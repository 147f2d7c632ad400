/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * common.bpf.h: state shared by every part of the ghost_hybrid scheduler:
 * load-time settings, the maps that user space mmaps (status words,
 * transaction slots), per-task context, counters, and small helpers.
 * The bottom of the tower of headers; each header includes only the ones
 * below it:
 *
 *   ghost_hybrid.bpf.c   the sched_ext ops: they orchestrate
 *   agents.bpf.h         agent threads: placement, Ping, LocalYield, handoff
 *   transactions.bpf.h   the commit program (latched commits)
 *   runqueue.bpf.h       custody: the two owners' DSQs, the fast path
 *   cpu_owner.bpf.h      CPUs a higher class holds
 *   messages.bpf.h       message builders, Tseq / Aseq
 *   wake.bpf.h           agent doorbells (wakeups)
 *   common.bpf.h         settings, maps, per-task context, helpers
 */
#ifndef GHOST_HYBRID_COMMON_BPF_H
#define GHOST_HYBRID_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "intf.h"

#define GH_SCHED_EXT 7	/* the policy of sched_ext tasks */

#define BPF_STRUCT_OPS(name, args...) SEC("struct_ops/" #name) BPF_PROG(name, ##args)
#define BPF_STRUCT_OPS_SLEEPABLE(name, args...) SEC("struct_ops.s/" #name) BPF_PROG(name, ##args)
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))
#define GH_PF_EXITING 0x00000004	/* include/linux/sched.h */

/* task_ctx.claimed_cpu when select_cpu claimed no idle CPU for the enqueue: */
#define GH_CLAIM_NONE -1	/* none was looked for (no select_cpu ran) */
#define GH_CLAIM_NONE_IDLE -2	/* select_cpu found every allowed CPU busy */

/* errno values (vmlinux.h has none) */
#define ENOENT 2
#define EAGAIN 11
#define ENOMEM 12
#define EINVAL 22
#define ESTALE 116

char _license[] SEC("license") = "GPL";

/* ---- load-time settings (set by the loader through skel->rodata) ---- */
const volatile bool bpf_pick;		/* the fast path: BPF runs queued tasks */
const volatile __u64 txn_slice_ns = SCX_SLICE_INF; /* committed tasks */
const volatile __u64 pick_slice_ns = GH_DEFAULT_SLICE_NS;	/* fast-path picks */
const volatile __u64 agent_slice_ns = SCX_SLICE_INF;
/* A task waiting in the agent's DSQ this long is treated as forgotten by
 * its agent (forgotten_task_nudge); the loader sets it below the watchdog. */
const volatile __u64 forgotten_after_ns = 1000000000;
/* A task that must stay on its CPU (task_migration_disabled) resumes there
 * first, for this long, to leave its migrate_disable() section. */
const volatile __u64 pinned_resume_slice_ns = 1000000;
const volatile __u64 handoff_delay_ns = 100000000; /* fallback: global CPU held this long */
const volatile bool send_cpu_tick;
/* Centralized model: a task preempted by its CPU's agent resumes there when
 * the agent parks (the agent keeps believing it runs there). The per-CPU
 * model's agents recommit their CPU's task themselves instead. */
const volatile bool resume_after_agent;
/* --persist: the scheduler outlives its agent (its link is pinned), and
 * while no agent is attached BPF runs every managed task itself
 * (agentless()), until the next agent attaches (ghost_hybrid --attach). */
const volatile bool persist;
const volatile __u32 nr_cpus = 1;		/* possible CPUs, <= GH_MAX_CPUS */
/* Unread bytes of fast-path news that wake an agent with nothing to decide:
 * GH_NEWS_WAKE_MSGS records, or a quarter of a smaller channel. */
const volatile __u32 news_wake_bytes = GH_NEWS_WAKE_BYTES;

/* ---- run-time state user space reads/writes through skel->bss/data ---- */
__u64 enclave[GH_CPUMASK_WORDS];		/* CPUs this scheduler may use */
__s32 agent_pid[GH_MAX_CPUS];		/* agent thread tid per CPU, 0: none */
/* the agent CPU each channel wakes, -1: none (see channel_agent_cpu) */
__s32 chan_agent[GH_MAX_CHANNELS] = { [0 ... GH_MAX_CHANNELS - 1] = -1 };
__u32 cpu_channel[GH_MAX_CPUS];		/* channel for a CPU's CPU messages */
__s32 global_cpu = -1;			/* CPU of the global agent, -1: none */
/* The enclave CPUs nearest the global CPU first (Topology::NearestFirst),
 * rewritten by the agent each time it moves the role; -1 ends the list. */
__s32 global_successors[GH_MAX_CPUS] = { [0 ... GH_MAX_CPUS - 1] = -1 };
struct gh_cpu_state cpu_states[GH_MAX_CPUS];	/* one record per CPU: cpu_state_of() */
__u64 stats[GH_NR_STATS];
/* Tasks waiting in each owner's DSQ (enum gh_owner), kept by custody_record
 * and custody_end in runqueue.bpf.h: read where a DSQ's length is a hint,
 * it costs no kfunc call and hash lookup of the DSQ. */
__s64 nr_owned[4];			/* indexed by owner & 3 */
__u64 kernel_features;			/* enum gh_kernel_feature, by ops.init */
__u64 gtid_generation;
__u32 nr_agents;			/* agent threads alive (ops.enable/disable) */
__s32 agent_tgid;			/* the process whose agents decide, 0:
					 * none; written by that process */

struct gh_exit_info exit_info;		/* written by ops.exit */
char exit_dump[GH_EXIT_DUMP_LEN];	/* the kernel's debug dump, by ops.exit */

/* ---- maps user space mmaps ---- */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, GH_MAX_TASKS);
	__type(key, u32);
	__type(value, struct gh_status_word);
} task_sw SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, GH_MAX_CPUS);
	__type(key, u32);
	__type(value, struct gh_status_word);
} agent_sw SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, GH_MAX_CPUS);
	__type(key, u32);
	__type(value, struct gh_txn);
} txn SEC(".maps");

/* Free task status-word indices; the loader fills it before attaching. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, GH_MAX_TASKS);
	__type(value, u32);
} sw_free SEC(".maps");

/* ---- per-task context ---- */
struct task_ctx {
	u64 gtid;		/* GH_NULL_GTID until ops.enable */
	u32 sw_idx;
	u32 owner;		/* enum gh_owner: whose DSQ it waits in */
	u32 is_agent;
	s32 agent_cpu;
	u32 runnable;
	u32 oncpu;
	u32 yielding;		/* ops.yield seen, stopping() sends YIELD */
	u32 picked_by_bpf;	/* next running() is a fast-path pick */
	u32 txn_commit;		/* next running() applies a transaction */
	u32 displaced;		/* agent preempted while runnable (not a yield) */
	u32 agent_yielded;	/* agent stopped by sched_yield(): queue it last */
	u32 resuming;		/* dequeued while running, not asleep: a property
				 * change; its next running() continues */
	u32 resume_here;	/* stopped for its agent: ops.enqueue puts it
				 * back on its CPU, with no message */
	u64 commit_time;
	u64 queued_at;		/* when it entered its owner's DSQ */
	u32 rq_flags;		/* enum gh_rq_flags: why it is queued */
	u64 nudged_at;		/* when forgotten_task_nudge last flagged it */
	u64 run_start;
	u32 weight;		/* last reported, to tell changes from reports */
	u32 reenq_streak;	/* SCX_ENQ_REENQ enqueues since it last ran */
	u64 slice_ns;		/* the slice of its last commit or pick */
	s32 claimed_cpu;	/* idle CPU select_cpu took for it, or GH_CLAIM_* */
	u16 news_pending;	/* NEW, WAKEUP, PREEMPT or YIELD: sent once the
				 * task is queued (news_flush) */
	s16 waker_cpu;		/* of the pending TASK_WAKEUP */
	u32 news_flags;		/* of the pending message */
	s32 reenq_paused_cpu;	/* the CPU whose re-enqueues its bounces
				 * paused; valid while reenq_streak >=
				 * GH_REENQ_STREAK_PAUSE (cpu_owner.bpf.h) */
	u64 cpumask[GH_CPUMASK_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

/* A BPF timer, alone in a one-slot array map (the kernel keeps timers in maps). */
struct periodic_timer {
	struct bpf_timer timer;
};

/*
 * Starts the timer of one-slot map @map: @fn runs after @ns, and again
 * each time it restarts the timer itself. Called from ops.init.
 */
static __always_inline s32 periodic_timer_arm(void *map, void *fn, u64 ns)
{
	u32 zero = 0;
	struct periodic_timer *t = bpf_map_lookup_elem(map, &zero);

	if (!t)
		return -ENOENT;
	bpf_timer_init(&t->timer, map, 1 /* CLOCK_MONOTONIC */);
	bpf_timer_set_callback(&t->timer, fn);
	return bpf_timer_start(&t->timer, ns, 0);
}

static __always_inline struct task_ctx *lookup_task_ctx(struct task_struct *p)
{
	return bpf_task_storage_get(&task_ctxs, p, 0, 0);
}

static __always_inline void stat_inc(u32 idx)
{
	if (idx < GH_NR_STATS)
		__sync_fetch_and_add(&stats[idx], 1);
}

/* How many tasks wait in @owner's DSQ. */
static __always_inline s64 owned_queued(u32 owner)
{
	return READ_ONCE(nr_owned[owner & 3]);
}

static __always_inline bool cpu_valid(s32 cpu)
{
	return cpu >= 0 && cpu < GH_MAX_CPUS && (u32)cpu < nr_cpus;
}

/*
 * @cpu's record. The index is masked, never checked: a caller whose @cpu
 * may be out of range checks cpu_valid() first.
 */
static __always_inline struct gh_cpu_state *cpu_state_of(s32 cpu)
{
	return &cpu_states[cpu & (GH_MAX_CPUS - 1)];
}

static __always_inline bool cpu_in_enclave(s32 cpu)
{
	if (!cpu_valid(cpu))
		return false;
	return enclave[(cpu / 64) & (GH_CPUMASK_WORDS - 1)] & (1ULL << (cpu % 64));
}

/*
 * How @tctx's affinity meets the enclave: @some, it may run on at least
 * one enclave CPU; returns true if it may run on all of them.
 */
static __always_inline bool task_mask_covers_enclave(struct task_ctx *tctx, bool *some)
{
	bool all = true;
	int i;

	*some = false;
	for (i = 0; i < GH_CPUMASK_WORDS; i++) {
		*some |= (enclave[i] & tctx->cpumask[i]) != 0;
		all &= (enclave[i] & ~tctx->cpumask[i]) == 0;
	}
	return all;
}

/* The task's status word, or NULL (also for a NULL @tctx). */
static __always_inline struct gh_status_word *task_sw_of(struct task_ctx *tctx)
{
	u32 idx;

	if (!tctx)
		return NULL;
	idx = tctx->sw_idx;
	return bpf_map_lookup_elem(&task_sw, &idx);
}

static __always_inline struct gh_status_word *agent_sw_of(s32 cpu)
{
	u32 idx = cpu;

	if (!cpu_valid(cpu))
		return NULL;
	return bpf_map_lookup_elem(&agent_sw, &idx);
}

static __always_inline struct gh_txn *txn_of(s32 cpu)
{
	u32 idx = cpu;

	if (!cpu_valid(cpu))
		return NULL;
	return bpf_map_lookup_elem(&txn, &idx);
}

/*
 * True if @p is inside a migrate_disable() section: it cannot leave its CPU
 * until it has run there again, so neither the agent nor a successor CPU
 * can take it. BPF programs themselves run with migration disabled (the
 * struct_ops trampoline disables it for current), so current's count is
 * one higher than the task's own.
 */
static __always_inline bool task_migration_disabled(struct task_struct *p)
{
	u32 md = p->migration_disabled;

	if (p == bpf_get_current_task_btf() && md > 0)
		md--;
	return md > 0;
}

/*
 * A persistent scheduler with no agent attached (between an agent's exit
 * or death and the next --attach): BPF runs every managed task itself,
 * in FIFO order, with the kernel enforcing pick_slice_ns.
 */
static __always_inline bool agentless(void)
{
	return persist && !READ_ONCE(nr_agents);
}

/* True while BPF runs queued tasks: --bpf-pick, or no agent to decide. */
static __always_inline bool fast_path_on(void)
{
	return bpf_pick || agentless();
}

/* Managed task = has a gtid and is not an agent thread. */
static __always_inline bool is_managed(struct task_ctx *tctx)
{
	return tctx && tctx->gtid != GH_NULL_GTID && !tctx->is_agent;
}

#endif /* GHOST_HYBRID_COMMON_BPF_H */
