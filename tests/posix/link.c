// SPDX-License-Identifier: BSD-3-Clause
/*
 * Hard links and unlink.
 */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "pt.h"

static int t_link_basic(void)
{
	struct stat a, b;
	char buf[8];

	TRY(pt_mkfile("f", "data", 4));
	OK(link("f", "g"));
	OK(stat("f", &a));
	OK(stat("g", &b));
	EQ(a.st_ino, b.st_ino);
	EQ(a.st_nlink, 2);
	EQ(b.st_nlink, 2);
	TRY(pt_mkfile("g", "DATA!", 5));
	EQ(pt_readfile("f", buf, sizeof(buf)), 5);
	MEMEQ(buf, "DATA!", 5);
	OK(unlink("f"));
	EQ(pt_nlink("g"), 1);
	EQ(pt_readfile("g", buf, sizeof(buf)), 5);
	EQ(pt_exists("f"), 0);
	return PT_PASS;
}

static int t_link_cross_dir(void)
{
	struct stat a, b;

	OK(mkdir("d1", 0755));
	OK(mkdir("d2", 0755));
	TRY(pt_mkfile("d1/f", "x", 1));
	OK(link("d1/f", "d2/g"));
	OK(stat("d1/f", &a));
	OK(stat("d2/g", &b));
	EQ(a.st_ino, b.st_ino);
	EQ(b.st_nlink, 2);
	EQ(pt_nlink("d1"), 2);
	EQ(pt_nlink("d2"), 2);
	OK(unlink("d1/f"));
	OK(rmdir("d1"));
	EQ(pt_nlink("d2/g"), 1);
	return PT_PASS;
}

static int t_link_errors(void)
{
	TRY(pt_mkfile("f", NULL, 0));
	TRY(pt_mkfile("g", NULL, 0));
	OK(mkdir("d", 0755));
	OK(symlink("nowhere", "dangling"));
	ERR(link("d", "d2"), EPERM);
	ERR(link("f", "g"), EEXIST);
	ERR(link("f", "d"), EEXIST);
	ERR(link("f", "dangling"), EEXIST);
	ERR(link("missing", "h"), ENOENT);
	ERR(link("f", "nodir/h"), ENOENT);
	ERR(link("f", "g/h"), ENOTDIR);
	ERR(link("f/", "h"), ENOTDIR);
	EQ(pt_nlink("f"), 1);
	return PT_PASS;
}

static int t_link_many(void)
{
	int n = 200, i;
	char name[32];

	TRY(pt_mkfile("f", "x", 1));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		OK(link("f", name));
	}
	EQ(pt_nlink("f"), n + 1);
	EQ(pt_nlink("l77"), n + 1);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		OK(unlink(name));
		EQ(pt_nlink("f"), n - i);
	}
	return PT_PASS;
}

static int t_link_symlink(void)
{
	struct stat st, ft;

	TRY(pt_mkfile("f", NULL, 0));
	OK(symlink("f", "l"));
	OK(link("l", "l2"));
	OK(lstat("l2", &st));
	CHECK(S_ISLNK(st.st_mode));
	EQ(st.st_nlink, 2);
	OK(linkat(AT_FDCWD, "l", AT_FDCWD, "f2", AT_SYMLINK_FOLLOW));
	OK(lstat("f2", &st));
	OK(stat("f", &ft));
	CHECK(S_ISREG(st.st_mode));
	EQ(st.st_ino, ft.st_ino);
	EQ(ft.st_nlink, 2);
	return PT_PASS;
}

static int t_link_special(void)
{
	struct stat st;

	OK(mknod("p", S_IFIFO | 0644, 0));
	OK(link("p", "p2"));
	OK(lstat("p2", &st));
	CHECK(S_ISFIFO(st.st_mode));
	EQ(st.st_nlink, 2);
	OK(unlink("p"));
	EQ(pt_nlink("p2"), 1);
	return PT_PASS;
}

/* An unlinked file cannot be linked back (unless it is an O_TMPFILE). */
static int t_link_unlinked(void)
{
	char proc[64];
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	OK(unlink("f"));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (access(proc, F_OK))
		return pt_skip("/proc not available");
	ERR(linkat(AT_FDCWD, proc, AT_FDCWD, "g", AT_SYMLINK_FOLLOW), ENOENT);
	EQ(pt_exists("g"), 0);
	OK(close(fd));
	return PT_PASS;
}

static int t_link_exdev(void)
{
	char path[PATH_MAX];

	if (!pt_cfg.dir2)
		return pt_skip("needs a second mount (-m DIR2)");
	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	snprintf(path, sizeof(path), "%s/posix-test-exdev.%d", pt_cfg.dir2,
		 (int)getpid());
	ERR(link("f", path), EXDEV);
	ERR(rename("f", path), EXDEV);
	ERR(rename("d", path), EXDEV);
	EQ(pt_exists("f"), 1);
	return PT_PASS;
}

static int t_unlink_basic(void)
{
	struct stat st;

	TRY(pt_mkfile("f", "x", 1));
	OK(unlink("f"));
	ERR(stat("f", &st), ENOENT);
	ERR(unlink("f"), ENOENT);
	EQ(pt_nlink("."), 2);
	return PT_PASS;
}

static int t_unlink_errors(void)
{
	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	ERR(unlink("d"), EISDIR);
	ERR(unlink("d/"), EISDIR);
	ERR(unlink("."), EISDIR);
	ERR(unlink("f/"), ENOTDIR);
	ERR(unlink("f/x"), ENOTDIR);
	ERR(unlink("nodir/x"), ENOENT);
	ERR(unlink(""), ENOENT);
	EQ(pt_exists("d"), 1);
	EQ(pt_exists("f"), 1);
	return PT_PASS;
}

static int t_unlink_symlink(void)
{
	OK(mkdir("d", 0755));
	TRY(pt_mkfile("d/f", NULL, 0));
	OK(symlink("d", "l"));
	OK(unlink("l"));
	EQ(pt_exists("d/f"), 1);
	OK(symlink("d/f", "l"));
	OK(unlink("l"));
	EQ(pt_exists("d/f"), 1);
	return PT_PASS;
}

static int t_unlink_open(void)
{
	struct stat st;
	char buf[16];
	int fd;

	TRY(pt_mkfile("f", "before", 6));
	fd = OK(open("f", O_RDWR));
	OK(unlink("f"));
	OK(fstat(fd, &st));
	EQ(st.st_nlink, 0);
	EQ(pread(fd, buf, sizeof(buf), 0), 6);
	MEMEQ(buf, "before", 6);
	EQ(pwrite(fd, "after!!", 7, 6), 7);
	EQ(pread(fd, buf, sizeof(buf), 0), 13);
	MEMEQ(buf, "beforeafter!!", 13);
	OK(ftruncate(fd, 3));
	OK(fstat(fd, &st));
	EQ(st.st_size, 3);
	EQ(pt_exists("f"), 0);
	TRY(pt_mkfile("f", "new", 3));
	EQ(pread(fd, buf, sizeof(buf), 0), 3);
	MEMEQ(buf, "bef", 3);
	OK(close(fd));
	return PT_PASS;
}

const struct pt_test pt_link_tests[] = {
	{ "link_basic", t_link_basic, 0 },
	{ "link_cross_dir", t_link_cross_dir, 0 },
	{ "link_errors", t_link_errors, 0 },
	{ "link_many", t_link_many, 0 },
	{ "link_symlink", t_link_symlink, 0 },
	{ "link_special", t_link_special, 0 },
	{ "link_unlinked", t_link_unlinked, 0 },
	{ "link_exdev", t_link_exdev, 0 },
	{ "unlink_basic", t_unlink_basic, 0 },
	{ "unlink_errors", t_unlink_errors, 0 },
	{ "unlink_symlink", t_unlink_symlink, 0 },
	{ "unlink_open", t_unlink_open, 0 },
	{ NULL, NULL, 0 },
};
