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
 *
 * Over a device set each member gets its own groups (members start on a
 * bitmap word, devset.h), so a group's blocks sit on one NUMA node.  New
 * blocks come from a group on the writing CPU's node; only when those are
 * full do they come from the nearest other node with space.  A file's
 * contiguity goal is followed only when it is on the writer's node.
 */
#include <errno.h>
#include <stdio.h>
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

/* Distances between NUMA nodes as the kernel reports them (sysfs) */
static void read_distances(struct zus_sb *sb)
{
	unsigned int a, b;

	for (a = 0; a < ZP_MAX_NODES; a++) {
		char path[64];
		FILE *f;

		for (b = 0; b < ZP_MAX_NODES; b++)
			sb->node_dist[a][b] = a == b ? 10 : 20;
		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%u/distance", a);
		f = fopen(path, "r");
		if (!f)
			continue;
		for (b = 0; b < ZP_MAX_NODES; b++) {
			unsigned int d;

			if (fscanf(f, "%u", &d) != 1)
				break;
			sb->node_dist[a][b] = d > 254 ? 254 : d;
		}
		fclose(f);
	}
}

/* The blocks one member of the set holds: [*start, *end) */
static void member_span(struct zus_sb *sb, unsigned int m, uint64_t total,
			uint64_t *start, uint64_t *end)
{
	*start = m ? sb->mtab[m - 1] : 0;
	*end = m < sb->nmtab ? sb->mtab[m] : total;
}

/* Groups of [start, end) on one member, from sb->groups[first] on */
static unsigned int member_groups(struct zus_sb *sb, unsigned int first,
				  unsigned int ng, uint64_t start, uint64_t end)
{
	uint64_t gsize = ((end - start) / ng) & ~63ULL;
	unsigned int i;

	for (i = 0; i < ng; i++) {
		struct zgroup *g = &sb->groups[first + i];

		pthread_mutex_init(&g->lock, NULL);
		pthread_cond_init(&g->zdone, NULL);
		g->start = start + i * gsize;
		g->end = i + 1 == ng ? end : start + (i + 1) * gsize;
		g->base = start;
		g->next = g->start;
		g->zbase = g->start;
		g->node = node_of_blk(sb, g->start);
		atomic_store(&g->nfree, group_count_free(sb, g));
	}
	return ng;
}

int zp_balloc_init(struct zus_sb *sb)
{
	uint64_t total = sb->sbc.total_blocks & ~63ULL;	/* whole words */
	unsigned int nm = sb->nmtab + 1, m, ng = 0, per;
	uint64_t start, end, n;

	/* a set's members share GROUP_MAX; each gets at least one */
	per = GROUP_MAX / nm;
	sb->groups = aligned_alloc(64, GROUP_MAX * sizeof(*sb->groups));
	if (!sb->groups)
		return -ENOMEM;
	memset(sb->groups, 0, GROUP_MAX * sizeof(*sb->groups));
	for (m = 0; m < nm; m++) {
		member_span(sb, m, total, &start, &end);
		if (end <= start)
			continue;
		n = (end - start) / GROUP_MIN_BLOCKS;
		n = n < 1 ? 1 : n > per ? per : n;
		ng += member_groups(sb, ng, (unsigned int)n, start, end);
	}
	sb->ngroups = ng;
	read_distances(sb);
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

/* The group holding blk (the last one for the tail past whole words) */
static unsigned int group_of(struct zus_sb *sb, uint64_t blk)
{
	unsigned int lo = 0, hi = sb->ngroups - 1;

	while (lo < hi) {
		unsigned int mid = (lo + hi + 1) / 2;

		if (sb->groups[mid].start <= blk)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
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

/* How far group g's pmem is from node (0: on it, or nothing is known) */
static unsigned int group_dist(struct zus_sb *sb, const struct zgroup *g,
			       int node)
{
	if (node < 0 || g->node < 0 || g->node == node)
		return 0;
	if (node >= ZP_MAX_NODES || g->node >= ZP_MAX_NODES)
		return 255;
	return sb->node_dist[node][g->node];
}

/* The smallest distance above d of any group from node, or UINT_MAX */
static unsigned int next_dist(struct zus_sb *sb, int node, unsigned int d)
{
	unsigned int i, best = ~0U;

	for (i = 0; i < sb->ngroups; i++) {
		unsigned int x = group_dist(sb, &sb->groups[i], node);

		if (x > d && x < best)
			best = x;
	}
	return best;
}

int64_t zp_balloc(struct zus_sb *sb, const struct zus_ctx *ctx,
		  uint64_t goal, uint64_t want, uint64_t *start)
{
	int node = ctx ? ctx->numa_node : -1;
	unsigned int first, i, d = 0;
	bool zeroed = false;
	uint64_t n = 0;

	if (!want)
		want = 1;
	if (!goal || goal >= sb->sbc.total_blocks ||
	    group_dist(sb, &sb->groups[group_of(sb, goal)], node))
		goal = 0;	/* follow a file only on the writer's node */
	first = goal ? group_of(sb, goal) : cpu_group(sb, ctx);
	/* the writer's node first, then ever farther ones */
	for (; !n && d != ~0U; d = next_dist(sb, node, d)) {
		for (i = 0; i < sb->ngroups && !n; i++) {
			struct zgroup *g = &sb->groups[(first + i) %
						       sb->ngroups];

			if (group_dist(sb, g, node) != d)
				continue;
			/* out-of-group from: group_take starts at its hint */
			n = group_take(sb, g, i || !goal ? UINT64_MAX : goal,
				       want, start, &zeroed);
		}
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

/*
 * First free stretch of ZP_HUGE_BLOCKS in [from, to) that starts on a
 * 2 MiB boundary of its member's pmem (members start 2 MiB aligned, at
 * block base of the set's range), or UINT64_MAX
 */
static uint64_t find_aligned(const uint64_t *map, uint64_t base,
			     uint64_t from, uint64_t to, uint64_t *budget)
{
	uint64_t b = base + ZP_DIV_UP(from - base, ZP_HUGE_BLOCKS) *
			    ZP_HUGE_BLOCKS, w;

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
		b = find_aligned(sb->bitmap, g->base, from, g->end, budget);
		if (b == UINT64_MAX)
			b = find_aligned(sb->bitmap, g->base, g->start, from,
					 budget);
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
	int node = ctx ? ctx->numa_node : -1;
	uint64_t budget = ALIGN_SCAN, n = 0;
	unsigned int first, i;
	bool zeroed = false;

	if (want > ZP_HUGE_BLOCKS)
		want = ZP_HUGE_BLOCKS;
	first = goal && goal < sb->sbc.total_blocks ? group_of(sb, goal) :
		cpu_group(sb, ctx);
	/* only on the writer's node: elsewhere zp_balloc's order decides */
	for (i = 0; i < sb->ngroups && !n && budget; i++) {
		struct zgroup *g = &sb->groups[(first + i) % sb->ngroups];

		if (!group_dist(sb, g, node))
			n = group_take_aligned(sb, g, i ? UINT64_MAX : goal,
					       want, start, &zeroed, &budget);
	}
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
