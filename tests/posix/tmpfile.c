// SPDX-License-Identifier: BSD-3-Clause
/*
 * O_TMPFILE, and files that live on after their last name is gone.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "pt.h"

#define SLACK (4 * MiB)

static int open_tmpfile(const char *dir, int flags, int *fd)
{
	*fd = open(dir, O_TMPFILE | flags, 0600);
	return *fd < 0 ? -errno : 0;
}

static int dir_is_empty(const char *dir)
{
	struct pt_dent *e;
	int n;

	TRY(pt_listdir(dir, &e, &n));
	pt_freedents(e, n);
	CHECKM(n == 2, "%s has %d entries, want only . and ..", dir, n);
	return PT_PASS;
}

static int t_tmpfile_link(void)
{
	struct stat st;
	int fd, e;

	OK(mkdir("d", 0755));
	e = open_tmpfile("d", O_RDWR, &fd);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("O_TMPFILE", EOPNOTSUPP);
	TRY(e);
	OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	EQ(st.st_nlink, 0);
	EQMODE(st.st_mode & 07777, 0600);
	TRY(pt_write_pattern(fd, 0, 100000, 1));
	if (dir_is_empty("d"))
		return PT_FAIL;
	OK(linkat(fd, "", AT_FDCWD, "d/named", AT_EMPTY_PATH));
	OK(fstat(fd, &st));
	EQ(st.st_nlink, 1);
	OK(close(fd));
	EQ(pt_size("d/named"), 100000);
	fd = OK(open("d/named", O_RDONLY));
	EQ(pt_check_pattern(fd, 0, 100000, 1), -1);
	OK(close(fd));
	return PT_PASS;
}

static int t_tmpfile_link_proc(void)
{
	char proc[64];
	int fd, e;

	e = open_tmpfile(".", O_WRONLY, &fd);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("O_TMPFILE", EOPNOTSUPP);
	TRY(e);
	EQ(write(fd, "tmp", 3), 3);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (access(proc, F_OK))
		return pt_skip("/proc not available");
	OK(linkat(AT_FDCWD, proc, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
	OK(close(fd));
	EQ(pt_size("named"), 3);
	EQ(pt_nlink("named"), 1);
	return PT_PASS;
}

static int t_tmpfile_vanish(void)
{
	long long f0, f1;
	int fd, e;

	OK(mkdir("d", 0755));
	f0 = OK(pt_free_bytes("."));
	e = open_tmpfile("d", O_RDWR, &fd);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("O_TMPFILE", EOPNOTSUPP);
	TRY(e);
	TRY(pt_write_pattern(fd, 0, 16 * MiB, 2));
	OK(fsync(fd));
	EQ(pt_check_pattern(fd, 0, 16 * MiB, 2), -1);
	OK(close(fd));
	if (dir_is_empty("d"))
		return PT_FAIL;
	OK(rmdir("d"));
	f1 = pt_wait_free(f0 - SLACK);
	CHECKM(f1 >= f0 - SLACK, "free space %lld after closing the "
	       "O_TMPFILE, was %lld", f1, f0);
	return PT_PASS;
}

static int t_tmpfile_excl(void)
{
	char proc[64];
	int fd, e;

	e = open_tmpfile(".", O_RDWR | O_EXCL, &fd);
	if (e == -EOPNOTSUPP)
		UNSUPPORTED("O_TMPFILE", EOPNOTSUPP);
	TRY(e);
	ERR(linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH), ENOENT);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (!access(proc, F_OK))
		ERR(linkat(AT_FDCWD, proc, AT_FDCWD, "named",
			   AT_SYMLINK_FOLLOW), ENOENT);
	OK(close(fd));
	EQ(pt_exists("named"), 0);
	return PT_PASS;
}

static int t_tmpfile_errors(void)
{
	int fd;

	TRY(pt_mkfile("f", NULL, 0));
	ERR(open("f", O_TMPFILE | O_RDWR, 0600), ENOTDIR);
	ERR(open(".", O_TMPFILE | O_RDONLY, 0600), EINVAL);
	ERR(open("missing", O_TMPFILE | O_RDWR, 0600), ENOENT);
	if (open_tmpfile(".", O_RDWR, &fd) == 0)
		OK(close(fd));
	return PT_PASS;
}

/* An unlinked, still open file keeps its data; space returns on close. */
static int t_unlink_open_space(void)
{
	long long f0, f1;
	int fd;

	f0 = OK(pt_free_bytes("."));
	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	TRY(pt_write_pattern(fd, 0, 32 * MiB, 3));
	OK(fsync(fd));
	OK(unlink("f"));
	EQ(pt_exists("f"), 0);
	EQ(pt_check_pattern(fd, 0, 32 * MiB, 3), -1);
	TRY(pt_write_pattern(fd, 32 * MiB, MiB, 4));
	EQ(pt_check_pattern(fd, 32 * MiB, MiB, 4), -1);
	OK(close(fd));
	f1 = pt_wait_free(f0 - SLACK);
	CHECKM(f1 >= f0 - SLACK, "free space %lld after close, was %lld",
	       f1, f0);
	return PT_PASS;
}

const struct pt_test pt_tmpfile_tests[] = {
	{ "tmpfile_link", t_tmpfile_link, PT_ROOT },
	{ "tmpfile_link_proc", t_tmpfile_link_proc, 0 },
	{ "tmpfile_vanish", t_tmpfile_vanish, 0 },
	{ "tmpfile_excl", t_tmpfile_excl, 0 },
	{ "tmpfile_errors", t_tmpfile_errors, 0 },
	{ "unlink_open_space", t_unlink_open_space, 0 },
	{ NULL, NULL, 0 },
};
