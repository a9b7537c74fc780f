// SPDX-License-Identifier: BSD-3-Clause
/*
 * check.c - what the block bitmap should say, computed from the inodes.
 *
 * A block of the data area is in use exactly when a live inode (mode != 0,
 * orphans included) reaches it: a node or data block of its map, or its
 * xattr block.  Two users of that truth:
 *
 *  - zp_reclaim(), at a read-write mount after an unclean shutdown: a
 *    crash between "bit set" and "pointer stored" (or between "pointer
 *    cleared" and "bit cleared") leaves blocks marked used that nothing
 *    reaches.  They are given back and the count is logged.
 *  - zp_check_alloc(), in debug builds (ZPMFS_DEBUG: the unit tests and
 *    build/plugins-debug/zpmfs.so): after every operation that may
 *    allocate or free, the bitmap, the groups' free counts and each
 *    inode's block count must agree with a walk of every inode, or the
 *    plugin names the operation and aborts.  $ZPMFS_CHECK_EVERY=N at
 *    mount checks after every Nth such operation only (and at umount).  check.c also wraps the
 *    plugin's operations for that (zp_debug_ops).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zpmfs.h"

struct reach {
	uint64_t *seen;		/* one bit per block */
	uint32_t *cnt;		/* data blocks: pointers from file maps */
	uint64_t twice;		/* blocks claimed by two pointers */
	uint64_t bad;		/* pointers out of the data area */
	uint64_t miscounted;	/* inodes whose blocks count is off */
	uint64_t first_ino;	/* the first of them */
};

/*
 * A data block of a file map may be reached once per owner (shared,
 * refcount.c); it is counted, and the counts are checked against the
 * refcount table afterwards.  Anything else reached twice is an error.
 */
static uint64_t reach_data(struct reach *r, uint64_t blk)
{
	if (zp_bit_test(r->seen, blk) && !r->cnt[blk]) {
		r->twice++;	/* also a node or xattr block */
		return 1;
	}
	zp_bit_assign(r->seen, blk, true);
	if (r->cnt[blk] != UINT32_MAX)
		r->cnt[blk]++;
	return 1;
}

/* Mark the subtree at blk (data: a file map's); returns the blocks it
 * holds, shared ones fully */
static uint64_t reach_tree(struct zus_sb *sb, struct reach *r, uint64_t blk,
			   unsigned int level, bool data)
{
	const uint64_t *node;
	uint64_t n = 1;
	unsigned int i;

	if (!zp_blk_ok(sb, blk)) {
		r->bad++;
		return 0;
	}
	if (data && !level)
		return reach_data(r, blk);
	if (zp_bit_test(r->seen, blk)) {
		r->twice++;
		return 1;
	}
	zp_bit_assign(r->seen, blk, true);
	if (!level)
		return 1;
	node = zp_block(sb, blk);
	for (i = 0; i < ZPMFS_MAP_FANOUT; i++)
		if (node[i])
			n += reach_tree(sb, r, node[i], level - 1, data);
	return n;
}

/* Blocks inode ino reaches (map and xattr block), marked in r */
static uint64_t reach_inode(struct zus_sb *sb, struct reach *r, uint64_t ino)
{
	struct zpmfs_inode *pi = zp_pi(sb, ino);
	uint64_t n = 0;

	if (pi->map_root && pi->map_height <= ZPMFS_MAP_MAX_HEIGHT)
		n += reach_tree(sb, r, pi->map_root, pi->map_height,
				S_ISREG(pi->mode));
	if (pi->xattr_block)
		n += reach_tree(sb, r, pi->xattr_block, 0, false);
	return n;
}

static void reach_free(struct reach *r)
{
	free(r->seen);
	free(r->cnt);
}

/* What the refcount table should hold for blk: owners beyond the first */
static uint32_t rc_want(const struct reach *r, uint64_t blk)
{
	return r->cnt[blk] ? r->cnt[blk] - 1 : 0;
}

#ifdef ZPMFS_DEBUG
/*
 * Blocks whose refcount is not what the maps say (without the table: data
 * blocks reached more than once); *first gets the first of them.
 */
static uint64_t rc_wrong(struct zus_sb *sb, const struct reach *r,
			 uint64_t *first)
{
	uint64_t b, n = 0;

	for (b = sb->sbc.data_start; b < sb->sbc.total_blocks; b++)
		if (zp_rc(sb, b) != rc_want(r, b) && !n++)
			*first = b;
	return n;
}
#endif

static int reach_all(struct zus_sb *sb, struct reach *r)
{
	uint64_t ino;

	memset(r, 0, sizeof(*r));
	r->seen = calloc(ZP_DIV_UP(sb->sbc.total_blocks, 64), sizeof(uint64_t));
	r->cnt = calloc(sb->sbc.total_blocks, sizeof(uint32_t));
	if (!r->seen || !r->cnt) {
		reach_free(r);
		return -ENOMEM;
	}
	/* members' tables are in use for good, like the metadata */
	for (ino = 0; ino < sb->nmtab; ino++)
		zp_bit_assign(r->seen, sb->mtab[ino], true);
	for (ino = 1; ino <= sb->sbc.inode_count; ino++) {
		struct zpmfs_inode *pi = zp_pi(sb, ino);

		if (pi->mode && reach_inode(sb, r, ino) != pi->blocks &&
		    !r->miscounted++)
			r->first_ino = ino;
	}
	return 0;
}

/*
 * A crash between raising a count and storing the pointer, or between
 * clearing a pointer and lowering the count, leaves a count too high:
 * set every count to what the maps say.
 */
static void reclaim_rc(struct zus_sb *sb, const struct reach *r)
{
	uint64_t b, n = 0;

	if (!sb->rc)
		return;
	for (b = sb->sbc.data_start; b < sb->sbc.total_blocks; b++) {
		if (zp_rc(sb, b) == rc_want(r, b))
			continue;
		atomic_store(&sb->rc[b], rc_want(r, b));
		pmem_flush((const void *)&sb->rc[b], sizeof(uint32_t));
		n++;
	}
	pmem_drain();
	if (n)
		zp_log(sb, "recounted %lu block reference count(s)",
		       (unsigned long)n);
}

/*
 * Give back data blocks marked used that no inode reaches.  Called at
 * mount, before any operation and before the allocator counts its groups'
 * free blocks.  Blocks reached but marked free (a crash cannot leave
 * those: bits are set before pointers are stored) are left to fsck.
 */
int64_t zp_reclaim(struct zus_sb *sb)
{
	uint64_t b, n = 0;
	struct reach r;
	int err;

	err = reach_all(sb, &r);
	if (err)
		return err;
	for (b = sb->sbc.data_start; b < sb->sbc.total_blocks; b++) {
		if (!zp_bit_test(sb->bitmap, b) || zp_bit_test(r.seen, b))
			continue;
		zp_bit_assign(sb->bitmap, b, false);
		n++;
	}
	if (n)
		pmem_persist(sb->bitmap, ZP_DIV_UP(sb->sbc.total_blocks, 64) *
			     sizeof(uint64_t));
	reclaim_rc(sb, &r);
	reach_free(&r);
	return (int64_t)n;
}

#ifdef ZPMFS_DEBUG
/*
 * The invariant, checked with no operation in flight: every data block is
 * marked used iff some live inode reaches it, no block is reached twice,
 * each inode's blocks count is what its map and xattr block hold, and the
 * groups' free counts add up to the bitmap's free bits.
 */
void zp_check_alloc(struct zus_sb *sb, const char *after)
{
	uint64_t b, leaked = 0, lost = 0, nfree = 0, first_leak = 0;
	uint64_t rcbad, first_rc = 0;
	unsigned int g;
	struct reach r;

	if (reach_all(sb, &r))
		return;
	rcbad = rc_wrong(sb, &r, &first_rc);
	for (b = sb->sbc.data_start; b < sb->sbc.total_blocks; b++) {
		bool used = zp_bit_test(sb->bitmap, b);
		bool reached = zp_bit_test(r.seen, b);

		if (used && !reached && !leaked++)
			first_leak = b;
		lost += !used && reached;
	}
	for (g = 0; g < sb->ngroups; g++)
		nfree += atomic_load(&sb->groups[g].nfree);
	for (b = sb->groups[0].start; b < sb->groups[sb->ngroups - 1].end; b++)
		nfree -= !zp_bit_test(sb->bitmap, b);
	reach_free(&r);
	if (!leaked && !lost && !r.twice && !r.bad && !r.miscounted &&
	    !nfree && !rcbad)
		return;
	zp_log(sb, "check after %s: %lu leaked (first %lu), %lu reached but "
	       "free, %lu reached twice, %lu bad pointers, %lu inode counts "
	       "off (first %lu), group free counts off by %ld, %lu refcounts "
	       "wrong (first %lu)", after,
	       (unsigned long)leaked, (unsigned long)first_leak,
	       (unsigned long)lost, (unsigned long)r.twice,
	       (unsigned long)r.bad, (unsigned long)r.miscounted,
	       (unsigned long)r.first_ino, (long)nfree, (unsigned long)rcbad,
	       (unsigned long)first_rc);
	abort();
}
#endif /* ZPMFS_DEBUG */

#ifdef ZPMFS_DEBUG
/*
 * zp_debug_ops: every operation runs under sb->dbg_lock for reading, and
 * one that may allocate or free is followed by zp_check_alloc() under it
 * for writing, so the check sees no operation half done.
 */
static void dbg_enter(struct zus_sb *sb)
{
	pthread_rwlock_rdlock(&sb->dbg_lock);
}

static void dbg_exit(struct zus_sb *sb, const char *op, bool check)
{
	pthread_rwlock_unlock(&sb->dbg_lock);
	if (!check || atomic_fetch_add(&sb->dbg_ops, 1) % sb->dbg_every)
		return;
	pthread_rwlock_wrlock(&sb->dbg_lock);
	zp_check_alloc(sb, op);
	pthread_rwlock_unlock(&sb->dbg_lock);
}

/* WRAP(op, checked, return type, (params), (args)) */
#define WRAP(op, chk, type, params, args)				\
static type dbg_##op params						\
{									\
	type ret;							\
									\
	dbg_enter(sb);							\
	ret = zp_ops.op args;						\
	dbg_exit(sb, #op, chk);						\
	return ret;							\
}

static int dbg_mount(const struct zus_mount_info *mi, struct zus_sb **sbp,
		     struct zus_mount_out *out)
{
	int err = zp_ops.mount(mi, sbp, out);
	const char *every;

	if (err)
		return err;
	pthread_rwlock_init(&(*sbp)->dbg_lock, NULL);
	/* a test of 100 000 creates would take hours checking every one */
	every = getenv("ZPMFS_CHECK_EVERY");
	(*sbp)->dbg_every = every && atol(every) > 0 ? atol(every) : 1;
	zp_check_alloc(*sbp, "mount");
	return 0;
}

static void dbg_umount(struct zus_sb *sb)
{
	zp_check_alloc(sb, "the last operation before umount");
	pthread_rwlock_destroy(&sb->dbg_lock);
	zp_ops.umount(sb);
}

WRAP(remount, true, int, (struct zus_sb *sb, const char *options,
	uint32_t flags, struct zus_mount_out *out), (sb, options, flags, out))
WRAP(statfs, false, int, (struct zus_sb *sb, struct zufs_statfs *st),
     (sb, st))
WRAP(sync_fs, false, int, (struct zus_sb *sb, bool wait), (sb, wait))
WRAP(lookup, false, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t dir, const char *name, size_t len, struct zufs_attr *attr),
     (sb, ctx, dir, name, len, attr))
WRAP(getattr, false, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, struct zufs_attr *attr), (sb, ctx, ino, attr))
WRAP(setattr, true, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, uint32_t mask, const struct zufs_attr *set,
	struct zufs_attr *attr), (sb, ctx, ino, mask, set, attr))
WRAP(create, true, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t dir, const char *name, size_t len, uint32_t mode,
	uint32_t rdev, uint32_t uid, uint32_t gid, uint32_t iflags,
	const char *symlink, size_t symlen, bool tmpfile,
	struct zufs_attr *attr, struct zufs_attr *dir_attr),
     (sb, ctx, dir, name, len, mode, rdev, uid, gid, iflags, symlink, symlen,
      tmpfile, attr, dir_attr))
WRAP(link, true, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, uint64_t dir, const char *name, size_t len,
	struct zufs_attr *attr, struct zufs_attr *dir_attr),
     (sb, ctx, ino, dir, name, len, attr, dir_attr))
WRAP(unlink, true, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t dir, const char *name, size_t len, bool is_dir,
	struct zufs_attr *attr, struct zufs_attr *dir_attr),
     (sb, ctx, dir, name, len, is_dir, attr, dir_attr))
WRAP(rename, true, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t old_dir, const char *old_name, size_t old_len,
	uint64_t new_dir, const char *new_name, size_t new_len,
	uint32_t flags, struct zus_rename_out *out),
     (sb, ctx, old_dir, old_name, old_len, new_dir, new_name, new_len, flags,
      out))
WRAP(readdir, false, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t dir, uint64_t pos, zus_filldir_t fill, void *buf, bool *eof),
     (sb, ctx, dir, pos, fill, buf, eof))
WRAP(readlink, false, ssize_t, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, char *buf, size_t size), (sb, ctx, ino, buf, size))
WRAP(evict, true, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino), (sb, ctx, ino))
WRAP(get_blocks, flags != 0, int, (struct zus_sb *sb,
	const struct zus_ctx *ctx, uint64_t ino, uint64_t offset,
	uint64_t length, uint32_t flags, uint64_t size_after,
	struct zufs_extent *ext, unsigned int max_ext, struct zufs_attr *attr),
     (sb, ctx, ino, offset, length, flags, size_after, ext, max_ext, attr))
WRAP(read, false, ssize_t, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, void *buf, size_t len, uint64_t offset),
     (sb, ctx, ino, buf, len, offset))
WRAP(write, true, ssize_t, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, const void *buf, size_t len, uint64_t offset,
	struct zufs_attr *attr), (sb, ctx, ino, buf, len, offset, attr))
WRAP(fsync, false, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, uint64_t offset, uint64_t length, bool datasync),
     (sb, ctx, ino, offset, length, datasync))
WRAP(fallocate, true, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, uint32_t mode, uint64_t offset, uint64_t length,
	struct zufs_attr *attr), (sb, ctx, ino, mode, offset, length, attr))
WRAP(seek, false, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, uint64_t offset, int whence, uint64_t *result),
     (sb, ctx, ino, offset, whence, result))
WRAP(clone, true, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t src_ino, uint64_t src_off, uint64_t dst_ino,
	uint64_t dst_off, uint64_t length, uint32_t flags, uint64_t *done,
	struct zufs_attr *attr),
     (sb, ctx, src_ino, src_off, dst_ino, dst_off, length, flags, done,
      attr))
WRAP(getxattr, false, ssize_t, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, const char *name, void *value, size_t size),
     (sb, ctx, ino, name, value, size))
WRAP(setxattr, true, int, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, const char *name, const void *value, size_t size,
	int flags, struct zufs_attr *attr),
     (sb, ctx, ino, name, value, size, flags, attr))
WRAP(listxattr, false, ssize_t, (struct zus_sb *sb, const struct zus_ctx *ctx,
	uint64_t ino, char *list, size_t size), (sb, ctx, ino, list, size))

const struct zus_fs_ops zp_debug_ops = {
	.mount		= dbg_mount,
	.umount		= dbg_umount,
	.remount	= dbg_remount,
	.statfs		= dbg_statfs,
	.sync_fs	= dbg_sync_fs,
	.lookup		= dbg_lookup,
	.getattr	= dbg_getattr,
	.setattr	= dbg_setattr,
	.create		= dbg_create,
	.link		= dbg_link,
	.unlink		= dbg_unlink,
	.rename		= dbg_rename,
	.readdir	= dbg_readdir,
	.readlink	= dbg_readlink,
	.evict		= dbg_evict,
	.get_blocks	= dbg_get_blocks,
	.read		= dbg_read,
	.write		= dbg_write,
	.fsync		= dbg_fsync,
	.fallocate	= dbg_fallocate,
	.seek		= dbg_seek,
	.clone		= dbg_clone,
	.getxattr	= dbg_getxattr,
	.setxattr	= dbg_setxattr,
	.listxattr	= dbg_listxattr,
};
#endif /* ZPMFS_DEBUG */
