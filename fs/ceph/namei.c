// SPDX-License-Identifier: BSD-3-Clause
/*
 * namei.c - lookup, create (every type), link, unlink, rename, readlink
 * and evict, with libcephfs's low-level calls on the nodes' Inodes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "zceph.h"

/* put a fresh Inode reference into the table and answer its attr */
static int install(struct zus_sb *sb, struct Inode *in,
		   const struct ceph_statx *stx, struct zufs_attr *attr)
{
	struct zc_node *n;

	n = zc_node_install(sb, in, stx->stx_ino);
	if (!n)
		return -ENOMEM;
	zc_fill_attr(stx, attr);
	zc_node_put(sb, n);
	return 0;
}

static int lookup_in(struct zus_sb *sb, struct zc_node *dir, const char *name,
		     struct Inode **in, struct ceph_statx *stx)
{
	return ceph_ll_lookup(sb->cm, dir->in, name, in, stx, ZC_STATX_WANT,
			      AT_SYMLINK_NOFOLLOW, sb->perms);
}

/* the NUL-terminated name and a reference on its directory's node */
static int dir_name_get(struct zus_sb *sb, uint64_t dir, const char *name,
			size_t len, char *nm, struct zc_node **d)
{
	int err = zc_name(nm, name, len);

	return err ? err : zc_node_get(sb, dir, d);
}

int zc_lookup(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, struct zufs_attr *attr)
{
	char nm[ZUFS_NAME_MAX + 1];
	struct ceph_statx stx;
	struct zc_node *d;
	struct Inode *in;
	int err;

	(void)ctx;
	err = dir_name_get(sb, dir, name, len, nm, &d);
	if (err)
		return err;
	err = lookup_in(sb, d, nm, &in, &stx);
	if (!err)
		err = install(sb, in, &stx, attr);
	zc_node_put(sb, d);
	return err;
}

static int make_node(struct zus_sb *sb, struct zc_node *d, const char *nm,
		     uint32_t mode, uint32_t rdev, const char *symlink,
		     size_t symlen, UserPerm *owner, struct zufs_attr *attr)
{
	struct ceph_statx stx;
	struct Inode *in = NULL;
	struct Fh *fh = NULL;
	char *target;
	int err;

	switch (mode & S_IFMT) {
	case S_IFREG:
		err = ceph_ll_create(sb->cm, d->in, nm, mode,
				     O_CREAT | O_EXCL | O_RDWR, &in, &fh, &stx,
				     ZC_STATX_WANT, AT_SYMLINK_NOFOLLOW, owner);
		/* data goes through the node's own Fh, opened as root */
		if (!err)
			ceph_ll_close(sb->cm, fh);
		break;
	case S_IFDIR:
		err = ceph_ll_mkdir(sb->cm, d->in, nm, mode, &in, &stx,
				    ZC_STATX_WANT, AT_SYMLINK_NOFOLLOW, owner);
		break;
	case S_IFLNK:
		target = strndup(symlink ? symlink : "", symlen);
		if (!target)
			return -ENOMEM;
		err = ceph_ll_symlink(sb->cm, d->in, nm, target, &in, &stx,
				      ZC_STATX_WANT, AT_SYMLINK_NOFOLLOW, owner);
		free(target);
		break;
	default:
		err = ceph_ll_mknod(sb->cm, d->in, nm, mode, zc_decode_dev(rdev),
				    &in, &stx, ZC_STATX_WANT,
				    AT_SYMLINK_NOFOLLOW, owner);
		break;
	}
	if (err)
		return err;
	return install(sb, in, &stx, attr);
}

int zc_create(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, uint32_t mode, uint32_t rdev,
	      uint32_t uid, uint32_t gid, uint32_t iflags,
	      const char *symlink, size_t symlen, bool tmpfile,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	char nm[ZUFS_NAME_MAX + 1];
	struct zufs_attr before;
	struct zc_node *d;
	UserPerm *owner;
	int err;

	(void)ctx;
	(void)iflags;	/* CephFS has no inode flags to inherit */
	/* libcephfs 16 has no unnamed inodes (O_TMPFILE) */
	if (tmpfile)
		return -EOPNOTSUPP;
	err = zc_name(nm, name, len);
	if (err)
		return err;
	owner = ceph_userperm_new(uid, gid, 0, NULL);
	if (!owner)
		return -ENOMEM;
	err = zc_node_get(sb, dir, &d);
	if (err)
		goto out_perm;
	zc_getattr_cached(sb, d->in, &before);
	err = make_node(sb, d, nm, mode, rdev, symlink, symlen, owner, attr);
	if (!err)
		err = zc_getattr_after(sb, d->in, &before, dir_attr);
	zc_node_put(sb, d);
out_perm:
	ceph_userperm_destroy(owner);
	return err;
}

int zc_link(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t dir, const char *name, size_t len,
	    struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	char nm[ZUFS_NAME_MAX + 1];
	struct zufs_attr nbefore, dbefore;
	struct zc_node *n, *d;
	int err;

	(void)ctx;
	err = zc_name(nm, name, len);
	if (err)
		return err;
	err = zc_node_get(sb, ino, &n);
	if (err)
		return err;
	err = zc_node_get(sb, dir, &d);
	if (err)
		goto out_put;
	zc_getattr_cached(sb, n->in, &nbefore);
	zc_getattr_cached(sb, d->in, &dbefore);
	err = ceph_ll_link(sb->cm, n->in, d->in, nm, sb->perms);
	if (!err)
		err = zc_getattr_after(sb, n->in, &nbefore, attr);
	if (!err)
		err = zc_getattr_after(sb, d->in, &dbefore, dir_attr);
	zc_node_put(sb, d);
out_put:
	zc_node_put(sb, n);
	return err;
}

/*
 * The attr of an inode that just lost a name, @before its lookup's.  Its
 * last name (a directory has one): gone, so what it was with no link and
 * a new ctime, without asking the MDS, which would be a round trip for
 * each unlink (the unlink took this client's caps on the inode, and its
 * reply leaves the cached nlink as it was).  One of several links: the
 * MDS's, or if it no longer answers for the inode, one link less.
 */
static void attr_after_unlink(struct zus_sb *sb, struct Inode *in,
			      const struct ceph_statx *before,
			      struct zufs_attr *attr)
{
	struct timespec now;

	if (!S_ISDIR(before->stx_mode) && before->stx_nlink > 1 &&
	    !zc_getattr_in(sb, in, attr))
		return;
	zc_fill_attr(before, attr);
	attr->nlink = S_ISDIR(before->stx_mode) || !attr->nlink ?
		      0 : attr->nlink - 1;
	clock_gettime(CLOCK_REALTIME, &now);
	attr->ctime_sec = now.tv_sec;
	attr->ctime_nsec = now.tv_nsec;
}

int zc_unlink(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, bool is_dir,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	char nm[ZUFS_NAME_MAX + 1];
	struct zufs_attr before;
	struct ceph_statx stx;
	struct zc_node *d;
	struct Inode *in;
	int err;

	(void)ctx;
	err = dir_name_get(sb, dir, name, len, nm, &d);
	if (err)
		return err;
	err = lookup_in(sb, d, nm, &in, &stx);
	if (err)
		goto out_put;
	zc_getattr_cached(sb, d->in, &before);
	if (is_dir)
		err = ceph_ll_rmdir(sb->cm, d->in, nm, sb->perms);
	else
		err = ceph_ll_unlink(sb->cm, d->in, nm, sb->perms);
	if (!err) {
		attr_after_unlink(sb, in, &stx, attr);
		err = zc_getattr_after(sb, d->in, &before, dir_attr);
	}
	ceph_ll_put(sb->cm, in);
out_put:
	zc_node_put(sb, d);
	return err;
}

/*
 * A directory moved to another parent: libcephfs's reply updates the new
 * parent's subdirectory count but leaves the old parent's cached one (its
 * nlink) as it was, so take the one link off here.
 */
static void fix_old_dir_nlink(const struct zufs_attr *moved, uint32_t before,
			      struct zufs_attr *old_dir)
{
	if (S_ISDIR(moved->mode) && old_dir->nlink == before && before > 2)
		old_dir->nlink--;
}

static int do_rename(struct zus_sb *sb, struct zc_node *od, const char *onm,
		     struct zc_node *nd, const char *nnm, uint32_t flags,
		     struct zus_rename_out *out)
{
	struct ceph_statx tstx, stx;
	struct Inode *target = NULL, *in;
	struct zufs_attr before, nbefore;
	int err;

	err = lookup_in(sb, nd, nnm, &target, &tstx);
	if (!err && (flags & RENAME_NOREPLACE)) {
		err = -EEXIST;
		goto out_target;
	}
	if (err && err != -ENOENT)
		return err;
	zc_getattr_cached(sb, od->in, &before);
	zc_getattr_cached(sb, nd->in, &nbefore);
	err = ceph_ll_rename(sb->cm, od->in, onm, nd->in, nnm, sb->perms);
	if (err)
		goto out_target;
	err = lookup_in(sb, nd, nnm, &in, &stx);
	if (err)
		goto out_target;
	err = install(sb, in, &stx, &out->attr);
	if (!err && target)
		attr_after_unlink(sb, target, &tstx, &out->target_attr);
	if (!err)
		err = zc_getattr_after(sb, od->in, &before, &out->old_dir_attr);
	if (!err)
		err = zc_getattr_after(sb, nd->in, &nbefore,
				       &out->new_dir_attr);
	if (!err && od != nd)
		fix_old_dir_nlink(&out->attr, before.nlink, &out->old_dir_attr);
out_target:
	if (target)
		ceph_ll_put(sb->cm, target);
	return err;
}

int zc_rename(struct zus_sb *sb, const struct zus_ctx *ctx,
	      uint64_t old_dir, const char *old_name, size_t old_len,
	      uint64_t new_dir, const char *new_name, size_t new_len,
	      uint32_t flags, struct zus_rename_out *out)
{
	char onm[ZUFS_NAME_MAX + 1], nnm[ZUFS_NAME_MAX + 1];
	struct zc_node *od, *nd;
	int err;

	(void)ctx;
	/* CephFS renames have no EXCHANGE or WHITEOUT */
	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	err = zc_name(onm, old_name, old_len);
	if (!err)
		err = zc_name(nnm, new_name, new_len);
	if (err)
		return err;
	err = zc_node_get(sb, old_dir, &od);
	if (err)
		return err;
	err = zc_node_get(sb, new_dir, &nd);
	if (err)
		goto out_od;
	/*
	 * NOREPLACE is a check then a rename: one at a time on this mount;
	 * against another client creating the same name it is not atomic.
	 */
	pthread_mutex_lock(&sb->rename_lock);
	err = do_rename(sb, od, onm, nd, nnm, flags, out);
	pthread_mutex_unlock(&sb->rename_lock);
	zc_node_put(sb, nd);
out_od:
	zc_node_put(sb, od);
	return err;
}

ssize_t zc_readlink(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, char *buf, size_t size)
{
	struct zc_node *n;
	int err;

	(void)ctx;
	err = zc_node_get(sb, ino, &n);
	if (err)
		return err;
	err = ceph_ll_readlink(sb->cm, n->in, buf, size, sb->perms);
	zc_node_put(sb, n);
	return err;
}

int zc_evict(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino)
{
	(void)ctx;
	zc_node_evict(sb, ino);
	return 0;
}
