// SPDX-License-Identifier: BSD-3-Clause
/*
 * fallocate(2) modes and SEEK_DATA/SEEK_HOLE.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "pt.h"

#define K64 65536L

/* fallocate, returning 0 or -errno. */
static int falloc(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len) ? -errno : 0;
}

/* Bytes [off, off+len) of fd must be zero. */
static long zero_at(int fd, off_t off, size_t len)
{
	char *buf = pt_alloc(len);
	long bad = off;

	if (pt_pread_full(fd, buf, len, off) == (ssize_t)len) {
		bad = pt_zerodiff(buf, len);
		if (bad >= 0)
			bad += off;
	}
	free(buf);
	return bad;
}

/* Bytes [off, off+len) of fd must hold pattern(seed) as of offset poff. */
static long shifted_at(int fd, off_t off, size_t len, off_t poff,
		       unsigned int seed)
{
	char *buf = pt_alloc(len), *want = pt_alloc(len);
	long bad;

	pt_pattern(want, len, poff, seed);
	if (pt_pread_full(fd, buf, len, off) != (ssize_t)len)
		bad = off;
	else if ((bad = pt_memdiff(buf, want, len)) >= 0)
		bad += off;
	free(buf);
	free(want);
	return bad;
}

static long long blocks(int fd)
{
	struct stat st;

	fsync(fd);
	if (fstat(fd, &st))
		return -1;
	return st.st_blocks;
}

static int open_falloc(const char *name, size_t len, int *fd)
{
	TRY(pt_mkfile_pattern(name, len, 1));
	*fd = OK(open(name, O_RDWR));
	return PT_PASS;
}

static int t_falloc_default(void)
{
	int fd, e;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	e = falloc(fd, 0, 0, MiB);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("fallocate", EOPNOTSUPP);
	TRY(e);
	EQ(pt_size("f"), MiB);
	EQ(zero_at(fd, 0, MiB), -1);
	REL(blocks(fd) * 512, >=, MiB);
	TRY(pt_write_pattern(fd, 0, 100000, 2));
	TRY(falloc(fd, 0, 0, 2 * MiB));
	EQ(pt_size("f"), 2 * MiB);
	EQ(pt_check_pattern(fd, 0, 100000, 2), -1);
	EQ(zero_at(fd, 100000, 2 * MiB - 100000), -1);
	OK(close(fd));
	return PT_PASS;
}

static int t_falloc_keep_size(void)
{
	long long b0;
	int fd, e;
	char c;

	if (open_falloc("f", 1000, &fd))
		return PT_FAIL;
	b0 = blocks(fd);
	e = falloc(fd, FALLOC_FL_KEEP_SIZE, 0, MiB);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("fallocate KEEP_SIZE", EOPNOTSUPP);
	TRY(e);
	EQ(pt_size("f"), 1000);
	REL(blocks(fd), >, b0);
	EQ(pread(fd, &c, 1, 1000), 0);
	OK(ftruncate(fd, MiB));
	EQ(pt_check_pattern(fd, 0, 1000, 1), -1);
	EQ(zero_at(fd, 1000, MiB - 1000), -1);
	OK(close(fd));
	return PT_PASS;
}

static int t_falloc_punch(void)
{
	long long b0;
	int fd, e;

	if (open_falloc("f", MiB, &fd))
		return PT_FAIL;
	b0 = blocks(fd);
	e = falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4 * K64,
		   8 * K64);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("punch hole", EOPNOTSUPP);
	TRY(e);
	EQ(pt_size("f"), MiB);
	EQ(zero_at(fd, 4 * K64, 8 * K64), -1);
	EQ(pt_check_pattern(fd, 0, 4 * K64, 1), -1);
	EQ(pt_check_pattern(fd, 12 * K64, MiB - 12 * K64, 1), -1);
	REL(blocks(fd), <, b0);
	OK(close(fd));
	return PT_PASS;
}

static int t_falloc_punch_unaligned(void)
{
	int fd, e;

	if (open_falloc("f", 100000, &fd))
		return PT_FAIL;
	e = falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1000, 5000);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("punch hole", EOPNOTSUPP);
	TRY(e);
	EQ(zero_at(fd, 1000, 5000), -1);
	EQ(pt_check_pattern(fd, 0, 1000, 1), -1);
	EQ(pt_check_pattern(fd, 6000, 94000, 1), -1);
	/* Past EOF: the size must not change. */
	TRY(falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 99990,
		   50000));
	EQ(pt_size("f"), 100000);
	EQ(zero_at(fd, 99990, 10), -1);
	EQ(pt_check_pattern(fd, 6000, 93990, 1), -1);
	OK(close(fd));
	return PT_PASS;
}

static int t_falloc_zero_range(void)
{
	int fd, e;

	if (open_falloc("f", MiB, &fd))
		return PT_FAIL;
	e = falloc(fd, FALLOC_FL_ZERO_RANGE, 100, 70000);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("zero range", EOPNOTSUPP);
	TRY(e);
	EQ(pt_size("f"), MiB);
	EQ(zero_at(fd, 100, 70000), -1);
	EQ(pt_check_pattern(fd, 0, 100, 1), -1);
	EQ(pt_check_pattern(fd, 70100, MiB - 70100, 1), -1);
	TRY(falloc(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, MiB - 10,
		   20000));
	EQ(pt_size("f"), MiB);
	EQ(zero_at(fd, MiB - 10, 10), -1);
	TRY(falloc(fd, FALLOC_FL_ZERO_RANGE, MiB - 20, 20000));
	EQ(pt_size("f"), MiB - 20 + 20000);
	EQ(zero_at(fd, MiB - 20, 20000), -1);
	EQ(pt_check_pattern(fd, 70100, MiB - 70120, 1), -1);
	OK(close(fd));
	return PT_PASS;
}

static int t_falloc_collapse(void)
{
	int fd, e;

	if (open_falloc("f", MiB, &fd))
		return PT_FAIL;
	e = falloc(fd, FALLOC_FL_COLLAPSE_RANGE, K64, K64);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("collapse range", EOPNOTSUPP);
	TRY(e);
	EQ(pt_size("f"), MiB - K64);
	EQ(pt_check_pattern(fd, 0, K64, 1), -1);
	EQ(shifted_at(fd, K64, MiB - 2 * K64, 2 * K64, 1), -1);
	/* Reaching EOF is not allowed. */
	ERR(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, MiB - 2 * K64, K64 * 2),
	    EINVAL);
	OK(close(fd));
	return PT_PASS;
}

static int t_falloc_insert(void)
{
	int fd, e;

	if (open_falloc("f", MiB, &fd))
		return PT_FAIL;
	e = falloc(fd, FALLOC_FL_INSERT_RANGE, K64, K64);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("insert range", EOPNOTSUPP);
	TRY(e);
	EQ(pt_size("f"), MiB + K64);
	EQ(pt_check_pattern(fd, 0, K64, 1), -1);
	EQ(zero_at(fd, K64, K64), -1);
	EQ(shifted_at(fd, 2 * K64, MiB - K64, K64, 1), -1);
	ERR(fallocate(fd, FALLOC_FL_INSERT_RANGE, MiB + K64, K64), EINVAL);
	OK(close(fd));
	return PT_PASS;
}

static int t_falloc_errors(void)
{
	int fd;

	TRY(pt_mkfile("f", "abc", 3));
	fd = OK(open("f", O_RDWR));
	ERR(fallocate(fd, 0, 0, 0), EINVAL);
	ERR(fallocate(fd, 0, -1, 10), EINVAL);
	ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP);
	OK(close(fd));
	fd = OK(open("f", O_RDONLY));
	ERR(fallocate(fd, 0, 0, 10), EBADF);
	OK(close(fd));
	OK(mkfifo("p", 0644));
	fd = OK(open("p", O_RDWR));
	ERR(fallocate(fd, 0, 0, 10), ESPIPE);
	OK(close(fd));
	EQ(pt_size("f"), 3);
	return PT_PASS;
}

/*
 * Walk the data/hole extents of a file.  Reporting everything as data is
 * allowed; reported holes must read as zeros (the written data never
 * contains zero bytes, so a hole over data is caught too).
 */
static int walk_extents(int fd, off_t size)
{
	off_t off = 0, d, h;

	while (off < size) {
		d = lseek(fd, off, SEEK_DATA);
		if (d < 0) {
			CHECKM(errno == ENXIO, "SEEK_DATA at %ld: %s",
			       (long)off, pt_errname(errno));
			d = size;
		}
		REL(d, >=, off);
		CHECKM(zero_at(fd, off, d - off) < 0,
		       "hole [%ld,%ld) has data", (long)off, (long)d);
		if (d >= size)
			break;
		h = OK(lseek(fd, d, SEEK_HOLE));
		REL(h, >, d);
		REL(h, <=, size);
		off = h;
	}
	return PT_PASS;
}

static int t_seek_data_hole(void)
{
	off_t size = 2 * MiB, h;
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	TRY(pt_write_pattern(fd, 0, 4096, 1));
	TRY(pt_write_pattern(fd, MiB, 4096, 1));
	OK(ftruncate(fd, size));
	OK(fsync(fd));
	EQ(lseek(fd, 0, SEEK_DATA), 0);
	h = OK(lseek(fd, 0, SEEK_HOLE));
	REL(h, >=, 4096);
	if (h == size) {
		pt_info("no holes reported (whole file is data)");
		EQ(lseek(fd, 12345, SEEK_DATA), 12345);
		EQ(lseek(fd, 12345, SEEK_HOLE), size);
	} else {
		REL(h, <=, MiB);
		REL(lseek(fd, h, SEEK_DATA), <=, MiB);
	}
	if (walk_extents(fd, size))
		return PT_FAIL;
	ERR(lseek(fd, size, SEEK_DATA), ENXIO);
	ERR(lseek(fd, size, SEEK_HOLE), ENXIO);
	ERR(lseek(fd, size + 100, SEEK_DATA), ENXIO);
	OK(ftruncate(fd, 0));
	ERR(lseek(fd, 0, SEEK_DATA), ENXIO);
	ERR(lseek(fd, 0, SEEK_HOLE), ENXIO);
	OK(close(fd));
	return PT_PASS;
}

#define FUSE_SUPER_MAGIC 0x65735546

/* A store through a shared mapping into a hole makes it data at once. */
static int t_seek_after_mmap_store(void)
{
	off_t size = 2 * MiB;
	struct statfs st;
	char *map;
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	OK(fstatfs(fd, &st));
	if (st.f_type == FUSE_SUPER_MAGIC) {
		OK(close(fd));
		/* the FUSE kernel asks its server without writing back */
		return pt_skip("FUSE's SEEK_DATA/SEEK_HOLE ignore unwritten "
			       "mmap stores");
	}
	OK(ftruncate(fd, size));
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECKM(map != MAP_FAILED, "mmap: %s", pt_errname(errno));
	map[MiB + 10] = 'x';
	/* data from the stored page on (or the whole file as data) */
	REL(lseek(fd, 0, SEEK_DATA), <=, MiB);
	REL(lseek(fd, MiB, SEEK_HOLE), >, MiB + 10);
	OK(munmap(map, size));
	OK(close(fd));
	return PT_PASS;
}

/* A punched range inside data must be reported as a hole (or as data). */
static int t_seek_after_punch(void)
{
	int fd, e;

	if (open_falloc("f", 2 * MiB, &fd))
		return PT_FAIL;
	e = falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096,
		   MiB - 4096);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("punch hole", EOPNOTSUPP);
	TRY(e);
	OK(fsync(fd));
	EQ(lseek(fd, 0, SEEK_DATA), 0);
	REL(lseek(fd, 0, SEEK_HOLE), >=, 4096);
	REL(lseek(fd, 4096, SEEK_DATA), <=, MiB);
	if (walk_extents(fd, 2 * MiB))
		return PT_FAIL;
	EQ(pt_check_pattern(fd, MiB, MiB, 1), -1);
	OK(close(fd));
	return PT_PASS;
}

const struct pt_test pt_falloc_tests[] = {
	{ "falloc_default", t_falloc_default, 0 },
	{ "falloc_keep_size", t_falloc_keep_size, 0 },
	{ "falloc_punch", t_falloc_punch, 0 },
	{ "falloc_punch_unaligned", t_falloc_punch_unaligned, 0 },
	{ "falloc_zero_range", t_falloc_zero_range, 0 },
	{ "falloc_collapse", t_falloc_collapse, 0 },
	{ "falloc_insert", t_falloc_insert, 0 },
	{ "falloc_errors", t_falloc_errors, 0 },
	{ "seek_data_hole", t_seek_data_hole, 0 },
	{ "seek_after_punch", t_seek_after_punch, 0 },
	{ "seek_after_mmap_store", t_seek_after_mmap_store, 0 },
	{ NULL, NULL, 0 },
};
