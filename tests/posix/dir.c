// SPDX-License-Identifier: BSD-3-Clause
/*
 * mkdir/rmdir and directory link counts.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "pt.h"

static int t_mkdir_basic(void)
{
	struct stat st;

	OK(mkdir("d", 0751));
	OK(stat("d", &st));
	CHECK(S_ISDIR(st.st_mode));
	EQMODE(st.st_mode & 07777, 0751);
	EQ(st.st_nlink, 2);
	EQ(st.st_uid, geteuid());
	EQ(st.st_gid, getegid());
	CHECK(st.st_blksize > 0);
	return PT_PASS;
}

static int t_mkdir_mode(void)
{
	struct stat st;

	OK(mkdir("sticky", 01777));
	OK(stat("sticky", &st));
	EQMODE(st.st_mode & 07777, 01777);
	OK(mkdir("none", 0));
	OK(stat("none", &st));
	EQMODE(st.st_mode & 07777, 0);
	umask(027);
	OK(mkdir("masked", 0777));
	OK(stat("masked", &st));
	EQMODE(st.st_mode & 07777, 0750);
	umask(0);
	return PT_PASS;
}

static int t_mkdir_exists(void)
{
	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	OK(symlink("d", "l"));
	OK(symlink("nowhere", "dangling"));
	ERR(mkdir("d", 0755), EEXIST);
	ERR(mkdir("f", 0755), EEXIST);
	ERR(mkdir("l", 0755), EEXIST);
	ERR(mkdir("dangling", 0755), EEXIST);
	ERR(mkdir(".", 0755), EEXIST);
	ERR(mkdir("..", 0755), EEXIST);
	EQ(pt_exists("nowhere"), 0);
	return PT_PASS;
}

static int t_mkdir_enoent(void)
{
	TRY(pt_mkfile("f", NULL, 0));
	ERR(mkdir("a/b", 0755), ENOENT);
	ERR(mkdir("f/b", 0755), ENOTDIR);
	ERR(mkdir("", 0755), ENOENT);
	return PT_PASS;
}

static int t_mkdir_slash(void)
{
	struct stat st;

	OK(mkdir("d/", 0755));
	OK(stat("d", &st));
	CHECK(S_ISDIR(st.st_mode));
	OK(mkdir("d//e//", 0755));
	OK(rmdir("d/e/"));
	OK(rmdir("d/"));
	return PT_PASS;
}

static int t_dir_nlink(void)
{
	EQ(pt_nlink("."), 2);
	OK(mkdir("a", 0755));
	EQ(pt_nlink("."), 3);
	OK(mkdir("b", 0755));
	OK(mkdir("c", 0755));
	EQ(pt_nlink("."), 5);
	TRY(pt_mkfile("f", NULL, 0));
	OK(symlink("a", "l"));
	OK(mknod("p", S_IFIFO | 0644, 0));
	EQ(pt_nlink("."), 5);
	OK(mkdir("a/x", 0755));
	EQ(pt_nlink("a"), 3);
	EQ(pt_nlink("."), 5);
	OK(rmdir("b"));
	EQ(pt_nlink("."), 4);
	OK(rmdir("a/x"));
	EQ(pt_nlink("a"), 2);
	return PT_PASS;
}

static int t_rmdir_basic(void)
{
	struct stat st;

	OK(mkdir("d", 0755));
	OK(rmdir("d"));
	ERR(stat("d", &st), ENOENT);
	ERR(rmdir("d"), ENOENT);
	EQ(pt_nlink("."), 2);
	OK(mkdir("d", 0755));
	EQ(pt_nlink("d"), 2);
	return PT_PASS;
}

static int t_rmdir_notempty(void)
{
	OK(mkdir("d", 0755));
	TRY(pt_mkfile("d/f", NULL, 0));
	ERR(rmdir("d"), ENOTEMPTY);
	OK(unlink("d/f"));
	OK(mkdir("d/sub", 0755));
	ERR(rmdir("d"), ENOTEMPTY);
	OK(rmdir("d/sub"));
	OK(symlink("x", "d/l"));
	ERR(rmdir("d"), ENOTEMPTY);
	OK(unlink("d/l"));
	OK(mknod("d/p", S_IFIFO | 0644, 0));
	ERR(rmdir("d"), ENOTEMPTY);
	OK(unlink("d/p"));
	OK(rmdir("d"));
	return PT_PASS;
}

static int t_rmdir_notdir(void)
{
	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	OK(symlink("d", "l"));
	ERR(rmdir("f"), ENOTDIR);
	ERR(rmdir("l"), ENOTDIR);
	ERR(rmdir("f/x"), ENOTDIR);
	ERR(rmdir("missing"), ENOENT);
	EQ(pt_exists("d"), 1);
	return PT_PASS;
}

static int t_rmdir_dot(void)
{
	OK(mkdir("d", 0755));
	ERR(rmdir("."), EINVAL);
	ERR(rmdir("d/."), EINVAL);
	ERR(rmdir(".."), ENOTEMPTY);
	ERR(rmdir("d/.."), ENOTEMPTY);
	EQ(pt_exists("d"), 1);
	return PT_PASS;
}

static int t_rmdir_cwd(void)
{
	char buf[4096];
	struct stat st;
	int top, fd;

	OK(mkdir("d", 0755));
	top = OK(open(".", O_RDONLY | O_DIRECTORY));
	OK(chdir("d"));
	fd = OK(open(".", O_RDONLY | O_DIRECTORY));
	OK(rmdir("../d"));
	OK(fstat(fd, &st));
	EQ(st.st_nlink, 0);
	ERR(open("x", O_WRONLY | O_CREAT, 0644), ENOENT);
	ERR(mkdir("x", 0755), ENOENT);
	ERR(syscall(SYS_getdents64, fd, buf, sizeof(buf)), ENOENT);
	OK(fchdir(top));
	EQ(pt_exists("d"), 0);
	OK(close(fd));
	OK(close(top));
	return PT_PASS;
}

static int t_deep_tree(void)
{
	int depth = 64, i;
	char *path = pt_alloc(depth * 2 + 16);
	struct stat st;

	path[0] = '\0';
	for (i = 0; i < depth; i++) {
		strcat(path, i ? "/d" : "d");
		OK(mkdir(path, 0755));
	}
	strcat(path, "/f");
	TRY(pt_mkfile(path, "deep", 4));
	OK(stat(path, &st));
	EQ(st.st_size, 4);
	OK(unlink(path));
	for (i = depth; i > 0; i--) {
		path[i * 2 - 1] = '\0';
		OK(rmdir(path));
	}
	EQ(pt_exists("d"), 0);
	free(path);
	return PT_PASS;
}

static int t_setgid_dir(void)
{
	struct stat st;

	OK(mkdir("d", 0775));
	OK(chown("d", 0, 65534));
	OK(chmod("d", 02775));
	TRY(pt_mkfile("d/f", NULL, 0));
	OK(stat("d/f", &st));
	EQ(st.st_gid, 65534);
	CHECK(!(st.st_mode & S_ISGID));
	OK(mkdir("d/sub", 0755));
	OK(stat("d/sub", &st));
	EQ(st.st_gid, 65534);
	CHECKM(st.st_mode & S_ISGID, "subdir of setgid dir lacks S_ISGID "
	       "(mode 0%o)", st.st_mode & 07777);
	return PT_PASS;
}

const struct pt_test pt_dir_tests[] = {
	{ "mkdir_basic", t_mkdir_basic, 0 },
	{ "mkdir_mode", t_mkdir_mode, 0 },
	{ "mkdir_exists", t_mkdir_exists, 0 },
	{ "mkdir_enoent", t_mkdir_enoent, 0 },
	{ "mkdir_slash", t_mkdir_slash, 0 },
	{ "dir_nlink", t_dir_nlink, 0 },
	{ "rmdir_basic", t_rmdir_basic, 0 },
	{ "rmdir_notempty", t_rmdir_notempty, 0 },
	{ "rmdir_notdir", t_rmdir_notdir, 0 },
	{ "rmdir_dot", t_rmdir_dot, 0 },
	{ "rmdir_cwd", t_rmdir_cwd, 0 },
	{ "deep_tree", t_deep_tree, 0 },
	{ "setgid_dir", t_setgid_dir, PT_ROOT },
	{ NULL, NULL, 0 },
};
