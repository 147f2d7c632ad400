// SPDX-License-Identifier: Apache-2.0
/* spinner: a CPU-bound helper for the guest tests.
 *
 *   spinner WALL_MS  - spins for WALL_MS of wall time
 *   spinner -c CPU_MS - spins until it has used CPU_MS of CPU time
 *
 * Prints one line: "start_ns end_ns cpu_ns" (CLOCK_MONOTONIC when the spin
 * starts and ends, and the CPU time it got in between, exec and start-up
 * excluded), so tests can tell shares and run order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
	int by_cpu = argc > 2 && strcmp(argv[1], "-c") == 0;
	long long limit = atoll(argv[argc - 1]) * 1000000LL;
	long long start = now(CLOCK_MONOTONIC), cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
	volatile unsigned long x = 0;
	for (;;) {
		for (int i = 0; i < 10000; i++) x++;
		if (by_cpu ? now(CLOCK_PROCESS_CPUTIME_ID) >= limit
			   : now(CLOCK_MONOTONIC) - start >= limit)
			break;
	}
	printf("%lld %lld %lld\n", start, now(CLOCK_MONOTONIC),
	       now(CLOCK_PROCESS_CPUTIME_ID) - cpu0);
	return 0;
}
