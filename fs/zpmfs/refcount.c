// SPDX-License-Identifier: BSD-3-Clause
/*
 * refcount.c - shared data blocks (reflink): the per-block reference
 * counts on pmem (ZPMFS_FEAT_REFLINK), copy-on-write, and sharing a range
 * of one file's blocks into another (clone, dedupe, copy_file_range).
 *
 * A count is the number of owners beyond the first, so 0 is both "free"
 * and "exclusive" and a table of zeros is valid.  Counts change with
 * atomic compare-and-swap: the owners of one block are different files
 * under different inode locks.  Ordering (what a crash may leave): the
 * count goes up and is persisted before the new pointer is stored; a
 * pointer is cleared and persisted before the count goes down.  So a
 * count is never lower than the pointers it stands for; a higher one (a
 * crash in between) is recomputed by the mount-time reclaim (check.c).
 *
 * A shared block is never written in place: writers (get_blocks for a
 * write or a mapping, write, zeroing) first give the file a copy of its
 * own (zp_rc_unshare).  The kernel never caches or maps shared blocks
 * (ZUFS_EXT_SHARED), so no store can reach one behind our back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zpmfs.h"
#include "journal.h"

int zp_rc_get(struct zus_sb *sb, uint64_t blk)
{
	uint32_t r;

	if (!sb->rc)
		return -EOPNOTSUPP;
	if (!zp_blk_ok(sb, blk))
		return -EIO;
	r = atomic_load(&sb->rc[blk]);
	do {
		if (r == ZPMFS_RC_MAX)
			return -EMLINK;
	} while (!atomic_compare_exchange_weak(&sb->rc[blk], &r, r + 1));
	pmem_persist((const void *)&sb->rc[blk], sizeof(uint32_t));
	return 0;
}

bool zp_rc_put(struct zus_sb *sb, uint64_t blk)
{
	uint32_t r;

	if (!sb->rc || !zp_blk_ok(sb, blk))
		return false;
	r = atomic_load(&sb->rc[blk]);
	do {
		if (!r)
			return false;
	} while (!atomic_compare_exchange_weak(&sb->rc[blk], &r, r - 1));
	pmem_persist((const void *)&sb->rc[blk], sizeof(uint32_t));
	return true;
}

int zp_rc_unshare(struct zus_sb *sb, const struct zus_ctx *ctx,
		  struct zpmfs_inode *pi, uint64_t fb, uint64_t blk,
		  uint64_t goal, uint64_t *nblk)
{
	uint64_t nb;
	int64_t n = zp_balloc(sb, ctx, goal ? goal : blk, 1, &nb);
	int err;

	if (n < 0)
		return (int)n;
	/* the whole old block, so that a short store by the kernel into the
	 * copy still leaves the bytes around it right */
	pmem_memcpy_persist(zp_block(sb, nb), zp_block(sb, blk), ZPMFS_BLOCK);
	err = zp_bmap_set(sb, ctx, pi, fb, nb);
	if (err) {
		zp_bfree(sb, nb, 1);
		return err;
	}
	/* the copy is mapped and persisted: only now one owner less (at
	 * the commit, inside an op: its undo maps blk again) */
	zj_bfree(sb, blk, 1);
	*nblk = nb;
	return 0;
}

int zp_rc_unshare_range(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *pi, uint64_t fb, uint64_t end)
{
	uint64_t goal = 0, nb;
	int err;

	if (!sb->rc)
		return 0;
	for (fb = zp_bmap_next(sb, pi, fb, true); fb < end;
	     fb = zp_bmap_next(sb, pi, fb + 1, true)) {
		uint64_t blk = zp_bmap_get(sb, pi, fb);

		if (!blk || !zp_rc(sb, blk))
			continue;
		err = zp_rc_unshare(sb, ctx, pi, fb, blk, goal, &nb);
		if (err)
			return err;
		goal = nb + 1;
	}
	return 0;
}

/* dst block dfb becomes a copy of src block s (saturated count) */
static int copy_block(struct zus_sb *sb, const struct zus_ctx *ctx,
		      struct zpmfs_inode *dpi, uint64_t dfb, uint64_t s)
{
	ssize_t n = zp_write_locked(sb, ctx, dpi, zp_block(sb, s),
				    ZPMFS_BLOCK, dfb << ZPMFS_BLOCK_SHIFT);

	if (n < 0)
		return (int)n;
	return n == ZPMFS_BLOCK ? 0 : -ENOSPC;
}

/* Make file block dfb of dst the block that backs sfb of src */
static int share_block(struct zus_sb *sb, const struct zus_ctx *ctx,
		       struct zpmfs_inode *spi, uint64_t sfb,
		       struct zpmfs_inode *dpi, uint64_t dfb)
{
	uint64_t s = zp_bmap_get(sb, spi, sfb), d = zp_bmap_get(sb, dpi, dfb);
	int err;

	if (s == d)
		return 0;
	if (!s) {
		zp_bmap_punch(sb, dpi, dfb, dfb + 1);
		return 0;
	}
	err = zp_rc_get(sb, s);
	if (err == -EMLINK)
		return copy_block(sb, ctx, dpi, dfb, s);
	if (err)
		return err;
	/* counted and persisted before the pointer that needs it */
	err = zp_bmap_set(sb, ctx, dpi, dfb, s);
	if (err) {
		zp_rc_put(sb, s);	/* src still owns it: never the last */
		return err;
	}
	if (d)
		zj_bfree(sb, d, 1);	/* its pointer is overwritten */
	else
		dpi->blocks++;
	return 0;
}

/*
 * Inside the clone's op: the destination slots of each leaf get one undo
 * record ahead of the stores; a range bigger than the op's slot holds goes
 * on in a new op (a prefix of the clone per op, README.md).
 */
int zp_rc_share_range(struct zus_sb *sb, const struct zus_ctx *ctx,
		      struct zpmfs_inode *spi, uint64_t sfb,
		      struct zpmfs_inode *dpi, uint64_t dfb, uint64_t count)
{
	uint64_t i = 0, j, *slot;
	int err = 0;

	while (i < count && !err) {
		int64_t n = zp_bmap_log_run(sb, ctx, dpi, dfb + i, count - i,
					    0, &slot);

		if (n == -EAGAIN) {
			pmem_persist(dpi, ZJ_INODE);
			zj_commit();
			zj_begin(sb, ctx);
			zj_log(dpi, ZJ_INODE);
			continue;
		}
		if (n < 0)
			return (int)n;
		for (j = 0; j < (uint64_t)n && !err; j++)
			err = share_block(sb, ctx, spi, sfb + i + j, dpi,
					  dfb + i + j);
		i += (uint64_t)n;
	}
	pmem_persist(dpi, ZJ_INODE);
	return err;
}
