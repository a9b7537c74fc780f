// SPDX-License-Identifier: BSD-3-Clause
/*
 * zmmap - mmap semantics on a zufs (DAX) mount: coherence of mmap with
 * read()/write(), MAP_PRIVATE copy-on-write, SIGBUS past EOF, truncate and
 * hole punching under a live mapping, fork with shared mappings.
 *
 * usage: zmmap DIR     (prints one line per check, exits 1 on failure)
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zmaputil.h"

static long pg;
static void test_coherence(const char *dir)
{
	int fd = open_new(dir, "coh");
	char *buf = malloc(pg), *p;

	if (ftruncate(fd, 3 * pg))
		die("ftruncate");
	p = map_at(fd, NULL, 3 * pg, MAP_SHARED);
	check(all(p, 0, 3 * pg), "hole pages read as zeros through mmap");
	memset(buf, 'a', pg);
	if (pwrite(fd, buf, pg, 0) != pg)
		die("pwrite");
	check(all(p, 'a', pg), "write() into a hole seen by an existing mapping");
	memset(p + pg, 'b', pg);
	if (pread(fd, buf, pg, pg) != pg)
		die("pread");
	check(all(buf, 'b', pg), "mmap store seen by read()");
	check(msync(p, 3 * pg, MS_SYNC) == 0, "msync");
	check(fsync(fd) == 0, "fsync after mmap stores");
	memset(buf, 'c', pg);
	if (pwrite(fd, buf, pg, pg) != pg)
		die("pwrite");
	check(all(p + pg, 'c', pg), "overwrite by write() seen by mapping");
	munmap(p, 3 * pg);
	close(fd);
	free(buf);
}

static void test_private(const char *dir)
{
	int fd = open_new(dir, "priv");
	char *buf = malloc(pg), *p;

	memset(buf, 'x', pg);
	if (pwrite(fd, buf, pg, 0) != pg)
		die("pwrite");
	p = map_at(fd, NULL, pg, MAP_PRIVATE);
	check(all(p, 'x', pg), "MAP_PRIVATE reads file data");
	memset(p, 'y', pg);
	if (pread(fd, buf, pg, 0) != pg)
		die("pread");
	check(all(buf, 'x', pg), "MAP_PRIVATE store does not reach the file");
	check(all(p, 'y', pg), "MAP_PRIVATE keeps its copy");
	munmap(p, pg);
	close(fd);
	free(buf);
}

static void test_sigbus(const char *dir)
{
	int fd = open_new(dir, "bus");
	char *buf = malloc(pg), *p;

	memset(buf, 'q', pg);
	if (pwrite(fd, buf, pg, 0) != pg || pwrite(fd, buf, pg, pg) != pg)
		die("pwrite");
	p = map_at(fd, NULL, 3 * pg, MAP_SHARED);
	check(!faults(p) && !faults(p + pg), "pages inside EOF map");
	check(faults(p + 2 * pg), "SIGBUS past EOF");
	if (ftruncate(fd, pg))
		die("ftruncate");
	check(faults(p + pg), "SIGBUS after truncate under the mapping");
	check(!faults(p) && p[0] == 'q', "page before the new EOF still mapped");
	if (ftruncate(fd, 2 * pg))
		die("ftruncate");
	check(!faults(p + pg) && all(p + pg, 0, pg),
	      "truncate then extend reads zeros through mmap");
	if (pread(fd, buf, pg, pg) != pg)
		die("pread");
	check(all(buf, 0, pg), "truncate then extend reads zeros via read()");
	munmap(p, 3 * pg);
	close(fd);
	free(buf);
}

static void test_punch(const char *dir)
{
	int fd = open_new(dir, "punch");
	char *buf = malloc(2 * pg), *p;

	memset(buf, 'z', 2 * pg);
	if (pwrite(fd, buf, 2 * pg, 0) != 2 * pg)
		die("pwrite");
	p = map_at(fd, NULL, 2 * pg, MAP_SHARED);
	check(all(p, 'z', 2 * pg), "mapping sees data");
	check(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, pg) == 0,
	      "punch hole under a mapping");
	check(all(p, 0, pg), "punched page reads zeros through mmap");
	check(all(p + pg, 'z', pg), "neighbour page untouched");
	memset(p, 'w', pg);
	if (pread(fd, buf, pg, 0) != pg)
		die("pread");
	check(all(buf, 'w', pg), "store into punched page reaches the file");
	munmap(p, 2 * pg);
	close(fd);
	free(buf);
}

static void test_fork(const char *dir)
{
	int fd = open_new(dir, "fork");
	char *buf = malloc(pg), *p;
	pid_t pid;
	int st;

	if (ftruncate(fd, pg))
		die("ftruncate");
	p = map_at(fd, NULL, pg, MAP_SHARED);
	p[0] = 'p';
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		memset(p, 'k', pg);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && all(p, 'k', pg), "child's stores seen by parent");
	if (pread(fd, buf, pg, 0) != pg)
		die("pread");
	check(all(buf, 'k', pg), "child's stores reach the file");
	munmap(p, pg);
	close(fd);
	free(buf);
}

/*
 * MAP_SYNC: on a DAX file it must work (stores into fresh blocks through
 * it read back with read()); elsewhere mmap must refuse it (EOPNOTSUPP).
 */
static void test_map_sync(const char *dir)
{
	char path[4096], buf[64];
	struct statx stx;
	bool dax;
	char *p;
	int fd;

	snprintf(path, sizeof(path), "%s/mapsync", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 2 * pg))
		die("mapsync file");
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx))
		die("statx");
	dax = (stx.stx_attributes_mask & STATX_ATTR_DAX) &&
	      (stx.stx_attributes & STATX_ATTR_DAX);
	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	if (!dax) {
		check(p == MAP_FAILED && errno == EOPNOTSUPP,
		      "MAP_SYNC refused without DAX (%s)",
		      p == MAP_FAILED ? strerror(errno) : "mapped");
		if (p != MAP_FAILED)
			munmap(p, 2 * pg);
		close(fd);
		return;
	}
	check(p != MAP_FAILED, "MAP_SYNC mapping of a DAX file (%s)",
	      p == MAP_FAILED ? strerror(errno) : "ok");
	if (p == MAP_FAILED) {
		close(fd);
		return;
	}
	memcpy(p + 10, "synchronous", 11);
	memcpy(p + pg + 20, "faults", 6);
	check(pread(fd, buf, 11, 10) == 11 && !memcmp(buf, "synchronous", 11) &&
	      pread(fd, buf, 6, pg + 20) == 6 && !memcmp(buf, "faults", 6),
	      "stores through MAP_SYNC into holes read back");
	munmap(p, 2 * pg);
	close(fd);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_bus };

	if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(stderr, "usage: zmmap DIR\nmmap semantics checks on DIR's filesystem\n");
		return argc == 2 ? 0 : 2;
	}
	pg = sysconf(_SC_PAGESIZE);
	sigaction(SIGBUS, &sa, NULL);
	test_coherence(argv[1]);
	test_private(argv[1]);
	test_sigbus(argv[1]);
	test_punch(argv[1]);
	test_fork(argv[1]);
	test_map_sync(argv[1]);
	printf("%d failed\n", failures);
	return failures ? 1 : 0;
}
