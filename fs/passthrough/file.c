// SPDX-License-Identifier: BSD-3-Clause
/*
 * file.c - zpassthrough data and xattr operations, on fds cached per node.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <linux/fs.h>

#include "passthrough.h"

ssize_t pt_read(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		void *buf, size_t len, uint64_t offset)
{
	struct pt_node *n = pt_node_get(sb, ino);
	size_t done = 0;
	ssize_t r = 0;
	int fd;

	(void)ctx;
	if (!n)
		return -ESTALE;
	fd = pt_node_rfd(n);
	if (fd < 0) {
		pt_node_put(sb, n);
		return fd;
	}
	while (done < len) {
		r = pread(fd, (char *)buf + done, len - done, offset + done);
		if (r <= 0)
			break;
		done += r;
	}
	if (r < 0 && !done)
		r = -errno;
	pt_node_put(sb, n);
	return r < 0 && !done ? r : (ssize_t)done;
}

ssize_t pt_write(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 const void *buf, size_t len, uint64_t offset,
		 struct zufs_attr *attr)
{
	struct pt_node *n = pt_node_get(sb, ino);
	size_t done = 0;
	ssize_t r = 0;
	int fd, err = 0;

	(void)ctx;
	if (!n)
		return -ESTALE;
	fd = pt_node_wfd(n);
	if (fd < 0) {
		pt_node_put(sb, n);
		return fd;
	}
	while (done < len && !err) {
		r = pwrite(fd, (const char *)buf + done, len - done,
			   offset + done);
		if (r < 0 && !done)
			err = -errno;
		if (r <= 0)
			break;
		done += r;
	}
	if (!err && attr)
		err = pt_stat_fd(sb, n->fd, attr);
	pt_node_put(sb, n);
	return err ? err : (ssize_t)done;
}

int pt_fsync(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	     uint64_t offset, uint64_t length, bool datasync)
{
	struct pt_node *n = pt_node_get(sb, ino);
	int fd, err;

	(void)ctx;
	(void)offset;
	(void)length;
	if (!n)
		return -ESTALE;
	fd = pt_node_rfd(n);
	if (fd == -EINVAL)	/* special files: nothing of ours to sync */
		err = 0;
	else if (fd < 0)
		err = fd;
	else
		err = (datasync ? fdatasync(fd) : fsync(fd)) ? -errno : 0;
	pt_node_put(sb, n);
	return err;
}

int pt_fallocate(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 uint32_t mode, uint64_t offset, uint64_t length,
		 struct zufs_attr *attr)
{
	struct pt_node *n = pt_node_get(sb, ino);
	int fd, err;

	(void)ctx;
	if (!n)
		return -ESTALE;
	fd = pt_node_wfd(n);
	if (fd < 0)
		err = fd == -EINVAL ? -ENODEV : fd;
	else
		err = fallocate(fd, mode, offset, length) ? -errno : 0;
	if (!err && attr)
		err = pt_stat_fd(sb, n->fd, attr);
	pt_node_put(sb, n);
	return err;
}

int pt_seek(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t offset, int whence, uint64_t *result)
{
	struct pt_node *n = pt_node_get(sb, ino);
	off_t r;
	int fd, err = 0;

	(void)ctx;
	if (!n)
		return -ESTALE;
	fd = pt_node_rfd(n);
	if (fd < 0) {
		err = fd;
	} else {
		r = lseek(fd, offset, whence);
		if (r < 0)
			err = -errno;
		else
			*result = r;
	}
	pt_node_put(sb, n);
	return err;
}

static int copy_range(int sfd, uint64_t soff, int dfd, uint64_t doff,
		      uint64_t length, uint64_t *done)
{
	loff_t so = soff, dof = doff;
	ssize_t r;

	*done = 0;
	while (*done < length) {
		r = copy_file_range(sfd, &so, dfd, &dof, length - *done, 0);
		if (r < 0)
			return *done ? 0 : -errno;
		if (r == 0)
			break;
		*done += r;
	}
	return 0;
}

static int reflink_range(int sfd, uint64_t soff, int dfd, uint64_t doff,
			 uint64_t length, uint64_t *done)
{
	struct file_clone_range fcr = {
		.src_fd = sfd, .src_offset = soff,
		.src_length = length, .dest_offset = doff,
	};
	struct stat st;

	if (ioctl(dfd, FICLONERANGE, &fcr))
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	if (length) {
		*done = length;
	} else {
		if (fstat(sfd, &st))
			return -errno;
		*done = (uint64_t)st.st_size > soff ? st.st_size - soff : 0;
	}
	return 0;
}

/* FIDEDUPERANGE: the backing fs compares and shares atomically */
static int dedupe_range(int sfd, uint64_t soff, int dfd, uint64_t doff,
			uint64_t length, uint64_t *done)
{
	struct {
		struct file_dedupe_range r;
		struct file_dedupe_range_info info;
	} d;

	memset(&d, 0, sizeof(d));
	d.r.src_offset = soff;
	d.r.src_length = length;
	d.r.dest_count = 1;
	d.info.dest_fd = dfd;
	d.info.dest_offset = doff;
	if (ioctl(sfd, FIDEDUPERANGE, &d))
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	if (d.info.status == FILE_DEDUPE_RANGE_DIFFERS)
		return -EBADE;
	if (d.info.status < 0)
		return d.info.status;
	*done = d.info.bytes_deduped;
	return 0;
}

int pt_clone(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t src_ino,
	     uint64_t src_off, uint64_t dst_ino, uint64_t dst_off,
	     uint64_t length, uint32_t flags, uint64_t *done,
	     struct zufs_attr *attr)
{
	struct pt_node *s, *d;
	int sfd, dfd, err;

	(void)ctx;
	*done = 0;
	s = pt_node_get(sb, src_ino);
	d = pt_node_get(sb, dst_ino);
	if (!s || !d) {
		err = -ESTALE;
		goto out_put;
	}
	sfd = pt_node_rfd(s);
	dfd = pt_node_wfd(d);
	err = sfd < 0 ? sfd : dfd < 0 ? dfd : 0;
	if (err)
		goto out_put;
	if (flags & ZUFS_CLONE_DEDUPE)
		err = dedupe_range(sfd, src_off, dfd, dst_off, length, done);
	else if (flags & ZUFS_CLONE_REFLINK)
		err = reflink_range(sfd, src_off, dfd, dst_off, length, done);
	else
		err = copy_range(sfd, src_off, dfd, dst_off, length, done);
	if (!err && attr)
		err = pt_stat_fd(sb, d->fd, attr);
out_put:
	pt_node_put(sb, d);
	pt_node_put(sb, s);
	return err;
}

/*
 * xattrs go through /proc/self/fd/N: there is no f*xattr() for O_PATH fds,
 * and the magic link lands on the inode itself, symlinks included.
 */
ssize_t pt_getxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, const char *name, void *value, size_t size)
{
	struct pt_node *n = pt_node_get(sb, ino);
	char path[64];
	ssize_t r;

	(void)ctx;
	if (!n)
		return -ESTALE;
	pt_proc_path(path, sizeof(path), n->fd);
	r = getxattr(path, name, value, size);
	if (r < 0)
		r = -errno;
	pt_node_put(sb, n);
	return r;
}

int pt_setxattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		const char *name, const void *value, size_t size, int flags,
		struct zufs_attr *attr)
{
	struct pt_node *n = pt_node_get(sb, ino);
	char path[64];
	int err;

	(void)ctx;
	if (!n)
		return -ESTALE;
	pt_proc_path(path, sizeof(path), n->fd);
	if (value)
		err = setxattr(path, name, value, size, flags) ? -errno : 0;
	else
		err = removexattr(path, name) ? -errno : 0;
	if (!err && attr)
		err = pt_stat_fd(sb, n->fd, attr);
	pt_node_put(sb, n);
	return err;
}

ssize_t pt_listxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, char *list, size_t size)
{
	struct pt_node *n = pt_node_get(sb, ino);
	char path[64];
	ssize_t r;

	(void)ctx;
	if (!n)
		return -ESTALE;
	pt_proc_path(path, sizeof(path), n->fd);
	r = listxattr(path, list, size);
	if (r < 0)
		r = -errno;
	pt_node_put(sb, n);
	return r;
}
