// SPDX-License-Identifier: BSD-3-Clause
/*
 * fsck.zpmfs - consistency check and repair of a zpmfs image or device.
 *
 * Checks the device set (every member's table, the set as a whole: all
 * members there, none twice, tables and sizes agreeing), the journal,
 * both superblocks, every inode's
 * block map (range, bitmap, no block owned twice), every directory block
 * (slot map, records, inode types), link counts against the dentries that
 * name each inode, directory parents, and the bitmap against what is
 * reachable.
 *
 * -n (default) changes nothing.  Exit: 0 clean; 1 only what a crash may
 * leave and a mount repairs or tolerates (leaked blocks, orphan inodes,
 * lost inodes, an unfinished journal op); 4 inconsistencies; 8 usage or
 * I/O error.
 * -p repairs what is safe (no name, no data is given up); -y also what
 * costs data (records naming free inodes, inodes no name reaches).  A
 * repair can uncover more (a freed orphan leaks its blocks), so passes
 * repeat until one changes nothing.  Exit as e2fsck's: 0 clean, 1 all
 * found was corrected, 4 something is left uncorrected, 8 failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
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
#include "devset.h"

struct fsck {
	const char *dev;
	struct zp_devset set;	/* the members, mapped in order at base */
	uint64_t mtab[ZUFS_MAX_DEVS];	/* members' table blocks (not 0) */
	unsigned int nmtab;
	unsigned int set_errors;	/* found opening the set, not fixed */
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
	int mode;		/* FIX_NONE (-n), FIX_SAFE (-p), FIX_ALL (-y) */
	unsigned int pass;	/* 1..: later passes print only their fixes */
	unsigned int fixed;	/* in this pass */
	unsigned int fixed_total;
	bool progress;
};

enum { FIX_NONE, FIX_SAFE, FIX_ALL };

static void report(struct fsck *f, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct fsck *f, bool error, const char *fmt, ...)
{
	va_list ap;

	if (error)
		f->errors++;
	else
		f->warnings++;
	if ((f->errors + f->warnings > f->max_msgs && !f->verbose) ||
	    f->pass > 1)
		return;
	fprintf(stderr, "%s: ", error ? "error" : "warning");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* May the finding just reported be repaired (-p: level FIX_SAFE, -y: all)? */
static bool fix(struct fsck *f, int level)
{
	if (f->mode < level)
		return false;
	f->fixed++;
	if (f->pass > 1 || f->verbose ||
	    f->errors + f->warnings <= f->max_msgs)
		fprintf(stderr, "  %s\n", f->pass > 1 ? "(found again) fixed" :
			"fixed");
	return true;
}

/* Writable views, used only by repairs (the image is mapped rw then) */
static struct zpmfs_inode *wi(struct fsck *f, uint64_t ino)
{
	return (struct zpmfs_inode *)&f->itable[ino - 1];
}

static void set_bit(struct fsck *f, uint64_t b, bool on)
{
	uint64_t *m = (uint64_t *)f->bitmap;

	if (on)
		m[b / 64] |= 1ULL << (b % 64);
	else
		m[b / 64] &= ~(1ULL << (b % 64));
}

static bool bit(const uint64_t *m, uint64_t b)
{
	return m[b / 64] & (1ULL << (b % 64));
}

static const void *blk(struct fsck *f, uint64_t b)
{
	return f->base + b * ZPMFS_BLOCK;
}

/* Index of the member whose device table is block b, or 0 */
static unsigned int member_table(const struct fsck *f, uint64_t b)
{
	unsigned int i;

	for (i = 0; i < f->nmtab; i++)
		if (f->mtab[i] == b)
			return i + 1;
	return 0;
}

/* Claim a block for an inode; false if it must not be followed */
static bool claim(struct fsck *f, uint64_t ino, uint64_t b, const char *what)
{
	if (b < f->s.data_start || b >= f->s.total_blocks) {
		report(f, true, "inode %lu: %s block %lu out of range",
		       (unsigned long)ino, what, (unsigned long)b);
		return false;
	}
	if (member_table(f, b)) {
		report(f, true, "inode %lu: %s block %lu is member %u's device table",
		       (unsigned long)ino, what, (unsigned long)b,
		       member_table(f, b));
		return false;
	}
	if (bit(f->seen, b)) {
		report(f, true, "inode %lu: %s block %lu used twice",
		       (unsigned long)ino, what, (unsigned long)b);
		return false;
	}
	f->seen[b / 64] |= 1ULL << (b % 64);
	if (!bit(f->bitmap, b)) {
		report(f, true, "inode %lu: %s block %lu marked free",
		       (unsigned long)ino, what, (unsigned long)b);
		if (fix(f, FIX_SAFE))
			set_bit(f, b, true);
	}
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

/* Remove the record at slot i: its slot-map bytes are its existence */
static void drop_record(struct fsck *f, uint64_t b, unsigned int i)
{
	uint8_t *map = (uint8_t *)blk(f, b);
	unsigned int k = i + 1;

	map[i] = 0;
	while (k < ZPMFS_SLOTS_PER_BLOCK && map[k] == ZPMFS_SLOT_CONT)
		map[k++] = 0;
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
			if (fix(f, FIX_ALL))
				drop_record(f, b, i);
		} else if (!d->ino || d->ino > f->s.inode_count ||
			   !f->itable[d->ino - 1].mode) {
			report(f, true, "dir %lu: '%.*s' names free inode %lu",
			       (unsigned long)dir, d->name_len, d->name,
			       (unsigned long)d->ino);
			if (fix(f, FIX_ALL))
				drop_record(f, b, i);
		} else {
			ci = &f->itable[d->ino - 1];
			f->refs[d->ino - 1]++;
			if (d->type != ((ci->mode & S_IFMT) >> 12)) {
				report(f, true, "dir %lu: '%.*s' type %u, inode mode %o",
				       (unsigned long)dir, d->name_len,
				       d->name, d->type, ci->mode);
				if (fix(f, FIX_SAFE))
					((struct zpmfs_dentry *)d)->type =
						(ci->mode & S_IFMT) >> 12;
			}
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
	if (n != pi->blocks) {
		report(f, true, "inode %lu: %lu blocks counted, inode says %lu",
		       (unsigned long)ino, (unsigned long)n,
		       (unsigned long)pi->blocks);
		if (fix(f, FIX_SAFE))
			wi(f, ino)->blocks = n;
	}
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

/* An inode nothing names and nothing can open any more: free it (its
 * blocks are then unreachable, which the next pass gives back) */
static void free_inode(struct fsck *f, uint64_t ino)
{
	struct zpmfs_inode *pi = wi(f, ino);
	uint64_t gen = pi->generation;

	memset(pi, 0, sizeof(*pi));
	pi->generation = gen;
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
			if (!f->refs[i] && !pi->nlink) {
				report(f, false, "orphan dir %lu", (unsigned long)ino);
				if (fix(f, FIX_SAFE))
					free_inode(f, ino);
				continue;
			} else if (!f->refs[i]) {
				report(f, false, "lost dir %lu", (unsigned long)ino);
				if (fix(f, FIX_ALL))
					free_inode(f, ino);
				continue;
			} else if (pi->nlink != 2 + f->subdirs[i]) {
				report(f, true, "dir %lu: nlink %u, want %u",
				       (unsigned long)ino, pi->nlink,
				       2 + f->subdirs[i]);
				if (fix(f, FIX_SAFE))
					wi(f, ino)->nlink = 2 + f->subdirs[i];
			}
			if (f->refs[i] > 1)
				report(f, true, "dir %lu named %u times",
				       (unsigned long)ino, f->refs[i]);
			if (ino != ZPMFS_ROOT_INO && f->dparent[i] &&
			    pi->parent != f->dparent[i] && f->refs[i] == 1) {
				report(f, true, "dir %lu: parent %lu, named in %lu",
				       (unsigned long)ino,
				       (unsigned long)pi->parent,
				       (unsigned long)f->dparent[i]);
				if (fix(f, FIX_SAFE))
					wi(f, ino)->parent = f->dparent[i];
			}
			continue;
		}
		if (!f->refs[i] && !pi->nlink) {
			report(f, false, "orphan inode %lu (freed at next mount)",
			       (unsigned long)ino);
			if (fix(f, FIX_SAFE))
				free_inode(f, ino);
		} else if (!f->refs[i]) {
			/* no lost+found yet: -y gives the data up */
			report(f, false, "lost inode %lu (nlink %u, no name)",
			       (unsigned long)ino, pi->nlink);
			if (fix(f, FIX_ALL))
				free_inode(f, ino);
		} else if (pi->nlink != f->refs[i]) {
			report(f, true, "inode %lu: nlink %u, %u names",
			       (unsigned long)ino, pi->nlink, f->refs[i]);
			if (fix(f, FIX_SAFE))
				wi(f, ino)->nlink = f->refs[i];
		}
	}
}

static void check_bitmap(struct fsck *f)
{
	uint64_t b, leaked = 0;
	unsigned int i;

	for (i = 0; i < f->nmtab; i++) {
		b = f->mtab[i];
		if (!bit(f->bitmap, b)) {
			report(f, true, "member %u's device table (block %lu) marked free",
			       i + 1, (unsigned long)b);
			if (fix(f, FIX_SAFE))
				set_bit(f, b, true);
		}
		f->seen[b / 64] |= 1ULL << (b % 64);
	}
	for (b = 0; b < f->s.data_start; b++) {
		if (!bit(f->bitmap, b)) {
			report(f, true, "metadata block %lu marked free",
			       (unsigned long)b);
			if (fix(f, FIX_SAFE))
				set_bit(f, b, true);
		}
	}
	for (b = f->s.data_start; b < f->s.total_blocks; b++)
		if (bit(f->bitmap, b) && !bit(f->seen, b))
			leaked++;
	if (leaked) {
		report(f, false, "%lu block(s) marked used but unreachable",
		       (unsigned long)leaked);
		if (fix(f, FIX_SAFE))
			for (b = f->s.data_start; b < f->s.total_blocks; b++)
				if (bit(f->bitmap, b) && !bit(f->seen, b))
					set_bit(f, b, false);
	}
}

/*
 * Every data block's count is its owners beyond the first (0: free).  A
 * crash leaves counts too high (the count is raised before the pointer is
 * stored and lowered after it is cleared); the walk knows the true one.
 */
static void check_refcounts(struct fsck *f)
{
	uint64_t b, bad = 0;

	for (b = f->s.data_start; b < f->s.total_blocks; b++) {
		uint32_t want = f->owners[b] ? f->owners[b] - 1 : 0;
		uint32_t have = f->rc ? f->rc[b] : 0;

		if (want == have)
			continue;
		bad++;
		if (!f->rc) {
			report(f, true, "data block %lu used %u times",
			       (unsigned long)b, f->owners[b]);
			continue;
		}
		report(f, true, "block %lu: reference count %u, %u owners",
		       (unsigned long)b, have, f->owners[b]);
		if (fix(f, FIX_SAFE))
			((uint32_t *)f->rc)[b] = want;
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
	struct zpmfs_super c;
	int which;

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
	    (f->set.n > 1 && f->s.total_blocks * ZPMFS_BLOCK != f->size) ||
	    f->s.data_start >= f->s.total_blocks ||
	    f->s.itable_blocks * ZPMFS_INODES_PER_BLOCK < f->s.inode_count ||
	    f->s.bitmap_blocks * ZPMFS_BLOCK * 8 < f->s.total_blocks) {
		report(f, true, "superblock layout does not fit the device");
		return -1;
	}
	return 0;
}

/* Roll an unfinished op back, as the mount would (journal.c) */
static void rollback(struct fsck *f, struct zpmfs_log_hdr *h)
{
	const struct zpmfs_log_rec *r[ZPMFS_BLOCK /
				      sizeof(struct zpmfs_log_rec)];
	size_t off = sizeof(*h);
	unsigned int n = 0;

	while ((r[n] = zpmfs_log_rec_at((const char *)h, off, h->seq,
					f->s.itable_start * ZPMFS_BLOCK,
					f->s.total_blocks * ZPMFS_BLOCK))) {
		off += ZPMFS_LOG_REC_SIZE(r[n]->len);
		n++;
	}
	while (n--)	/* last change first: the oldest bytes win */
		memcpy((char *)f->base + r[n]->off, r[n] + 1, r[n]->len);
	h->intent = 0;
	h->seq = 0;
}

static void check_journal(struct fsck *f)
{
	uint64_t i, n = f->s.log_blocks < 64 ? f->s.log_blocks : 64;

	if (f->s.log_start < ZPMFS_LOG_START || !f->s.log_blocks ||
	    f->s.log_start + f->s.log_blocks > f->s.itable_start) {
		report(f, true, "journal area %lu+%lu does not fit the layout",
		       (unsigned long)f->s.log_start,
		       (unsigned long)f->s.log_blocks);
		return;
	}
	for (i = 0; i < n; i++) {
		struct zpmfs_log_hdr *h =
			(void *)blk(f, f->s.log_start + i);

		if (h->seq) {
			report(f, false, "journal slot %lu: an unfinished "
			       "operation (a mount rolls it back)",
			       (unsigned long)i);
			if (fix(f, FIX_SAFE))
				rollback(f, h);
		} else if (h->intent && f->mode == FIX_NONE) {
			report(f, false, "journal slot %lu: a committed "
			       "operation's work left (intent %lu; a mount "
			       "finishes it)", (unsigned long)i,
			       (unsigned long)h->intent);
		} else if (h->intent && f->pass == 1) {
			fprintf(stderr, "note: journal slot %lu: intent %lu "
				"left for the next mount to finish\n",
				(unsigned long)i, (unsigned long)h->intent);
		}
	}
}

static void progress(struct fsck *f, uint64_t ino, uint64_t n)
{
	static int last = -1;
	int pct = (int)(ino * 100 / n);

	if (!f->progress || pct == last)
		return;
	last = pct;
	fprintf(stderr, "\rfsck.zpmfs: pass %u: inodes %3d%%%s", f->pass,
		pct, ino == n ? "\n" : "");
}

static void check_pass(struct fsck *f)
{
	uint64_t n = f->s.inode_count, ino;

	f->errors = f->warnings = f->fixed = 0;
	memset(f->seen, 0, (f->s.total_blocks + 63) / 64 * 8);
	memset(f->refs, 0, n * sizeof(*f->refs));
	memset(f->subdirs, 0, n * sizeof(*f->subdirs));
	memset(f->dparent, 0, n * sizeof(*f->dparent));
	memset(f->owners, 0, f->s.total_blocks * sizeof(*f->owners));
	check_journal(f);
	if (!S_ISDIR(f->itable[ZPMFS_ROOT_INO - 1].mode))
		report(f, true, "root inode is not a directory");
	for (ino = 1; ino <= n; ino++) {
		if (f->itable[ino - 1].mode)
			check_inode(f, ino);
		if (!(ino & 4095) || ino == n)
			progress(f, ino, n);
	}
	check_links(f);
	check_bitmap(f);
	check_refcounts(f);
}

static int run(struct fsck *f)
{
	uint64_t n;

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
	/* a repair can uncover more: again until a pass changes nothing */
	for (f->pass = 1; f->pass <= 8; f->pass++) {
		check_pass(f);
		f->fixed_total += f->fixed;
		if (!f->fixed)
			break;
	}
	/* each pass counts afresh; what opening the set found stays */
	f->errors += f->set_errors;
	if (f->mode == FIX_NONE)
		return f->errors ? 4 : f->warnings ? 1 : 0;
	if (f->errors || f->warnings || f->fixed)
		return 4;
	return f->fixed_total ? 1 : 0;
}

static void usage(FILE *o)
{
	fprintf(o, "usage: fsck.zpmfs [-n|-p|-y] [-v] [-C] DEVICE-OR-FILE...\n"
		"Check a zpmfs filesystem and, with -p or -y, repair it.  A mounted\n"
		"device or image is refused.  For a set of devices name its members\n"
		"(those not named are looked for among /dev/pmem* by set uuid); a\n"
		"member whose device table is damaged is repaired from the others'\n"
		"when it is the one member missing.  An unfinished zpmfs-grow is\n"
		"reported (exit 4) and, with -p or -y, finished or undone.\n"
		"  -n  no changes (the default)\n"
		"  -p  repair what is safe: roll back unfinished journal ops, free\n"
		"      orphan inodes and unreachable blocks, fix link counts, block\n"
		"      counts, dentry types, directory parents, bitmap bits of\n"
		"      blocks in use (-a: the same)\n"
		"  -y  also what costs data: drop dentries naming free inodes or\n"
		"      bad records, free inodes no name reaches (no lost+found yet)\n"
		"  -v  print every finding (default: the first 50)\n"
		"  -C  progress on stderr (default when stderr is a terminal)\n"
		"Exit with -n: 0 clean, 1 leaks/orphans/lost inodes/journal only\n"
		"(what a read-write mount repairs or tolerates), 4 errors, 8 failure.\n"
		"Exit with -p/-y (as e2fsck): 0 clean, 1 errors corrected, 4 errors\n"
		"left uncorrected, 8 usage or operational failure.\n");
}

/* The set's table: the first valid one among the members given */
static const struct zufs_dev_table *set_table(struct fsck *f)
{
	unsigned int i;

	for (i = 0; i < f->set.n; i++)
		if (!f->set.m[i].bad)
			return &f->set.m[i].table;
	return NULL;
}

/*
 * A member whose table is unreadable takes the one index the others
 * leave free: its table is written again from the set's (-p, -y).
 */
static int adopt_member(struct fsck *f, const struct zufs_dev_table *t,
			struct zp_member **slot, struct zp_member *m)
{
	struct zufs_dev_table copy = *t;
	unsigned int i, free_i = t->t1_count, nfree = 0;

	for (i = 0; i < t->t1_count; i++)
		if (!slot[i]) {
			free_i = i;
			nfree++;
		}
	if (nfree != 1 || m->dev_size / ZPMFS_BLOCK < t->devs[free_i].blocks) {
		fprintf(stderr, "fsck.zpmfs: %s: %s, and it is not the one missing member of set %02x%02x%02x%02x...\n",
			m->path, m->bad, t->set_uuid[0], t->set_uuid[1],
			t->set_uuid[2], t->set_uuid[3]);
		return -1;
	}
	report(f, true, "member %u (%s): %s", free_i, m->path, m->bad);
	slot[free_i] = m;
	m->table = copy;
	if (!fix(f, FIX_SAFE)) {
		f->set_errors++;
		return 0;
	}
	copy.dev_index = free_i;
	copy.csum = zp_table_csum(&copy);
	if (pwrite(m->fd, &copy, sizeof(copy), ZUFS_DEV_TABLE_OFFSET) !=
	    sizeof(copy) || fsync(m->fd)) {
		fprintf(stderr, "fsck.zpmfs: %s: writing the device table: %s\n",
			m->path, strerror(errno));
		return -1;
	}
	f->fixed_total++;
	return 0;
}

/* Put every member at its index; refuse a set that is not whole */
static int order_members(struct fsck *f, const struct zufs_dev_table *t)
{
	struct zp_member *slot[ZUFS_MAX_DEVS] = { 0 }, sorted[ZUFS_MAX_DEVS];
	struct zp_devset *s = &f->set;
	unsigned int i;

	if (s->n > t->t1_count) {
		fprintf(stderr, "fsck.zpmfs: %u devices given for a set of %u\n",
			s->n, t->t1_count);
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		struct zp_member *m = &s->m[i];

		if (m->bad)
			continue;
		if (memcmp(m->table.set_uuid, t->set_uuid, 16)) {
			fprintf(stderr, "fsck.zpmfs: %s belongs to another set than %s\n",
				m->path, f->dev);
			return -1;
		}
		if (!zp_table_same_set(t, &m->table)) {
			fprintf(stderr, "fsck.zpmfs: %s: its device table disagrees with the other members' (members or sizes differ)\n",
				m->path);
			return -1;
		}
		if (slot[m->table.dev_index]) {
			fprintf(stderr, "fsck.zpmfs: %s and %s both claim member %u\n",
				slot[m->table.dev_index]->path, m->path,
				m->table.dev_index);
			return -1;
		}
		slot[m->table.dev_index] = m;
	}
	for (i = 0; i < s->n; i++)
		if (s->m[i].bad && adopt_member(f, t, slot, &s->m[i]))
			return -1;
	for (i = 0; i < t->t1_count; i++) {
		if (!slot[i]) {
			fprintf(stderr, "fsck.zpmfs: set incomplete: member %u (%lu blocks) not found; name every member\n",
				i, (unsigned long)t->devs[i].blocks);
			return -1;
		}
		sorted[i] = *slot[i];
		sorted[i].blocks = t->devs[i].blocks;
		if (i)
			f->mtab[f->nmtab++] = zp_table_member_start(t, i);
	}
	memcpy(s->m, sorted, t->t1_count * sizeof(sorted[0]));
	return 0;
}

static int open_set(struct fsck *f, char **paths, unsigned int n)
{
	int flags = f->mode == FIX_NONE ? O_RDONLY : O_RDWR;
	const struct zufs_dev_table *t;
	struct zufs_dev_table ref;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (zp_path_mounted(paths[i])) {
			fprintf(stderr, "fsck.zpmfs: %s is mounted: refusing\n",
				paths[i]);
			return -1;
		}
		if (zp_devset_add(&f->set, paths[i], flags))
			return -1;
	}
	switch (zp_grow_settle(&f->set, flags)) {
	case 0:
		break;
	case 1:
		if (f->mode != FIX_NONE) {
			f->fixed_total++;
			zp_devset_drop_left(&f->set);
			break;
		}
		fprintf(stderr, "fsck.zpmfs: an unfinished zpmfs-grow: -p finishes or undoes it, as the superblock says\n");
		return 1;
	default:
		return -1;
	}
	t = set_table(f);
	if (!t) {
		/* one device with a broken table: check the rest of it */
		if (n > 1)
			goto out_no_table;
		report(f, true, "device table: %s", f->set.m[0].bad);
		f->set_errors++;
		f->set.m[0].blocks = f->set.m[0].dev_size / ZPMFS_BLOCK;
	} else {
		ref = *t;
		if (ref.t1_count > f->set.n &&
		    zp_devset_find(&f->set, &ref, flags))
			zp_devset_read_tables(&f->set);
		if (order_members(f, &ref))
			return -1;
	}
	if (f->set.m[0].blocks < 8) {
		fprintf(stderr, "fsck.zpmfs: %s: too small\n", f->dev);
		return -1;
	}
	if (zp_devset_map(&f->set, f->mode != FIX_NONE))
		return -1;
	f->base = f->set.base;
	f->size = f->set.size;
	return 0;

out_no_table:
	for (i = 0; i < n; i++)
		fprintf(stderr, "fsck.zpmfs: %s: %s\n", f->set.m[i].path,
			f->set.m[i].bad);
	return -1;
}

int main(int argc, char **argv)
{
	struct fsck f = { .max_msgs = 50, .progress = isatty(2),
			  .set.tool = "fsck.zpmfs" };
	int c, ret, modes = 0;

	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = getopt_long(argc, argv, "vnpayCfh", lopts, NULL)) != -1) {
		switch (c) {
		case 'v': f.verbose = true; break;
		case 'n': f.mode = FIX_NONE; modes++; break;
		case 'p': case 'a': f.mode = FIX_SAFE; modes++; break;
		case 'y': f.mode = FIX_ALL; modes++; break;
		case 'C': f.progress = true; break;
		case 'f': break;	/* always a full check */
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 8;
		}
	}
	if (optind >= argc || argc - optind > ZUFS_MAX_DEVS || modes > 1) {
		usage(stderr);
		return 8;
	}
	f.dev = argv[optind];
	ret = open_set(&f, argv + optind, argc - optind);
	if (ret) {
		zp_devset_close(&f.set);
		/* an unfinished grow is an error left, not a failure */
		return ret > 0 ? 4 : 8;
	}
	ret = run(&f);
	if (f.fixed_total && zp_devset_sync(&f.set)) {
		fprintf(stderr, "fsck.zpmfs: %s: writing the repairs failed\n",
			f.dev);
		ret = 8;
	}
	printf("%s: %s, %u error(s), %u warning(s)", f.dev,
	       ret == 0 ? "clean" : ret == 1 && !f.fixed_total ? "consistent" :
	       ret == 1 ? "repaired" : "INCONSISTENT", f.errors, f.warnings);
	if (f.fixed_total)
		printf(" left, %u fix(es)", f.fixed_total);
	printf("\n");
	/* the crash explorer runs this main() once per image, in-process */
	zp_devset_close(&f.set);
	free(f.seen);
	free(f.refs);
	free(f.subdirs);
	free(f.dparent);
	return ret;
}
