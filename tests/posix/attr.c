// SPDX-License-Identifier: BSD-3-Clause
/*
 * Attributes: chmod, chown, truncate, stat/statx fields, st_blocks.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "pt.h"

static int t_chmod_basic(void)
{
	static const mode_t modes[] = {
		0, 0644, 0777, 0400, 04755, 02755, 01777, 07777, 0111,
	};
	struct stat st;
	size_t i;

	TRY(pt_mkfile("f", NULL, 0));
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		OK(chmod("f", modes[i]));
		OK(stat("f", &st));
		CHECK(S_ISREG(st.st_mode));
		EQMODE(st.st_mode & 07777, modes[i]);
	}
	OK(mkdir("d", 0755));
	OK(chmod("d", 0));
	OK(stat("d", &st));
	CHECK(S_ISDIR(st.st_mode));
	EQMODE(st.st_mode & 07777, 0);
	OK(chmod("d", 01700));
	OK(stat("d", &st));
	EQMODE(st.st_mode & 07777, 01700);
	return PT_PASS;
}

static int t_fchmod(void)
{
	struct stat st;
	int fd;

	TRY(pt_mkfile("f", NULL, 0));
	OK(symlink("f", "l"));
	fd = OK(open("f", O_RDONLY));
	OK(fchmod(fd, 0604));
	OK(fstat(fd, &st));
	EQMODE(st.st_mode & 07777, 0604);
	OK(close(fd));
	OK(fchmodat(AT_FDCWD, "f", 0640, 0));
	OK(stat("f", &st));
	EQMODE(st.st_mode & 07777, 0640);
	/* chmod follows symlinks. */
	OK(chmod("l", 0600));
	OK(stat("f", &st));
	EQMODE(st.st_mode & 07777, 0600);
	OK(lstat("l", &st));
	CHECK(S_ISLNK(st.st_mode));
	return PT_PASS;
}

static int t_chown_root(void)
{
	struct stat st;
	int fd;

	TRY(pt_mkfile("f", NULL, 0));
	OK(chown("f", 65534, 65534));
	OK(stat("f", &st));
	EQ(st.st_uid, 65534);
	EQ(st.st_gid, 65534);
	OK(chown("f", -1, 0));
	OK(stat("f", &st));
	EQ(st.st_uid, 65534);
	EQ(st.st_gid, 0);
	OK(chown("f", 12345, -1));
	OK(stat("f", &st));
	EQ(st.st_uid, 12345);
	EQ(st.st_gid, 0);
	fd = OK(open("f", O_RDONLY));
	OK(fchown(fd, 0, 54321));
	OK(fstat(fd, &st));
	EQ(st.st_uid, 0);
	EQ(st.st_gid, 54321);
	OK(close(fd));
	OK(symlink("f", "l"));
	OK(lchown("l", 777, 888));
	OK(lstat("l", &st));
	EQ(st.st_uid, 777);
	EQ(st.st_gid, 888);
	OK(stat("l", &st));
	EQ(st.st_uid, 0);
	return PT_PASS;
}

static int t_chown_clears_suid(void)
{
	struct stat st;

	TRY(pt_mkfile("f", NULL, 0));
	OK(chmod("f", 06755));
	OK(chown("f", 65534, 65534));
	OK(stat("f", &st));
	EQMODE(st.st_mode & 07777, 0755);
	return PT_PASS;
}

static int t_write_clears_suid(void)
{
	struct stat st;
	int fd;

	TRY(pt_mkfile("f", NULL, 0));
	OK(chown("f", pt_cfg.uid, pt_cfg.gid));
	OK(chmod("f", 04777));
	BECOME_USER();
	fd = OK(open("f", O_WRONLY));
	EQ(write(fd, "x", 1), 1);
	OK(fstat(fd, &st));
	OK(close(fd));
	EQMODE(st.st_mode & 07777, 0777);
	return PT_PASS;
}

static int t_truncate_up(void)
{
	char *buf = pt_alloc(20000);

	TRY(pt_mkfile_pattern("f", 100, 1));
	OK(truncate("f", 20000));
	EQ(pt_size("f"), 20000);
	EQ(pt_readfile("f", buf, 20000), 20000);
	EQ(pt_zerodiff(buf + 100, 19900), -1);
	free(buf);
	return PT_PASS;
}

static int t_truncate_down(void)
{
	char buf[200];
	int fd;

	TRY(pt_mkfile_pattern("f", 100000, 1));
	OK(truncate("f", 100));
	EQ(pt_size("f"), 100);
	EQ(pt_readfile("f", buf, sizeof(buf)), 100);
	fd = OK(open("f", O_RDONLY));
	EQ(pt_check_pattern(fd, 0, 100, 1), -1);
	EQ(pread(fd, buf, 10, 100), 0);
	OK(close(fd));
	OK(truncate("f", 0));
	EQ(pt_size("f"), 0);
	return PT_PASS;
}

/* Data cut by truncate must not come back when the file grows again. */
static int t_truncate_down_up(void)
{
	static const off_t cuts[] = { 0, 1, 1000, 4095, 4096, 5000, 65537 };
	char *buf = pt_alloc(200000);
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(cuts); i++) {
		TRY(pt_mkfile_pattern("f", 200000, 7));
		fd = OK(open("f", O_RDWR));
		OK(ftruncate(fd, cuts[i]));
		OK(ftruncate(fd, 200000));
		EQ(pt_pread_full(fd, buf, 200000, 0), 200000);
		CHECKM(pt_zerodiff(buf + cuts[i], 200000 - cuts[i]) < 0,
		       "cut at %ld: stale byte at %ld", (long)cuts[i],
		       (long)cuts[i] + pt_zerodiff(buf + cuts[i],
						   200000 - cuts[i]));
		EQ(pt_check_pattern(fd, 0, cuts[i], 7), -1);
		OK(close(fd));
	}
	free(buf);
	return PT_PASS;
}

static int t_ftruncate_errors(void)
{
	int fd;

	TRY(pt_mkfile("f", "abc", 3));
	OK(mkdir("d", 0755));
	fd = OK(open("f", O_RDONLY));
	ERR(ftruncate(fd, 0), EINVAL);
	OK(close(fd));
	fd = OK(open("f", O_WRONLY));
	ERR(ftruncate(fd, -1), EINVAL);
	OK(close(fd));
	ERR(truncate("f", -1), EINVAL);
	ERR(truncate("d", 0), EISDIR);
	ERR(truncate("missing", 0), ENOENT);
	EQ(pt_size("f"), 3);
	return PT_PASS;
}

static int t_truncate_sparse_big(void)
{
	off_t big = 1LL << 40;
	char c = 1;
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	OK(ftruncate(fd, big));
	EQ(pt_size("f"), big);
	EQ(pread(fd, &c, 1, big - 1), 1);
	EQ(c, 0);
	EQ(pwrite(fd, "z", 1, big - 4097), 1);
	EQ(pread(fd, &c, 1, big - 4097), 1);
	EQ(c, 'z');
	OK(ftruncate(fd, 10));
	EQ(pt_size("f"), 10);
	OK(close(fd));
	return PT_PASS;
}

static int t_stat_fields(void)
{
	struct stat st, fst, dst;
	int fd;

	TRY(pt_mkfile("f", "12345", 5));
	OK(stat("f", &st));
	OK(stat(".", &dst));
	EQ(st.st_size, 5);
	EQ(st.st_nlink, 1);
	EQ(st.st_dev, dst.st_dev);
	CHECK(st.st_blksize > 0);
	fd = OK(open("f", O_RDONLY));
	OK(fstat(fd, &fst));
	EQ(fst.st_ino, st.st_ino);
	EQ(fst.st_dev, st.st_dev);
	EQ(fst.st_size, st.st_size);
	EQ(fst.st_mode, st.st_mode);
	OK(close(fd));
	return PT_PASS;
}

static int t_st_blocks(void)
{
	struct stat st0, st1, st2;
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	OK(fstat(fd, &st0));
	TRY(pt_write_pattern(fd, 0, 4096, 1));
	OK(fsync(fd));
	OK(fstat(fd, &st1));
	CHECKM(st1.st_blocks > 0, "st_blocks is 0 after writing 4096 bytes");
	TRY(pt_write_pattern(fd, 4096, MiB, 1));
	OK(fsync(fd));
	OK(fstat(fd, &st2));
	REL(st2.st_blocks, >, st1.st_blocks);
	REL(st2.st_blocks * 512, >=, MiB + 4096);
	REL(st2.st_blocks * 512, <=, 2 * MiB + 65536);
	CHECK(st2.st_blksize > 0);
	OK(close(fd));
	return PT_PASS;
}

static int t_statx_basic(void)
{
	struct timespec t0, t1;
	struct statx sx, sx2;
	struct stat st;

	clock_gettime(CLOCK_REALTIME, &t0);
	TRY(pt_mkfile("f", "hello", 5));
	clock_gettime(CLOCK_REALTIME, &t1);
	OK(statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS | STATX_BTIME, &sx));
	OK(stat("f", &st));
	CHECKM((sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS,
	       "stx_mask 0x%x lacks basic stats", sx.stx_mask);
	EQ(sx.stx_ino, st.st_ino);
	EQ(sx.stx_size, 5);
	EQ(sx.stx_mode, st.st_mode);
	EQ(sx.stx_nlink, 1);
	EQ(sx.stx_uid, st.st_uid);
	EQ(sx.stx_gid, st.st_gid);
	EQ(sx.stx_blocks, st.st_blocks);
	EQ(sx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
	EQ(sx.stx_mtime.tv_nsec, st.st_mtim.tv_nsec);
	EQ(sx.stx_ctime.tv_nsec, st.st_ctim.tv_nsec);
	if (!(sx.stx_mask & STATX_BTIME)) {
		pt_info("btime not reported");
		return PT_PASS;
	}
	REL(sx.stx_btime.tv_sec, >=, t0.tv_sec - 1);
	REL(sx.stx_btime.tv_sec, <=, t1.tv_sec + 1);
	pt_tick();
	TRY(pt_mkfile("f", "changed", 7));
	OK(chmod("f", 0600));
	OK(statx(AT_FDCWD, "f", 0, STATX_BTIME, &sx2));
	EQ(sx2.stx_btime.tv_sec, sx.stx_btime.tv_sec);
	EQ(sx2.stx_btime.tv_nsec, sx.stx_btime.tv_nsec);
	return PT_PASS;
}

static int t_statx_flags(void)
{
	struct statx sx;
	int fd;

	TRY(pt_mkfile("f", "hello", 5));
	OK(symlink("f", "l"));
	OK(statx(AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
	CHECK(S_ISLNK(sx.stx_mode));
	EQ(sx.stx_size, 1);
	OK(statx(AT_FDCWD, "l", 0, STATX_BASIC_STATS, &sx));
	CHECK(S_ISREG(sx.stx_mode));
	fd = OK(open("f", O_RDONLY));
	OK(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
	EQ(sx.stx_size, 5);
	OK(close(fd));
	OK(statx(AT_FDCWD, "f", AT_STATX_FORCE_SYNC, STATX_SIZE, &sx));
	EQ(sx.stx_size, 5);
	ERR(statx(AT_FDCWD, "missing", 0, STATX_BASIC_STATS, &sx), ENOENT);
	return PT_PASS;
}

const struct pt_test pt_attr_tests[] = {
	{ "chmod_basic", t_chmod_basic, 0 },
	{ "fchmod", t_fchmod, 0 },
	{ "chown_root", t_chown_root, PT_ROOT },
	{ "chown_clears_suid", t_chown_clears_suid, PT_ROOT },
	{ "write_clears_suid", t_write_clears_suid, PT_ROOT },
	{ "truncate_up", t_truncate_up, 0 },
	{ "truncate_down", t_truncate_down, 0 },
	{ "truncate_down_up", t_truncate_down_up, 0 },
	{ "ftruncate_errors", t_ftruncate_errors, 0 },
	{ "truncate_sparse_big", t_truncate_sparse_big, 0 },
	{ "stat_fields", t_stat_fields, 0 },
	{ "st_blocks", t_st_blocks, 0 },
	{ "statx_basic", t_statx_basic, 0 },
	{ "statx_flags", t_statx_flags, 0 },
	{ NULL, NULL, 0 },
};
