// SPDX-License-Identifier: BSD-3-Clause
/*
 * dir.c - zramfs directories: an array of entries in the order they were
 * added, each with a readdir position that never changes while it lives
 * (positions only grow), and the operations on names.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ramfs.h"

#define RF_LINK_MAX	65000	/* what ext4 allows */

struct rf_dirent *rf_find(struct rf_inode *dir, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < dir->nents; i++)
		if (dir->ents[i].len == len && !memcmp(dir->ents[i].name, name, len))
			return &dir->ents[i];
	return NULL;
}

/* may move the array: pointers into it are stale afterwards */
int rf_add(struct zus_sb *sb, struct rf_inode *dir, const char *name,
	   size_t len, uint64_t ino)
{
	struct rf_dirent *e;
	size_t cap;
	char *n;

	if (len > ZUFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (dir->nents == dir->ents_cap) {
		cap = dir->ents_cap ? dir->ents_cap * 2 : 8;
		e = realloc(dir->ents, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		dir->ents = e;
		dir->ents_cap = cap;
	}
	if (rf_charge(sb, len))
		return -ENOSPC;
	n = strndup(name, len);
	if (!n) {
		rf_uncharge(sb, len);
		return -ENOMEM;
	}
	e = &dir->ents[dir->nents++];
	*e = (struct rf_dirent){ .name = n, .len = len, .ino = ino,
				 .pos = dir->next_pos++ };
	dir->attr.size = dir->nents;
	return 0;
}

void rf_remove(struct zus_sb *sb, struct rf_inode *dir, struct rf_dirent *de)
{
	size_t i = de - dir->ents;

	rf_uncharge(sb, de->len);
	free(de->name);
	memmove(de, de + 1, (dir->nents - i - 1) * sizeof(*de));
	dir->nents--;
	dir->attr.size = dir->nents;
}

int rf_lookup(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, struct zufs_attr *attr)
{
	struct rf_dirent *de = NULL;
	struct rf_inode *d;
	int err;

	(void)ctx;
	if (len > ZUFS_NAME_MAX)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&sb->lock);
	err = rf_get_dir(sb, dir, &d);
	if (!err)
		de = rf_find(d, name, len);
	if (de)
		*attr = rf_get(sb, de->ino)->attr;
	else if (!err)
		err = -ENOENT;
	pthread_mutex_unlock(&sb->lock);
	return err;
}

/* what create, link and unlink answer: the inode and its directory */
static void answer(const struct rf_inode *ip, const struct rf_inode *d,
		   struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	if (attr)
		*attr = ip->attr;
	if (dir_attr)
		*dir_attr = d->attr;
}

static int do_create(struct zus_sb *sb, const struct zus_ctx *ctx,
		     struct rf_inode *d, const char *name, size_t len,
		     uint32_t mode, uint32_t rdev, uint32_t uid, uint32_t gid,
		     const char *symlink, size_t symlen, bool tmpfile,
		     struct rf_inode **ipp)
{
	struct rf_inode *ip;
	int err;

	if (!tmpfile && rf_find(d, name, len))
		return -EEXIST;
	if (S_ISDIR(mode) && d->attr.nlink >= RF_LINK_MAX)
		return -EMLINK;
	if (S_ISLNK(mode) && !symlink)
		return -EINVAL;
	err = rf_new(sb, ctx, mode, rdev, uid, gid, &ip);
	if (err)
		return err;
	if (S_ISLNK(mode)) {
		err = rf_charge(sb, symlen);
		if (err)
			goto out_free;
		ip->target = malloc(symlen);
		if (!ip->target) {
			rf_uncharge(sb, symlen);
			err = -ENOMEM;
			goto out_free;
		}
		memcpy(ip->target, symlink, symlen);
		ip->attr.size = symlen;
	}
	if (tmpfile) {
		ip->attr.nlink = 0;	/* lives until evict, or linkat */
	} else {
		err = rf_add(sb, d, name, len, ip->attr.ino);
		if (err)
			goto out_free;
		if (S_ISDIR(mode)) {
			ip->parent = d->attr.ino;
			d->attr.nlink++;
		}
		rf_touch(d, ctx, true);
	}
	*ipp = ip;
	return 0;

out_free:
	rf_free(sb, ip);
	return err;
}

int rf_create(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, uint32_t mode, uint32_t rdev,
	      uint32_t uid, uint32_t gid, uint32_t iflags,
	      const char *symlink, size_t symlen, bool tmpfile,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	struct rf_inode *d, *ip;
	int err;

	pthread_mutex_lock(&sb->lock);
	err = rf_get_dir(sb, dir, &d);
	if (!err)
		err = do_create(sb, ctx, d, name, len, mode, rdev, uid, gid,
				symlink, symlen, tmpfile, &ip);
	if (!err) {
		ip->attr.flags = iflags;
		answer(ip, d, attr, dir_attr);
	}
	pthread_mutex_unlock(&sb->lock);
	return err;
}

static int do_link(struct zus_sb *sb, const struct zus_ctx *ctx,
		   struct rf_inode *ip, struct rf_inode *d, const char *name,
		   size_t len)
{
	int err;

	if (S_ISDIR(ip->attr.mode))
		return -EPERM;
	if (ip->attr.nlink >= RF_LINK_MAX)
		return -EMLINK;
	if (rf_find(d, name, len))
		return -EEXIST;
	err = rf_add(sb, d, name, len, ip->attr.ino);
	if (err)
		return err;
	ip->attr.nlink++;
	rf_touch(ip, ctx, false);
	rf_touch(d, ctx, true);
	return 0;
}

int rf_link(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t dir, const char *name, size_t len,
	    struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	struct rf_inode *d, *ip;
	int err;

	pthread_mutex_lock(&sb->lock);
	ip = rf_get(sb, ino);
	err = rf_get_dir(sb, dir, &d);
	if (!err && !ip)
		err = -ENOENT;
	if (!err)
		err = do_link(sb, ctx, ip, d, name, len);
	if (!err)
		answer(ip, d, attr, dir_attr);
	pthread_mutex_unlock(&sb->lock);
	return err;
}

static int do_unlink(struct zus_sb *sb, const struct zus_ctx *ctx,
		     struct rf_inode *d, const char *name, size_t len,
		     bool is_dir, struct rf_inode **ipp)
{
	struct rf_dirent *de = rf_find(d, name, len);
	struct rf_inode *ip;

	if (!de)
		return -ENOENT;
	ip = rf_get(sb, de->ino);
	if (is_dir && !S_ISDIR(ip->attr.mode))
		return -ENOTDIR;
	if (!is_dir && S_ISDIR(ip->attr.mode))
		return -EISDIR;
	if (is_dir && ip->nents)
		return -ENOTEMPTY;
	rf_remove(sb, d, de);
	if (is_dir) {
		ip->attr.nlink = 0;
		d->attr.nlink--;
	} else {
		ip->attr.nlink--;
	}
	rf_touch(ip, ctx, false);
	rf_touch(d, ctx, true);
	*ipp = ip;
	return 0;
}

int rf_unlink(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, bool is_dir,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	struct rf_inode *d, *ip;
	int err;

	pthread_mutex_lock(&sb->lock);
	err = rf_get_dir(sb, dir, &d);
	if (!err)
		err = do_unlink(sb, ctx, d, name, len, is_dir, &ip);
	if (!err)
		answer(ip, d, attr, dir_attr);
	pthread_mutex_unlock(&sb->lock);
	return err;
}

int rf_readdir(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	       uint64_t pos, zus_filldir_t fill, void *buf, bool *eof)
{
	struct rf_dirent *e;
	struct rf_inode *d;
	size_t i;
	int err;

	(void)ctx;
	pthread_mutex_lock(&sb->lock);
	err = rf_get_dir(sb, dir, &d);
	*eof = true;
	i = err ? 0 : rf_first_at(d->ents, d->nents, sizeof(*d->ents),
				  offsetof(struct rf_dirent, pos), pos);
	for (; !err && i < d->nents; i++) {
		e = &d->ents[i];
		if (fill(buf, e->name, e->len, e->ino,
			 IFTODT(rf_get(sb, e->ino)->attr.mode), e->pos + 1)) {
			*eof = false;
			break;
		}
	}
	pthread_mutex_unlock(&sb->lock);
	return err;
}
