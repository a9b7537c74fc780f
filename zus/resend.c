// SPDX-License-Identifier: BSD-3-Clause
/*
 * resend.c - ops the kernel sends again after a server died serving them
 * (ZUFS_OPF_RESENT; "Server restart" in zufs_api.h).  The dead server may
 * have done them.  Idempotent ops simply run again; for the others, look
 * whether the effect is already on disk and, if so, answer as the first
 * attempt would have instead of doing it twice.  The kernel still holds
 * the locks it held around the first attempt, so nothing else changed
 * the names involved meanwhile.  Done here, with the plugin's own lookup
 * and getattr, so that a plugin only has to keep each op atomic on disk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>

#include "zusd.h"

#define OPS(sb)	((sb)->type->ops)

/* The name of an op, NUL-terminated; NULL if the kernel sent a bad one */
static const char *name_of(struct zufs_name *n)
{
	if (n->len == 0 || n->len > ZUFS_NAME_MAX)
		return NULL;
	n->name[n->len] = 0;
	return n->name;
}

/* The inode now at dir/name, 0 if none */
static uint64_t ino_at(struct zusd_sb *sb, const struct zus_ctx *ctx,
		       uint64_t dir, struct zufs_name *n,
		       struct zufs_attr *attr)
{
	struct zufs_attr a;

	if (!name_of(n) || OPS(sb)->lookup(sb->psb, ctx, dir, n->name,
					   n->len, attr ?: &a))
		return 0;
	return (attr ?: &a)->ino;
}

static int getattr(struct zusd_sb *sb, const struct zus_ctx *ctx,
		   uint64_t ino, struct zufs_attr *attr)
{
	return OPS(sb)->getattr(sb->psb, ctx, ino, attr);
}

/*
 * An open(O_CREAT) saw nothing: the inode there is its own creation only
 * if nobody else makes names here and it was born at the op's own stamp.
 */
static bool born_of(const struct zusd_sb *sb,
		    const struct zufs_op_new_inode *op)
{
	return (sb->type->info.flags & ZUFS_FST_LOCAL_NAMES) &&
	       op->attr.btime_sec == op->birth_sec &&
	       op->attr.btime_nsec == op->birth_nsec;
}

/* create/mkdir/mknod/symlink: the name was free; there now, it is ours */
static int new_inode_done(struct zusd_sb *sb, struct zufs_op_hdr *hdr,
			  const struct zus_ctx *ctx, int *errp)
{
	struct zufs_op_new_inode *op = (void *)hdr;

	op->result = 0;
	if ((hdr->flags & ZUFS_NEW_TMPFILE) ||
	    !ino_at(sb, ctx, op->dir_ino, &op->name, &op->attr))
		return 0;
	if ((hdr->flags & ZUFS_NEW_OPEN) && !born_of(sb, op))
		op->result = ZUFS_NEW_EXISTED;
	*errp = getattr(sb, ctx, op->dir_ino, &op->dir_attr);
	return 1;
}

static int link_done(struct zusd_sb *sb, struct zufs_op_hdr *hdr,
		     const struct zus_ctx *ctx, int *errp)
{
	struct zufs_op_link *op = (void *)hdr;

	if (ino_at(sb, ctx, op->dir_ino, &op->name, &op->attr) != op->ino)
		return 0;
	*errp = getattr(sb, ctx, op->dir_ino, &op->dir_attr);
	return 1;
}

/* unlink/rmdir: the kernel saw the name; gone now, the op happened */
static int unlink_done(struct zusd_sb *sb, struct zufs_op_hdr *hdr,
		       const struct zus_ctx *ctx, int *errp)
{
	struct zufs_op_unlink *op = (void *)hdr;

	if (!name_of(&op->name) ||
	    ino_at(sb, ctx, op->dir_ino, &op->name, NULL) == op->ino)
		return 0;
	*errp = getattr(sb, ctx, op->ino, &op->attr) ?:
		getattr(sb, ctx, op->dir_ino, &op->dir_attr);
	return 1;
}

static int rename_done(struct zusd_sb *sb, struct zufs_op_hdr *hdr,
		       const struct zus_ctx *ctx, int *errp)
{
	struct zufs_op_rename *op = (void *)hdr;
	uint64_t at_old = ino_at(sb, ctx, op->old_dir_ino, &op->old_name,
				 NULL);
	int err;

	if (ino_at(sb, ctx, op->new_dir_ino, &op->new_name, NULL) != op->ino)
		return 0;
	if (hdr->flags & RENAME_EXCHANGE ? at_old != op->target_ino :
	    at_old == op->ino)
		return 0;
	err = getattr(sb, ctx, op->ino, &op->attr) ?:
	      getattr(sb, ctx, op->old_dir_ino, &op->old_dir_attr) ?:
	      getattr(sb, ctx, op->new_dir_ino, &op->new_dir_attr);
	if (!err && op->target_ino)
		err = getattr(sb, ctx, op->target_ino, &op->target_attr);
	if (!err && (hdr->flags & RENAME_WHITEOUT) &&
	    !ino_at(sb, ctx, op->old_dir_ino, &op->old_name,
		    &op->whiteout_attr))
		err = -EIO;
	*errp = err;
	return 1;
}

static int setxattr_done(struct zusd_sb *sb, struct zufs_op_hdr *hdr,
			 void *data, const struct zus_ctx *ctx, int *errp)
{
	struct zufs_op_xattr *op = (void *)hdr;
	char *now;
	ssize_t n;
	int err;

	if (!OPS(sb)->setxattr || !name_of(&op->name) ||
	    hdr->data_in > ZUFS_XATTR_SIZE_MAX)
		return 0;
	if (op->flags & ZUFS_XATTR_REMOVE) {
		/* gone: removed by the first attempt (or never there) */
		err = OPS(sb)->setxattr(sb->psb, ctx, op->ino, op->name.name,
					NULL, 0, 0, &op->attr);
		*errp = err == -ENODATA ?
			getattr(sb, ctx, op->ino, &op->attr) : err;
		return 1;
	}
	if (!(op->flags & 1) || !OPS(sb)->getxattr)	/* XATTR_CREATE */
		return 0;
	now = malloc(hdr->data_in + 1);
	if (!now)
		return 0;
	n = OPS(sb)->getxattr(sb->psb, ctx, op->ino, op->name.name, now,
			      hdr->data_in + 1);
	err = n == (ssize_t)hdr->data_in && !memcmp(now, data, n);
	free(now);
	if (err)
		*errp = getattr(sb, ctx, op->ino, &op->attr);
	return err;
}

int zusd_resent(struct zusd_sb *sb, struct zufs_op_hdr *hdr, void *data,
		const struct zus_ctx *ctx, int *errp)
{
	const struct zufs_op_fallocate *fa = (void *)hdr;

	*errp = 0;
	switch (hdr->op) {
	case ZUFS_OP_NEW_INODE:
		return new_inode_done(sb, hdr, ctx, errp);
	case ZUFS_OP_LINK:
		return link_done(sb, hdr, ctx, errp);
	case ZUFS_OP_UNLINK:
		return unlink_done(sb, hdr, ctx, errp);
	case ZUFS_OP_RENAME:
		return rename_done(sb, hdr, ctx, errp);
	case ZUFS_OP_SETXATTR:
		return setxattr_done(sb, hdr, data, ctx, errp);
	case ZUFS_OP_FALLOCATE:
		/* shifting twice would move data: the size alone cannot tell */
		if (fa->mode & (FALLOC_FL_COLLAPSE_RANGE |
				FALLOC_FL_INSERT_RANGE)) {
			*errp = -EIO;
			return 1;
		}
		return 0;
	}
	return 0;	/* idempotent: run it again */
}
