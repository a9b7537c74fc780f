// SPDX-License-Identifier: BSD-3-Clause
/*
 * zcache - prove that no stale block mapping is ever used.
 *
 * File A is punched and truncated by one thread while others write it
 * with write() and through a shared mapping and read it back; file B is
 * rewritten and verified by a thread of its own, so it keeps taking the
 * blocks A just gave back.  If any path (the kernel's map cache, a DAX
 * page table entry) kept using a freed block of A, B's contents change
 * under its owner, or A shows bytes nobody wrote there.
 *
 * usage: zcache [-t SECONDS] DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGES	128

static long pg;
static int fda, fdb;
static atomic_int stop, bad;
static atomic_long n_punch, n_write, n_map, n_b;
static __thread sigjmp_buf bus_jmp;
static __thread int in_map;

static void report(const char *what, long page, int got, int want)
{
	fprintf(stderr, "CORRUPTION: %s page %ld: byte 0x%02x, expected 0x%02x\n",
		what, page, got & 0xff, want & 0xff);
	atomic_store(&bad, 1);
	atomic_store(&stop, 1);
}

static void on_bus(int sig)
{
	(void)sig;
	if (in_map)
		siglongjmp(bus_jmp, 1);
	abort();
}

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245 + 12345;
	return *s >> 8;
}

static void *puncher(void *arg)
{
	unsigned int s = 1;

	(void)arg;
	while (!atomic_load(&stop)) {
		long p = rnd(&s) % PAGES, n = 1 + rnd(&s) % 16;

		if (rnd(&s) % 8) {
			fallocate(fda, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  p * pg, n * pg);
		} else {
			/* shrink and grow back: frees blocks past p */
			if (ftruncate(fda, p * pg) || ftruncate(fda, PAGES * pg))
				perror("ftruncate");
		}
		atomic_fetch_add(&n_punch, 1);
	}
	return NULL;
}

/* A only ever holds 0 or 'A' */
static void check_a(const char *buf, long page, const char *how)
{
	long i;

	for (i = 0; i < pg; i++)
		if (buf[i] != 0 && buf[i] != 'A') {
			report(how, page, buf[i], 'A');
			return;
		}
}

static void *writer(void *arg)
{
	unsigned int s = 2;
	char *buf = malloc(pg), *rb = malloc(pg);

	(void)arg;
	memset(buf, 'A', pg);
	while (!atomic_load(&stop)) {
		long p = rnd(&s) % PAGES;

		if (pwrite(fda, buf, pg, p * pg) != pg)
			perror("pwrite A");
		p = rnd(&s) % PAGES;
		if (pread(fda, rb, pg, p * pg) < 0)
			perror("pread A");
		else
			check_a(rb, p, "A via read()");
		atomic_fetch_add(&n_write, 1);
	}
	free(buf);
	free(rb);
	return NULL;
}

static void *mapper(void *arg)
{
	volatile unsigned int s = 3;
	unsigned int t;
	char *m = mmap(NULL, PAGES * pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fda, 0);

	(void)arg;
	if (m == MAP_FAILED) {
		perror("mmap");
		atomic_store(&bad, 1);
		return NULL;
	}
	while (!atomic_load(&stop)) {
		long p, q;

		t = s;
		p = rnd(&t) % PAGES;
		q = rnd(&t) % PAGES;
		s = t;
		in_map = 1;
		if (!sigsetjmp(bus_jmp, 1)) {
			/* past a concurrent truncate this raises SIGBUS */
			memset(m + p * pg, 'A', pg);
			check_a(m + q * pg, q, "A via mmap");
		}
		in_map = 0;
		atomic_fetch_add(&n_map, 1);
	}
	munmap(m, PAGES * pg);
	return NULL;
}

static void *b_owner(void *arg)
{
	char *buf = malloc(pg), *rb = malloc(pg);
	unsigned int gen = 0;
	long p, i;

	(void)arg;
	while (!atomic_load(&stop)) {
		int c = 'a' + gen++ % 26;

		if (ftruncate(fdb, 0))
			perror("ftruncate B");
		memset(buf, c, pg);
		for (p = 0; p < PAGES; p++)
			if (pwrite(fdb, buf, pg, p * pg) != pg)
				perror("pwrite B");
		for (p = 0; p < PAGES && !atomic_load(&stop); p++) {
			if (pread(fdb, rb, pg, p * pg) != pg) {
				perror("pread B");
				continue;
			}
			for (i = 0; i < pg; i++)
				if (rb[i] != c) {
					report("B", p, rb[i], c);
					break;
				}
		}
		atomic_fetch_add(&n_b, 1);
	}
	free(buf);
	free(rb);
	return NULL;
}

static int open_in(const char *dir, const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(path);
		exit(2);
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_bus };
	void *(*fn[])(void *) = { puncher, writer, mapper, b_owner };
	pthread_t th[4];
	int secs = 20, opt, i;

	while ((opt = getopt(argc, argv, "t:h")) != -1) {
		if (opt == 't') {
			secs = atoi(optarg);
		} else {
			fprintf(stderr, "usage: zcache [-t SECONDS] DIR\n"
				"stress punch/truncate against write, mmap and a "
				"neighbour file; exits 1 on corruption\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: zcache [-t SECONDS] DIR\n");
		return 2;
	}
	pg = sysconf(_SC_PAGESIZE);
	sigaction(SIGBUS, &sa, NULL);
	fda = open_in(argv[optind], "cache-A");
	fdb = open_in(argv[optind], "cache-B");
	if (ftruncate(fda, PAGES * pg)) {
		perror("ftruncate");
		return 2;
	}
	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, fn[i], NULL);
	for (i = 0; i < secs * 10 && !atomic_load(&stop); i++)
		usleep(100000);
	atomic_store(&stop, 1);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	printf("punch/trunc %ld, write+read %ld, mmap %ld, B rounds %ld: %s\n",
	       atomic_load(&n_punch), atomic_load(&n_write),
	       atomic_load(&n_map), atomic_load(&n_b),
	       atomic_load(&bad) ? "CORRUPTION" : "clean");
	return atomic_load(&bad) ? 1 : 0;
}
