// SPDX-License-Identifier: GPL-2.0
/*
 * errno.c - which errors the server may give for each operation.
 *
 * An error from the server goes straight back to an application (or into
 * the VFS, which acts on some of them), so it must be one the syscall could
 * give on a local filesystem.  Anything else is a lie of the server: a
 * kernel-internal code (-ERESTARTSYS reaching an application, -EIOCBQUEUED
 * tripping the VFS's BUG_ON), a positive number, or an errno the VFS does
 * not expect from that operation.  Those become -EIO with one rate-limited
 * line naming the op.
 */
#include "zuf.h"

/* Every op may fail these: the server's own trouble */
static const s16 zuf_err_any[] = {
	EIO, ENOMEM, EUCLEAN, ESTALE, 0
};

/* Ops that change something may also run out of room or be read-only */
#define ZUF_ERR_CHANGE	ENOSPC, EDQUOT, EROFS, EPERM, EFBIG

static const s16 zuf_err_lookup[] = {
	ENOENT, ENAMETOOLONG, ENOTDIR, ELOOP, EACCES, 0
};
static const s16 zuf_err_getattr[] = { ENOENT, EOVERFLOW, EACCES, 0 };
static const s16 zuf_err_setattr[] = {
	ZUF_ERR_CHANGE, EINVAL, ENOENT, EACCES, ETXTBSY, EOPNOTSUPP, 0
};
static const s16 zuf_err_new_inode[] = {
	ZUF_ERR_CHANGE, EEXIST, EMLINK, ENAMETOOLONG, ENOENT, ENOTDIR,
	EINVAL, EOPNOTSUPP, EACCES, 0
};
static const s16 zuf_err_link[] = {
	ZUF_ERR_CHANGE, EEXIST, EMLINK, ENAMETOOLONG, ENOENT, ENOTDIR,
	EXDEV, EACCES, EOPNOTSUPP, 0
};
static const s16 zuf_err_unlink[] = {
	ZUF_ERR_CHANGE, ENOENT, ENOTEMPTY, EEXIST, EISDIR, ENOTDIR, EBUSY,
	EACCES, 0
};
static const s16 zuf_err_rename[] = {
	ZUF_ERR_CHANGE, ENOENT, EEXIST, ENOTEMPTY, EMLINK, EINVAL, EXDEV,
	EISDIR, ENOTDIR, EBUSY, ENAMETOOLONG, EACCES, EOPNOTSUPP, 0
};
static const s16 zuf_err_readdir[] = { ENOENT, ENOTDIR, EACCES, 0 };
static const s16 zuf_err_readlink[] = { ENOENT, EINVAL, ENAMETOOLONG, 0 };
static const s16 zuf_err_io[] = {
	ZUF_ERR_CHANGE, EINVAL, EOVERFLOW, EISDIR, ENOENT, ETXTBSY, EAGAIN,
	EACCES, 0
};
static const s16 zuf_err_fsync[] = { ENOSPC, EDQUOT, EROFS, EINVAL, 0 };
static const s16 zuf_err_space[] = {
	ZUF_ERR_CHANGE, EINVAL, EOPNOTSUPP, ETXTBSY, ENODEV, 0
};
static const s16 zuf_err_seek[] = { ENXIO, EINVAL, EOVERFLOW, 0 };
static const s16 zuf_err_clone[] = {
	ZUF_ERR_CHANGE, EINVAL, EOPNOTSUPP, EXDEV, ETXTBSY, EISDIR, EBADE,
	0
};
static const s16 zuf_err_getxattr[] = {
	ENODATA, ERANGE, E2BIG, EOPNOTSUPP, EINVAL, EACCES, 0
};
static const s16 zuf_err_setxattr[] = {
	ZUF_ERR_CHANGE, EEXIST, ENODATA, E2BIG, ERANGE, EOPNOTSUPP, EINVAL,
	EACCES, 0
};
static const s16 zuf_err_listxattr[] = { ERANGE, E2BIG, EOPNOTSUPP, 0 };
static const s16 zuf_err_sync_fs[] = { ENOSPC, EDQUOT, EROFS, 0 };
static const s16 zuf_err_none[] = { 0 };

static const s16 *const zuf_op_errs[ZUFS_OP_MAX_OPT] = {
	[ZUFS_OP_NULL]		= zuf_err_none,
	[ZUFS_OP_STATFS]	= zuf_err_none,
	[ZUFS_OP_SYNC_FS]	= zuf_err_sync_fs,
	[ZUFS_OP_LOOKUP]	= zuf_err_lookup,
	[ZUFS_OP_GETATTR]	= zuf_err_getattr,
	[ZUFS_OP_SETATTR]	= zuf_err_setattr,
	[ZUFS_OP_NEW_INODE]	= zuf_err_new_inode,
	[ZUFS_OP_LINK]		= zuf_err_link,
	[ZUFS_OP_UNLINK]	= zuf_err_unlink,
	[ZUFS_OP_RENAME]	= zuf_err_rename,
	[ZUFS_OP_READDIR]	= zuf_err_readdir,
	[ZUFS_OP_READLINK]	= zuf_err_readlink,
	[ZUFS_OP_EVICT]		= zuf_err_none,
	[ZUFS_OP_GET_BLOCKS]	= zuf_err_io,
	[ZUFS_OP_READ]		= zuf_err_io,
	[ZUFS_OP_WRITE]		= zuf_err_io,
	[ZUFS_OP_FSYNC]		= zuf_err_fsync,
	[ZUFS_OP_FALLOCATE]	= zuf_err_space,
	[ZUFS_OP_SEEK]		= zuf_err_seek,
	[ZUFS_OP_CLONE]		= zuf_err_clone,
	[ZUFS_OP_GETXATTR]	= zuf_err_getxattr,
	[ZUFS_OP_SETXATTR]	= zuf_err_setxattr,
	[ZUFS_OP_LISTXATTR]	= zuf_err_listxattr,
};

static const s16 zuf_err_mount[] = {
	EINVAL, ENOSPC, EROFS, EACCES, EBUSY, ENODEV, ENXIO, EOPNOTSUPP,
	EOVERFLOW, EFBIG, ENOENT, ENOTDIR, EPROTO, 0
};
static const s16 zuf_err_remount[] = { EINVAL, EROFS, EBUSY, ENOSPC, 0 };

static const s16 *const zuf_mount_errs[] = {
	[ZUFS_M_MOUNT]		= zuf_err_mount,
	[ZUFS_M_UMOUNT]		= zuf_err_none,
	[ZUFS_M_REMOUNT]	= zuf_err_remount,
};

static bool zuf_err_in(const s16 *set, int err)
{
	for (; *set; set++)
		if (*set == -err)
			return true;
	return false;
}

static bool zuf_err_allowed(const s16 *set, int err)
{
	/* beyond MAX_ERRNO, positive, and the kernel's own 512..529 */
	if (err >= 0 || err <= -ERESTARTSYS)
		return false;
	return zuf_err_in(zuf_err_any, err) || (set && zuf_err_in(set, err));
}

/*
 * A plugin that turns itself read-only (zpmfs's errors=remount-ro) says
 * so with ZUFS_IOC_SB_RDONLY, or with EROFS on a mount the kernel holds
 * read-write.  Follow it as ext4 does on its own errors, by marking the
 * superblock read-only: writes served from the map cache, which never
 * reach the server, check that too.  A remount read-write asks the server
 * again.
 */
void zuf_sb_went_rdonly(struct zuf_sb_info *sbi)
{
	struct super_block *sb = sbi->sb;

	if (sb_rdonly(sb))
		return;
	pr_crit("zuf: %s: the server refuses changes: read-only now\n",
		sb->s_id);
	sb->s_flags |= SB_RDONLY;
}

int zuf_may_write(struct zuf_sb_info *sbi)
{
	if (zuf_sb_srv_dead(sbi))
		return -EIO;
	if (sb_rdonly(sbi->sb))
		return -EROFS;
	return 0;
}

int zuf_answer_errno(struct zuf_sb_info *sbi, u32 op, int err)
{
	const s16 *set = op < ZUFS_OP_MAX_OPT ? zuf_op_errs[op] : NULL;

	if (!err)
		return 0;
	if (zuf_err_allowed(set, err)) {
		if (err == -EROFS)
			zuf_sb_went_rdonly(sbi);
		return err;
	}
	zuf_bad_answer(sbi, "op %s: error %d is not one it may give",
		       zuf_op_name(op), err);
	return -EIO;
}

int zuf_mount_errno(struct zuf_sb_info *sbi, u32 mop, int err)
{
	const s16 *set = mop < ARRAY_SIZE(zuf_mount_errs) ?
			 zuf_mount_errs[mop] : NULL;

	if (!err || zuf_err_allowed(set, err))
		return err;
	zuf_bad_answer(sbi, "mount op %u: error %d is not one it may give",
		       mop, err);
	return -EIO;
}

const char *zuf_op_name(u32 op)
{
	static const char *const names[ZUFS_OP_MAX_OPT] = {
		[ZUFS_OP_NULL]		= "NULL",
		[ZUFS_OP_BREAK]		= "BREAK",
		[ZUFS_OP_STATFS]	= "STATFS",
		[ZUFS_OP_SYNC_FS]	= "SYNC_FS",
		[ZUFS_OP_LOOKUP]	= "LOOKUP",
		[ZUFS_OP_GETATTR]	= "GETATTR",
		[ZUFS_OP_SETATTR]	= "SETATTR",
		[ZUFS_OP_NEW_INODE]	= "NEW_INODE",
		[ZUFS_OP_LINK]		= "LINK",
		[ZUFS_OP_UNLINK]	= "UNLINK",
		[ZUFS_OP_RENAME]	= "RENAME",
		[ZUFS_OP_READDIR]	= "READDIR",
		[ZUFS_OP_READLINK]	= "READLINK",
		[ZUFS_OP_EVICT]		= "EVICT",
		[ZUFS_OP_GET_BLOCKS]	= "GET_BLOCKS",
		[ZUFS_OP_READ]		= "READ",
		[ZUFS_OP_WRITE]		= "WRITE",
		[ZUFS_OP_FSYNC]		= "FSYNC",
		[ZUFS_OP_FALLOCATE]	= "FALLOCATE",
		[ZUFS_OP_SEEK]		= "SEEK",
		[ZUFS_OP_CLONE]		= "CLONE",
		[ZUFS_OP_GETXATTR]	= "GETXATTR",
		[ZUFS_OP_SETXATTR]	= "SETXATTR",
		[ZUFS_OP_LISTXATTR]	= "LISTXATTR",
	};

	return op < ZUFS_OP_MAX_OPT && names[op] ? names[op] : "?";
}
