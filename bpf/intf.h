/* SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0 */
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
 *                and the commit syscall program validates each slot of a
 *                group and moves its task into the target CPU's local DSQ
 *                inside the call, writing the outcome back into the slot
 *                before the call returns (ghOSt's latched commit).
 *   runqueue     a hash map with one typed record per queued task: who owns
 *                it (the agent or the BPF fast path) and since when, for
 *                `bpftool map dump name runqueue`.
 *
 * Both compilers check the layouts below (_Static_assert at the end), so a
 * change that moves a field breaks the build rather than the ABI.
 */
#ifndef GHOST_HYBRID_INTF_H
#define GHOST_HYBRID_INTF_H

#ifndef __bpf__
#include <linux/types.h>
#endif

enum gh_limits {
	GH_MAX_CPUS = 256,	/* transaction slots, agent status words */
	GH_MAX_TASKS = 8192,	/* task status words */
	GH_MAX_CHANNELS = 260,	/* default channel + one per CPU (+ spare) */
	GH_CPUMASK_WORDS = GH_MAX_CPUS / 64,
	GH_DEFAULT_CHANNEL = 0,
	GH_CHANNEL_RING_BYTES = 1 << 20,
	/* Unread fast-path news that wakes an agent with nothing to decide,
	 * in messages (messages.bpf.h, task_msg_wakes); capped by the loader
	 * at a quarter of the channel. */
	GH_NEWS_WAKE_MSGS = 64,
	GH_RINGBUF_HDR_BYTES = 8,	/* a BPF ring buffer record's header */
	/* The slice of a committed or picked task unless --slice says
	 * otherwise: 20 ms, the fair class's order of magnitude. */
	GH_DEFAULT_SLICE_NS = 20000000,
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
	GH_MSG_F_SLICE_ENDED = 1 << 3,	/* PREEMPT: its slice ran out (or a
					 * commit displaced it), not a higher
					 * class: requeue it at the back */
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
	__u64 parent_gtid;	/* reserved: always GH_NULL_GTID */
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

/* GH_NEWS_WAKE_MSGS records on a channel, in bytes (the loader caps it at a
 * quarter of the channel: rodata news_wake_bytes). */
#define GH_NEWS_WAKE_BYTES \
	(GH_NEWS_WAKE_MSGS * (sizeof(struct gh_msg) + GH_RINGBUF_HDR_BYTES))

/* ------------------------------------------------------------ status words */

enum gh_sw_flags {
	GH_SW_INUSE = 1 << 0,
	/* task words */
	GH_SW_TASK_ONCPU = 1 << 1,
	GH_SW_TASK_RUNNABLE = 1 << 2,
	GH_SW_TASK_IS_AGENT = 1 << 3,
	GH_SW_TASK_CANFREE = 1 << 4,	/* the task left (DEAD/DEPARTED sent): the
					 * word keeps its gtid until the agent
					 * frees it with gh_sw_free (ghOSt's
					 * GHOST_SW_F_CANFREE) */
	/* agent words */
	GH_SW_CPU_AVAIL = 1 << 8,	/* CPU is idle, nothing committed */
	GH_SW_BOOST_PRIO = 1 << 9,	/* a higher class holds the agent's CPU */
	GH_SW_AGENT_ACTIVE = 1 << 10,	/* agent may run (not parked) */
	GH_SW_AGENT_GLOBAL = 1 << 11,	/* this agent holds the global role */
};

/*
 * Task words are indexed by gh_payload_task_new.sw_index; agent words by CPU.
 * barrier is Tseq (task) or Aseq (agent). BPF writes the flags, then the
 * barrier, then publishes the message that carries the same value, so an
 * agent that has consumed every message of a task sees barrier == its last
 * seqnum, and an agent that reads the barrier and then the flags sees the
 * state that barrier stands for (or the next one, if a change is under way).
 *
 * Lost messages: when a task's channel is full, its message is dropped, the
 * barrier has moved all the same and msgs_lost counts the loss; the agent
 * of that channel is woken. An agent that finds msgs_lost changed
 * resynchronises the task from this word (flags, cpu, barrier).
 */
struct gh_status_word {
	/*
	 * barrier and channel form one 64-bit word: a message takes its Tseq
	 * and its channel in one atomic add, and gh_associate moves a task to
	 * another channel with one compare-and-swap that fails if the Tseq
	 * moved, so no message of the task is ever left on the old channel
	 * behind the agent's back (ghOSt's ESTALE from ASSOCIATE_QUEUE).
	 */
	__u32 barrier;
	__u32 channel;		/* task words: where its messages go */
	__u64 gtid;		/* owner (task, or the agent thread) */
	__u64 runtime;		/* ns on CPU, updated when it stops */
	__u64 switch_time;	/* ns of the last switch in or out */
	__s32 cpu;		/* CPU it runs or last ran on, -1 never */
	__u32 flags;		/* enum gh_sw_flags */
	__u32 msgs_lost;	/* task words: its messages dropped (ring full) */
	__u32 pad;
};

/* Context of gh_associate: route a task's messages to another channel. */
struct gh_associate_args {
	__u64 gtid;
	__u32 sw_index;		/* from TASK_NEW */
	__u32 channel;		/* GH_DEFAULT_CHANNEL or a CPU channel */
	__u32 barrier;		/* the Tseq the agent consumed last */
	__s32 result;		/* out: 0, -ESTALE (Tseq moved), -ENOENT (gone),
				 * -EINVAL (no such channel) */
};

/* Context of gh_sw_free: status words whose DEAD/DEPARTED the agent consumed. */
enum { GH_SW_FREE_BATCH = 32 };
struct gh_sw_free_args {
	__u32 nr;		/* entries used */
	__u32 nr_freed;		/* out: entries that were CANFREE and are free now */
	struct {
		__u32 sw_index;
		__u32 pad;
		__u64 gtid;	/* must still own the word */
	} words[GH_SW_FREE_BATCH];
};

/* ------------------------------------------------------------ transactions */

/*
 * Slot life cycle: the agent writes gtid/barriers/flags and state=OPEN; the
 * commit program claims each OPEN slot in its mask (CLAIMED), validates it,
 * moves the task into the target CPU's local DSQ if it is valid, and writes
 * one outcome (>= GH_TXN_COMPLETE), all before the call returns. The agent
 * may reuse the slot once it has read the outcome. SUBMITTED is reserved
 * (the first, asynchronous design used it).
 */
enum gh_txn_state {
	GH_TXN_IDLE = 0,
	GH_TXN_OPEN = 1,
	GH_TXN_SUBMITTED = 2,	/* reserved: no backend produces it */
	GH_TXN_CLAIMED = 3,
	/* outcomes */
	GH_TXN_COMPLETE = 16,
	GH_TXN_ABORTED,		/* by the agent (RunRequest::Abort), never committed */
	GH_TXN_TARGET_ONCPU,
	GH_TXN_TARGET_STALE,
	GH_TXN_TARGET_NOT_FOUND,
	GH_TXN_TARGET_NOT_RUNNABLE,
	GH_TXN_AGENT_STALE,
	GH_TXN_CPU_OFFLINE,	/* reserved: an offline CPU is CPU_UNAVAIL */
	GH_TXN_CPU_UNAVAIL,
	GH_TXN_INVALID_FLAGS,
	GH_TXN_INVALID_TARGET,
	GH_TXN_NOT_PERMITTED,
	GH_TXN_INVALID_CPU,
	GH_TXN_NO_AGENT,	/* reserved */
	GH_TXN_POISONED,	/* valid, but another slot of its sync group failed */
	GH_TXN_NR_STATES,
};

enum gh_commit_flags {
	GH_COMMIT_AT_SCHEDULE = 1 << 0,	/* run when the CPU's current task stops */
	GH_COMMIT_AT_TXN_COMMIT = 1 << 1, /* preempt the CPU's task to run now */
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
	/* ghOSt's sync group: every slot COMPLETEs or none does. The first
	 * slot (in CPU order) that fails keeps its outcome; all the others
	 * report POISONED, and none of their tasks moves or runs. */
	GH_COMMIT_ARGS_SYNC_GROUP = 1 << 1,
};

/* --------------------------------------------------------------- runqueue */

/*
 * Every runnable managed task that is not on a CPU has exactly one owner,
 * and sits in that owner's dispatch queue (DSQ) in the kernel:
 *   GH_OWNER_AGENT  the agent decides; only its commits move the task out
 *   GH_OWNER_BPF    the fast path (--bpf-pick) runs it on the next CPU that
 *                   has nothing else; the agent must claim it first
 * The owner changes only by moving the task between the two DSQs, which
 * the kernel does atomically (a move fails if the task left meanwhile).
 */
enum gh_owner {
	GH_OWNER_NONE = 0,	/* on a CPU, asleep, or not managed */
	GH_OWNER_AGENT = 1,
	GH_OWNER_BPF = 2,
};

/* The DSQs of the two owners (user DSQ ids, created by ops.init). */
enum gh_dsq_id {
	GH_DSQ_AGENT = 0x6768,
	GH_DSQ_BPF = 0x6769,
	/* + cpu: where a sync group's task waits, still the agent's, until
	 * every slot of the group is valid (transactions.bpf.h). */
	GH_DSQ_LATCH_BASE = 0x67680000,
};

enum gh_rq_flags {
	GH_RQ_F_WAKEUP = 1 << 0,	/* queued by a wakeup */
	GH_RQ_F_PREEMPTED = 1 << 1,	/* queued after a preemption */
	GH_RQ_F_CLAIMED = 1 << 2,	/* claimed from the fast path by the agent */
	GH_RQ_F_YIELD = 1 << 3,		/* queued after a yield */
};

/*
 * A CPU that pops the fast path's queue first looks this many tasks deep
 * for one that last ran there (or was woken for it): see fast_pick_own()
 * in runqueue.bpf.h; the simulator's TryBpfPick does the same.
 */
#define GH_FAST_PICK_OWN_DEPTH 8

/*
 * How often BPF refreshes the `runqueue` map from the queues: a task that
 * waits this long is in it, one that left is gone at most this much later.
 */
#define GH_RQ_MIRROR_NS (10ULL * 1000 * 1000)
/* The most queued tasks the `runqueue` map shows at once. */
#define GH_RQ_MIRROR_MAX 1024

/* One queued task, as the `runqueue` map (key: gtid) shows it. */
struct gh_rq_entry {
	__u64 gtid;
	__u64 enqueue_time;	/* ns */
	__u32 flags;		/* enum gh_rq_flags */
	__u32 owner;		/* enum gh_owner */
};

/* Context of the ownership syscall program gh_rq_op. */
struct gh_rq_op_args {
	__u64 gtid;
	__u32 op;		/* enum gh_rq_op */
	__s32 result;		/* out: 0, or -ENOENT (not queued by that owner) */
};

enum gh_rq_op {
	GH_RQ_OP_CLAIM = 1,	/* fast path -> agent: the agent decides now */
	GH_RQ_OP_RELEASE = 2,	/* agent -> fast path (back of its queue) */
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

/* Bytes of the kernel's exit dump (ops.dump & co.) kept for the loader. */
#define GH_EXIT_DUMP_LEN 16384

/* Why the scheduler stopped, recorded by ops.exit for the loader. */
struct gh_exit_info {
	__s32 kind;		/* enum scx_exit_kind; 0 while running */
	__s32 pad;
	__s64 exit_code;
	char reason[128];
	char msg[256];
};

/*
 * What the kernel side keeps per CPU (bss cpu_states[], one record per
 * CPU). User space does not use it, but defines it too: the skeleton's bss
 * must have the map's size, which `--dump` and `--attach` check.
 */
struct gh_cpu_state {
	__u64 held_since;	/* ns, valid while held */
	__u32 seqnum;		/* per-CPU switch counter */
	__u32 cur_sw;		/* 1 + status-word index of the managed task
				 * running there, 0: none */
	__u8 held;		/* a higher class holds the CPU */
	__u8 rescued;		/* its local DSQ was re-enqueued in this hold
				 * (rescue_stranded_tasks) */
	__u8 reenq_paused;	/* no re-enqueue of its local DSQ until a task
				 * runs there (cpu_owner.bpf.h) */
	__u8 agent_preempting;	/* the CPU's agent was queued to preempt the
				 * task running there */
	__u32 pad;
};

/* ------------------------------------------------------------------ stats */

enum gh_stat {
	GH_STAT_MSGS,		/* messages published */
	GH_STAT_MSGS_DROPPED,	/* channel full */
	GH_STAT_TXN_SUBMITTED,
	GH_STAT_TXN_COMPLETE,
	GH_STAT_TXN_FAILED,
	GH_STAT_BPF_PICKS,	/* tasks run by the fast path */
	GH_STAT_RQ_STALE,	/* simulator only: stale fast-path records skipped */
	GH_STAT_RQ_FULL,	/* simulator only: fast-path queue full */
	GH_STAT_AGENT_PARKS,
	GH_STAT_AGENT_PINGS,
	GH_STAT_CPU_RELEASES,
	GH_STAT_GLOBAL_HANDOFFS,	/* global role passed on in BPF */
	GH_STAT_SW_EXHAUSTED,	/* no free task status word */
	GH_STAT_STALE_ONCPU,	/* ONCPU flags healed by cpu_take_over */
	GH_STAT_AGENT_MOVES,	/* global agent run off its held CPU */
	GH_STAT_DIRECT_PICKS,	/* fast path: woken straight onto an idle CPU */
	GH_STAT_SLICE_EXTENSIONS, /* slice renewed: nobody was waiting */
	GH_STAT_SW_FREED,	/* task words freed by the agent (gh_sw_free) */
	GH_STAT_SW_FREE_REJECTED, /* gh_sw_free entries not CANFREE or not the gtid's */
	GH_STAT_STRANDED_REENQS, /* a held CPU's local DSQ re-enqueued (once per hold) */
	GH_STAT_AGENTLESS_PICKS, /* of BPF_PICKS: while no agent was attached (--persist) */
	GH_STAT_FORGOTTEN_NUDGES, /* tasks long in the agent's DSQ handed to its loss recovery */
	GH_STAT_REENQ_PAUSES,	/* a CPU's re-enqueues paused: a task kept bouncing back */
	GH_NR_STATS,
};

/*
 * Optional sched_ext features of the running kernel, as the loaded scheduler
 * found them (bss kernel_features, set in ops.init): a kfunc is probed with
 * bpf_ksym_exists(), a kernel field with bpf_core_field_exists(), the way
 * tools/sched_ext/include/scx/compat.bpf.h does. One BPF object loads on
 * every supported kernel; what each missing feature costs is documented
 * where it is used and in README.md.
 */
enum gh_kernel_feature {
	/* scx_bpf_dsq_reenq(): re-enqueue another CPU's local DSQ. Used to
	 * rescue tasks stranded behind a higher class (agents.bpf.h). */
	GH_KFEAT_DSQ_REENQ = 1 << 0,
	/* rq->ext_server: a deadline server runs sched_ext tasks that a
	 * higher class starves. Without it a task left on a CPU's local DSQ
	 * while a fair task hogs that CPU waits until the hog stops (or the
	 * watchdog ejects the scheduler). Nothing here depends on it: it is
	 * reported, so that such an ejection can be understood. */
	GH_KFEAT_EXT_SERVER = 1 << 1,
	GH_NR_KFEATS = 2,
};

/* ------------------------------------------------ persistent schedulers */

/*
 * The version of this ABI: bump it with any change to this file, to the
 * maps a persistent scheduler pins, or to what their fields mean. An agent
 * attaches only to a scheduler loaded with its own version (and layout
 * fingerprint, computed by agent/kernel/persistent_scheduler.cc). Overridable
 * only so that tests can build an agent of another version.
 */
#ifndef GH_ABI_VERSION
#define GH_ABI_VERSION 1
#endif

enum gh_instance_flags {
	GH_INSTANCE_BPF_PICK = 1 << 0,		/* loaded with --bpf-pick */
	GH_INSTANCE_RESUME_AFTER_AGENT = 1 << 1,	/* the centralized model */
};

/*
 * What a persistent scheduler (--persist) records for the agents that
 * attach to it later (--attach), in its pinned map `instance`. Written
 * once by the loader. abi_version stays the first field in every version.
 */
struct gh_instance {
	__u32 abi_version;	/* GH_ABI_VERSION of the loader */
	__u32 flags;		/* enum gh_instance_flags */
	__u64 abi_layout;	/* the loader's layout fingerprint */
	__u64 txn_slice_ns;
	__u64 pick_slice_ns;
	__u32 nr_cpus;		/* possible CPUs when loaded */
	__u32 nr_channels;
	__u32 channel_bytes;
	__u32 pad;
	char loader_version[48];	/* "0.9 (commit abc1234)", for messages */
};

/* ------------------------------------------------------- layout checks */
#ifdef __cplusplus
#define GH_STATIC_ASSERT static_assert
#else
#define GH_STATIC_ASSERT _Static_assert
#endif
#define GH_OFFSETOF(t, m) __builtin_offsetof(t, m)
GH_STATIC_ASSERT(sizeof(struct gh_msg_hdr) == 24, "gh_msg_hdr layout");
GH_STATIC_ASSERT(sizeof(struct gh_msg) == 24 + 8 + 8 * GH_CPUMASK_WORDS, "gh_msg layout");
GH_STATIC_ASSERT(sizeof(struct gh_status_word) == 48, "gh_status_word layout");
GH_STATIC_ASSERT(GH_OFFSETOF(struct gh_status_word, channel) == 4, "barrier+channel: one u64");
GH_STATIC_ASSERT(GH_OFFSETOF(struct gh_status_word, gtid) == 8, "gh_status_word.gtid");
GH_STATIC_ASSERT(sizeof(struct gh_associate_args) == 24, "gh_associate_args layout");
GH_STATIC_ASSERT(sizeof(struct gh_txn) == 48, "gh_txn layout");
GH_STATIC_ASSERT(GH_OFFSETOF(struct gh_txn, state) == 24, "gh_txn.state");
GH_STATIC_ASSERT(sizeof(struct gh_commit_args) == 8 * GH_CPUMASK_WORDS + 8, "gh_commit_args");
GH_STATIC_ASSERT(sizeof(struct gh_rq_entry) == 24, "gh_rq_entry layout");
GH_STATIC_ASSERT(sizeof(struct gh_rq_op_args) == 16, "gh_rq_op_args layout");
GH_STATIC_ASSERT(sizeof(struct gh_agent_args) == 24, "gh_agent_args layout");
GH_STATIC_ASSERT(sizeof(struct gh_sw_free_args) == 8 + 16 * GH_SW_FREE_BATCH, "gh_sw_free_args");
GH_STATIC_ASSERT(sizeof(struct gh_exit_info) == 16 + 128 + 256, "gh_exit_info layout");
GH_STATIC_ASSERT(sizeof(struct gh_cpu_state) == 24, "gh_cpu_state layout");
GH_STATIC_ASSERT(GH_OFFSETOF(struct gh_instance, abi_version) == 0, "gh_instance.abi_version");
GH_STATIC_ASSERT(sizeof(struct gh_instance) == 96, "gh_instance layout");

#endif /* GHOST_HYBRID_INTF_H */
