// SPDX-License-Identifier: BSD-3-Clause
/*
 * zeroer.c - zeroing free blocks ahead of the allocator, off the caller's
 * time.
 *
 * A new block must read as zeros before it is linked into a file, or a
 * crash (or a short copy) would show a previous owner's data.  Zeroing it
 * inside get_blocks puts a 4 KiB non-temporal fill on every allocating
 * write.  Instead one thread per mounted superblock keeps the free blocks
 * of a window ahead of each group's allocation hint zeroed, and the
 * allocator skips the fill for blocks it finds promised.
 *
 * The promise is a bit in the group's DRAM window map: set means "free in
 * the pmem bitmap and all zeros on pmem, persisted".  Only the zeroer sets
 * bits, under the group lock, for blocks it zeroed while the allocator was
 * kept off them (zbusy); the allocator clears the bits of every block it
 * hands out, under the same lock.  Freeing never needs to look: a block
 * is promised only while free, and a freed block lost its bit when it was
 * taken.  The map lives in DRAM, so a crash loses nothing but work.
 */
#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "zpmfs.h"

#define ZERO_BATCH	16	/* blocks per fill: bounds an allocator's wait */

struct zp_zeroer {
	struct zus_sb	*sb;
	sem_t		kick;		/* posted when a group wants a refill */
	pthread_t	thread;
	bool		running;	/* thread created, not yet joined */
	_Atomic bool	stop;
	_Atomic uint64_t zeroed;	/* blocks zeroed ahead */
	_Atomic uint64_t used;		/* ... and handed out promised */
};

static bool promised(const struct zgroup *g, uint64_t b)
{
	return b >= g->zbase && b - g->zbase < ZP_ZERO_WINDOW &&
	       zp_bit_test(g->zmap, b - g->zbase);
}

bool zp_zero_busy(const struct zgroup *g, uint64_t b, uint64_t n)
{
	return g->zbusy_end && b < g->zbusy_end && g->zbusy < b + n;
}

static void kick(struct zus_sb *sb, struct zgroup *g)
{
	if (g->zkick || !sb->zeroer)
		return;
	g->zkick = true;
	sem_post(&sb->zeroer->kick);
}

bool zp_zero_take(struct zus_sb *sb, struct zgroup *g, uint64_t b,
		  uint64_t n)
{
	uint64_t lo = b > g->zbase ? b : g->zbase;
	uint64_t hi = b + n < g->zbase + ZP_ZERO_WINDOW ?
		      b + n : g->zbase + ZP_ZERO_WINDOW;
	bool all = lo == b && hi == b + n;
	uint64_t i;

	for (i = lo; i < hi; i++) {
		if (!promised(g, i))
			all = false;
		else
			zp_bit_assign(g->zmap, i - g->zbase, false);
	}
	if (sb->zeroer && all)
		atomic_fetch_add(&sb->zeroer->used, n);
	/* refill when the hint has eaten into the window, or ran past it */
	if (!all || g->next < g->zbase ||
	    g->next - g->zbase >= ZP_ZERO_WINDOW / 4)
		kick(sb, g);
	return all;
}

/* Slide the window so it starts at the hint, keeping the promises that
 * stay inside it. */
static void window_move(struct zgroup *g)
{
	uint64_t base = g->next & ~63ULL, shift;

	if (base == g->zbase)
		return;
	if (base < g->zbase || base - g->zbase >= ZP_ZERO_WINDOW) {
		memset(g->zmap, 0, sizeof(g->zmap));
		g->zbase = base;
		return;
	}
	shift = (base - g->zbase) / 64;
	memmove(g->zmap, g->zmap + shift,
		(ZP_ZERO_WINDOW / 64 - shift) * sizeof(g->zmap[0]));
	memset(g->zmap + ZP_ZERO_WINDOW / 64 - shift, 0,
	       shift * sizeof(g->zmap[0]));
	g->zbase = base;
}

/* First run (at most ZERO_BATCH) of free, unpromised blocks in the window
 * from b on; its length, 0 if none */
static uint64_t next_dirty(struct zus_sb *sb, const struct zgroup *g,
			   uint64_t b, uint64_t *start)
{
	uint64_t end = g->zbase + ZP_ZERO_WINDOW, n = 0;

	if (end > g->end)
		end = g->end;
	for (; b < end; b++) {
		bool dirty = !zp_bit_test(sb->bitmap, b) && !promised(g, b);

		if (dirty && !n++)
			*start = b;
		else if (!dirty && n)
			break;
		if (n == ZERO_BATCH)
			break;
	}
	return n;
}

/*
 * A block that already reads as zeros is only written back: that keeps a
 * sparse image file (FUSE bridge) from being filled in, and still makes
 * sure no dirty cache line of an older owner's mmap stores stands between
 * those zeros and the media.
 */
static void zero_blocks(struct zus_sb *sb, uint64_t b, uint64_t n)
{
	for (; n; n--, b++) {
		const uint64_t *p = zp_block(sb, b);
		unsigned int i;

		for (i = 0; i < ZPMFS_BLOCK / sizeof(*p) && !p[i]; i++)
			;
		if (i == ZPMFS_BLOCK / sizeof(*p))
			pmem_persist(p, ZPMFS_BLOCK);
		else
			pmem_memset_persist(zp_block(sb, b), 0, ZPMFS_BLOCK);
	}
}

static void refill(struct zp_zeroer *z, struct zgroup *g)
{
	struct zus_sb *sb = z->sb;
	uint64_t b = 0, n, i, from;

	pthread_mutex_lock(&g->lock);
	if (!g->zkick)
		goto out_unlock;
	g->zkick = false;
	window_move(g);
	from = g->zbase;
	while (!atomic_load(&z->stop) &&
	       (n = next_dirty(sb, g, from, &b)) != 0) {
		g->zbusy = b;
		g->zbusy_end = b + n;
		pthread_mutex_unlock(&g->lock);
		zero_blocks(sb, b, n);
		pthread_mutex_lock(&g->lock);
		/* the window only moves here, so b is still inside it */
		for (i = b - g->zbase; i < b - g->zbase + n; i++)
			zp_bit_assign(g->zmap, i, true);
		g->zbusy = g->zbusy_end = 0;
		pthread_cond_broadcast(&g->zdone);
		atomic_fetch_add(&z->zeroed, n);
		from = b + n;
	}
out_unlock:
	pthread_mutex_unlock(&g->lock);
}

static void *zeroer_main(void *arg)
{
	struct zp_zeroer *z = arg;
	unsigned int i;

	while (!atomic_load(&z->stop)) {
		if (sem_wait(&z->kick) && errno == EINTR)
			continue;
		for (i = 0; i < z->sb->ngroups && !atomic_load(&z->stop); i++)
			refill(z, &z->sb->groups[i]);
	}
	return NULL;
}

int zp_zeroer_init(struct zus_sb *sb)
{
	struct zp_zeroer *z = calloc(1, sizeof(*z));

	if (!z)
		return -ENOMEM;
	z->sb = sb;
	if (sem_init(&z->kick, 0, 0)) {
		free(z);
		return -errno;
	}
	sb->zeroer = z;
	return 0;
}

int zp_zeroer_start(struct zus_sb *sb)
{
	struct zp_zeroer *z = sb->zeroer;
	int err;

	if (!z)
		return 0;
	if (z->running) {
		if (!atomic_load(&z->stop))
			return 0;
		zp_zeroer_stop(sb);	/* paused by an error: reap it */
	}
	atomic_store(&z->stop, false);
	err = pthread_create(&z->thread, NULL, zeroer_main, z);
	if (err)
		return -err;
	z->running = true;
	return 0;
}

void zp_zeroer_pause(struct zus_sb *sb)
{
	struct zp_zeroer *z = sb->zeroer;

	if (!z || !z->running)
		return;
	atomic_store(&z->stop, true);
	sem_post(&z->kick);
}

void zp_zeroer_stop(struct zus_sb *sb)
{
	struct zp_zeroer *z = sb->zeroer;

	if (!z || !z->running)
		return;
	zp_zeroer_pause(sb);
	pthread_join(z->thread, NULL);
	z->running = false;
}

void zp_zeroer_fini(struct zus_sb *sb)
{
	struct zp_zeroer *z = sb->zeroer;

	if (!z)
		return;
	zp_zeroer_stop(sb);
	if (sb->verbose)
		zp_log(sb, "zeroed %lu free blocks ahead, %lu of them used",
		       (unsigned long)atomic_load(&z->zeroed),
		       (unsigned long)atomic_load(&z->used));
	sem_destroy(&z->kick);
	free(z);
	sb->zeroer = NULL;
}
