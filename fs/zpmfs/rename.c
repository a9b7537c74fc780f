// SPDX-License-Identifier: BSD-3-Clause
/*
 * rename.c - rename with RENAME_NOREPLACE, RENAME_EXCHANGE and
 * RENAME_WHITEOUT, within a directory and across directories.
 *
 * Lock order: sb->rename_lock (cross-directory only, so the tree shape
 * cannot change under us), then the two directories (an ancestor before
 * its descendant, otherwise ascending inode number), then the moved inode
 * and the target in ascending inode number.
 *
 * Crash consistency: a rename is several pmem stores (new name, old name,
 * link counts, parents); they run as one journal op, begun once every
 * lock is held, so a crash shows the rename wholly done or not at all.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "zpmfs.h"

#define R_NOREPLACE	(1U << 0)
#define R_EXCHANGE	(1U << 1)
#define R_WHITEOUT	(1U << 2)

struct rn {
	struct zus_sb *sb;
	const struct zus_ctx *ctx;
	uint64_t odir, ndir;		/* directories */
	struct zinode *ozi, *nzi;
	struct zpmfs_inode *opi, *npi;
	const char *oname, *nname;
	size_t olen, nlen;
	uint32_t flags;
	uint64_t src, tgt;		/* tgt 0: no target */
	int64_t oslot, nslot;
	struct zinode *szi, *tzi;
	uint64_t wh;			/* whiteout inode */
};

/* true if anc is dir or one of its ancestors (rename_lock held) */
static bool is_ancestor(struct zus_sb *sb, uint64_t anc, uint64_t dir)
{
	uint64_t depth = 0;

	while (zp_ino_valid(sb, dir) && depth++ < sb->sbc.inode_count) {
		if (dir == anc)
			return true;
		if (dir == ZPMFS_ROOT_INO)
			return false;
		dir = zp_pi(sb, dir)->parent;
	}
	return false;
}

static int lock_dirs(struct rn *r)
{
	struct zinode *first = r->ozi, *second = r->nzi;
	uint64_t f = r->odir, s = r->ndir;
	int err;

	if (r->odir == r->ndir)
		return zp_dir_lock(r->sb, r->odir, r->ozi, true);
	if (is_ancestor(r->sb, r->ndir, r->odir) ||
	    (!is_ancestor(r->sb, r->odir, r->ndir) && r->ndir < r->odir)) {
		first = r->nzi;
		second = r->ozi;
		f = r->ndir;
		s = r->odir;
	}
	err = zp_dir_lock(r->sb, f, first, true);
	if (err)
		return err;
	err = zp_dir_lock(r->sb, s, second, true);
	if (err)
		pthread_rwlock_unlock(&first->lock);
	return err;
}

static void unlock_dirs(struct rn *r)
{
	pthread_rwlock_unlock(&r->ozi->lock);
	if (r->odir != r->ndir)
		pthread_rwlock_unlock(&r->nzi->lock);
}

static void lock_children(struct rn *r)
{
	if (!r->tzi || r->tgt == r->src) {
		pthread_rwlock_wrlock(&r->szi->lock);
		return;
	}
	if (r->src < r->tgt) {
		pthread_rwlock_wrlock(&r->szi->lock);
		pthread_rwlock_wrlock(&r->tzi->lock);
	} else {
		pthread_rwlock_wrlock(&r->tzi->lock);
		pthread_rwlock_wrlock(&r->szi->lock);
	}
}

static void unlock_children(struct rn *r)
{
	pthread_rwlock_unlock(&r->szi->lock);
	if (r->tzi && r->tgt != r->src)
		pthread_rwlock_unlock(&r->tzi->lock);
}

/* Everything that can fail before the first store */
static int rename_check(struct rn *r)
{
	struct zus_sb *sb = r->sb;
	uint32_t smode, tmode;

	if (!r->opi->nlink || !r->npi->nlink)
		return -ENOENT;
	r->oslot = zp_dir_find(sb, r->odir, r->ozi, r->oname, r->olen,
			       &r->src);
	if (r->oslot < 0)
		return (int)r->oslot;
	r->nslot = zp_dir_find(sb, r->ndir, r->nzi, r->nname, r->nlen,
			       &r->tgt);
	if (r->nslot < 0)
		r->tgt = 0;
	/* like the VFS: source an ancestor of the target -> EINVAL, target
	 * an ancestor of the source -> ENOTEMPTY */
	if (r->src == r->ndir)
		return -EINVAL;
	if (r->tgt == r->odir)
		return r->flags & R_EXCHANGE ? -EINVAL : -ENOTEMPTY;
	r->szi = zp_zi_live(sb, r->src);
	r->tzi = r->tgt ? zp_zi_live(sb, r->tgt) : NULL;
	if (!r->szi || (r->tgt && !r->tzi))
		return -EIO;
	smode = zp_pi(sb, r->src)->mode;
	if (S_ISDIR(smode) && r->odir != r->ndir &&
	    is_ancestor(sb, r->src, r->ndir))
		return -EINVAL;
	if (!r->tgt)
		return r->flags & R_EXCHANGE ? -ENOENT : 0;
	if (r->flags & R_NOREPLACE)
		return -EEXIST;
	tmode = zp_pi(sb, r->tgt)->mode;
	/* A target that is an ancestor of the source's dir: refuse it here,
	 * before its lock would be taken after its descendant's. */
	if (S_ISDIR(tmode) && r->odir != r->ndir &&
	    is_ancestor(sb, r->tgt, r->odir))
		return r->flags & R_EXCHANGE ? -EINVAL : -ENOTEMPTY;
	if (r->flags & R_EXCHANGE)
		return 0;
	if (r->src == r->tgt)
		return 0;
	if (S_ISDIR(smode) && !S_ISDIR(tmode))
		return -ENOTDIR;
	if (!S_ISDIR(smode) && S_ISDIR(tmode))
		return -EISDIR;
	return 0;
}

static void persist_inode(struct zpmfs_inode *pi)
{
	pmem_persist(pi, offsetof(struct zpmfs_inode, reserved));
}

/* A directory changed parents: fix ".." accounting */
static void move_dir(struct rn *r, uint64_t ino, uint64_t from_dir,
		     uint64_t to_dir)
{
	struct zpmfs_inode *pi = zp_pi(r->sb, ino);

	if (!S_ISDIR(pi->mode) || from_dir == to_dir)
		return;
	pi->parent = to_dir;
	zp_pi(r->sb, from_dir)->nlink--;
	zp_pi(r->sb, to_dir)->nlink++;
}

static int do_exchange(struct rn *r)
{
	struct zus_sb *sb = r->sb;
	struct zpmfs_inode *spi = zp_pi(sb, r->src), *tpi = zp_pi(sb, r->tgt);

	if (r->src == r->tgt)
		return 0;
	zp_dir_retarget(sb, r->ndir, r->nslot, r->src, spi->mode);
	zp_dir_retarget(sb, r->odir, r->oslot, r->tgt, tpi->mode);
	move_dir(r, r->src, r->odir, r->ndir);
	move_dir(r, r->tgt, r->ndir, r->odir);
	zp_touch(spi, r->ctx, false, true);
	zp_touch(tpi, r->ctx, false, true);
	persist_inode(spi);
	persist_inode(tpi);
	return 0;
}

static int make_whiteout(struct rn *r)
{
	struct zufs_attr a, d;
	int err;

	/* Made before any lock is taken, as an unnamed inode (nlink 0: a
	 * crash turns it into an orphan the next mount frees); it becomes
	 * the char device 0/0 when it takes the old name. */
	err = zp_create(r->sb, r->ctx, r->odir, NULL, 0, S_IFREG, 0,
			r->ctx->uid, r->ctx->gid, 0, NULL, 0, true, &a, &d);
	if (err)
		return err;
	r->wh = a.ino;
	return 0;
}

static void remove_old(struct rn *r)
{
	struct zpmfs_inode *wpi;

	if (!r->wh) {
		zp_dir_remove(r->sb, r->odir, r->ozi, r->oslot, r->olen);
		return;
	}
	wpi = zp_pi(r->sb, r->wh);
	wpi->mode = S_IFCHR;
	wpi->rdev = 0;
	wpi->nlink = 1;
	persist_inode(wpi);
	zp_dir_retarget(r->sb, r->odir, r->oslot, r->wh, wpi->mode);
}

static int do_move(struct rn *r)
{
	struct zus_sb *sb = r->sb;
	struct zpmfs_inode *spi = zp_pi(sb, r->src), *tpi;
	int err;

	if (r->src == r->tgt)
		return 0;	/* two links of one inode: POSIX says no-op */
	if (!r->tgt) {
		err = zp_dir_add(sb, r->ctx, r->ndir, r->nzi, r->nname,
				 r->nlen, r->src, spi->mode);
		if (err)
			return err;
	} else {
		if (S_ISDIR(spi->mode) && !zp_dir_empty(sb, r->tgt, r->tzi))
			return -ENOTEMPTY;
		zp_dir_retarget(sb, r->ndir, r->nslot, r->src, spi->mode);
		tpi = zp_pi(sb, r->tgt);
		if (S_ISDIR(tpi->mode)) {
			tpi->nlink = 0;
			r->npi->nlink--;
		} else if (tpi->nlink) {
			tpi->nlink--;
		}
		zp_touch(tpi, r->ctx, false, true);
		persist_inode(tpi);
	}
	remove_old(r);
	move_dir(r, r->src, r->odir, r->ndir);
	zp_touch(spi, r->ctx, false, true);
	persist_inode(spi);
	return 0;
}

static void rename_out(struct rn *r, struct zus_rename_out *out)
{
	memset(out, 0, sizeof(*out));
	zp_fill_attr(r->sb, r->src, &out->attr);
	if (r->tgt)
		zp_fill_attr(r->sb, r->tgt, &out->target_attr);
	zp_fill_attr(r->sb, r->odir, &out->old_dir_attr);
	zp_fill_attr(r->sb, r->ndir, &out->new_dir_attr);
	if (r->wh)
		zp_fill_attr(r->sb, r->wh, &out->whiteout_attr);
}

/* Everything the rename may change is logged before the first store */
static void journal_begin(struct rn *r)
{
	struct zus_sb *sb = r->sb;

	zj_begin(sb, r->ctx);
	zj_log_more(r->opi, ZJ_INODE);
	zj_log_more(r->npi, ZJ_INODE);
	if (r->tgt)
		zj_log_more(zp_pi(sb, r->tgt), ZJ_INODE);
	if (r->wh)
		zj_log_more(zp_pi(sb, r->wh), ZJ_INODE);
	zj_log(zp_pi(sb, r->src), ZJ_INODE);	/* one fence for all */
}

static int rename_locked(struct rn *r, struct zus_rename_out *out)
{
	int err;

	err = rename_check(r);
	if (err)
		return err;
	lock_children(r);
	journal_begin(r);
	if (r->flags & R_EXCHANGE)
		err = do_exchange(r);
	else
		err = do_move(r);
	if (!err && r->src != r->tgt) {
		zp_touch(r->opi, r->ctx, true, true);
		zp_touch(r->npi, r->ctx, true, true);
		persist_inode(r->opi);
		persist_inode(r->npi);
	}
	zj_commit();
	if (!err)
		rename_out(r, out);
	unlock_children(r);
	return err;
}

static int rename_args(struct rn *r)
{
	int err;

	if (r->flags & ~(R_NOREPLACE | R_EXCHANGE | R_WHITEOUT))
		return -EINVAL;
	if ((r->flags & R_EXCHANGE) && (r->flags & ~R_EXCHANGE))
		return -EINVAL;
	err = zp_name_check(r->oname, r->olen);
	if (!err)
		err = zp_name_check(r->nname, r->nlen);
	if (!err)
		err = zp_dir_zi(r->sb, r->odir, &r->ozi);
	if (!err)
		err = zp_dir_zi(r->sb, r->ndir, &r->nzi);
	if (!err && r->sb->rdonly)
		err = -EROFS;
	return err;
}

int zp_rename(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t old_dir,
	      const char *old_name, size_t old_len, uint64_t new_dir,
	      const char *new_name, size_t new_len, uint32_t flags,
	      struct zus_rename_out *out)
{
	struct rn r = {
		.sb = sb, .ctx = ctx, .odir = old_dir, .ndir = new_dir,
		.oname = old_name, .olen = old_len, .nname = new_name,
		.nlen = new_len, .flags = flags,
	};
	bool cross = old_dir != new_dir;
	int err;

	err = rename_args(&r);
	if (err)
		return err;
	r.opi = zp_pi(sb, old_dir);
	r.npi = zp_pi(sb, new_dir);
	if (flags & R_WHITEOUT) {
		err = make_whiteout(&r);
		if (err)
			return err;
	}
	if (cross)
		pthread_mutex_lock(&sb->rename_lock);
	err = lock_dirs(&r);
	if (err)
		goto out_unlock_rename;
	err = rename_locked(&r, out);
	unlock_dirs(&r);
out_unlock_rename:
	if (cross)
		pthread_mutex_unlock(&sb->rename_lock);
	if (err && r.wh)
		zp_evict(sb, ctx, r.wh);
	return err;
}
