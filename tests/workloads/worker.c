// SPDX-License-Identifier: Apache-2.0
/* worker: a long-lived task with a checkable result, for the guest tests
 * that hand a running workload from one agent to another.
 *
 *   worker cpu WALL_MS    - computes the same sum over and over for WALL_MS
 *                           of wall time; prints "N SUM": the rounds done
 *                           and the sum of the last one (always 1799995)
 *   worker sleep WALL_MS  - sleeps 2 ms and wakes, over and over, for
 *                           WALL_MS; prints "N ok": the wakeups
 *
 * One process, one thread: its pid stays the same throughout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
	if (argc != 3 || (strcmp(argv[1], "cpu") && strcmp(argv[1], "sleep"))) {
		fprintf(stderr, "usage: worker cpu|sleep WALL_MS\n");
		return 2;
	}
	const int cpu = strcmp(argv[1], "cpu") == 0;
	const long long end = now_ms() + atoll(argv[2]);
	long long rounds = 0;
	volatile long sum = 0;
	do {
		if (cpu) {
			sum = 0;
			for (long i = 0; i < 600000; i++) sum += i % 7;
		} else {
			struct timespec d = {0, 2000000};
			nanosleep(&d, NULL);
		}
		rounds++;
	} while (now_ms() < end);
	if (cpu)
		printf("%lld %ld\n", rounds, sum);
	else
		printf("%lld ok\n", rounds);
	return 0;
}
