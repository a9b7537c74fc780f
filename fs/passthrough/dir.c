// SPDX-License-Identifier: BSD-3-Clause
/*
 * dir.c - zpassthrough readdir.
 *
 * Positions are the backing directory's d_off cookies shifted by
 * ZUFS_DIR_POS_FIRST (position 2 = backing offset 0), so they are exactly
 * as stable as the backing fs makes them.  A cookie too large to shift
 * (ext4's end-of-directory marker) becomes PT_POS_END, which reads as EOF.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "passthrough.h"

#define PT_POS_END	((uint64_t)LLONG_MAX)
#define PT_DENTS_BUF	8192

static uint64_t pos_of(int64_t d_off)
{
	if (d_off < 0 || (uint64_t)d_off >= PT_POS_END - ZUFS_DIR_POS_FIRST)
		return PT_POS_END;
	return (uint64_t)d_off + ZUFS_DIR_POS_FIRST;
}

static bool dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (!name[1] || (name[1] == '.' && !name[2]));
}

/* Put the directory stream at pos; reuses it when it stands there already */
static int dir_seek(struct pt_node *d, uint64_t pos)
{
	if (d->dfd < 0) {
		d->dfd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY |
				O_CLOEXEC);
		if (d->dfd < 0)
			return -errno;
		d->dpos = ZUFS_DIR_POS_FIRST;
	}
	if (d->dpos == pos)
		return 0;
	if (lseek(d->dfd, pos - ZUFS_DIR_POS_FIRST, SEEK_SET) < 0)
		return -errno;
	d->dpos = pos;
	return 0;
}

/*
 * Hand the records of one getdents batch to fill.  Returns 1 when fill is
 * full (the stream is then re-positioned after the last entry taken).
 */
static int fill_batch(struct zus_sb *sb, struct pt_node *d, dev_t dev,
		      const char *dents, ssize_t n, zus_filldir_t fill,
		      void *buf)
{
	const struct dirent64 *de;
	uint64_t next, ino;
	ssize_t off;

	for (off = 0; off < n; off += de->d_reclen) {
		de = (const struct dirent64 *)(dents + off);
		next = pos_of(de->d_off);
		if (dot_or_dotdot(de->d_name)) {
			d->dpos = next;
			continue;
		}
		ino = pt_ino_of(sb, dev, de->d_ino);
		if (fill(buf, de->d_name, strlen(de->d_name), ino,
			 de->d_type, next)) {
			/* leave the stream right after what was taken */
			if (lseek(d->dfd, d->dpos - ZUFS_DIR_POS_FIRST,
				  SEEK_SET) < 0)
				return -errno;
			return 1;
		}
		d->dpos = next;
	}
	return 0;
}

static int read_dir(struct zus_sb *sb, struct pt_node *d, dev_t dev,
		    uint64_t pos, zus_filldir_t fill, void *buf, bool *eof)
{
	char dents[PT_DENTS_BUF] __attribute__((aligned(8)));
	ssize_t n;
	int err;

	err = dir_seek(d, pos);
	if (err)
		return err;
	for (;;) {
		n = getdents64(d->dfd, dents, sizeof(dents));
		if (n < 0)
			return -errno;
		if (n == 0) {
			*eof = true;
			return 0;
		}
		err = fill_batch(sb, d, dev, dents, n, fill, buf);
		if (err < 0)
			return err;
		if (err) {
			*eof = false;
			return 0;
		}
		/* every record was taken: the stream stands at dpos */
	}
}

int pt_readdir(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	       uint64_t pos, zus_filldir_t fill, void *buf, bool *eof)
{
	struct pt_node *d;
	struct stat st;
	int err;

	(void)ctx;
	*eof = false;
	if (pos < ZUFS_DIR_POS_FIRST)
		pos = ZUFS_DIR_POS_FIRST;
	d = pt_node_get(sb, dir);
	if (!d)
		return -ESTALE;
	if (d->type != S_IFDIR) {
		err = -ENOTDIR;
		goto out_put;
	}
	if (pos >= PT_POS_END) {
		*eof = true;
		err = 0;
		goto out_put;
	}
	if (fstatat(d->fd, "", &st, AT_EMPTY_PATH)) {
		err = -errno;
		goto out_put;
	}
	pthread_mutex_lock(&d->fd_lock);
	err = read_dir(sb, d, st.st_dev, pos, fill, buf, eof);
	if (err && d->dfd >= 0) {
		close(d->dfd);
		d->dfd = -1;
	}
	pthread_mutex_unlock(&d->fd_lock);
out_put:
	pt_node_put(sb, d);
	return err;
}
