// SPDX-License-Identifier: BSD-3-Clause
/*
 * The *at() family: directory file descriptors, AT_* flags, O_PATH.
 */
#include <sys/stat.h>

#include "pt.h"

static int t_at_dirfd(void)
{
	struct stat st;
	char buf[8];
	int dfd, fd;

	OK(mkdir("d", 0755));
	dfd = OK(open("d", O_RDONLY | O_DIRECTORY));
	fd = OK(openat(dfd, "f", O_WRONLY | O_CREAT | O_EXCL, 0644));
	EQ(write(fd, "at", 2), 2);
	OK(close(fd));
	OK(fstatat(dfd, "f", &st, 0));
	EQ(st.st_size, 2);
	EQ(pt_readfile("d/f", buf, sizeof(buf)), 2);
	OK(mkdirat(dfd, "sub", 0755));
	OK(symlinkat("f", dfd, "l"));
	EQ(readlinkat(dfd, "l", buf, sizeof(buf)), 1);
	OK(linkat(dfd, "f", dfd, "f2", 0));
	EQ(pt_nlink("d/f"), 2);
	OK(renameat(dfd, "f2", AT_FDCWD, "moved"));
	EQ(pt_nlink("moved"), 2);
	OK(mknodat(dfd, "fifo", S_IFIFO | 0600, 0));
	OK(unlinkat(dfd, "fifo", 0));
	OK(unlinkat(dfd, "sub", AT_REMOVEDIR));
	OK(close(dfd));
	return PT_PASS;
}

static int t_at_notdir(void)
{
	struct stat st;
	int fd;

	TRY(pt_mkfile("f", NULL, 0));
	fd = OK(open("f", O_RDONLY));
	ERR(openat(fd, "x", O_RDONLY), ENOTDIR);
	ERR(mkdirat(fd, "x", 0755), ENOTDIR);
	ERR(fstatat(fd, "x", &st, 0), ENOTDIR);
	/* An absolute path ignores the dirfd. */
	OK(fstatat(fd, "/", &st, 0));
	ERR(openat(-1, "f", O_RDONLY), EBADF);
	OK(close(fd));
	return PT_PASS;
}

static int t_unlinkat_flags(void)
{
	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	ERR(unlinkat(AT_FDCWD, "f", AT_REMOVEDIR), ENOTDIR);
	ERR(unlinkat(AT_FDCWD, "d", 0), EISDIR);
	ERR(unlinkat(AT_FDCWD, "f", 0x1234), EINVAL);
	OK(unlinkat(AT_FDCWD, "d", AT_REMOVEDIR));
	OK(unlinkat(AT_FDCWD, "f", 0));
	EQ(pt_exists("d"), 0);
	EQ(pt_exists("f"), 0);
	return PT_PASS;
}

static int t_fstatat_flags(void)
{
	struct stat st, fst;
	int fd;

	TRY(pt_mkfile("f", "abc", 3));
	OK(symlink("f", "l"));
	OK(fstatat(AT_FDCWD, "l", &st, AT_SYMLINK_NOFOLLOW));
	CHECK(S_ISLNK(st.st_mode));
	OK(fstatat(AT_FDCWD, "l", &st, 0));
	CHECK(S_ISREG(st.st_mode));
	EQ(st.st_size, 3);
	fd = OK(open("f", O_RDONLY));
	OK(fstat(fd, &fst));
	OK(fstatat(fd, "", &st, AT_EMPTY_PATH));
	EQ(st.st_ino, fst.st_ino);
	ERR(fstatat(fd, "", &st, 0), ENOENT);
	OK(close(fd));
	return PT_PASS;
}

static int t_o_path(void)
{
	struct stat st;
	char c;
	int fd, dfd;

	TRY(pt_mkfile("f", "abc", 3));
	OK(mkdir("d", 0755));
	fd = OK(open("f", O_PATH));
	OK(fstat(fd, &st));
	EQ(st.st_size, 3);
	ERR(read(fd, &c, 1), EBADF);
	ERR(write(fd, &c, 1), EBADF);
	OK(close(fd));
	dfd = OK(open("d", O_PATH | O_DIRECTORY));
	OK(close(OK(openat(dfd, "g", O_WRONLY | O_CREAT, 0644))));
	EQ(pt_exists("d/g"), 1);
	OK(close(dfd));
	return PT_PASS;
}

static int t_dirfd_renamed(void)
{
	int dfd;

	OK(mkdir("d", 0755));
	dfd = OK(open("d", O_RDONLY | O_DIRECTORY));
	OK(rename("d", "e"));
	OK(close(OK(openat(dfd, "f", O_WRONLY | O_CREAT, 0644))));
	EQ(pt_exists("e/f"), 1);
	OK(unlink("e/f"));
	OK(rmdir("e"));
	ERR(openat(dfd, "g", O_WRONLY | O_CREAT, 0644), ENOENT);
	ERR(mkdirat(dfd, "g", 0755), ENOENT);
	OK(close(dfd));
	return PT_PASS;
}

const struct pt_test pt_at_tests[] = {
	{ "at_dirfd", t_at_dirfd, 0 },
	{ "at_notdir", t_at_notdir, 0 },
	{ "unlinkat_flags", t_unlinkat_flags, 0 },
	{ "fstatat_flags", t_fstatat_flags, 0 },
	{ "o_path", t_o_path, 0 },
	{ "dirfd_renamed", t_dirfd_renamed, 0 },
	{ NULL, NULL, 0 },
};
