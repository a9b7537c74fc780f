// SPDX-License-Identifier: BSD-3-Clause
/*
 * xattr.c - extended attributes, straight to the MDS's.
 */
#include <errno.h>

#include "zceph.h"

ssize_t zc_getxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, const char *name, void *value, size_t size)
{
	struct zc_node *n;
	ssize_t ret;

	(void)ctx;
	ret = zc_node_get(sb, ino, &n);
	if (ret)
		return ret;
	ret = ceph_ll_getxattr(sb->cm, n->in, name, value, size, sb->perms);
	zc_node_put(sb, n);
	return ret;
}

int zc_setxattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		const char *name, const void *value, size_t size, int flags,
		struct zufs_attr *attr)
{
	struct zc_node *n;
	int err;

	(void)ctx;
	err = zc_node_get(sb, ino, &n);
	if (err)
		return err;
	if (value)
		err = ceph_ll_setxattr(sb->cm, n->in, name, value, size, flags,
				       sb->perms);
	else
		err = ceph_ll_removexattr(sb->cm, n->in, name, sb->perms);
	if (!err)
		err = zc_getattr_in(sb, n->in, attr);
	zc_node_put(sb, n);
	return err;
}

ssize_t zc_listxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, char *list, size_t size)
{
	struct zc_node *n;
	size_t used = 0;
	int err;

	(void)ctx;
	err = zc_node_get(sb, ino, &n);
	if (err)
		return err;
	err = ceph_ll_listxattr(sb->cm, n->in, list, size, &used, sb->perms);
	zc_node_put(sb, n);
	return err ? err : (ssize_t)used;
}
