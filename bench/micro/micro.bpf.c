/* SPDX-License-Identifier: GPL-2.0 */
/*
 * micro.bpf.c: the ABI microbenchmarks' BPF object. It loads on a kernel
 * WITHOUT sched_ext (the host), yet runs the scheduler's real code:
 *
 *   - the message path of bpf/messages.bpf.h, unchanged: send_task_off_msg()
 *     advances the task's Tseq, reserves a gh_msg on the task's channel
 *     (default_channel, looked up through the `channels` map-of-maps and the
 *     task_chan hash), stamps it with bpf_ktime_get_ns(), publishes it, counts
 *     it, and advances the channel agent's Aseq (agent_wake() of
 *     bpf/agents.bpf.h: the agent is ACTIVE, i.e. spinning, so no doorbell);
 *   - gh_commit, the transaction group commit program of
 *     bpf/transactions.bpf.h, unchanged, built from the same header.
 *
 * Host-only differences, all in this file:
 *   - scx_bpf_kick_cpu() is a sched_ext kfunc the host kernel lacks. It is
 *     replaced by bench_kick_cpu() below: on a kernel that has the kfunc it
 *     calls it (bpf_ksym_exists), on the host it only counts the kick in
 *     bench_kicks_stubbed. The kick's cost (setting the CPU in the kick mask,
 *     queueing the irq_work, and the IPI the target CPU receives) is
 *     therefore EXCLUDED from the host's commit figures; it is measured in
 *     the guest.
 *   - scx_bpf_cpu_curr() (gh_commit asks, per target CPU, whether a higher
 *     class runs there: cpu_owner.bpf.h) is likewise stubbed on the host: it
 *     returns NULL ("nothing of a higher class") and counts the call in
 *     bench_cpu_curr_stubbed. The read of each target CPU's current task
 *     (its rq->curr, then pid and policy, often a remote cache miss) is
 *     EXCLUDED on the host.
 *   - the task's task_ctx is found with an array-map lookup (bench_tctx)
 *     where the scheduler calls bpf_task_storage_get() (lookup_task_ctx), a
 *     helper syscall programs may not call.
 *   - -Wno-unused-function (see micro.mk): agents.bpf.h's timer callback is
 *     unused here because nothing arms the handoff timer.
 *
 * No file of bpf/ is copied or edited: the headers are included as they are.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Kicks the host could not send (see above); read by the benchmark. */
__u64 bench_kicks_stubbed;
/* scx_bpf_cpu_curr() calls the host answered with NULL (see above). */
__u64 bench_cpu_curr_stubbed;

/* Parenthesised names below call the real kfunc, not the macro. */
static __always_inline void bench_kick_cpu(s32 cpu, u64 flags)
{
	if (bpf_ksym_exists(scx_bpf_kick_cpu))
		(scx_bpf_kick_cpu)(cpu, flags);
	else
		bench_kicks_stubbed++;
}
#define scx_bpf_kick_cpu(cpu, flags) bench_kick_cpu(cpu, flags)

static __always_inline struct task_struct *bench_cpu_curr(s32 cpu)
{
	if (bpf_ksym_exists(scx_bpf_cpu_curr))
		return (scx_bpf_cpu_curr)(cpu);
	bench_cpu_curr_stubbed++;
	return NULL;
}
#define scx_bpf_cpu_curr(cpu) bench_cpu_curr(cpu)

#include "common.bpf.h"
#include "messages.bpf.h"
#include "agents.bpf.h"
#include "transactions.bpf.h"
#if __has_include("cpu_owner.bpf.h")
#include "cpu_owner.bpf.h"	/* gh_commit's "does a higher class run there?" */
#endif

/*
 * The managed task whose messages the benchmark sends: its task_ctx lives in
 * a one-entry array map, so that each send looks it up as the scheduler's
 * lookup_task_ctx() does (an array lookup instead of bpf_task_storage_get,
 * which syscall programs may not call). bench_setup fills it from the two
 * globals below.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct task_ctx);
} bench_tctx SEC(".maps");

__u64 bench_gtid;
__u32 bench_sw_idx;

static __always_inline struct task_ctx *bench_task_ctx(void)
{
	u32 zero = 0;

	return bpf_map_lookup_elem(&bench_tctx, &zero);
}

struct bench_send_args {
	__s32 cpu;		/* CPU the event "happened" on */
	__u32 count;		/* bench_send_batch: messages to send */
	__u64 runtime;		/* payload */
	__u64 elapsed_ns;	/* out, bench_send_batch: ns for all of them */
};

/*
 * One PREEMPT message, exactly as ops.stopping sends it (same function).
 * hdr.time is the bpf_ktime_get_ns() stamp the consumer subtracts.
 */
SEC("syscall")
int bench_send(struct bench_send_args *args)
{
	struct task_ctx *tctx = bench_task_ctx();

	if (tctx)
		send_task_off_msg(tctx, GH_MSG_TASK_PREEMPT, 0, args->cpu, args->runtime);
	return 0;
}

/* @count messages back to back, timed inside BPF (no syscall in the figure). */
SEC("syscall")
int bench_send_batch(struct bench_send_args *args)
{
	u64 t0 = bpf_ktime_get_ns();
	u32 i, n = args->count;
	struct task_ctx *tctx;

	bpf_for(i, 0, n) {
		tctx = bench_task_ctx();
		if (tctx)
			send_task_off_msg(tctx, GH_MSG_TASK_PREEMPT, 0, args->cpu,
					  args->runtime);
	}
	args->elapsed_ns = bpf_ktime_get_ns() - t0;
	return 0;
}

/* Makes bench_tctx a managed task with gtid bench_gtid, status word bench_sw_idx. */
SEC("syscall")
int bench_setup(void *ctx)
{
	struct task_ctx *tctx = bench_task_ctx();

	if (!tctx)
		return 1;
	tctx->gtid = bench_gtid;
	tctx->sw_idx = bench_sw_idx;
	tctx->is_agent = 0;
	return 0;
}

/*
 * @count calls of messages.bpf.h's task_channel() (the task_chan hash
 * lookup that task_msg_begin and task_msg_end each make), timed inside BPF.
 */
SEC("syscall")
int bench_task_channel(struct bench_send_args *args)
{
	struct task_ctx *tctx = bench_task_ctx();
	u64 t0 = bpf_ktime_get_ns();
	u32 i, n = args->count, sum = 0;

	if (!tctx)
		return 1;
	bpf_for(i, 0, n) {
		sum += task_channel(tctx);
	}
	args->elapsed_ns = bpf_ktime_get_ns() - t0;
	args->runtime = sum;
	return 0;
}

/*
 * Not the project's path: a bare reserve + submit of one gh_msg-sized record
 * on the default channel with submit flags @args->count (0 or
 * BPF_RB_NO_WAKEUP), to price bpf_ringbuf_submit()'s wakeup irq_work, which
 * msg_submit() (flags 0) pays whenever the consumer has caught up.
 */
SEC("syscall")
int bench_rb_submit(struct bench_send_args *args)
{
	struct gh_msg *msg = bpf_ringbuf_reserve(&default_channel, sizeof(*msg), 0);

	if (!msg)
		return 1;
	msg->hdr.time = bpf_ktime_get_ns();
	bpf_ringbuf_submit(msg, args->count & BPF_RB_NO_WAKEUP);
	return 0;
}

/* An empty syscall program: the fixed cost of bpf_prog_test_run_opts(). */
SEC("syscall")
int bench_nop(void *ctx)
{
	return 0;
}
