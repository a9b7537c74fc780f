/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the kernel APIs that differ between the kernels zuf.ko is
 * built for: Debian 12's Linux 6.1 and 6.12 LTS (bookworm-backports).
 *
 * The rest of zuf.ko is written against the newest API.  On an older
 * kernel this header supplies that API in terms of what the kernel has,
 * so the differences live here and nowhere else.  Each difference is one
 * ZUF_HAVE_* test named after the API, decided by Kbuild from the
 * kernel's headers rather than from its version: distribution kernels
 * backport APIs (Debian's 6.1 has the ctime accessors of 6.6).
 *
 * Covered:
 *  - idmapped mounts: struct mnt_idmap (6.3) replaced struct user_namespace
 *    in inode, xattr and ACL operations;
 *  - inode timestamps behind accessors (ctime 6.6, atime/mtime 6.7);
 *  - vm_flags_set() (6.3): vma->vm_flags became read-only;
 *  - ACL operations: ->get_inode_acl() and ->set_acl() on a dentry (6.2),
 *    the VFS handles the system.posix_acl_* xattrs itself, and
 *    posix_acl_chmod() takes the dentry;
 *  - ->update_time() computes the time itself (6.6);
 *  - generic_fillattr() takes the request mask (6.6);
 *  - dax_iomap_fault() and ->huge_fault() take an order instead of enum
 *    page_entry_size (6.6), PMD_ORDER/PUD_ORDER (6.6);
 *  - write_cache_pages() callbacks take a folio (6.3);
 *  - filemap_splice_read() (6.5), splice_copy_file_range() (6.7);
 *  - file_operations.fop_flags with FOP_MMAP_SYNC (6.12);
 *  - opening a block device by dev_t gives a struct file (6.9).
 */
#ifndef __ZUF_COMPAT_H
#define __ZUF_COMPAT_H

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/dax.h>
#include <linux/splice.h>
#include <linux/writeback.h>
#include <linux/posix_acl.h>
#include <linux/blkdev.h>

/*
 * ZUF_HAVE_<API> is defined (to 1) by Kbuild when the kernel's headers
 * declare that API (see the probes there); undefined means "not there".
 */
#ifndef ZUF_HAVE_GET_INODE_ACL
#define ZUF_HAVE_GET_INODE_ACL		0
#endif
#ifndef ZUF_HAVE_MNT_IDMAP
#define ZUF_HAVE_MNT_IDMAP		0
#endif
#ifndef ZUF_HAVE_VM_FLAGS_SET
#define ZUF_HAVE_VM_FLAGS_SET		0
#endif
#ifndef ZUF_HAVE_WRITEPAGE_FOLIO
#define ZUF_HAVE_WRITEPAGE_FOLIO	0
#endif
#ifndef ZUF_HAVE_FILEMAP_SPLICE_READ
#define ZUF_HAVE_FILEMAP_SPLICE_READ	0
#endif
#ifndef ZUF_HAVE_INODE_CTIME_ACCESSORS
#define ZUF_HAVE_INODE_CTIME_ACCESSORS	0
#endif
#ifndef ZUF_HAVE_UPDATE_TIME_FLAGS
#define ZUF_HAVE_UPDATE_TIME_FLAGS	0
#endif
#ifndef ZUF_HAVE_FILLATTR_MASK
#define ZUF_HAVE_FILLATTR_MASK		0
#endif
#ifndef ZUF_HAVE_DAX_FAULT_ORDER
#define ZUF_HAVE_DAX_FAULT_ORDER	0
#endif
#ifndef ZUF_HAVE_INODE_TIME_ACCESSORS
#define ZUF_HAVE_INODE_TIME_ACCESSORS	0
#endif
#ifndef ZUF_HAVE_SIMPLE_INODE_INIT_TS
#define ZUF_HAVE_SIMPLE_INODE_INIT_TS	0
#endif
#ifndef ZUF_HAVE_SPLICE_COPY_FILE_RANGE
#define ZUF_HAVE_SPLICE_COPY_FILE_RANGE	0
#endif
#ifndef ZUF_HAVE_ACL_CHMOD_DENTRY
#define ZUF_HAVE_ACL_CHMOD_DENTRY	0
#endif
#ifndef ZUF_HAVE_BDEV_FILE_OPEN
#define ZUF_HAVE_BDEV_FILE_OPEN		0
#endif
#ifndef ZUF_HAVE_FOP_FLAGS
#define ZUF_HAVE_FOP_FLAGS		0
#endif

/* idmapped mounts: before 6.3 the same argument was a user namespace */
#if !ZUF_HAVE_MNT_IDMAP
#define mnt_idmap	user_namespace
#define nop_mnt_idmap	init_user_ns
#endif

#if !ZUF_HAVE_VM_FLAGS_SET
static inline void vm_flags_set(struct vm_area_struct *vma,
				unsigned long flags)
{
	vma->vm_flags |= flags;
}
#endif

#if !ZUF_HAVE_INODE_CTIME_ACCESSORS
static inline struct timespec64 inode_get_ctime(const struct inode *inode)
{
	return inode->i_ctime;
}

static inline struct timespec64 inode_set_ctime_to_ts(struct inode *inode,
						      struct timespec64 ts)
{
	inode->i_ctime = ts;
	return ts;
}

static inline struct timespec64 inode_set_ctime_current(struct inode *inode)
{
	return inode_set_ctime_to_ts(inode, current_time(inode));
}
#endif

#if !ZUF_HAVE_INODE_TIME_ACCESSORS
static inline struct timespec64 inode_get_atime(const struct inode *inode)
{
	return inode->i_atime;
}

static inline struct timespec64 inode_get_mtime(const struct inode *inode)
{
	return inode->i_mtime;
}

static inline struct timespec64 inode_set_atime_to_ts(struct inode *inode,
						      struct timespec64 ts)
{
	inode->i_atime = ts;
	return ts;
}

static inline struct timespec64 inode_set_mtime_to_ts(struct inode *inode,
						      struct timespec64 ts)
{
	inode->i_mtime = ts;
	return ts;
}
#endif

#if !ZUF_HAVE_SIMPLE_INODE_INIT_TS
static inline struct timespec64 simple_inode_init_ts(struct inode *inode)
{
	struct timespec64 ts = inode_set_ctime_current(inode);

	inode_set_atime_to_ts(inode, ts);
	inode_set_mtime_to_ts(inode, ts);
	return ts;
}
#endif

#if !ZUF_HAVE_UPDATE_TIME_FLAGS
static inline int inode_update_timestamps(struct inode *inode, int flags)
{
	struct timespec64 now = current_time(inode);

	if (flags & S_ATIME)
		inode_set_atime_to_ts(inode, now);
	if (flags & S_MTIME)
		inode_set_mtime_to_ts(inode, now);
	if (flags & S_CTIME)
		inode_set_ctime_to_ts(inode, now);
	return flags;
}
#endif

#if !ZUF_HAVE_FILLATTR_MASK
#define generic_fillattr(idmap, request_mask, inode, stat) \
	generic_fillattr(idmap, inode, stat)
#endif

/* the order of the fault: 0 for a PTE */
#if !ZUF_HAVE_DAX_FAULT_ORDER
#define dax_iomap_fault(vmf, order, pfnp, errp, ops) \
	dax_iomap_fault(vmf, (order) ? PE_SIZE_PMD : PE_SIZE_PTE, pfnp, \
			errp, ops)
#endif

#ifndef PMD_ORDER
#define PMD_ORDER	(PMD_SHIFT - PAGE_SHIFT)
#endif
#ifndef PUD_ORDER
#define PUD_ORDER	(PUD_SHIFT - PAGE_SHIFT)
#endif

#if !ZUF_HAVE_ACL_CHMOD_DENTRY
#define posix_acl_chmod(idmap, dentry, mode) \
	posix_acl_chmod(idmap, d_inode(dentry), mode)
#endif

#if !ZUF_HAVE_FILEMAP_SPLICE_READ
#define filemap_splice_read	generic_file_splice_read
#endif

#if !ZUF_HAVE_SPLICE_COPY_FILE_RANGE
static inline ssize_t splice_copy_file_range(struct file *in, loff_t pos_in,
					     struct file *out, loff_t pos_out,
					     size_t len)
{
	return generic_copy_file_range(in, pos_in, out, pos_out, len, 0);
}
#endif

/*
 * A block device zuf.ko opened itself (the members of a device set other
 * than the one mount was given).  A NULL holder opens it read-only and
 * shared (to read its device table); a holder opens it exclusively.
 */
struct zuf_bdev {
	struct block_device	*bdev;
#if ZUF_HAVE_BDEV_FILE_OPEN
	struct file		*file;
#else
	fmode_t			mode;
#endif
};

#if ZUF_HAVE_BDEV_FILE_OPEN
static inline int zuf_bdev_open(struct zuf_bdev *zb, dev_t dev, bool write,
				void *holder)
{
	blk_mode_t mode = BLK_OPEN_READ | (write ? BLK_OPEN_WRITE : 0);
	struct file *f = bdev_file_open_by_dev(dev, mode, holder, NULL);

	if (IS_ERR(f))
		return PTR_ERR(f);
	zb->file = f;
	zb->bdev = file_bdev(f);
	return 0;
}

static inline void zuf_bdev_close(struct zuf_bdev *zb)
{
	if (zb->bdev)
		bdev_fput(zb->file);
	zb->bdev = NULL;
}
#else
static inline int zuf_bdev_open(struct zuf_bdev *zb, dev_t dev, bool write,
				void *holder)
{
	fmode_t mode = FMODE_READ | (write ? FMODE_WRITE : 0) |
		       (holder ? FMODE_EXCL : 0);
	struct block_device *bdev = blkdev_get_by_dev(dev, mode, holder);

	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	zb->mode = mode;
	zb->bdev = bdev;
	return 0;
}

static inline void zuf_bdev_close(struct zuf_bdev *zb)
{
	if (zb->bdev)
		blkdev_put(zb->bdev, zb->mode);
	zb->bdev = NULL;
}
#endif

/* file_operations members that say "MAP_SYNC works here" */
#if ZUF_HAVE_FOP_FLAGS
#define ZUF_FOP_MMAP_SYNC	.fop_flags = FOP_MMAP_SYNC
#else
#define ZUF_FOP_MMAP_SYNC	.mmap_supported_flags = MAP_SYNC
#endif

/*
 * Operations whose signature changed: the old kernel's entry point sits
 * next to the real one (same file, same ZUF_HAVE_* test) and only adapts
 * the arguments; these name the one to put in the operations tables.
 */
#if ZUF_HAVE_UPDATE_TIME_FLAGS
#define ZUF_UPDATE_TIME	zuf_update_time
#else
#define ZUF_UPDATE_TIME	zuf_update_time_at
#endif

#if ZUF_HAVE_DAX_FAULT_ORDER
#define ZUF_DAX_HUGE_FAULT	zuf_dax_huge_fault
#else
#define ZUF_DAX_HUGE_FAULT	zuf_dax_huge_fault_pe
#endif

/* inode_operations members for ACLs */
#if ZUF_HAVE_GET_INODE_ACL
#define ZUF_ACL_IOPS	.get_inode_acl = zuf_get_acl, .set_acl = zuf_set_acl
#else
#define ZUF_ACL_IOPS	.get_acl = zuf_get_acl, .set_acl = zuf_set_acl_inode
#endif

#endif /* __ZUF_COMPAT_H */
