// SPDX-License-Identifier: BSD-3-Clause
/*
 * attr.c - CephFS statx <-> zufs_attr, getattr and setattr.
 */
#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "zceph.h"

/* the kernel's new_encode_dev(), what zufs_attr.rdev carries */
static uint32_t encode_dev(dev_t dev)
{
	uint32_t maj = major(dev), min = minor(dev);

	return (min & 0xff) | (maj << 8) | ((min & ~0xffU) << 12);
}

dev_t zc_decode_dev(uint32_t dev)
{
	return makedev((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00));
}

void zc_fill_attr(const struct ceph_statx *stx, struct zufs_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->ino = stx->stx_ino;
	attr->size = stx->stx_size;
	attr->blocks = stx->stx_blocks;
	attr->atime_sec = stx->stx_atime.tv_sec;
	attr->atime_nsec = stx->stx_atime.tv_nsec;
	attr->mtime_sec = stx->stx_mtime.tv_sec;
	attr->mtime_nsec = stx->stx_mtime.tv_nsec;
	attr->ctime_sec = stx->stx_ctime.tv_sec;
	attr->ctime_nsec = stx->stx_ctime.tv_nsec;
	attr->btime_sec = stx->stx_btime.tv_sec;
	attr->btime_nsec = stx->stx_btime.tv_nsec;
	attr->mode = stx->stx_mode;
	attr->nlink = stx->stx_nlink;
	attr->uid = stx->stx_uid;
	attr->gid = stx->stx_gid;
	attr->rdev = encode_dev(stx->stx_rdev);
}

static int getattr_flags(struct zus_sb *sb, struct Inode *in,
			 struct zufs_attr *attr, unsigned int flags)
{
	struct ceph_statx stx;
	int err;

	err = ceph_ll_getattr(sb->cm, in, &stx, ZC_STATX_WANT,
			      AT_SYMLINK_NOFOLLOW | flags, sb->perms);
	if (err)
		return err;
	zc_fill_attr(&stx, attr);
	return 0;
}

int zc_getattr_in(struct zus_sb *sb, struct Inode *in, struct zufs_attr *attr)
{
	return getattr_flags(sb, in, attr, 0);
}

/*
 * libcephfs's cached attr, no MDS round trip; ino 0 if it has none, which
 * zc_getattr_after() takes as "unknown".
 */
void zc_getattr_cached(struct zus_sb *sb, struct Inode *in,
		       struct zufs_attr *attr)
{
	if (getattr_flags(sb, in, attr, AT_STATX_DONT_SYNC))
		memset(attr, 0, sizeof(*attr));
}

/*
 * The attr of an inode an op of this client just changed, @before being
 * zc_getattr_cached()'s from before the op.  The op's MDS reply normally
 * carries the inode and updates libcephfs's cache, which then has a new
 * ctime: take it from there.  Otherwise (the old parent of a cross
 * directory rename, the inode that lost one of several links) the cache
 * is stale, and a synced getattr is an MDS round trip, as the op took
 * this client's shared caps on the inode away.
 */
int zc_getattr_after(struct zus_sb *sb, struct Inode *in,
		     const struct zufs_attr *before, struct zufs_attr *attr)
{
	zc_getattr_cached(sb, in, attr);
	if (before->ino && attr->ino &&
	    (attr->ctime_sec != before->ctime_sec ||
	     attr->ctime_nsec != before->ctime_nsec))
		return 0;
	return zc_getattr_in(sb, in, attr);
}

int zc_attr_ino(struct zus_sb *sb, uint64_t ino, struct zufs_attr *attr)
{
	struct zc_node *n;
	int err;

	err = zc_node_get(sb, ino, &n);
	if (err)
		return err;
	err = zc_getattr_in(sb, n->in, attr);
	zc_node_put(sb, n);
	return err;
}

/* a NUL-terminated copy of a name of len bytes (1..255) */
int zc_name(char *buf, const char *name, size_t len)
{
	if (!len || len > ZUFS_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return 0;
}

int zc_getattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       struct zufs_attr *attr)
{
	(void)ctx;
	return zc_attr_ino(sb, ino, attr);
}

static int to_ceph_mask(uint32_t mask, const struct zufs_attr *set,
			struct ceph_statx *stx)
{
	int cmask = 0;

	memset(stx, 0, sizeof(*stx));
	if (mask & ZUFS_ATTR_MODE) {
		stx->stx_mode = set->mode & 07777;
		cmask |= CEPH_SETATTR_MODE;
	}
	if (mask & ZUFS_ATTR_UID) {
		stx->stx_uid = set->uid;
		cmask |= CEPH_SETATTR_UID;
	}
	if (mask & ZUFS_ATTR_GID) {
		stx->stx_gid = set->gid;
		cmask |= CEPH_SETATTR_GID;
	}
	if (mask & ZUFS_ATTR_SIZE) {
		stx->stx_size = set->size;
		cmask |= CEPH_SETATTR_SIZE;
	}
	if (mask & ZUFS_ATTR_ATIME) {
		stx->stx_atime.tv_sec = set->atime_sec;
		stx->stx_atime.tv_nsec = set->atime_nsec;
		cmask |= CEPH_SETATTR_ATIME;
	}
	if (mask & ZUFS_ATTR_MTIME) {
		stx->stx_mtime.tv_sec = set->mtime_sec;
		stx->stx_mtime.tv_nsec = set->mtime_nsec;
		cmask |= CEPH_SETATTR_MTIME;
	}
	if (mask & ZUFS_ATTR_CTIME) {
		stx->stx_ctime.tv_sec = set->ctime_sec;
		stx->stx_ctime.tv_nsec = set->ctime_nsec;
		cmask |= CEPH_SETATTR_CTIME;
	}
	return cmask;
}

int zc_setattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       uint32_t mask, const struct zufs_attr *set,
	       struct zufs_attr *attr)
{
	struct zufs_attr before;
	struct ceph_statx stx;
	struct zc_node *n;
	int cmask, err;

	(void)ctx;
	/* CephFS keeps no chattr flags */
	if ((mask & ZUFS_ATTR_FLAGS) && set->flags)
		return -EOPNOTSUPP;
	cmask = to_ceph_mask(mask, set, &stx);
	err = zc_node_get(sb, ino, &n);
	if (err)
		return err;
	zc_getattr_cached(sb, n->in, &before);
	if (cmask)
		err = ceph_ll_setattr(sb->cm, n->in, &stx, cmask, sb->perms);
	if (!err)
		err = zc_getattr_after(sb, n->in, &before, attr);
	zc_node_put(sb, n);
	return err;
}
