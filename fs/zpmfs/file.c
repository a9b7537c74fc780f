// SPDX-License-Identifier: BSD-3-Clause
/*
 * file.c - the data operations: get_blocks (the zero-copy path: the kernel
 * copies to and from the extents itself), read/write (the FUSE bridge),
 * fsync, fallocate, seek and clone.  All of them go through the same block
 * map (bmap.c), so both transports see the same bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zpmfs.h"

#define FL_KEEP_SIZE	0x01
#define FL_PUNCH_HOLE	0x02
#define FL_NO_HIDE	0x04
#define FL_COLLAPSE	0x08
#define FL_ZERO_RANGE	0x10
#define FL_INSERT	0x20
#define CLONE_CHUNK	(256 * 1024)

static void pi_persist(struct zpmfs_inode *pi)
{
	pmem_persist(pi, offsetof(struct zpmfs_inode, reserved));
}

/* A live regular file, or the errno ext4 gives for the other types */
static int reg_zi(struct zus_sb *sb, uint64_t ino, struct zinode **zip)
{
	struct zinode *zi = zp_zi_live(sb, ino);
	uint32_t mode;

	if (!zi)
		return -ENOENT;
	mode = zp_pi(sb, ino)->mode;
	if (S_ISDIR(mode))
		return -EISDIR;
	if (!S_ISREG(mode))
		return -EINVAL;
	*zip = zi;
	return 0;
}

/* Append an extent, merging with the previous one when contiguous */
static bool ext_add(struct zufs_extent *ext, unsigned int *count,
		    unsigned int max, uint64_t off, uint64_t pmem,
		    uint64_t len, uint32_t flags)
{
	struct zufs_extent *p = *count ? &ext[*count - 1] : NULL;

	if (p && p->flags == flags && p->offset + p->length == off &&
	    ((flags & ZUFS_EXT_HOLE) || p->pmem_off + p->length == pmem)) {
		p->length += len;
		return true;
	}
	if (*count == max)
		return false;
	p = &ext[(*count)++];
	p->offset = off;
	p->pmem_off = flags & ZUFS_EXT_HOLE ? 0 : pmem;
	p->length = len;
	p->flags = flags;
	p->pad = 0;
	return true;
}

static int map_read(struct zus_sb *sb, struct zpmfs_inode *pi, uint64_t fb,
		    uint64_t end, struct zufs_extent *ext, unsigned int max)
{
	unsigned int count = 0;

	while (fb < end) {
		uint64_t blk;
		int64_t n = zp_bmap_run(sb, pi, fb, end - fb, &blk);

		if (!ext_add(ext, &count, max, fb << ZPMFS_BLOCK_SHIFT,
			     blk << ZPMFS_BLOCK_SHIFT,
			     (uint64_t)n << ZPMFS_BLOCK_SHIFT,
			     blk ? 0 : ZUFS_EXT_HOLE))
			break;
		fb += n;
	}
	return count;
}

static int map_write(struct zus_sb *sb, const struct zus_ctx *ctx,
		     struct zpmfs_inode *pi, uint64_t fb, uint64_t end,
		     struct zufs_extent *ext, unsigned int max, uint64_t *done)
{
	unsigned int count = 0;

	*done = fb;
	while (fb < end) {
		uint64_t blk;
		bool new;
		int64_t n;

		/*
		 * No room left to report what we would allocate: stop before
		 * allocating, or the kernel never learns those blocks are new
		 * and keeps zero pages of the old hole mapped over them.
		 */
		if (count == max)
			break;
		n = zp_bmap_alloc_run(sb, ctx, pi, fb, end - fb, &blk, &new);

		if (n < 0) {
			if (!count)
				return (int)n;
			break;	/* answer the prefix we have (ENOSPC) */
		}
		if (!ext_add(ext, &count, max, fb << ZPMFS_BLOCK_SHIFT,
			     blk << ZPMFS_BLOCK_SHIFT,
			     (uint64_t)n << ZPMFS_BLOCK_SHIFT,
			     new ? ZUFS_EXT_NEW : 0))
			break;	/* cannot happen: count < max above */
		fb += n;
		*done = fb;
	}
	return count;
}

int zp_get_blocks(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		  uint64_t offset, uint64_t length, bool write,
		  uint64_t size_after, struct zufs_extent *ext,
		  unsigned int max_ext, struct zufs_attr *attr)
{
	uint64_t fb = offset >> ZPMFS_BLOCK_SHIFT, end, done;
	struct zpmfs_inode *pi;
	struct zinode *zi;
	int ret;

	ret = reg_zi(sb, ino, &zi);
	if (ret)
		return ret;
	if (write && sb->rdonly)
		return -EROFS;
	if (offset >= ZPMFS_MAX_BYTES || length > ZPMFS_MAX_BYTES - offset)
		return -EFBIG;
	if (!max_ext)
		return -EINVAL;
	end = ZP_DIV_UP(offset + length, ZPMFS_BLOCK);
	pi = zp_pi(sb, ino);
	if (!write) {
		pthread_rwlock_rdlock(&zi->lock);
		ret = map_read(sb, pi, fb, end, ext, max_ext);
		zp_fill_attr(sb, ino, attr);
		pthread_rwlock_unlock(&zi->lock);
		return ret;
	}
	pthread_rwlock_wrlock(&zi->lock);
	ret = map_write(sb, ctx, pi, fb, end, ext, max_ext, &done);
	if (ret >= 0 && length) {
		done <<= ZPMFS_BLOCK_SHIFT;
		if (size_after > done)
			size_after = done;
		if (size_after > pi->size)
			pi->size = size_after;
		zp_touch(pi, ctx, true, true);
		pi_persist(pi);
	}
	zp_fill_attr(sb, ino, attr);
	pthread_rwlock_unlock(&zi->lock);
	return ret;
}

void zp_read_locked(struct zus_sb *sb, struct zpmfs_inode *pi, void *buf,
		    size_t len, uint64_t offset)
{
	char *out = buf;

	while (len) {
		uint64_t fb = offset >> ZPMFS_BLOCK_SHIFT, blk, in, n;
		int64_t run = zp_bmap_run(sb, pi, fb,
					  ZP_DIV_UP(offset + len, ZPMFS_BLOCK) -
					  fb, &blk);

		in = offset & (ZPMFS_BLOCK - 1);
		n = ((uint64_t)run << ZPMFS_BLOCK_SHIFT) - in;
		if (n > len)
			n = len;
		if (blk)
			memcpy(out, (char *)zp_block(sb, blk) + in, n);
		else
			memset(out, 0, n);
		out += n;
		offset += n;
		len -= n;
	}
}

ssize_t zp_write_locked(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *pi, const void *buf, size_t len,
			uint64_t offset)
{
	const char *in = buf;
	size_t done = 0;

	while (done < len) {
		uint64_t fb = offset >> ZPMFS_BLOCK_SHIFT, blk, o, n;
		bool new;
		int64_t run = zp_bmap_alloc_run(sb, ctx, pi, fb,
						ZP_DIV_UP(offset + len - done,
							  ZPMFS_BLOCK) - fb,
						&blk, &new);

		if (run < 0)
			return done ? (ssize_t)done : run;
		o = offset & (ZPMFS_BLOCK - 1);
		n = ((uint64_t)run << ZPMFS_BLOCK_SHIFT) - o;
		if (n > len - done)
			n = len - done;
		pmem_memcpy_persist((char *)zp_block(sb, blk) + o, in + done,
				    n);
		done += n;
		offset += n;
	}
	return (ssize_t)done;
}

ssize_t zp_read(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		void *buf, size_t len, uint64_t offset)
{
	struct zpmfs_inode *pi;
	struct zinode *zi;
	int err;

	(void)ctx;
	err = reg_zi(sb, ino, &zi);
	if (err)
		return err;
	pi = zp_pi(sb, ino);
	pthread_rwlock_rdlock(&zi->lock);
	if (offset >= pi->size)
		len = 0;
	else if (len > pi->size - offset)
		len = pi->size - offset;
	zp_read_locked(sb, pi, buf, len, offset);
	pthread_rwlock_unlock(&zi->lock);
	return (ssize_t)len;
}

ssize_t zp_write(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 const void *buf, size_t len, uint64_t offset,
		 struct zufs_attr *attr)
{
	struct zpmfs_inode *pi;
	struct zinode *zi;
	ssize_t ret;

	ret = reg_zi(sb, ino, &zi);
	if (ret)
		return ret;
	if (sb->rdonly)
		return -EROFS;
	if (offset >= ZPMFS_MAX_BYTES || len > ZPMFS_MAX_BYTES - offset)
		return -EFBIG;
	pi = zp_pi(sb, ino);
	pthread_rwlock_wrlock(&zi->lock);
	ret = zp_write_locked(sb, ctx, pi, buf, len, offset);
	if (ret > 0) {
		if (offset + ret > pi->size)
			pi->size = offset + ret;
		zp_touch(pi, ctx, true, true);
		/* data persisted above, before the size that exposes it */
		pi_persist(pi);
	}
	if (attr)
		zp_fill_attr(sb, ino, attr);
	pthread_rwlock_unlock(&zi->lock);
	return ret;
}

int zp_fsync(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	     uint64_t offset, uint64_t length, bool datasync)
{
	(void)sb; (void)ctx; (void)ino; (void)offset; (void)length;
	(void)datasync;
	/* Every op persisted its stores before returning (SYNC_META, and
	 * data goes through pmem_*_persist or the kernel's flushcache copy);
	 * the fence orders anything a caller stored through a mapping. */
	pmem_drain();
	return 0;
}

/* Zero [off, off + len) of mapped blocks; holes already read as zeros */
static void zero_bytes(struct zus_sb *sb, struct zpmfs_inode *pi,
		       uint64_t off, uint64_t len)
{
	while (len) {
		uint64_t fb = off >> ZPMFS_BLOCK_SHIFT, blk, o, n;
		int64_t run = zp_bmap_run(sb, pi, fb,
					  ZP_DIV_UP(off + len, ZPMFS_BLOCK) - fb,
					  &blk);

		o = off & (ZPMFS_BLOCK - 1);
		n = ((uint64_t)run << ZPMFS_BLOCK_SHIFT) - o;
		if (n > len)
			n = len;
		if (blk)
			pmem_memset_persist((char *)zp_block(sb, blk) + o, 0, n);
		off += n;
		len -= n;
	}
}

static int falloc_punch(struct zus_sb *sb, struct zpmfs_inode *pi,
			uint64_t off, uint64_t len)
{
	uint64_t first = ZP_DIV_UP(off, ZPMFS_BLOCK);
	uint64_t last = (off + len) >> ZPMFS_BLOCK_SHIFT;

	if (first > last) {	/* inside one block */
		zero_bytes(sb, pi, off, len);
		return 0;
	}
	zero_bytes(sb, pi, off, (first << ZPMFS_BLOCK_SHIFT) - off);
	zero_bytes(sb, pi, last << ZPMFS_BLOCK_SHIFT,
		   off + len - (last << ZPMFS_BLOCK_SHIFT));
	zp_bmap_punch(sb, pi, first, last);
	return 0;
}

static int falloc_alloc(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *pi, uint64_t off, uint64_t len,
			bool zero)
{
	uint64_t fb = off >> ZPMFS_BLOCK_SHIFT;
	uint64_t end = ZP_DIV_UP(off + len, ZPMFS_BLOCK);

	if (zero)
		zero_bytes(sb, pi, off, len);
	while (fb < end) {
		uint64_t blk;
		bool new;
		int64_t n = zp_bmap_alloc_run(sb, ctx, pi, fb, end - fb, &blk,
					      &new);

		if (n < 0)
			return (int)n;
		fb += n;
	}
	return 0;
}

/* COLLAPSE_RANGE / INSERT_RANGE: shift block mappings, no data copy */
static int falloc_shift(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *pi, uint64_t off, uint64_t len,
			bool insert)
{
	uint64_t fb = off >> ZPMFS_BLOCK_SHIFT, nb = len >> ZPMFS_BLOCK_SHIFT;
	uint64_t end = ZP_DIV_UP(pi->size, ZPMFS_BLOCK), b;
	int err;

	if ((off | len) & (ZPMFS_BLOCK - 1))
		return -EINVAL;
	if (!insert) {
		if (off + len >= pi->size)
			return -EINVAL;
		zp_bmap_punch(sb, pi, fb, fb + nb);
		for (b = zp_bmap_next(sb, pi, fb + nb, true); b < end;
		     b = zp_bmap_next(sb, pi, b + 1, true)) {
			err = zp_bmap_move(sb, ctx, pi, b, b - nb);
			if (err)
				return err;
		}
		return zp_truncate(sb, pi, pi->size - len);
	}
	if (off >= pi->size)
		return -EINVAL;
	if (pi->size + len > ZPMFS_MAX_BYTES)
		return -EFBIG;
	/*
	 * Blocks preallocated past EOF (KEEP_SIZE) would be where the last
	 * ones move to, and zp_bmap_move() wants holes there: drop them
	 * first, as XFS does before a shift.
	 */
	zp_bmap_punch(sb, pi, end, UINT64_MAX);
	for (b = end; b-- > fb;) {
		err = zp_bmap_move(sb, ctx, pi, b, b + nb);
		if (err)
			return err;
	}
	pi->size += len;
	pi_persist(pi);
	return 0;
}

static int falloc_check(struct zpmfs_inode *pi, uint32_t mode, uint64_t off,
			uint64_t len)
{
	if (mode & ~(FL_KEEP_SIZE | FL_PUNCH_HOLE | FL_NO_HIDE | FL_COLLAPSE |
		     FL_ZERO_RANGE | FL_INSERT))
		return -EOPNOTSUPP;
	if ((mode & FL_PUNCH_HOLE) && !(mode & FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if ((mode & (FL_COLLAPSE | FL_INSERT)) && mode != FL_COLLAPSE &&
	    mode != FL_INSERT)
		return -EINVAL;
	if (!len)
		return -EINVAL;
	if (off >= ZPMFS_MAX_BYTES || len > ZPMFS_MAX_BYTES - off)
		return -EFBIG;
	(void)pi;
	return 0;
}

int zp_fallocate(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 uint32_t mode, uint64_t offset, uint64_t length,
		 struct zufs_attr *attr)
{
	struct zpmfs_inode *pi;
	struct zinode *zi;
	int err;

	err = reg_zi(sb, ino, &zi);
	if (err)
		return err == -EINVAL ? -ENODEV : err;
	if (sb->rdonly)
		return -EROFS;
	pi = zp_pi(sb, ino);
	pthread_rwlock_wrlock(&zi->lock);
	err = falloc_check(pi, mode, offset, length);
	if (err)
		goto out_unlock;
	if (mode & FL_PUNCH_HOLE)
		err = falloc_punch(sb, pi, offset, length);
	else if (mode & (FL_COLLAPSE | FL_INSERT))
		err = falloc_shift(sb, ctx, pi, offset, length,
				   mode & FL_INSERT);
	else
		err = falloc_alloc(sb, ctx, pi, offset, length,
				   mode & FL_ZERO_RANGE);
	if (!err && !(mode & (FL_KEEP_SIZE | FL_COLLAPSE | FL_INSERT)) &&
	    offset + length > pi->size)
		pi->size = offset + length;
	if (!err)
		zp_touch(pi, ctx, !!(mode & (FL_PUNCH_HOLE | FL_ZERO_RANGE |
					     FL_COLLAPSE | FL_INSERT)) ||
			 !(mode & FL_KEEP_SIZE), true);
	pi_persist(pi);
	if (attr)
		zp_fill_attr(sb, ino, attr);
out_unlock:
	pthread_rwlock_unlock(&zi->lock);
	return err;
}

int zp_seek(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t offset, int whence, uint64_t *result)
{
	struct zpmfs_inode *pi;
	struct zinode *zi;
	uint64_t b, r;
	int err = 0;

	(void)ctx;
	zi = zp_zi_live(sb, ino);
	if (!zi)
		return -ENOENT;
	if (whence != 3 && whence != 4)
		return -EINVAL;
	pi = zp_pi(sb, ino);
	pthread_rwlock_rdlock(&zi->lock);
	if (offset >= pi->size) {
		err = -ENXIO;
		goto out_unlock;
	}
	b = zp_bmap_next(sb, pi, offset >> ZPMFS_BLOCK_SHIFT, whence == 3);
	if (whence == 3 && (b == UINT64_MAX ||
			    b >= ZP_DIV_UP(pi->size, ZPMFS_BLOCK))) {
		err = -ENXIO;
		goto out_unlock;
	}
	r = b << ZPMFS_BLOCK_SHIFT;
	if (r < offset)
		r = offset;
	if (r > pi->size)
		r = pi->size;
	*result = r;
out_unlock:
	pthread_rwlock_unlock(&zi->lock);
	return err;
}

/* One chunk of a copy: read src under its lock, write dst under its own */
static ssize_t clone_chunk(struct zus_sb *sb, const struct zus_ctx *ctx,
			   struct zinode *szi, struct zpmfs_inode *spi,
			   uint64_t src_off, struct zinode *dzi,
			   struct zpmfs_inode *dpi, uint64_t dst_off,
			   size_t len, char *buf)
{
	ssize_t n;

	pthread_rwlock_rdlock(&szi->lock);
	if (src_off >= spi->size)
		len = 0;
	else if (len > spi->size - src_off)
		len = spi->size - src_off;
	zp_read_locked(sb, spi, buf, len, src_off);
	pthread_rwlock_unlock(&szi->lock);
	if (!len)
		return 0;
	pthread_rwlock_wrlock(&dzi->lock);
	n = zp_write_locked(sb, ctx, dpi, buf, len, dst_off);
	if (n > 0) {
		if (dst_off + n > dpi->size)
			dpi->size = dst_off + n;
		zp_touch(dpi, ctx, true, true);
		pi_persist(dpi);
	}
	pthread_rwlock_unlock(&dzi->lock);
	return n;
}

int zp_clone(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t src_ino,
	     uint64_t src_off, uint64_t dst_ino, uint64_t dst_off,
	     uint64_t length, uint32_t flags, uint64_t *done,
	     struct zufs_attr *attr)
{
	struct zinode *szi, *dzi;
	char *buf;
	int err;

	*done = 0;
	if (!(flags & ZUFS_CLONE_COPY))
		return -EOPNOTSUPP;	/* no shared blocks: no reflink */
	err = reg_zi(sb, src_ino, &szi);
	if (!err)
		err = reg_zi(sb, dst_ino, &dzi);
	if (err)
		return err;
	if (sb->rdonly)
		return -EROFS;
	if (dst_off >= ZPMFS_MAX_BYTES || length > ZPMFS_MAX_BYTES - dst_off)
		return -EFBIG;
	buf = malloc(CLONE_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (*done < length) {
		size_t want = length - *done < CLONE_CHUNK ?
			      length - *done : CLONE_CHUNK;
		ssize_t n = clone_chunk(sb, ctx, szi, zp_pi(sb, src_ino),
					src_off + *done, dzi,
					zp_pi(sb, dst_ino), dst_off + *done,
					want, buf);

		if (n < 0) {
			if (!*done)
				err = (int)n;
			break;
		}
		*done += n;
		if ((size_t)n < want)
			break;	/* source EOF */
	}
	free(buf);
	if (attr)
		zp_getattr(sb, ctx, dst_ino, attr);
	return err;
}
