// SPDX-License-Identifier: BSD-3-Clause
/*
 * xattr.c - extended attributes: one block per inode holding packed
 * (name, value) entries.  ACLs are xattrs (system.posix_acl_*) that the
 * kernel enforces; zpmfs only stores them.
 *
 * Updates are copy-on-write: the new contents go to a fresh block, which
 * is persisted before the inode's 8-byte pointer switches to it, as one
 * journal op with the inode's ctime and block count; the old block is
 * freed after the commit (a rollback would point at it again).  A crash
 * shows the old set or the new set; at worst a block leaks until the
 * mount after the crash reclaims it.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "zpmfs.h"

#define XA_ROOM	(ZPMFS_BLOCK - sizeof(struct zpmfs_xattr_hdr))

static const char *const xa_prefixes[] = {
	"user.", "trusted.", "security.", NULL,
};

static int xa_name_check(const char *name, size_t *lenp)
{
	size_t len = name ? strnlen(name, ZUFS_XATTR_NAME_MAX + 1) : 0;
	unsigned int i;

	if (!len)
		return -EINVAL;
	if (len > ZUFS_XATTR_NAME_MAX)
		return -ERANGE;
	*lenp = len;
	if (!strcmp(name, "system.posix_acl_access") ||
	    !strcmp(name, "system.posix_acl_default"))
		return 0;
	for (i = 0; xa_prefixes[i]; i++) {
		size_t pl = strlen(xa_prefixes[i]);

		if (len > pl && !strncmp(name, xa_prefixes[i], pl))
			return 0;
	}
	return -EOPNOTSUPP;
}

static struct zpmfs_xattr_hdr *xa_block(struct zus_sb *sb,
					struct zpmfs_inode *pi)
{
	struct zpmfs_xattr_hdr *h;

	if (!pi->xattr_block)
		return NULL;
	if (!zp_blk_ok(sb, pi->xattr_block)) {
		zp_error(sb, "xattr block %lu out of range",
			 (unsigned long)pi->xattr_block);
		return NULL;
	}
	h = zp_block(sb, pi->xattr_block);
	if (h->magic != ZPMFS_XATTR_MAGIC || h->used > XA_ROOM)
		return NULL;
	return h;
}

#define XA_FOREACH(h, e, off) \
	for ((off) = 0; \
	     (off) + sizeof(*(e)) <= (h)->used && \
	     ((e) = (struct zpmfs_xattr_entry *)((char *)((h) + 1) + (off)), \
	      (off) + ZPMFS_XATTR_ENTRY_SIZE((e)->name_len, (e)->value_len) <= \
	      (h)->used); \
	     (off) += ZPMFS_XATTR_ENTRY_SIZE((e)->name_len, (e)->value_len))

static struct zpmfs_xattr_entry *xa_find(struct zpmfs_xattr_hdr *h,
					 const char *name, size_t len)
{
	struct zpmfs_xattr_entry *e;
	size_t off;

	if (!h)
		return NULL;
	XA_FOREACH(h, e, off)
		if (e->name_len == len && !memcmp(e->data, name, len))
			return e;
	return NULL;
}

ssize_t zp_getxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, const char *name, void *value, size_t size)
{
	struct zinode *zi = zp_zi_live(sb, ino);
	struct zpmfs_xattr_entry *e;
	ssize_t ret;
	size_t len;

	(void)ctx;
	if (!zi)
		return -ENOENT;
	ret = xa_name_check(name, &len);
	if (ret)
		return ret;
	pthread_rwlock_rdlock(&zi->lock);
	e = xa_find(xa_block(sb, zp_pi(sb, ino)), name, len);
	if (!e)
		ret = -ENODATA;
	else if (size && size < e->value_len)
		ret = -ERANGE;
	else {
		ret = e->value_len;
		if (size)
			memcpy(value, e->data + e->name_len, e->value_len);
	}
	pthread_rwlock_unlock(&zi->lock);
	return ret;
}

ssize_t zp_listxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, char *list, size_t size)
{
	struct zinode *zi = zp_zi_live(sb, ino);
	struct zpmfs_xattr_entry *e;
	struct zpmfs_xattr_hdr *h;
	size_t off, total = 0;
	ssize_t ret;

	(void)ctx;
	if (!zi)
		return -ENOENT;
	pthread_rwlock_rdlock(&zi->lock);
	h = xa_block(sb, zp_pi(sb, ino));
	if (h) {
		XA_FOREACH(h, e, off) {
			if (size && total + e->name_len + 1 <= size) {
				memcpy(list + total, e->data, e->name_len);
				list[total + e->name_len] = '\0';
			}
			total += e->name_len + 1;
		}
	}
	ret = size && total > size ? -ERANGE : (ssize_t)total;
	pthread_rwlock_unlock(&zi->lock);
	return ret;
}

/* New contents: all entries but name, then name=value if value != NULL */
static ssize_t xa_build(struct zpmfs_xattr_hdr *old, const char *name,
			size_t len, const void *value, size_t size,
			char *buf)
{
	struct zpmfs_xattr_hdr *h = (struct zpmfs_xattr_hdr *)buf;
	struct zpmfs_xattr_entry *e, *n;
	size_t off, es;

	memset(buf, 0, ZPMFS_BLOCK);	/* no stale stack bytes on pmem */
	h->magic = ZPMFS_XATTR_MAGIC;
	if (old) {
		XA_FOREACH(old, e, off) {
			if (e->name_len == len && !memcmp(e->data, name, len))
				continue;
			es = ZPMFS_XATTR_ENTRY_SIZE(e->name_len, e->value_len);
			memcpy((char *)(h + 1) + h->used, e, es);
			h->used += es;
			h->count++;
		}
	}
	if (!value)
		return h->count;
	es = ZPMFS_XATTR_ENTRY_SIZE(len, size);
	if (h->used + es > XA_ROOM)
		return -ENOSPC;
	n = (struct zpmfs_xattr_entry *)((char *)(h + 1) + h->used);
	memset(n, 0, es);
	n->name_len = len;
	n->value_len = size;
	memcpy(n->data, name, len);
	memcpy(n->data + len, value, size);
	h->used += es;
	h->count++;
	return h->count;
}

/* Switch the inode to the new contents (or none); *old: block to free */
static int xa_commit(struct zus_sb *sb, const struct zus_ctx *ctx,
		     struct zpmfs_inode *pi, const char *buf, ssize_t count,
		     uint64_t *oldp)
{
	uint64_t old = pi->xattr_block, blk = 0;
	int64_t n;

	*oldp = 0;
	if (count > 0) {
		n = zp_balloc(sb, ctx, old, 1, &blk);
		if (n < 0)
			return (int)n;
		pmem_memcpy_persist(zp_block(sb, blk), buf, ZPMFS_BLOCK);
		pi->blocks++;
	}
	/* the new block is durable before the pointer names it */
	pmem_store64(&pi->xattr_block, blk);
	if (old) {
		if (zp_blk_ok(sb, old))
			*oldp = old;
		pi->blocks--;
	}
	return 0;
}

int zp_setxattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		const char *name, const void *value, size_t size, int flags,
		struct zufs_attr *attr)
{
	struct zinode *zi = zp_zi_live(sb, ino);
	char buf[ZPMFS_BLOCK] __attribute__((aligned(16)));
	struct zpmfs_xattr_entry *e;
	struct zpmfs_xattr_hdr *h;
	struct zpmfs_inode *pi;
	uint64_t old = 0;
	ssize_t count;
	size_t len;
	int err;

	if (!zi)
		return -ENOENT;
	err = xa_name_check(name, &len);
	if (err)
		return err;
	if (size > ZUFS_XATTR_SIZE_MAX)
		return -E2BIG;
	if (sb->rdonly)
		return -EROFS;
	pi = zp_pi(sb, ino);
	pthread_rwlock_wrlock(&zi->lock);
	h = xa_block(sb, pi);
	e = xa_find(h, name, len);
	if (!value && !e)
		err = -ENODATA;
	else if (value && (flags & 1) && e)	/* XATTR_CREATE */
		err = -EEXIST;
	else if (value && (flags & 2) && !e)	/* XATTR_REPLACE */
		err = -ENODATA;
	if (err)
		goto out_unlock;
	count = xa_build(h, name, len, value, size, buf);
	if (count < 0) {
		err = (int)count;
		goto out_unlock;
	}
	zj_begin(sb, ctx);
	zj_log(pi, ZJ_INODE);
	err = xa_commit(sb, ctx, pi, buf, count, &old);
	if (!err) {
		zp_touch(pi, ctx, false, true);
		pmem_persist(pi, offsetof(struct zpmfs_inode, reserved));
	}
	zj_commit();
	if (old)
		zp_bfree(sb, old, 1);
	if (!err && attr)
		zp_fill_attr(sb, ino, attr);
out_unlock:
	pthread_rwlock_unlock(&zi->lock);
	return err;
}

void zp_xattr_free(struct zus_sb *sb, struct zpmfs_inode *pi)
{
	uint64_t old = pi->xattr_block;

	if (!old)
		return;
	pmem_store64(&pi->xattr_block, 0);
	if (zp_blk_ok(sb, old))
		zp_bfree(sb, old, 1);
	if (pi->blocks)
		pi->blocks--;
}
