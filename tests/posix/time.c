// SPDX-License-Identifier: BSD-3-Clause
/*
 * Timestamps: utimensat, and which operations change mtime/ctime.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "pt.h"

#define OLD_SEC 1000000000

static int set_old(const char *path)
{
	struct timespec ts[2] = { { OLD_SEC, 0 }, { OLD_SEC, 0 } };

	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

static int t_utimens_ns(void)
{
	struct timespec ts[2] = {
		{ 1234567890, 123456789 }, { 1500000000, 987654321 },
	};
	struct stat st;
	int fd;

	TRY(pt_mkfile("f", NULL, 0));
	OK(utimensat(AT_FDCWD, "f", ts, 0));
	OK(stat("f", &st));
	EQ(st.st_atim.tv_sec, 1234567890);
	EQ(st.st_atim.tv_nsec, 123456789);
	EQ(st.st_mtim.tv_sec, 1500000000);
	EQ(st.st_mtim.tv_nsec, 987654321);
	ts[0].tv_nsec = 1;
	ts[1].tv_nsec = 999999999;
	fd = OK(open("f", O_RDONLY));
	OK(futimens(fd, ts));
	OK(fstat(fd, &st));
	EQ(st.st_atim.tv_nsec, 1);
	EQ(st.st_mtim.tv_nsec, 999999999);
	OK(close(fd));
	OK(mkdir("d", 0755));
	OK(utimensat(AT_FDCWD, "d", ts, 0));
	OK(stat("d", &st));
	EQ(st.st_mtim.tv_sec, 1500000000);
	EQ(st.st_mtim.tv_nsec, 999999999);
	return PT_PASS;
}

static int t_utimens_range(void)
{
	static const time_t secs[] = { 0, 1, 0x7fffffff, 0x80000000LL,
				       4102444800LL };
	struct timespec ts[2];
	struct stat st;
	size_t i;

	TRY(pt_mkfile("f", NULL, 0));
	for (i = 0; i < ARRAY_SIZE(secs); i++) {
		ts[0].tv_sec = ts[1].tv_sec = secs[i];
		ts[0].tv_nsec = ts[1].tv_nsec = 500000000;
		OK(utimensat(AT_FDCWD, "f", ts, 0));
		OK(stat("f", &st));
		EQ(st.st_mtim.tv_sec, secs[i]);
		EQ(st.st_atim.tv_sec, secs[i]);
		EQ(st.st_mtim.tv_nsec, 500000000);
	}
	return PT_PASS;
}

static int t_utimens_now(void)
{
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	struct timespec t0, t1;
	struct stat st;

	TRY(pt_mkfile("f", NULL, 0));
	TRY(set_old("f"));
	clock_gettime(CLOCK_REALTIME, &t0);
	OK(utimensat(AT_FDCWD, "f", ts, 0));
	clock_gettime(CLOCK_REALTIME, &t1);
	OK(stat("f", &st));
	REL(st.st_mtim.tv_sec, >=, t0.tv_sec - 1);
	REL(st.st_mtim.tv_sec, <=, t1.tv_sec + 1);
	REL(st.st_atim.tv_sec, >=, t0.tv_sec - 1);
	REL(st.st_ctim.tv_sec, >=, t0.tv_sec - 1);
	TRY(set_old("f"));
	OK(utimensat(AT_FDCWD, "f", NULL, 0));
	OK(stat("f", &st));
	REL(st.st_mtim.tv_sec, >=, t0.tv_sec - 1);
	REL(st.st_atim.tv_sec, >=, t0.tv_sec - 1);
	return PT_PASS;
}

static int t_utimens_omit(void)
{
	struct timespec ts[2] = { { 1111111111, 111 }, { 1222222222, 222 } };
	struct stat st, st2;

	TRY(pt_mkfile("f", NULL, 0));
	OK(utimensat(AT_FDCWD, "f", ts, 0));
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = 1333333333;
	OK(utimensat(AT_FDCWD, "f", ts, 0));
	OK(stat("f", &st));
	EQ(st.st_atim.tv_sec, 1111111111);
	EQ(st.st_atim.tv_nsec, 111);
	EQ(st.st_mtim.tv_sec, 1333333333);
	ts[0].tv_nsec = 0;
	ts[1].tv_nsec = UTIME_OMIT;
	OK(utimensat(AT_FDCWD, "f", ts, 0));
	OK(stat("f", &st));
	EQ(st.st_atim.tv_sec, 1111111111);
	EQ(st.st_atim.tv_nsec, 0);
	EQ(st.st_mtim.tv_sec, 1333333333);
	EQ(st.st_mtim.tv_nsec, 222);
	pt_tick();
	ts[0].tv_nsec = UTIME_OMIT;
	OK(utimensat(AT_FDCWD, "f", ts, 0));
	OK(stat("f", &st2));
	EQ(st2.st_ctim.tv_sec, st.st_ctim.tv_sec);
	EQ(st2.st_ctim.tv_nsec, st.st_ctim.tv_nsec);
	return PT_PASS;
}

static int t_utimens_symlink(void)
{
	struct timespec ts[2] = { { 1400000000, 5 }, { 1400000000, 6 } };
	struct stat st;

	TRY(pt_mkfile("f", NULL, 0));
	OK(symlink("f", "l"));
	TRY(set_old("f"));
	OK(utimensat(AT_FDCWD, "l", ts, AT_SYMLINK_NOFOLLOW));
	OK(lstat("l", &st));
	EQ(st.st_mtim.tv_sec, 1400000000);
	EQ(st.st_mtim.tv_nsec, 6);
	OK(stat("f", &st));
	EQ(st.st_mtim.tv_sec, OLD_SEC);
	OK(utimensat(AT_FDCWD, "l", ts, 0));
	OK(stat("f", &st));
	EQ(st.st_mtim.tv_sec, 1400000000);
	ERR(utimensat(AT_FDCWD, "f", ts, 0x4000), EINVAL);
	return PT_PASS;
}

/*
 * Check that op() on path changes ctime (and mtime iff want_mtime).
 * mtime is preset to an old value, ctime is compared across a clock tick.
 */
static int ctime_check2(const char *path, const char *after,
			int (*op)(void), int want_mtime, const char *what)
{
	struct stat a, b;

	TRY(set_old(path));
	OK(lstat(path, &a));
	pt_tick();
	TRY(op());
	OK(lstat(after, &b));
	CHECKM(pt_tscmp(&b.st_ctim, &a.st_ctim) > 0,
	       "%s did not advance ctime of %s (%ld.%09ld -> %ld.%09ld)",
	       what, path, (long)a.st_ctim.tv_sec, a.st_ctim.tv_nsec,
	       (long)b.st_ctim.tv_sec, b.st_ctim.tv_nsec);
	if (want_mtime)
		CHECKM(b.st_mtim.tv_sec != OLD_SEC,
		       "%s did not change mtime of %s", what, path);
	else
		CHECKM(b.st_mtim.tv_sec == OLD_SEC,
		       "%s changed mtime of %s", what, path);
	return PT_PASS;
}

static int ctime_check(const char *path, int (*op)(void), int want_mtime,
		       const char *what)
{
	return ctime_check2(path, path, op, want_mtime, what);
}

#define ERRNO_OF(x) ((x) ? -errno : 0)

static int op_chmod(void) { return ERRNO_OF(chmod("f", 0600)); }
static int op_chown(void) { return ERRNO_OF(chown("f", 1, 1)); }
static int op_link(void) { return ERRNO_OF(link("f", "f2")); }
static int op_unlink(void) { return ERRNO_OF(unlink("f2")); }
static int op_rename(void) { return ERRNO_OF(rename("f", "g")); }
static int op_rename_back(void) { return ERRNO_OF(rename("g", "f")); }
static int op_truncate(void) { return ERRNO_OF(truncate("f", 1)); }

static int op_write(void)
{
	int fd = open("f", O_WRONLY);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = pwrite(fd, "abc", 3, 10);
	close(fd);
	return r == 3 ? 0 : -EIO;
}

static int op_ftruncate(void)
{
	int fd = open("f", O_WRONLY);
	int r;

	if (fd < 0)
		return -errno;
	r = ERRNO_OF(ftruncate(fd, 100));
	close(fd);
	return r;
}

static int op_otrunc(void)
{
	int fd = open("f", O_WRONLY | O_TRUNC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int t_ctime_inode_ops(void)
{
	TRY(pt_mkfile("f", "data", 4));
	if (ctime_check("f", op_chmod, 0, "chmod") ||
	    ctime_check("f", op_link, 0, "link") ||
	    ctime_check("f", op_unlink, 0, "unlink of other link") ||
	    ctime_check2("f", "g", op_rename, 0, "rename"))
		return PT_FAIL;
	return ctime_check2("g", "f", op_rename_back, 0, "rename");
}

static int t_ctime_chown(void)
{
	TRY(pt_mkfile("f", "data", 4));
	return ctime_check("f", op_chown, 0, "chown");
}

static int t_mtime_data_ops(void)
{
	TRY(pt_mkfile("f", "data", 4));
	if (ctime_check("f", op_write, 1, "write") ||
	    ctime_check("f", op_truncate, 1, "truncate") ||
	    ctime_check("f", op_ftruncate, 1, "ftruncate"))
		return PT_FAIL;
	return ctime_check("f", op_otrunc, 1, "open(O_TRUNC)");
}

static int op_d_create(void) { return pt_mkfile("d/f", NULL, 0); }
static int op_d_mkdir(void) { return ERRNO_OF(mkdir("d/sub", 0755)); }
static int op_d_rmdir(void) { return ERRNO_OF(rmdir("d/sub")); }
static int op_d_symlink(void) { return ERRNO_OF(symlink("x", "d/l")); }
static int op_d_link(void) { return ERRNO_OF(link("d/f", "d/f2")); }
static int op_d_unlink(void) { return ERRNO_OF(unlink("d/f2")); }
static int op_d_rename(void) { return ERRNO_OF(rename("d/f", "d/g")); }
static int op_d_mv_out(void) { return ERRNO_OF(rename("d/g", "e/g")); }
static int op_d_mv_in(void) { return ERRNO_OF(rename("e/g", "d/g")); }
static int op_d_mknod(void) { return ERRNO_OF(mknod("d/p", S_IFIFO, 0)); }

static int t_dir_times(void)
{
	static const struct {
		int (*op)(void);
		const char *dir, *what;
	} ops[] = {
		{ op_d_create, "d", "create" },
		{ op_d_mkdir, "d", "mkdir" },
		{ op_d_rmdir, "d", "rmdir" },
		{ op_d_symlink, "d", "symlink" },
		{ op_d_link, "d", "link" },
		{ op_d_unlink, "d", "unlink" },
		{ op_d_rename, "d", "rename within" },
		{ op_d_mv_out, "d", "rename out of" },
		{ op_d_mv_in, "d", "rename into" },
		{ op_d_mv_out, "e", "rename into" },
		{ op_d_mv_in, "e", "rename out of" },
		{ op_d_mknod, "d", "mknod" },
	};
	size_t i;

	OK(mkdir("d", 0755));
	OK(mkdir("e", 0755));
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (ctime_check(ops[i].dir, ops[i].op, 1, ops[i].what))
			return PT_FAIL;
	return PT_PASS;
}

static int t_mtime_read_unchanged(void)
{
	struct stat a, b;
	char buf[16];

	TRY(pt_mkfile("f", "data", 4));
	OK(mkdir("d", 0755));
	TRY(set_old("f"));
	TRY(set_old("d"));
	OK(lstat("f", &a));
	pt_tick();
	EQ(pt_readfile("f", buf, sizeof(buf)), 4);
	OK(lstat("f", &b));
	EQ(b.st_mtim.tv_sec, OLD_SEC);
	EQ(b.st_ctim.tv_sec, a.st_ctim.tv_sec);
	EQ(b.st_ctim.tv_nsec, a.st_ctim.tv_nsec);
	OK(lstat("d", &b));
	EQ(b.st_mtim.tv_sec, OLD_SEC);
	return PT_PASS;
}

const struct pt_test pt_time_tests[] = {
	{ "utimens_ns", t_utimens_ns, 0 },
	{ "utimens_range", t_utimens_range, 0 },
	{ "utimens_now", t_utimens_now, 0 },
	{ "utimens_omit", t_utimens_omit, 0 },
	{ "utimens_symlink", t_utimens_symlink, 0 },
	{ "ctime_inode_ops", t_ctime_inode_ops, 0 },
	{ "ctime_chown", t_ctime_chown, PT_ROOT },
	{ "mtime_data_ops", t_mtime_data_ops, 0 },
	{ "dir_times", t_dir_times, 0 },
	{ "mtime_read_unchanged", t_mtime_read_unchanged, 0 },
	{ NULL, NULL, 0 },
};
