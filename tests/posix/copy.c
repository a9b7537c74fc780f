// SPDX-License-Identifier: BSD-3-Clause
/*
 * copy_file_range(2) and reflinks (FICLONE, FICLONERANGE).
 */
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "pt.h"

/* copy_file_range until len bytes are done or EOF; returns total/-errno. */
static long long cfr_full(int in, off_t *ioff, int out, off_t *ooff,
			  size_t len)
{
	long long done = 0;
	ssize_t n;

	while ((size_t)done < len) {
		n = copy_file_range(in, ioff, out, ooff, len - done, 0);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

/* len bytes of fd at off must be pattern(seed) as of offset poff. */
static long shifted_at(int fd, off_t off, size_t len, off_t poff,
		       unsigned int seed)
{
	char *buf = pt_alloc(len), *want = pt_alloc(len);
	long bad = off;

	pt_pattern(want, len, poff, seed);
	if (pt_pread_full(fd, buf, len, off) == (ssize_t)len) {
		bad = pt_memdiff(buf, want, len);
		if (bad >= 0)
			bad += off;
	}
	free(buf);
	free(want);
	return bad;
}

static int t_copy_range(void)
{
	off_t ioff = 12345, ooff = 777;
	char head[777];
	long long n;
	int in, out;

	TRY(pt_mkfile_pattern("src", 3 * MiB, 1));
	in = OK(open("src", O_RDONLY));
	out = OK(open("dst", O_RDWR | O_CREAT, 0644));
	n = cfr_full(in, &ioff, out, &ooff, 2 * MiB);
	if (n == -EOPNOTSUPP || n == -ENOSYS)
		UNSUPPORTED("copy_file_range", (int)-n);
	EQ(n, 2 * MiB);
	EQ(ioff, 12345 + 2 * MiB);
	EQ(ooff, 777 + 2 * MiB);
	EQ(lseek(in, 0, SEEK_CUR), 0);
	EQ(lseek(out, 0, SEEK_CUR), 0);
	EQ(pt_size("dst"), 777 + 2 * MiB);
	EQ(shifted_at(out, 777, 2 * MiB, 12345, 1), -1);
	EQ(pt_pread_full(out, head, sizeof(head), 0), sizeof(head));
	EQ(pt_zerodiff(head, sizeof(head)), -1);
	EQ(pt_check_pattern(in, 0, 3 * MiB, 1), -1);
	OK(close(in));
	OK(close(out));
	return PT_PASS;
}

static int t_copy_fd_offsets(void)
{
	char buf[16];
	int in, out;

	TRY(pt_mkfile("src", "0123456789", 10));
	in = OK(open("src", O_RDONLY));
	out = OK(open("dst", O_WRONLY | O_CREAT, 0644));
	OK(lseek(in, 2, SEEK_SET));
	EQ(copy_file_range(in, NULL, out, NULL, 5, 0), 5);
	EQ(lseek(in, 0, SEEK_CUR), 7);
	EQ(lseek(out, 0, SEEK_CUR), 5);
	/* Short copy at EOF, then 0. */
	EQ(copy_file_range(in, NULL, out, NULL, 100, 0), 3);
	EQ(copy_file_range(in, NULL, out, NULL, 100, 0), 0);
	OK(close(in));
	OK(close(out));
	EQ(pt_readfile("dst", buf, sizeof(buf)), 8);
	MEMEQ(buf, "23456789", 8);
	return PT_PASS;
}

static int t_copy_errors(void)
{
	off_t a = 0, b = 5;
	int fd, ro, ap;

	TRY(pt_mkfile("f", "0123456789", 10));
	fd = OK(open("f", O_RDWR));
	ERR(copy_file_range(fd, &a, fd, &b, 8, 0), EINVAL);
	ERR(copy_file_range(fd, &a, fd, &b, 1, 1), EINVAL);
	ro = OK(open("f", O_RDONLY));
	ERR(copy_file_range(fd, NULL, ro, NULL, 1, 0), EBADF);
	ap = OK(open("f", O_WRONLY | O_APPEND));
	ERR(copy_file_range(fd, NULL, ap, NULL, 1, 0), EBADF);
	OK(close(ap));
	OK(close(ro));
	OK(close(fd));
	return PT_PASS;
}

static int t_ficlone(void)
{
	int src, dst;

	TRY(pt_mkfile_pattern("src", MiB, 2));
	src = OK(open("src", O_RDWR));
	dst = OK(open("clone", O_RDWR | O_CREAT, 0644));
	if (ioctl(dst, FICLONE, src)) {
		if (errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL ||
		    errno == ENOTTY)
			UNSUPPORTED("FICLONE", errno);
		FAIL("ioctl(FICLONE): %s", pt_errname(errno));
	}
	EQ(pt_size("clone"), MiB);
	EQ(pt_check_pattern(dst, 0, MiB, 2), -1);
	TRY(pt_write_pattern(dst, 4096, 8192, 3));
	EQ(pt_check_pattern(src, 0, MiB, 2), -1);
	TRY(pt_write_pattern(src, 0, 4096, 4));
	EQ(pt_check_pattern(dst, 0, 4096, 2), -1);
	EQ(pt_check_pattern(dst, 4096, 8192, 3), -1);
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

static int t_ficlonerange(void)
{
	struct file_clone_range r = { 0 };
	int src, dst;

	TRY(pt_mkfile_pattern("src", MiB, 5));
	src = OK(open("src", O_RDONLY));
	dst = OK(open("dst", O_RDWR | O_CREAT, 0644));
	TRY(pt_write_pattern(dst, 0, 3 * 65536, 6));
	r.src_fd = src;
	r.src_offset = 65536;
	r.src_length = 65536;
	r.dest_offset = 65536;
	if (ioctl(dst, FICLONERANGE, &r)) {
		if (errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL ||
		    errno == ENOTTY)
			UNSUPPORTED("FICLONERANGE", errno);
		FAIL("ioctl(FICLONERANGE): %s", pt_errname(errno));
	}
	EQ(pt_check_pattern(dst, 0, 65536, 6), -1);
	EQ(pt_check_pattern(dst, 65536, 65536, 5), -1);
	EQ(pt_check_pattern(dst, 131072, 65536, 6), -1);
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

/*
 * Stores through a shared mapping, not yet written back, are file data:
 * a copy must carry them (a filesystem that copies on its backing store
 * has to write the page cache back first).
 */
static int t_copy_after_mmap_store(void)
{
	off_t ioff = 0, ooff = 0;
	char buf[64];
	long long n;
	char *map;
	int in, out;

	in = OK(open("src", O_RDWR | O_CREAT, 0644));
	OK(ftruncate(in, 8192));
	map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, in, 0);
	CHECKM(map != MAP_FAILED, "mmap: %s", pt_errname(errno));
	memcpy(map + 4100, "stored through the mapping", 26);
	out = OK(open("dst", O_RDWR | O_CREAT, 0644));
	n = cfr_full(in, &ioff, out, &ooff, 8192);
	OK(munmap(map, 8192));
	if (n == -EOPNOTSUPP || n == -ENOSYS)
		UNSUPPORTED("copy_file_range", (int)-n);
	EQ(n, 8192);
	EQ(pread(out, buf, 26, 4100), 26);
	MEMEQ(buf, "stored through the mapping", 26);
	OK(close(in));
	OK(close(out));
	return PT_PASS;
}

const struct pt_test pt_copy_tests[] = {
	{ "copy_range", t_copy_range, 0 },
	{ "copy_fd_offsets", t_copy_fd_offsets, 0 },
	{ "copy_errors", t_copy_errors, 0 },
	{ "copy_after_mmap_store", t_copy_after_mmap_store, 0 },
	{ "ficlone", t_ficlone, 0 },
	{ "ficlonerange", t_ficlonerange, 0 },
	{ NULL, NULL, 0 },
};
