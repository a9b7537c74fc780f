// SPDX-License-Identifier: BSD-3-Clause
/*
 * dir.c - readdir.  A CephFS directory offset is a stable cookie (the
 * name's hash, or its fragment and ordinal, shifted past 1), so it is the
 * zufs position as is: "." and ".." (CephFS offsets 0 and 1) are the
 * kernel's, and every name's offset is >= 2 = ZUFS_DIR_POS_FIRST.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "zceph.h"

static bool dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

static int fill_from(struct zus_sb *sb, struct ceph_dir_result *dr,
		     zus_filldir_t fill, void *buf, bool *eof)
{
	struct dirent de;
	int got;

	for (;;) {
		got = ceph_readdir_r(sb->cm, dr, &de);
		if (got < 0)
			return got;
		if (got == 0) {
			*eof = true;
			return 0;
		}
		if (dot_or_dotdot(de.d_name))
			continue;
		if (fill(buf, de.d_name, strlen(de.d_name), de.d_ino,
			 de.d_type, (uint64_t)de.d_off))
			return 0;
	}
}

int zc_readdir(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	       uint64_t pos, zus_filldir_t fill, void *buf, bool *eof)
{
	struct ceph_dir_result *dr;
	struct zc_node *d;
	int err;

	(void)ctx;
	*eof = false;
	if (pos > INT64_MAX) {
		*eof = true;
		return 0;
	}
	err = zc_node_get(sb, dir, &d);
	if (err)
		return err;
	err = ceph_ll_opendir(sb->cm, d->in, &dr, sb->perms);
	if (err)
		goto out_put;
	if (pos > ZUFS_DIR_POS_FIRST)
		ceph_seekdir(sb->cm, dr, (int64_t)pos);
	err = fill_from(sb, dr, fill, buf, eof);
	ceph_ll_releasedir(sb->cm, dr);
out_put:
	zc_node_put(sb, d);
	return err;
}
