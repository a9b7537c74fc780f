/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zuf_vfs.h - private interfaces between the files of the VFS half of
 * zuf.ko (inode.c namei.c dir.c file.c rw.c mmap.c xattr.c ioctl.c).
 * The core never includes this: what it needs is in zuf.h.
 */
#ifndef __ZUF_VFS_H
#define __ZUF_VFS_H

#include <linux/iomap.h>
#include <linux/posix_acl.h>
#include "zuf.h"

/*
 * Our in-core inode.  zuf.h's struct zuf_inode_info comes first so that
 * ZUII() keeps working; the rest is private to the VFS half.
 */
struct zuf_inode {
	struct zuf_inode_info	zii;
	struct timespec64	btime;
	u32			zflags;		/* FS_*_FL, as the server has them */
	u32			nr_ext;		/* cached extents; map_lock */
	unsigned long		state;		/* ZUF_I_* bits */
	atomic_t		names_lost;	/* zuf_dir_uncomplete() calls */
	unsigned long		attr_time;	/* jiffies of the last answer */
	u64			attr_version;	/* i_lock: last change */
};

/*
 * mtime/ctime/atime were changed in core (a write that hit the map cache,
 * an mmap write fault) and not yet told to the server.  Cleared when the
 * server's answer shows times at least as new, or after a SETATTR of them.
 */
#define ZUF_I_TIMES_DIRTY	0
/* a directory whose every name has a dentry (namei.c, "Complete") */
#define ZUF_I_DIR_COMPLETE	1
/* a lookup in this directory went to the server (dir.c, readdirplus) */
#define ZUF_I_DIR_LOOKED_UP	2

static inline struct zuf_inode *ZUI(struct inode *inode)
{
	return container_of(ZUII(inode), struct zuf_inode, zii);
}

static inline struct zuf_sb_info *ZSBI(struct inode *inode)
{
	return ZSB(inode->i_sb);
}

static inline bool zuf_fst(struct inode *inode, u32 flag)
{
	return ZSBI(inode)->zft->info.flags & flag;
}

/* FS_*_FL the user may see and change with chattr */
#define ZUF_FL_USER_VISIBLE	(FS_SYNC_FL | FS_IMMUTABLE_FL | FS_APPEND_FL | \
				 FS_NODUMP_FL | FS_NOATIME_FL | FS_DIRSYNC_FL)
#define ZUF_FL_USER_MODIFIABLE	ZUF_FL_USER_VISIBLE

extern const struct inode_operations zuf_dir_inode_operations;
extern const struct inode_operations zuf_file_inode_operations;
extern const struct inode_operations zuf_symlink_inode_operations;
extern const struct inode_operations zuf_special_inode_operations;
extern const struct file_operations zuf_dir_operations;
extern const struct file_operations zuf_file_operations;
extern const struct address_space_operations zuf_dax_aops;
extern const struct address_space_operations zuf_nodev_aops;
extern const struct iomap_ops zuf_iomap_ops;

/* namei.c */
struct inode *zuf_iget_checked(struct super_block *sb,
			       const struct zufs_attr *attr, u64 version);

/* inode.c */
int zuf_getattr(struct mnt_idmap *idmap, const struct path *path,
		struct kstat *stat, u32 request_mask, unsigned int flags);
int zuf_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
		struct iattr *iattr);
int zuf_update_time(struct inode *inode, int flags);
#if !ZUF_HAVE_UPDATE_TIME_FLAGS
int zuf_update_time_at(struct inode *inode, struct timespec64 *now, int flags);
#endif
int zuf_flush_times(struct inode *inode);
int zuf_check_inode_attr(struct inode *inode, const struct zufs_attr *attr);
int zuf_set_size(struct inode *inode, loff_t size);
void zuf_size_write(struct inode *inode, loff_t size);
void zuf_set_inode_flags(struct inode *inode, u32 zflags);
void zuf_fill_name(struct zufs_name *zn, const struct qstr *q);

/* rw.c: the map cache and the pmem data path */
int zuf_map_cache_init(void);
void zuf_map_cache_destroy(void);
void zuf_map_drop(struct inode *inode, u64 start, u64 end);
void zuf_map_drop_all(struct inode *inode);
int zuf_break_layouts(struct inode *inode, loff_t start, loff_t end);
int zuf_invalidate_range(struct inode *inode, loff_t start, loff_t end);
ssize_t zuf_read_iter(struct kiocb *iocb, struct iov_iter *to);
ssize_t zuf_write_iter(struct kiocb *iocb, struct iov_iter *from);

/* io.c: old-IO (no pmem) */
ssize_t zuf_io_read_iter(struct kiocb *iocb, struct iov_iter *to);
ssize_t zuf_io_write_iter(struct kiocb *iocb, struct iov_iter *from);
ssize_t zuf_io_dispatch(struct inode *inode, struct zufs_op_io *op,
			struct iov_iter *iter);
ssize_t zuf_io_pages(struct inode *inode, bool write, loff_t pos,
		     struct page **pages, u32 nr, u32 len);

/* file.c */
int zuf_fsync(struct file *file, loff_t start, loff_t end, int datasync);
int zuf_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
	       u64 start, u64 len);

/* mmap.c */
int zuf_file_mmap(struct file *file, struct vm_area_struct *vma);

/* ioctl.c */
int zuf_fileattr_get(struct dentry *dentry, struct fileattr *fa);
int zuf_fileattr_set(struct mnt_idmap *idmap,
		     struct dentry *dentry, struct fileattr *fa);
long zuf_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* xattr.c */
ssize_t zuf_listxattr(struct dentry *dentry, char *list, size_t size);
struct posix_acl *zuf_get_acl(struct inode *inode, int type, bool rcu);
int zuf_set_acl(struct mnt_idmap *idmap, struct dentry *dentry,
		struct posix_acl *acl, int type);
#if !ZUF_HAVE_GET_INODE_ACL
int zuf_set_acl_inode(struct mnt_idmap *idmap, struct inode *inode,
		      struct posix_acl *acl, int type);
#endif
int zuf_acl_store(struct inode *inode, int type, struct posix_acl *acl);

#endif /* __ZUF_VFS_H */
