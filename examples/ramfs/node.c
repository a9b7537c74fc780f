// SPDX-License-Identifier: BSD-3-Clause
/*
 * node.c - zramfs inodes: the table that names them by number, memory
 * accounting against size=, and the per-inode operations (getattr,
 * setattr, readlink, evict).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ramfs.h"

struct rf_inode *rf_get(struct zus_sb *sb, uint64_t ino)
{
	return ino < sb->ninodes ? sb->inodes[ino] : NULL;
}

/*
 * Arrays kept sorted by a uint64_t key (pages by index, directory entries
 * by position): the first element whose key at key_off is >= key.
 */
size_t rf_first_at(const void *base, size_t n, size_t size, size_t key_off,
		   uint64_t key)
{
	size_t lo = 0, hi = n, mid;
	uint64_t k;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		memcpy(&k, (const char *)base + mid * size + key_off, sizeof(k));
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int rf_get_dir(struct zus_sb *sb, uint64_t ino, struct rf_inode **dp)
{
	*dp = rf_get(sb, ino);
	if (!*dp)
		return -ENOENT;
	return S_ISDIR((*dp)->attr.mode) ? 0 : -ENOTDIR;
}

int rf_charge(struct zus_sb *sb, size_t bytes)
{
	if (bytes > sb->max_bytes - sb->used_bytes)
		return -ENOSPC;
	sb->used_bytes += bytes;
	return 0;
}

void rf_uncharge(struct zus_sb *sb, size_t bytes)
{
	sb->used_bytes -= bytes;
}

/* every change moves ctime; a change of the contents moves mtime too */
void rf_touch(struct rf_inode *ip, const struct zus_ctx *ctx, bool mtime)
{
	ip->attr.ctime_sec = ctx->now.tv_sec;
	ip->attr.ctime_nsec = ctx->now.tv_nsec;
	if (mtime) {
		ip->attr.mtime_sec = ctx->now.tv_sec;
		ip->attr.mtime_nsec = ctx->now.tv_nsec;
	}
}

static int grow_table(struct zus_sb *sb, uint64_t ino)
{
	uint64_t n = sb->ninodes ? sb->ninodes * 2 : 64;
	struct rf_inode **t;

	while (n <= ino)
		n *= 2;
	t = realloc(sb->inodes, n * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memset(t + sb->ninodes, 0, (n - sb->ninodes) * sizeof(*t));
	sb->inodes = t;
	sb->ninodes = n;
	return 0;
}

/*
 * Inode numbers are never reused within a mount, so generation is always
 * 1 and a stale number the transport still holds can only find nothing.
 */
int rf_new(struct zus_sb *sb, const struct zus_ctx *ctx, uint32_t mode,
	   uint32_t rdev, uint32_t uid, uint32_t gid, struct rf_inode **ip)
{
	uint64_t ino = sb->next_ino;
	struct rf_inode *n;
	int err;

	if (ino > RF_MAX_INO)
		return -ENOSPC;
	if (ino >= sb->ninodes) {
		err = grow_table(sb, ino);
		if (err)
			return err;
	}
	err = rf_charge(sb, sizeof(*n));
	if (err)
		return err;
	n = calloc(1, sizeof(*n));
	if (!n) {
		rf_uncharge(sb, sizeof(*n));
		return -ENOMEM;
	}
	n->attr.ino = ino;
	n->attr.generation = 1;
	n->attr.mode = mode;
	n->attr.rdev = rdev;
	n->attr.uid = uid;
	n->attr.gid = gid;
	n->attr.nlink = S_ISDIR(mode) ? 2 : 1;
	n->attr.atime_sec = n->attr.mtime_sec = n->attr.ctime_sec =
		n->attr.btime_sec = ctx->now.tv_sec;
	n->attr.atime_nsec = n->attr.mtime_nsec = n->attr.ctime_nsec =
		n->attr.btime_nsec = ctx->now.tv_nsec;
	if (S_ISDIR(mode))
		n->next_pos = ZUFS_DIR_POS_FIRST;
	sb->inodes[ino] = n;
	sb->next_ino++;
	*ip = n;
	return 0;
}

void rf_free(struct zus_sb *sb, struct rf_inode *ip)
{
	struct rf_xattr *x, *next;
	size_t i;

	for (x = ip->xattrs; x; x = next) {
		next = x->next;
		rf_uncharge(sb, strlen(x->name) + x->size);
		free(x->name);
		free(x->value);
		free(x);
	}
	if (S_ISDIR(ip->attr.mode)) {
		for (i = 0; i < ip->nents; i++) {
			rf_uncharge(sb, ip->ents[i].len);
			free(ip->ents[i].name);
		}
		free(ip->ents);
	} else if (S_ISLNK(ip->attr.mode)) {
		rf_uncharge(sb, ip->attr.size);
		free(ip->target);
	} else if (S_ISREG(ip->attr.mode)) {
		rf_free_pages(sb, ip);
	}
	sb->inodes[ip->attr.ino] = NULL;
	rf_uncharge(sb, sizeof(*ip));
	free(ip);
}

int rf_getattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       struct zufs_attr *attr)
{
	struct rf_inode *ip;
	int err = 0;

	(void)ctx;
	pthread_mutex_lock(&sb->lock);
	ip = rf_get(sb, ino);
	if (ip)
		*attr = ip->attr;
	else
		err = -ENOENT;
	pthread_mutex_unlock(&sb->lock);
	return err;
}

static int apply(struct zus_sb *sb, const struct zus_ctx *ctx,
		 struct rf_inode *ip, uint32_t mask, const struct zufs_attr *set)
{
	int err;

	if (mask & ZUFS_ATTR_SIZE) {
		if (S_ISDIR(ip->attr.mode))
			return -EISDIR;
		if (!S_ISREG(ip->attr.mode))
			return -EINVAL;
		err = rf_resize(sb, ip, set->size);
		if (err)
			return err;
		rf_touch(ip, ctx, true);
	}
	if (mask & ZUFS_ATTR_MODE)
		ip->attr.mode = (ip->attr.mode & S_IFMT) | (set->mode & 07777);
	if (mask & ZUFS_ATTR_UID)
		ip->attr.uid = set->uid;
	if (mask & ZUFS_ATTR_GID)
		ip->attr.gid = set->gid;
	if (mask & ZUFS_ATTR_FLAGS)
		ip->attr.flags = set->flags;
	if (mask & ZUFS_ATTR_ATIME) {
		ip->attr.atime_sec = set->atime_sec;
		ip->attr.atime_nsec = set->atime_nsec;
	}
	if (mask & ZUFS_ATTR_MTIME) {
		ip->attr.mtime_sec = set->mtime_sec;
		ip->attr.mtime_nsec = set->mtime_nsec;
	}
	if (mask & ZUFS_ATTR_CTIME) {
		ip->attr.ctime_sec = set->ctime_sec;
		ip->attr.ctime_nsec = set->ctime_nsec;
	} else {
		rf_touch(ip, ctx, false);
	}
	return 0;
}

int rf_setattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       uint32_t mask, const struct zufs_attr *set,
	       struct zufs_attr *attr)
{
	struct rf_inode *ip;
	int err;

	pthread_mutex_lock(&sb->lock);
	ip = rf_get(sb, ino);
	err = ip ? apply(sb, ctx, ip, mask, set) : -ENOENT;
	if (ip && attr)
		*attr = ip->attr;
	pthread_mutex_unlock(&sb->lock);
	return err;
}

ssize_t rf_readlink(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, char *buf, size_t size)
{
	struct rf_inode *ip;
	ssize_t n;

	(void)ctx;
	pthread_mutex_lock(&sb->lock);
	ip = rf_get(sb, ino);
	if (!ip)
		n = -ENOENT;
	else if (!S_ISLNK(ip->attr.mode))
		n = -EINVAL;
	else {
		n = ip->attr.size < size ? ip->attr.size : size;
		memcpy(buf, ip->target, n);
	}
	pthread_mutex_unlock(&sb->lock);
	return n;
}

/* the transport forgot ino: an inode with no name left goes now */
int rf_evict(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino)
{
	struct rf_inode *ip;

	(void)ctx;
	pthread_mutex_lock(&sb->lock);
	ip = rf_get(sb, ino);
	if (ip && !ip->attr.nlink && ino != RF_ROOT_INO)
		rf_free(sb, ip);
	pthread_mutex_unlock(&sb->lock);
	return 0;
}
