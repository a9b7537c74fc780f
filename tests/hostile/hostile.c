// SPDX-License-Identifier: BSD-3-Clause
/*
 * hostile.c - zhostile, a plugin that misbehaves on purpose, built out of
 * the tree the way a new plugin author would build one: only the public
 * headers (zus.h, zufs_api.h), its own Makefile, no zusd internals.
 *
 * It mirrors the files (regular files only, flat) of the directory given
 * with -o backing=DIR, like a tiny zpassthrough, and its data ops turn
 * hostile as the mount (or remount) options say:
 *
 *   write=ok        pwrite() the caller's pages (the default)
 *   write=store     store into the pages it was handed: they are the
 *                   caller's and read-only; the kernel must refuse it
 *   write=pread     pread() a file into those pages: a kernel copy into
 *                   read-only pages, which must fail with EFAULT
 *   write=overrun   read a byte a page past the pages it was lent (the
 *                   window has nothing there: SIGBUS)
 *   write=errno:N   answer N (-512, -529, -4095, 5, -14 ...) without I/O
 *   read=ok | read=errno:N   the same for READ
 *
 * The server must answer such ops with EIO and go on serving; the
 * caller's memory (and the page cache behind it) must stay intact.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "zus.h"

#define HOSTILE_MAGIC	0x7a686f73	/* "zhos" */
#define ROOT_INO	1
#define MAX_FILES	1024	/* inode numbers 2 .. MAX_FILES + 1 */

enum data_mode { MODE_OK, MODE_STORE, MODE_PREAD, MODE_OVERRUN, MODE_ERRNO };

struct zus_sb {
	int		dirfd;		/* the backing directory */
	int		junk_fd;	/* what write=pread reads from */
	enum data_mode	wmode, rmode;
	int		werr, rerr;	/* for MODE_ERRNO */
	pthread_mutex_t	lock;		/* names[] */
	char		*names[MAX_FILES];	/* ino - 2 -> name */
};

/* ------------------------------------------------------------------ */
/* options                                                             */
/* ------------------------------------------------------------------ */

static int parse_mode(const char *v, enum data_mode *mode, int *err,
		      bool write)
{
	char *end;

	if (!strcmp(v, "ok")) {
		*mode = MODE_OK;
	} else if (write && !strcmp(v, "store")) {
		*mode = MODE_STORE;
	} else if (write && !strcmp(v, "pread")) {
		*mode = MODE_PREAD;
	} else if (write && !strcmp(v, "overrun")) {
		*mode = MODE_OVERRUN;
	} else if (!strncmp(v, "errno:", 6)) {
		errno = 0;
		*err = (int)strtol(v + 6, &end, 10);
		if (errno || end == v + 6 || *end)
			return -EINVAL;
		*mode = MODE_ERRNO;
	} else {
		return -EINVAL;
	}
	return 0;
}

/* backing= only at mount (want_backing); write=/read= at mount and remount */
static int parse_options(struct zus_sb *sb, const char *opts, char *backing,
			 char *msg)
{
	char buf[ZUFS_OPTIONS_MAX], *tok, *save = NULL;
	int err = 0;

	if (strlen(opts) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, opts);
	for (tok = strtok_r(buf, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		if (backing && !strncmp(tok, "backing=", 8))
			snprintf(backing, PATH_MAX, "%s", tok + 8);
		else if (!strncmp(tok, "write=", 6))
			err = parse_mode(tok + 6, &sb->wmode, &sb->werr, true);
		else if (!strncmp(tok, "read=", 5))
			err = parse_mode(tok + 5, &sb->rmode, &sb->rerr, false);
		else
			err = -EINVAL;
		if (err)
			snprintf(msg, ZUFS_MSG_MAX, "bad option '%s'", tok);
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* inodes: the root, and one number per file name ever seen            */
/* ------------------------------------------------------------------ */

static int name_ok(const char *name, size_t len)
{
	return len && len <= ZUFS_NAME_MAX && !memchr(name, '/', len) &&
	       strcmp(name, ".") && strcmp(name, "..");
}

/* The inode number of @name (given one if new), 0 when the table is full */
static uint64_t ino_of(struct zus_sb *sb, const char *name)
{
	uint64_t ino = 0;
	int i, free_slot = -1;

	pthread_mutex_lock(&sb->lock);
	for (i = 0; i < MAX_FILES; i++) {
		if (sb->names[i] && !strcmp(sb->names[i], name)) {
			ino = i + 2;
			break;
		}
		if (!sb->names[i] && free_slot < 0)
			free_slot = i;
	}
	if (!ino && free_slot >= 0) {
		sb->names[free_slot] = strdup(name);
		if (sb->names[free_slot])
			ino = free_slot + 2;
	}
	pthread_mutex_unlock(&sb->lock);
	return ino;
}

/* Copy the name of @ino into @name; -ESTALE if it has none */
static int name_of(struct zus_sb *sb, uint64_t ino, char *name)
{
	int err = -ESTALE;

	if (ino < 2 || ino >= MAX_FILES + 2)
		return err;
	pthread_mutex_lock(&sb->lock);
	if (sb->names[ino - 2]) {
		snprintf(name, ZUFS_NAME_MAX + 1, "%s", sb->names[ino - 2]);
		err = 0;
	}
	pthread_mutex_unlock(&sb->lock);
	return err;
}

static void fill_attr(const struct stat *st, uint64_t ino,
		      struct zufs_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->size = st->st_size;
	a->blocks = st->st_blocks;
	a->atime_sec = st->st_atim.tv_sec;
	a->atime_nsec = st->st_atim.tv_nsec;
	a->mtime_sec = st->st_mtim.tv_sec;
	a->mtime_nsec = st->st_mtim.tv_nsec;
	a->ctime_sec = st->st_ctim.tv_sec;
	a->ctime_nsec = st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
}

static int stat_ino(struct zus_sb *sb, uint64_t ino, struct zufs_attr *a)
{
	char name[ZUFS_NAME_MAX + 1];
	struct stat st;
	int err;

	if (ino == ROOT_INO) {
		if (fstat(sb->dirfd, &st))
			return -errno;
	} else {
		err = name_of(sb, ino, name);
		if (err)
			return err;
		if (fstatat(sb->dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
			return -errno;
		if (!S_ISREG(st.st_mode))
			return -ESTALE;
	}
	fill_attr(&st, ino, a);
	return 0;
}

/* ------------------------------------------------------------------ */
/* mount                                                               */
/* ------------------------------------------------------------------ */

static void free_sb(struct zus_sb *sb)
{
	int i;

	for (i = 0; i < MAX_FILES; i++)
		free(sb->names[i]);
	if (sb->dirfd >= 0)
		close(sb->dirfd);
	if (sb->junk_fd >= 0)
		close(sb->junk_fd);
	pthread_mutex_destroy(&sb->lock);
	free(sb);
}

/* A file of recognisable bytes for write=pread to copy from */
static int make_junk(void)
{
	char junk[4096];
	int fd = memfd_create("zhostile-junk", 0);

	if (fd < 0)
		return -errno;
	memset(junk, 0xa5, sizeof(junk));
	if (pwrite(fd, junk, sizeof(junk), 0) != (ssize_t)sizeof(junk)) {
		close(fd);
		return -EIO;
	}
	return fd;
}

static int h_mount(const struct zus_mount_info *mi, struct zus_sb **sbp,
		   struct zus_mount_out *out)
{
	char backing[PATH_MAX] = "";
	struct zus_sb *sb = calloc(1, sizeof(*sb));
	int err;

	if (!sb)
		return -ENOMEM;
	sb->dirfd = sb->junk_fd = -1;
	pthread_mutex_init(&sb->lock, NULL);
	err = parse_options(sb, mi->options, backing, out->msg);
	if (err)
		goto out_free;
	if (!backing[0]) {
		snprintf(out->msg, sizeof(out->msg), "missing backing=DIR");
		err = -EINVAL;
		goto out_free;
	}
	sb->dirfd = open(backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sb->dirfd < 0) {
		err = -errno;
		snprintf(out->msg, sizeof(out->msg), "%s: %s", backing,
			 strerror(-err));
		goto out_free;
	}
	sb->junk_fd = make_junk();
	if (sb->junk_fd < 0) {
		err = sb->junk_fd;
		goto out_free;
	}
	out->root_ino = ROOT_INO;
	out->block_size = 4096;
	out->max_bytes = 1ULL << 40;
	out->max_ino = MAX_FILES + 1;
	snprintf(out->options, sizeof(out->options), "%s", mi->options);
	*sbp = sb;
	return 0;

out_free:
	free_sb(sb);
	return err;
}

static void h_umount(struct zus_sb *sb)
{
	free_sb(sb);
}

static int h_remount(struct zus_sb *sb, const char *options, uint32_t flags,
		     struct zus_mount_out *out)
{
	(void)flags;
	/* new modes only; backing= is the mount's for good */
	if (strstr(options, "backing=")) {
		snprintf(out->msg, sizeof(out->msg), "backing= cannot change");
		return -EINVAL;
	}
	return parse_options(sb, options, NULL, out->msg);
}

static int h_statfs(struct zus_sb *sb, struct zufs_statfs *st)
{
	struct statfs s;

	if (fstatfs(sb->dirfd, &s))
		return -errno;
	st->bsize = 4096;
	st->blocks = s.f_blocks * s.f_bsize / 4096;
	st->bfree = s.f_bfree * s.f_bsize / 4096;
	st->bavail = s.f_bavail * s.f_bsize / 4096;
	if (st->bfree > st->blocks)
		st->bfree = st->blocks;
	if (st->bavail > st->bfree)
		st->bavail = st->bfree;
	st->files = MAX_FILES;
	st->ffree = 0;
	st->namelen = ZUFS_NAME_MAX;
	return 0;
}

/* ------------------------------------------------------------------ */
/* namespace: a flat directory of regular files                        */
/* ------------------------------------------------------------------ */

static int h_lookup(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t dir, const char *name, size_t len,
		    struct zufs_attr *attr)
{
	struct stat st;
	uint64_t ino;

	(void)ctx;
	if (dir != ROOT_INO)
		return -ENOTDIR;
	if (!name_ok(name, len))
		return -ENOENT;
	if (fstatat(sb->dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;	/* only regular files are mirrored */
	ino = ino_of(sb, name);
	if (!ino)
		return -ENOSPC;
	fill_attr(&st, ino, attr);
	return 0;
}

static int h_getattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, struct zufs_attr *attr)
{
	(void)ctx;
	return stat_ino(sb, ino, attr);
}

static int h_setattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, uint32_t mask, const struct zufs_attr *set,
		     struct zufs_attr *attr)
{
	char name[ZUFS_NAME_MAX + 1];
	int err, fd;

	(void)ctx;
	if (ino == ROOT_INO)
		return mask ? -EPERM : stat_ino(sb, ino, attr);
	err = name_of(sb, ino, name);
	if (err)
		return err;
	if (mask & ZUFS_ATTR_SIZE) {
		fd = openat(sb->dirfd, name, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		err = ftruncate(fd, set->size) ? -errno : 0;
		close(fd);
		if (err)
			return err;
	}
	if ((mask & ZUFS_ATTR_MODE) &&
	    fchmodat(sb->dirfd, name, set->mode & 07777, 0))
		return -errno;
	/* owners and times: the backing file keeps its own */
	return stat_ino(sb, ino, attr);
}

static int h_create(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t dir, const char *name, size_t len, uint32_t mode,
		    uint32_t rdev, uint32_t uid, uint32_t gid, uint32_t iflags,
		    const char *symlink, size_t symlen, bool tmpfile,
		    struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	uint64_t ino;
	int fd;

	(void)ctx; (void)rdev; (void)uid; (void)gid; (void)iflags;
	(void)symlink; (void)symlen;
	if (dir != ROOT_INO)
		return -ENOTDIR;
	if (tmpfile || (mode & S_IFMT) != S_IFREG)
		return -EPERM;
	if (!name_ok(name, len))
		return -EINVAL;
	fd = openat(sb->dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
		    mode & 07777);
	if (fd < 0)
		return -errno;
	close(fd);
	ino = ino_of(sb, name);
	if (!ino)
		return -ENOSPC;
	if (stat_ino(sb, ino, attr) || stat_ino(sb, ROOT_INO, dir_attr))
		return -EIO;
	return 0;
}

static int h_link(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		  uint64_t dir, const char *name, size_t len,
		  struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	(void)sb; (void)ctx; (void)ino; (void)dir; (void)name; (void)len;
	(void)attr; (void)dir_attr;
	return -EPERM;
}

static int h_unlink(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t dir, const char *name, size_t len, bool is_dir,
		    struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	struct stat st;
	uint64_t ino;

	(void)ctx;
	if (dir != ROOT_INO)
		return -ENOTDIR;
	if (is_dir || !name_ok(name, len))
		return -ENOENT;
	if (fstatat(sb->dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	ino = ino_of(sb, name);
	if (!ino)
		return -ENOSPC;
	if (unlinkat(sb->dirfd, name, 0))
		return -errno;
	fill_attr(&st, ino, attr);
	attr->nlink = st.st_nlink - 1;
	return stat_ino(sb, ROOT_INO, dir_attr);
}

static int h_rename(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t old_dir, const char *old_name, size_t old_len,
		    uint64_t new_dir, const char *new_name, size_t new_len,
		    uint32_t flags, struct zus_rename_out *out)
{
	(void)sb; (void)ctx; (void)old_dir; (void)old_name; (void)old_len;
	(void)new_dir; (void)new_name; (void)new_len; (void)flags; (void)out;
	return -EPERM;
}

static int h_readdir(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t dir, uint64_t pos, zus_filldir_t fill,
		     void *buf, bool *eof)
{
	uint64_t k = ZUFS_DIR_POS_FIRST, ino;
	struct dirent *de;
	DIR *d;
	int fd;

	(void)ctx;
	if (dir != ROOT_INO)
		return -ENOTDIR;
	fd = openat(sb->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	*eof = true;
	/* positions count the regular files in the backing's own order */
	while ((de = readdir(d))) {
		if (de->d_type != DT_REG ||
		    !name_ok(de->d_name, strlen(de->d_name)))
			continue;
		if (k++ < pos)
			continue;
		ino = ino_of(sb, de->d_name);
		if (!ino)
			continue;
		if (fill(buf, de->d_name, strlen(de->d_name), ino, DT_REG,
			 k)) {
			*eof = false;
			break;
		}
	}
	closedir(d);
	return 0;
}

static ssize_t h_readlink(struct zus_sb *sb, const struct zus_ctx *ctx,
			  uint64_t ino, char *buf, size_t size)
{
	(void)sb; (void)ctx; (void)ino; (void)buf; (void)size;
	return -EINVAL;
}

static int h_evict(struct zus_sb *sb, const struct zus_ctx *ctx,
		   uint64_t ino)
{
	(void)sb; (void)ctx; (void)ino;
	return 0;	/* numbers stay with their names */
}

/* ------------------------------------------------------------------ */
/* data: where it turns hostile                                        */
/* ------------------------------------------------------------------ */

static int open_ino(struct zus_sb *sb, uint64_t ino, int flags)
{
	char name[ZUFS_NAME_MAX + 1];
	int fd, err = name_of(sb, ino, name);

	if (err)
		return err;
	fd = openat(sb->dirfd, name, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static ssize_t h_read(struct zus_sb *sb, const struct zus_ctx *ctx,
		      uint64_t ino, void *buf, size_t len, uint64_t offset)
{
	ssize_t n;
	int fd;

	(void)ctx;
	if (sb->rmode == MODE_ERRNO)
		return sb->rerr;
	fd = open_ino(sb, ino, O_RDONLY);
	if (fd < 0)
		return fd;
	n = pread(fd, buf, len, offset);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

static ssize_t h_write(struct zus_sb *sb, const struct zus_ctx *ctx,
		       uint64_t ino, const void *buf, size_t len,
		       uint64_t offset, struct zufs_attr *attr)
{
	volatile char *victim = (volatile char *)(uintptr_t)buf;
	ssize_t n;
	size_t i;
	int fd;

	(void)ctx;
	switch (sb->wmode) {
	case MODE_ERRNO:
		return sb->werr;
	case MODE_STORE:
		/* every page we were lent, the way a buggy plugin would */
		for (i = 0; i < len; i += 4096)
			victim[i] = 'H';
		if (len)
			victim[len - 1] = 'H';
		break;
	case MODE_PREAD:
		n = pread(sb->junk_fd, (void *)victim, len < 4096 ? len : 4096,
			  0);
		if (n < 0)
			return -errno;	/* EFAULT, as it must */
		break;
	case MODE_OVERRUN:
		/* the lent pages end before buf + len + 4096 */
		if (len < ZUFS_IO_MAX - 4096)
			(void)victim[len + 4096];
		break;
	case MODE_OK:
		break;
	}
	fd = open_ino(sb, ino, O_WRONLY);
	if (fd < 0)
		return fd;
	n = pwrite(fd, buf, len, offset);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0 && stat_ino(sb, ino, attr))
		return -EIO;
	return n;
}

static const struct zus_fs_ops hostile_ops = {
	.mount		= h_mount,
	.umount		= h_umount,
	.remount	= h_remount,
	.statfs		= h_statfs,
	.lookup		= h_lookup,
	.getattr	= h_getattr,
	.setattr	= h_setattr,
	.create		= h_create,
	.link		= h_link,
	.unlink		= h_unlink,
	.rename		= h_rename,
	.readdir	= h_readdir,
	.readlink	= h_readlink,
	.evict		= h_evict,
	.read		= h_read,
	.write		= h_write,
};

static const struct zus_fs_type hostile_type = {
	.api_version	= ZUS_API_VERSION,
	.info = {
		.name	= "zhostile",
		.magic	= HOSTILE_MAGIC,
		.version = 1,
		.flags	= ZUFS_FST_NODEV,
	},
	.ops	= &hostile_ops,
	.usage	= "  -o backing=DIR                 the directory to mirror (required)\n"
		  "  -o write=ok|store|pread|overrun|errno:N  how WRITE misbehaves\n"
		  "  -o read=ok|errno:N             how READ misbehaves\n",
};

const struct zus_fs_type *const zus_plugin_types[] = { &hostile_type, NULL };
