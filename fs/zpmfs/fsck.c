// SPDX-License-Identifier: BSD-3-Clause
/*
 * fsck.zpmfs - read-only consistency check of a zpmfs image or device.
 *
 * Checks the device table, both superblocks, every inode's block map
 * (range, bitmap, no block owned twice), every directory block (slot map,
 * records, inode types), link counts against the dentries that name each
 * inode, directory parents, and the bitmap against what is reachable.
 *
 * Exit status: 0 clean; 1 only what a crash may leave and mount repairs or
 * tolerates (leaked blocks, orphan inodes, lost inodes); 4 inconsistencies;
 * 8 usage or I/O error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zpmfs_format.h"

struct fsck {
	const char *dev;
	const char *base;
	uint64_t size;
	struct zpmfs_super s;
	const struct zpmfs_inode *itable;
	const uint64_t *bitmap;
	uint64_t *seen;		/* blocks reached from inodes */
	uint32_t *owners;	/* data blocks: file map pointers to each */
	const uint32_t *rc;	/* refcount table (ZPMFS_FEAT_REFLINK) */
	uint32_t *refs;		/* dentries naming each inode */
	uint32_t *subdirs;	/* subdirectories of each dir */
	uint64_t *dparent;	/* dir that names each dir */
	unsigned int errors, warnings, max_msgs;
	bool verbose;
};

static void report(struct fsck *f, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct fsck *f, bool error, const char *fmt, ...)
{
	va_list ap;

	if (error)
		f->errors++;
	else
		f->warnings++;
	if (f->errors + f->warnings > f->max_msgs && !f->verbose)
		return;
	fprintf(stderr, "%s: ", error ? "error" : "warning");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool bit(const uint64_t *m, uint64_t b)
{
	return m[b / 64] & (1ULL << (b % 64));
}

static const void *blk(struct fsck *f, uint64_t b)
{
	return f->base + b * ZPMFS_BLOCK;
}

/* Claim a block for an inode; false if it must not be followed */
static bool claim(struct fsck *f, uint64_t ino, uint64_t b, const char *what)
{
	if (b < f->s.data_start || b >= f->s.total_blocks) {
		report(f, true, "inode %lu: %s block %lu out of range",
		       (unsigned long)ino, what, (unsigned long)b);
		return false;
	}
	if (bit(f->seen, b)) {
		report(f, true, "inode %lu: %s block %lu used twice",
		       (unsigned long)ino, what, (unsigned long)b);
		return false;
	}
	f->seen[b / 64] |= 1ULL << (b % 64);
	if (!bit(f->bitmap, b))
		report(f, true, "inode %lu: %s block %lu marked free",
		       (unsigned long)ino, what, (unsigned long)b);
	return true;
}

/*
 * A data block of a regular file may have several owners (reflink): each
 * pointer is counted, check_refcounts() compares with the table.
 */
static bool claim_data(struct fsck *f, uint64_t ino, uint64_t b)
{
	if (b >= f->s.data_start && b < f->s.total_blocks && f->owners[b]) {
		if (f->owners[b] != UINT32_MAX)
			f->owners[b]++;
		return true;
	}
	if (!claim(f, ino, b, "data"))
		return false;
	f->owners[b] = 1;
	return true;
}

static uint64_t walk_map(struct fsck *f, uint64_t ino, uint64_t b,
			 unsigned int level)
{
	const uint64_t *node;
	uint64_t n = 1;
	unsigned int i;

	if (!level && S_ISREG(f->itable[ino - 1].mode)) {
		if (!claim_data(f, ino, b))
			return 0;
		return 1;
	}
	if (!claim(f, ino, b, level ? "map node" : "data"))
		return 0;
	if (!level)
		return 1;
	node = blk(f, b);
	for (i = 0; i < ZPMFS_MAP_FANOUT; i++)
		if (node[i])
			n += walk_map(f, ino, node[i], level - 1);
	return n;
}

static uint64_t map_get(struct fsck *f, const struct zpmfs_inode *pi,
			uint64_t fb)
{
	unsigned int level = pi->map_height;
	uint64_t b = pi->map_root;

	if (level > ZPMFS_MAP_MAX_HEIGHT ||
	    fb >= (1ULL << (ZPMFS_MAP_SHIFT * level)))
		return 0;
	while (level-- && b) {
		if (b >= f->s.total_blocks)
			return 0;
		b = ((const uint64_t *)blk(f, b))[(fb >> (ZPMFS_MAP_SHIFT *
							  level)) & 511];
	}
	return b < f->s.total_blocks ? b : 0;
}

static void check_dir_block(struct fsck *f, uint64_t dir, uint64_t b)
{
	const uint8_t *map = blk(f, b);
	unsigned int i = ZPMFS_SLOT_FIRST;

	while (i < ZPMFS_SLOTS_PER_BLOCK) {
		const struct zpmfs_dentry *d;
		const struct zpmfs_inode *ci;
		uint8_t m = map[i];

		if (!m || m == ZPMFS_SLOT_CONT || m > 9 ||
		    i + m > ZPMFS_SLOTS_PER_BLOCK) {
			i++;
			continue;
		}
		d = (const void *)(map + i * ZPMFS_SLOT_SIZE);
		if (!d->name_len || ZPMFS_DENTRY_SLOTS(d->name_len) != m ||
		    memchr(d->name, '/', d->name_len)) {
			report(f, true, "dir %lu: bad record at block %lu slot %u",
			       (unsigned long)dir, (unsigned long)b, i);
		} else if (!d->ino || d->ino > f->s.inode_count ||
			   !f->itable[d->ino - 1].mode) {
			report(f, true, "dir %lu: '%.*s' names free inode %lu",
			       (unsigned long)dir, d->name_len, d->name,
			       (unsigned long)d->ino);
		} else {
			ci = &f->itable[d->ino - 1];
			f->refs[d->ino - 1]++;
			if (d->type != ((ci->mode & S_IFMT) >> 12))
				report(f, true, "dir %lu: '%.*s' type %u, inode mode %o",
				       (unsigned long)dir, d->name_len,
				       d->name, d->type, ci->mode);
			if (S_ISDIR(ci->mode)) {
				f->subdirs[dir - 1]++;
				f->dparent[d->ino - 1] = dir;
			}
		}
		i += m;
	}
}

static void check_inode(struct fsck *f, uint64_t ino)
{
	const struct zpmfs_inode *pi = &f->itable[ino - 1];
	uint64_t n = 0, b, nb;

	if (pi->map_height > ZPMFS_MAP_MAX_HEIGHT) {
		report(f, true, "inode %lu: map height %u",
		       (unsigned long)ino, pi->map_height);
		return;
	}
	if (pi->map_root)
		n = walk_map(f, ino, pi->map_root, pi->map_height);
	if (pi->xattr_block && claim(f, ino, pi->xattr_block, "xattr")) {
		const struct zpmfs_xattr_hdr *h = blk(f, pi->xattr_block);

		n++;
		if (h->magic != ZPMFS_XATTR_MAGIC ||
		    h->used > ZPMFS_BLOCK - sizeof(*h))
			report(f, true, "inode %lu: bad xattr block",
			       (unsigned long)ino);
	}
	if (n != pi->blocks)
		report(f, true, "inode %lu: %lu blocks counted, inode says %lu",
		       (unsigned long)ino, (unsigned long)n,
		       (unsigned long)pi->blocks);
	if (S_ISLNK(pi->mode) && (!pi->size || pi->size > ZUFS_SYMLINK_MAX))
		report(f, true, "inode %lu: symlink size %lu",
		       (unsigned long)ino, (unsigned long)pi->size);
	if (!S_ISDIR(pi->mode))
		return;
	if (pi->size % ZPMFS_BLOCK)
		report(f, true, "dir %lu: size %lu not whole blocks",
		       (unsigned long)ino, (unsigned long)pi->size);
	nb = pi->size / ZPMFS_BLOCK;
	for (b = 0; b < nb; b++) {
		uint64_t p = map_get(f, pi, b);

		if (p)
			check_dir_block(f, ino, p);
	}
}

static void check_links(struct fsck *f)
{
	uint64_t i;

	for (i = 0; i < f->s.inode_count; i++) {
		const struct zpmfs_inode *pi = &f->itable[i];
		uint64_t ino = i + 1;

		if (!pi->mode)
			continue;
		if (S_ISDIR(pi->mode)) {
			if (ino == ZPMFS_ROOT_INO)
				f->refs[i]++;
			if (!f->refs[i] && !pi->nlink)
				report(f, false, "orphan dir %lu", (unsigned long)ino);
			else if (!f->refs[i])
				report(f, false, "lost dir %lu", (unsigned long)ino);
			else if (pi->nlink != 2 + f->subdirs[i])
				report(f, true, "dir %lu: nlink %u, want %u",
				       (unsigned long)ino, pi->nlink,
				       2 + f->subdirs[i]);
			if (f->refs[i] > 1)
				report(f, true, "dir %lu named %u times",
				       (unsigned long)ino, f->refs[i]);
			if (ino != ZPMFS_ROOT_INO && f->dparent[i] &&
			    pi->parent != f->dparent[i])
				report(f, true, "dir %lu: parent %lu, named in %lu",
				       (unsigned long)ino,
				       (unsigned long)pi->parent,
				       (unsigned long)f->dparent[i]);
			continue;
		}
		if (!f->refs[i] && !pi->nlink)
			report(f, false, "orphan inode %lu (freed at next mount)",
			       (unsigned long)ino);
		else if (!f->refs[i])
			report(f, false, "lost inode %lu (nlink %u, no name)",
			       (unsigned long)ino, pi->nlink);
		else if (pi->nlink != f->refs[i])
			report(f, true, "inode %lu: nlink %u, %u names",
			       (unsigned long)ino, pi->nlink, f->refs[i]);
	}
}

static void check_bitmap(struct fsck *f)
{
	uint64_t b, leaked = 0;

	for (b = 0; b < f->s.data_start; b++)
		if (!bit(f->bitmap, b))
			report(f, true, "metadata block %lu marked free",
			       (unsigned long)b);
	for (b = f->s.data_start; b < f->s.total_blocks; b++)
		if (bit(f->bitmap, b) && !bit(f->seen, b))
			leaked++;
	if (leaked)
		report(f, false, "%lu block(s) marked used but unreachable",
		       (unsigned long)leaked);
}

/* Every data block's count is its owners beyond the first (0: free) */
static void check_refcounts(struct fsck *f)
{
	uint64_t b, bad = 0;

	for (b = f->s.data_start; b < f->s.total_blocks; b++) {
		uint32_t want = f->owners[b] ? f->owners[b] - 1 : 0;
		uint32_t have = f->rc ? f->rc[b] : 0;

		if (want == have)
			continue;
		if (!f->rc)
			report(f, true, "data block %lu used %u times",
			       (unsigned long)b, f->owners[b]);
		else
			report(f, true,
			       "block %lu: reference count %u, %u owners",
			       (unsigned long)b, have, f->owners[b]);
		bad++;
	}
	if (bad && f->verbose)
		fprintf(stderr, "%lu reference count(s) wrong\n",
			(unsigned long)bad);
}

/* The refcount table, when the image has one: inside the metadata area */
static int check_rc_layout(struct fsck *f)
{
	const struct zpmfs_super *s = &f->s;

	if (s->features & ~ZPMFS_FEATURES) {
		report(f, true, "unknown feature bits %#lx",
		       (unsigned long)(s->features & ~ZPMFS_FEATURES));
		return -1;
	}
	if (!(s->features & ZPMFS_FEAT_REFLINK))
		return 0;
	if (s->refcount_start < s->bitmap_start + s->bitmap_blocks ||
	    s->refcount_blocks > s->data_start ||
	    s->refcount_start > s->data_start - s->refcount_blocks ||
	    s->refcount_blocks * (ZPMFS_BLOCK / 4) < s->total_blocks) {
		report(f, true, "refcount table does not fit the layout");
		return -1;
	}
	f->rc = blk(f, s->refcount_start);
	return 0;
}

static int check_super(struct fsck *f)
{
	const struct zufs_dev_table *dt = (const void *)f->base;
	struct zufs_dev_table t = *dt;
	struct zpmfs_super c;
	int which;

	t.csum = 0;
	if (dt->magic != ZUFS_DEV_TABLE_MAGIC ||
	    zpmfs_crc32(0, &t, sizeof(t)) != dt->csum)
		report(f, true, "device table missing or corrupt");
	for (which = ZPMFS_SB_BLOCK; which <= ZPMFS_SB_COPY_BLOCK; which++) {
		memcpy(&c, blk(f, which), sizeof(c));
		c.csum = 0;
		if (((const struct zpmfs_super *)blk(f, which))->magic ==
		    ZPMFS_SB_MAGIC &&
		    zpmfs_crc32(0, &c, sizeof(c)) ==
		    ((const struct zpmfs_super *)blk(f, which))->csum) {
			memcpy(&f->s, blk(f, which), sizeof(f->s));
			break;
		}
		report(f, true, "superblock %s is corrupt",
		       which == ZPMFS_SB_BLOCK ? "primary" : "copy");
	}
	if (which > ZPMFS_SB_COPY_BLOCK)
		return -1;
	if (f->s.total_blocks * ZPMFS_BLOCK > f->size ||
	    f->s.data_start >= f->s.total_blocks ||
	    f->s.itable_blocks * ZPMFS_INODES_PER_BLOCK < f->s.inode_count ||
	    f->s.bitmap_blocks * ZPMFS_BLOCK * 8 < f->s.total_blocks) {
		report(f, true, "superblock layout does not fit the device");
		return -1;
	}
	return 0;
}

static int run(struct fsck *f)
{
	uint64_t n, ino;

	if (check_super(f) || check_rc_layout(f))
		return 8;
	n = f->s.inode_count;
	f->itable = blk(f, f->s.itable_start);
	f->bitmap = blk(f, f->s.bitmap_start);
	f->seen = calloc((f->s.total_blocks + 63) / 64, 8);
	f->refs = calloc(n, sizeof(*f->refs));
	f->subdirs = calloc(n, sizeof(*f->subdirs));
	f->dparent = calloc(n, sizeof(*f->dparent));
	f->owners = calloc(f->s.total_blocks, sizeof(*f->owners));
	if (!f->seen || !f->refs || !f->subdirs || !f->dparent ||
	    !f->owners) {
		fprintf(stderr, "fsck.zpmfs: out of memory\n");
		return 8;
	}
	if (!S_ISDIR(f->itable[ZPMFS_ROOT_INO - 1].mode))
		report(f, true, "root inode is not a directory");
	for (ino = 1; ino <= n; ino++)
		if (f->itable[ino - 1].mode)
			check_inode(f, ino);
	check_links(f);
	check_bitmap(f);
	check_refcounts(f);
	return f->errors ? 4 : f->warnings ? 1 : 0;
}

static void usage(FILE *o)
{
	fprintf(o, "usage: fsck.zpmfs [-v] [-n] DEVICE-OR-FILE\n"
		"Check a zpmfs filesystem (read-only: nothing is repaired).\n"
		"  -v  print every finding (default: the first 50)\n"
		"  -n  no changes (always the case; accepted for fsck(8))\n"
		"Exit: 0 clean, 1 leaks/orphans only, 4 errors, 8 failure.\n"
		"Repairs are the mount's: a read-write mount frees orphan inodes,\n"
		"and after an unclean shutdown also gives back the blocks no inode\n"
		"reaches (it logs how many); a clean filesystem leaks nothing.\n");
}

int main(int argc, char **argv)
{
	struct fsck f = { .max_msgs = 50 };
	struct stat st;
	int c, fd, ret;

	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = getopt_long(argc, argv, "vnyh", lopts, NULL)) != -1) {
		switch (c) {
		case 'v': f.verbose = true; break;
		case 'n': case 'y': break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 8;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 8;
	}
	f.dev = argv[optind];
	fd = open(f.dev, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "fsck.zpmfs: %s: %s\n", f.dev, strerror(errno));
		return 8;
	}
	f.size = st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &f.size)) {
		fprintf(stderr, "fsck.zpmfs: %s: %s\n", f.dev, strerror(errno));
		return 8;
	}
	if (f.size < 8 * ZPMFS_BLOCK) {
		fprintf(stderr, "fsck.zpmfs: %s: too small\n", f.dev);
		return 8;
	}
	f.base = mmap(NULL, f.size, PROT_READ, MAP_SHARED, fd, 0);
	if (f.base == MAP_FAILED) {
		fprintf(stderr, "fsck.zpmfs: %s: mmap: %s\n", f.dev,
			strerror(errno));
		return 8;
	}
	ret = run(&f);
	printf("%s: %s, %u error(s), %u warning(s)\n", f.dev,
	       ret == 0 ? "clean" : ret == 1 ? "consistent" : "INCONSISTENT",
	       f.errors, f.warnings);
	return ret;
}
