// SPDX-License-Identifier: BSD-3-Clause
/*
 * attr.c - zpassthrough: backing attributes -> struct zufs_attr, names.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>

#include "passthrough.h"

/* The kernel's new_encode_dev(), what zufs_attr.rdev carries */
static uint32_t encode_dev(uint32_t major, uint32_t minor)
{
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffU) << 12);
}

static uint32_t statx_flags(const struct statx *stx)
{
	uint32_t fl = 0;

	if (stx->stx_attributes & STATX_ATTR_IMMUTABLE)
		fl |= FS_IMMUTABLE_FL;
	if (stx->stx_attributes & STATX_ATTR_APPEND)
		fl |= FS_APPEND_FL;
	if (stx->stx_attributes & STATX_ATTR_NODUMP)
		fl |= FS_NODUMP_FL;
	if (stx->stx_attributes & STATX_ATTR_COMPRESSED)
		fl |= FS_COMPR_FL;
	return fl;
}

int pt_stat_fd(struct zus_sb *sb, int fd, struct zufs_attr *attr)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
		  STATX_BASIC_STATS | STATX_BTIME, &stx))
		return -errno;
	memset(attr, 0, sizeof(*attr));
	attr->ino = pt_ino_of(sb, makedev(stx.stx_dev_major,
					  stx.stx_dev_minor), stx.stx_ino);
	if (!attr->ino)
		return -ENOMEM;
	attr->size = stx.stx_size;
	attr->blocks = stx.stx_blocks;
	attr->atime_sec = stx.stx_atime.tv_sec;
	attr->atime_nsec = stx.stx_atime.tv_nsec;
	attr->mtime_sec = stx.stx_mtime.tv_sec;
	attr->mtime_nsec = stx.stx_mtime.tv_nsec;
	attr->ctime_sec = stx.stx_ctime.tv_sec;
	attr->ctime_nsec = stx.stx_ctime.tv_nsec;
	if (stx.stx_mask & STATX_BTIME) {
		attr->btime_sec = stx.stx_btime.tv_sec;
		attr->btime_nsec = stx.stx_btime.tv_nsec;
	}
	attr->mode = stx.stx_mode;
	attr->nlink = stx.stx_nlink;
	attr->uid = stx.stx_uid;
	attr->gid = stx.stx_gid;
	attr->rdev = encode_dev(stx.stx_rdev_major, stx.stx_rdev_minor);
	attr->flags = statx_flags(&stx);
	return 0;
}

int pt_stat_ino(struct zus_sb *sb, uint64_t ino, struct zufs_attr *attr)
{
	struct pt_node *n = pt_node_get(sb, ino);
	int err;

	if (!n)
		return -ESTALE;
	err = pt_stat_fd(sb, n->fd, attr);
	pt_node_put(sb, n);
	return err;
}

/*
 * Copy a name from the transport into buf (NAME_MAX + 1 bytes), refusing
 * anything that would reach outside the directory it names an entry of.
 */
int pt_name(char *buf, const char *name, size_t len)
{
	if (!name || !len)
		return -EINVAL;
	if (len > ZUFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return 0;
}
