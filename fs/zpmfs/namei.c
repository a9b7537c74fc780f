// SPDX-License-Identifier: BSD-3-Clause
/*
 * namei.c - the namespace operations that change or search a directory:
 * lookup, create (every type, and tmpfile), link and unlink/rmdir.  The
 * entries themselves live in dir.c; rename has its own file.
 *
 * Every op that changes something runs as one journal op (journal.h):
 * begun with its inode locks held, each inode and dentry logged before it
 * is changed, committed before the locks are dropped.  A crash anywhere
 * in between rolls the op back at the next mount.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zpmfs.h"

/* Attributes of a child found under the locked dir */
static int child_attr(struct zus_sb *sb, uint64_t ino, struct zufs_attr *attr)
{
	struct zinode *zi = zp_zi_live(sb, ino);

	if (!zi)
		return -EIO;	/* a dentry pointing at a free inode */
	pthread_rwlock_rdlock(&zi->lock);
	zp_fill_attr(sb, ino, attr);
	pthread_rwlock_unlock(&zi->lock);
	return 0;
}

int zp_lookup(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, struct zufs_attr *attr)
{
	struct zinode *zi;
	uint64_t ino;
	int64_t slot;
	int err;

	(void)ctx;
	err = zp_dir_zi(sb, dir, &zi);
	if (err)
		return err;
	if (len == 1 && name[0] == '.')
		return zp_getattr(sb, ctx, dir, attr);
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return zp_getattr(sb, ctx, zp_pi(sb, dir)->parent, attr);
	err = zp_name_check(name, len);
	if (err)
		return err;
	err = zp_dir_lock(sb, dir, zi, false);
	if (err)
		return err;
	slot = zp_dir_find(sb, dir, zi, name, len, &ino);
	err = slot < 0 ? (int)slot : child_attr(sb, ino, attr);
	pthread_rwlock_unlock(&zi->lock);
	return err;
}

static int check_type(uint32_t *mode)
{
	switch (*mode & S_IFMT) {
	case 0:
		*mode |= S_IFREG;	/* mknod(2) with no type */
		return 0;
	case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFCHR:
	case S_IFBLK: case S_IFIFO: case S_IFSOCK:
		return 0;
	default:
		return -EINVAL;
	}
}

struct new_inode_args {
	uint64_t dir;
	uint32_t mode, rdev, uid, gid, iflags;
	const char *symlink;
	size_t symlen;
	bool tmpfile;
};

/* Initialize a freshly allocated inode on pmem */
static int init_inode(struct zus_sb *sb, const struct zus_ctx *ctx,
		      uint64_t ino, const struct new_inode_args *a)
{
	struct zpmfs_inode *pi = zp_pi(sb, ino);
	uint64_t gen = pi->generation + 1;
	int err;

	zj_log(pi, ZJ_INODE);
	memset(pi, 0, sizeof(*pi));
	pi->generation = gen;
	pi->uid = a->uid;
	pi->gid = a->gid;
	pi->rdev = S_ISCHR(a->mode) || S_ISBLK(a->mode) ? a->rdev : 0;
	pi->flags = a->iflags;
	pi->parent = a->dir;
	pi->nlink = a->tmpfile ? 0 : S_ISDIR(a->mode) ? 2 : 1;
	pi->atime = pi->mtime = pi->ctime = pi->btime = ctx->now.tv_sec;
	pi->atime_ns = pi->mtime_ns = pi->ctime_ns = pi->btime_ns =
		ctx->now.tv_nsec;
	if (S_ISLNK(a->mode)) {
		err = zp_symlink_set(sb, ctx, pi, a->symlink, a->symlen);
		if (err)
			return err;
	}
	/* The inode is complete before it gets a mode (= in use) and before
	 * a dentry names it. */
	pmem_persist(pi, sizeof(*pi));
	pi->mode = a->mode;
	pmem_persist(&pi->mode, sizeof(pi->mode));
	return 0;
}

static int new_inode(struct zus_sb *sb, const struct zus_ctx *ctx,
		     const struct new_inode_args *a, uint64_t *inop)
{
	struct zinode *zi;
	uint64_t ino;
	int err;

	err = zp_ialloc(sb, ctx, &ino);
	if (err)
		return err;
	zi = zp_zi(sb, ino);
	if (!zi) {
		err = -ENOMEM;
		goto out_ifree;
	}
	err = init_inode(sb, ctx, ino, a);
	if (err)
		goto out_free_blocks;
	if (S_ISDIR(a->mode)) {
		err = zp_dir_init_empty(sb, zi);
		if (err)
			goto out_free_blocks;
	}
	*inop = ino;
	return 0;
out_free_blocks:
	zp_inode_free_all(sb, ino);
out_ifree:
	zp_ifree(sb, ino);
	return err;
}

static void undo_inode(struct zus_sb *sb, uint64_t ino)
{
	zp_inode_free_all(sb, ino);
	zp_ifree(sb, ino);
}

int zp_create(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, uint32_t mode, uint32_t rdev,
	      uint32_t uid, uint32_t gid, uint32_t iflags,
	      const char *symlink, size_t symlen, bool tmpfile,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	struct new_inode_args a = {
		.dir = dir, .mode = mode, .rdev = rdev, .uid = uid,
		.gid = gid, .iflags = iflags, .symlink = symlink,
		.symlen = symlen, .tmpfile = tmpfile,
	};
	struct zpmfs_inode *dpi;
	struct zinode *dzi;
	uint64_t ino, dummy;
	int err;

	err = check_type(&a.mode);
	if (err)
		return err;
	if (tmpfile && !S_ISREG(a.mode))
		return -EINVAL;
	if (S_ISLNK(a.mode) && (!symlink || !symlen))
		return -ENOENT;
	if (!tmpfile && (err = zp_name_check(name, len)))
		return err;
	err = zp_dir_zi(sb, dir, &dzi);
	if (err)
		return err;
	if (sb->rdonly)
		return -EROFS;
	dpi = zp_pi(sb, dir);
	err = zp_dir_lock(sb, dir, dzi, true);
	if (err)
		return err;
	if (!dpi->nlink) {
		err = -ENOENT;	/* the directory was removed */
		goto out_unlock;
	}
	if (!tmpfile && zp_dir_find(sb, dir, dzi, name, len, &dummy) >= 0) {
		err = -EEXIST;
		goto out_unlock;
	}
	if (S_ISDIR(a.mode) && dpi->nlink >= ZPMFS_LINK_MAX) {
		err = -EMLINK;
		goto out_unlock;
	}
	zj_begin(sb, ctx);
	zj_log_more(dpi, ZJ_INODE);	/* fenced with the new inode's */
	err = new_inode(sb, ctx, &a, &ino);
	if (err)
		goto out_commit;
	if (!tmpfile) {
		err = zp_dir_add(sb, ctx, dir, dzi, name, len, ino, a.mode);
		if (err) {
			undo_inode(sb, ino);
			goto out_commit;
		}
		if (S_ISDIR(a.mode))
			dpi->nlink++;
		zp_touch(dpi, ctx, true, true);
		pmem_persist(dpi, offsetof(struct zpmfs_inode, reserved));
	}
	zp_fill_attr(sb, ino, attr);
	zp_fill_attr(sb, dir, dir_attr);
out_commit:
	zj_commit();
out_unlock:
	pthread_rwlock_unlock(&dzi->lock);
	return err;
}

int zp_link(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t dir, const char *name, size_t len,
	    struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	struct zpmfs_inode *dpi, *pi;
	struct zinode *dzi, *zi;
	uint64_t dummy;
	int err;

	err = zp_name_check(name, len);
	if (err)
		return err;
	err = zp_dir_zi(sb, dir, &dzi);
	if (err)
		return err;
	zi = zp_zi_live(sb, ino);
	if (!zi)
		return -ENOENT;
	if (sb->rdonly)
		return -EROFS;
	pi = zp_pi(sb, ino);
	if (S_ISDIR(pi->mode))
		return -EPERM;
	dpi = zp_pi(sb, dir);
	err = zp_dir_lock(sb, dir, dzi, true);
	if (err)
		return err;
	pthread_rwlock_wrlock(&zi->lock);
	if (!dpi->nlink)
		err = -ENOENT;
	else if (pi->nlink >= ZPMFS_LINK_MAX)
		err = -EMLINK;
	else if (zp_dir_find(sb, dir, dzi, name, len, &dummy) >= 0)
		err = -EEXIST;
	if (err)
		goto out_unlock;
	zj_begin(sb, ctx);
	zj_log_more(pi, ZJ_INODE);
	zj_log(dpi, ZJ_INODE);
	err = zp_dir_add(sb, ctx, dir, dzi, name, len, ino, pi->mode);
	if (err)
		goto out_commit;
	pi->nlink++;
	zp_touch(pi, ctx, false, true);
	pmem_persist(pi, offsetof(struct zpmfs_inode, reserved));
	zp_touch(dpi, ctx, true, true);
	pmem_persist(dpi, offsetof(struct zpmfs_inode, reserved));
	zp_fill_attr(sb, ino, attr);
	zp_fill_attr(sb, dir, dir_attr);
out_commit:
	zj_commit();
out_unlock:
	pthread_rwlock_unlock(&zi->lock);
	pthread_rwlock_unlock(&dzi->lock);
	return err;
}

/* Victim checks of unlink/rmdir; victim locked */
static int unlink_check(struct zus_sb *sb, uint64_t ino, struct zinode *zi,
			bool is_dir)
{
	uint32_t mode = zp_pi(sb, ino)->mode;

	if (is_dir && !S_ISDIR(mode))
		return -ENOTDIR;
	if (!is_dir && S_ISDIR(mode))
		return -EISDIR;
	if (is_dir && !zp_dir_empty(sb, ino, zi))
		return -ENOTEMPTY;
	return 0;
}

int zp_unlink(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, bool is_dir,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	struct zpmfs_inode *dpi, *pi;
	struct zinode *dzi, *zi;
	uint64_t ino;
	int64_t slot;
	int err;

	err = zp_name_check(name, len);
	if (err)
		return err;
	err = zp_dir_zi(sb, dir, &dzi);
	if (err)
		return err;
	if (sb->rdonly)
		return -EROFS;
	dpi = zp_pi(sb, dir);
	err = zp_dir_lock(sb, dir, dzi, true);
	if (err)
		return err;
	slot = zp_dir_find(sb, dir, dzi, name, len, &ino);
	if (slot < 0) {
		err = (int)slot;
		goto out_unlock_dir;
	}
	zi = zp_zi_live(sb, ino);
	if (!zi) {
		err = -EIO;
		goto out_unlock_dir;
	}
	pi = zp_pi(sb, ino);
	pthread_rwlock_wrlock(&zi->lock);
	err = unlink_check(sb, ino, zi, is_dir);
	if (err)
		goto out_unlock;
	zj_begin(sb, ctx);
	zj_log_more(pi, ZJ_INODE);
	zj_log(dpi, ZJ_INODE);
	zp_dir_remove(sb, dir, dzi, slot, len);
	if (S_ISDIR(pi->mode)) {
		pi->nlink = 0;
		dpi->nlink--;
	} else if (pi->nlink) {
		pi->nlink--;
	}
	zp_touch(pi, ctx, false, true);
	pmem_persist(pi, offsetof(struct zpmfs_inode, reserved));
	zp_touch(dpi, ctx, true, true);
	pmem_persist(dpi, offsetof(struct zpmfs_inode, reserved));
	zj_commit();
	zp_fill_attr(sb, ino, attr);
	zp_fill_attr(sb, dir, dir_attr);
out_unlock:
	pthread_rwlock_unlock(&zi->lock);
out_unlock_dir:
	pthread_rwlock_unlock(&dzi->lock);
	return err;
}
