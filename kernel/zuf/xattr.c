// SPDX-License-Identifier: GPL-2.0
/*
 * xattr.c - extended attributes and POSIX ACLs.  The server stores them
 * by full name ("user.x", "system.posix_acl_access"); the kernel enforces
 * ACLs (the VFS caches them and calls get_acl/set_acl).  Sizes and lists
 * from the server are checked before they reach the caller.
 */
#include <linux/slab.h>
#include <linux/xattr.h>
#include <linux/posix_acl_xattr.h>
#include <linux/capability.h>
#include "zuf_vfs.h"

static bool zuf_has_xattr(struct inode *inode)
{
	return zuf_fst(inode, ZUFS_FST_XATTR);
}

static int zuf_xattr_name(struct zufs_name *zn, const char *name)
{
	size_t len = strlen(name);

	if (!len || len > ZUFS_XATTR_NAME_MAX)
		return -ERANGE;
	zn->len = len;
	memcpy(zn->name, name, len);
	zn->name[len] = 0;
	return 0;
}

/* Value of @name into @buf (a kernel buffer); size 0 asks the size */
static ssize_t zuf_getxattr(struct inode *inode, const char *name,
			    void *buf, size_t size)
{
	struct zufs_op_xattr op = {};
	struct zuf_dispatch zd = { .op = &op.hdr, .op_size = sizeof(op) };
	int err;

	if (!zuf_has_xattr(inode))
		return -EOPNOTSUPP;
	err = zuf_xattr_name(&op.name, name);
	if (err)
		return err;
	op.hdr.op = ZUFS_OP_GETXATTR;
	op.ino = inode->i_ino;
	zd.out_buf = buf;
	zd.out_max = min_t(size_t, size, ZUFS_XATTR_SIZE_MAX);
	err = zufc_dispatch(ZSBI(inode), &zd);
	if (err)
		return err;
	if (!size) {
		if (op.size > ZUFS_XATTR_SIZE_MAX)
			goto bad_answer;
		return op.size;
	}
	if (zd.out_len > zd.out_max)
		goto bad_answer;
	return zd.out_len;

bad_answer:
	zuf_bad_answer(ZSBI(inode), "getxattr ino %lu: size %u/%u for %zu",
		       inode->i_ino, op.size, zd.out_len, size);
	return -EIO;
}

/* value NULL removes */
static int zuf_setxattr(struct inode *inode, const char *name,
			const void *value, size_t size, int flags)
{
	struct zufs_op_xattr op = {};
	struct zuf_dispatch zd = { .op = &op.hdr, .op_size = sizeof(op) };
	int err;

	if (!zuf_has_xattr(inode))
		return -EOPNOTSUPP;
	if (size > ZUFS_XATTR_SIZE_MAX)
		return -E2BIG;
	err = zuf_xattr_name(&op.name, name);
	if (err)
		return err;
	op.hdr.op = ZUFS_OP_SETXATTR;
	op.ino = inode->i_ino;
	op.flags = flags & (XATTR_CREATE | XATTR_REPLACE);
	if (value) {
		zd.in_buf = value;
		zd.in_len = size;
	} else {
		op.flags |= ZUFS_XATTR_REMOVE;
	}
	err = zufc_dispatch(ZSBI(inode), &zd);
	if (err)
		return err;
	err = zuf_check_inode_attr(inode, &op.attr);
	if (err)
		return err;
	zuf_update_inode(inode, &op.attr);
	return 0;
}

/* Remove names the caller may not see (trusted.* needs CAP_SYS_ADMIN) */
static size_t zuf_filter_list(char *list, size_t len)
{
	size_t in = 0, out = 0;
	bool admin = capable(CAP_SYS_ADMIN);

	while (in < len) {
		size_t n = strlen(list + in) + 1;

		if (admin || strncmp(list + in, XATTR_TRUSTED_PREFIX,
				     XATTR_TRUSTED_PREFIX_LEN)) {
			memmove(list + out, list + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}

static bool zuf_list_valid(const char *list, size_t len)
{
	size_t i;

	if (!len)
		return true;
	if (list[len - 1] || !list[0])
		return false;
	for (i = 1; i < len; i++)
		if (!list[i] && !list[i - 1])
			return false;	/* empty name */
	return true;
}

ssize_t zuf_listxattr(struct dentry *dentry, char *list, size_t size)
{
	struct inode *inode = d_inode(dentry);
	struct zufs_op_xattr op = {};
	struct zuf_dispatch zd = { .op = &op.hdr, .op_size = sizeof(op) };
	int err;

	if (!zuf_has_xattr(inode))
		return 0;
	op.hdr.op = ZUFS_OP_LISTXATTR;
	op.ino = inode->i_ino;
	zd.out_buf = list;
	zd.out_max = min_t(size_t, size, XATTR_LIST_MAX);
	err = zufc_dispatch(ZSBI(inode), &zd);
	if (err)
		return err;
	if (!size) {
		if (op.size > XATTR_LIST_MAX)
			goto bad_answer;
		return op.size;
	}
	if (zd.out_len > zd.out_max || !zuf_list_valid(list, zd.out_len))
		goto bad_answer;
	return zuf_filter_list(list, zd.out_len);

bad_answer:
	zuf_bad_answer(ZSBI(inode), "listxattr ino %lu: bad list (%u/%u bytes)",
		       inode->i_ino, op.size, zd.out_len);
	return -EIO;
}

static int zuf_xattr_get(const struct xattr_handler *handler,
			 struct dentry *dentry, struct inode *inode,
			 const char *name, void *buffer, size_t size)
{
	return zuf_getxattr(inode, xattr_full_name(handler, name), buffer,
			    size);
}

static int zuf_xattr_set(const struct xattr_handler *handler,
			 struct mnt_idmap *idmap,
			 struct dentry *dentry, struct inode *inode,
			 const char *name, const void *value, size_t size,
			 int flags)
{
	return zuf_setxattr(inode, xattr_full_name(handler, name), value, size,
			    flags);
}

static bool zuf_trusted_list(struct dentry *dentry)
{
	return capable(CAP_SYS_ADMIN);
}

static const struct xattr_handler zuf_user_xattr_handler = {
	.prefix	= XATTR_USER_PREFIX,
	.get	= zuf_xattr_get,
	.set	= zuf_xattr_set,
};

static const struct xattr_handler zuf_trusted_xattr_handler = {
	.prefix	= XATTR_TRUSTED_PREFIX,
	.list	= zuf_trusted_list,
	.get	= zuf_xattr_get,
	.set	= zuf_xattr_set,
};

static const struct xattr_handler zuf_security_xattr_handler = {
	.prefix	= XATTR_SECURITY_PREFIX,
	.get	= zuf_xattr_get,
	.set	= zuf_xattr_set,
};

const struct xattr_handler *zuf_xattr_handlers[] = {
	&zuf_user_xattr_handler,
	&zuf_trusted_xattr_handler,
	&zuf_security_xattr_handler,
#if !ZUF_HAVE_GET_INODE_ACL	/* since then the VFS maps them to ->set_acl */
	&posix_acl_access_xattr_handler,
	&posix_acl_default_xattr_handler,
#endif
	NULL
};

/* ------------------------------------------------------------------ */
/* POSIX ACLs, stored as their xattr                                   */
/* ------------------------------------------------------------------ */

static const char *zuf_acl_name(int type)
{
	return type == ACL_TYPE_ACCESS ? XATTR_NAME_POSIX_ACL_ACCESS :
					 XATTR_NAME_POSIX_ACL_DEFAULT;
}

struct posix_acl *zuf_get_acl(struct inode *inode, int type, bool rcu)
{
	const char *name = zuf_acl_name(type);
	struct posix_acl *acl;
	ssize_t size;
	void *buf;

	if (rcu)
		return ERR_PTR(-ECHILD);
	if (!zuf_has_xattr(inode))
		return NULL;
	size = zuf_getxattr(inode, name, NULL, 0);
	if (size == -ENODATA || !size)
		return NULL;
	if (size < 0)
		return ERR_PTR(size);
	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	size = zuf_getxattr(inode, name, buf, size);
	if (size == -ENODATA)
		acl = NULL;
	else if (size < 0)
		acl = ERR_PTR(size);
	else
		acl = posix_acl_from_xattr(&init_user_ns, buf, size);
	kfree(buf);
	return acl;
}

/* Store @acl (NULL removes) and cache it */
int zuf_acl_store(struct inode *inode, int type, struct posix_acl *acl)
{
	const char *name = zuf_acl_name(type);
	void *buf = NULL;
	size_t size = 0;
	int err;

	if (acl) {
		size = posix_acl_xattr_size(acl->a_count);
		buf = kmalloc(size, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		err = posix_acl_to_xattr(&init_user_ns, acl, buf, size);
		if (err < 0)
			goto out_free_buf;
	}
	err = zuf_setxattr(inode, name, buf, size, 0);
	if (err == -ENODATA && !acl)
		err = 0;
	if (!err)
		set_cached_acl(inode, type, acl);

out_free_buf:
	kfree(buf);
	return err;
}

static int zuf_acl_mode(struct mnt_idmap *idmap,
			struct inode *inode, struct posix_acl **acl)
{
	struct timespec64 now = current_time(inode);
	struct zufs_op_setattr op = {};
	umode_t mode;
	int err;

	err = posix_acl_update_mode(idmap, inode, &mode, acl);
	if (err || mode == inode->i_mode)
		return err;
	op.hdr.op = ZUFS_OP_SETATTR;
	op.ino = inode->i_ino;
	op.mask = ZUFS_ATTR_MODE | ZUFS_ATTR_CTIME;
	op.set.mode = mode;
	op.set.ctime_sec = now.tv_sec;
	op.set.ctime_nsec = now.tv_nsec;
	err = zufc_dispatch_op(ZSBI(inode), &op.hdr, sizeof(op));
	if (err)
		return err;
	err = zuf_check_inode_attr(inode, &op.attr);
	if (!err)
		zuf_update_inode(inode, &op.attr);
	return err;
}

int zuf_set_acl(struct mnt_idmap *idmap, struct dentry *dentry,
		struct posix_acl *acl, int type)
{
	struct inode *inode = d_inode(dentry);
	int err;

	if (!zuf_has_xattr(inode))
		return -EOPNOTSUPP;
	if (type == ACL_TYPE_ACCESS && acl) {
		err = zuf_acl_mode(idmap, inode, &acl);
		if (err)
			return err;
	}
	return zuf_acl_store(inode, type, acl);
}

#if !ZUF_HAVE_GET_INODE_ACL
/* the old kernels' ->set_acl() names the inode; any alias of it will do */
int zuf_set_acl_inode(struct mnt_idmap *idmap, struct inode *inode,
		      struct posix_acl *acl, int type)
{
	struct dentry *dentry = d_find_alias(inode);
	int err;

	if (!dentry)
		return -ENOENT;
	err = zuf_set_acl(idmap, dentry, acl, type);
	dput(dentry);
	return err;
}
#endif
