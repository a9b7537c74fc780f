// SPDX-License-Identifier: BSD-3-Clause
/*
 * file.c - zramfs read and write.  zramfs is not a pmem filesystem, so it
 * gets "old IO": buf is the application's own memory, mapped into the
 * serving thread for the length of the call (under zusd) or libfuse's
 * buffer (under zus-fuse).  Either way: copy, never keep the pointer.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "ramfs.h"

static int get_reg(struct zus_sb *sb, uint64_t ino, struct rf_inode **ipp)
{
	*ipp = rf_get(sb, ino);
	if (!*ipp)
		return -ENOENT;
	if (S_ISDIR((*ipp)->attr.mode))
		return -EISDIR;
	return S_ISREG((*ipp)->attr.mode) ? 0 : -EINVAL;
}

static size_t chunk(uint64_t pos, size_t left)
{
	size_t in_page = RF_BLOCK - pos % RF_BLOCK;

	return left < in_page ? left : in_page;
}

ssize_t rf_read(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		void *buf, size_t len, uint64_t offset)
{
	struct rf_inode *ip;
	size_t done = 0, n;
	char *page;
	int err;

	(void)ctx;	/* atime: zramfs behaves as if mounted noatime */
	pthread_mutex_lock(&sb->lock);
	err = get_reg(sb, ino, &ip);
	if (!err && offset < ip->attr.size && len > ip->attr.size - offset)
		len = ip->attr.size - offset;
	while (!err && offset < ip->attr.size && done < len) {
		n = chunk(offset + done, len - done);
		page = rf_page(sb, ip, (offset + done) / RF_BLOCK, false, NULL);
		if (page)
			memcpy((char *)buf + done,
			       page + (offset + done) % RF_BLOCK, n);
		else
			memset((char *)buf + done, 0, n);
		done += n;
	}
	pthread_mutex_unlock(&sb->lock);
	return err ? err : (ssize_t)done;
}

/* a write that runs out of space stops there and reports what it wrote */
ssize_t rf_write(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 const void *buf, size_t len, uint64_t offset,
		 struct zufs_attr *attr)
{
	struct rf_inode *ip;
	size_t done = 0, n;
	char *page;
	int err;

	pthread_mutex_lock(&sb->lock);
	err = get_reg(sb, ino, &ip);
	if (!err && (offset > RF_MAX_FILE || len > RF_MAX_FILE - offset))
		err = -EFBIG;
	while (!err && done < len) {
		n = chunk(offset + done, len - done);
		page = rf_page(sb, ip, (offset + done) / RF_BLOCK, true, &err);
		if (!page)
			break;
		memcpy(page + (offset + done) % RF_BLOCK,
		       (const char *)buf + done, n);
		done += n;
	}
	if (done) {
		err = 0;
		if (offset + done > ip->attr.size)
			ip->attr.size = offset + done;
		rf_touch(ip, ctx, true);
	}
	if (!err)
		*attr = ip->attr;
	pthread_mutex_unlock(&sb->lock);
	return err ? err : (ssize_t)done;
}
