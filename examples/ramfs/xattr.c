// SPDX-License-Identifier: BSD-3-Clause
/*
 * xattr.c - zramfs extended attributes: a list per inode.  The kernel
 * stores POSIX ACLs here too (system.posix_acl_*) and enforces them
 * itself; the plugin only keeps the bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "ramfs.h"

/* the namespaces Linux defines; anything else is -EOPNOTSUPP, as on ext4 */
static bool known_ns(const char *name)
{
	static const char *const ns[] = {
		"user.", "trusted.", "security.",
		"system.posix_acl_access", "system.posix_acl_default",
	};
	size_t i;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		if (!strncmp(name, ns[i], strlen(ns[i])))
			return true;
	return false;
}

static struct rf_xattr **find(struct rf_inode *ip, const char *name)
{
	struct rf_xattr **xp;

	for (xp = &ip->xattrs; *xp; xp = &(*xp)->next)
		if (!strcmp((*xp)->name, name))
			return xp;
	return xp;	/* the list's end: where a new one goes */
}

ssize_t rf_getxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, const char *name, void *value, size_t size)
{
	struct rf_inode *ip;
	struct rf_xattr *x;
	ssize_t n = -ENODATA;

	(void)ctx;
	if (!known_ns(name))
		return -EOPNOTSUPP;
	pthread_mutex_lock(&sb->lock);
	ip = rf_get(sb, ino);
	x = ip ? *find(ip, name) : NULL;
	if (!ip)
		n = -ENOENT;
	else if (x && size && size < x->size)
		n = -ERANGE;
	else if (x) {
		if (size)
			memcpy(value, x->value, x->size);
		n = x->size;
	}
	pthread_mutex_unlock(&sb->lock);
	return n;
}

static int set_value(struct zus_sb *sb, struct rf_xattr *x, const void *value,
		     size_t size)
{
	void *v = malloc(size ? size : 1);

	if (!v)
		return -ENOMEM;
	if (rf_charge(sb, size)) {
		free(v);
		return -ENOSPC;
	}
	memcpy(v, value, size);
	rf_uncharge(sb, x->size);
	free(x->value);
	x->value = v;
	x->size = size;
	return 0;
}

static int do_set(struct zus_sb *sb, struct rf_inode *ip, const char *name,
		  const void *value, size_t size, int flags)
{
	struct rf_xattr **xp = find(ip, name), *x = *xp;
	int err;

	if (!value) {		/* removexattr */
		if (!x)
			return -ENODATA;
		*xp = x->next;
		rf_uncharge(sb, strlen(x->name) + x->size);
		free(x->name);
		free(x->value);
		free(x);
		return 0;
	}
	if (x && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!x && (flags & XATTR_REPLACE))
		return -ENODATA;
	if (x)
		return set_value(sb, x, value, size);
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->name = strdup(name);
	err = x->name ? rf_charge(sb, strlen(name)) : -ENOMEM;
	if (err)
		goto out_free;
	err = set_value(sb, x, value, size);
	if (err)
		goto out_uncharge;
	*xp = x;
	return 0;

out_uncharge:
	rf_uncharge(sb, strlen(name));
out_free:
	free(x->name);
	free(x);
	return err;
}

int rf_setxattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		const char *name, const void *value, size_t size, int flags,
		struct zufs_attr *attr)
{
	struct rf_inode *ip;
	int err;

	if (!known_ns(name))
		return -EOPNOTSUPP;
	pthread_mutex_lock(&sb->lock);
	ip = rf_get(sb, ino);
	err = ip ? do_set(sb, ip, name, value, size, flags) : -ENOENT;
	if (!err) {
		rf_touch(ip, ctx, false);
		if (attr)
			*attr = ip->attr;
	}
	pthread_mutex_unlock(&sb->lock);
	return err;
}

/* names, each NUL terminated, back to back; size 0 asks for the length */
ssize_t rf_listxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, char *list, size_t size)
{
	struct rf_inode *ip;
	struct rf_xattr *x;
	size_t need = 0, len;
	ssize_t n;

	(void)ctx;
	pthread_mutex_lock(&sb->lock);
	ip = rf_get(sb, ino);
	for (x = ip ? ip->xattrs : NULL; x; x = x->next) {
		len = strlen(x->name) + 1;
		if (size && need + len <= size)
			memcpy(list + need, x->name, len);
		need += len;
	}
	if (!ip)
		n = -ENOENT;
	else
		n = size && need > size ? -ERANGE : (ssize_t)need;
	pthread_mutex_unlock(&sb->lock);
	return n;
}
