/* SPDX-License-Identifier: GPL-2.0 */
/*
 * intf.h: the ghost_hybrid ABI, the ONE definition shared by the BPF
 * scheduler (bpf/ghost_hybrid.bpf.c, built against vmlinux.h) and the C++ agent
 * (agent/, compiled against <linux/types.h>). Every struct that crosses the
 * kernel/user boundary is defined here and nowhere else.
 *
 * The names follow ghOSt's uapi (kernel/ghost_uapi.h in ghost-userspace) so
 * that people who know ghOSt feel at home:
 *
 *   message      a record on a channel (a BPF ring buffer): header + payload.
 *   status word  a per-task (Tseq) or per-agent (Aseq) record in an mmapable
 *                array map; the barrier is written by BPF before the message
 *                that carries it is published, and read by the agent with an
 *                acquire load, without a syscall.
 *   transaction  a per-CPU slot in an mmapable array map: the agent fills it,
 *                a commit syscall program submits a group of them, and
 *                ops.dispatch on each target CPU validates and applies it,
 *                writing the outcome back into the slot.
 *   runqueue     the fast path's FIFO of runnable tasks, one array-map value
 *                that `bpftool map dump` prints as typed records.
 *
 * Versioning: GH_ABI_VERSION changes whenever a layout below changes; the
 * loader refuses a BPF object whose version differs from its own.
 */
#ifndef GHOST_HYBRID_INTF_H
#define GHOST_HYBRID_INTF_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define GH_ABI_VERSION 1

enum gh_limits {
	GH_MAX_CPUS = 256,	/* transaction slots, agent status words */
	GH_MAX_TASKS = 8192,	/* task status words */
	GH_MAX_CHANNELS = 260,	/* default channel + one per CPU (+ spare) */
	GH_RQ_SIZE = 4096,	/* fast-path runqueue capacity (power of 2) */
	GH_CPUMASK_WORDS = GH_MAX_CPUS / 64,
	GH_DEFAULT_CHANNEL = 0,
	GH_CHANNEL_RING_BYTES = 1 << 20,
};

/*
 * gtid: a task id that survives pid reuse. The low 32 bits are the pid, the
 * high 32 bits a generation counter the scheduler increments for every task
 * it admits, so a recycled pid always gets a different gtid.
 */
#define GH_GTID_PID(gtid) ((__u32)((gtid) & 0xffffffffULL))
#define GH_GTID_MAKE(gen, pid) (((__u64)(gen) << 32) | (__u32)(pid))
#define GH_NULL_GTID 0ULL

/* ---------------------------------------------------------------- messages */

enum gh_msg_type {
	GH_MSG_NONE = 0,
	/* task messages: payload starts with the task's gtid */
	GH_MSG_TASK_NEW = 1,
	GH_MSG_TASK_WAKEUP,
	GH_MSG_TASK_BLOCKED,
	GH_MSG_TASK_PREEMPT,
	GH_MSG_TASK_YIELD,
	GH_MSG_TASK_DEAD,
	GH_MSG_TASK_DEPARTED,
	GH_MSG_TASK_AFFINITY_CHANGED,
	GH_MSG_TASK_PRIORITY_CHANGED,
	GH_MSG_TASK_ON_CPU,
	GH_MSG_TASK_LAST = GH_MSG_TASK_ON_CPU,
	/* CPU messages: payload starts with the CPU */
	GH_MSG_CPU_TICK = 64,
	GH_MSG_CPU_AVAILABLE,	/* agent's CPU returned by a higher class */
	GH_MSG_CPU_BUSY,	/* agent's CPU taken by a higher class */
	GH_MSG_CPU_LAST = GH_MSG_CPU_BUSY,
	GH_MSG_NR_TYPES = GH_MSG_CPU_LAST + 1,
};

/* gh_msg_hdr.flags */
enum gh_msg_flags {
	GH_MSG_F_BPF_QUEUED = 1 << 0,	/* task is on the BPF fast-path runqueue */
	GH_MSG_F_BPF_PICKED = 1 << 1,	/* TASK_ON_CPU: picked by BPF, no txn */
	GH_MSG_F_WAS_CURRENT = 1 << 2,	/* DEPARTED while on a CPU */
};

struct gh_msg_hdr {
	__u16 type;	/* enum gh_msg_type */
	__u16 length;	/* bytes, header included */
	__u32 seqnum;	/* Tseq for task messages, Aseq for CPU messages */
	__u32 flags;	/* enum gh_msg_flags */
	__u32 cpu;	/* CPU the event happened on */
	__u64 time;	/* bpf_ktime_get_ns() at the event */
};

struct gh_payload_task_new {
	__u64 gtid;
	__u64 parent_gtid;	/* GH_NULL_GTID when the parent is unmanaged */
	__u64 runtime;		/* ns of CPU time so far */
	__u32 sw_index;		/* index of the task's status word */
	__u32 runnable;
	__s32 nice;
	__u32 pad;
};

struct gh_payload_task_wakeup {
	__u64 gtid;
	__s32 last_ran_cpu;
	__s32 wake_up_cpu;	/* the CPU sched_ext selected */
	__s32 waker_cpu;
	__u32 deferrable;
};

/* BLOCKED, PREEMPT, YIELD, DEPARTED, DEAD share one layout. */
struct gh_payload_task_off {
	__u64 gtid;
	__u64 runtime;
	__u32 cpu_seqnum;	/* per-CPU event counter at the switch */
	__u32 pad;
};

struct gh_payload_task_affinity {
	__u64 gtid;
	__u64 cpumask[GH_CPUMASK_WORDS];
};

struct gh_payload_task_priority {
	__u64 gtid;
	__u32 weight;
	__s32 nice;
};

struct gh_payload_task_on_cpu {
	__u64 gtid;
	__u64 commit_time;	/* ns; from the transaction, or the BPF pick */
	__u32 cpu_seqnum;
	__u32 pad;
};

struct gh_payload_cpu {
	__u32 cpu;
	__u32 reason;		/* CPU_BUSY: enum scx_cpu_preempt_reason */
	__u64 pad;
};

/* Every message occupies one fixed-size record on its channel. */
struct gh_msg {
	struct gh_msg_hdr hdr;
	union {
		__u64 gtid;	/* common prefix of every task payload */
		struct gh_payload_task_new task_new;
		struct gh_payload_task_wakeup wakeup;
		struct gh_payload_task_off off;
		struct gh_payload_task_affinity affinity;
		struct gh_payload_task_priority priority;
		struct gh_payload_task_on_cpu on_cpu;
		struct gh_payload_cpu cpu;
	};
};

/* ------------------------------------------------------------ status words */

enum gh_sw_flags {
	GH_SW_INUSE = 1 << 0,
	/* task words */
	GH_SW_TASK_ONCPU = 1 << 1,
	GH_SW_TASK_RUNNABLE = 1 << 2,
	GH_SW_TASK_IS_AGENT = 1 << 3,
	/* agent words */
	GH_SW_CPU_AVAIL = 1 << 8,	/* CPU is idle, nothing committed */
	GH_SW_BOOST_PRIO = 1 << 9,	/* a higher class holds the agent's CPU */
	GH_SW_AGENT_ACTIVE = 1 << 10,	/* agent may run (not parked) */
	GH_SW_AGENT_GLOBAL = 1 << 11,	/* this agent holds the global role */
};

/*
 * Task words are indexed by gh_payload_task_new.sw_index; agent words by CPU.
 * barrier is Tseq (task) or Aseq (agent). BPF writes the barrier before
 * publishing the message that carries the same value, so an agent that has
 * consumed every message of a task sees barrier == its last seqnum.
 */
struct gh_status_word {
	__u32 barrier;
	__u32 flags;		/* enum gh_sw_flags */
	__u64 gtid;		/* owner (task, or the agent thread) */
	__u64 runtime;		/* ns on CPU, updated when it stops */
	__u64 switch_time;	/* ns of the last switch in or out */
	__s32 cpu;		/* CPU it runs or last ran on, -1 never */
	__u32 pad;
};

/* ------------------------------------------------------------ transactions */

/*
 * Slot life cycle: the agent writes gtid/barriers/flags and state=OPEN; the
 * commit program moves OPEN slots in its mask to SUBMITTED and kicks their
 * CPUs; ops.dispatch on the target CPU claims it (CLAIMED), validates and
 * writes one outcome (>= GH_TXN_COMPLETE). The agent may reuse the slot once
 * it has read the outcome.
 */
enum gh_txn_state {
	GH_TXN_IDLE = 0,
	GH_TXN_OPEN = 1,
	GH_TXN_SUBMITTED = 2,
	GH_TXN_CLAIMED = 3,
	/* outcomes */
	GH_TXN_COMPLETE = 16,
	GH_TXN_ABORTED,
	GH_TXN_TARGET_ONCPU,
	GH_TXN_TARGET_STALE,
	GH_TXN_TARGET_NOT_FOUND,
	GH_TXN_TARGET_NOT_RUNNABLE,
	GH_TXN_AGENT_STALE,
	GH_TXN_CPU_OFFLINE,
	GH_TXN_CPU_UNAVAIL,
	GH_TXN_INVALID_FLAGS,
	GH_TXN_INVALID_TARGET,
	GH_TXN_NOT_PERMITTED,
	GH_TXN_INVALID_CPU,
	GH_TXN_NO_AGENT,
	GH_TXN_POISONED,
	GH_TXN_NR_STATES,
};

enum gh_commit_flags {
	GH_COMMIT_AT_SCHEDULE = 1 << 0,	/* apply at the CPU's next schedule */
	GH_COMMIT_AT_TXN_COMMIT = 1 << 1, /* preempt the CPU to apply now */
	GH_ALLOW_TASK_ONCPU = 1 << 2,
	GH_COMMIT_FLAGS_ALL = (1 << 3) - 1,
};

enum gh_run_flags {
	GH_RTLA_ON_PREEMPT = 1 << 0,	/* return to the local agent ... */
	GH_RTLA_ON_BLOCKED = 1 << 1,
	GH_RTLA_ON_YIELD = 1 << 2,
	GH_RTLA_ON_IDLE = 1 << 3,
	GH_SEND_TASK_ON_CPU = 1 << 4,
	GH_RUN_FLAGS_ALL = (1 << 5) - 1,
};

/* The target of a transaction that asks the CPU to stay idle. */
#define GH_IDLE_GTID (~0ULL)

struct gh_txn {
	__u64 gtid;		/* target task, or GH_IDLE_GTID */
	__u32 task_barrier;	/* agent's Tseq of the target */
	__u32 agent_barrier;	/* agent's Aseq, checked iff commit_flags... */
	__u32 commit_flags;	/* enum gh_commit_flags */
	__u32 run_flags;	/* enum gh_run_flags */
	__u32 state;		/* enum gh_txn_state */
	__u32 check_agent_barrier; /* 1: validate agent_barrier (local commit) */
	__u64 commit_time;	/* ns when the outcome was written */
	__u64 slice_ns;		/* 0: the scheduler's default */
};

/* Context of the commit syscall program: the CPUs whose slots to submit. */
struct gh_commit_args {
	__u64 cpumask[GH_CPUMASK_WORDS];
	__u32 flags;		/* enum gh_commit_args_flags */
	__u32 nr_submitted;	/* out */
};

enum gh_commit_args_flags {
	GH_COMMIT_ARGS_LOCAL_YIELD = 1 << 0, /* caller's agent parks after */
};

/* --------------------------------------------------------------- runqueue */

enum gh_rq_flags {
	GH_RQ_F_WAKEUP = 1 << 0,	/* queued by a wakeup */
	GH_RQ_F_NEW = 1 << 1,		/* queued by TASK_NEW */
	GH_RQ_F_PRIO_BOOST = 1 << 2,	/* requeued at the front by the agent */
	GH_RQ_F_YIELD = 1 << 3,		/* queued after a yield */
};

struct gh_rq_entry {
	__u64 gtid;
	__u64 enqueue_time;	/* ns */
	__u32 flags;		/* enum gh_rq_flags */
	__u32 enq_seq;		/* task's enqueue generation; stale if it moved */
};

/*
 * The whole fast-path runqueue is one array-map value so that one
 * bpf_spin_lock covers head, tail and records: BPF and the agent's reorder
 * programs can never interleave. Records live in [head, tail) modulo
 * GH_RQ_SIZE.
 */
#ifdef __bpf__
#define GH_SPIN_LOCK struct bpf_spin_lock
#else
#define GH_SPIN_LOCK struct { __u32 val; }
#endif
struct gh_runqueue {
	GH_SPIN_LOCK lock;
	__u32 head;
	__u32 tail;
	__u32 pad;
	struct gh_rq_entry entries[GH_RQ_SIZE];
};

/* Context of the runqueue-reorder syscall program. */
struct gh_rq_op_args {
	__u64 gtid;
	__u32 op;		/* enum gh_rq_op */
	__s32 result;		/* out: 0, or -ENOENT / -ENOSPC */
};

enum gh_rq_op {
	GH_RQ_OP_REQUEUE_FRONT = 1,	/* move to the head (prio_boost) */
	GH_RQ_OP_REQUEUE_BACK = 2,	/* move to the tail (yield) */
	GH_RQ_OP_REMOVE = 3,
};

/* Context of the agent programs gh_ping and gh_local_yield. */
struct gh_agent_args {
	__s32 cpu;		/* the agent's CPU */
	__u32 make_global;	/* gh_ping: hand it the global role */
	__u32 check_barrier;	/* gh_local_yield: park only if Aseq == ... */
	__u32 agent_barrier;	/* ... this value */
	__s32 result;		/* out: 0 or -errno (-ESTALE: Aseq moved) */
	__s32 from_cpu;		/* gh_ping make_global: only from this CPU's agent (-1: any) */
};

/* Why the scheduler stopped, recorded by ops.exit for the loader. */
struct gh_exit_info {
	__s32 kind;		/* enum scx_exit_kind; 0 while running */
	__s32 pad;
	__s64 exit_code;
	char reason[128];
	char msg[256];
};

/* ------------------------------------------------------------------ stats */

enum gh_stat {
	GH_STAT_MSGS,		/* messages published */
	GH_STAT_MSGS_DROPPED,	/* channel full */
	GH_STAT_TXN_SUBMITTED,
	GH_STAT_TXN_COMPLETE,
	GH_STAT_TXN_FAILED,
	GH_STAT_BPF_PICKS,	/* tasks run by the fast path */
	GH_STAT_RQ_STALE,	/* runqueue records skipped as stale */
	GH_STAT_RQ_FULL,
	GH_STAT_AGENT_PARKS,
	GH_STAT_AGENT_PINGS,
	GH_STAT_CPU_RELEASES,
	GH_STAT_GLOBAL_HANDOFFS,	/* global role passed on in BPF */
	GH_STAT_SW_EXHAUSTED,	/* no free task status word */
	GH_STAT_STALE_ONCPU,	/* ONCPU flags healed by cpu_take_over */
	GH_STAT_AGENT_MOVES,	/* global agent run off its held CPU */
	GH_NR_STATS,
};

#endif /* GHOST_HYBRID_INTF_H */
