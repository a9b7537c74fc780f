// SPDX-License-Identifier: BSD-3-Clause
/*
 * statvfs and space accounting; filling the filesystem (ENOSPC).
 */
#include <stdlib.h>
#include <sys/statvfs.h>

#include "pt.h"

#define SLACK (4 * MiB)

static int t_statvfs_basic(void)
{
	struct statvfs a, b;
	int fd;

	OK(statvfs(".", &a));
	CHECK(a.f_bsize > 0);
	CHECK(a.f_frsize > 0);
	REL(a.f_blocks, >, 0);
	REL(a.f_blocks, >=, a.f_bfree);
	REL(a.f_bfree, >=, a.f_bavail);
	REL(a.f_files, >=, a.f_ffree);
	REL(a.f_ffree, >=, a.f_favail);
	REL(a.f_namemax, >=, 255);
	fd = OK(open(".", O_RDONLY | O_DIRECTORY));
	OK(fstatvfs(fd, &b));
	OK(close(fd));
	EQ(b.f_bsize, a.f_bsize);
	EQ(b.f_frsize, a.f_frsize);
	EQ(b.f_blocks, a.f_blocks);
	EQ(b.f_namemax, a.f_namemax);
	EQ(b.f_fsid, a.f_fsid);
	return PT_PASS;
}

static int t_statvfs_space(void)
{
	long long f0, f1, f2;
	int fd;

	f0 = OK(pt_free_bytes("."));
	if (f0 < 128 * MiB)
		return pt_skip("less than 128 MiB free");
	fd = OK(open("f", O_RDWR | O_CREAT, 0644));
	TRY(pt_write_pattern(fd, 0, 32 * MiB, 1));
	OK(fsync(fd));
	OK(close(fd));
	f1 = OK(pt_free_bytes("."));
	CHECKM(f0 - f1 >= 16 * MiB, "free space went from %lld to %lld "
	       "after writing 32 MiB", f0, f1);
	OK(unlink("f"));
	f2 = pt_wait_free(f0 - SLACK);
	CHECKM(f2 >= f0 - SLACK, "free space %lld after unlink, was %lld "
	       "before the write", f2, f0);
	return PT_PASS;
}

static int fill_until_enospc(int fd, long long limit, long long *written)
{
	char *buf = pt_alloc(MiB);
	ssize_t n = 0;

	pt_pattern(buf, MiB, 0, 3);
	*written = 0;
	while (*written < limit) {
		n = write(fd, buf, MiB);
		if (n <= 0)
			break;
		*written += n;
	}
	free(buf);
	if (n < 0)
		return -errno;
	return n == 0 ? -EIO : 0;
}

static int t_enospc(void)
{
	long long f0, f2, written;
	int fd, e;

	f0 = OK(pt_free_bytes("."));
	fd = OK(open("fill", O_WRONLY | O_CREAT, 0644));
	e = fill_until_enospc(fd, 2 * f0 + 1024 * MiB, &written);
	pt_info("wrote %lld bytes of %lld free", written, f0);
	CHECKM(e == -ENOSPC, "filling the fs: expected ENOSPC, got %s after "
	       "%lld bytes", e ? pt_errname(-e) : "no error", written);
	REL(written, >=, f0 / 2);
	close(fd);
	OK(unlink("fill"));
	f2 = pt_wait_free(f0 - SLACK);
	CHECKM(f2 >= f0 - SLACK, "free space %lld after unlink, was %lld",
	       f2, f0);
	fd = OK(open("again", O_RDWR | O_CREAT, 0644));
	TRY(pt_write_pattern(fd, 0, 4 * MiB, 4));
	OK(fsync(fd));
	EQ(pt_check_pattern(fd, 0, 4 * MiB, 4), -1);
	OK(close(fd));
	return PT_PASS;
}

const struct pt_test pt_space_tests[] = {
	{ "statvfs_basic", t_statvfs_basic, 0 },
	{ "statvfs_space", t_statvfs_space, 0 },
	{ "enospc", t_enospc, PT_SLOW },
	{ NULL, NULL, 0 },
};
