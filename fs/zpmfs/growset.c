// SPDX-License-Identifier: BSD-3-Clause
/*
 * growset.c - settling what an interrupted zpmfs-grow left (devset.h).
 *
 * zpmfs-grow (grow.c) writes in this order: the bitmap and refcount room
 * of the new blocks (past the old total_blocks, where nothing looks), the
 * new member's table, every old member's table, the superblock copy, and
 * last the primary superblock, whose total_blocks is the commit point.
 * Until it is written a member holds either the old set's table or the
 * grown one's, which is the old one plus a last member.  The primary
 * superblock (on member 0) says which set is the filesystem; the members
 * that say otherwise are rolled back (the new member's table is wiped)
 * or forward.  fsck.zpmfs -p and zpmfs-grow do this; the kernel refuses
 * the mixed set (tables disagree) and the plugin a set its superblock
 * does not cover, so nothing mounts half a grow.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devset.h"
#include "zpmfs_format.h"

/* t without its last member: the set before the grow that made t */
void zp_table_shrink(const struct zufs_dev_table *t,
		     struct zufs_dev_table *old)
{
	*old = *t;
	old->t1_count--;
	memset(&old->devs[old->t1_count], 0, sizeof(old->devs[0]));
}

uint64_t zp_super_room(const struct zpmfs_super *s)
{
	uint64_t room = s->bitmap_blocks * ZPMFS_BLOCK * 8;
	uint64_t rc = s->refcount_blocks * (ZPMFS_BLOCK / sizeof(uint32_t));

	if ((s->features & ZPMFS_FEAT_REFLINK) && rc < room)
		room = rc;
	return room;
}

int zp_super_read(int fd, unsigned int block, struct zpmfs_super *s)
{
	struct zpmfs_super c;

	if (pread(fd, s, sizeof(*s), (off_t)block * ZPMFS_BLOCK) !=
	    sizeof(*s) || s->magic != ZPMFS_SB_MAGIC)
		return -1;
	c = *s;
	c.csum = 0;
	return zpmfs_crc32(0, &c, sizeof(c)) == s->csum ? 0 : -1;
}

int zp_write_sync(const struct zp_devset *s, const struct zp_member *m,
		  const void *buf, size_t len, uint64_t off)
{
	if (pwrite(m->fd, buf, len, off) != (ssize_t)len || fdatasync(m->fd)) {
		fprintf(stderr, "%s: %s: writing %lu bytes at %lu: %s\n",
			s->tool, m->path, (unsigned long)len,
			(unsigned long)off, strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

/* Write t as member idx's table on m; t NULL: wipe m's table */
static int put_table(const struct zp_devset *s, const struct zp_member *m,
		     const struct zufs_dev_table *t, unsigned int idx)
{
	struct zufs_dev_table c;

	memset(&c, 0, sizeof(c));
	if (t) {
		c = *t;
		c.dev_index = idx;
		c.csum = zp_table_csum(&c);
	}
	return zp_write_sync(s, m, &c, sizeof(c), ZUFS_DEV_TABLE_OFFSET);
}

/* The valid table with the most members: the grown set's, if any */
static const struct zufs_dev_table *widest(const struct zp_devset *s)
{
	const struct zufs_dev_table *t = NULL;
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (!s->m[i].bad && (!t || s->m[i].table.t1_count > t->t1_count))
			t = &s->m[i].table;
	return t;
}

struct grow_view {
	struct zufs_dev_table grown, old;
	struct zp_member *zero;		/* member 0 */
	struct zpmfs_super sb;		/* the primary, else the copy */
	bool sb_primary;
	uint64_t old_total, new_total;
	unsigned int n_old;		/* members holding the old table */
};

/* Classify the members against g and find member 0 and its superblock */
static int view(struct zp_devset *s, const struct zufs_dev_table *g,
		struct grow_view *v)
{
	unsigned int i;

	memset(v, 0, sizeof(*v));
	v->grown = *g;
	zp_table_shrink(g, &v->old);
	for (i = 0; i < s->n; i++) {
		struct zp_member *m = &s->m[i];
		bool is_old = !m->bad && zp_table_same_set(&v->old, &m->table);

		if (m->bad || !(is_old || zp_table_same_set(g, &m->table)))
			continue;
		v->n_old += is_old;
		if (m->table.dev_index == 0)
			v->zero = m;
	}
	if (!v->zero)
		return -1;
	v->sb_primary = !zp_super_read(v->zero->fd, ZPMFS_SB_BLOCK, &v->sb);
	if (!v->sb_primary &&
	    zp_super_read(v->zero->fd, ZPMFS_SB_COPY_BLOCK, &v->sb))
		return -1;
	v->new_total = zp_table_member_start(g, g->t1_count);
	v->old_total = v->new_total - g->devs[g->t1_count - 1].blocks;
	return 0;
}

/* The copy of the superblock says the same as the primary */
static int settle_copy(const struct zp_devset *s, const struct grow_view *v,
		       bool fix, int *found)
{
	struct zpmfs_super c;

	if (!v->sb_primary ||
	    (!zp_super_read(v->zero->fd, ZPMFS_SB_COPY_BLOCK, &c) &&
	     !memcmp(&c, &v->sb, sizeof(c))))
		return 0;
	(*found)++;
	if (!fix)
		return 0;
	return zp_write_sync(s, v->zero, &v->sb, sizeof(v->sb),
			     (uint64_t)ZPMFS_SB_COPY_BLOCK * ZPMFS_BLOCK);
}

/* Blocks past the old end are in use again, as mkfs leaves them */
static int restore_bitmap(const struct zp_devset *s, const struct grow_view *v)
{
	uint64_t from = (v->old_total + 7) / 8;
	uint64_t to = v->sb.bitmap_blocks * ZPMFS_BLOCK, off;
	char ones[4096];
	int ret = 0;

	memset(ones, 0xff, sizeof(ones));
	for (off = from; off < to && !ret; off += sizeof(ones) - off % sizeof(ones)) {
		size_t len = sizeof(ones) - off % sizeof(ones);

		if (len > to - off)
			len = to - off;
		ret = pwrite(v->zero->fd, ones, len,
			     v->sb.bitmap_start * ZPMFS_BLOCK + off) ==
		      (ssize_t)len ? 0 : -1;
	}
	if (ret || fdatasync(v->zero->fd)) {
		fprintf(stderr, "%s: %s: restoring the block bitmap: %s\n",
			s->tool, v->zero->path, strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

/* Every member back to the old table, the new one's wiped */
static int roll_back(struct zp_devset *s, const struct grow_view *v,
		     bool fix, int *found)
{
	unsigned int i, last = v->grown.t1_count - 1;

	for (i = 0; i < s->n; i++) {
		struct zp_member *m = &s->m[i];

		if (m->bad || !zp_table_same_set(&v->grown, &m->table))
			continue;
		(*found)++;
		fprintf(stderr, "%s: %s: %s: an unfinished zpmfs-grow%s\n",
			s->tool, m->path, m->table.dev_index == last ?
			"joined the set" : "holds the grown set's table",
			fix ? " (undone)" : "");
		if (fix && put_table(s, m, m->table.dev_index == last ?
				     NULL : &v->old, m->table.dev_index))
			return -1;
		m->left = fix && m->table.dev_index == last;
	}
	if (*found && fix && restore_bitmap(s, v))
		return -1;
	return 0;
}

/* Every member to the grown table: the grow had committed */
static int roll_forward(struct zp_devset *s, const struct grow_view *v,
			bool fix, int *found)
{
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		struct zp_member *m = &s->m[i];

		if (m->bad || !zp_table_same_set(&v->old, &m->table))
			continue;
		(*found)++;
		fprintf(stderr, "%s: %s: still holds the table from before zpmfs-grow%s\n",
			s->tool, m->path, fix ? " (rewritten)" : "");
		if (fix && put_table(s, m, &v->grown, m->table.dev_index))
			return -1;
	}
	return 0;
}

int zp_grow_settle(struct zp_devset *s, int flags)
{
	bool fix = (flags & O_ACCMODE) == O_RDWR;
	const struct zufs_dev_table *g;
	struct zufs_dev_table copy;
	struct grow_view v;
	int found = 0, ret;

	zp_devset_read_tables(s);
	g = widest(s);
	if (!g || g->t1_count < 2)
		return 0;
	copy = *g;
	if (zp_devset_find(s, &copy, flags))
		zp_devset_read_tables(s);
	if (view(s, &copy, &v))
		return 0;	/* no superblock to judge by: fsck's to report */
	if (v.sb.total_blocks == v.new_total)
		ret = roll_forward(s, &v, fix, &found);
	else if (v.sb.total_blocks == v.old_total && !(v.old_total % 64))
		ret = roll_back(s, &v, fix, &found);
	else
		return 0;	/* neither set: not a grow's doing */
	if (!ret && found)
		ret = settle_copy(s, &v, fix, &found);
	if (ret)
		return -1;
	if (found)
		zp_devset_read_tables(s);
	return found ? 1 : 0;
}
