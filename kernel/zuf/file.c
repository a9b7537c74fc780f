// SPDX-License-Identifier: GPL-2.0
/*
 * file.c - regular files: file_operations, fsync, fallocate, SEEK_DATA/
 * SEEK_HOLE, copy_file_range/clone, fiemap.  Every operation that moves
 * or frees blocks first drops user mappings and cached maps of the range
 * (under the inode lock and map_sem for write), then asks the server.
 */
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/uio.h>
#include "zuf_vfs.h"

/* ------------------------------------------------------------------ */
/* fsync                                                               */
/* ------------------------------------------------------------------ */

static int zuf_send_fsync(struct inode *inode, loff_t start, loff_t end,
			  int datasync)
{
	struct zufs_op_fsync op = {};

	op.hdr.op = ZUFS_OP_FSYNC;
	op.hdr.flags = datasync ? ZUFS_FSYNC_DATAONLY : 0;
	op.ino = inode->i_ino;
	op.offset = start;
	op.length = end >= start ? end - start + 1 : 0;
	return zufc_dispatch_op(ZSBI(inode), &op.hdr, sizeof(op));
}

int zuf_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	int err;

	/* pmem dirtied through mmap: write back the CPU caches */
	err = file_write_and_wait_range(file, start, end);
	if (err)
		return err;
	/* sizes travel with GET_BLOCKS; only timestamps may be in core */
	if (!datasync) {
		err = zuf_flush_times(inode);
		if (err)
			return err;
	}
	if (zuf_fst(inode, ZUFS_FST_SYNC_META)) {
		/*
		 * Data went to pmem with non-temporal stores and metadata is
		 * durable when an op returns; what may still sit in the
		 * memory controller's write queue is flushed by the device,
		 * as ext4-dax does.
		 */
		return zuf_pmem_flush(ZSBI(inode));
	}
	return zuf_send_fsync(inode, start, end, datasync);
}

/* ------------------------------------------------------------------ */
/* fallocate                                                           */
/* ------------------------------------------------------------------ */

/*
 * Only the modes the mount's caps name are offered (zufs_falloc_caps() in
 * zufs_api.h); the rest fail here, before anything changes, exactly as a
 * filesystem without them fails.
 */
static bool zuf_falloc_offered(struct inode *inode, int mode)
{
	u64 need = zufs_falloc_caps(mode);

	return need && (ZSBI(inode)->caps & need) == need;
}

static int zuf_send_fallocate(struct inode *inode, int mode, loff_t offset,
			      loff_t len)
{
	struct zufs_op_fallocate op = {};
	int err;

	op.hdr.op = ZUFS_OP_FALLOCATE;
	op.ino = inode->i_ino;
	op.offset = offset;
	op.length = len;
	op.mode = mode;
	err = zufc_dispatch_op(ZSBI(inode), &op.hdr, sizeof(op));
	if (err)
		return err;
	err = zuf_check_inode_attr(inode, &op.attr);
	if (err)
		return err;
	zuf_update_inode(inode, &op.attr);
	return 0;
}

static long zuf_fallocate(struct file *file, int mode, loff_t offset,
			  loff_t len)
{
	struct inode *inode = file_inode(file);
	struct zuf_inode_info *zii = ZUII(inode);
	loff_t end = offset + len;
	long err;

	if (!zuf_falloc_offered(inode, mode))
		return -EOPNOTSUPP;
	if (!S_ISREG(inode->i_mode))
		return -ENODEV;
	inode_lock(inode);
	if (!(mode & (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE |
		      FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_UNSHARE_RANGE)) &&
	    end > i_size_read(inode)) {
		err = inode_newsize_ok(inode, end);
		if (err)
			goto out_unlock;
	}
	err = file_modified(file);
	if (err)
		goto out_unlock;
	down_write(&zii->map_sem);
	inode_dio_wait(inode);
	/*
	 * Collapse and insert shift everything after offset; even a plain
	 * allocation must drop zero-page mappings of the holes it fills.
	 */
	if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
		err = zuf_invalidate_range(inode, offset, LLONG_MAX);
	else
		err = zuf_invalidate_range(inode, offset, end);
	if (!err)
		err = zuf_send_fallocate(inode, mode, offset, len);
	up_write(&zii->map_sem);

out_unlock:
	inode_unlock(inode);
	return err;
}

/* ------------------------------------------------------------------ */
/* llseek                                                              */
/* ------------------------------------------------------------------ */

/*
 * Page cache (no pmem): the server sees only what was written back, so
 * stores through a shared mapping must reach it before it reads the file.
 */
static int zuf_write_back(struct inode *inode, loff_t start, loff_t end)
{
	if (IS_DAX(inode) || !inode->i_mapping->nrpages)
		return 0;
	return filemap_write_and_wait_range(inode->i_mapping, start, end);
}

static loff_t zuf_seek_server(struct inode *inode, loff_t offset, int whence)
{
	struct zufs_op_seek op = {};
	int err;

	op.hdr.op = ZUFS_OP_SEEK;
	op.ino = inode->i_ino;
	op.offset = offset;
	op.whence = whence;
	err = zufc_dispatch_op(ZSBI(inode), &op.hdr, sizeof(op));
	if (err)
		return err;
	if (op.result > (u64)inode->i_sb->s_maxbytes ||
	    op.result < (u64)offset) {
		zuf_bad_answer(ZSBI(inode), "seek ino %lu: %llu from %lld",
			       inode->i_ino, op.result, offset);
		return -EIO;
	}
	return op.result;
}

static loff_t zuf_seek_data_hole(struct file *file, loff_t offset,
				 int whence)
{
	struct inode *inode = file_inode(file);
	loff_t res;

	inode_lock_shared(inode);
	if (IS_DAX(inode))
		res = whence == SEEK_DATA ?
			iomap_seek_data(inode, offset, &zuf_iomap_ops) :
			iomap_seek_hole(inode, offset, &zuf_iomap_ops);
	else if (offset < 0 || offset >= i_size_read(inode))
		res = -ENXIO;
	else
		res = zuf_write_back(inode, offset, LLONG_MAX) ?:
		      zuf_seek_server(inode, offset, whence);
	inode_unlock_shared(inode);
	if (res < 0)
		return res;
	return vfs_setpos(file, res, inode->i_sb->s_maxbytes);
}

static loff_t zuf_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);

	if (whence == SEEK_DATA || whence == SEEK_HOLE)
		return zuf_seek_data_hole(file, offset, whence);
	return generic_file_llseek_size(file, offset, whence,
					inode->i_sb->s_maxbytes,
					i_size_read(inode));
}

/* ------------------------------------------------------------------ */
/* clone / copy                                                        */
/* ------------------------------------------------------------------ */

static s64 zuf_send_clone(struct inode *src, loff_t pos_in,
			  struct inode *dst, loff_t pos_out, u64 len,
			  u32 flags)
{
	struct zufs_op_clone op = {};
	int err;

	op.hdr.op = ZUFS_OP_CLONE;
	op.hdr.flags = flags;
	op.src_ino = src->i_ino;
	op.dst_ino = dst->i_ino;
	op.src_offset = pos_in;
	op.dst_offset = pos_out;
	op.length = len;
	err = zufc_dispatch_op(ZSBI(dst), &op.hdr, sizeof(op));
	if (err)
		return err;
	if (op.done > len) {
		zuf_bad_answer(ZSBI(dst), "clone ino %lu: %llu bytes for %llu",
			       dst->i_ino, op.done, len);
		return -EIO;
	}
	err = zuf_check_inode_attr(dst, &op.attr);
	if (err)
		return err;
	zuf_update_inode(dst, &op.attr);
	return op.done;
}

static void zuf_map_sem_lock_two(struct inode *a, struct inode *b)
{
	if (a == b) {
		down_write(&ZUII(a)->map_sem);
		return;
	}
	if (a > b)
		swap(a, b);
	down_write(&ZUII(a)->map_sem);
	down_write_nested(&ZUII(b)->map_sem, SINGLE_DEPTH_NESTING);
}

static void zuf_map_sem_unlock_two(struct inode *a, struct inode *b)
{
	up_write(&ZUII(a)->map_sem);
	if (a != b)
		up_write(&ZUII(b)->map_sem);
}

/* A reflink or dedupe shares blocks; so may a copy where reflink exists */
static bool zuf_clone_shares(struct inode *src, u32 flags)
{
	if (flags & (ZUFS_CLONE_REFLINK | ZUFS_CLONE_DEDUPE))
		return true;
	return IS_DAX(src) && (ZSBI(src)->caps & ZUFS_CAP_CLONE);
}

/*
 * Caller holds both inode locks.  A reflink shares the source's blocks:
 * from then on a store into them through a cached map or a writable DAX
 * mapping of the source would show in the destination, so the source
 * range is dropped too.
 */
static s64 zuf_clone_locked(struct inode *src, loff_t pos_in,
			    struct inode *dst, loff_t pos_out, u64 len,
			    u32 flags)
{
	s64 ret;

	zuf_map_sem_lock_two(src, dst);
	/* a copy leaves the source's pages, but the server reads its file */
	ret = zuf_write_back(src, pos_in, len ? pos_in + len - 1 : LLONG_MAX);
	if (!ret)
		ret = zuf_invalidate_range(dst, pos_out,
					   len ? pos_out + len : LLONG_MAX);
	if (!ret && zuf_clone_shares(src, flags))
		ret = zuf_invalidate_range(src, pos_in,
					   len ? pos_in + len : LLONG_MAX);
	if (!ret)
		ret = zuf_send_clone(src, pos_in, dst, pos_out, len, flags);
	zuf_map_sem_unlock_two(src, dst);
	return ret;
}

/*
 * Linux 6.1's DAX dedupe compare (dax_dedupe_file_range_compare) walks
 * every destination extent against the first source extent only, so it
 * misjudges ranges of more than one extent either way.  The server
 * compares both ranges itself, under its locks and atomically with the
 * sharing (ZUFS_CLONE_DEDUPE): the VFS's compare gets one hole on each
 * side, which it calls the same.
 */
static int zuf_iomap_nocompare(struct inode *inode, loff_t pos,
			       loff_t length, unsigned int flags,
			       struct iomap *iomap, struct iomap *srcmap)
{
	iomap->offset = pos;
	iomap->length = length;
	iomap->type = IOMAP_HOLE;
	iomap->addr = IOMAP_NULL_ADDR;
	iomap->flags = 0;
	return 0;
}

static const struct iomap_ops zuf_nocompare_ops = {
	.iomap_begin	= zuf_iomap_nocompare,
};

static loff_t zuf_remap_file_range(struct file *file_in, loff_t pos_in,
				   struct file *file_out, loff_t pos_out,
				   loff_t len, unsigned int remap_flags)
{
	struct inode *src = file_inode(file_in);
	struct inode *dst = file_inode(file_out);
	bool dedupe = remap_flags & REMAP_FILE_DEDUP;
	s64 ret;

	if (remap_flags & ~(REMAP_FILE_DEDUP | REMAP_FILE_ADVISORY))
		return -EINVAL;
	/*
	 * Offered only when the mount's caps say so, and then a zero-length
	 * probe succeeds like a real call would; otherwise both fail here.
	 * The server compares the ranges of a dedupe, atomically with
	 * sharing them (a check here would see them unlocked against mmap).
	 */
	if (!(ZSBI(dst)->caps & (dedupe ? ZUFS_CAP_DEDUPE : ZUFS_CAP_CLONE)))
		return -EOPNOTSUPP;
	lock_two_nondirectories(src, dst);
	if (IS_DAX(src) && IS_DAX(dst))
		ret = dax_remap_file_range_prep(file_in, pos_in, file_out,
						pos_out, &len, remap_flags,
						&zuf_nocompare_ops);
	else
		ret = generic_remap_file_range_prep(file_in, pos_in, file_out,
						    pos_out, &len, remap_flags);
	if (ret < 0 || !len)
		goto out_unlock;
	ret = file_modified(file_out);
	if (ret)
		goto out_unlock;
	ret = zuf_clone_locked(src, pos_in, dst, pos_out, len,
			       dedupe ? ZUFS_CLONE_DEDUPE : ZUFS_CLONE_REFLINK);
	if (ret >= 0 && ret != len)
		ret = -EIO;

out_unlock:
	unlock_two_nondirectories(src, dst);
	return ret < 0 ? ret : len;
}

static ssize_t zuf_copy_file_range(struct file *file_in, loff_t pos_in,
				   struct file *file_out, loff_t pos_out,
				   size_t len, unsigned int flags)
{
	struct inode *src = file_inode(file_in);
	struct inode *dst = file_inode(file_out);
	s64 ret;

	if (src->i_sb != dst->i_sb)
		return splice_copy_file_range(file_in, pos_in, file_out,
					      pos_out, len);
	lock_two_nondirectories(src, dst);
	ret = file_modified(file_out);
	if (!ret)
		ret = zuf_clone_locked(src, pos_in, dst, pos_out, len,
				       ZUFS_CLONE_COPY);
	unlock_two_nondirectories(src, dst);
	if (ret == -EOPNOTSUPP)
		ret = splice_copy_file_range(file_in, pos_in, file_out,
					     pos_out, len);
	return ret;
}

/* ------------------------------------------------------------------ */
/* fiemap                                                              */
/* ------------------------------------------------------------------ */

/*
 * fiemap gives places in the set's t1 range, not in one member device:
 * over a device set that is what tells the members apart (and a single
 * device's range starts at its byte 0, so nothing changes there).
 */
static int zuf_fiemap_begin(struct inode *inode, loff_t pos, loff_t length,
			    unsigned int flags, struct iomap *iomap,
			    struct iomap *srcmap)
{
	struct zuf_pmem *pmem = ZSBI(inode)->pmem;
	int err;
	u32 i;

	err = zuf_iomap_ops.iomap_begin(inode, pos, length, flags, iomap,
					srcmap);
	if (err || iomap->type != IOMAP_MAPPED)
		return err;
	for (i = 0; i < pmem->ndevs; i++)
		if (pmem->devs[i].bdev == iomap->bdev)
			iomap->addr += pmem->devs[i].offset;
	return 0;
}

static const struct iomap_ops zuf_fiemap_ops = {
	.iomap_begin	= zuf_fiemap_begin,
};

int zuf_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
	       u64 start, u64 len)
{
	int err;

	if (!IS_DAX(inode))
		return -EOPNOTSUPP;
	inode_lock_shared(inode);
	err = iomap_fiemap(inode, fieinfo, start, len, &zuf_fiemap_ops);
	inode_unlock_shared(inode);
	return err;
}

/* ------------------------------------------------------------------ */
/* open                                                                */
/* ------------------------------------------------------------------ */

/*
 * The VFS answers a zero-length FIDEDUPERANGE itself, with success,
 * whenever the file has remap_file_range: a mount that implements neither
 * reflink nor dedupe gets file operations without it, so that the probe
 * fails like a real call (EOPNOTSUPP for clones, dedupes and probes).
 */
static const struct file_operations zuf_file_noremap_operations;

static int zuf_file_open(struct inode *inode, struct file *file)
{
	if (!(ZSBI(inode)->caps & (ZUFS_CAP_CLONE | ZUFS_CAP_DEDUPE)))
		replace_fops(file, &zuf_file_noremap_operations);
	return generic_file_open(inode, file);
}

#define ZUF_FILE_OPERATIONS					\
	.llseek			= zuf_llseek,			\
	.read_iter		= zuf_read_iter,		\
	.write_iter		= zuf_write_iter,		\
	.mmap			= zuf_file_mmap,		\
	.get_unmapped_area	= thp_get_unmapped_area,	\
	ZUF_FOP_MMAP_SYNC,				\
	.open			= zuf_file_open,		\
	.fsync			= zuf_fsync,			\
	.fallocate		= zuf_fallocate,		\
	.unlocked_ioctl		= zuf_ioctl,			\
	.splice_read		= filemap_splice_read,		\
	.splice_write		= iter_file_splice_write,	\
	.copy_file_range	= zuf_copy_file_range

const struct file_operations zuf_file_operations = {
	ZUF_FILE_OPERATIONS,
	.remap_file_range	= zuf_remap_file_range,
};

static const struct file_operations zuf_file_noremap_operations = {
	ZUF_FILE_OPERATIONS,
};

const struct inode_operations zuf_file_inode_operations = {
	.getattr	= zuf_getattr,
	.setattr	= zuf_setattr,
	.listxattr	= zuf_listxattr,
	ZUF_ACL_IOPS,
	.fiemap		= zuf_fiemap,
	.update_time	= ZUF_UPDATE_TIME,
	.fileattr_get	= zuf_fileattr_get,
	.fileattr_set	= zuf_fileattr_set,
};
