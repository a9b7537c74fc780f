// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_reflink.c - shared blocks: reflink, dedupe, copy_file_range sharing,
 * UNSHARE_RANGE and copy-on-write in every path that stores into a block
 * (get_blocks for a write or a mapping, write, truncate, punch, zero).
 *
 * "reflink" checks the semantics one by one; "reflink_random" runs random
 * operations on a few files against a shadow copy of each, reading every
 * file back after each op, while the debug plugin checks the allocator
 * and the reference counts after each op; fsck must be clean at the end.
 */
#include <linux/falloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tests.h"
#include "zpmfs_format.h"

#define BS	4096
#define NF	4
#define FMAX	(256 * 1024)
#define RNOPS	3000

/* Store through get_blocks as zuf does: pmem is T.map at pmem_off */
static int kwrite(uint64_t ino, const char *buf, uint64_t len, uint64_t off)
{
	struct zus_ctx c = th_ctx();
	struct zufs_extent ext[ZUFS_MAX_EXTENTS];
	struct zufs_attr a;
	uint64_t done = 0;

	while (done < len) {
		uint64_t pos = off + done, xo, n;
		int cnt = T.ops->get_blocks(T.sb, &c, ino, pos, len - done,
					    ZUFS_GB_WRITE, off + len, ext,
					    ZUFS_MAX_EXTENTS, &a);
		int i;

		if (cnt <= 0)
			return cnt ? cnt : -EIO;
		for (i = 0; i < cnt && done < len; i++) {
			if (ext[i].flags & (ZUFS_EXT_SHARED | ZUFS_EXT_HOLE))
				return -EIO;	/* the kernel would refuse */
			pos = off + done;
			xo = pos - ext[i].offset;
			if (pos < ext[i].offset ||
			    xo >= ext[i].length)
				return -EIO;
			n = ext[i].length - xo;
			if (n > len - done)
				n = len - done;
			memcpy((char *)T.map + ext[i].pmem_off + xo,
			       buf + done, n);
			done += n;
		}
	}
	return 0;
}

/* Extents of [off, off + len) with flags; returns how many SHARED */
static int shared_exts(uint64_t ino, uint64_t off, uint64_t len,
		       uint32_t gb, int *bad)
{
	struct zus_ctx c = th_ctx();
	struct zufs_extent ext[ZUFS_MAX_EXTENTS];
	struct zufs_attr a;
	int cnt = T.ops->get_blocks(T.sb, &c, ino, off, len, gb, 0, ext,
				    ZUFS_MAX_EXTENTS, &a);
	int i, n = 0;

	*bad = cnt < 0;
	for (i = 0; i < cnt; i++)
		n += !!(ext[i].flags & ZUFS_EXT_SHARED);
	return n;
}

static void fill(char *buf, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (char)(seed * 131 + i * 7 + (i >> 12));
}

static bool same_file(uint64_t ino, const char *want, uint64_t size)
{
	static char back[FMAX + BS];
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;

	if (T.ops->getattr(T.sb, &c, ino, &a) || a.size != size)
		return false;
	if (T.ops->read(T.sb, &c, ino, back, sizeof(back), 0) !=
	    (ssize_t)size)
		return false;
	return !memcmp(back, want, size);
}

static void semantics(void)
{
	static char sbuf[FMAX], dbuf[FMAX], tmp[FMAX], ebuf[FMAX];
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;
	uint64_t s, d, e, done, free0, free1;
	int bad;

	s = th_create(ROOT, "s", S_IFREG | 0644);
	d = th_create(ROOT, "d", S_IFREG | 0644);
	fill(sbuf, FMAX, 1);
	T.ops->write(T.sb, &c, s, sbuf, FMAX, 0, &a);
	free0 = th_bfree();
	CHECK_ERR(T.ops->clone(T.sb, &c, s, 0, d, 0, FMAX, ZUFS_CLONE_REFLINK,
			       &done, &a), 0);
	free1 = th_bfree();
	CHECK(free0 - free1 <= 1, "reflink of 64 blocks took %lu blocks",
	      (unsigned long)(free0 - free1));
	CHECK(a.size == FMAX && a.blocks >= FMAX / 512,
	      "clone size %lu blocks %lu", (unsigned long)a.size,
	      (unsigned long)a.blocks);
	CHECK(shared_exts(d, 0, FMAX, 0, &bad) > 0 && !bad,
	      "read answer flags shared blocks");
	CHECK(shared_exts(s, 0, FMAX, 0, &bad) > 0 && !bad,
	      "the source's blocks are shared too");
	/* CoW through the kernel's path, then through write() */
	memcpy(dbuf, sbuf, FMAX);
	memset(dbuf + 5000, 'x', 100);
	CHECK_ERR(kwrite(d, dbuf + 5000, 100, 5000), 0);
	CHECK(same_file(s, sbuf, FMAX), "source unchanged by dst write");
	CHECK(same_file(d, dbuf, FMAX), "dst has its write and the rest");
	memset(sbuf + 70000, 'y', 9000);
	T.ops->write(T.sb, &c, s, sbuf + 70000, 9000, 70000, &a);
	CHECK(same_file(d, dbuf, FMAX), "dst unchanged by src write");
	CHECK(same_file(s, sbuf, FMAX), "src has its write");
	/* a mapping gets no shared block, holes stay holes */
	CHECK(shared_exts(d, 0, FMAX, ZUFS_GB_MAP, &bad) == 0 && !bad,
	      "GB_MAP answer has no shared extent");
	CHECK(shared_exts(d, 0, FMAX, 0, &bad) == 0,
	      "the mapped range is unshared");
	CHECK(same_file(s, sbuf, FMAX) && same_file(d, dbuf, FMAX),
	      "unshare by mapping keeps the bytes");
	/* dedupe: equal ranges share, different ones answer EBADE */
	e = th_create(ROOT, "e", S_IFREG | 0644);
	T.ops->write(T.sb, &c, e, sbuf, FMAX, 0, &a);
	CHECK_ERR(T.ops->clone(T.sb, &c, s, 0, e, 0, FMAX, ZUFS_CLONE_DEDUPE,
			       &done, &a), 0);
	CHECK(done == FMAX && shared_exts(e, 0, FMAX, 0, &bad) > 0,
	      "dedupe shared %lu bytes", (unsigned long)done);
	CHECK_ERR(T.ops->clone(T.sb, &c, s, 0, d, 0, FMAX, ZUFS_CLONE_DEDUPE,
			       &done, &a), -EBADE);
	CHECK(same_file(d, dbuf, FMAX), "failed dedupe changes nothing");
	/* unshare range */
	CHECK_ERR(T.ops->fallocate(T.sb, &c, e, FALLOC_FL_UNSHARE_RANGE,
				   0, FMAX, &a), 0);
	CHECK(shared_exts(e, 0, FMAX, 0, &bad) == 0 && same_file(e, sbuf, FMAX),
	      "UNSHARE_RANGE copies every shared block");
	/* copy_file_range shares aligned blocks, copies head and tail */
	CHECK_ERR(T.ops->clone(T.sb, &c, s, 100, e, 100, FMAX - 200,
			       ZUFS_CLONE_COPY, &done, &a), 0);
	CHECK(done == FMAX - 200 && shared_exts(e, 0, FMAX, 0, &bad) > 0,
	      "copy shares whole blocks");
	CHECK(same_file(e, sbuf, FMAX), "copied bytes");
	/* truncate and punch inside shared blocks: the other file keeps */
	CHECK_ERR(T.ops->clone(T.sb, &c, s, 0, e, 0, FMAX, ZUFS_CLONE_REFLINK,
			       &done, &a), 0);
	{
		struct zufs_attr set = { .size = 10000 };

		CHECK_ERR(T.ops->setattr(T.sb, &c, e, ZUFS_ATTR_SIZE, &set,
					 &a), 0);
	}
	CHECK(same_file(s, sbuf, FMAX), "truncate of a clone keeps source");
	memcpy(ebuf, sbuf, 10000);
	CHECK_ERR(T.ops->fallocate(T.sb, &c, s, FALLOC_FL_PUNCH_HOLE |
				   FALLOC_FL_KEEP_SIZE, 1000, 3000, &a), 0);
	CHECK(same_file(e, ebuf, 10000), "punch of a source keeps clone");
	memset(sbuf + 1000, 0, 3000);
	CHECK(same_file(s, sbuf, FMAX), "punched bytes read zeros");
	/* a clone of a partial tail block (to src EOF) copies those bytes */
	memcpy(tmp, dbuf, FMAX);
	CHECK_ERR(T.ops->clone(T.sb, &c, e, 0, d, 8192, 10000,
			       ZUFS_CLONE_REFLINK, &done, &a), 0);
	memcpy(tmp + 8192, ebuf, 10000);
	CHECK(same_file(d, tmp, FMAX), "clone to src EOF into the middle");
	/* unaligned reflink and a range past src EOF are refused */
	CHECK_ERR(T.ops->clone(T.sb, &c, s, 100, d, 0, BS,
			       ZUFS_CLONE_REFLINK, &done, &a), -EINVAL);
	CHECK_ERR(T.ops->clone(T.sb, &c, e, 0, d, 0, 5 * BS,
			       ZUFS_CLONE_REFLINK, &done, &a), -EINVAL);
	/* evicting every owner frees the blocks */
	th_unlink(ROOT, "d", false);
	T.ops->evict(T.sb, &c, d);
	th_unlink(ROOT, "e", false);
	T.ops->evict(T.sb, &c, e);
	th_unlink(ROOT, "s", false);
	T.ops->evict(T.sb, &c, s);
}

/*
 * A crash between raising a count and storing the pointer leaves a count
 * too high: fsck must say so, and the next mount must recount it.
 */
static void crash_recount(void)
{
	const struct zpmfs_super *sup = (const void *)((char *)T.map + BS);
	static char buf[4 * BS];
	struct zus_ctx c = th_ctx();
	struct zufs_extent ext[4];
	struct zufs_attr a;
	uint64_t f;
	pid_t pid;

	f = th_create(ROOT, "crash", S_IFREG | 0644);
	fill(buf, sizeof(buf), 9);
	T.ops->write(T.sb, &c, f, buf, sizeof(buf), 0, &a);
	CHECK(T.ops->get_blocks(T.sb, &c, f, 0, BS, 0, 0, ext, 4, &a) == 1,
	      "get_blocks");
	th_umount();
	pid = fork();
	if (pid == 0) {		/* mounts, "crashes" mid-clone */
		uint32_t *rc = (uint32_t *)((char *)T.map +
					    sup->refcount_start * BS);

		if (th_mount("", 0))
			_exit(1);
		rc[ext[0].pmem_off / BS]++;
		msync(T.map, T.size, MS_SYNC);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	CHECK(th_fsck() == 4 && th_fsck_says("reference count") == 1,
	      "fsck finds the count too high");
	CHECK_ERR(th_mount("", 0), 0);	/* the debug plugin checks counts */
	th_umount();
	CHECK(th_fsck() == 0, "fsck clean after the recount");
	CHECK_ERR(th_mount("", 0), 0);
}

void t_reflink(void)
{
	uint64_t free0;

	if (fresh("64M", NULL))
		return;
	th_create(ROOT, "first", S_IFREG | 0644);	/* the dir's block */
	free0 = th_bfree();
	semantics();
	CHECK(th_bfree() == free0, "all blocks back: %lu of %lu",
	      (unsigned long)th_bfree(), (unsigned long)free0);
	crash_recount();
}

struct shadow {
	uint64_t ino;
	uint64_t size;
	char data[FMAX + 2 * BS];
};

static uint64_t rnd(unsigned int *seed, uint64_t n)
{
	return n ? (uint64_t)rand_r(seed) % n : 0;
}

static void sh_write(struct shadow *f, const char *buf, uint64_t len,
		     uint64_t off)
{
	memcpy(f->data + off, buf, len);
	if (off + len > f->size)
		f->size = off + len;
}

/* One random op on the files; the shadow follows what it must do */
static void random_op(unsigned int *seed, struct shadow *fs)
{
	static char buf[FMAX];
	struct zus_ctx c = th_ctx();
	struct shadow *f = &fs[rnd(seed, NF)], *g = &fs[rnd(seed, NF)];
	uint64_t off = rnd(seed, FMAX), len = 1 + rnd(seed, FMAX / 4), done;
	uint64_t boff = rnd(seed, FMAX / BS) * BS;
	uint64_t goff = rnd(seed, FMAX / BS) * BS;
	struct zufs_attr a;
	int err;

	if (off + len > FMAX)
		len = FMAX - off;
	fill(buf, len, (unsigned int)rnd(seed, 1000));
	switch (rnd(seed, 9)) {
	case 0:
		if (T.ops->write(T.sb, &c, f->ino, buf, len, off, &a) ==
		    (ssize_t)len)
			sh_write(f, buf, len, off);
		break;
	case 1:
		if (!kwrite(f->ino, buf, len, off))
			sh_write(f, buf, len, off);
		break;
	case 2:	/* reflink whole blocks, or to src EOF */
	case 3:
		if (g->size <= boff || f == g)
			break;
		len = rnd(seed, 2) ? g->size - boff :
		      (1 + rnd(seed, 16)) * BS;
		if (boff + len > g->size)
			len = g->size - boff;
		if (goff + len > FMAX)
			break;
		err = T.ops->clone(T.sb, &c, g->ino, boff, f->ino, goff, len,
				   ZUFS_CLONE_REFLINK, &done, &a);
		CHECK(!err && done == len, "reflink: %d done %lu of %lu", err,
		      (unsigned long)done, (unsigned long)len);
		if (!err)
			sh_write(f, g->data + boff, len, goff);
		break;
	case 4:	/* copy_file_range at any offsets */
		if (g->size <= off || f == g)
			break;
		if (len > g->size - off)
			len = g->size - off;
		if (goff + (off % BS) + len > FMAX)
			break;
		goff += off % BS * (uint64_t)rnd(seed, 2);
		err = T.ops->clone(T.sb, &c, g->ino, off, f->ino, goff, len,
				   ZUFS_CLONE_COPY, &done, &a);
		CHECK(!err && done == len, "copy: %d", err);
		if (!err)
			sh_write(f, g->data + off, len, goff);
		break;
	case 5:	/* dedupe: equal after a clone, else EBADE */
		if (f == g || boff >= g->size || boff >= f->size)
			break;
		len = BS * (1 + rnd(seed, 8));
		if (boff + len > g->size || boff + len > f->size)
			break;
		err = T.ops->clone(T.sb, &c, g->ino, boff, f->ino, boff, len,
				   ZUFS_CLONE_DEDUPE, &done, &a);
		CHECK(err == (memcmp(f->data + boff, g->data + boff, len) ?
			      -EBADE : 0), "dedupe: %d", err);
		break;
	case 6: {
		struct zufs_attr set = { .size = off };

		if (!T.ops->setattr(T.sb, &c, f->ino, ZUFS_ATTR_SIZE, &set,
				    &a)) {
			if (off > f->size)
				memset(f->data + f->size, 0, off - f->size);
			else
				memset(f->data + off, 0, f->size - off);
			f->size = off;
		}
		break;
	}
	case 7: {	/* unshare changes no byte; punch zeros them */
		bool punch = rnd(seed, 2);

		err = T.ops->fallocate(T.sb, &c, f->ino, FALLOC_FL_KEEP_SIZE |
				       (punch ? FALLOC_FL_PUNCH_HOLE :
					FALLOC_FL_UNSHARE_RANGE), off, len,
				       &a);
		CHECK(!err, "fallocate: %d", err);
		if (!err && punch && off < f->size)
			memset(f->data + off, 0, off + len > f->size ?
			       f->size - off : len);
		break;
	}
	default: {
		int bad;

		shared_exts(f->ino, off, len, ZUFS_GB_MAP, &bad);
		break;
	}
	}
}

void t_reflink_random(void)
{
	static struct shadow fs[NF];
	unsigned int seed, s, i;
	int n, rc;

	for (s = 1; s <= 2; s++) {
		if (fresh("64M", NULL))
			return;
		memset(fs, 0, sizeof(fs));
		for (i = 0; i < NF; i++) {
			char name[8];

			snprintf(name, sizeof(name), "r%u", i);
			fs[i].ino = th_create(ROOT, name, S_IFREG | 0644);
		}
		seed = s;
		for (n = 0; n < RNOPS && !T.failed; n++) {
			random_op(&seed, fs);
			for (i = 0; i < NF; i++)
				CHECK(same_file(fs[i].ino, fs[i].data,
						fs[i].size),
				      "seed %u op %d: file %u differs", s, n,
				      i);
		}
		th_umount();
		rc = th_fsck();
		CHECK(rc == 0, "seed %u: fsck after %d ops: %d", s, n, rc);
		CHECK_ERR(th_mount("", 0), 0);
	}
}
