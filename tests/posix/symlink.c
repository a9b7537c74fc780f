// SPDX-License-Identifier: BSD-3-Clause
/*
 * Symbolic links: readlink, lstat vs stat, loops, dangling links.
 */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "pt.h"

static int t_symlink_basic(void)
{
	struct stat ls, st, fs;
	char buf[64];

	TRY(pt_mkfile("target", "abc", 3));
	OK(symlink("target", "l"));
	EQ(readlink("l", buf, sizeof(buf)), 6);
	MEMEQ(buf, "target", 6);
	OK(lstat("l", &ls));
	OK(stat("l", &st));
	OK(stat("target", &fs));
	CHECK(S_ISLNK(ls.st_mode));
	EQMODE(ls.st_mode & 07777, 0777);
	EQ(ls.st_size, 6);
	EQ(ls.st_nlink, 1);
	CHECK(ls.st_ino != fs.st_ino);
	CHECK(S_ISREG(st.st_mode));
	EQ(st.st_ino, fs.st_ino);
	EQ(st.st_size, 3);
	EQ(pt_readfile("l", buf, sizeof(buf)), 3);
	return PT_PASS;
}

static int check_target_len(size_t len)
{
	char *t = pt_alloc(len + 1), *r = pt_alloc(len + 10);
	struct stat st;
	size_t i;

	for (i = 0; i < len; i++)
		t[i] = "abcdefgh/"[i % 9];
	t[len] = '\0';
	OK(symlink(t, "l"));
	EQ(readlink("l", r, len + 10), len);
	MEMEQ(r, t, len);
	OK(lstat("l", &st));
	EQ(st.st_size, len);
	OK(unlink("l"));
	free(t);
	free(r);
	return PT_PASS;
}

static int t_symlink_sizes(void)
{
	static const size_t lens[] = { 1, 59, 60, 61, 100, 1000, 4095 };
	char *t = pt_alloc(4097);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lens); i++)
		if (check_target_len(lens[i]))
			return PT_FAIL;
	memset(t, 'x', 4096);
	t[4096] = '\0';
	ERR(symlink(t, "l"), ENAMETOOLONG);
	free(t);
	return PT_PASS;
}

static int t_symlink_dangling(void)
{
	struct stat st;
	char buf[16];

	OK(symlink("nowhere", "l"));
	OK(lstat("l", &st));
	CHECK(S_ISLNK(st.st_mode));
	ERR(stat("l", &st), ENOENT);
	ERR(open("l", O_RDONLY), ENOENT);
	EQ(readlink("l", buf, sizeof(buf)), 7);
	OK(unlink("l"));
	return PT_PASS;
}

static int t_symlink_loop(void)
{
	char name[16], prev[16];
	struct stat st;
	int i;

	OK(symlink("b", "a"));
	OK(symlink("a", "b"));
	OK(symlink("self", "self"));
	ERR(stat("a", &st), ELOOP);
	ERR(open("a", O_RDONLY), ELOOP);
	ERR(open("self", O_WRONLY | O_CREAT, 0644), ELOOP);
	ERR(stat("self/x", &st), ELOOP);
	/* A chain of 40 links resolves; 41 does not. */
	TRY(pt_mkfile("c0", NULL, 0));
	for (i = 1; i <= 41; i++) {
		snprintf(prev, sizeof(prev), "c%d", i - 1);
		snprintf(name, sizeof(name), "c%d", i);
		OK(symlink(prev, name));
	}
	OK(stat("c40", &st));
	ERR(stat("c41", &st), ELOOP);
	return PT_PASS;
}

static int t_symlink_exists(void)
{
	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	OK(symlink("x", "l"));
	ERR(symlink("x", "f"), EEXIST);
	ERR(symlink("x", "d"), EEXIST);
	ERR(symlink("y", "l"), EEXIST);
	ERR(symlink("x", "nodir/l"), ENOENT);
	ERR(symlink("", "empty"), ENOENT);
	return PT_PASS;
}

static int t_readlink_errors(void)
{
	char buf[16];

	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	OK(symlink("0123456789", "l"));
	ERR(readlink("f", buf, sizeof(buf)), EINVAL);
	ERR(readlink("d", buf, sizeof(buf)), EINVAL);
	ERR(readlink("missing", buf, sizeof(buf)), ENOENT);
	ERR(readlink("l", buf, 0), EINVAL);
	memset(buf, '#', sizeof(buf));
	EQ(readlink("l", buf, 3), 3);
	MEMEQ(buf, "012#", 4);
	return PT_PASS;
}

static int t_symlink_relative(void)
{
	char abs[PATH_MAX], buf[8];

	TRY(pt_mkfile("target", "rel", 3));
	OK(mkdir("d", 0755));
	OK(mkdir("d/e", 0755));
	OK(symlink("../target", "d/l"));
	OK(symlink("../../target", "d/e/l"));
	OK(symlink("./e/../l", "d/l2"));
	EQ(pt_readfile("d/l", buf, sizeof(buf)), 3);
	EQ(pt_readfile("d/e/l", buf, sizeof(buf)), 3);
	EQ(pt_readfile("d/l2", buf, sizeof(buf)), 3);
	CHECK(getcwd(abs, sizeof(abs) - 8));
	strcat(abs, "/target");
	OK(symlink(abs, "d/abs"));
	EQ(pt_readfile("d/abs", buf, sizeof(buf)), 3);
	MEMEQ(buf, "rel", 3);
	return PT_PASS;
}

static int t_symlink_dir(void)
{
	struct stat st;

	OK(mkdir("d", 0755));
	TRY(pt_mkfile("d/f", "x", 1));
	OK(symlink("d", "l"));
	OK(stat("l/f", &st));
	EQ(st.st_size, 1);
	OK(lstat("l/", &st));
	CHECK(S_ISDIR(st.st_mode));
	OK(lstat("l", &st));
	CHECK(S_ISLNK(st.st_mode));
	TRY(pt_mkfile("l/g", NULL, 0));
	EQ(pt_exists("d/g"), 1);
	ERR(rmdir("l"), ENOTDIR);
	OK(unlink("l"));
	EQ(pt_exists("d/f"), 1);
	return PT_PASS;
}

static int t_symlink_odd_target(void)
{
	static const char *const targets[] = {
		"new\nline", "sp ace", "\xc3\xa9t\xc3\xa9", "\xff\x01",
		"//a//b//", "/", ".", "..", "a/../../../../b",
	};
	char buf[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		OK(symlink(targets[i], "l"));
		EQ(readlink("l", buf, sizeof(buf)), strlen(targets[i]));
		MEMEQ(buf, targets[i], strlen(targets[i]));
		OK(unlink("l"));
	}
	return PT_PASS;
}

const struct pt_test pt_symlink_tests[] = {
	{ "symlink_basic", t_symlink_basic, 0 },
	{ "symlink_sizes", t_symlink_sizes, 0 },
	{ "symlink_dangling", t_symlink_dangling, 0 },
	{ "symlink_loop", t_symlink_loop, 0 },
	{ "symlink_exists", t_symlink_exists, 0 },
	{ "readlink_errors", t_readlink_errors, 0 },
	{ "symlink_relative", t_symlink_relative, 0 },
	{ "symlink_dir", t_symlink_dir, 0 },
	{ "symlink_odd_target", t_symlink_odd_target, 0 },
	{ NULL, NULL, 0 },
};
