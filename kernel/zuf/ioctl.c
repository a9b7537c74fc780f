// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl.c - inode flags (chattr/lsattr).  FS_IOC_GETFLAGS/SETFLAGS and
 * FS_IOC_FSGETXATTR/FSSETXATTR reach us through the VFS's fileattr
 * calls, which also do the permission checks (CAP_LINUX_IMMUTABLE) and
 * hold the inode lock.  The flags are stored by the server; append-only
 * and immutable are enforced by the VFS through S_APPEND/S_IMMUTABLE.
 */
#include "zuf_vfs.h"
#include <linux/fileattr.h>

int zuf_fileattr_get(struct dentry *dentry, struct fileattr *fa)
{
	fileattr_fill_flags(fa, ZUI(d_inode(dentry))->zflags &
			    ZUF_FL_USER_VISIBLE);
	return 0;
}

int zuf_fileattr_set(struct mnt_idmap *idmap,
		     struct dentry *dentry, struct fileattr *fa)
{
	struct inode *inode = d_inode(dentry);
	struct timespec64 now = current_time(inode);
	struct zufs_op_setattr op = {};
	int err;

	if (fileattr_has_fsx(fa))
		return -EOPNOTSUPP;
	if (fa->flags & ~ZUF_FL_USER_MODIFIABLE)
		return -EOPNOTSUPP;
	op.hdr.op = ZUFS_OP_SETATTR;
	op.ino = inode->i_ino;
	op.mask = ZUFS_ATTR_FLAGS | ZUFS_ATTR_CTIME;
	op.set.flags = (ZUI(inode)->zflags & ~ZUF_FL_USER_MODIFIABLE) |
		       fa->flags;
	op.set.ctime_sec = now.tv_sec;
	op.set.ctime_nsec = now.tv_nsec;
	err = zufc_dispatch_op(ZSBI(inode), &op.hdr, sizeof(op));
	if (err)
		return err;
	err = zuf_check_inode_attr(inode, &op.attr);
	if (err)
		return err;
	zuf_update_inode(inode, &op.attr);
	return 0;
}

/* Everything we support the VFS handles before calling us */
long zuf_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return -ENOTTY;
}
