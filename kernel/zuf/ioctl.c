// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl.c - inode flags (chattr/lsattr).  FS_IOC_GETFLAGS/SETFLAGS and
 * FS_IOC_FSGETXATTR/FSSETXATTR reach us through the VFS's fileattr
 * calls, which also do the permission checks (CAP_LINUX_IMMUTABLE) and
 * hold the inode lock.  The flags are stored by the server; append-only
 * and immutable are enforced by the VFS through S_APPEND/S_IMMUTABLE.
 * And ZUFS_IOC_NULL_OP, the bare round trip of the benchmarks.
 */
#include "zuf_vfs.h"
#include <linux/fileattr.h>
#include <linux/uaccess.h>

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

/*
 * ZUFS_IOC_NULL_OP: one bare round trip to the server, with the time of
 * each step when asked (bench/rtbench.c).  Nothing changes anywhere, so
 * anyone who could open the file may ask.
 */
static long zuf_ioc_null(struct file *file, void __user *uarg)
{
	struct zufs_ioc_null in;
	struct zufs_op_hdr op = { .op = ZUFS_OP_NULL };
	u64 stamps[ZUFS_NULL_NSTAMPS] = {};
	u64 srv_t[2] = {};
	struct zuf_dispatch zd = {
		.op = &op,
		.op_size = sizeof(op),
		.out_buf = srv_t,
		.out_max = sizeof(srv_t),
	};
	int err;

	stamps[ZUFS_NULL_T_ENTER] = ktime_get_ns();
	if (copy_from_user(&in, uarg, sizeof(in)))
		return -EFAULT;
	if (in.flags & ~ZUFS_NULL_STAMPS)
		return -EINVAL;
	if (in.channel != ZUFS_NULL_ANY_CHAN) {
		if (in.channel >= nr_cpu_ids)
			return -EINVAL;
		zd.chan_want = in.channel + 1;
	}
	if (in.flags & ZUFS_NULL_STAMPS)
		zd.stamps = stamps;
	err = zufc_dispatch(ZSBI(file_inode(file)), &zd);
	if (err)
		return err;
	/* the server's word, only copied: nothing here depends on it */
	if (zd.out_len == sizeof(srv_t) && (in.flags & ZUFS_NULL_STAMPS)) {
		stamps[ZUFS_NULL_T_SRV_IN] = srv_t[0];
		stamps[ZUFS_NULL_T_SRV_OUT] = srv_t[1];
	}
	in.chan_used = zd.chan_used;
	memcpy(in.t, stamps, sizeof(in.t));
	if (copy_to_user(uarg, &in, sizeof(in)))
		return -EFAULT;
	return 0;
}

/* Everything else we support the VFS handles before calling us */
long zuf_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case ZUFS_IOC_NULL_OP:
		return zuf_ioc_null(file, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}
