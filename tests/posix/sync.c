// SPDX-License-Identifier: BSD-3-Clause
/*
 * fsync, fdatasync, sync_file_range, syncfs, O_SYNC/O_DSYNC.
 */
#include <sys/stat.h>

#include "pt.h"

static int t_fsync_file(void)
{
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	TRY(pt_write_pattern(fd, 0, 100000, 1));
	OK(fsync(fd));
	OK(fdatasync(fd));
	TRY(pt_write_pattern(fd, 5000, 3, 2));
	OK(fdatasync(fd));
	OK(fsync(fd));
	OK(close(fd));
	fd = OK(open("f", O_RDONLY));
	OK(fsync(fd));
	OK(fdatasync(fd));
	EQ(pt_check_pattern(fd, 5000, 3, 2), -1);
	OK(close(fd));
	return PT_PASS;
}

static int t_fsync_dir(void)
{
	int fd;

	OK(mkdir("d", 0755));
	TRY(pt_mkfile("d/f", "x", 1));
	fd = OK(open("d", O_RDONLY | O_DIRECTORY));
	OK(fsync(fd));
	OK(fdatasync(fd));
	OK(close(fd));
	fd = OK(open(".", O_RDONLY | O_DIRECTORY));
	OK(fsync(fd));
	OK(close(fd));
	return PT_PASS;
}

static int t_sync_file_range(void)
{
	unsigned int all = SYNC_FILE_RANGE_WAIT_BEFORE |
			   SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	TRY(pt_write_pattern(fd, 0, MiB, 3));
	OK(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
	OK(sync_file_range(fd, 4096, 65536, all));
	OK(sync_file_range(fd, 0, 0, all));
	OK(sync_file_range(fd, 10 * MiB, 4096, all));
	ERR(sync_file_range(fd, -1, 10, all), EINVAL);
	ERR(sync_file_range(fd, 0, 10, 0x80), EINVAL);
	EQ(pt_check_pattern(fd, 0, MiB, 3), -1);
	OK(close(fd));
	return PT_PASS;
}

static int t_syncfs(void)
{
	int fd;

	TRY(pt_mkfile("f", "abc", 3));
	fd = OK(open("f", O_RDONLY));
	OK(syncfs(fd));
	OK(close(fd));
	fd = OK(open(".", O_RDONLY | O_DIRECTORY));
	OK(syncfs(fd));
	OK(close(fd));
	sync();
	return PT_PASS;
}

static int t_osync_write(void)
{
	int fd;

	fd = OK(open("s", O_RDWR | O_CREAT | O_SYNC, 0644));
	TRY(pt_write_pattern(fd, 0, 300000, 4));
	EQ(pt_check_pattern(fd, 0, 300000, 4), -1);
	OK(close(fd));
	fd = OK(open("d", O_RDWR | O_CREAT | O_DSYNC, 0644));
	TRY(pt_write_pattern(fd, 1, 70000, 5));
	EQ(pt_check_pattern(fd, 1, 70000, 5), -1);
	OK(close(fd));
	EQ(pt_size("d"), 70001);
	return PT_PASS;
}

static int t_fsync_unlinked(void)
{
	int fd;

	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	OK(unlink("f"));
	TRY(pt_write_pattern(fd, 0, 10000, 6));
	OK(fsync(fd));
	OK(fdatasync(fd));
	EQ(pt_check_pattern(fd, 0, 10000, 6), -1);
	OK(close(fd));
	return PT_PASS;
}

static int t_fsync_badf(void)
{
	int fd;

	TRY(pt_mkfile("f", NULL, 0));
	fd = OK(open("f", O_PATH));
	ERR(fsync(fd), EBADF);
	OK(close(fd));
	ERR(fsync(fd), EBADF);
	return PT_PASS;
}

const struct pt_test pt_sync_tests[] = {
	{ "fsync_file", t_fsync_file, 0 },
	{ "fsync_dir", t_fsync_dir, 0 },
	{ "sync_file_range", t_sync_file_range, 0 },
	{ "syncfs", t_syncfs, 0 },
	{ "osync_write", t_osync_write, 0 },
	{ "fsync_unlinked", t_fsync_unlinked, 0 },
	{ "fsync_badf", t_fsync_badf, 0 },
	{ NULL, NULL, 0 },
};
