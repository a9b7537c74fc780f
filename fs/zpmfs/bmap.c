// SPDX-License-Identifier: BSD-3-Clause
/*
 * bmap.c - the file block map: a radix tree of 512-way nodes on pmem.
 *
 * Pmem is byte addressable, so the tree is its own fast index: a lookup is
 * height (<= 4) dependent loads, the same cost as a DRAM cache would have,
 * with nothing to keep coherent.  All callers hold the inode's lock (read
 * for lookups, write for changes).
 *
 * Ordering rules (what a crash may leave behind):
 *  - a block is zeroed and persisted before the pointer that maps it is
 *    stored, so a file never maps stale data;
 *  - a pointer is cleared and persisted before its block goes back to the
 *    allocator, so a file never maps a block someone else owns.
 *  The worst a crash does here is leak blocks; fsck finds them.
 */
#include <errno.h>
#include <string.h>

#include "zpmfs.h"
#include "journal.h"

#define NODE_MASK	(ZPMFS_MAP_FANOUT - 1)

static uint64_t span_of(unsigned int level)
{
	return 1ULL << (ZPMFS_MAP_SHIFT * level);
}

/* Blocks a tree of this height can map (a corrupt height maps nothing) */
static uint64_t capacity(unsigned int height)
{
	return height > ZPMFS_MAP_MAX_HEIGHT ? 0 : span_of(height);
}

static uint64_t *node_of(struct zus_sb *sb, uint64_t blk)
{
	return zp_block(sb, blk);
}

static void pi_persist(struct zpmfs_inode *pi)
{
	pmem_persist(pi, offsetof(struct zpmfs_inode, reserved));
}

uint64_t zp_bmap_get(struct zus_sb *sb, struct zpmfs_inode *pi, uint64_t fb)
{
	unsigned int level = pi->map_height;
	uint64_t blk = pi->map_root;

	if (fb >= capacity(level))
		return 0;
	for (;;) {
		if (blk && !zp_blk_ok(sb, blk)) {
			zp_error(sb, "block map points at block %lu",
				 (unsigned long)blk);
			return 0;	/* read as a hole, never dereference */
		}
		if (!level || !blk)
			return blk;
		level--;
		blk = node_of(sb, blk)[(fb >> (ZPMFS_MAP_SHIFT * level)) &
				       NODE_MASK];
	}
}

/*
 * Grow the tree until fb fits: the old root becomes child 0 of a new one.
 * map_root and map_height are two words: inside an op the inode's undo
 * record covers both, so a crash between them never reads the old root
 * (a data block, for height 0) as a map node.
 */
static int grow(struct zus_sb *sb, const struct zus_ctx *ctx,
		struct zpmfs_inode *pi, uint64_t fb)
{
	if (fb < capacity(pi->map_height))
		return 0;
	zj_log(pi, ZJ_INODE);
	while (fb >= capacity(pi->map_height)) {
		uint64_t node;
		int64_t n;

		if (pi->map_height >= ZPMFS_MAP_MAX_HEIGHT)
			return -EFBIG;
		if (!pi->map_root) {
			pi->map_height++;
			continue;
		}
		n = zp_balloc(sb, ctx, pi->map_root, 1, &node);
		if (n < 0)
			return (int)n;
		pmem_store64(&node_of(sb, node)[0], pi->map_root);
		pi->map_root = node;
		pi->map_height++;
		pi->blocks++;
		pi_persist(pi);
	}
	return 0;
}

/*
 * The leaf slot of fb, allocating the nodes on the way; every slot stored
 * into is logged first (an op's new node needs no undo, but telling it
 * apart costs more than the record).
 */
static int walk(struct zus_sb *sb, const struct zus_ctx *ctx,
		struct zpmfs_inode *pi, uint64_t fb, uint64_t goal,
		uint64_t **slotp)
{
	uint64_t *slot = &pi->map_root;
	unsigned int level;
	int err;

	err = grow(sb, ctx, pi, fb);
	if (err)
		return err;
	for (level = pi->map_height; level; level--) {
		if (*slot && !zp_blk_ok(sb, *slot)) {
			zp_error(sb, "block map node %lu out of range",
				 (unsigned long)*slot);
			return -EIO;
		}
		if (!*slot) {
			uint64_t node;
			int64_t n = zp_balloc(sb, ctx, goal, 1, &node);

			if (n < 0)
				return (int)n;
			/* node is zeroed and persisted by the allocator */
			zj_log(slot, sizeof(*slot));
			pmem_store64(slot, node);
			pi->blocks++;
		}
		slot = &node_of(sb, *slot)[(fb >> (ZPMFS_MAP_SHIFT *
						   (level - 1))) & NODE_MASK];
	}
	*slotp = slot;
	return 0;
}

int zp_bmap_set(struct zus_sb *sb, const struct zus_ctx *ctx,
		struct zpmfs_inode *pi, uint64_t fb, uint64_t blk)
{
	uint64_t *slot;
	int err = walk(sb, ctx, pi, fb, blk, &slot);

	if (err)
		return err;
	zj_log(slot, sizeof(*slot));
	pmem_store64(slot, blk);
	return 0;
}

/* Frees collected in runs, so a big truncate takes few allocator locks */
struct free_batch {
	uint64_t start;
	uint64_t count;
};

static void batch_add(struct zus_sb *sb, struct free_batch *fb, uint64_t blk)
{
	if (fb->count && fb->start + fb->count == blk) {
		fb->count++;
		return;
	}
	if (fb->count)
		zj_bfree(sb, fb->start, fb->count);
	fb->start = blk;
	fb->count = 1;
}

static void batch_flush(struct zus_sb *sb, struct free_batch *fb)
{
	if (fb->count)
		zj_bfree(sb, fb->start, fb->count);
	fb->count = 0;
}

static void punch_tree(struct zus_sb *sb, struct zpmfs_inode *pi,
		       uint64_t *slot, unsigned int level, uint64_t base,
		       uint64_t start, uint64_t end, struct free_batch *fb)
{
	uint64_t span = span_of(level), cspan, *node;
	unsigned int i;

	if (!*slot)
		return;
	if (!zp_blk_ok(sb, *slot)) {
		zp_error(sb, "dropping bad block pointer %lu",
			 (unsigned long)*slot);
		zj_log(slot, sizeof(*slot));
		pmem_store64(slot, 0);
		return;
	}
	if (level) {
		node = node_of(sb, *slot);
		cspan = span_of(level - 1);
		i = base < start ? (start - base) / cspan : 0;
		for (; i < ZPMFS_MAP_FANOUT; i++) {
			uint64_t cbase = base + i * cspan;

			if (cbase >= end)
				break;
			punch_tree(sb, pi, &node[i], level - 1, cbase, start,
				   end, fb);
		}
	}
	if (base < start || (end - base) < span)
		return;	/* part of this subtree stays */
	/* Whole subtree gone (its children already cleared): drop it */
	{
		uint64_t blk = *slot;

		/* inside an op (collapse, insert) the undo maps it again:
		 * zj_bfree() frees it at the commit */
		zj_log(slot, sizeof(*slot));
		pmem_store64(slot, 0);
		batch_add(sb, fb, blk);
		pi->blocks--;
	}
}

void zp_bmap_punch(struct zus_sb *sb, struct zpmfs_inode *pi, uint64_t start,
		   uint64_t end)
{
	struct free_batch fb = { 0, 0 };
	uint64_t cap = capacity(pi->map_height);

	if (start >= cap || start >= end)
		return;
	if (end > cap)
		end = cap;
	zj_log(pi, ZJ_INODE);
	punch_tree(sb, pi, &pi->map_root, pi->map_height, 0, start, end, &fb);
	if (!pi->map_root)
		pi->map_height = 0;
	pi_persist(pi);
	batch_flush(sb, &fb);
}

/*
 * First data block (data) or hole (!data) in [from, limit) of the subtree
 * at blk covering file blocks from base on, or UINT64_MAX.  The limit keeps
 * an append from scanning the whole empty rest of the tree.
 */
static uint64_t find_next(struct zus_sb *sb, uint64_t blk, unsigned int level,
			  uint64_t base, uint64_t from, uint64_t limit,
			  bool data)
{
	uint64_t cspan, *node;
	unsigned int i;

	if (!blk || !zp_blk_ok(sb, blk))
		return data ? UINT64_MAX : (base > from ? base : from);
	if (!level)
		return data ? base : UINT64_MAX;
	node = node_of(sb, blk);
	cspan = span_of(level - 1);
	i = base < from ? (from - base) / cspan : 0;
	for (; i < ZPMFS_MAP_FANOUT && base + i * cspan < limit; i++) {
		uint64_t r = find_next(sb, node[i], level - 1, base + i * cspan,
				       from, limit, data);

		if (r != UINT64_MAX)
			return r;
	}
	return UINT64_MAX;
}

uint64_t zp_bmap_next(struct zus_sb *sb, struct zpmfs_inode *pi, uint64_t fb,
		      bool data)
{
	uint64_t cap = capacity(pi->map_height), r;

	if (fb >= cap)
		return data ? UINT64_MAX : fb;
	r = find_next(sb, pi->map_root, pi->map_height, 0, fb, UINT64_MAX,
		      data);
	if (r == UINT64_MAX && !data)
		return cap;
	return r;
}

/*
 * Length of the run of physically contiguous mapped blocks at fb, all
 * shared or all exclusive (a caller treats a run as one).
 */
static uint64_t mapped_run(struct zus_sb *sb, struct zpmfs_inode *pi,
			   uint64_t fb, uint64_t blk, uint64_t count)
{
	bool shared = zp_rc(sb, blk);
	uint64_t n = 1;

	while (n < count && zp_bmap_get(sb, pi, fb + n) == blk + n &&
	       !zp_rc(sb, blk + n) == !shared)
		n++;
	return n;
}

/*
 * Room in the op's journal slot for a run's records: the interior slots a
 * walk may store (one per level) and then the leaf slots themselves.
 */
#define WALK_LOG	(ZPMFS_MAP_MAX_HEIGHT * ZPMFS_LOG_REC_SIZE(8) + \
			 ZPMFS_LOG_REC_SIZE(ZJ_INODE))

/*
 * Make the slots of file blocks [fb, fb + count) that lie in one leaf node
 * ready for stores inside an op: the nodes on the way exist and the slots
 * have one undo record.  Returns how many (the leaf's end, the op's room),
 * -EAGAIN when the op's slot is full: the caller commits and goes on.
 */
int64_t zp_bmap_log_run(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *pi, uint64_t fb, uint64_t count,
			uint64_t goal, uint64_t **slotp)
{
	uint64_t leaf = ZPMFS_MAP_FANOUT - fb % ZPMFS_MAP_FANOUT;
	size_t room = zj_room();
	int err;

	if (room < WALK_LOG + ZPMFS_LOG_REC_SIZE(8))
		return -EAGAIN;
	if (count > leaf)
		count = leaf;
	err = grow(sb, ctx, pi, fb + count - 1);
	if (!err)
		err = walk(sb, ctx, pi, fb, goal, slotp);
	if (err)
		return err;
	room = zj_room();
	if (room != SIZE_MAX && count > room / sizeof(uint64_t))
		count = room / sizeof(uint64_t);
	if (!count)
		return -EAGAIN;
	zj_log(*slotp, count * sizeof(uint64_t));
	return (int64_t)count;
}

/*
 * A write of at least this many blocks at a 2 MiB boundary of its file
 * starts on a 2 MiB boundary of pmem (see zp_balloc_huge); smaller ones
 * are not worth the free space the alignment skips.
 */
#define HUGE_MIN_BLOCKS	64

/* Map a run of new blocks into one leaf node: one undo record for all */
static int64_t map_new(struct zus_sb *sb, const struct zus_ctx *ctx,
		       struct zpmfs_inode *pi, uint64_t fb, uint64_t count,
		       uint64_t goal, uint64_t *blk)
{
	bool huge = !(fb % ZP_HUGE_BLOCKS) && count >= HUGE_MIN_BLOCKS;
	uint64_t *slot, b, i;
	/* map nodes next to the file's others, not on the boundary data wants */
	int64_t n = zp_bmap_log_run(sb, ctx, pi, fb, count,
				    huge ? pi->map_root : goal, &slot);

	if (n <= 0)
		return n;
	if (huge)
		n = zp_balloc_huge(sb, ctx, goal, (uint64_t)n, &b);
	else
		n = zp_balloc(sb, ctx, goal, (uint64_t)n, &b);
	if (n < 0)
		return n;
	for (i = 0; i < (uint64_t)n; i++)
		slot[i] = b + i;
	pmem_persist(slot, (size_t)n * sizeof(uint64_t));
	pi->blocks += (uint64_t)n;
	*blk = b;
	return n;
}

int64_t zp_bmap_alloc_run(struct zus_sb *sb, const struct zus_ctx *ctx,
			  struct zpmfs_inode *pi, uint64_t fb, uint64_t count,
			  uint64_t *blk, bool *new)
{
	uint64_t b = zp_bmap_get(sb, pi, fb), hole, goal = 0;
	int64_t n;

	if (b) {
		*blk = b;
		*new = false;
		return (int64_t)mapped_run(sb, pi, fb, b, count);
	}
	/* the hole's length, but no further than the blocks asked for */
	hole = fb < capacity(pi->map_height) ?
	       find_next(sb, pi->map_root, pi->map_height, 0, fb, fb + count,
			 true) : UINT64_MAX;
	hole = hole == UINT64_MAX || hole - fb > count ? count : hole - fb;
	if (fb) {
		goal = zp_bmap_get(sb, pi, fb - 1);
		goal = goal ? goal + 1 : 0;
	}
	zj_begin_lazy(sb, ctx, pi);
	n = map_new(sb, ctx, pi, fb, hole, goal, &b);
	pi_persist(pi);
	if (n <= 0)
		return n ? n : -ENOSPC;
	*blk = b;
	*new = true;
	return n;
}

int64_t zp_bmap_write_run(struct zus_sb *sb, const struct zus_ctx *ctx,
			  struct zpmfs_inode *pi, uint64_t fb, uint64_t count,
			  uint64_t *blk, bool *new)
{
	int64_t n = zp_bmap_alloc_run(sb, ctx, pi, fb, count, blk, new);
	int err;

	if (n <= 0 || *new || !zp_rc(sb, *blk))
		return n;
	zj_begin_lazy(sb, ctx, pi);
	err = zp_rc_unshare(sb, ctx, pi, fb, *blk, 0, blk);
	return err ? err : 1;
}

int zp_truncate(struct zus_sb *sb, const struct zus_ctx *ctx,
		struct zpmfs_inode *pi, uint64_t size)
{
	uint64_t old = pi->size, off, blk;
	int err;

	if (size > ZPMFS_MAX_BYTES)
		return -EFBIG;
	/* Zero the tail of the block that becomes (or was) the last one, so
	 * bytes past EOF read as zeros once the file grows again. */
	off = size < old ? size : old;
	if (off % ZPMFS_BLOCK) {
		blk = zp_bmap_get(sb, pi, off / ZPMFS_BLOCK);
		if (blk && zp_rc(sb, blk)) {
			err = zp_rc_unshare(sb, ctx, pi, off / ZPMFS_BLOCK,
					    blk, 0, &blk);
			if (err)
				return err;
		}
		if (blk)
			pmem_memset_persist((char *)zp_block(sb, blk) +
					    off % ZPMFS_BLOCK, 0,
					    ZPMFS_BLOCK - off % ZPMFS_BLOCK);
	}
	/* Size first: a crash after it only leaks the blocks past EOF */
	pi->size = size;
	pi_persist(pi);
	if (size < old)
		zp_bmap_punch(sb, pi, ZP_DIV_UP(size, ZPMFS_BLOCK), UINT64_MAX);
	return 0;
}

int64_t zp_bmap_run(struct zus_sb *sb, struct zpmfs_inode *pi, uint64_t fb,
		    uint64_t count, uint64_t *blk)
{
	uint64_t b = zp_bmap_get(sb, pi, fb), next;

	*blk = b;
	if (b)
		return (int64_t)mapped_run(sb, pi, fb, b, count);
	next = zp_bmap_next(sb, pi, fb, true);
	if (next == UINT64_MAX || next - fb > count)
		return (int64_t)count;
	return (int64_t)(next - fb);
}

/* Move the mapping of block from to block to (a hole); no data copied */
int zp_bmap_move(struct zus_sb *sb, const struct zus_ctx *ctx,
		 struct zpmfs_inode *pi, uint64_t from, uint64_t to)
{
	uint64_t blk = zp_bmap_get(sb, pi, from);
	uint64_t *slot = &pi->map_root;
	unsigned int level;
	int err;

	if (!blk)
		return 0;
	err = zp_bmap_set(sb, ctx, pi, to, blk);
	if (err)
		return err;
	/* New place first: a crash shows the block twice, never lost */
	for (level = pi->map_height; level; level--)
		slot = &node_of(sb, *slot)[(from >> (ZPMFS_MAP_SHIFT *
						     (level - 1))) & NODE_MASK];
	zj_log(slot, sizeof(*slot));
	pmem_store64(slot, 0);
	return 0;
}

static uint64_t count_tree(struct zus_sb *sb, uint64_t blk, unsigned int level)
{
	uint64_t n = 1, *node;
	unsigned int i;

	if (!zp_blk_ok(sb, blk))
		return 0;
	if (!level)
		return 1;
	node = node_of(sb, blk);
	for (i = 0; i < ZPMFS_MAP_FANOUT; i++)
		if (node[i])
			n += count_tree(sb, node[i], level - 1);
	return n;
}

uint64_t zp_bmap_count(struct zus_sb *sb, struct zpmfs_inode *pi)
{
	if (!pi->map_root || pi->map_height > ZPMFS_MAP_MAX_HEIGHT)
		return 0;
	return count_tree(sb, pi->map_root, pi->map_height);
}
