// SPDX-License-Identifier: BSD-3-Clause
/*
 * dir.c - zpassthrough readdir.
 *
 * Positions are the backing directory's d_off cookies shifted by
 * ZUFS_DIR_POS_FIRST (position 2 = backing offset 0), so they are exactly
 * as stable as the backing fs makes them.  A cookie too large to shift
 * (ext4's end-of-directory marker) becomes PT_POS_END, which reads as EOF.
 *
 * Only some filesystems have such cookies (ext4, xfs, btrfs hash or index
 * their entries).  Elsewhere (tmpfs before 6.6, overlayfs, 9p) a position
 * is an ordinal that shifts when an earlier entry goes, so entries would
 * be skipped or listed twice.  There the plugin makes its own cookies: a
 * per-directory table name -> cookie, cookies handed out in increasing
 * order and never reused, and a listing is a snapshot of the directory
 * sorted by cookie, kept while the caller continues where it stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/vfs.h>

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

#define PT_EXT4_MAGIC	0xEF53UL
#define PT_XFS_MAGIC	0x58465342UL
#define PT_BTRFS_MAGIC	0x9123683EUL

struct pt_dent {
	char		*name;
	uint64_t	cookie;
	uint64_t	ino;
	unsigned char	type;
};

struct pt_cookies {
	struct pt_dent	*ents;		/* sorted by name: the name -> cookie map */
	size_t		n;
	uint64_t	next_cookie;
	struct pt_dent	**snap;		/* ents sorted by cookie */
	size_t		snap_i;		/* where the last listing stopped */
	uint64_t	snap_pos;	/* ... and the position it answered */
	bool		snap_valid;
};

static bool native_cookies(int fd)
{
	struct statfs st;

	if (fstatfs(fd, &st))
		return false;
	switch ((unsigned long)st.f_type) {
	case PT_EXT4_MAGIC:
	case PT_XFS_MAGIC:
	case PT_BTRFS_MAGIC:
		return true;
	default:
		return false;
	}
}

static void free_dents(struct pt_dent *d, size_t n)
{
	while (n)
		free(d[--n].name);
	free(d);
}

void pt_cookies_free(struct pt_cookies *c)
{
	if (!c)
		return;
	free_dents(c->ents, c->n);
	free(c->snap);
	free(c);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct pt_dent *)a)->name,
		      ((const struct pt_dent *)b)->name);
}

static int cmp_cookie(const void *a, const void *b)
{
	uint64_t x = (*(struct pt_dent *const *)a)->cookie;
	uint64_t y = (*(struct pt_dent *const *)b)->cookie;

	return x < y ? -1 : x > y;
}

/* Read the whole directory into a name-sorted array (cookies 0) */
static int scan_dir(struct zus_sb *sb, int fd, dev_t dev,
		    struct pt_dent **out, size_t *np)
{
	char dents[PT_DENTS_BUF] __attribute__((aligned(8)));
	struct pt_dent *d = NULL, *nd;
	const struct dirent64 *de;
	size_t n = 0, cap = 0;
	ssize_t r, off;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while ((r = getdents64(fd, dents, sizeof(dents))) > 0) {
		for (off = 0; off < r; off += de->d_reclen) {
			de = (const struct dirent64 *)(dents + off);
			if (dot_or_dotdot(de->d_name))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				nd = realloc(d, cap * sizeof(*d));
				if (!nd)
					goto out_nomem;
				d = nd;
			}
			d[n].name = strdup(de->d_name);
			if (!d[n].name)
				goto out_nomem;
			d[n].cookie = 0;
			d[n].ino = pt_ino_of(sb, dev, de->d_ino);
			d[n].type = de->d_type;
			n++;
		}
	}
	if (r < 0) {
		r = -errno;
		free_dents(d, n);
		return r;
	}
	qsort(d, n, sizeof(*d), cmp_name);
	*out = d;
	*np = n;
	return 0;

out_nomem:
	free_dents(d, n);
	return -ENOMEM;
}

/* Carry the cookies of names still there over, give new names new ones */
static void merge_cookies(struct pt_cookies *c, struct pt_dent *d, size_t n)
{
	size_t i, j = 0;
	int cmp;

	for (i = 0; i < n; i++) {
		cmp = 1;
		while (j < c->n && (cmp = strcmp(c->ents[j].name,
						  d[i].name)) < 0)
			j++;
		if (j < c->n && !cmp)
			d[i].cookie = c->ents[j].cookie;
		else
			d[i].cookie = c->next_cookie++;
	}
}

static int snapshot(struct zus_sb *sb, struct pt_node *d, dev_t dev)
{
	struct pt_cookies *c = d->cookies;
	struct pt_dent *ents, **snap;
	size_t n, i;
	int err;

	err = scan_dir(sb, d->dfd, dev, &ents, &n);
	if (err)
		return err;
	snap = malloc((n ? n : 1) * sizeof(*snap));
	if (!snap) {
		free_dents(ents, n);
		return -ENOMEM;
	}
	merge_cookies(c, ents, n);
	for (i = 0; i < n; i++)
		snap[i] = &ents[i];
	qsort(snap, n, sizeof(*snap), cmp_cookie);
	free_dents(c->ents, c->n);
	free(c->snap);
	c->ents = ents;
	c->n = n;
	c->snap = snap;
	c->snap_valid = true;
	return 0;
}

static int read_dir_cookies(struct zus_sb *sb, struct pt_node *d, dev_t dev,
			    uint64_t pos, zus_filldir_t fill, void *buf,
			    bool *eof)
{
	struct pt_cookies *c = d->cookies;
	struct pt_dent *e;
	size_t i;
	int err;

	if (!c->snap_valid || pos != c->snap_pos) {
		err = snapshot(sb, d, dev);
		if (err)
			return err;
		/* first entry at or after pos */
		for (i = 0; i < c->n && c->snap[i]->cookie < pos; i++)
			;
	} else {
		i = c->snap_i;
	}
	for (; i < c->n; i++) {
		e = c->snap[i];
		if (fill(buf, e->name, strlen(e->name), e->ino, e->type,
			 e->cookie + 1))
			break;
		pos = e->cookie + 1;
	}
	c->snap_i = i;
	c->snap_pos = pos;
	*eof = i == c->n;
	if (*eof)
		c->snap_valid = false;	/* a new listing takes a new snapshot */
	return 0;
}

static int read_dir_any(struct zus_sb *sb, struct pt_node *d, dev_t dev,
			uint64_t pos, zus_filldir_t fill, void *buf,
			bool *eof)
{
	if (d->dfd < 0) {
		d->dfd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY |
				O_CLOEXEC);
		if (d->dfd < 0)
			return -errno;
		d->dpos = ZUFS_DIR_POS_FIRST;
		if (!native_cookies(d->dfd)) {
			d->cookies = calloc(1, sizeof(*d->cookies));
			if (!d->cookies)
				return -ENOMEM;
			d->cookies->next_cookie = ZUFS_DIR_POS_FIRST;
		}
	}
	if (d->cookies)
		return read_dir_cookies(sb, d, dev, pos, fill, buf, eof);
	return read_dir(sb, d, dev, pos, fill, buf, eof);
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
	err = read_dir_any(sb, d, st.st_dev, pos, fill, buf, eof);
	if (err && d->dfd >= 0 && !d->cookies) {
		close(d->dfd);
		d->dfd = -1;
	}
	pthread_mutex_unlock(&d->fd_lock);
out_put:
	pt_node_put(sb, d);
	return err;
}
