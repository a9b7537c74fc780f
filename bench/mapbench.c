// SPDX-License-Identifier: BSD-3-Clause
/*
 * mapbench - the cost of faulting in a shared mapping of a file, one
 * touch per 4 KiB page, with the mapping's address 2 MiB aligned to the
 * file (huge DAX faults possible) or deliberately 4 KiB off (every fault
 * maps one page).  For bench/hugemap.
 *
 * usage: mapbench [--misaligned] [--write] FILE
 * prints: mode=... bytes=N seconds=S ns_per_page=X GiB_per_s=Y
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HUGE	(2UL << 20)
#define PG	4096UL

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mapbench [--misaligned] [--write] FILE\n"
		"Maps FILE shared and touches every 4 KiB page once (a load, or a\n"
		"store with --write); --misaligned puts the mapping 4 KiB off a\n"
		"2 MiB boundary, so that no 2 MiB fault is possible.\n");
}

int main(int argc, char **argv)
{
	int misaligned = 0, write = 0, fd, i;
	const char *path = NULL;
	volatile char *p;
	char *area, *map;
	struct stat st;
	double t0, t;
	size_t len, off;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--misaligned"))
			misaligned = 1;
		else if (!strcmp(argv[i], "--write"))
			write = 1;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout), 0;
		else if (argv[i][0] == '-' || path)
			return usage(stderr), 2;
		else
			path = argv[i];
	}
	if (!path)
		return usage(stderr), 2;
	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "mapbench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	len = (size_t)st.st_size & ~(HUGE - 1);
	if (!len) {
		fprintf(stderr, "mapbench: %s: smaller than 2 MiB\n", path);
		return 1;
	}
	/* reserve room to place the mapping where we want it */
	area = mmap(NULL, len + 2 * HUGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED) {
		perror("mapbench: mmap");
		return 1;
	}
	map = (char *)(((uintptr_t)area + HUGE - 1) & ~(HUGE - 1));
	if (misaligned)
		map += PG;
	map = mmap(map, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		   fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "mapbench: mmap %s: %s\n", path, strerror(errno));
		return 1;
	}
	p = map;
	t0 = now();
	for (off = 0; off < len; off += PG) {
		if (write)
			p[off] = (char)off;
		else
			(void)p[off];
	}
	t = now() - t0;
	printf("mode=%s%s bytes=%zu seconds=%.3f ns_per_page=%.0f GiB_per_s=%.2f\n",
	       misaligned ? "4k" : "aligned", write ? "-write" : "-read", len,
	       t, t * 1e9 / (len / PG), len / t / (1UL << 30));
	munmap(area, len + 2 * HUGE);
	close(fd);
	return 0;
}
