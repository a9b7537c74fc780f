// SPDX-License-Identifier: BSD-3-Clause
/*
 * rename(2) and renameat2(2) flags.
 */
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "pt.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int t_rename_file(void)
{
	struct stat a, b;
	char buf[8];

	TRY(pt_mkfile("f", "data", 4));
	OK(stat("f", &a));
	OK(rename("f", "g"));
	EQ(pt_exists("f"), 0);
	OK(stat("g", &b));
	EQ(b.st_ino, a.st_ino);
	EQ(b.st_nlink, 1);
	EQ(pt_readfile("g", buf, sizeof(buf)), 4);
	MEMEQ(buf, "data", 4);
	return PT_PASS;
}

static int t_rename_over_file(void)
{
	struct stat st, gst;
	char buf[8];
	int fd;

	TRY(pt_mkfile("f", "new", 3));
	TRY(pt_mkfile("g", "old!", 4));
	fd = OK(open("g", O_RDONLY));
	OK(stat("f", &st));
	OK(rename("f", "g"));
	OK(fstat(fd, &gst));
	EQ(gst.st_nlink, 0);
	EQ(pread(fd, buf, sizeof(buf), 0), 4);
	MEMEQ(buf, "old!", 4);
	OK(close(fd));
	OK(stat("g", &gst));
	EQ(gst.st_ino, st.st_ino);
	EQ(gst.st_nlink, 1);
	EQ(pt_readfile("g", buf, sizeof(buf)), 3);
	EQ(pt_exists("f"), 0);
	return PT_PASS;
}

static int t_rename_over_hardlink(void)
{
	TRY(pt_mkfile("f", "new", 3));
	TRY(pt_mkfile("g", "old", 3));
	OK(link("g", "g2"));
	EQ(pt_nlink("g2"), 2);
	OK(rename("f", "g"));
	EQ(pt_nlink("g2"), 1);
	EQ(pt_nlink("g"), 1);
	return PT_PASS;
}

static int t_rename_self(void)
{
	struct stat a, b;

	TRY(pt_mkfile("f", "x", 1));
	OK(mkdir("d", 0755));
	OK(rename("f", "f"));
	OK(rename("d", "d"));
	EQ(pt_exists("f"), 1);
	OK(link("f", "h"));
	OK(rename("f", "h"));
	OK(stat("f", &a));
	OK(stat("h", &b));
	EQ(a.st_ino, b.st_ino);
	EQ(a.st_nlink, 2);
	return PT_PASS;
}

static int t_rename_dir(void)
{
	struct stat st, dt;

	OK(mkdir("d", 0755));
	TRY(pt_mkfile("d/f", "x", 1));
	OK(rename("d", "e"));
	EQ(pt_exists("d"), 0);
	EQ(pt_exists("e/f"), 1);
	EQ(pt_nlink("."), 3);
	OK(mkdir("empty", 0755));
	OK(rename("e", "empty"));
	EQ(pt_nlink("."), 3);
	EQ(pt_exists("e"), 0);
	EQ(pt_exists("empty/f"), 1);
	OK(stat("empty/..", &st));
	OK(stat(".", &dt));
	EQ(st.st_ino, dt.st_ino);
	return PT_PASS;
}

static int t_rename_dir_errors(void)
{
	OK(mkdir("d", 0755));
	OK(mkdir("full", 0755));
	TRY(pt_mkfile("full/x", NULL, 0));
	TRY(pt_mkfile("f", NULL, 0));
	ERR(rename("d", "full"), ENOTEMPTY);
	ERR(rename("f", "d"), EISDIR);
	ERR(rename("d", "f"), ENOTDIR);
	ERR(rename("missing", "x"), ENOENT);
	ERR(rename("f", "nodir/x"), ENOENT);
	ERR(rename("f/", "x"), ENOTDIR);
	ERR(rename("f", "x/"), ENOTDIR);
	EQ(pt_exists("d"), 1);
	EQ(pt_exists("f"), 1);
	EQ(pt_exists("full/x"), 1);
	OK(rename("d/", "e/"));
	EQ(pt_exists("e"), 1);
	return PT_PASS;
}

static int t_rename_subdir(void)
{
	OK(mkdir("a", 0755));
	OK(mkdir("a/b", 0755));
	OK(mkdir("a/b/c", 0755));
	ERR(rename("a", "a/b/x"), EINVAL);
	ERR(rename("a", "a/x"), EINVAL);
	ERR(rename("a/b", "a/b/c/x"), EINVAL);
	ERR(rename("a/b/c", "a"), ENOTEMPTY);
	ERR(rename(".", "x"), EBUSY);
	ERR(rename("a/b", "a/b/."), EBUSY);
	EQ(pt_exists("a/b/c"), 1);
	return PT_PASS;
}

static int t_rename_cross_dir(void)
{
	struct stat st, d2;

	OK(mkdir("d1", 0755));
	OK(mkdir("d2", 0755));
	OK(mkdir("d1/sub", 0755));
	TRY(pt_mkfile("d1/f", "x", 1));
	OK(rename("d1/f", "d2/f"));
	EQ(pt_exists("d2/f"), 1);
	EQ(pt_nlink("d1"), 3);
	OK(rename("d1/sub", "d2/sub"));
	EQ(pt_nlink("d1"), 2);
	EQ(pt_nlink("d2"), 3);
	OK(stat("d2/sub/..", &st));
	OK(stat("d2", &d2));
	EQ(st.st_ino, d2.st_ino);
	/* Over an empty directory in another parent. */
	OK(mkdir("d1/t", 0755));
	OK(rename("d2/sub", "d1/t"));
	EQ(pt_nlink("d1"), 3);
	EQ(pt_nlink("d2"), 2);
	OK(stat("d1/t/..", &st));
	OK(stat("d1", &d2));
	EQ(st.st_ino, d2.st_ino);
	return PT_PASS;
}

static int t_rename_open(void)
{
	char buf[8];
	int fd;

	TRY(pt_mkfile("f", "abc", 3));
	fd = OK(open("f", O_RDWR));
	OK(mkdir("d", 0755));
	OK(rename("f", "d/g"));
	EQ(pwrite(fd, "X", 1, 0), 1);
	OK(close(fd));
	EQ(pt_readfile("d/g", buf, sizeof(buf)), 3);
	MEMEQ(buf, "Xbc", 3);
	return PT_PASS;
}

static int t_rename_symlink(void)
{
	char buf[16];

	TRY(pt_mkfile("f", "x", 1));
	OK(symlink("f", "l"));
	OK(rename("l", "m"));
	EQ(readlink("m", buf, sizeof(buf)), 1);
	EQ(pt_exists("f"), 1);
	OK(rename("m", "f"));
	EQ(readlink("f", buf, sizeof(buf)), 1);
	OK(symlink("x", "n"));
	TRY(pt_mkfile("g", NULL, 0));
	OK(rename("g", "n"));
	EQ(readlink("n", buf, sizeof(buf)), -1);
	return PT_PASS;
}

static int t_rename_many(void)
{
	struct pt_dent *e;
	char a[32], b[32];
	int n = 500, i, cnt;

	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "old%d", i);
		TRY(pt_mkfile(a, NULL, 0));
	}
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "old%d", i);
		snprintf(b, sizeof(b), "new-longer-name-%d", i);
		OK(rename(a, b));
	}
	TRY(pt_listdir(".", &e, &cnt));
	EQ(cnt, n + 2);
	for (i = 0; i < n; i++) {
		snprintf(b, sizeof(b), "new-longer-name-%d", i);
		CHECKM(pt_find_dent(e, cnt, b) == 1, "%s not listed once", b);
	}
	pt_freedents(e, cnt);
	return PT_PASS;
}

static int t_rename_noreplace(void)
{
	char buf[8];

	TRY(pt_mkfile("f", "f", 1));
	TRY(pt_mkfile("g", "g", 1));
	OK(mkdir("d", 0755));
	ERR(pt_renameat2(AT_FDCWD, "f", AT_FDCWD, "g", RENAME_NOREPLACE),
	    EEXIST);
	ERR(pt_renameat2(AT_FDCWD, "d", AT_FDCWD, "f", RENAME_NOREPLACE),
	    EEXIST);
	OK(symlink("nowhere", "l"));
	ERR(pt_renameat2(AT_FDCWD, "f", AT_FDCWD, "l", RENAME_NOREPLACE),
	    EEXIST);
	EQ(pt_readfile("g", buf, sizeof(buf)), 1);
	EQ(buf[0], 'g');
	OK(pt_renameat2(AT_FDCWD, "f", AT_FDCWD, "h", RENAME_NOREPLACE));
	EQ(pt_exists("f"), 0);
	EQ(pt_exists("h"), 1);
	return PT_PASS;
}

static int t_rename_exchange(void)
{
	struct stat f, g;
	char buf[8];

	TRY(pt_mkfile("f", "F", 1));
	TRY(pt_mkfile("g", "GG", 2));
	OK(stat("f", &f));
	OK(stat("g", &g));
	if (pt_renameat2(AT_FDCWD, "f", AT_FDCWD, "g", RENAME_EXCHANGE)) {
		/* EINVAL: the filesystem has no exchange (CephFS) */
		if (errno == EINVAL)
			UNSUPPORTED("RENAME_EXCHANGE", EINVAL);
		CHECKM(0, "renameat2 RENAME_EXCHANGE: %s", strerror(errno));
	}
	EQ(pt_readfile("f", buf, sizeof(buf)), 2);
	MEMEQ(buf, "GG", 2);
	EQ(pt_readfile("g", buf, sizeof(buf)), 1);
	EQ(pt_nlink("f"), 1);
	EQ(pt_nlink("g"), 1);
	OK(stat("f", &f));
	EQ(f.st_ino, g.st_ino);
	ERR(pt_renameat2(AT_FDCWD, "f", AT_FDCWD, "missing", RENAME_EXCHANGE),
	    ENOENT);
	ERR(pt_renameat2(AT_FDCWD, "missing", AT_FDCWD, "f", RENAME_EXCHANGE),
	    ENOENT);
	ERR(pt_renameat2(AT_FDCWD, "f", AT_FDCWD, "g",
			 RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
	EQ(pt_exists("missing"), 0);
	return PT_PASS;
}

/* Exchange a file and a directory living in different parents. */
static int t_rename_exchange_dir(void)
{
	struct stat st, p;

	OK(mkdir("d1", 0755));
	OK(mkdir("d2", 0755));
	TRY(pt_mkfile("d1/f", "x", 1));
	OK(mkdir("d2/sub", 0755));
	TRY(pt_mkfile("d2/sub/inner", NULL, 0));
	if (pt_renameat2(AT_FDCWD, "d1/f", AT_FDCWD, "d2/sub", RENAME_EXCHANGE)) {
		/* EINVAL: the filesystem has no exchange (CephFS) */
		if (errno == EINVAL)
			UNSUPPORTED("RENAME_EXCHANGE", EINVAL);
		CHECKM(0, "renameat2 RENAME_EXCHANGE: %s", strerror(errno));
	}
	OK(lstat("d1/f", &st));
	CHECK(S_ISDIR(st.st_mode));
	OK(lstat("d2/sub", &st));
	CHECK(S_ISREG(st.st_mode));
	EQ(pt_exists("d1/f/inner"), 1);
	EQ(pt_nlink("d1"), 3);
	EQ(pt_nlink("d2"), 2);
	OK(stat("d1/f/..", &st));
	OK(stat("d1", &p));
	EQ(st.st_ino, p.st_ino);
	/* Two directories in different parents. */
	OK(mkdir("d2/x", 0755));
	OK(pt_renameat2(AT_FDCWD, "d1/f", AT_FDCWD, "d2/x", RENAME_EXCHANGE));
	EQ(pt_exists("d2/x/inner"), 1);
	EQ(pt_nlink("d1"), 3);
	EQ(pt_nlink("d2"), 3);
	OK(stat("d2/x/..", &st));
	OK(stat("d2", &p));
	EQ(st.st_ino, p.st_ino);
	ERR(pt_renameat2(AT_FDCWD, "d2", AT_FDCWD, "d2/x", RENAME_EXCHANGE),
	    EINVAL);
	return PT_PASS;
}

const struct pt_test pt_rename_tests[] = {
	{ "rename_file", t_rename_file, 0 },
	{ "rename_over_file", t_rename_over_file, 0 },
	{ "rename_over_hardlink", t_rename_over_hardlink, 0 },
	{ "rename_self", t_rename_self, 0 },
	{ "rename_dir", t_rename_dir, 0 },
	{ "rename_dir_errors", t_rename_dir_errors, 0 },
	{ "rename_subdir", t_rename_subdir, 0 },
	{ "rename_cross_dir", t_rename_cross_dir, 0 },
	{ "rename_open", t_rename_open, 0 },
	{ "rename_symlink", t_rename_symlink, 0 },
	{ "rename_many", t_rename_many, 0 },
	{ "rename_noreplace", t_rename_noreplace, 0 },
	{ "rename_exchange", t_rename_exchange, 0 },
	{ "rename_exchange_dir", t_rename_exchange_dir, 0 },
	{ NULL, NULL, 0 },
};
