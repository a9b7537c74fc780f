// SPDX-License-Identifier: BSD-3-Clause
/*
 * ops.c - zus-fuse: FUSE low-level requests -> zus_fs_ops, namespace part.
 *
 * Each handler decodes the request, builds the zus_ctx, calls the plugin
 * and encodes the answer.  Operations that give the kernel a reference to
 * an inode (lookup, the creates, link, readdirplus) hold evict_lock for
 * reading from the plugin call until the lookup count is raised.
 */
#include <errno.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "bridge.h"

void zf_ctx(fuse_req_t req, struct zus_ctx *ctx)
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);

	ctx->uid = fc->uid;
	ctx->gid = fc->gid;
	clock_gettime(CLOCK_REALTIME, &ctx->now);
	ctx->cpu = sched_getcpu();
	ctx->numa_node = -1;
}

void zf_attr_to_stat(const struct zf_bridge *b, const struct zufs_attr *a,
		     struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	/* FUSE carries rdev as new_encode_dev(), like zufs_attr */
	st->st_rdev = a->rdev;
	st->st_size = a->size;
	st->st_blksize = b->block_size;
	st->st_blocks = a->blocks;
	st->st_atim.tv_sec = a->atime_sec;
	st->st_atim.tv_nsec = a->atime_nsec;
	st->st_mtim.tv_sec = a->mtime_sec;
	st->st_mtim.tv_nsec = a->mtime_nsec;
	st->st_ctim.tv_sec = a->ctime_sec;
	st->st_ctim.tv_nsec = a->ctime_nsec;
}

static void fill_entry(const struct zf_bridge *b, const struct zufs_attr *a,
		       struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = zf_nodeid(b, a->ino);
	e->generation = a->generation;
	zf_attr_to_stat(b, a, &e->attr);
	e->attr_timeout = b->attr_timeout;
	e->entry_timeout = b->entry_timeout;
}

/*
 * Finish an operation that found or made an inode; caller holds
 * evict_lock for reading (released here).  On success the kernel gets a
 * reference: count it before the reply, give it back if the reply failed.
 */
static void reply_new_ref(fuse_req_t req, int err, uint64_t dir,
			  const struct zufs_attr *a, struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	struct fuse_entry_param e;
	int r;

	if (err) {
		pthread_rwlock_unlock(&b->evict_lock);
		zf_reply_err(req, -err);
		return;
	}
	zf_node_ref(b, a->ino, S_ISDIR(a->mode) ? dir : 0);
	pthread_rwlock_unlock(&b->evict_lock);
	fill_entry(b, a, &e);
	r = fi ? fuse_reply_create(req, &e, fi) : fuse_reply_entry(req, &e);
	if (r)
		zf_node_forget(b, a->ino, 1);
}

static void zf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct zf_bridge *b = zf_of(req);
	struct fuse_entry_param e;
	struct zufs_attr a;
	struct zus_ctx ctx;
	int err;

	zf_ctx(req, &ctx);
	pthread_rwlock_rdlock(&b->evict_lock);
	err = b->ops->lookup(b->sb, &ctx, zf_ino(b, parent), name,
			     strlen(name), &a);
	if (err == -ENOENT) {
		/* negative entry: creates go through the kernel, which drops it */
		pthread_rwlock_unlock(&b->evict_lock);
		memset(&e, 0, sizeof(e));
		e.entry_timeout = b->entry_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	reply_new_ref(req, err, zf_ino(b, parent), &a, NULL);
}

static void zf_forget(fuse_req_t req, fuse_ino_t nodeid, uint64_t nlookup)
{
	struct zf_bridge *b = zf_of(req);

	zf_node_forget(b, zf_ino(b, nodeid), nlookup);
	fuse_reply_none(req);
}

static void zf_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct zf_bridge *b = zf_of(req);
	size_t i;

	for (i = 0; i < count; i++)
		zf_node_forget(b, zf_ino(b, forgets[i].ino),
			       forgets[i].nlookup);
	fuse_reply_none(req);
}

static void reply_attr(fuse_req_t req, int err, const struct zufs_attr *a)
{
	const struct zf_bridge *b = zf_of(req);
	struct stat st;

	if (err) {
		zf_reply_err(req, -err);
		return;
	}
	zf_attr_to_stat(b, a, &st);
	fuse_reply_attr(req, &st, b->attr_timeout);
}

static void zf_getattr(fuse_req_t req, fuse_ino_t nodeid,
		       struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_attr a;
	struct zus_ctx ctx;

	(void)fi;
	zf_ctx(req, &ctx);
	reply_attr(req, b->ops->getattr(b->sb, &ctx, zf_ino(b, nodeid), &a),
		   &a);
}

static uint32_t map_setattr(const struct stat *st, int to_set,
			    const struct zus_ctx *ctx, struct zufs_attr *set)
{
	uint32_t mask = 0;

	memset(set, 0, sizeof(*set));
	if (to_set & FUSE_SET_ATTR_MODE) {
		mask |= ZUFS_ATTR_MODE;
		set->mode = st->st_mode;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		mask |= ZUFS_ATTR_UID;
		set->uid = st->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		mask |= ZUFS_ATTR_GID;
		set->gid = st->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		mask |= ZUFS_ATTR_SIZE;
		set->size = st->st_size;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		const struct timespec *t = to_set & FUSE_SET_ATTR_ATIME_NOW ?
					   &ctx->now : &st->st_atim;

		mask |= ZUFS_ATTR_ATIME;
		set->atime_sec = t->tv_sec;
		set->atime_nsec = t->tv_nsec;
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		const struct timespec *t = to_set & FUSE_SET_ATTR_MTIME_NOW ?
					   &ctx->now : &st->st_mtim;

		mask |= ZUFS_ATTR_MTIME;
		set->mtime_sec = t->tv_sec;
		set->mtime_nsec = t->tv_nsec;
	}
	/* like notify_change(): every attribute change stamps ctime */
	set->ctime_sec = ctx->now.tv_sec;
	set->ctime_nsec = ctx->now.tv_nsec;
	if (to_set & FUSE_SET_ATTR_CTIME) {
		set->ctime_sec = st->st_ctim.tv_sec;
		set->ctime_nsec = st->st_ctim.tv_nsec;
	}
	if (mask || (to_set & FUSE_SET_ATTR_CTIME))
		mask |= ZUFS_ATTR_CTIME;
	return mask;
}

static void zf_setattr(fuse_req_t req, fuse_ino_t nodeid, struct stat *st,
		       int to_set, struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_attr set, a;
	struct zus_ctx ctx;
	uint32_t mask;
	int err;

	(void)fi;
	zf_ctx(req, &ctx);
	mask = map_setattr(st, to_set, &ctx, &set);
	if (mask)
		err = b->ops->setattr(b->sb, &ctx, zf_ino(b, nodeid), mask,
				      &set, &a);
	else
		err = b->ops->getattr(b->sb, &ctx, zf_ino(b, nodeid), &a);
	reply_attr(req, err, &a);
}

static void zf_readlink(fuse_req_t req, fuse_ino_t nodeid)
{
	struct zf_bridge *b = zf_of(req);
	char buf[ZUFS_SYMLINK_MAX + 1];
	struct zus_ctx ctx;
	ssize_t len;

	zf_ctx(req, &ctx);
	len = b->ops->readlink(b->sb, &ctx, zf_ino(b, nodeid), buf,
			       ZUFS_SYMLINK_MAX);
	if (len < 0) {
		zf_reply_err(req, -len);
		return;
	}
	buf[len] = '\0';
	fuse_reply_readlink(req, buf);
}

/*
 * What the VFS does before a filesystem's create (inode_init_owner): a
 * setgid directory gives its group, and its setgid bit to subdirectories.
 */
static int new_owner(struct zf_bridge *b, const struct zus_ctx *ctx,
		     uint64_t dir, uint32_t *mode, uint32_t *gid)
{
	struct zufs_attr d;
	int err;

	*gid = ctx->gid;
	err = b->ops->getattr(b->sb, ctx, dir, &d);
	if (err)
		return err;
	if (d.mode & S_ISGID) {
		*gid = d.gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	}
	return 0;
}

static void do_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      uint32_t mode, uint32_t rdev, const char *symlink,
		      struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	uint64_t dir = zf_ino(b, parent);
	struct zufs_attr a, da;
	struct zus_ctx ctx;
	uint32_t gid;
	int err;

	zf_ctx(req, &ctx);
	err = new_owner(b, &ctx, dir, &mode, &gid);
	if (err) {
		zf_reply_err(req, -err);
		return;
	}
	pthread_rwlock_rdlock(&b->evict_lock);
	err = b->ops->create(b->sb, &ctx, dir, name, strlen(name), mode,
			     rdev, ctx.uid, gid, 0, symlink,
			     symlink ? strlen(symlink) : 0, false, &a, &da);
	reply_new_ref(req, err, dir, &a, fi);
}

static void zf_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	do_create(req, parent, name, mode, rdev, NULL, NULL);
}

static void zf_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	do_create(req, parent, name, S_IFDIR | (mode & 07777), 0, NULL, NULL);
}

static void zf_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	do_create(req, parent, name, S_IFLNK | 0777, 0, link, NULL);
}

static void set_open_flags(const struct zf_bridge *b,
			   struct fuse_file_info *fi)
{
	fi->fh = 0;
	/* we are the only writer: what the kernel cached is still right */
	fi->keep_cache = 1;
	fi->noflush = !b->writeback;
}

static void zf_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	set_open_flags(zf_of(req), fi);
	do_create(req, parent, name, S_IFREG | (mode & 07777), 0, NULL, fi);
}

static void do_unlink(fuse_req_t req, fuse_ino_t parent, const char *name,
		      bool is_dir)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_attr a, da;
	struct zus_ctx ctx;

	zf_ctx(req, &ctx);
	zf_reply_err(req, -b->ops->unlink(b->sb, &ctx, zf_ino(b, parent),
					    name, strlen(name), is_dir,
					    &a, &da));
}

static void zf_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	do_unlink(req, parent, name, false);
}

static void zf_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	do_unlink(req, parent, name, true);
}

static void zf_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct zf_bridge *b = zf_of(req);
	uint64_t od = zf_ino(b, parent), nd = zf_ino(b, newparent);
	struct zus_rename_out out;
	struct zus_ctx ctx;
	int err;

	zf_ctx(req, &ctx);
	memset(&out, 0, sizeof(out));
	err = b->ops->rename(b->sb, &ctx, od, name, strlen(name), nd, newname,
			     strlen(newname), flags, &out);
	if (!err && od != nd) {
		/* keep ".." right for directories that changed parent */
		if (S_ISDIR(out.attr.mode))
			zf_node_set_parent(b, out.attr.ino, nd);
		if ((flags & RENAME_EXCHANGE) && S_ISDIR(out.target_attr.mode))
			zf_node_set_parent(b, out.target_attr.ino, od);
	}
	zf_reply_err(req, -err);
}

static void zf_link(fuse_req_t req, fuse_ino_t nodeid, fuse_ino_t newparent,
		    const char *newname)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_attr a, da;
	struct zus_ctx ctx;
	int err;

	zf_ctx(req, &ctx);
	pthread_rwlock_rdlock(&b->evict_lock);
	err = b->ops->link(b->sb, &ctx, zf_ino(b, nodeid),
			   zf_ino(b, newparent), newname, strlen(newname),
			   &a, &da);
	reply_new_ref(req, err, zf_ino(b, newparent), &a, NULL);
}

static void zf_open(fuse_req_t req, fuse_ino_t nodeid,
		    struct fuse_file_info *fi)
{
	(void)nodeid;
	set_open_flags(zf_of(req), fi);
	fuse_reply_open(req, fi);
}

static void zf_release(fuse_req_t req, fuse_ino_t nodeid,
		       struct fuse_file_info *fi)
{
	(void)nodeid;
	(void)fi;
	zf_reply_err(req, 0);
}

static void zf_flush(fuse_req_t req, fuse_ino_t nodeid,
		     struct fuse_file_info *fi)
{
	(void)nodeid;
	(void)fi;
	zf_reply_err(req, 0);
}

static void zf_opendir(fuse_req_t req, fuse_ino_t nodeid,
		       struct fuse_file_info *fi)
{
	(void)nodeid;
	fi->fh = 0;
	fuse_reply_open(req, fi);
}

static void zf_statfs(fuse_req_t req, fuse_ino_t nodeid)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_statfs s;
	struct statvfs v;
	int err;

	(void)nodeid;
	memset(&s, 0, sizeof(s));
	err = b->ops->statfs(b->sb, &s);
	if (err) {
		zf_reply_err(req, -err);
		return;
	}
	memset(&v, 0, sizeof(v));
	v.f_bsize = s.bsize;
	v.f_frsize = s.bsize;
	v.f_blocks = s.blocks;
	v.f_bfree = s.bfree;
	v.f_bavail = s.bavail;
	v.f_files = s.files;
	v.f_ffree = s.ffree;
	v.f_favail = s.ffree;
	v.f_fsid = s.fsid;
	v.f_namemax = s.namelen ? s.namelen : ZUFS_NAME_MAX;
	fuse_reply_statfs(req, &v);
}

static void zf_setxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name,
			const char *value, size_t size, int flags)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_attr a;
	struct zus_ctx ctx;

	if (!b->ops->setxattr) {
		zf_reply_err(req, EOPNOTSUPP);
		return;
	}
	zf_ctx(req, &ctx);
	zf_reply_err(req, -b->ops->setxattr(b->sb, &ctx, zf_ino(b, nodeid),
					      name, value ? value : "", size,
					      flags, &a));
}

static void zf_removexattr(fuse_req_t req, fuse_ino_t nodeid,
			   const char *name)
{
	struct zf_bridge *b = zf_of(req);
	struct zufs_attr a;
	struct zus_ctx ctx;

	if (!b->ops->setxattr) {
		zf_reply_err(req, EOPNOTSUPP);
		return;
	}
	zf_ctx(req, &ctx);
	zf_reply_err(req, -b->ops->setxattr(b->sb, &ctx, zf_ino(b, nodeid),
					      name, NULL, 0, 0, &a));
}

/* getxattr and listxattr answer alike: size 0 asks for the size */
static void reply_xattr_data(fuse_req_t req, ssize_t r, const char *buf,
			     size_t size)
{
	if (r < 0)
		zf_reply_err(req, -r);
	else if (!size)
		fuse_reply_xattr(req, r);
	else
		fuse_reply_buf(req, buf, r);
}

static void zf_getxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name,
			size_t size)
{
	struct zf_bridge *b = zf_of(req);
	struct zus_ctx ctx;
	char *buf = NULL;
	ssize_t r;

	if (!b->ops->getxattr) {
		zf_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (size && !(buf = malloc(size))) {
		zf_reply_err(req, ENOMEM);
		return;
	}
	zf_ctx(req, &ctx);
	r = b->ops->getxattr(b->sb, &ctx, zf_ino(b, nodeid), name, buf, size);
	reply_xattr_data(req, r, buf, size);
	free(buf);
}

/*
 * The VFS leaves listing to the filesystem, and filesystems hide trusted.*
 * from callers without CAP_SYS_ADMIN; FUSE gives us no capabilities, so
 * non-root stands in for that.  (A size query may then over-estimate,
 * which callers accept.)
 */
static ssize_t hide_trusted(char *list, ssize_t len)
{
	ssize_t in = 0, out = 0, n;

	while (in < len) {
		n = strnlen(list + in, len - in) + 1;
		if (strncmp(list + in, "trusted.", 8)) {
			memmove(list + out, list + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}

static void zf_listxattr(fuse_req_t req, fuse_ino_t nodeid, size_t size)
{
	struct zf_bridge *b = zf_of(req);
	struct zus_ctx ctx;
	char *buf = NULL;
	ssize_t r;

	if (!b->ops->listxattr) {
		zf_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (size && !(buf = malloc(size))) {
		zf_reply_err(req, ENOMEM);
		return;
	}
	zf_ctx(req, &ctx);
	r = b->ops->listxattr(b->sb, &ctx, zf_ino(b, nodeid), buf, size);
	if (ctx.uid && buf && r > 0)
		r = hide_trusted(buf, r);
	reply_xattr_data(req, r, buf, size);
	free(buf);
}

static void zf_init(void *userdata, struct fuse_conn_info *conn)
{
	struct zf_bridge *b = userdata;

	conn->max_write = ZF_MAX_WRITE;
	conn->max_readahead = ZF_MAX_WRITE;
	conn->time_gran = 1;
	/*
	 * O_TRUNC as a SETATTR, as the VFS gives it to zuf: the plugin API
	 * has no truncating open; the handling of S_ISUID on write and chown
	 * stays in the kernel too.
	 */
	conn->want &= ~(FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_HANDLE_KILLPRIV);
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	if (b->writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else
		conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if ((b->type->info.flags & ZUFS_FST_ACL) &&
	    (conn->capable & FUSE_CAP_POSIX_ACL))
		conn->want |= FUSE_CAP_POSIX_ACL;
}

/* dir.c */
void zf_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
		struct fuse_file_info *fi);
void zf_readdirplus(fuse_req_t req, fuse_ino_t nodeid, size_t size,
		    off_t off, struct fuse_file_info *fi);
void zf_fsyncdir(fuse_req_t req, fuse_ino_t nodeid, int datasync,
		 struct fuse_file_info *fi);

const struct fuse_lowlevel_ops zf_ops = {
	.init		= zf_init,
	.lookup		= zf_lookup,
	.forget		= zf_forget,
	.forget_multi	= zf_forget_multi,
	.getattr	= zf_getattr,
	.setattr	= zf_setattr,
	.readlink	= zf_readlink,
	.mknod		= zf_mknod,
	.mkdir		= zf_mkdir,
	.unlink		= zf_unlink,
	.rmdir		= zf_rmdir,
	.symlink	= zf_symlink,
	.rename		= zf_rename,
	.link		= zf_link,
	.open		= zf_open,
	.read		= zf_read,
	.write		= zf_write,
	.flush		= zf_flush,
	.release	= zf_release,
	.fsync		= zf_fsync,
	.opendir	= zf_opendir,
	.readdir	= zf_readdir,
	.readdirplus	= zf_readdirplus,
	.releasedir	= zf_release,
	.fsyncdir	= zf_fsyncdir,
	.statfs		= zf_statfs,
	.setxattr	= zf_setxattr,
	.getxattr	= zf_getxattr,
	.listxattr	= zf_listxattr,
	.removexattr	= zf_removexattr,
	.create		= zf_create,
	.fallocate	= zf_fallocate,
	.lseek		= zf_lseek,
	.copy_file_range = zf_copy_file_range,
};
