// SPDX-License-Identifier: BSD-3-Clause
/*
 * Permission checks, run as root that drops to an unprivileged uid.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "pt.h"

static int t_perm_open(void)
{
	TRY(pt_mkfile("rootfile", "x", 1));
	OK(chmod("rootfile", 0600));
	TRY(pt_mkfile("ro", "x", 1));
	OK(chmod("ro", 0444));
	TRY(pt_mkfile("mine", "x", 1));
	OK(chown("mine", pt_cfg.uid, pt_cfg.gid));
	OK(chmod("mine", 0244));
	BECOME_USER();
	ERR(open("rootfile", O_RDONLY), EACCES);
	ERR(open("rootfile", O_WRONLY), EACCES);
	ERR(open("ro", O_WRONLY), EACCES);
	ERR(open("ro", O_RDWR), EACCES);
	ERR(open("ro", O_RDONLY | O_TRUNC), EACCES);
	OK(close(OK(open("ro", O_RDONLY))));
	/* The owner bits apply to the owner even if others may read. */
	ERR(open("mine", O_RDONLY), EACCES);
	OK(close(OK(open("mine", O_WRONLY))));
	BECOME_ROOT();
	OK(close(OK(open("rootfile", O_RDWR))));
	OK(chmod("rootfile", 0));
	OK(close(OK(open("rootfile", O_RDWR))));
	return PT_PASS;
}

static int t_perm_group(void)
{
	TRY(pt_mkfile("g", "x", 1));
	OK(chown("g", 0, pt_cfg.gid));
	OK(chmod("g", 0040));
	TRY(pt_mkfile("notg", "x", 1));
	OK(chown("notg", 0, pt_cfg.gid));
	OK(chmod("notg", 0404));
	BECOME_USER();
	OK(close(OK(open("g", O_RDONLY))));
	ERR(open("g", O_WRONLY), EACCES);
	/* Group bits apply to group members even if others may read. */
	ERR(open("notg", O_RDONLY), EACCES);
	return PT_PASS;
}

static int t_perm_dir_write(void)
{
	OK(mkdir("d", 0555));
	TRY(pt_mkfile("d/f", NULL, 0));
	OK(mkdir("d/sub", 0777));
	OK(mkdir("own", 0555));
	OK(chown("own", pt_cfg.uid, pt_cfg.gid));
	BECOME_USER();
	ERR(open("d/new", O_WRONLY | O_CREAT, 0644), EACCES);
	ERR(mkdir("d/new", 0755), EACCES);
	ERR(mknod("d/new", S_IFIFO | 0644, 0), EACCES);
	ERR(symlink("x", "d/new"), EACCES);
	ERR(unlink("d/f"), EACCES);
	ERR(rmdir("d/sub"), EACCES);
	ERR(rename("d/f", "d/g"), EACCES);
	ERR(open("own/new", O_WRONLY | O_CREAT, 0644), EACCES);
	/* Existing files stay writable; subdirs keep their own mode. */
	OK(close(OK(open("d/sub/ok", O_WRONLY | O_CREAT, 0644))));
	EQ(pt_exists("d/f"), 1);
	return PT_PASS;
}

static int t_perm_search(void)
{
	struct stat st;

	OK(mkdir("d", 0766));
	TRY(pt_mkfile("d/f", "x", 1));
	BECOME_USER();
	ERR(stat("d/f", &st), EACCES);
	ERR(open("d/f", O_RDONLY), EACCES);
	ERR(chdir("d"), EACCES);
	ERR(open("d/new", O_WRONLY | O_CREAT, 0644), EACCES);
	/* Listing needs only read permission. */
	OK(close(OK(open("d", O_RDONLY | O_DIRECTORY))));
	BECOME_ROOT();
	OK(chmod("d", 0711));
	BECOME_USER();
	OK(stat("d/f", &st));
	ERR(open("d", O_RDONLY | O_DIRECTORY), EACCES);
	return PT_PASS;
}

static int t_perm_sticky(void)
{
	OK(mkdir("tmp", 01777));
	TRY(pt_mkfile("tmp/rootfile", NULL, 0));
	OK(chmod("tmp/rootfile", 0666));
	OK(mkdir("tmp/rootdir", 0777));
	BECOME_USER();
	ERR(unlink("tmp/rootfile"), EPERM);
	ERR(rename("tmp/rootfile", "tmp/x"), EPERM);
	ERR(rmdir("tmp/rootdir"), EPERM);
	TRY(pt_mkfile("tmp/mine", NULL, 0));
	ERR(rename("tmp/mine", "tmp/rootfile"), EPERM);
	OK(rename("tmp/mine", "tmp/mine2"));
	OK(unlink("tmp/mine2"));
	BECOME_ROOT();
	OK(unlink("tmp/rootfile"));
	return PT_PASS;
}

static int t_perm_chmod_chown(void)
{
	struct stat st;

	TRY(pt_mkfile("rootfile", NULL, 0));
	OK(chmod("rootfile", 0666));
	TRY(pt_mkfile("mine", NULL, 0));
	OK(chown("mine", pt_cfg.uid, pt_cfg.gid));
	BECOME_USER();
	ERR(chmod("rootfile", 0777), EPERM);
	ERR(chown("rootfile", pt_cfg.uid, pt_cfg.gid), EPERM);
	ERR(chown("mine", 0, -1), EPERM);
	ERR(chown("mine", -1, 0), EPERM);
	OK(chmod("mine", 0640));
	OK(chown("mine", pt_cfg.uid, pt_cfg.gid));
	OK(stat("mine", &st));
	EQMODE(st.st_mode & 07777, 0640);
	return PT_PASS;
}

static int t_perm_setgid_clear(void)
{
	struct stat st;

	TRY(pt_mkfile("mine", NULL, 0));
	OK(chown("mine", pt_cfg.uid, 0));
	BECOME_USER();
	/* Not a member of the file's group: S_ISGID is silently dropped. */
	OK(chmod("mine", 02755));
	OK(stat("mine", &st));
	EQMODE(st.st_mode & 07777, 0755);
	return PT_PASS;
}

static int t_perm_utimens(void)
{
	struct timespec ts[2] = { { 1000, 0 }, { 2000, 0 } };
	struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };

	TRY(pt_mkfile("rw", NULL, 0));
	OK(chmod("rw", 0666));
	TRY(pt_mkfile("ro", NULL, 0));
	OK(chmod("ro", 0644));
	BECOME_USER();
	ERR(utimensat(AT_FDCWD, "rw", ts, 0), EPERM);
	OK(utimensat(AT_FDCWD, "rw", now, 0));
	OK(utimensat(AT_FDCWD, "rw", NULL, 0));
	ERR(utimensat(AT_FDCWD, "ro", NULL, 0), EACCES);
	ERR(utimensat(AT_FDCWD, "ro", now, 0), EACCES);
	ERR(utimensat(AT_FDCWD, "ro", ts, 0), EPERM);
	return PT_PASS;
}

static int t_perm_truncate(void)
{
	TRY(pt_mkfile("ro", "abc", 3));
	OK(chmod("ro", 0644));
	BECOME_USER();
	ERR(truncate("ro", 0), EACCES);
	BECOME_ROOT();
	EQ(pt_size("ro"), 3);
	return PT_PASS;
}

static int t_perm_mknod(void)
{
	OK(chmod(".", 0777));
	BECOME_USER();
	ERR(mknod("c", S_IFCHR | 0644, makedev(1, 3)), EPERM);
	ERR(mknod("b", S_IFBLK | 0644, makedev(7, 0)), EPERM);
	OK(mknod("p", S_IFIFO | 0644, 0));
	return PT_PASS;
}

static int t_perm_new_owner(void)
{
	struct stat st;

	OK(chmod(".", 0777));
	BECOME_USER();
	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	OK(symlink("f", "l"));
	OK(stat("f", &st));
	EQ(st.st_uid, pt_cfg.uid);
	EQ(st.st_gid, pt_cfg.gid);
	OK(stat("d", &st));
	EQ(st.st_uid, pt_cfg.uid);
	OK(lstat("l", &st));
	EQ(st.st_uid, pt_cfg.uid);
	return PT_PASS;
}

static int t_perm_root_override(void)
{
	TRY(pt_mkfile("f", "x", 1));
	OK(chown("f", pt_cfg.uid, pt_cfg.gid));
	OK(chmod("f", 0));
	OK(mkdir("d", 0));
	OK(close(OK(open("f", O_RDWR))));
	TRY(pt_mkfile("d/f", NULL, 0));
	OK(chmod("f", 0755));
	return PT_PASS;
}

const struct pt_test pt_perm_tests[] = {
	{ "perm_open", t_perm_open, PT_ROOT },
	{ "perm_group", t_perm_group, PT_ROOT },
	{ "perm_dir_write", t_perm_dir_write, PT_ROOT },
	{ "perm_search", t_perm_search, PT_ROOT },
	{ "perm_sticky", t_perm_sticky, PT_ROOT },
	{ "perm_chmod_chown", t_perm_chmod_chown, PT_ROOT },
	{ "perm_setgid_clear", t_perm_setgid_clear, PT_ROOT },
	{ "perm_utimens", t_perm_utimens, PT_ROOT },
	{ "perm_truncate", t_perm_truncate, PT_ROOT },
	{ "perm_mknod", t_perm_mknod, PT_ROOT },
	{ "perm_new_owner", t_perm_new_owner, PT_ROOT },
	{ "perm_root_override", t_perm_root_override, PT_ROOT },
	{ NULL, NULL, 0 },
};
