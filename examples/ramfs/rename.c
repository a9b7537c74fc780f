// SPDX-License-Identifier: BSD-3-Clause
/*
 * rename.c - zramfs rename: plain (replacing a target of the right kind),
 * RENAME_NOREPLACE and RENAME_EXCHANGE.  RENAME_WHITEOUT is for overlayfs
 * upper layers and not offered (-EINVAL, as on filesystems without it).
 * The kernel's VFS has already refused moving a directory into itself.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "ramfs.h"

/* a directory that changes parent moves one ".." link between them */
static void reparent(struct rf_inode *ip, struct rf_inode *from,
		     struct rf_inode *to)
{
	if (!S_ISDIR(ip->attr.mode) || from == to)
		return;
	from->attr.nlink--;
	to->attr.nlink++;
	ip->parent = to->attr.ino;
}

static int check_target(const struct rf_inode *src, const struct rf_inode *tgt)
{
	if (S_ISDIR(src->attr.mode) && !S_ISDIR(tgt->attr.mode))
		return -ENOTDIR;
	if (!S_ISDIR(src->attr.mode) && S_ISDIR(tgt->attr.mode))
		return -EISDIR;
	if (S_ISDIR(tgt->attr.mode) && tgt->nents)
		return -ENOTEMPTY;
	return 0;
}

/* the target's name now names src: the target loses a link */
static void replace(struct rf_inode *nd, struct rf_dirent *nde,
		    struct rf_inode *src, struct rf_inode *tgt)
{
	nde->ino = src->attr.ino;
	if (S_ISDIR(tgt->attr.mode)) {
		tgt->attr.nlink = 0;
		nd->attr.nlink--;
	} else {
		tgt->attr.nlink--;
	}
}

static int do_rename(struct zus_sb *sb, struct rf_inode *od,
		     const char *on, size_t ol, struct rf_inode *nd,
		     const char *nn, size_t nl, uint32_t flags,
		     struct rf_inode **srcp, struct rf_inode **tgtp)
{
	struct rf_dirent *ode = rf_find(od, on, ol), *nde = rf_find(nd, nn, nl);
	struct rf_inode *src, *tgt;
	int err;

	if (!ode)
		return -ENOENT;
	src = *srcp = rf_get(sb, ode->ino);
	tgt = *tgtp = nde ? rf_get(sb, nde->ino) : NULL;
	if (flags & RENAME_EXCHANGE) {
		if (!tgt)
			return -ENOENT;
		ode->ino = tgt->attr.ino;
		nde->ino = src->attr.ino;
		reparent(src, od, nd);
		reparent(tgt, nd, od);
		return 0;
	}
	if (tgt && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (tgt == src)		/* two links of one inode: nothing to do */
		return 0;
	if (tgt) {
		err = check_target(src, tgt);
		if (err)
			return err;
		replace(nd, nde, src, tgt);
	} else {
		err = rf_add(sb, nd, nn, nl, src->attr.ino);
		if (err)
			return err;
		ode = rf_find(od, on, ol);	/* rf_add may move it */
	}
	rf_remove(sb, od, ode);
	reparent(src, od, nd);
	return 0;
}

int rf_rename(struct zus_sb *sb, const struct zus_ctx *ctx,
	      uint64_t old_dir, const char *old_name, size_t old_len,
	      uint64_t new_dir, const char *new_name, size_t new_len,
	      uint32_t flags, struct zus_rename_out *out)
{
	struct rf_inode *od, *nd, *src = NULL, *tgt = NULL;
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	pthread_mutex_lock(&sb->lock);
	err = rf_get_dir(sb, old_dir, &od);
	if (!err)
		err = rf_get_dir(sb, new_dir, &nd);
	if (!err)
		err = do_rename(sb, od, old_name, old_len, nd, new_name,
				new_len, flags, &src, &tgt);
	if (!err) {
		rf_touch(src, ctx, false);
		rf_touch(od, ctx, true);
		rf_touch(nd, ctx, true);
		out->attr = src->attr;
		if (tgt && tgt != src) {
			rf_touch(tgt, ctx, false);
			out->target_attr = tgt->attr;
		}
		out->old_dir_attr = od->attr;
		out->new_dir_attr = nd->attr;
	}
	pthread_mutex_unlock(&sb->lock);
	return err;
}
