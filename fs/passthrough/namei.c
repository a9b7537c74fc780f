// SPDX-License-Identifier: BSD-3-Clause
/*
 * namei.c - zpassthrough namespace operations: every one an *at() call
 * relative to the O_PATH fd of the directory it changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>

#include "passthrough.h"

static int open_child(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Make dirfd/name known; fill attr */
static int install_child(struct zus_sb *sb, int dirfd, const char *name,
			 struct zufs_attr *attr)
{
	struct pt_node *n;
	struct stat st;
	int fd, err;

	fd = open_child(dirfd, name);
	if (fd < 0)
		return fd;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		err = -errno;
		close(fd);
		return err;
	}
	err = pt_node_install(sb, fd, st.st_dev, st.st_ino, st.st_mode, &n);
	if (err)
		return err;
	err = pt_stat_fd(sb, n->fd, attr);
	pt_node_put(sb, n);
	return err;
}

int pt_lookup(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, struct zufs_attr *attr)
{
	char nm[ZUFS_NAME_MAX + 1];
	struct pt_node *d;
	int err;

	(void)ctx;
	err = pt_name(nm, name, len);
	if (err)
		return err;
	d = pt_node_get(sb, dir);
	if (!d)
		return -ESTALE;
	err = install_child(sb, d->fd, nm, attr);
	pt_node_put(sb, d);
	return err;
}

int pt_getattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       struct zufs_attr *attr)
{
	(void)ctx;
	return pt_stat_ino(sb, ino, attr);
}

static int set_mode(struct pt_node *n, mode_t mode)
{
	char path[64];

	if (n->type == S_IFLNK)
		return -EOPNOTSUPP;
	pt_proc_path(path, sizeof(path), n->fd);
	return chmod(path, mode & 07777) ? -errno : 0;
}

static int set_times(struct pt_node *n, uint32_t mask,
		     const struct zufs_attr *set)
{
	struct timespec ts[2] = {
		{ .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT },
	};

	if (mask & ZUFS_ATTR_ATIME) {
		ts[0].tv_sec = set->atime_sec;
		ts[0].tv_nsec = set->atime_nsec;
	}
	if (mask & ZUFS_ATTR_MTIME) {
		ts[1].tv_sec = set->mtime_sec;
		ts[1].tv_nsec = set->mtime_nsec;
	}
	if (utimensat(n->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

static int set_flags(struct pt_node *n, uint32_t flags)
{
	int fd = pt_node_rfd(n);
	int fl = flags;

	if (fd < 0)
		return fd == -EINVAL ? -EOPNOTSUPP : fd;
	if (ioctl(fd, FS_IOC_SETFLAGS, &fl))
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	return 0;
}

static int set_size(struct pt_node *n, uint64_t size)
{
	int fd = pt_node_wfd(n);

	if (fd < 0)
		return fd;
	return ftruncate(fd, size) ? -errno : 0;
}

/* Owner first: chown clears S_ISUID/S_ISGID, a mode in the same call wins */
static int apply_attr(struct pt_node *n, uint32_t mask,
		      const struct zufs_attr *set)
{
	uid_t uid = mask & ZUFS_ATTR_UID ? set->uid : (uid_t)-1;
	gid_t gid = mask & ZUFS_ATTR_GID ? set->gid : (gid_t)-1;
	int err = 0;

	/* chown(-1, -1) only stamps ctime: what a bare CTIME asks for */
	if (mask & (ZUFS_ATTR_UID | ZUFS_ATTR_GID | ZUFS_ATTR_CTIME) &&
	    fchownat(n->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (mask & ZUFS_ATTR_MODE)
		err = set_mode(n, set->mode);
	if (!err && (mask & ZUFS_ATTR_SIZE))
		err = set_size(n, set->size);
	if (!err && (mask & (ZUFS_ATTR_ATIME | ZUFS_ATTR_MTIME)))
		err = set_times(n, mask, set);
	if (!err && (mask & ZUFS_ATTR_FLAGS))
		err = set_flags(n, set->flags);
	return err;
}

int pt_setattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       uint32_t mask, const struct zufs_attr *set,
	       struct zufs_attr *attr)
{
	struct pt_node *n = pt_node_get(sb, ino);
	int err;

	(void)ctx;
	if (!n)
		return -ESTALE;
	err = apply_attr(n, mask, set);
	if (!err)
		err = pt_stat_fd(sb, n->fd, attr);
	pt_node_put(sb, n);
	return err;
}

/* zufs_attr.rdev is the kernel's new_encode_dev() */
static dev_t decode_dev(uint32_t rdev)
{
	return makedev((rdev & 0xfff00) >> 8,
		       (rdev & 0xff) | ((rdev >> 12) & 0xfff00));
}

static int make_entry(int dirfd, const char *name, uint32_t mode,
		      uint32_t rdev, const char *symlink, size_t symlen)
{
	char target[ZUFS_SYMLINK_MAX + 1];
	int err;

	switch (mode & S_IFMT) {
	case S_IFDIR:
		err = mkdirat(dirfd, name, mode & 07777);
		break;
	case S_IFLNK:
		if (!symlink || !symlen)
			return -EINVAL;
		if (symlen > ZUFS_SYMLINK_MAX)
			return -ENAMETOOLONG;
		memcpy(target, symlink, symlen);
		target[symlen] = '\0';
		err = symlinkat(target, dirfd, name);
		break;
	case S_IFREG:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		err = mknodat(dirfd, name, mode, decode_dev(rdev));
		break;
	default:
		return -EINVAL;
	}
	return err ? -errno : 0;
}

/*
 * Give fd's inode the owner and exact mode asked for: the backing fs
 * applied our umask and its own setgid rules, the transport decided.
 */
static int fix_owner_mode(int fd, uint32_t mode, uint32_t uid, uint32_t gid)
{
	char path[64];
	struct stat st;

	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (S_ISLNK(mode))
		return 0;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	if ((st.st_mode & 07777) == (mode & 07777))
		return 0;
	pt_proc_path(path, sizeof(path), fd);
	return chmod(path, mode & 07777) ? -errno : 0;
}

static int create_tmpfile(struct zus_sb *sb, struct pt_node *d,
			  uint32_t mode, uint32_t uid, uint32_t gid,
			  struct zufs_attr *attr)
{
	struct pt_node *n;
	struct stat st;
	int fd, err;

	if (!S_ISREG(mode))
		return -EINVAL;
	fd = openat(d->fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode & 07777);
	if (fd < 0)
		return -errno;
	err = fix_owner_mode(fd, mode, uid, gid);
	if (!err && fstat(fd, &st))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	err = pt_node_install(sb, fd, st.st_dev, st.st_ino, st.st_mode, &n);
	if (err)
		return err;
	err = pt_stat_fd(sb, n->fd, attr);
	pt_node_put(sb, n);
	return err;
}

static int create_named(struct zus_sb *sb, struct pt_node *d,
			const char *nm, uint32_t mode, uint32_t rdev,
			uint32_t uid, uint32_t gid, const char *symlink,
			size_t symlen, struct zufs_attr *attr)
{
	int fd, err;

	err = make_entry(d->fd, nm, mode, rdev, symlink, symlen);
	if (err)
		return err;
	fd = open_child(d->fd, nm);
	if (fd < 0) {
		err = fd;
		goto out_remove;
	}
	err = fix_owner_mode(fd, mode, uid, gid);
	close(fd);
	if (err)
		goto out_remove;
	err = install_child(sb, d->fd, nm, attr);
	if (err)
		goto out_remove;
	return 0;

out_remove:
	unlinkat(d->fd, nm, S_ISDIR(mode) ? AT_REMOVEDIR : 0);
	return err;
}

int pt_create(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, uint32_t mode, uint32_t rdev,
	      uint32_t uid, uint32_t gid, uint32_t iflags,
	      const char *symlink, size_t symlen, bool tmpfile,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	char nm[ZUFS_NAME_MAX + 1];
	struct pt_node *d;
	int err;

	(void)ctx;
	(void)iflags;	/* the backing fs applies its own inheritance */
	if (!tmpfile) {
		err = pt_name(nm, name, len);
		if (err)
			return err;
	}
	d = pt_node_get(sb, dir);
	if (!d)
		return -ESTALE;
	if (tmpfile)
		err = create_tmpfile(sb, d, mode, uid, gid, attr);
	else
		err = create_named(sb, d, nm, mode, rdev, uid, gid, symlink,
				   symlen, attr);
	if (!err && dir_attr)
		err = pt_stat_fd(sb, d->fd, dir_attr);
	pt_node_put(sb, d);
	return err;
}

int pt_link(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t dir, const char *name, size_t len,
	    struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	char nm[ZUFS_NAME_MAX + 1], path[64];
	struct pt_node *n, *d;
	int err;

	(void)ctx;
	err = pt_name(nm, name, len);
	if (err)
		return err;
	n = pt_node_get(sb, ino);
	d = pt_node_get(sb, dir);
	if (!n || !d) {
		err = -ESTALE;
		goto out_put;
	}
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc works without */
	err = linkat(n->fd, "", d->fd, nm, AT_EMPTY_PATH) ? -errno : 0;
	if (err == -ENOENT || err == -EPERM) {
		pt_proc_path(path, sizeof(path), n->fd);
		err = linkat(AT_FDCWD, path, d->fd, nm, AT_SYMLINK_FOLLOW) ?
		      -errno : 0;
	}
	if (!err)
		err = pt_stat_fd(sb, n->fd, attr);
	if (!err && dir_attr)
		err = pt_stat_fd(sb, d->fd, dir_attr);
out_put:
	pt_node_put(sb, d);
	pt_node_put(sb, n);
	return err;
}

int pt_unlink(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, bool is_dir,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr)
{
	char nm[ZUFS_NAME_MAX + 1];
	struct pt_node *d;
	int fd, err;

	(void)ctx;
	err = pt_name(nm, name, len);
	if (err)
		return err;
	d = pt_node_get(sb, dir);
	if (!d)
		return -ESTALE;
	/* hold the victim to report its attributes after the unlink */
	fd = open_child(d->fd, nm);
	if (fd < 0) {
		err = fd;
		goto out_put;
	}
	err = unlinkat(d->fd, nm, is_dir ? AT_REMOVEDIR : 0) ? -errno : 0;
	if (!err && attr)
		err = pt_stat_fd(sb, fd, attr);
	if (!err && dir_attr)
		err = pt_stat_fd(sb, d->fd, dir_attr);
	close(fd);
out_put:
	pt_node_put(sb, d);
	return err;
}

static int stat_child(struct zus_sb *sb, int dirfd, const char *name,
		      struct zufs_attr *attr)
{
	int fd = open_child(dirfd, name);
	int err;

	if (fd < 0)
		return fd;
	err = pt_stat_fd(sb, fd, attr);
	close(fd);
	return err;
}

static int rename_results(struct zus_sb *sb, struct pt_node *od,
			  const char *on, struct pt_node *nd, const char *nn,
			  uint32_t flags, int target_fd,
			  struct zus_rename_out *out)
{
	int err;

	err = stat_child(sb, nd->fd, nn, &out->attr);
	if (!err && (flags & RENAME_EXCHANGE))
		err = stat_child(sb, od->fd, on, &out->target_attr);
	else if (!err && target_fd >= 0)
		err = pt_stat_fd(sb, target_fd, &out->target_attr);
	if (!err && (flags & RENAME_WHITEOUT))
		err = install_child(sb, od->fd, on, &out->whiteout_attr);
	if (!err)
		err = pt_stat_fd(sb, od->fd, &out->old_dir_attr);
	if (!err)
		err = pt_stat_fd(sb, nd->fd, &out->new_dir_attr);
	return err;
}

int pt_rename(struct zus_sb *sb, const struct zus_ctx *ctx,
	      uint64_t old_dir, const char *old_name, size_t old_len,
	      uint64_t new_dir, const char *new_name, size_t new_len,
	      uint32_t flags, struct zus_rename_out *out)
{
	char on[ZUFS_NAME_MAX + 1], nn[ZUFS_NAME_MAX + 1];
	struct pt_node *od, *nd;
	int tfd = -1, err;

	(void)ctx;
	err = pt_name(on, old_name, old_len);
	if (!err)
		err = pt_name(nn, new_name, new_len);
	if (err)
		return err;
	od = pt_node_get(sb, old_dir);
	nd = pt_node_get(sb, new_dir);
	if (!od || !nd) {
		err = -ESTALE;
		goto out_put;
	}
	if (!(flags & RENAME_EXCHANGE))
		tfd = openat(nd->fd, nn, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (renameat2(od->fd, on, nd->fd, nn, flags)) {
		err = -errno;
		goto out_close;
	}
	memset(out, 0, sizeof(*out));
	err = rename_results(sb, od, on, nd, nn, flags, tfd, out);
out_close:
	if (tfd >= 0)
		close(tfd);
out_put:
	pt_node_put(sb, nd);
	pt_node_put(sb, od);
	return err;
}

ssize_t pt_readlink(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, char *buf, size_t size)
{
	struct pt_node *n = pt_node_get(sb, ino);
	ssize_t len;

	(void)ctx;
	if (!n)
		return -ESTALE;
	len = readlinkat(n->fd, "", buf, size);
	if (len < 0)
		len = -errno;
	pt_node_put(sb, n);
	return len;
}

int pt_evict(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino)
{
	(void)ctx;
	pt_node_evict(sb, ino);
	return 0;
}
