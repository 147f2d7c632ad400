/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * micro.bpf.c: the ABI microbenchmarks' BPF object. It loads on a kernel
 * WITHOUT sched_ext (the host), yet runs the scheduler's real message path,
 * bpf/messages.bpf.h unchanged: send_task_off_msg() advances the task's
 * Tseq, reserves a gh_msg on the task's channel (default_channel, looked up
 * through the `channels` map-of-maps and the task_chan hash), stamps it with
 * bpf_ktime_get_ns(), publishes it, counts it, and advances the channel
 * agent's Aseq (agent_wake() of bpf/wake.bpf.h: the agent is ACTIVE, i.e.
 * spinning, so no doorbell).
 *
 * The commit is not measured here. Latched commits move the task between
 * sched_ext DSQs inside gh_commit, which only a kernel running the scheduler
 * can do, so the commit cost is no longer measured on the host (the guest
 * exercises it: tests/guest/latched_commit_test.cc). The scheduler's
 * headers still bring their SYSCALL programs into this object; the
 * benchmark turns autoload off for those that call sched_ext kfuncs
 * (gh_commit, gh_rq_op: see micro_bench.cc).
 *
 * Host-only differences, all in this file:
 *   - the task's task_ctx is found with an array-map lookup (bench_tctx)
 *     where the scheduler calls bpf_task_storage_get() (lookup_task_ctx), a
 *     helper syscall programs may not call.
 *   - bpf_pick (rodata) stays false, the scheduler's default: the only
 *     sched_ext kfunc on the send path, scx_bpf_dsq_nr_queued() in
 *     task_msg_wakes(), is then dead code that the verifier removes, so the
 *     send programs load without sched_ext and need no stub.
 *   - -Wno-unused-function (see micro.mk): agents.bpf.h's timer callback is
 *     unused here because nothing arms the handoff timer.
 *
 * No file of bpf/ is copied or edited: the headers are included as they are.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "common.bpf.h"
#include "messages.bpf.h"
#include "agents.bpf.h"
#include "transactions.bpf.h"

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
		send_task_off_msg(tctx, GH_MSG_TASK_PREEMPT, 0, args->cpu, args->runtime,
				  bpf_ktime_get_ns());
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
					  args->runtime, bpf_ktime_get_ns());
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
 * @count calls of messages.bpf.h's task_seq_next() (the one atomic add that
 * gives a message its Tseq and its channel; it replaced a task_chan hash
 * lookup per message), timed inside BPF.
 */
SEC("syscall")
int bench_task_channel(struct bench_send_args *args)
{
	struct task_ctx *tctx = bench_task_ctx();
	struct gh_status_word *sw = task_sw_of(tctx);
	u64 t0 = bpf_ktime_get_ns();
	u32 i, n = args->count, sum = 0, chan;

	if (!tctx || !sw)
		return 1;
	bpf_for(i, 0, n) {
		sum += task_seq_next(sw, &chan) + chan;
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
