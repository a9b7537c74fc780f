// SPDX-License-Identifier: BSD-3-Clause
/*
 * zhuge - 2 MiB (PMD) DAX mappings on a zufs mount keep the semantics of
 * 4 KiB ones: what is stored through them reads back with read() and
 * survives a remap, a punched hole or a truncate inside a huge mapping
 * takes effect at 4 KiB granularity, MAP_PRIVATE stays private, and a
 * mapping whose address cannot be 2 MiB aligned with the file works too.
 * Whether the faults were huge is counted by the caller (tracefs).
 *
 * usage: zhuge DIR     (prints one line per check, exits 1 on failure)
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zmaputil.h"

#define HUGE	(2UL << 20)
#define LEN	(4 * HUGE)
#define PG	4096UL

/* a byte that depends on the position, so that misplaced blocks show */
static char pattern(size_t off, int seed)
{
	return (char)((off / PG) * 7 + (off % PG) / 512 + seed);
}

static void fill(char *p, size_t len, int seed)
{
	size_t i;

	for (i = 0; i < len; i += 512)
		memset(p + i, pattern(i, seed), 512);
}

/* offset of the first byte that differs from the pattern, or -1 */
static long verify_fd(int fd, size_t len, int seed)
{
	char *buf = malloc(len);
	long bad = -1;
	size_t i;

	if (!buf || pread(fd, buf, len, 0) != (ssize_t)len)
		die("pread");
	for (i = 0; i < len && bad < 0; i++)
		if (buf[i] != pattern(i, seed))
			bad = (long)i;
	free(buf);
	return bad;
}

/* stores through a huge shared mapping of fresh (unallocated) blocks */
static void test_fresh(const char *dir)
{
	int fd = open_new(dir, "fresh");
	char *p;
	long bad;

	if (ftruncate(fd, LEN))
		die("ftruncate");
	p = map_at(fd, NULL, LEN, MAP_SHARED);
	check(((uintptr_t)p & (HUGE - 1)) == 0,
	      "a %lu MiB mapping gets a 2 MiB aligned address", LEN >> 20);
	fill(p, LEN, 1);
	bad = verify_fd(fd, LEN, 1);
	check(bad < 0, "stores into holes through the mapping read back (first bad byte %ld)", bad);
	munmap(p, LEN);
	p = map_at(fd, NULL, LEN, MAP_SHARED);
	bad = -1;
	for (size_t i = 0; i < LEN && bad < 0; i += 512)
		if (p[i] != pattern(i, 1) || p[i + 511] != pattern(i, 1))
			bad = (long)i;
	check(bad < 0, "a new mapping sees them (first bad offset %ld)", bad);
	munmap(p, LEN);
	close(fd);
}

/* a file written with write() first, then read and changed by mmap */
static void test_written(const char *dir)
{
	int fd = open_new(dir, "written");
	char *buf = malloc(LEN), *p;
	long bad;

	if (!buf)
		die("malloc");
	fill(buf, LEN, 2);
	if (pwrite(fd, buf, LEN, 0) != (ssize_t)LEN || fsync(fd))
		die("pwrite");
	p = map_at(fd, NULL, LEN, MAP_SHARED);
	check(!memcmp(p, buf, LEN), "mapping sees what write() stored");
	fill(p, LEN, 3);
	check(msync(p, LEN, MS_SYNC) == 0, "msync of a huge mapping");
	bad = verify_fd(fd, LEN, 3);
	check(bad < 0, "stores through it reach the file (first bad byte %ld)", bad);
	memset(buf, 'W', PG);
	if (pwrite(fd, buf, PG, HUGE + 5 * PG) != (ssize_t)PG)
		die("pwrite");
	check(all(p + HUGE + 5 * PG, 'W', PG), "write() into a huge-mapped range shows in the mapping");
	munmap(p, LEN);
	close(fd);
	free(buf);
}

/* a punched hole and a truncate inside a huge mapping */
static void test_punch_truncate(const char *dir)
{
	int fd = open_new(dir, "punch");
	char *p;
	long bad;

	if (ftruncate(fd, LEN))
		die("ftruncate");
	p = map_at(fd, NULL, LEN, MAP_SHARED);
	fill(p, LEN, 4);
	check(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			HUGE + 3 * PG, PG) == 0, "punch 4 KiB inside a huge mapping");
	check(all(p + HUGE + 3 * PG, 0, PG), "the punched page reads zeros");
	check(p[HUGE + 2 * PG] == pattern(HUGE + 2 * PG, 4) &&
	      p[HUGE + 4 * PG] == pattern(HUGE + 4 * PG, 4),
	      "its neighbours keep their data");
	memset(p + HUGE + 3 * PG, 'n', PG);
	check(ftruncate(fd, HUGE + HUGE / 2) == 0, "truncate into a huge mapping");
	check(faults(p + 3 * HUGE), "SIGBUS past the new end");
	check(!faults(p + HUGE + 3 * PG) && all(p + HUGE + 3 * PG, 'n', PG),
	      "the refilled page survives the truncate");
	bad = -1;
	for (size_t i = 0; i < HUGE && bad < 0; i += 512)
		if (p[i] != pattern(i, 4))
			bad = (long)i;
	check(bad < 0, "the first 2 MiB keep their data (first bad offset %ld)", bad);
	munmap(p, LEN);
	close(fd);
}

/* MAP_PRIVATE stores stay private, even over a huge-mapped file */
static void test_private(const char *dir)
{
	int fd = open_new(dir, "private");
	char *shared, *priv;
	long bad;

	if (ftruncate(fd, LEN))
		die("ftruncate");
	shared = map_at(fd, NULL, LEN, MAP_SHARED);
	fill(shared, LEN, 5);
	priv = map_at(fd, NULL, LEN, MAP_PRIVATE);
	check(priv[HUGE] == pattern(HUGE, 5), "private mapping reads the file");
	memset(priv + HUGE, 'p', HUGE);
	check(shared[HUGE] == pattern(HUGE, 5), "private stores stay out of the shared mapping");
	bad = verify_fd(fd, LEN, 5);
	check(bad < 0, "and out of the file (first bad byte %ld)", bad);
	munmap(priv, LEN);
	munmap(shared, LEN);
	close(fd);
}

/*
 * An address whose 2 MiB colour differs from the file offset's: no huge
 * mapping is possible, 4 KiB faults must serve it.
 */
static void test_misaligned(const char *dir)
{
	int fd = open_new(dir, "misaligned");
	char *area, *p;
	long bad;

	if (ftruncate(fd, LEN))
		die("ftruncate");
	area = mmap(NULL, LEN + 2 * HUGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		die("mmap reserve");
	p = (char *)(((uintptr_t)area + HUGE) & ~(HUGE - 1)) + PG;
	p = map_at(fd, p, LEN, MAP_SHARED | MAP_FIXED);
	fill(p, LEN, 6);
	bad = verify_fd(fd, LEN, 6);
	check(bad < 0, "a misaligned mapping works with 4 KiB faults (first bad byte %ld)", bad);
	munmap(area, LEN + 2 * HUGE);
	close(fd);
}

static const struct {
	const char *name;
	void (*fn)(const char *dir);
} tests[] = {
	{ "fresh", test_fresh },
	{ "written", test_written },
	{ "punch", test_punch_truncate },
	{ "private", test_private },
	{ "misaligned", test_misaligned },
};

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_bus };
	size_t i;
	int ran = 0;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(stderr, "usage: zhuge DIR [TEST...]\n"
			"2 MiB DAX mapping checks on DIR's filesystem; TEST is one of\n"
			"fresh written punch private misaligned (default: all)\n");
		return argc >= 2 ? 0 : 2;
	}
	sigaction(SIGBUS, &sa, NULL);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int k, want = argc == 2;

		for (k = 2; k < argc; k++)
			want |= !strcmp(argv[k], tests[i].name);
		if (want) {
			tests[i].fn(argv[1]);
			ran++;
		}
	}
	if (!ran) {
		fprintf(stderr, "zhuge: no such test\n");
		return 2;
	}
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
