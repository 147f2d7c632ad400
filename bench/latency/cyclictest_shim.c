// SPDX-License-Identifier: Apache-2.0
/*
 * cyclictest_shim.so: an LD_PRELOAD shim that lets cyclictest run as a
 * managed task tree, preloaded in every configuration so that the workload
 * is the same under each.
 *
 * - cyclictest calls sched_setscheduler(0, SCHED_OTHER) on every thread it
 *   starts (and SCHED_FIFO briefly in its main thread), which would move a
 *   SCHED_EXT thread out of sched_ext. For a thread whose policy is
 *   SCHED_EXT the call becomes a successful no-op; other threads (the
 *   default configuration's) get the real system call.
 * - rt-tests 2.4 pins its threads one per CPU even without -a. A thread
 *   pinned to the CPU of ghost_hybrid's centralized agent could never run
 *   (that CPU runs the agent), so the pinning calls become no-ops: the
 *   threads float over the CPUs cyclictest was started on.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GH_SCHED_EXT 7

struct bitmask;

int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param)
{
	if (syscall(SYS_sched_getscheduler, pid) == GH_SCHED_EXT)
		return 0;
	return (int)syscall(SYS_sched_setscheduler, pid, policy, param);
}

int pthread_setaffinity_np(pthread_t thread, size_t size, const cpu_set_t *set)
{
	return 0;
}

int numa_sched_setaffinity(pid_t pid, struct bitmask *mask)
{
	return 0;
}
