// SPDX-License-Identifier: BSD-3-Clause
/*
 * balloc.c - the block allocator.
 *
 * The bitmap on pmem (one bit per block of the range, 1 = used) is the
 * truth.  At mount the range is cut into groups of whole bitmap words, each
 * with its own lock, free count and "next" hint in DRAM.  A caller starts
 * in the group of the block it wants to follow (file contiguity) or else in
 * the group of its CPU, so threads on different CPUs rarely share a lock.
 * Allocations are runs: a write of 1 MiB into a hole takes one run of 256
 * blocks when the group has it, so get_blocks answers with few extents.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zpmfs.h"

#define GROUP_MIN_BLOCKS	4096	/* 16 MiB: below that, fewer groups */
#define GROUP_MAX		64

static uint64_t group_count_free(struct zus_sb *sb, struct zgroup *g)
{
	uint64_t w, n = 0;

	for (w = g->start / 64; w < g->end / 64; w++)
		n += 64 - __builtin_popcountll(sb->bitmap[w]);
	return n;
}

/* NUMA node of the t1 member holding blk */
static int node_of_blk(struct zus_sb *sb, uint64_t blk)
{
	uint64_t off = blk << ZPMFS_BLOCK_SHIFT;
	uint32_t i;

	for (i = 0; i < sb->ndevs && i < ZUFS_MAX_DEVS; i++)
		if (off >= sb->devs[i].offset &&
		    off - sb->devs[i].offset < sb->devs[i].size)
			return sb->devs[i].numa_node;
	return -1;
}

int zp_balloc_init(struct zus_sb *sb)
{
	uint64_t total = sb->sbc.total_blocks & ~63ULL;	/* whole words */
	uint64_t ng = total / GROUP_MIN_BLOCKS, gsize, i;

	if (ng < 1)
		ng = 1;
	if (ng > GROUP_MAX)
		ng = GROUP_MAX;
	gsize = (total / ng) & ~63ULL;
	sb->groups = aligned_alloc(64, ng * sizeof(*sb->groups));
	if (!sb->groups)
		return -ENOMEM;
	memset(sb->groups, 0, ng * sizeof(*sb->groups));
	sb->ngroups = ng;
	for (i = 0; i < ng; i++) {
		struct zgroup *g = &sb->groups[i];

		pthread_mutex_init(&g->lock, NULL);
		pthread_cond_init(&g->zdone, NULL);
		g->start = i * gsize;
		g->end = i + 1 == ng ? total : (i + 1) * gsize;
		g->next = g->start;
		g->zbase = g->start;
		g->node = node_of_blk(sb, g->start);
		atomic_store(&g->nfree, group_count_free(sb, g));
	}
	return 0;
}

void zp_balloc_recount(struct zus_sb *sb)
{
	unsigned int i;

	for (i = 0; i < sb->ngroups; i++)
		atomic_store(&sb->groups[i].nfree,
			     group_count_free(sb, &sb->groups[i]));
}

void zp_balloc_fini(struct zus_sb *sb)
{
	unsigned int i;

	for (i = 0; i < sb->ngroups; i++) {
		pthread_cond_destroy(&sb->groups[i].zdone);
		pthread_mutex_destroy(&sb->groups[i].lock);
	}
	free(sb->groups);
	sb->groups = NULL;
}

uint64_t zp_bfree_count(struct zus_sb *sb)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < sb->ngroups; i++)
		n += atomic_load(&sb->groups[i].nfree);
	return n;
}

static unsigned int group_of(struct zus_sb *sb, uint64_t blk)
{
	uint64_t gsize = sb->groups[0].end - sb->groups[0].start;
	uint64_t g = blk / gsize;

	return g >= sb->ngroups ? sb->ngroups - 1 : (unsigned int)g;
}

/* First free block in [from, to) or UINT64_MAX */
static uint64_t find_free(const uint64_t *map, uint64_t from, uint64_t to)
{
	uint64_t b = from;

	while (b < to) {
		uint64_t w = map[b / 64] | ((1ULL << (b % 64)) - 1);

		if (w != ~0ULL) {
			b = (b & ~63ULL) + __builtin_ctzll(~w);
			return b < to ? b : UINT64_MAX;
		}
		b = (b & ~63ULL) + 64;
	}
	return UINT64_MAX;
}

/*
 * Set or clear [start, start + n) and persist the words that changed.
 * Returns how many bits actually changed, so that a double free cannot
 * inflate the free count.
 */
static uint64_t mark_bits(struct zus_sb *sb, uint64_t start, uint64_t n,
			  bool set)
{
	uint64_t b, changed = 0;

	for (b = start; b < start + n; b++) {
		uint64_t *w = &sb->bitmap[b / 64], m = 1ULL << (b % 64);

		if (!!(*w & m) == set)
			continue;
		*w ^= m;
		changed++;
	}
	pmem_persist(&sb->bitmap[start / 64],
		     (ZP_DIV_UP(start + n, 64) - start / 64) * 8);
	return changed;
}

/* Length of the free run at b, at most max, not past end */
static uint64_t run_len(const uint64_t *map, uint64_t b, uint64_t max,
			uint64_t end)
{
	uint64_t n = 1;

	while (n < max && b + n < end && !zp_bit_test(map, b + n))
		n++;
	return n;
}

/*
 * Best run in [from, to): the first one of want blocks, else the longest
 * seen within RUN_SCAN blocks of search, so that big writes get few
 * extents without scanning a whole fragmented group.
 */
#define RUN_SCAN	(64 * 1024)

static uint64_t best_run(const uint64_t *map, uint64_t from, uint64_t to,
			 uint64_t want, uint64_t *start, uint64_t *budget)
{
	uint64_t b = from, best = 0, n;

	while (b < to && *budget) {
		b = find_free(map, b, to);
		if (b == UINT64_MAX)
			break;
		n = run_len(map, b, want, to);
		if (n > best) {
			best = n;
			*start = b;
		}
		if (n == want)
			break;
		*budget = *budget > n + 1 ? *budget - n - 1 : 0;
		b += n + 1;
	}
	return best;
}

/*
 * Mark [b, b + n) of g used, with g's lock held; false (after waiting)
 * when the zeroer was storing into some of it and the search must start
 * over.  *zeroed tells whether the zeroer already zeroed all of it.
 */
static bool claim_run(struct zus_sb *sb, struct zgroup *g, uint64_t b,
		      uint64_t n, bool *zeroed)
{
	if (zp_zero_busy(g, b, n)) {
		pthread_cond_wait(&g->zdone, &g->lock);
		return false;
	}
	/* Bits persisted before anyone links these blocks: a crash can only
	 * leak them, never hand one block to two owners. */
	mark_bits(sb, b, n, true);
	atomic_fetch_sub(&g->nfree, n);
	g->next = b + n < g->end ? b + n : g->start;
	*zeroed = zp_zero_take(sb, g, b, n);
	return true;
}

/*
 * Take a run from one group, starting the search at from; 0 if full.
 * *zeroed tells whether the zeroer already zeroed all of it.
 */
static uint64_t group_take(struct zus_sb *sb, struct zgroup *g, uint64_t from,
			   uint64_t want, uint64_t *start, bool *zeroed)
{
	uint64_t budget, b, b2, n, n2;

	pthread_mutex_lock(&g->lock);
	if (from < g->start || from >= g->end)
		from = g->next;
retry:
	budget = RUN_SCAN;
	b = b2 = 0;
	if (!atomic_load(&g->nfree))
		goto out_none;
	n = best_run(sb->bitmap, from, g->end, want, &b, &budget);
	if (n < want) {
		n2 = best_run(sb->bitmap, g->start, from, want, &b2, &budget);
		if (n2 > n) {
			n = n2;
			b = b2;
		}
	}
	if (!n)
		goto out_none;
	if (!claim_run(sb, g, b, n, zeroed))
		goto retry;
	pthread_mutex_unlock(&g->lock);
	*start = b;
	return n;
out_none:
	pthread_mutex_unlock(&g->lock);
	return 0;
}

/*
 * The caller's home group: spread by CPU, and on the caller's NUMA node
 * when the t1 member of that node is known, so that a ZT thread writes to
 * pmem close to it.
 */
static unsigned int cpu_group(struct zus_sb *sb, const struct zus_ctx *ctx)
{
	unsigned int i, k = 0, pick;

	if (!ctx || ctx->cpu < 0)
		return 0;
	if (ctx->numa_node >= 0)
		for (i = 0; i < sb->ngroups; i++)
			k += sb->groups[i].node == ctx->numa_node;
	if (!k)
		return (unsigned int)ctx->cpu % sb->ngroups;
	/* the (cpu % k)-th group of the caller's node */
	pick = (unsigned int)ctx->cpu % k;
	for (i = 0; i < sb->ngroups; i++)
		if (sb->groups[i].node == ctx->numa_node && !pick--)
			return i;
	return 0;
}

int64_t zp_balloc(struct zus_sb *sb, const struct zus_ctx *ctx,
		  uint64_t goal, uint64_t want, uint64_t *start)
{
	unsigned int first, i;
	bool zeroed = false;
	uint64_t n = 0;

	if (!want)
		want = 1;
	if (goal && goal < sb->sbc.total_blocks)
		first = group_of(sb, goal);
	else
		first = cpu_group(sb, ctx);
	for (i = 0; i < sb->ngroups && !n; i++) {
		struct zgroup *g = &sb->groups[(first + i) % sb->ngroups];

		/* out-of-group from: group_take starts at its next hint */
		n = group_take(sb, g, i || !goal ? UINT64_MAX : goal, want,
			       start, &zeroed);
	}
	if (!n)
		return -ENOSPC;
	/* New blocks read as zeros: zero them before they are mapped, so a
	 * reader (or a crash) never sees a previous owner's data; the zeroer
	 * may have done it already. */
	if (!zeroed)
		pmem_memset_persist(zp_block(sb, *start), 0, n * ZPMFS_BLOCK);
	return (int64_t)n;
}

/*
 * Huge mappings: the kernel maps a file's 2 MiB with one page-table entry
 * when its blocks are one run starting on a 2 MiB boundary of pmem.  So a
 * big write at a 2 MiB boundary of the file starts its run on one, when a
 * whole free aligned stretch is found within a bounded search; else it
 * takes what zp_balloc gives.  The stretch is left free past the run, for
 * the next write of a sequential writer to continue it.
 */
#define ALIGN_SCAN	(256 * 1024)	/* blocks looked at, all groups */

/* First ZP_HUGE_BLOCKS-aligned free stretch in [from, to), or UINT64_MAX */
static uint64_t find_aligned(const uint64_t *map, uint64_t from, uint64_t to,
			     uint64_t *budget)
{
	uint64_t b = ZP_DIV_UP(from, ZP_HUGE_BLOCKS) * ZP_HUGE_BLOCKS, w;

	for (; b + ZP_HUGE_BLOCKS <= to && *budget; b += ZP_HUGE_BLOCKS) {
		for (w = b / 64; w < (b + ZP_HUGE_BLOCKS) / 64 && !map[w]; w++)
			;
		if (w == (b + ZP_HUGE_BLOCKS) / 64)
			return b;
		*budget = *budget > ZP_HUGE_BLOCKS ? *budget - ZP_HUGE_BLOCKS : 0;
	}
	return UINT64_MAX;
}

static uint64_t group_take_aligned(struct zus_sb *sb, struct zgroup *g,
				   uint64_t from, uint64_t want,
				   uint64_t *start, bool *zeroed,
				   uint64_t *budget)
{
	uint64_t b;

	pthread_mutex_lock(&g->lock);
	if (from < g->start || from >= g->end)
		from = g->next;
	do {
		b = UINT64_MAX;
		if (atomic_load(&g->nfree) < ZP_HUGE_BLOCKS)
			break;
		b = find_aligned(sb->bitmap, from, g->end, budget);
		if (b == UINT64_MAX)
			b = find_aligned(sb->bitmap, g->start, from, budget);
	} while (b != UINT64_MAX && !claim_run(sb, g, b, want, zeroed));
	pthread_mutex_unlock(&g->lock);
	if (b == UINT64_MAX)
		return 0;
	*start = b;
	return want;
}

int64_t zp_balloc_huge(struct zus_sb *sb, const struct zus_ctx *ctx,
		       uint64_t goal, uint64_t want, uint64_t *start)
{
	uint64_t budget = ALIGN_SCAN, n = 0;
	unsigned int first, i;
	bool zeroed = false;

	if (want > ZP_HUGE_BLOCKS)
		want = ZP_HUGE_BLOCKS;
	first = goal && goal < sb->sbc.total_blocks ? group_of(sb, goal) :
		cpu_group(sb, ctx);
	for (i = 0; i < sb->ngroups && !n && budget; i++)
		n = group_take_aligned(sb, &sb->groups[(first + i) % sb->ngroups],
				       i ? UINT64_MAX : goal, want, start,
				       &zeroed, &budget);
	if (!n)
		return zp_balloc(sb, ctx, goal, want, start);
	if (!zeroed)
		pmem_memset_persist(zp_block(sb, *start), 0, n * ZPMFS_BLOCK);
	return (int64_t)n;
}

static void bits_free(struct zus_sb *sb, uint64_t start, uint64_t count)
{
	while (count) {
		struct zgroup *g = &sb->groups[group_of(sb, start)];
		uint64_t n = g->end - start, changed;

		if (n > count)
			n = count;
		if (start < sb->sbc.data_start) {
			zp_log(sb, "refusing to free metadata block %lu",
			       (unsigned long)start);
			return;
		}
		pthread_mutex_lock(&g->lock);
		changed = mark_bits(sb, start, n, false);
		if (changed != n)
			zp_log(sb, "freeing %lu free blocks at %lu",
			       (unsigned long)(n - changed),
			       (unsigned long)start);
		atomic_fetch_add(&g->nfree, changed);
		pthread_mutex_unlock(&g->lock);
		start += n;
		count -= n;
	}
}

/*
 * A shared block (refcount.c) loses one owner instead: only the last one
 * gives it back.  The callers' pointers are cleared and persisted already.
 */
void zp_bfree(struct zus_sb *sb, uint64_t start, uint64_t count)
{
	uint64_t i, from = start;

	if (!sb->rc) {
		bits_free(sb, start, count);
		return;
	}
	for (i = start; i < start + count; i++) {
		if (!zp_rc_put(sb, i))
			continue;
		if (i > from)
			bits_free(sb, from, i - from);
		from = i + 1;
	}
	if (start + count > from)
		bits_free(sb, from, start + count - from);
}
