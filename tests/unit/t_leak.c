// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_leak.c - random operations of every kind that allocates or frees, on
 * a few shared names, through the plugin's ops: what the kernel sends
 * (get_blocks for writes with a size_after and for mappings, every
 * fallocate mode including collapse, insert and unshare, copies, reflinks
 * and dedupes, tmpfiles and evicts, xattrs, renames over
 * open files) and FUSE does not.  The debug plugin checks the allocator
 * after each op and aborts naming it; at the end fsck must be clean.
 */
#include <linux/falloc.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"
#include "tests.h"

#define NFILES	6
#define NOPS	20000

static uint64_t rnd(unsigned int *seed, uint64_t n)
{
	return n ? (uint64_t)rand_r(seed) % n : 0;
}

/* an offset: mostly small, sometimes far (tree growth) */
static uint64_t rnd_off(unsigned int *seed)
{
	switch (rnd(seed, 8)) {
	case 0:
		return rnd(seed, 1ULL << 30);
	case 1:
		return rnd(seed, 64) << 21;	/* a node boundary */
	default:
		return rnd(seed, 4 << 20);
	}
}

static void name_of(char *buf, unsigned int i)
{
	snprintf(buf, 8, "f%u", i);
}

/* the inode at name i, created when missing; 0 on failure */
static uint64_t file_at(unsigned int i)
{
	char name[8];
	uint64_t ino;

	name_of(name, i);
	ino = th_lookup(ROOT, name);
	if (!ino)
		ino = th_create(ROOT, name, S_IFREG | 0644);
	return ino;
}

static void one_op(unsigned int *seed, uint64_t *held, unsigned int nheld)
{
	static const uint32_t modes[] = {
		0, FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_ZERO_RANGE, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE,
		FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE,
	};
	struct zus_ctx c = th_ctx();
	struct zufs_extent ext[8];
	struct zus_rename_out ro;
	char buf[3 * 4096], name[8], name2[8];
	unsigned int i = rnd(seed, NFILES);
	uint64_t ino = file_at(i), off = rnd_off(seed), len, done;
	struct zufs_attr a, d;

	if (!ino)
		return;
	len = 1 + rnd(seed, rnd(seed, 2) ? 3 * 4096 : 4 << 20);
	name_of(name, i);
	name_of(name2, rnd(seed, NFILES));
	memset(buf, 'a' + (int)rnd(seed, 26), sizeof(buf));
	switch (rnd(seed, 12)) {
	case 0:
		T.ops->write(T.sb, &c, ino, buf, len % sizeof(buf) + 1, off, &a);
		break;
	case 1:	/* the kernel's write: allocate, size_after inside it */
		T.ops->get_blocks(T.sb, &c, ino, off, len, rnd(seed, 4) ?
				  ZUFS_GB_WRITE : ZUFS_GB_MAP,
				  off + rnd(seed, len + 1), ext, 1 +
				  (unsigned int)rnd(seed, 8), &a);
		break;
	case 2: {
		struct zufs_attr set = { .size = rnd(seed, 2) ? 0 :
					 rnd_off(seed) };

		T.ops->setattr(T.sb, &c, ino, ZUFS_ATTR_SIZE, &set, &a);
		break;
	}
	case 3:
	case 4: {
		uint32_t m = modes[rnd(seed, sizeof(modes) / sizeof(modes[0]))];

		if (m & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) {
			off &= ~4095ULL;
			len = (len + 4095) & ~4095ULL;
		}
		T.ops->fallocate(T.sb, &c, ino, m, off, len, &a);
		break;
	}
	case 5: {	/* copy, reflink or dedupe (shared blocks) */
		static const uint32_t how[] = {
			ZUFS_CLONE_COPY, ZUFS_CLONE_REFLINK, ZUFS_CLONE_DEDUPE,
		};
		uint32_t fl = how[rnd(seed, 3)];
		uint64_t soff = rnd_off(seed);

		if (fl != ZUFS_CLONE_COPY) {
			soff &= ~4095ULL;
			off &= ~4095ULL;
		}
		T.ops->clone(T.sb, &c, file_at(rnd(seed, NFILES)), soff, ino,
			     off, len, fl, &done, &a);
		break;
	}
	case 6:
		if (rnd(seed, 3))
			T.ops->setxattr(T.sb, &c, ino, "user.x", buf,
					rnd(seed, 3000), 0, &a);
		else
			T.ops->setxattr(T.sb, &c, ino, "user.x", NULL, 0, 0,
					&a);
		break;
	case 7:	/* unlink while "open": evicted later */
		if (nheld && !held[i % nheld])
			held[i % nheld] = ino;
		T.ops->unlink(T.sb, &c, ROOT, name, strlen(name), false, &a,
			      &d);
		if (!held[i % nheld] || held[i % nheld] != ino)
			T.ops->evict(T.sb, &c, ino);
		break;
	case 8:	/* rename over a target: the target may die */
		if (nheld && !held[(i + 1) % nheld])
			held[(i + 1) % nheld] = th_lookup(ROOT, name2);
		memset(&ro, 0, sizeof(ro));
		T.ops->rename(T.sb, &c, ROOT, name, strlen(name), ROOT, name2,
			      strlen(name2), 0, &ro);
		if (ro.target_attr.ino && (!nheld ||
		    held[(i + 1) % nheld] != ro.target_attr.ino))
			T.ops->evict(T.sb, &c, ro.target_attr.ino);
		break;
	case 9:
		T.ops->link(T.sb, &c, ino, ROOT, name2, strlen(name2), &a, &d);
		break;
	case 10: {	/* a tmpfile with data, evicted */
		uint64_t t;

		if (T.ops->create(T.sb, &c, ROOT, NULL, 0, S_IFREG | 0600, 0,
				  0, 0, 0, NULL, 0, true, &a, &d))
			break;
		t = a.ino;
		T.ops->write(T.sb, &c, t, buf, sizeof(buf), off, &a);
		T.ops->evict(T.sb, &c, t);
		break;
	}
	default:	/* the "open" inodes are closed */
		for (i = 0; i < nheld; i++) {
			if (held[i])
				T.ops->evict(T.sb, &c, held[i]);
			held[i] = 0;
		}
		break;
	}
}

void t_leak(void)
{
	unsigned int seed, s;
	uint64_t held[3] = { 0 };
	int i, rc;

	for (s = 1; s <= 3; s++) {
		if (fresh("128M", NULL))
			return;
		seed = s;
		for (i = 0; i < NOPS; i++)
			one_op(&seed, held, 3);
		one_op(&seed, held, 0);
		for (i = 0; i < 3; i++)
			if (held[i])
				T.ops->evict(T.sb, NULL, held[i]);
		th_umount();
		rc = th_fsck();
		CHECK(rc == 0, "seed %u: fsck after %d random ops: %d", s,
		      NOPS, rc);
		CHECK_ERR(th_mount("", 0), 0);
	}
}

/*
 * Every other block of [fb, fb + 2 * runs), the last first: that many
 * runs of one block, in the file and on pmem (a punch walks the file up,
 * the allocator handed the blocks out going down).
 */
static void alloc_runs(uint64_t ino, uint64_t fb, unsigned int runs,
		       uint32_t mode)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;
	unsigned int i;

	for (i = runs; i--;)
		CHECK_ERR(T.ops->fallocate(T.sb, &c, ino, mode,
					   (fb + 2 * i) << 12, 4096, &a), 0);
}

/*
 * A collapse unmaps the range it removes and an insert the preallocation
 * past EOF inside one op, whose frees wait for its commit: hundreds of
 * runs, once more than that list held, and the rest leaked.
 */
void t_leak_shift(void)
{
	struct zufs_attr set = { .size = 8 << 20 }, a, d;
	struct zus_ctx c = th_ctx();
	uint64_t ino, before;

	if (fresh("128M", NULL))
		return;
	ino = th_create(ROOT, "f", S_IFREG | 0644);
	CHECK(ino, "create");
	before = th_bfree();
	CHECK_ERR(T.ops->setattr(T.sb, &c, ino, ZUFS_ATTR_SIZE, &set, &a), 0);
	alloc_runs(ino, 256, 300, 0);
	CHECK_ERR(T.ops->fallocate(T.sb, &c, ino, FALLOC_FL_COLLAPSE_RANGE,
				   1 << 20, 600 << 12, &a), 0);
	alloc_runs(ino, 4096, 300, FALLOC_FL_KEEP_SIZE);
	CHECK_ERR(T.ops->fallocate(T.sb, &c, ino, FALLOC_FL_INSERT_RANGE, 0,
				   4096, &a), 0);
	CHECK(a.size == (8 << 20) - (600 << 12) + 4096, "size %llu",
	      (unsigned long long)a.size);
	CHECK_ERR(T.ops->unlink(T.sb, &c, ROOT, "f", 1, false, &a, &d), 0);
	CHECK_ERR(T.ops->evict(T.sb, &c, ino), 0);
	CHECK(th_bfree() == before, "free blocks %llu, before %llu",
	      (unsigned long long)th_bfree(), (unsigned long long)before);
	th_umount();
	CHECK(th_fsck() == 0, "fsck after collapse and insert of many runs");
	CHECK_ERR(th_mount("", 0), 0);
}
