// SPDX-License-Identifier: BSD-3-Clause
/*
 * reflink.c - copy-on-write after a reflink: once two files share blocks
 * (FICLONE, FICLONERANGE, FIDEDUPERANGE, maybe copy_file_range), a store
 * into either of them by any path (buffered write, O_DIRECT, a shared
 * mapping made before or after the clone) must never show in the other,
 * and a private mapping's store shows in neither.  Also: UNSHARE_RANGE,
 * st_blocks and free space after a clone, clones to and past EOF.
 * Filesystems without reflink skip (a probe decides, as programs do).
 */
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>

#include "pt.h"

/* a helper that returns PT_PASS, PT_FAIL or PT_SKIP: pass its verdict on */
#define SUB(expr)							\
	do {								\
		int _v = (expr);					\
		if (_v != PT_PASS)					\
			return _v;					\
	} while (0)

#define RB	65536	/* a multiple of every block size around */
#define RSIZE	(4 * RB)

/* src with pattern 1, dst a reflink of it; skip without reflink */
static int make_clone(int *src, int *dst)
{
	TRY(pt_mkfile_pattern("src", RSIZE, 1));
	*src = OK(open("src", O_RDWR));
	*dst = OK(open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644));
	if (ioctl(*dst, FICLONE, *src)) {
		int e = errno;

		close(*src);
		close(*dst);
		UNSUPPORTED("FICLONE", e);
	}
	return 0;
}

/* fd holds pattern 1 except [off, off + len), which holds pattern seed */
static int check_but(int fd, off_t off, size_t len, unsigned int seed)
{
	EQ(pt_check_pattern(fd, 0, off, 1), -1);
	if (len)
		EQ(pt_check_pattern(fd, off, len, seed), -1);
	EQ(pt_check_pattern(fd, off + len, RSIZE - off - len, 1), -1);
	return 0;
}

static int t_reflink_cow_write(void)
{
	int src, dst;

	SUB(make_clone(&src, &dst));
	SUB(check_but(dst, 0, 0, 0));
	TRY(pt_write_pattern(dst, RB + 100, 5000, 2));
	SUB(check_but(src, 0, 0, 0));
	TRY(pt_write_pattern(src, 2 * RB, RB, 3));
	SUB(check_but(dst, RB + 100, 5000, 2));
	SUB(check_but(src, 2 * RB, RB, 3));
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

static int t_reflink_cow_direct(void)
{
	char *buf;
	int src, dst, dfd;

	SUB(make_clone(&src, &dst));
	dfd = open("dst", O_RDWR | O_DIRECT);
	if (dfd < 0)
		UNSUPPORTED("O_DIRECT", errno);
	if (posix_memalign((void **)&buf, 4096, RB))
		FAIL("out of memory");
	pt_pattern(buf, RB, RB, 4);
	if (pwrite(dfd, buf, RB, RB) != RB) {
		int e = errno;

		free(buf);
		close(dfd);
		if (e == EINVAL)
			UNSUPPORTED("O_DIRECT write", e);
		FAIL("O_DIRECT pwrite: %s", pt_errname(e));
	}
	free(buf);
	OK(close(dfd));
	SUB(check_but(src, 0, 0, 0));
	SUB(check_but(dst, RB, RB, 4));
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

/* A shared mapping of dst after the clone, of src from before it */
static int t_reflink_cow_mmap(void)
{
	char *smap, *dmap;
	int src, dst;

	TRY(pt_mkfile_pattern("src", RSIZE, 1));
	src = OK(open("src", O_RDWR));
	smap = mmap(NULL, RSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, src, 0);
	CHECKM(smap != MAP_FAILED, "mmap: %s", pt_errname(errno));
	smap[10] = smap[10];	/* mapped and dirty before the clone */
	dst = OK(open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644));
	if (ioctl(dst, FICLONE, src)) {
		int e = errno;

		munmap(smap, RSIZE);
		UNSUPPORTED("FICLONE", e);
	}
	dmap = mmap(NULL, RSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dst, 0);
	CHECKM(dmap != MAP_FAILED, "mmap: %s", pt_errname(errno));
	CHECK(dmap[RB + 7] == smap[RB + 7]);
	memset(dmap + RB, 'd', 4096);
	memset(smap + 2 * RB, 's', 4096);
	OK(msync(dmap, RSIZE, MS_SYNC));
	OK(msync(smap, RSIZE, MS_SYNC));
	CHECK(smap[RB] != 'd' && dmap[2 * RB] != 's');
	OK(munmap(dmap, RSIZE));
	OK(munmap(smap, RSIZE));
	{
		char want[4096], got[4096];

		memset(want, 'd', sizeof(want));
		EQ(pt_pread_full(dst, got, 4096, RB), 4096);
		MEMEQ(got, want, 4096);
		memset(want, 's', sizeof(want));
		EQ(pt_pread_full(src, got, 4096, 2 * RB), 4096);
		MEMEQ(got, want, 4096);
	}
	EQ(pt_check_pattern(src, 0, RB, 1), -1);
	EQ(pt_check_pattern(src, RB, RB, 1), -1);
	EQ(pt_check_pattern(dst, 2 * RB, RB, 1), -1);
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

static int t_reflink_mmap_private(void)
{
	char *map;
	int src, dst;

	SUB(make_clone(&src, &dst));
	map = mmap(NULL, RSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, dst, 0);
	CHECKM(map != MAP_FAILED, "mmap: %s", pt_errname(errno));
	memset(map + RB, 'p', 8192);
	CHECK(map[RB + 8191] == 'p');
	OK(munmap(map, RSIZE));
	SUB(check_but(dst, 0, 0, 0));
	SUB(check_but(src, 0, 0, 0));
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

static int t_reflink_dedupe(void)
{
	struct {
		struct file_dedupe_range r;
		struct file_dedupe_range_info info;
	} d;
	int src, dst;

	TRY(pt_mkfile_pattern("src", RSIZE, 1));
	TRY(pt_mkfile_pattern("dst", RSIZE, 1));
	src = OK(open("src", O_RDWR));
	dst = OK(open("dst", O_RDWR));
	TRY(pt_write_pattern(dst, 3 * RB, 100, 5));	/* block 3 differs */
	memset(&d, 0, sizeof(d));
	d.r.src_length = 2 * RB;
	d.r.dest_count = 1;
	d.info.dest_fd = dst;
	if (ioctl(src, FIDEDUPERANGE, &d))
		UNSUPPORTED("FIDEDUPERANGE", errno);
	if (d.info.status < 0)
		UNSUPPORTED("FIDEDUPERANGE", -d.info.status);
	EQ(d.info.status, FILE_DEDUPE_RANGE_SAME);
	EQ(d.info.bytes_deduped, 2 * RB);
	d.r.src_offset = 3 * RB;
	d.info.dest_offset = 3 * RB;
	d.r.src_length = RB;
	OK(ioctl(src, FIDEDUPERANGE, &d));
	EQ(d.info.status, FILE_DEDUPE_RANGE_DIFFERS);
	/* shared now: a write to one still stays there */
	TRY(pt_write_pattern(src, RB, 300, 6));
	EQ(pt_check_pattern(dst, 0, 3 * RB, 1), -1);
	EQ(pt_check_pattern(dst, 3 * RB, 100, 5), -1);
	EQ(pt_check_pattern(src, RB, 300, 6), -1);
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

static int t_reflink_copy_range(void)
{
	off_t in = 100, out = 100;
	int src, dst;
	ssize_t n;

	TRY(pt_mkfile_pattern("src", RSIZE, 1));
	src = OK(open("src", O_RDWR));
	dst = OK(open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644));
	TRY(pt_write_pattern(dst, 0, 100, 1));
	n = copy_file_range(src, &in, dst, &out, RSIZE - 100, 0);
	if (n < 0)
		UNSUPPORTED("copy_file_range", errno);
	EQ(n, RSIZE - 100);
	TRY(pt_write_pattern(dst, 5000, 70000, 7));
	SUB(check_but(src, 0, 0, 0));
	TRY(pt_write_pattern(src, 3 * RB, 10, 8));
	SUB(check_but(dst, 5000, 70000, 7));
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

static int t_reflink_unshare(void)
{
	int src, dst;

	SUB(make_clone(&src, &dst));
	if (fallocate(dst, FALLOC_FL_UNSHARE_RANGE, 0, RSIZE))
		UNSUPPORTED("FALLOC_FL_UNSHARE_RANGE", errno);
	SUB(check_but(dst, 0, 0, 0));
	EQ(pt_size("dst"), RSIZE);
	TRY(pt_write_pattern(src, 0, RB, 9));
	SUB(check_but(dst, 0, 0, 0));
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

/* A clone's st_blocks counts its shared blocks; free space hardly moves */
static int t_reflink_space(void)
{
	struct stat s1, s2;
	struct statvfs v1, v2;
	int src, dst;

	TRY(pt_mkfile_pattern("big", 64 * RB, 1));
	src = OK(open("big", O_RDONLY));
	OK(fsync(src));
	OK(fstatvfs(src, &v1));
	dst = OK(open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644));
	if (ioctl(dst, FICLONE, src))
		UNSUPPORTED("FICLONE", errno);
	OK(fsync(dst));
	OK(fstatvfs(dst, &v2));
	OK(fstat(src, &s1));
	OK(fstat(dst, &s2));
	EQ(s2.st_size, 64 * RB);
	CHECKM(s2.st_blocks >= s1.st_blocks - 8,
	       "clone st_blocks %lld, source %lld",
	       (long long)s2.st_blocks, (long long)s1.st_blocks);
	CHECKM((v1.f_bfree - v2.f_bfree) * v1.f_frsize < 16 * RB,
	       "a clone of %d KiB took %llu KiB", 64 * RB / 1024,
	       (unsigned long long)((v1.f_bfree - v2.f_bfree) *
				    v1.f_frsize / 1024));
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

/* len bytes of fd at off are pattern 1 as written at poff */
static int moved_at(int fd, off_t off, size_t len, off_t poff)
{
	char *want = pt_alloc(len), *got = pt_alloc(len);
	long bad = -2;

	pt_pattern(want, len, poff, 1);
	if (pt_pread_full(fd, got, len, off) == (ssize_t)len)
		bad = pt_memdiff(got, want, len);
	free(want);
	free(got);
	EQ(bad, -1);
	return PT_PASS;
}

/* len bytes of fd at off read as zeros */
static int zeros_at(int fd, off_t off, size_t len)
{
	char *got = pt_alloc(len);
	long bad = -2;

	if (pt_pread_full(fd, got, len, off) == (ssize_t)len)
		bad = pt_zerodiff(got, len);
	free(got);
	EQ(bad, -1);
	return PT_PASS;
}

/*
 * A partial EOF block is cloned only to or past dst's EOF (the VFS rule:
 * never into the middle of a file); a range past src EOF is refused.
 */
static int t_reflink_eof(void)
{
	struct file_clone_range r = { 0 };
	int src, dst;

	TRY(pt_mkfile_pattern("src", RB + 1000, 1));
	TRY(pt_mkfile_pattern("dst", RSIZE, 2));
	src = OK(open("src", O_RDWR));
	dst = OK(open("dst", O_RDWR));
	r.src_fd = src;
	r.src_length = 0;		/* to EOF */
	r.dest_offset = RSIZE;
	if (ioctl(dst, FICLONERANGE, &r))
		UNSUPPORTED("FICLONERANGE", errno);
	EQ(pt_size("dst"), RSIZE + RB + 1000);
	EQ(pt_check_pattern(dst, 0, RSIZE, 2), -1);
	SUB(moved_at(dst, RSIZE, RB + 1000, 0));
	r.dest_offset = RB;		/* partial block into the middle */
	ERR(ioctl(dst, FICLONERANGE, &r), EINVAL);
	r.src_length = 2 * RB;		/* past src EOF */
	ERR(ioctl(dst, FICLONERANGE, &r), EINVAL);
	EQ(pt_check_pattern(dst, 0, RSIZE, 2), -1);
	/* whole blocks past dst EOF: it grows, the gap reads zeros */
	r.src_length = RB;
	r.dest_offset = 7 * RB;
	OK(ioctl(dst, FICLONERANGE, &r));
	EQ(pt_size("dst"), 8 * RB);
	SUB(zeros_at(dst, RSIZE + RB + 1000, 2 * RB - 1000));
	SUB(moved_at(dst, 7 * RB, RB, 0));
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

const struct pt_test pt_reflink_tests[] = {
	{ "reflink_cow_write", t_reflink_cow_write, 0 },
	{ "reflink_cow_direct", t_reflink_cow_direct, 0 },
	{ "reflink_cow_mmap", t_reflink_cow_mmap, 0 },
	{ "reflink_mmap_private", t_reflink_mmap_private, 0 },
	{ "reflink_dedupe", t_reflink_dedupe, 0 },
	{ "reflink_copy_range", t_reflink_copy_range, 0 },
	{ "reflink_unshare", t_reflink_unshare, 0 },
	{ "reflink_space", t_reflink_space, 0 },
	{ "reflink_eof", t_reflink_eof, 0 },
	{ NULL, NULL, 0 },
};
