// SPDX-License-Identifier: BSD-3-Clause
/*
 * read/write: offsets and sizes, holes, vectors, EOF, errors, O_DIRECT.
 */
#include <stdlib.h>
#include <sys/uio.h>

#include "pt.h"

static int t_rw_sizes(void)
{
	static const size_t sizes[] = { 1, 4095, 4096, 4097, MiB + 3 };
	static const off_t offs[] = { 0, 1, 4095, 4096, 4097, MiB - 1 };
	size_t i, j;
	long bad;
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (j = 0; j < ARRAY_SIZE(offs); j++) {
			OK(ftruncate(fd, 0));
			TRY(pt_write_pattern(fd, offs[j], sizes[i], i + j));
			EQ(pt_size("f"), offs[j] + sizes[i]);
			bad = pt_check_pattern(fd, offs[j], sizes[i], i + j);
			CHECKM(bad < 0, "size %zu at %ld: mismatch at %ld",
			       sizes[i], (long)offs[j], bad);
		}
	}
	OK(close(fd));
	return PT_PASS;
}

/* Overwrite random unaligned ranges of a file and compare with memory. */
static int t_rw_overwrite(void)
{
	size_t len = 3 * MiB, i, off, n;
	char *model = pt_alloc(len), *buf = pt_alloc(len);
	unsigned int seed = 12345;
	int fd;

	pt_pattern(model, len, 0, 1);
	TRY(pt_mkfile("f", model, len));
	fd = OK(open("f", O_RDWR));
	for (i = 0; i < 200; i++) {
		off = rand_r(&seed) % len;
		n = rand_r(&seed) % 70000 + 1;
		if (off + n > len)
			n = len - off;
		pt_pattern(model + off, n, off, i + 2);
		EQ(pt_pwrite_full(fd, model + off, n, off), n);
	}
	EQ(pt_pread_full(fd, buf, len, 0), len);
	MEMEQ(buf, model, len);
	OK(close(fd));
	EQ(pt_readfile("f", buf, len), len);
	MEMEQ(buf, model, len);
	free(model);
	free(buf);
	return PT_PASS;
}

static int t_rw_hole(void)
{
	off_t off = 10 * MiB;
	char *buf = pt_alloc(off);
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	TRY(pt_write_pattern(fd, off, 4097, 3));
	EQ(pt_size("f"), off + 4097);
	EQ(pt_pread_full(fd, buf, off, 0), off);
	EQ(pt_zerodiff(buf, off), -1);
	EQ(pt_check_pattern(fd, off, 4097, 3), -1);
	OK(close(fd));
	free(buf);
	return PT_PASS;
}

static int t_pread_pwrite(void)
{
	char buf[8];
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	EQ(write(fd, "0123456789", 10), 10);
	OK(lseek(fd, 3, SEEK_SET));
	EQ(pwrite(fd, "ab", 2, 7), 2);
	EQ(pread(fd, buf, 4, 6), 4);
	MEMEQ(buf, "6ab9", 4);
	EQ(lseek(fd, 0, SEEK_CUR), 3);
	EQ(read(fd, buf, 2), 2);
	MEMEQ(buf, "34", 2);
	ERR(pread(fd, buf, 1, -1), EINVAL);
	OK(close(fd));
	return PT_PASS;
}

/* Linux quirk: pwrite() on an O_APPEND fd appends regardless of offset. */
static int t_pwrite_append(void)
{
	char buf[8];
	int fd;

	TRY(pt_mkfile("f", "abc", 3));
	fd = OK(open("f", O_WRONLY | O_APPEND));
	EQ(pwrite(fd, "X", 1, 0), 1);
	OK(close(fd));
	EQ(pt_readfile("f", buf, sizeof(buf)), 4);
	MEMEQ(buf, "abcX", 4);
	return PT_PASS;
}

static int t_readv_writev(void)
{
	static const size_t wl[] = { 1, 100, 4096, 0, 7000 };
	static const size_t rl[] = { 3000, 3000, 5197 };
	char *w = pt_alloc(11197), *r = pt_alloc(11197);
	struct iovec iov[5];
	size_t i, o;
	int fd;

	pt_pattern(w, 11197, 0, 4);
	for (i = 0, o = 0; i < ARRAY_SIZE(wl); o += wl[i], i++)
		iov[i] = (struct iovec){ w + o, wl[i] };
	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	EQ(writev(fd, iov, 5), 11197);
	OK(lseek(fd, 0, SEEK_SET));
	for (i = 0, o = 0; i < ARRAY_SIZE(rl); o += rl[i], i++)
		iov[i] = (struct iovec){ r + o, rl[i] };
	EQ(readv(fd, iov, 3), 11197);
	MEMEQ(r, w, 11197);
	EQ(pwritev(fd, iov, 2, 100000), 6000);
	memset(r, 0, 11197);
	EQ(preadv(fd, iov, 3, 100000), 6000);
	MEMEQ(r, w, 6000);
	EQ(pt_size("f"), 106000);
	OK(close(fd));
	free(w);
	free(r);
	return PT_PASS;
}

static int t_read_eof(void)
{
	char buf[100];
	int fd;

	TRY(pt_mkfile("f", "0123456789", 10));
	fd = OK(open("f", O_RDONLY));
	EQ(read(fd, buf, 100), 10);
	EQ(read(fd, buf, 100), 0);
	EQ(pread(fd, buf, 100, 10), 0);
	EQ(pread(fd, buf, 100, 1000000), 0);
	EQ(pread(fd, buf, 100, 5), 5);
	MEMEQ(buf, "56789", 5);
	OK(close(fd));
	fd = OK(open("empty", O_RDONLY | O_CREAT, 0644));
	EQ(read(fd, buf, 100), 0);
	OK(close(fd));
	return PT_PASS;
}

static int t_rw_ebadf(void)
{
	char c = 'x';
	int fd;

	TRY(pt_mkfile("f", "abc", 3));
	OK(mkdir("d", 0755));
	fd = OK(open("f", O_RDONLY));
	ERR(write(fd, &c, 1), EBADF);
	ERR(pwrite(fd, &c, 1, 0), EBADF);
	OK(close(fd));
	fd = OK(open("f", O_WRONLY));
	ERR(read(fd, &c, 1), EBADF);
	ERR(pread(fd, &c, 1, 0), EBADF);
	OK(close(fd));
	fd = OK(open("d", O_RDONLY));
	ERR(read(fd, &c, 1), EISDIR);
	OK(close(fd));
	ERR(read(fd, &c, 1), EBADF);
	EQ(pt_size("f"), 3);
	return PT_PASS;
}

static int t_large_file(void)
{
	size_t len = 64 * MiB;
	long bad;
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	TRY(pt_write_pattern(fd, 0, len, 5));
	bad = pt_check_pattern(fd, 0, len, 5);
	CHECKM(bad < 0, "mismatch at offset %ld", bad);
	OK(close(fd));
	EQ(pt_size("f"), len);
	fd = OK(open("f", O_RDONLY));
	bad = pt_check_pattern(fd, 0, len, 5);
	CHECKM(bad < 0, "after reopen: mismatch at offset %ld", bad);
	OK(close(fd));
	return PT_PASS;
}

static int odirect_open(const char *path, int *fd)
{
	*fd = open(path, O_RDWR | O_CREAT | O_DIRECT, 0644);
	return *fd < 0 ? -errno : 0;
}

static int t_odirect_aligned(void)
{
	size_t len = 65536;
	char *w, *r;
	int fd, e;

	e = odirect_open("f", &fd);
	if (e == -EINVAL || e == -EOPNOTSUPP)
		UNSUPPORTED("O_DIRECT", -e);
	TRY(e);
	CHECK(!posix_memalign((void **)&w, 4096, len));
	CHECK(!posix_memalign((void **)&r, 4096, len));
	pt_pattern(w, len, 8192, 6);
	EQ(pwrite(fd, w, len, 8192), len);
	EQ(pread(fd, r, len, 8192), len);
	MEMEQ(r, w, len);
	EQ(pread(fd, r, 4096, 0), 4096);
	EQ(pt_zerodiff(r, 4096), -1);
	OK(close(fd));
	fd = OK(open("f", O_RDONLY));
	EQ(pt_check_pattern(fd, 8192, len, 6), -1);
	OK(close(fd));
	free(w);
	free(r);
	return PT_PASS;
}

/* Passes if unaligned O_DIRECT works; skips if the fs demands alignment. */
static int t_odirect_unaligned(void)
{
	char *w = pt_alloc(4096), *r = pt_alloc(4096);
	int fd, e;
	ssize_t n;

	e = odirect_open("f", &fd);
	if (e == -EINVAL || e == -EOPNOTSUPP)
		UNSUPPORTED("O_DIRECT", -e);
	TRY(e);
	pt_pattern(w + 1, 1001, 3, 7);
	n = pwrite(fd, w + 1, 1001, 3);
	if (n < 0 && errno == EINVAL)
		return pt_skip("unaligned O_DIRECT write gives EINVAL");
	EQ(n, 1001);
	n = pread(fd, r + 3, 999, 4);
	if (n < 0 && errno == EINVAL)
		return pt_skip("unaligned O_DIRECT read gives EINVAL");
	EQ(n, 999);
	MEMEQ(r + 3, w + 2, 999);
	OK(close(fd));
	EQ(pt_size("f"), 1004);
	fd = OK(open("f", O_RDONLY));
	EQ(pt_check_pattern(fd, 3, 1001, 7), -1);
	OK(close(fd));
	free(w);
	free(r);
	return PT_PASS;
}

static int t_write_zero_len(void)
{
	char c;
	int fd;

	TRY(pt_mkfile("f", "abc", 3));
	fd = OK(open("f", O_RDWR));
	EQ(write(fd, &c, 0), 0);
	EQ(pwrite(fd, &c, 0, 1000), 0);
	OK(close(fd));
	EQ(pt_size("f"), 3);
	return PT_PASS;
}

static int t_lseek_basic(void)
{
	char buf[8];
	int fd;

	TRY(pt_mkfile("f", "0123456789", 10));
	fd = OK(open("f", O_RDWR));
	EQ(lseek(fd, 4, SEEK_SET), 4);
	EQ(lseek(fd, 2, SEEK_CUR), 6);
	EQ(lseek(fd, -3, SEEK_END), 7);
	ERR(lseek(fd, -1, SEEK_SET), EINVAL);
	ERR(lseek(fd, -20, SEEK_END), EINVAL);
	ERR(lseek(fd, 0, 77), EINVAL);
	EQ(lseek(fd, 100, SEEK_END), 110);
	EQ(write(fd, "x", 1), 1);
	EQ(pt_size("f"), 111);
	EQ(pread(fd, buf, 8, 10), 8);
	EQ(pt_zerodiff(buf, 8), -1);
	OK(close(fd));
	return PT_PASS;
}

static int t_rw_two_fds(void)
{
	char buf[16];
	int a, b;

	a = OK(open("f", O_RDWR | O_CREAT, 0644));
	b = OK(open("f", O_RDWR));
	EQ(pwrite(a, "hello", 5, 0), 5);
	EQ(pread(b, buf, 16, 0), 5);
	MEMEQ(buf, "hello", 5);
	EQ(pwrite(b, "J", 1, 0), 1);
	EQ(pread(a, buf, 16, 0), 5);
	MEMEQ(buf, "Jello", 5);
	OK(ftruncate(a, 2));
	EQ(pread(b, buf, 16, 0), 2);
	OK(close(a));
	OK(close(b));
	return PT_PASS;
}

/* The part of the EOF page past a truncation point must read as zero. */
static int t_eof_tail_zero(void)
{
	static const off_t cut[] = { 4097, 1, 100, 8191, 12288 };
	char buf[16384];
	size_t i;
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	for (i = 0; i < ARRAY_SIZE(cut); i++) {
		TRY(pt_write_pattern(fd, 0, 16384, 8));
		OK(ftruncate(fd, cut[i]));
		EQ(pwrite(fd, "z", 1, 16383), 1);
		EQ(pt_pread_full(fd, buf, 16384, 0), 16384);
		CHECKM(pt_zerodiff(buf + cut[i], 16383 - cut[i]) < 0,
		       "cut %ld: stale data at %ld", (long)cut[i],
		       (long)cut[i] + pt_zerodiff(buf + cut[i],
						  16383 - cut[i]));
		EQ(buf[16383], 'z');
	}
	OK(close(fd));
	return PT_PASS;
}

static int t_rw_small_appends(void)
{
	int n = 5000, i, fd;
	char *buf = pt_alloc(n), *want = pt_alloc(n);

	pt_pattern(want, n, 0, 9);
	fd = OK(open("f", O_WRONLY | O_CREAT | O_APPEND, 0644));
	for (i = 0; i < n; i++)
		EQ(write(fd, want + i, 1), 1);
	OK(close(fd));
	EQ(pt_readfile("f", buf, n), n);
	MEMEQ(buf, want, n);
	free(buf);
	free(want);
	return PT_PASS;
}

const struct pt_test pt_rw_tests[] = {
	{ "rw_sizes", t_rw_sizes, 0 },
	{ "rw_overwrite", t_rw_overwrite, 0 },
	{ "rw_hole", t_rw_hole, 0 },
	{ "pread_pwrite", t_pread_pwrite, 0 },
	{ "pwrite_append", t_pwrite_append, 0 },
	{ "readv_writev", t_readv_writev, 0 },
	{ "read_eof", t_read_eof, 0 },
	{ "rw_ebadf", t_rw_ebadf, 0 },
	{ "large_file", t_large_file, 0 },
	{ "odirect_aligned", t_odirect_aligned, 0 },
	{ "odirect_unaligned", t_odirect_unaligned, 0 },
	{ "write_zero_len", t_write_zero_len, 0 },
	{ "lseek_basic", t_lseek_basic, 0 },
	{ "rw_two_fds", t_rw_two_fds, 0 },
	{ "eof_tail_zero", t_eof_tail_zero, 0 },
	{ "rw_small_appends", t_rw_small_appends, 0 },
	{ NULL, NULL, 0 },
};
