// SPDX-License-Identifier: BSD-3-Clause
/*
 * mmap: coherence with read/write, EOF handling (SIGBUS), MAP_PRIVATE,
 * sharing across fork, truncation of mapped files.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "pt.h"

static long pgsz(void)
{
	return sysconf(_SC_PAGESIZE);
}

static int t_mmap_shared_write(void)
{
	size_t len = 3 * pgsz();
	char *m, *w = pt_alloc(5000);
	int fd;

	TRY(pt_mkfile_pattern("f", len, 1));
	fd = OK(open("f", O_RDWR));
	m = OKP(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		MAP_FAILED);
	pt_pattern(w, 5000, 100, 2);
	memcpy(m + 100, w, 5000);
	EQ(pt_check_pattern(fd, 100, 5000, 2), -1);
	OK(msync(m, len, MS_SYNC));
	OK(msync(m, len, MS_ASYNC));
	OK(msync(m, len, MS_INVALIDATE));
	OK(munmap(m, len));
	OK(close(fd));
	fd = OK(open("f", O_RDONLY));
	EQ(pt_check_pattern(fd, 0, 100, 1), -1);
	EQ(pt_check_pattern(fd, 100, 5000, 2), -1);
	EQ(pt_check_pattern(fd, 5100, len - 5100, 1), -1);
	OK(close(fd));
	EQ(pt_size("f"), len);
	free(w);
	return PT_PASS;
}

static int t_mmap_sees_write(void)
{
	size_t len = 2 * pgsz();
	char *m, *w = pt_alloc(len);
	int fd;

	TRY(pt_mkfile_pattern("f", len, 1));
	fd = OK(open("f", O_RDWR));
	m = OKP(mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0), MAP_FAILED);
	pt_pattern(w, len, 0, 1);
	MEMEQ(m, w, len);
	TRY(pt_write_pattern(fd, 10, len - 20, 3));
	pt_pattern(w + 10, len - 20, 10, 3);
	MEMEQ(m, w, len);
	OK(munmap(m, len));
	OK(close(fd));
	free(w);
	return PT_PASS;
}

static int t_mmap_eof_sigbus(void)
{
	long ps = pgsz();
	char *m;
	int fd;

	TRY(pt_mkfile_pattern("f", 100, 1));
	fd = OK(open("f", O_RDWR));
	m = OKP(mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		MAP_FAILED);
	EQ(pt_touch(m + 99, 0), 0);
	EQ(pt_zerodiff(m + 100, ps - 100), -1);
	EQ(pt_touch(m + ps - 1, 1), 0);
	EQ(pt_touch(m + ps, 0), SIGBUS);
	EQ(pt_touch(m + 2 * ps - 1, 1), SIGBUS);
	OK(msync(m, ps, MS_SYNC));
	EQ(pt_size("f"), 100);
	OK(munmap(m, 2 * ps));
	OK(close(fd));
	return PT_PASS;
}

static int t_mmap_private(void)
{
	size_t len = 2 * pgsz();
	char *p, *s;
	int fd;

	TRY(pt_mkfile_pattern("f", len, 1));
	fd = OK(open("f", O_RDWR));
	p = OKP(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0),
		MAP_FAILED);
	s = OKP(mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0), MAP_FAILED);
	memset(p + 10, 'P', 5000);
	EQ(pt_check_pattern(fd, 0, len, 1), -1);
	CHECK(s[10] != 'P' && s[5009] != 'P');
	OK(msync(p, len, MS_SYNC));
	OK(munmap(p, len));
	EQ(pt_check_pattern(fd, 0, len, 1), -1);
	OK(munmap(s, len));
	OK(close(fd));
	return PT_PASS;
}

static int t_mmap_fork_shared(void)
{
	size_t len = 4 * pgsz();
	char *m, *w = pt_alloc(len);
	int fd, ws;
	pid_t pid;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	OK(ftruncate(fd, len));
	m = OKP(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		MAP_FAILED);
	pt_pattern(w, len, 0, 4);
	pid = OK(fork());
	if (pid == 0) {
		memcpy(m, w, len);
		_exit(0);
	}
	OK(waitpid(pid, &ws, 0));
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	MEMEQ(m, w, len);
	EQ(pt_check_pattern(fd, 0, len, 4), -1);
	OK(munmap(m, len));
	OK(close(fd));
	free(w);
	return PT_PASS;
}

static int t_mmap_truncate(void)
{
	long ps = pgsz();
	char *m;
	int fd;

	TRY(pt_mkfile_pattern("f", 4 * ps, 1));
	fd = OK(open("f", O_RDWR));
	m = OKP(mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		MAP_FAILED);
	EQ(pt_touch(m + 2 * ps, 0), 0);
	OK(ftruncate(fd, ps + 100));
	EQ(pt_touch(m + ps + 50, 0), 0);
	EQ(pt_zerodiff(m + ps + 100, ps - 100), -1);
	EQ(pt_touch(m + 2 * ps, 0), SIGBUS);
	EQ(pt_touch(m + 3 * ps + 5, 1), SIGBUS);
	OK(ftruncate(fd, 4 * ps));
	EQ(pt_touch(m + 2 * ps, 0), 0);
	EQ(pt_zerodiff(m + ps + 100, 3 * ps - 100), -1);
	EQ(pt_check_pattern(fd, 0, ps + 100, 1), -1);
	OK(munmap(m, 4 * ps));
	OK(close(fd));
	return PT_PASS;
}

static int t_mmap_extend(void)
{
	long ps = pgsz();
	char *m, *buf = pt_alloc(ps);
	int fd;

	TRY(pt_mkfile_pattern("f", ps, 1));
	fd = OK(open("f", O_RDWR));
	m = OKP(mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		MAP_FAILED);
	EQ(pt_touch(m + 2 * ps, 1), SIGBUS);
	OK(ftruncate(fd, 4 * ps));
	EQ(pt_zerodiff(m + ps, 3 * ps), -1);
	memset(m + 2 * ps, 'E', ps);
	OK(msync(m, 4 * ps, MS_SYNC));
	EQ(pt_pread_full(fd, buf, ps, 2 * ps), ps);
	CHECK(buf[0] == 'E' && buf[ps - 1] == 'E');
	OK(munmap(m, 4 * ps));
	OK(close(fd));
	free(buf);
	return PT_PASS;
}

static int t_mmap_access(void)
{
	long ps = pgsz();
	void *m;
	int fd;

	TRY(pt_mkfile_pattern("f", ps, 1));
	fd = OK(open("f", O_RDONLY));
	ERR(mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
	    MAP_FAILED ? -1 : 0, EACCES);
	m = OKP(mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0),
		MAP_FAILED);
	OK(munmap(m, ps));
	OK(close(fd));
	fd = OK(open("f", O_WRONLY));
	ERR(mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED ?
	    -1 : 0, EACCES);
	OK(close(fd));
	return PT_PASS;
}

static int t_mmap_large(void)
{
	size_t len = 16 * MiB, off;
	char *m, *w = pt_alloc(MiB);
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	OK(ftruncate(fd, len));
	m = OKP(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		MAP_FAILED);
	for (off = 0; off < len; off += MiB) {
		pt_pattern(w, MiB, off, 5);
		memcpy(m + off, w, MiB);
	}
	OK(msync(m, len, MS_SYNC));
	OK(munmap(m, len));
	OK(close(fd));
	fd = OK(open("f", O_RDONLY));
	EQ(pt_check_pattern(fd, 0, len, 5), -1);
	OK(close(fd));
	free(w);
	return PT_PASS;
}

static int t_mmap_hole(void)
{
	char *m, c;
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	OK(ftruncate(fd, MiB));
	m = OKP(mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		MAP_FAILED);
	EQ(pt_zerodiff(m, MiB), -1);
	m[512 * 1024] = 'h';
	OK(msync(m, MiB, MS_SYNC));
	EQ(pread(fd, &c, 1, 512 * 1024), 1);
	EQ(c, 'h');
	m[512 * 1024] = 0;
	EQ(pt_zerodiff(m, MiB), -1);
	OK(munmap(m, MiB));
	OK(close(fd));
	return PT_PASS;
}

static int t_mmap_punch(void)
{
	char *m, *w = pt_alloc(MiB);
	int fd;

	TRY(pt_mkfile_pattern("f", MiB, 6));
	fd = OK(open("f", O_RDWR));
	m = OKP(mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		MAP_FAILED);
	pt_pattern(w, MiB, 0, 6);
	MEMEQ(m, w, MiB);
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 65536,
		      131072)) {
		if (errno == EOPNOTSUPP)
			UNSUPPORTED("punch hole", EOPNOTSUPP);
		FAIL("fallocate(PUNCH_HOLE): %s", pt_errname(errno));
	}
	EQ(pt_zerodiff(m + 65536, 131072), -1);
	MEMEQ(m, w, 65536);
	MEMEQ(m + 196608, w + 196608, MiB - 196608);
	OK(munmap(m, MiB));
	OK(close(fd));
	free(w);
	return PT_PASS;
}

static int t_mmap_unlinked(void)
{
	long ps = pgsz();
	char *m;
	int fd;

	TRY(pt_mkfile_pattern("f", 2 * ps, 7));
	fd = OK(open("f", O_RDWR));
	m = OKP(mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		MAP_FAILED);
	OK(close(fd));
	OK(unlink("f"));
	memset(m, 'U', ps);
	EQ(m[ps - 1], 'U');
	EQ(pt_touch(m + 2 * ps - 1, 1), 0);
	OK(msync(m, 2 * ps, MS_SYNC));
	OK(munmap(m, 2 * ps));
	return PT_PASS;
}

const struct pt_test pt_mmap_tests[] = {
	{ "mmap_shared_write", t_mmap_shared_write, 0 },
	{ "mmap_sees_write", t_mmap_sees_write, 0 },
	{ "mmap_eof_sigbus", t_mmap_eof_sigbus, 0 },
	{ "mmap_private", t_mmap_private, 0 },
	{ "mmap_fork_shared", t_mmap_fork_shared, 0 },
	{ "mmap_truncate", t_mmap_truncate, 0 },
	{ "mmap_extend", t_mmap_extend, 0 },
	{ "mmap_access", t_mmap_access, 0 },
	{ "mmap_large", t_mmap_large, 0 },
	{ "mmap_hole", t_mmap_hole, 0 },
	{ "mmap_punch", t_mmap_punch, 0 },
	{ "mmap_unlinked", t_mmap_unlinked, 0 },
	{ NULL, NULL, 0 },
};
