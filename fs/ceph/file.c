// SPDX-License-Identifier: BSD-3-Clause
/*
 * file.c - data.  buf is the application's own memory mapped into the ZT
 * thread (the window): it goes to ceph_ll_read/ceph_ll_write as is, so
 * the plugin adds no copy (libcephfs copies once between it and its
 * message buffers, as for any caller).
 */
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "zceph.h"

ssize_t zc_read(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		void *buf, size_t len, uint64_t offset)
{
	struct zc_node *n;
	struct Fh *fh;
	ssize_t ret;

	(void)ctx;
	if (offset > INT64_MAX)
		return 0;
	if (len > INT_MAX)
		len = INT_MAX & ~4095;
	ret = zc_node_get(sb, ino, &n);
	if (ret)
		return ret;
	ret = zc_node_fh(sb, n, &fh);
	if (!ret)
		ret = ceph_ll_read(sb->cm, fh, (int64_t)offset, len, buf);
	zc_node_put(sb, n);
	return ret;
}

ssize_t zc_write(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 const void *buf, size_t len, uint64_t offset,
		 struct zufs_attr *attr)
{
	struct zc_node *n;
	struct Fh *fh;
	ssize_t ret;
	int err;

	(void)ctx;
	if (offset > INT64_MAX || len > INT64_MAX - offset)
		return -EFBIG;
	if (len > INT_MAX)
		len = INT_MAX & ~4095;
	ret = zc_node_get(sb, ino, &n);
	if (ret)
		return ret;
	ret = zc_node_fh(sb, n, &fh);
	if (!ret)
		ret = ceph_ll_write(sb->cm, fh, (int64_t)offset, len, buf);
	if (ret >= 0) {
		err = zc_getattr_in(sb, n->in, attr);
		if (err)
			ret = err;
	}
	zc_node_put(sb, n);
	return ret;
}

int zc_fsync(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	     uint64_t offset, uint64_t length, bool datasync)
{
	struct zc_node *n;
	int err;

	(void)ctx;
	(void)offset;	/* libcephfs syncs whole files */
	(void)length;
	err = zc_node_get(sb, ino, &n);
	if (err)
		return err;
	err = ceph_ll_sync_inode(sb->cm, n->in, datasync);
	zc_node_put(sb, n);
	return err;
}

/* only PUNCH_HOLE | KEEP_SIZE comes here (the mount's caps, super.c) */
int zc_fallocate(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 uint32_t mode, uint64_t offset, uint64_t length,
		 struct zufs_attr *attr)
{
	struct zc_node *n;
	struct Fh *fh;
	int err;

	(void)ctx;
	if (offset > INT64_MAX || length > INT64_MAX - offset)
		return -EFBIG;
	err = zc_node_get(sb, ino, &n);
	if (err)
		return err;
	err = zc_node_fh(sb, n, &fh);
	if (!err)
		err = ceph_ll_fallocate(sb->cm, fh, (int)mode, (int64_t)offset,
					(int64_t)length);
	if (!err)
		err = zc_getattr_in(sb, n->in, attr);
	zc_node_put(sb, n);
	return err;
}

/*
 * CephFS keeps no hole map a client can ask for (its objects are sparse
 * on the OSDs only): the whole file is data, as libcephfs's own lseek and
 * the kernel client answer.  The kernel flushed its dirty pages first, so
 * the size is the one that counts.
 */
int zc_seek(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t offset, int whence, uint64_t *result)
{
	struct zufs_attr attr;
	int err;

	(void)ctx;
	err = zc_attr_ino(sb, ino, &attr);
	if (err)
		return err;
	if (offset >= attr.size)
		return -ENXIO;
	*result = whence == SEEK_DATA ? offset : attr.size;
	return 0;
}
