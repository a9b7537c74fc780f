/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cpustat.h: the busy time of all CPUs, for the benchmarks that report what
 * an operation costs the whole machine (a polling server or caller burns
 * CPU that the caller's own latency does not show).
 */
#ifndef ZUFS_BENCH_CPUSTAT_H
#define ZUFS_BENCH_CPUSTAT_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

/* /proc/stat counts in USER_HZ, which is 100 on every Linux ABI we run on */
#define CPUSTAT_US_PER_TICK	10000.0

/* Busy and total ticks of all CPUs so far */
static inline int cpu_ticks(uint64_t *busy, uint64_t *total)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n, i;

	if (!f)
		return -errno;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
		   &v[8], &v[9]);
	fclose(f);
	if (n < 8)
		return -EIO;
	*total = 0;
	for (i = 0; i < 8; i++)
		*total += v[i];
	/* idle and iowait are the only ticks nobody spent */
	*busy = *total - v[3] - v[4];
	return 0;
}

#endif
