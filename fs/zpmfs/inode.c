// SPDX-License-Identifier: BSD-3-Clause
/*
 * inode.c - the inode table, inode allocation, attributes, eviction and
 * symlink targets.
 *
 * An on-pmem inode is free when its mode is 0.  Which inodes are in use is
 * also kept in a DRAM bitmap built at mount (the scan that builds it also
 * frees orphans: inodes with nlink 0 left by a crash while still open).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zpmfs.h"

static void pi_persist(struct zpmfs_inode *pi)
{
	pmem_persist(pi, offsetof(struct zpmfs_inode, reserved));
}

struct zinode *zp_zi(struct zus_sb *sb, uint64_t ino)
{
	struct zinode *_Atomic *slot = &sb->zis[ino - 1];
	struct zinode *zi = atomic_load(slot), *expected = NULL;

	if (zi)
		return zi;
	zi = calloc(1, sizeof(*zi));
	if (!zi)
		return NULL;
	pthread_rwlock_init(&zi->lock, NULL);
	if (!atomic_compare_exchange_strong(slot, &expected, zi)) {
		/* another thread won the race: use its copy */
		pthread_rwlock_destroy(&zi->lock);
		free(zi);
		zi = expected;
	}
	return zi;
}

struct zinode *zp_zi_live(struct zus_sb *sb, uint64_t ino)
{
	if (!zp_ino_valid(sb, ino) || !zp_pi(sb, ino)->mode)
		return NULL;
	return zp_zi(sb, ino);
}

unsigned int zp_dtype(uint32_t mode)
{
	return (mode & S_IFMT) >> 12;
}

static void imap_set(struct zus_sb *sb, uint64_t ino, bool used)
{
	zp_bit_assign(sb->imap, ino - 1, used);
}

/*
 * After a crash the blocks count of an inode can be off by the blocks
 * whose pointer was stored but not yet counted (or the reverse): recount
 * from the map, which is the truth.
 */
static bool recount_blocks(struct zus_sb *sb, struct zpmfs_inode *pi)
{
	uint64_t n = zp_bmap_count(sb, pi) + !!pi->xattr_block;

	if (n == pi->blocks)
		return false;
	pi->blocks = n;
	pi_persist(pi);
	return true;
}

int zp_inodes_init(struct zus_sb *sb)
{
	uint64_t n = sb->sbc.inode_count, ino, orphans = 0, fixed = 0;
	bool recover = !sb->rdonly && !(sb->state->flags & ZPMFS_STATE_CLEAN);

	sb->zis = calloc(n, sizeof(*sb->zis));
	sb->imap = calloc(ZP_DIV_UP(n, 64), sizeof(uint64_t));
	if (!sb->zis || !sb->imap)
		goto out_free;
	pthread_mutex_init(&sb->ialloc_lock, NULL);
	sb->ifree = n;
	for (ino = 1; ino <= n; ino++) {
		struct zpmfs_inode *pi = zp_pi(sb, ino);

		if (!pi->mode)
			continue;
		if (!pi->nlink && ino != ZPMFS_ROOT_INO && !sb->rdonly &&
		    !sb->keep_orphans) {
			/* Unlinked while open when the last session ended:
			 * nobody can reach it any more. */
			zp_inode_free_all(sb, ino);
			orphans++;
			continue;
		}
		imap_set(sb, ino, true);
		sb->ifree--;
		if (recover)
			fixed += recount_blocks(sb, pi);
	}
	if (orphans)
		zp_log(sb, "freed %lu orphan inode(s)", (unsigned long)orphans);
	if (fixed)
		zp_log(sb, "recounted the blocks of %lu inode(s)",
		       (unsigned long)fixed);
	return 0;
out_free:
	free(sb->zis);
	free(sb->imap);
	sb->zis = NULL;
	sb->imap = NULL;
	return -ENOMEM;
}

void zp_inodes_fini(struct zus_sb *sb)
{
	uint64_t i;

	if (!sb->zis)
		return;
	for (i = 0; i < sb->sbc.inode_count; i++) {
		struct zinode *zi = atomic_load(&sb->zis[i]);

		if (!zi)
			continue;
		zp_dir_drop(zi);
		pthread_rwlock_destroy(&zi->lock);
		free(zi);
	}
	free(sb->zis);
	free(sb->imap);
	pthread_mutex_destroy(&sb->ialloc_lock);
	sb->zis = NULL;
	sb->imap = NULL;
}

/* First clear bit of imap in [from, to), or UINT64_MAX */
static uint64_t imap_find(struct zus_sb *sb, uint64_t from, uint64_t to)
{
	uint64_t i = from;

	while (i < to) {
		uint64_t w = sb->imap[i / 64] | ((1ULL << (i % 64)) - 1);

		if (w != ~0ULL) {
			i = (i & ~63ULL) + __builtin_ctzll(~w);
			return i < to ? i : UINT64_MAX;
		}
		i = (i & ~63ULL) + 64;
	}
	return UINT64_MAX;
}

int zp_ialloc(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t *ino)
{
	uint64_t n = sb->sbc.inode_count, i;

	(void)ctx;
	pthread_mutex_lock(&sb->ialloc_lock);
	if (!sb->ifree) {
		pthread_mutex_unlock(&sb->ialloc_lock);
		return -ENOSPC;
	}
	i = imap_find(sb, sb->inext, n);
	if (i == UINT64_MAX)
		i = imap_find(sb, 0, sb->inext);
	if (i == UINT64_MAX) {
		pthread_mutex_unlock(&sb->ialloc_lock);
		return -ENOSPC;
	}
	imap_set(sb, i + 1, true);
	sb->ifree--;
	sb->inext = i + 1 < n ? i + 1 : 0;
	pthread_mutex_unlock(&sb->ialloc_lock);
	*ino = i + 1;
	return 0;
}

void zp_ifree(struct zus_sb *sb, uint64_t ino)
{
	pthread_mutex_lock(&sb->ialloc_lock);
	imap_set(sb, ino, false);
	sb->ifree++;
	pthread_mutex_unlock(&sb->ialloc_lock);
}

void zp_inode_free_all(struct zus_sb *sb, uint64_t ino)
{
	struct zpmfs_inode *pi = zp_pi(sb, ino);
	struct zinode *zi = atomic_load(&sb->zis[ino - 1]);

	/* Blocks first, mode last: a crash in between leaves an orphan that
	 * the next mount frees again, never a free inode owning blocks. */
	zp_bmap_punch(sb, pi, 0, UINT64_MAX);
	zp_xattr_free(sb, pi);
	pi->size = 0;
	pi->blocks = 0;
	pi->mode = 0;
	pi_persist(pi);
	if (zi)
		zp_dir_drop(zi);
}

void zp_fill_attr(struct zus_sb *sb, uint64_t ino, struct zufs_attr *attr)
{
	const struct zpmfs_inode *pi = zp_pi(sb, ino);

	attr->ino = ino;
	attr->size = pi->size;
	attr->blocks = pi->blocks * (ZPMFS_BLOCK / 512);
	attr->generation = pi->generation;
	attr->atime_sec = pi->atime;
	attr->mtime_sec = pi->mtime;
	attr->ctime_sec = pi->ctime;
	attr->btime_sec = pi->btime;
	attr->atime_nsec = pi->atime_ns;
	attr->mtime_nsec = pi->mtime_ns;
	attr->ctime_nsec = pi->ctime_ns;
	attr->btime_nsec = pi->btime_ns;
	attr->mode = pi->mode;
	attr->nlink = pi->nlink;
	attr->uid = pi->uid;
	attr->gid = pi->gid;
	attr->rdev = pi->rdev;
	attr->flags = pi->flags;
}

void zp_touch(struct zpmfs_inode *pi, const struct zus_ctx *ctx, bool m,
	      bool c)
{
	if (m) {
		pi->mtime = ctx->now.tv_sec;
		pi->mtime_ns = ctx->now.tv_nsec;
	}
	if (c) {
		pi->ctime = ctx->now.tv_sec;
		pi->ctime_ns = ctx->now.tv_nsec;
	}
}

void zp_set_nlink(struct zpmfs_inode *pi, uint32_t nlink)
{
	pi->nlink = nlink;
}

int zp_getattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       struct zufs_attr *attr)
{
	struct zinode *zi = zp_zi_live(sb, ino);

	(void)ctx;
	if (!zi)
		return -ENOENT;
	pthread_rwlock_rdlock(&zi->lock);
	zp_fill_attr(sb, ino, attr);
	pthread_rwlock_unlock(&zi->lock);
	return attr->mode ? 0 : -ENOENT;
}

/*
 * The work of a shrink after its size is committed; idempotent.  ctx may
 * be NULL (replay at mount): it only steers where a CoW of a shared tail
 * block is allocated.
 */
void zp_shrink_finish(struct zus_sb *sb, const struct zus_ctx *ctx,
		      struct zpmfs_inode *pi)
{
	zp_truncate(sb, ctx, pi, pi->size);	/* zeroes the tail past EOF */
	zp_bmap_punch(sb, pi, ZP_DIV_UP(pi->size, ZPMFS_BLOCK), UINT64_MAX);
}

static int setattr_size(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *pi, uint64_t size)
{
	if (S_ISDIR(pi->mode))
		return -EISDIR;
	if (!S_ISREG(pi->mode))
		return -EINVAL;
	return zp_truncate(sb, ctx, pi, size);
}

static void setattr_apply(struct zpmfs_inode *pi, uint32_t mask,
			  const struct zufs_attr *set)
{
	if (mask & ZUFS_ATTR_MODE)
		pi->mode = (pi->mode & S_IFMT) | (set->mode & 07777);
	if (mask & ZUFS_ATTR_UID)
		pi->uid = set->uid;
	if (mask & ZUFS_ATTR_GID)
		pi->gid = set->gid;
	if (mask & ZUFS_ATTR_ATIME) {
		pi->atime = set->atime_sec;
		pi->atime_ns = set->atime_nsec;
	}
	if (mask & ZUFS_ATTR_MTIME) {
		pi->mtime = set->mtime_sec;
		pi->mtime_ns = set->mtime_nsec;
	}
	if (mask & ZUFS_ATTR_CTIME) {
		pi->ctime = set->ctime_sec;
		pi->ctime_ns = set->ctime_nsec;
	}
	if (mask & ZUFS_ATTR_FLAGS)
		pi->flags = set->flags;
}

int zp_setattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       uint32_t mask, const struct zufs_attr *set,
	       struct zufs_attr *attr)
{
	struct zinode *zi = zp_zi_live(sb, ino);
	struct zpmfs_inode *pi;
	bool resize, shrink;
	int err = 0;

	if (!zi)
		return -ENOENT;
	if (sb->rdonly)
		return -EROFS;
	pi = zp_pi(sb, ino);
	pthread_rwlock_wrlock(&zi->lock);
	resize = (mask & ZUFS_ATTR_SIZE) &&
		 (set->size != pi->size || !S_ISREG(pi->mode));
	shrink = resize && S_ISREG(pi->mode) && set->size < pi->size;
	zj_begin(sb, ctx);
	zj_log(pi, ZJ_INODE);
	if (shrink) {
		/* The shrink zeroes the new tail and frees blocks, which no
		 * undo could give back: the op commits with the new size and
		 * an intent, and a crash before zp_truncate() is done has the
		 * next mount do it again. */
		zj_intent(ZPMFS_INTENT_TRUNCATE, ino, set->size, 0);
		pi->size = set->size;
	} else if (resize) {
		err = setattr_size(sb, ctx, pi, set->size);
		if (err)
			goto out_commit;
	}
	if (resize)
		/* like ext4: a size change moves mtime unless told the time */
		zp_touch(pi, ctx, !(mask & ZUFS_ATTR_MTIME), false);
	setattr_apply(pi, mask, set);
	if (!(mask & ZUFS_ATTR_CTIME))
		zp_touch(pi, ctx, false, true);
	pi_persist(pi);
	zj_commit();
	if (shrink)
		zp_shrink_finish(sb, ctx, pi);
	zj_intent_done();
	zp_fill_attr(sb, ino, attr);
	goto out_unlock;
out_commit:
	zj_commit();
out_unlock:
	pthread_rwlock_unlock(&zi->lock);
	return err;
}

int zp_evict(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino)
{
	struct zinode *zi = zp_zi_live(sb, ino);
	bool freed = false;

	(void)ctx;
	if (!zi)
		return 0;	/* already gone: evict is idempotent */
	pthread_rwlock_wrlock(&zi->lock);
	if (!zp_pi(sb, ino)->nlink && zp_pi(sb, ino)->mode && !sb->rdonly &&
	    ino != ZPMFS_ROOT_INO) {
		zp_inode_free_all(sb, ino);
		freed = true;
	}
	pthread_rwlock_unlock(&zi->lock);
	if (freed)
		zp_ifree(sb, ino);
	return 0;
}

int zp_symlink_set(struct zus_sb *sb, const struct zus_ctx *ctx,
		   struct zpmfs_inode *pi, const char *target, size_t len)
{
	uint64_t blk;
	int64_t n;
	bool new;

	if (!len || len > ZUFS_SYMLINK_MAX)
		return len ? -ENAMETOOLONG : -ENOENT;
	if (len <= ZPMFS_INLINE_MAX) {
		pmem_memcpy_persist(pi->inline_data, target, len);
	} else {
		n = zp_bmap_alloc_run(sb, ctx, pi, 0, 1, &blk, &new);
		if (n < 0)
			return (int)n;
		pmem_memcpy_persist(zp_block(sb, blk), target, len);
	}
	pi->size = len;
	return 0;
}

ssize_t zp_readlink(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, char *buf, size_t size)
{
	struct zinode *zi = zp_zi_live(sb, ino);
	struct zpmfs_inode *pi;
	ssize_t ret;

	(void)ctx;
	if (!zi)
		return -ENOENT;
	pi = zp_pi(sb, ino);
	pthread_rwlock_rdlock(&zi->lock);
	if (!S_ISLNK(pi->mode)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = pi->size < size ? pi->size : size;
	if (pi->size <= ZPMFS_INLINE_MAX) {
		memcpy(buf, pi->inline_data, ret);
	} else {
		uint64_t blk = zp_bmap_get(sb, pi, 0);

		if (!blk) {
			ret = -EIO;
			goto out_unlock;
		}
		memcpy(buf, zp_block(sb, blk), ret);
	}
out_unlock:
	pthread_rwlock_unlock(&zi->lock);
	return ret;
}
