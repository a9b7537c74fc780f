// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_zero.c - the background zeroer: it really zeroes free blocks ahead of
 * the allocator, and no block ever comes out of get_blocks with a previous
 * owner's bytes, whoever zeroed it, while threads allocate, scribble and
 * free as fast as they can.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tests.h"
#include "zpmfs.h"

#define BLK		4096
#define RACERS		4
#define RACE_SECONDS	2

static bool blk_zero(uint64_t blk)
{
	const uint64_t *p = (const uint64_t *)((char *)T.map + blk * BLK);
	unsigned int i;

	for (i = 0; i < BLK / 8; i++)
		if (p[i])
			return false;
	return true;
}

static bool blk_free(uint64_t blk)
{
	return !zp_bit_test(T.sb->bitmap, blk);
}

/* Allocate file block fb of ino; its pmem block number, 0 on error */
static uint64_t alloc_at(const struct zus_ctx *c, uint64_t ino, uint64_t fb,
			 bool *zero)
{
	struct zufs_extent ext[2];
	struct zufs_attr a;
	int n;

	n = T.ops->get_blocks(T.sb, c, ino, fb * BLK, BLK, true,
			      (fb + 1) * BLK, ext, 2, &a);
	if (n != 1)
		return 0;
	*zero = blk_zero(ext[0].pmem_off / BLK);
	return ext[0].pmem_off / BLK;
}

/* Free blocks just past the allocation point, scribbled over while no
 * zeroer runs, read as zeros soon after the zeroer is started and asked */
static void zero_ahead(void)
{
	struct zus_ctx c = th_ctx();
	uint64_t f, b0, b, dirty = 0, left = 0;
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	struct zus_mount_out out;
	bool zero;
	int i;

	if (fresh("64M", NULL))
		return;
	CHECK_ERR(T.ops->remount(T.sb, "nozero_ahead", 0, &out), 0);
	CHECK(strstr(out.options, "nozero_ahead") != NULL, "options '%s'",
	      out.options);
	f = th_create(ROOT, "f", S_IFREG | 0644);
	b0 = alloc_at(&c, f, 0, &zero);
	CHECK(b0 && zero, "first block %lu zero %d", (unsigned long)b0, zero);
	for (b = b0 + 2; b < b0 + 2 + 256; b++) {
		if (!blk_free(b))
			continue;
		memset((char *)T.map + b * BLK, 0xee, BLK);
		dirty++;
	}
	CHECK(dirty > 200, "only %lu free blocks to scribble on",
	      (unsigned long)dirty);
	CHECK_ERR(T.ops->remount(T.sb, "", 0, &out), 0);
	/* the next allocation kicks the zeroer and zeroes its block itself */
	b = alloc_at(&c, f, 1, &zero);
	CHECK(b && zero, "second block %lu zero %d", (unsigned long)b, zero);
	for (i = 0; i < 500; i++) {
		left = 0;
		for (b = b0 + 2; b < b0 + 2 + 256; b++)
			left += blk_free(b) && !blk_zero(b);
		if (!left)
			break;
		nanosleep(&nap, NULL);
	}
	CHECK(!left, "%lu free blocks ahead still dirty after 5 s",
	      (unsigned long)left);
	for (i = 2; i < 64; i++) {
		b = alloc_at(&c, f, (uint64_t)i, &zero);
		if (!b || !zero)
			break;
	}
	CHECK(i == 64, "block %d: %lu zero %d", i, (unsigned long)b, zero);
	/* read-only: no zeroer; and back */
	CHECK_ERR(T.ops->remount(T.sb, "", ZUS_MOUNT_RDONLY, &out), 0);
	CHECK_ERR(T.ops->remount(T.sb, "", 0, &out), 0);
	th_umount();
	CHECK_ERR(th_fsck(), 0);
	CHECK_ERR(th_mount("", 0), 0);
}

struct racer {
	uint64_t ino;
	unsigned int seed;
	unsigned long allocs, stale, clobbered, errors;
};

static bool blk_filled(uint64_t blk, int c)
{
	const unsigned char *p = (const unsigned char *)T.map + blk * BLK;
	unsigned int i;

	for (i = 0; i < BLK; i++)
		if (p[i] != c)
			return false;
	return true;
}

/* Allocate at EOF, insist on zeros, scribble like the kernel's copy would,
 * and now and then free everything by truncating or punching */
static void *racer_main(void *arg)
{
	struct racer *r = arg;
	struct zus_ctx c = th_ctx();
	time_t stop = time(NULL) + RACE_SECONDS;
	int fill = 0x5a + (int)r->seed;
	uint64_t fb = 0, last = 0;

	while (time(NULL) < stop) {
		struct zufs_attr a, s = { 0 };
		uint64_t b;
		bool zero;

		b = alloc_at(&c, r->ino, fb, &zero);
		if (!b) {
			r->errors++;
			break;
		}
		r->allocs++;
		r->stale += !zero;
		/* what the previous round stored is still there */
		r->clobbered += last && !blk_filled(last, fill);
		memset((char *)T.map + b * BLK, fill, BLK);
		last = b;
		fb++;
		if (rand_r(&r->seed) % 64)
			continue;
		last = 0;
		if (rand_r(&r->seed) % 2) {
			s.size = 0;
			if (T.ops->setattr(T.sb, &c, r->ino, ZUFS_ATTR_SIZE, &s,
					   &a))
				r->errors++;
			fb = 0;
		} else if (T.ops->fallocate(T.sb, &c, r->ino,
					    FALLOC_FL_PUNCH_HOLE |
					    FALLOC_FL_KEEP_SIZE, 0,
					    (fb / 2 + 1) * BLK, &a)) {
			r->errors++;
		}
	}
	return NULL;
}

static void zero_race(void)
{
	struct racer r[RACERS];
	pthread_t th[RACERS];
	unsigned long allocs = 0, stale = 0, clobbered = 0, errors = 0;
	char name[16];
	int i;

	if (fresh("32M", NULL))
		return;
	for (i = 0; i < RACERS; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		r[i] = (struct racer){ .ino = th_create(ROOT, name,
							 S_IFREG | 0644),
				       .seed = (unsigned int)i + 1 };
		pthread_create(&th[i], NULL, racer_main, &r[i]);
	}
	for (i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		allocs += r[i].allocs;
		stale += r[i].stale;
		clobbered += r[i].clobbered;
		errors += r[i].errors;
	}
	CHECK(allocs > 1000, "only %lu allocations", allocs);
	CHECK(!stale, "%lu of %lu new blocks were not zero", stale, allocs);
	CHECK(!clobbered, "%lu blocks lost what was stored in them",
	      clobbered);
	CHECK(!errors, "%lu errors", errors);
	th_umount();
	CHECK_ERR(th_fsck(), 0);
	CHECK_ERR(th_mount("", 0), 0);
}

void t_zero(void)
{
	zero_ahead();
	zero_race();
}
