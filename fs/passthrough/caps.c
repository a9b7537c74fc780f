// SPDX-License-Identifier: BSD-3-Clause
/*
 * caps.c - what the backing filesystem implements of reflink, dedupe and
 * the fallocate modes, found at mount by trying each on two unnamed
 * scratch files in the backing directory.  The transports offer exactly
 * that (zus_mount_out.caps), so an application probing through zufs gets
 * the answer a real call on the backing directory would get.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "passthrough.h"

/* An unnamed read-write file in dir: O_TMPFILE, or a name unlinked at once */
static int scratch_file(int dirfd)
{
	char name[64];
	int fd, i;

	fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), ".zpassthrough-caps.%d.%d",
			 (int)getpid(), i);
		fd = openat(dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC,
			    0600);
		if (fd >= 0) {
			unlinkat(dirfd, name, 0);
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	return -errno;
}

/* A mode counts as implemented unless the filesystem says it is not */
static bool not_implemented(int err)
{
	return err == EOPNOTSUPP || err == ENOSYS || err == ENOTTY;
}

static int fill(int fd, size_t len)
{
	char *buf = malloc(len);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	memset(buf, 'z', len);
	n = pwrite(fd, buf, len, 0);
	free(buf);
	return n == (ssize_t)len ? 0 : -EIO;
}

static uint64_t probe_falloc(int fd, off_t bs)
{
	/* in order: each leaves the file 4 blocks or more long */
	static const struct {
		uint64_t cap;
		int mode;
		int off, len;	/* blocks */
	} tries[] = {
		{ ZUFS_CAP_FALLOC, 0, 0, 5 },
		{ ZUFS_CAP_KEEP_SIZE, FALLOC_FL_KEEP_SIZE, 6, 1 },
		{ ZUFS_CAP_PUNCH_HOLE, FALLOC_FL_PUNCH_HOLE |
		  FALLOC_FL_KEEP_SIZE, 1, 1 },
		{ ZUFS_CAP_ZERO_RANGE, FALLOC_FL_ZERO_RANGE, 1, 1 },
		{ ZUFS_CAP_INSERT_RANGE, FALLOC_FL_INSERT_RANGE, 1, 1 },
		{ ZUFS_CAP_COLLAPSE_RANGE, FALLOC_FL_COLLAPSE_RANGE, 1, 1 },
		{ ZUFS_CAP_UNSHARE_RANGE, FALLOC_FL_UNSHARE_RANGE, 0, 1 },
	};
	uint64_t caps = 0;
	size_t i;

	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (!fallocate(fd, tries[i].mode, tries[i].off * bs,
			       tries[i].len * bs) || !not_implemented(errno))
			caps |= tries[i].cap;
	return caps;
}

static uint64_t probe_remap(int a, int b, off_t bs)
{
	struct file_clone_range fcr = {
		.src_fd = a, .src_offset = 0, .src_length = bs,
		.dest_offset = 0,
	};
	struct {
		struct file_dedupe_range r;
		struct file_dedupe_range_info info;
	} d;
	uint64_t caps = 0;

	if (!ioctl(b, FICLONERANGE, &fcr))
		caps |= ZUFS_CAP_CLONE;
	/* b's first block is a's (cloned or copied): the same bytes */
	if (pwrite(b, "z", 1, 0) != 1)
		return caps;
	memset(&d, 0, sizeof(d));
	d.r.src_offset = 0;
	d.r.src_length = bs;
	d.r.dest_count = 1;
	d.info.dest_fd = b;
	d.info.dest_offset = 0;
	if (!ioctl(a, FIDEDUPERANGE, &d) && d.info.status >= 0)
		caps |= ZUFS_CAP_DEDUPE;
	return caps;
}

uint64_t pt_probe_caps(int dirfd)
{
	uint64_t caps = 0;
	struct stat st;
	off_t bs;
	int a, b;

	a = scratch_file(dirfd);
	if (a < 0)
		return 0;
	b = scratch_file(dirfd);
	if (b < 0)
		goto out_close_a;
	bs = !fstat(a, &st) && st.st_blksize > 0 ? st.st_blksize : 4096;
	if (fill(a, 4 * bs) || fill(b, bs))
		goto out_close;
	caps = probe_falloc(a, bs);
	caps |= probe_remap(a, b, bs);
out_close:
	close(b);
out_close_a:
	close(a);
	return caps;
}
