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
#include "journal.h"

#define FL_KEEP_SIZE	0x01
#define FL_PUNCH_HOLE	0x02
#define FL_NO_HIDE	0x04
#define FL_COLLAPSE	0x08
#define FL_ZERO_RANGE	0x10
#define FL_INSERT	0x20
#define FL_UNSHARE	0x40
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

static uint32_t ext_flags(struct zus_sb *sb, uint64_t blk)
{
	if (!blk)
		return ZUFS_EXT_HOLE;
	return zp_rc(sb, blk) ? ZUFS_EXT_SHARED : 0;
}

/*
 * Reads: shared blocks are answered as such (the kernel reads them in
 * place, never caches them).  unshare (ZUFS_GB_MAP, caller holds the lock
 * for writing): each shared block gets a copy of its own first.
 */
static int map_read(struct zus_sb *sb, const struct zus_ctx *ctx,
		    struct zpmfs_inode *pi, uint64_t fb, uint64_t end,
		    struct zufs_extent *ext, unsigned int max, bool unshare)
{
	unsigned int count = 0;

	while (fb < end) {
		uint64_t blk;
		int64_t n = zp_bmap_run(sb, pi, fb, end - fb, &blk);
		uint32_t flags = ext_flags(sb, blk);

		if (unshare && (flags & ZUFS_EXT_SHARED)) {
			int err;

			if (count == max)
				break;
			/* read-only: no copy can be made, and no shared
			 * block may be mapped */
			err = sb->rdonly ? -EROFS :
			      zp_rc_unshare(sb, ctx, pi, fb, blk, 0, &blk);
			if (err)
				return count ? (int)count : err;
			n = 1;
			flags = 0;
		}
		if (!ext_add(ext, &count, max, fb << ZPMFS_BLOCK_SHIFT,
			     blk << ZPMFS_BLOCK_SHIFT,
			     (uint64_t)n << ZPMFS_BLOCK_SHIFT, flags))
			break;
		fb += n;
	}
	return count;
}

/*
 * A write allocates in steps of what one journal slot can log (about 500
 * blocks); a write() asks again for the rest.  A fault cannot: a 2 MiB
 * fault answered with less falls back to 4 KiB pages.  So a mapping's
 * allocation commits each step as an op of its own and goes on.  A crash
 * in between leaves the steps before it allocated inside the file, as
 * two answers would.
 */
static int map_write(struct zus_sb *sb, const struct zus_ctx *ctx,
		     struct zpmfs_inode *pi, uint64_t fb, uint64_t end,
		     struct zufs_extent *ext, unsigned int max, bool map,
		     uint64_t *done)
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
		n = zp_bmap_write_run(sb, ctx, pi, fb, end - fb, &blk, &new);
		if (n == -EAGAIN && count && map) {
			zj_end_lazy();
			n = zp_bmap_write_run(sb, ctx, pi, fb, end - fb, &blk,
					      &new);
		}
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
		  uint64_t offset, uint64_t length, uint32_t flags,
		  uint64_t size_after, struct zufs_extent *ext,
		  unsigned int max_ext, struct zufs_attr *attr)
{
	uint64_t fb = offset >> ZPMFS_BLOCK_SHIFT, end, done;
	bool write = flags & ZUFS_GB_WRITE, map = flags & ZUFS_GB_MAP;
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
		/* a mapping may have to unshare: that changes the map */
		if (map && sb->rc)
			pthread_rwlock_wrlock(&zi->lock);
		else
			pthread_rwlock_rdlock(&zi->lock);
		ret = map_read(sb, ctx, pi, fb, end, ext, max_ext,
			       map && sb->rc);
		zp_fill_attr(sb, ino, attr);
		pthread_rwlock_unlock(&zi->lock);
		return ret;
	}
	pthread_rwlock_wrlock(&zi->lock);
	ret = map_write(sb, ctx, pi, fb, end, ext, max_ext, map, &done);
	if (ret >= 0 && length) {
		done <<= ZPMFS_BLOCK_SHIFT;
		if (size_after > done)
			size_after = done;
		if (size_after > pi->size)
			pi->size = size_after;
		zp_touch(pi, ctx, true, true);
		pi_persist(pi);
	}
	/* an op began only if the map changed: the fast path has none */
	zj_end_lazy();
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
		int64_t run = zp_bmap_write_run(sb, ctx, pi, fb,
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

/*
 * One journal op per step: a step ends where the op's slot is full
 * (zp_write_locked() comes back short), so a write too big for one slot
 * is atomic per step, each a prefix of the write with its size.
 */
static ssize_t write_ops(struct zus_sb *sb, const struct zus_ctx *ctx,
			 struct zpmfs_inode *pi, const char *buf, size_t len,
			 uint64_t offset)
{
	size_t done = 0;
	ssize_t ret = 0;

	while (done < len) {
		ret = zp_write_locked(sb, ctx, pi, buf + done, len - done,
				      offset + done);
		if (ret > 0) {
			done += (size_t)ret;
			if (offset + done > pi->size)
				pi->size = offset + done;
			zp_touch(pi, ctx, true, true);
			/* data persisted, before the size that exposes it */
			pi_persist(pi);
		}
		zj_end_lazy();
		if (ret <= 0)
			break;
	}
	return done ? (ssize_t)done : ret;
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
	ret = write_ops(sb, ctx, pi, buf, len, offset);
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

/*
 * Zero [off, off + len) of mapped blocks; holes already read as zeros.
 * A shared block gets a copy of its own first.
 */
static int zero_bytes(struct zus_sb *sb, const struct zus_ctx *ctx,
		      struct zpmfs_inode *pi, uint64_t off, uint64_t len)
{
	while (len) {
		uint64_t fb = off >> ZPMFS_BLOCK_SHIFT, blk, o, n;
		int64_t run = zp_bmap_run(sb, pi, fb,
					  ZP_DIV_UP(off + len, ZPMFS_BLOCK) - fb,
					  &blk);

		if (blk && zp_rc(sb, blk)) {
			int err = zp_rc_unshare(sb, ctx, pi, fb, blk, 0, &blk);

			if (err)
				return err;
			run = 1;
		}
		o = off & (ZPMFS_BLOCK - 1);
		n = ((uint64_t)run << ZPMFS_BLOCK_SHIFT) - o;
		if (n > len)
			n = len;
		if (blk)
			pmem_memset_persist((char *)zp_block(sb, blk) + o, 0, n);
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * Unmap [first, last) as one op however many blocks it frees: the op only
 * commits the intent (and the times), the unmapping follows; a crash in
 * it is finished by the next mount (journal.c, redo).
 */
static void punch_op(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, uint64_t first, uint64_t last)
{
	struct zpmfs_inode *pi = zp_pi(sb, ino);

	zj_end_lazy();		/* a CoW of a partial block before it */
	zj_begin(sb, ctx);
	zj_log(pi, ZJ_INODE);
	zj_intent(ZPMFS_INTENT_PUNCH, ino, first, last);
	zp_touch(pi, ctx, true, true);
	pi_persist(pi);
	zj_commit();
	zp_bmap_punch(sb, pi, first, last);
	zj_intent_done();
}

static int falloc_punch(struct zus_sb *sb, const struct zus_ctx *ctx,
			uint64_t ino, uint64_t off, uint64_t len)
{
	uint64_t first = ZP_DIV_UP(off, ZPMFS_BLOCK);
	uint64_t last = (off + len) >> ZPMFS_BLOCK_SHIFT;
	struct zpmfs_inode *pi = zp_pi(sb, ino);
	int err;

	if (first > last)	/* inside one block */
		return zero_bytes(sb, ctx, pi, off, len);
	err = zero_bytes(sb, ctx, pi, off, (first << ZPMFS_BLOCK_SHIFT) - off);
	if (!err)
		err = zero_bytes(sb, ctx, pi, last << ZPMFS_BLOCK_SHIFT,
				 off + len - (last << ZPMFS_BLOCK_SHIFT));
	if (!err && first < last)
		punch_op(sb, ctx, ino, first, last);
	return err;
}

static int falloc_alloc(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *pi, uint64_t off, uint64_t len,
			bool zero)
{
	uint64_t fb = off >> ZPMFS_BLOCK_SHIFT;
	uint64_t end = ZP_DIV_UP(off + len, ZPMFS_BLOCK);
	int err;

	if (zero) {
		err = zero_bytes(sb, ctx, pi, off, len);
		if (err)
			return err;
	}
	while (fb < end) {
		uint64_t blk;
		bool new;
		int64_t n = zp_bmap_alloc_run(sb, ctx, pi, fb, end - fb, &blk,
					      &new);

		if (n == -EAGAIN) {
			/* the op's slot is full: what is mapped so far is
			 * one op, the rest the next (README.md) */
			pi_persist(pi);
			zj_end_lazy();
			zj_begin_lazy(sb, ctx, pi);
			continue;
		}
		if (n < 0)
			return (int)n;
		fb += n;
	}
	return 0;
}

/* UNSHARE_RANGE: a copy of every shared block, and allocate as mode 0 */
static int falloc_unshare(struct zus_sb *sb, const struct zus_ctx *ctx,
			  struct zpmfs_inode *pi, uint64_t off, uint64_t len)
{
	int err = zp_rc_unshare_range(sb, ctx, pi, off >> ZPMFS_BLOCK_SHIFT,
				      ZP_DIV_UP(off + len, ZPMFS_BLOCK));

	return err ? err : falloc_alloc(sb, ctx, pi, off, len, false);
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
		return zp_truncate(sb, ctx, pi, pi->size - len);
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

static int falloc_check(struct zus_sb *sb, uint32_t mode, uint64_t off,
			uint64_t len)
{
	if (mode & ~(FL_KEEP_SIZE | FL_PUNCH_HOLE | FL_NO_HIDE | FL_COLLAPSE |
		     FL_ZERO_RANGE | FL_INSERT | FL_UNSHARE))
		return -EOPNOTSUPP;
	if ((mode & FL_UNSHARE) && (!sb->rc || (mode & ~(FL_UNSHARE |
							  FL_KEEP_SIZE))))
		return sb->rc ? -EINVAL : -EOPNOTSUPP;
	if ((mode & FL_PUNCH_HOLE) && !(mode & FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	if ((mode & (FL_COLLAPSE | FL_INSERT)) && mode != FL_COLLAPSE &&
	    mode != FL_INSERT)
		return -EINVAL;
	if (!len)
		return -EINVAL;
	if (off >= ZPMFS_MAX_BYTES || len > ZPMFS_MAX_BYTES - off)
		return -EFBIG;
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
	err = falloc_check(sb, mode, offset, length);
	if (err)
		goto out_unlock;
	/* one journal op; a punch is an intent op of its own (punch_op) */
	if (!(mode & FL_PUNCH_HOLE))
		zj_begin_lazy(sb, ctx, pi);
	if (mode & FL_PUNCH_HOLE)
		err = falloc_punch(sb, ctx, ino, offset, length);
	else if (mode & FL_UNSHARE)
		err = falloc_unshare(sb, ctx, pi, offset, length);
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
	zj_end_lazy();
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
	zj_end_lazy();
	pthread_rwlock_unlock(&dzi->lock);
	return n;
}

/* Both files of a clone: src for reading, dst for writing, in inode order */
static void lock_pair(struct zinode *szi, uint64_t sino, struct zinode *dzi,
		      uint64_t dino)
{
	if (sino == dino) {
		pthread_rwlock_wrlock(&dzi->lock);
	} else if (sino < dino) {
		pthread_rwlock_rdlock(&szi->lock);
		pthread_rwlock_wrlock(&dzi->lock);
	} else {
		pthread_rwlock_wrlock(&dzi->lock);
		pthread_rwlock_rdlock(&szi->lock);
	}
}

static void unlock_pair(struct zinode *szi, struct zinode *dzi)
{
	if (szi != dzi)
		pthread_rwlock_unlock(&szi->lock);
	pthread_rwlock_unlock(&dzi->lock);
}

/* Copy bytes from src to dst, both locked; returns 0 or -errno */
static int copy_locked(struct zus_sb *sb, const struct zus_ctx *ctx,
		       struct zpmfs_inode *spi, uint64_t soff,
		       struct zpmfs_inode *dpi, uint64_t doff, uint64_t len,
		       char *buf)
{
	while (len) {
		size_t n = len < CLONE_CHUNK ? len : CLONE_CHUNK;
		ssize_t w;

		zp_read_locked(sb, spi, buf, n, soff);
		w = zp_write_locked(sb, ctx, dpi, buf, n, doff);
		if (w < 0)
			return (int)w;
		if ((size_t)w < n)
			return -ENOSPC;
		soff += n;
		doff += n;
		len -= n;
	}
	return 0;
}

/* FIDEDUPERANGE: the same bytes in both ranges (files locked) */
static bool same_bytes(struct zus_sb *sb, struct zpmfs_inode *spi,
		       uint64_t soff, struct zpmfs_inode *dpi, uint64_t doff,
		       uint64_t len, char *buf)
{
	size_t half = CLONE_CHUNK / 2;

	while (len) {
		size_t n = len < half ? len : half;

		zp_read_locked(sb, spi, buf, n, soff);
		zp_read_locked(sb, dpi, buf + half, n, doff);
		if (memcmp(buf, buf + half, n))
			return false;
		soff += n;
		doff += n;
		len -= n;
	}
	return true;
}

/*
 * Share what whole blocks the ranges have in common, copy the rest: the
 * head up to the first block boundary (copy_file_range only: a reflink's
 * offsets are block aligned) and a partial tail (a reflink to src EOF;
 * a dedupe leaves it as it is).  Both files locked; len within src.
 */
static int share_locked(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *spi, uint64_t soff,
			struct zpmfs_inode *dpi, uint64_t doff, uint64_t len,
			uint32_t flags, char *buf)
{
	uint64_t head = (ZPMFS_BLOCK - (soff & (ZPMFS_BLOCK - 1))) &
			(ZPMFS_BLOCK - 1), nb, tail;
	int err;

	if (head > len)
		head = len;
	nb = (len - head) >> ZPMFS_BLOCK_SHIFT;
	tail = (len - head) & (ZPMFS_BLOCK - 1);
	err = copy_locked(sb, ctx, spi, soff, dpi, doff, head, buf);
	if (!err)
		err = zp_rc_share_range(sb, ctx, spi,
					(soff + head) >> ZPMFS_BLOCK_SHIFT,
					dpi, (doff + head) >> ZPMFS_BLOCK_SHIFT,
					nb);
	if (!err && !(flags & ZUFS_CLONE_DEDUPE))
		err = copy_locked(sb, ctx, spi, len - tail + soff, dpi,
				  len - tail + doff, tail, buf);
	return err;
}

/* Reflink, dedupe, or a copy_file_range whose offsets let blocks be
 * shared: all under both locks */
static int clone_share(struct zus_sb *sb, const struct zus_ctx *ctx,
		       uint64_t src_ino, uint64_t src_off, uint64_t dst_ino,
		       uint64_t dst_off, uint64_t length, uint32_t flags,
		       uint64_t *done, char *buf)
{
	struct zinode *szi = zp_zi(sb, src_ino), *dzi = zp_zi(sb, dst_ino);
	struct zpmfs_inode *spi = zp_pi(sb, src_ino), *dpi = zp_pi(sb, dst_ino);
	int err = 0;

	lock_pair(szi, src_ino, dzi, dst_ino);
	/* one op: the copied head and tail, the shared blocks, the size */
	zj_begin(sb, ctx);
	zj_log(dpi, ZJ_INODE);
	if (src_off >= spi->size)
		length = 0;
	else if (!length || length > spi->size - src_off)
		length = (flags & ZUFS_CLONE_COPY) || !length ?
			 spi->size - src_off : length;
	if (!(flags & ZUFS_CLONE_COPY) &&
	    (((src_off | dst_off) & (ZPMFS_BLOCK - 1)) ||
	     src_off + length > spi->size ||
	     ((flags & ZUFS_CLONE_DEDUPE) && dst_off + length > dpi->size)))
		err = -EINVAL;
	else if ((flags & ZUFS_CLONE_DEDUPE) &&
		 !same_bytes(sb, spi, src_off, dpi, dst_off, length, buf))
		err = -EBADE;
	if (!err && length)
		err = share_locked(sb, ctx, spi, src_off, dpi, dst_off, length,
				   flags, buf);
	if (!err) {
		*done = length;
		if (!(flags & ZUFS_CLONE_DEDUPE) &&
		    dst_off + length > dpi->size)
			dpi->size = dst_off + length;
		if (length && !(flags & ZUFS_CLONE_DEDUPE))
			zp_touch(dpi, ctx, true, true);
		pi_persist(dpi);
	}
	zj_commit();
	unlock_pair(szi, dzi);
	return err;
}

/* A copy that cannot share (no refcounts, or offsets apart within a
 * block): chunk by chunk, each file under its own lock */
static int clone_copy(struct zus_sb *sb, const struct zus_ctx *ctx,
		      uint64_t src_ino, uint64_t src_off, uint64_t dst_ino,
		      uint64_t dst_off, uint64_t length, uint64_t *done,
		      char *buf)
{
	struct zinode *szi = zp_zi(sb, src_ino), *dzi = zp_zi(sb, dst_ino);

	while (*done < length) {
		size_t want = length - *done < CLONE_CHUNK ?
			      length - *done : CLONE_CHUNK;
		ssize_t n = clone_chunk(sb, ctx, szi, zp_pi(sb, src_ino),
					src_off + *done, dzi,
					zp_pi(sb, dst_ino), dst_off + *done,
					want, buf);

		if (n < 0)
			return *done ? 0 : (int)n;
		*done += n;
		if ((size_t)n < want)
			break;	/* source EOF */
	}
	return 0;
}

int zp_clone(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t src_ino,
	     uint64_t src_off, uint64_t dst_ino, uint64_t dst_off,
	     uint64_t length, uint32_t flags, uint64_t *done,
	     struct zufs_attr *attr)
{
	struct zinode *szi, *dzi;
	bool share;
	char *buf;
	int err;

	*done = 0;
	if (!(flags & ZUFS_CLONE_COPY) && !sb->rc)
		return -EOPNOTSUPP;	/* no refcount table: no sharing */
	err = reg_zi(sb, src_ino, &szi);
	if (!err)
		err = reg_zi(sb, dst_ino, &dzi);
	if (err)
		return err;
	if (sb->rdonly)
		return -EROFS;
	if (src_off >= ZPMFS_MAX_BYTES || dst_off >= ZPMFS_MAX_BYTES ||
	    length > ZPMFS_MAX_BYTES - dst_off ||
	    length > ZPMFS_MAX_BYTES - src_off)
		return -EFBIG;
	if ((flags & ZUFS_CLONE_DEDUPE) && !length)
		return -EINVAL;
	buf = malloc(CLONE_CHUNK);
	if (!buf)
		return -ENOMEM;
	share = !(flags & ZUFS_CLONE_COPY) ||
		(sb->rc && !((src_off ^ dst_off) & (ZPMFS_BLOCK - 1)));
	if (share)
		err = clone_share(sb, ctx, src_ino, src_off, dst_ino, dst_off,
				  length, flags, done, buf);
	else
		err = clone_copy(sb, ctx, src_ino, src_off, dst_ino, dst_off,
				 length, done, buf);
	free(buf);
	if (attr)
		zp_getattr(sb, ctx, dst_ino, attr);
	return err;
}
