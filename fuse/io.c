// SPDX-License-Identifier: BSD-3-Clause
/*
 * io.c - zus-fuse data path.
 *
 * Plugins with read/write (old IO) get the request's buffer.  PMEM plugins
 * without them are driven like the kernel drives them: get_blocks maps the
 * range, and the bridge copies between the request and the mapped image.
 * Reads reply with an iovec pointing straight into the image (one copy,
 * done by the kernel).  Writes to a DAX mapping (MAP_SYNC accepted) are
 * flushed and fenced; on a page-cache mapping flushing the CPU cache buys
 * nothing, there fsync/msync is what makes data durable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bridge.h"

#define ZF_CACHELINE	64

void zf_pmem_persist(const struct zf_bridge *b, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(ZF_CACHELINE - 1);
	uintptr_t end = (uintptr_t)p + len;

	if (!b->dax)
		return;
	for (; a < end; a += ZF_CACHELINE) {
		if (b->clflushopt)	/* clflushopt = 66 + clflush */
			__asm__ volatile(".byte 0x66; clflush %0"
					 : "+m"(*(volatile char *)a));
		else
			__asm__ volatile("clflush %0"
					 : "+m"(*(volatile char *)a));
	}
	__asm__ volatile("sfence" ::: "memory");
}

int zf_pmem_msync(const struct zf_bridge *b)
{
	if (!b->pmem || b->dax)
		return 0;
	return msync(b->pmem, b->pmem_size, MS_SYNC) ? -errno : 0;
}

/* Is ext (from the plugin) inside the image?  A bad plugin must not crash us */
static bool ext_ok(const struct zf_bridge *b, const struct zufs_extent *e)
{
	return (e->flags & ZUFS_EXT_HOLE) ||
	       (e->pmem_off <= b->pmem_size &&
		e->length <= b->pmem_size - e->pmem_off);
}

struct zf_iov {
	struct iovec	*iov;
	int		n, cap;
};

static int iov_add(struct zf_iov *v, const void *base, size_t len)
{
	struct iovec *n;

	if (v->n == v->cap) {
		int cap = v->cap ? v->cap * 2 : 64;

		n = realloc(v->iov, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		v->iov = n;
		v->cap = cap;
	}
	v->iov[v->n].iov_base = (void *)base;
	v->iov[v->n].iov_len = len;
	v->n++;
	return 0;
}

static int iov_zeros(const struct zf_bridge *b, struct zf_iov *v, size_t len)
{
	size_t chunk;
	int err = 0;

	while (len && !err) {
		chunk = len < ZF_ZERO_SIZE ? len : ZF_ZERO_SIZE;
		err = iov_add(v, b->zeros, chunk);
		len -= chunk;
	}
	return err;
}

/* Map [off, end) extent by extent into v; end shrinks to EOF */
static int pmem_map_read(struct zf_bridge *b, const struct zus_ctx *ctx,
			 uint64_t ino, uint64_t off, uint64_t end,
			 struct zf_iov *v)
{
	struct zufs_extent ext[ZUFS_MAX_EXTENTS];
	struct zufs_attr a;
	uint64_t s, e;
	int n, i, err;

	while (off < end) {
		n = b->ops->get_blocks(b->sb, ctx, ino, off, end - off, false,
				       0, ext, ZUFS_MAX_EXTENTS, &a);
		if (n < 0) {
			/* a plugin may refuse to map past EOF: that is EOF */
			if (!b->ops->getattr(b->sb, ctx, ino, &a) &&
			    off >= a.size)
				return 0;
			return n;
		}
		if (a.size < end)
			end = a.size;
		if (n == 0 || off >= end)
			break;
		for (i = 0; i < n && off < end; i++) {
			if (!ext_ok(b, &ext[i]) || ext[i].offset > off)
				return -EIO;
			s = off;
			e = ext[i].offset + ext[i].length;
			if (e > end)
				e = end;
			if (e <= s)
				continue;
			err = ext[i].flags & ZUFS_EXT_HOLE ?
			      iov_zeros(b, v, e - s) :
			      iov_add(v, b->pmem + ext[i].pmem_off +
				      (s - ext[i].offset), e - s);
			if (err)
				return err;
			off = e;
		}
	}
	return 0;
}

static void pmem_read(fuse_req_t req, uint64_t ino, size_t size, off_t off)
{
	struct zf_bridge *b = zf_of(req);
	struct zf_iov v = { 0 };
	struct zus_ctx ctx;
	int err;

	zf_ctx(req, &ctx);
	err = pmem_map_read(b, &ctx, ino, off, off + size, &v);
	if (err)
		zf_reply_err(req, -err);
	else if (!v.n)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_iov(req, v.iov, v.n);
	free(v.iov);
}

void zf_read(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
	     struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	struct zus_ctx ctx;
	ssize_t r;
	char *buf;

	(void)fi;
	if (b->pmem_io) {
		pmem_read(req, zf_ino(b, nodeid), size, off);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		zf_reply_err(req, ENOMEM);
		return;
	}
	zf_ctx(req, &ctx);
	r = b->ops->read(b->sb, &ctx, zf_ino(b, nodeid), buf, size, off);
	if (r < 0)
		zf_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, r);
	free(buf);
}

/* Copy buf into the extents; returns bytes copied from off on */
static uint64_t copy_extents(struct zf_bridge *b, const struct zufs_extent *ext,
			     int n, const char *buf, uint64_t start,
			     uint64_t off, uint64_t end)
{
	uint64_t s, e, done = 0;
	char *dst;
	int i;

	for (i = 0; i < n && off < end; i++) {
		if (!ext_ok(b, &ext[i]) || (ext[i].flags & ZUFS_EXT_HOLE) ||
		    ext[i].offset > off)
			break;
		s = off;
		e = ext[i].offset + ext[i].length;
		if (e > end)
			e = end;
		if (e <= s)
			continue;
		dst = b->pmem + ext[i].pmem_off + (s - ext[i].offset);
		memcpy(dst, buf + (s - start), e - s);
		zf_pmem_persist(b, dst, e - s);
		done += e - s;
		off = e;
	}
	return done;
}

/*
 * get_blocks(write) allocates and sets size and mtime; a mapping shorter
 * than asked (batch limit) just means another round.  If a later round
 * fails (ENOSPC) the write is short: the size may then already cover the
 * unwritten tail, which reads as zeros (a hole).
 */
static void pmem_write(fuse_req_t req, uint64_t ino, const char *buf,
		       size_t size, off_t off)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_extent ext[ZUFS_MAX_EXTENTS];
	uint64_t pos = off, end = off + size, got;
	struct zufs_attr a;
	struct zus_ctx ctx;
	int n = 0;

	zf_ctx(req, &ctx);
	while (pos < end) {
		n = b->ops->get_blocks(b->sb, &ctx, ino, pos, end - pos, true,
				       end, ext, ZUFS_MAX_EXTENTS, &a);
		if (n <= 0)
			break;
		got = copy_extents(b, ext, n, buf, off, pos, end);
		if (!got) {
			n = -EIO;
			break;
		}
		pos += got;
	}
	if (pos == (uint64_t)off && (n < 0 || size))
		zf_reply_err(req, n < 0 ? -n : EIO);
	else
		fuse_reply_write(req, pos - off);
}

void zf_write(fuse_req_t req, fuse_ino_t nodeid, const char *buf,
	      size_t size, off_t off, struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_attr a;
	struct zus_ctx ctx;
	ssize_t r;

	(void)fi;
	if (b->pmem_io) {
		pmem_write(req, zf_ino(b, nodeid), buf, size, off);
		return;
	}
	zf_ctx(req, &ctx);
	r = b->ops->write(b->sb, &ctx, zf_ino(b, nodeid), buf, size, off, &a);
	if (r < 0)
		zf_reply_err(req, -r);
	else
		fuse_reply_write(req, r);
}

void zf_fsync(fuse_req_t req, fuse_ino_t nodeid, int datasync,
	      struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	struct zus_ctx ctx;
	int err = 0;

	(void)fi;
	zf_ctx(req, &ctx);
	if (b->ops->fsync)
		err = b->ops->fsync(b->sb, &ctx, zf_ino(b, nodeid), 0,
				    UINT64_MAX, datasync);
	if (!err)
		err = zf_pmem_msync(b);
	zf_reply_err(req, -err);
}

void zf_fallocate(fuse_req_t req, fuse_ino_t nodeid, int mode, off_t off,
		  off_t len, struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_attr a;
	struct zus_ctx ctx;

	(void)fi;
	/*
	 * Modes the mount does not declare fail as zuf fails them (FUSE
	 * itself carries only KEEP_SIZE, PUNCH_HOLE and ZERO_RANGE); not
	 * ENOSYS, which would turn off every mode for good.
	 */
	if (!b->ops->fallocate ||
	    !zufs_falloc_caps(mode) ||
	    (b->caps & zufs_falloc_caps(mode)) != zufs_falloc_caps(mode)) {
		zf_reply_err(req, EOPNOTSUPP);
		return;
	}
	zf_ctx(req, &ctx);
	zf_reply_err(req, -b->ops->fallocate(b->sb, &ctx, zf_ino(b, nodeid),
					       mode, off, len, &a));
}

void zf_lseek(fuse_req_t req, fuse_ino_t nodeid, off_t off, int whence,
	      struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	struct zus_ctx ctx;
	uint64_t res = 0;
	int err;

	(void)fi;
	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		zf_reply_err(req, EINVAL);
		return;
	}
	/* ENOSYS: the kernel then treats the whole file as data, for good */
	if (!b->ops->seek) {
		zf_reply_err(req, ENOSYS);
		return;
	}
	zf_ctx(req, &ctx);
	err = b->ops->seek(b->sb, &ctx, zf_ino(b, nodeid), off, whence, &res);
	if (err)
		zf_reply_err(req, -err);
	else
		fuse_reply_lseek(req, res);
}

void zf_copy_file_range(fuse_req_t req, fuse_ino_t in, off_t off_in,
			struct fuse_file_info *fi_in, fuse_ino_t out,
			off_t off_out, struct fuse_file_info *fi_out,
			size_t len, int flags)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_attr a;
	struct zus_ctx ctx;
	uint64_t done = 0;
	int err;

	(void)fi_in;
	(void)fi_out;
	/* EOPNOTSUPP makes the kernel fall back to its splice copy */
	if (!b->ops->clone || flags) {
		zf_reply_err(req, flags ? EINVAL : EOPNOTSUPP);
		return;
	}
	zf_ctx(req, &ctx);
	err = b->ops->clone(b->sb, &ctx, zf_ino(b, in), off_in,
			    zf_ino(b, out), off_out, len, ZUFS_CLONE_COPY,
			    &done, &a);
	if (err)
		zf_reply_err(req, -err);
	else
		fuse_reply_write(req, done);
}
