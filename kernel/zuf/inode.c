// SPDX-License-Identifier: GPL-2.0
/*
 * inode.c - zufs in-core inodes: the inode cache, checks of the server's
 * attribute answers, iget, getattr/setattr (truncate) and eviction.
 *
 * The kernel sees every change to a zufs filesystem, so the cached
 * attributes are authoritative between operations: getattr never asks the
 * server; every answer that carries attributes refreshes the inode.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/backing-dev.h>
#include "zuf_vfs.h"

static struct kmem_cache *zuf_inode_cachep;

static void zuf_inode_init_once(void *p)
{
	struct zuf_inode *zi = p;

	inode_init_once(&zi->zii.vfs_inode);
}

int zuf_inode_cache_init(void)
{
	int err;

	zuf_inode_cachep = kmem_cache_create("zuf_inode_cache",
					     sizeof(struct zuf_inode), 0,
					     SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					     zuf_inode_init_once);
	if (!zuf_inode_cachep)
		return -ENOMEM;
	err = zuf_map_cache_init();
	if (err)
		goto out_destroy_inodes;
	return 0;

out_destroy_inodes:
	kmem_cache_destroy(zuf_inode_cachep);
	zuf_inode_cachep = NULL;
	return err;
}

void zuf_inode_cache_destroy(void)
{
	/* free_inode callbacks may still be pending */
	rcu_barrier();
	zuf_map_cache_destroy();
	kmem_cache_destroy(zuf_inode_cachep);
	zuf_inode_cachep = NULL;
}

struct inode *zuf_alloc_inode(struct super_block *sb)
{
	struct zuf_inode *zi = alloc_inode_sb(sb, zuf_inode_cachep, GFP_KERNEL);

	if (!zi)
		return NULL;
	init_rwsem(&zi->zii.map_sem);
	spin_lock_init(&zi->zii.map_lock);
	zi->zii.map_root = RB_ROOT;
	zi->btime = (struct timespec64){};
	zi->zflags = 0;
	zi->nr_ext = 0;
	zi->state = 0;
	atomic_set(&zi->names_lost, 0);
	return &zi->zii.vfs_inode;
}

void zuf_free_inode(struct inode *inode)
{
	kmem_cache_free(zuf_inode_cachep, ZUI(inode));
}

/* ------------------------------------------------------------------ */
/* checking answers                                                    */
/* ------------------------------------------------------------------ */

static bool zuf_mode_type_valid(u32 mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		return true;
	}
	return false;
}

/* Above any real link count, far below where set_nlink() could wrap */
#define ZUF_NLINK_SANE	(1U << 30)

static const char *zuf_attr_problem(struct zuf_sb_info *sbi,
				    const struct zufs_attr *attr,
				    u64 expect_ino)
{
	if (!attr->ino || attr->ino > sbi->max_ino)
		return "inode number out of range";
	if (expect_ino && attr->ino != expect_ino)
		return "unexpected inode number";
	if (!zuf_mode_type_valid(attr->mode))
		return "invalid file type";
	if (attr->mode & ~(S_IFMT | 07777))
		return "invalid mode bits";
	if (attr->atime_nsec >= NSEC_PER_SEC ||
	    attr->mtime_nsec >= NSEC_PER_SEC ||
	    attr->ctime_nsec >= NSEC_PER_SEC ||
	    attr->btime_nsec >= NSEC_PER_SEC)
		return "nanoseconds out of range";
	if (attr->size > (u64)sbi->sb->s_maxbytes)
		return "size beyond s_maxbytes";
	if (attr->nlink >= ZUF_NLINK_SANE)
		return "absurd link count";
	return NULL;
}

int zuf_attr_check(struct zuf_sb_info *sbi, const struct zufs_attr *attr,
		   u64 expect_ino)
{
	const char *why = zuf_attr_problem(sbi, attr, expect_ino);

	if (!why)
		return 0;
	zuf_bad_answer(sbi, "%s: ino %llu (expected %llu) mode 0%o size %llu nlink %u",
		       why, attr->ino, expect_ino, attr->mode, attr->size,
		       attr->nlink);
	return -EIO;
}

/* Check an answer about an inode we hold: same number, same type */
int zuf_check_inode_attr(struct inode *inode, const struct zufs_attr *attr)
{
	struct zuf_sb_info *sbi = ZSBI(inode);
	int err = zuf_attr_check(sbi, attr, inode->i_ino);

	if (err)
		return err;
	if (inode_wrong_type(inode, attr->mode)) {
		zuf_bad_answer(sbi, "ino %lu changed type 0%o -> 0%o",
			       inode->i_ino, inode->i_mode & S_IFMT,
			       attr->mode & S_IFMT);
		return -EIO;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* refreshing inodes                                                   */
/* ------------------------------------------------------------------ */

void zuf_set_inode_flags(struct inode *inode, u32 zflags)
{
	unsigned int f = 0;

	ZUI(inode)->zflags = zflags;
	if (zflags & FS_SYNC_FL)
		f |= S_SYNC;
	if (zflags & FS_APPEND_FL)
		f |= S_APPEND;
	if (zflags & FS_IMMUTABLE_FL)
		f |= S_IMMUTABLE;
	if (zflags & FS_NOATIME_FL)
		f |= S_NOATIME;
	if (zflags & FS_DIRSYNC_FL)
		f |= S_DIRSYNC;
	inode_set_flags(inode, f,
			S_SYNC | S_APPEND | S_IMMUTABLE | S_NOATIME | S_DIRSYNC);
}

static struct timespec64 zuf_ts(s64 sec, u32 nsec)
{
	return (struct timespec64){ .tv_sec = sec, .tv_nsec = nsec };
}

/*
 * Times changed in core and not yet sent win over an older answer: the
 * server simply has not heard of them.  Once the server's times catch up
 * the in-core ones are clean again.
 */
static void zuf_update_times(struct inode *inode, const struct zufs_attr *attr)
{
	struct zuf_inode *zi = ZUI(inode);
	struct timespec64 mtime = zuf_ts(attr->mtime_sec, attr->mtime_nsec);
	struct timespec64 ctime = zuf_ts(attr->ctime_sec, attr->ctime_nsec);
	struct timespec64 atime = zuf_ts(attr->atime_sec, attr->atime_nsec);

	if (test_bit(ZUF_I_TIMES_DIRTY, &zi->state)) {
		struct timespec64 in_mtime = inode_get_mtime(inode);
		struct timespec64 in_ctime = inode_get_ctime(inode);
		struct timespec64 in_atime = inode_get_atime(inode);

		if (timespec64_compare(&mtime, &in_mtime) < 0 ||
		    timespec64_compare(&ctime, &in_ctime) < 0 ||
		    timespec64_compare(&atime, &in_atime) < 0)
			return;
		clear_bit(ZUF_I_TIMES_DIRTY, &zi->state);
	}
	inode_set_mtime_to_ts(inode, mtime);
	inode_set_ctime_to_ts(inode, ctime);
	inode_set_atime_to_ts(inode, atime);
}

/*
 * Attribute versions.  Ops that change an inode run under its lock and
 * their answers are the truth (zuf_update_inode()); so are local changes
 * of i_size.  Each of those stamps the inode with a new version of the
 * sb's counter.  An answer that merely reports attributes (a lookup, a
 * fault's or a read's block map) may have been computed before such a
 * change and arrive after it: it is applied only if the inode's version
 * is not newer than the counter read before the question was sent, so
 * it can never roll back a size (an append then lost to O_APPEND) or
 * anything else.
 */
u64 zuf_attr_version(struct inode *inode)
{
	return atomic64_read(&ZSBI(inode)->attr_version);
}

static void zuf_attr_stamp(struct inode *inode)
{
	ZUI(inode)->attr_version =
		atomic64_inc_return(&ZSBI(inode)->attr_version);
}

/* A local change of i_size (caller holds the inode lock) */
void zuf_size_write(struct inode *inode, loff_t size)
{
	spin_lock(&inode->i_lock);
	i_size_write(inode, size);
	zuf_attr_stamp(inode);
	spin_unlock(&inode->i_lock);
}

/* Under i_lock */
static void zuf_apply_attr(struct inode *inode, const struct zufs_attr *attr)
{
	struct zuf_inode *zi = ZUI(inode);

	zi->attr_time = jiffies;

	inode->i_mode = attr->mode;
	i_uid_write(inode, attr->uid);
	i_gid_write(inode, attr->gid);
	if (inode->i_nlink != attr->nlink)
		set_nlink(inode, attr->nlink);
	inode->i_generation = attr->generation;
	if (i_size_read(inode) != attr->size)
		i_size_write(inode, attr->size);
	inode->i_blocks = attr->blocks;
	zuf_update_times(inode, attr);
	zi->btime = zuf_ts(attr->btime_sec, attr->btime_nsec);
	if (S_ISCHR(inode->i_mode) || S_ISBLK(inode->i_mode))
		inode->i_rdev = new_decode_dev(attr->rdev);
	zuf_set_inode_flags(inode, attr->flags);
}

void zuf_update_inode(struct inode *inode, const struct zufs_attr *attr)
{
	spin_lock(&inode->i_lock);
	zuf_apply_attr(inode, attr);
	zuf_attr_stamp(inode);
	spin_unlock(&inode->i_lock);
}

bool zuf_refresh_inode(struct inode *inode, const struct zufs_attr *attr,
		       u64 version)
{
	bool fresh;

	spin_lock(&inode->i_lock);
	fresh = ZUI(inode)->attr_version <= version;
	if (fresh)
		zuf_apply_attr(inode, attr);
	spin_unlock(&inode->i_lock);
	return fresh;
}

static void zuf_set_ops(struct inode *inode, const struct zufs_attr *attr)
{
	struct zuf_sb_info *sbi = ZSBI(inode);

	inode->i_mode = attr->mode;
	switch (attr->mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &zuf_file_inode_operations;
		inode->i_fop = &zuf_file_operations;
		if (zuf_is_pmem(sbi)) {
			inode->i_flags |= S_DAX;
			inode->i_mapping->a_ops = &zuf_dax_aops;
		} else {
			inode->i_mapping->a_ops = &zuf_nodev_aops;
		}
		break;
	case S_IFDIR:
		inode->i_op = &zuf_dir_inode_operations;
		inode->i_fop = &zuf_dir_operations;
		break;
	case S_IFLNK:
		inode->i_op = &zuf_symlink_inode_operations;
		inode_nohighmem(inode);
		break;
	default:
		inode->i_op = &zuf_special_inode_operations;
		init_special_inode(inode, attr->mode,
				   new_decode_dev(attr->rdev));
		break;
	}
}

/*
 * Plugins without pmem mmap through the page cache, which needs a bdi
 * that can write back (dirty tracking, msync, the flusher).  An anonymous
 * superblock has none: give it one while fill_super makes the root inode
 * (the only zuf_iget() before s_root is set), unless the core already did.
 */
static int zuf_setup_bdi(struct super_block *sb)
{
	if (sb->s_root || zuf_is_pmem(ZSB(sb)) ||
	    sb->s_bdi != &noop_backing_dev_info)
		return 0;
	return super_setup_bdi(sb);
}

struct inode *zuf_iget(struct super_block *sb, const struct zufs_attr *attr,
		       u64 version)
{
	struct inode *inode;
	int err;

	err = zuf_setup_bdi(sb);
	if (err)
		return ERR_PTR(err);
	inode = iget_locked(sb, attr->ino);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW)) {
		err = zuf_check_inode_attr(inode, attr);
		if (err) {
			iput(inode);
			return ERR_PTR(err);
		}
		zuf_refresh_inode(inode, attr, version);
		return inode;
	}
	zuf_set_ops(inode, attr);
	zuf_update_inode(inode, attr);
	unlock_new_inode(inode);
	return inode;
}

void zuf_fill_name(struct zufs_name *zn, const struct qstr *q)
{
	zn->len = q->len;
	memcpy(zn->name, q->name, q->len);
	zn->name[q->len] = 0;
}

/* ------------------------------------------------------------------ */
/* getattr / setattr                                                   */
/* ------------------------------------------------------------------ */

/*
 * Attributes older than the mount's TTL (a store others change behind
 * the server's back) are asked for again.
 */
static int zuf_attr_revalidate(struct inode *inode, unsigned int flags)
{
	struct zuf_sb_info *sbi = ZSBI(inode);
	struct zufs_op_getattr op = {};
	u64 version;
	int err;

	if (!sbi->attr_ttl || (flags & AT_STATX_DONT_SYNC) ||
	    time_before(jiffies, ZUI(inode)->attr_time + sbi->attr_ttl))
		return 0;
	op.hdr.op = ZUFS_OP_GETATTR;
	op.ino = inode->i_ino;
	version = zuf_attr_version(inode);
	err = zufc_dispatch_op(sbi, &op.hdr, sizeof(op));
	if (!err)
		err = zuf_check_inode_attr(inode, &op.attr);
	if (!err)
		zuf_refresh_inode(inode, &op.attr, version);
	return err;
}

int zuf_getattr(struct mnt_idmap *idmap, const struct path *path,
		struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct zuf_inode *zi = ZUI(inode);
	int err = zuf_attr_revalidate(inode, flags);

	if (err)
		return err;
	generic_fillattr(idmap, request_mask, inode, stat);
	stat->result_mask |= STATX_BTIME;
	stat->btime = zi->btime;
	if (zi->zflags & FS_APPEND_FL)
		stat->attributes |= STATX_ATTR_APPEND;
	if (zi->zflags & FS_IMMUTABLE_FL)
		stat->attributes |= STATX_ATTR_IMMUTABLE;
	if (zi->zflags & FS_NODUMP_FL)
		stat->attributes |= STATX_ATTR_NODUMP;
	if (IS_DAX(inode))
		stat->attributes |= STATX_ATTR_DAX;
	stat->attributes_mask |= STATX_ATTR_APPEND | STATX_ATTR_IMMUTABLE |
				 STATX_ATTR_NODUMP | STATX_ATTR_DAX;
	return 0;
}

int zuf_update_time(struct inode *inode, int flags)
{
	/*
	 * No round trip here: a write that hit the map cache must stay
	 * server-free.  The times travel with the next SETATTR, fsync or
	 * eviction (zuf_flush_times).
	 */
	inode_update_timestamps(inode, flags);
	set_bit(ZUF_I_TIMES_DIRTY, &ZUI(inode)->state);
	return 0;
}

#if !ZUF_HAVE_UPDATE_TIME_FLAGS
/* the kernel computed @now as inode_update_timestamps() does */
int zuf_update_time_at(struct inode *inode, struct timespec64 *now, int flags)
{
	return zuf_update_time(inode, flags);
}
#endif

static void zuf_put_times(struct zufs_attr *set, struct inode *inode)
{
	struct timespec64 atime = inode_get_atime(inode);
	struct timespec64 mtime = inode_get_mtime(inode);
	struct timespec64 ctime = inode_get_ctime(inode);

	set->atime_sec = atime.tv_sec;
	set->atime_nsec = atime.tv_nsec;
	set->mtime_sec = mtime.tv_sec;
	set->mtime_nsec = mtime.tv_nsec;
	set->ctime_sec = ctime.tv_sec;
	set->ctime_nsec = ctime.tv_nsec;
}

static int zuf_send_setattr(struct inode *inode, struct zufs_op_setattr *op)
{
	int err;

	op->hdr.op = ZUFS_OP_SETATTR;
	op->ino = inode->i_ino;
	err = zufc_dispatch_op(ZSBI(inode), &op->hdr, sizeof(*op));
	if (err)
		return err;
	err = zuf_check_inode_attr(inode, &op->attr);
	if (err)
		return err;
	zuf_update_inode(inode, &op->attr);
	return 0;
}

/* Send in-core times the server has not seen yet */
int zuf_flush_times(struct inode *inode)
{
	struct zuf_inode *zi = ZUI(inode);
	struct zufs_op_setattr op = {};
	int err;

	if (!test_and_clear_bit(ZUF_I_TIMES_DIRTY, &zi->state))
		return 0;
	op.mask = ZUFS_ATTR_ATIME | ZUFS_ATTR_MTIME | ZUFS_ATTR_CTIME;
	zuf_put_times(&op.set, inode);
	err = zuf_send_setattr(inode, &op);
	if (err)
		set_bit(ZUF_I_TIMES_DIRTY, &zi->state);
	return err;
}

/*
 * Truncate to @size.  Caller holds the inode lock.  Every cached map and
 * every user mapping past the new end goes before the server frees the
 * blocks, under map_sem so that no fault or I/O can map them again.
 */
static int zuf_truncate(struct inode *inode, struct zufs_op_setattr *op)
{
	struct zuf_inode_info *zii = ZUII(inode);
	loff_t size = op->set.size;
	loff_t old = i_size_read(inode);
	bool did_zero;
	int err;

	down_write(&zii->map_sem);
	inode_dio_wait(inode);
	if (size < old) {
		err = zuf_break_layouts(inode, round_down(size, PAGE_SIZE),
					LLONG_MAX);
		if (err)
			goto out_unlock;
		/*
		 * The new size first, as truncate_setsize() does: writeback
		 * that starts from now on (syncfs, the flusher) writes the
		 * partial last page only up to it, and cannot grow the file
		 * on the server again after the server cut it.
		 */
		zuf_size_write(inode, size);
		truncate_pagecache(inode, size);
		zuf_map_drop(inode, round_down(size, ZUFS_PMEM_BLOCK), U64_MAX);
	}
	err = zuf_send_setattr(inode, op);
	if (err && size < old && i_size_read(inode) == size)
		zuf_size_write(inode, old);	/* the server kept it all */
	/*
	 * A later extension must read zeros: clear the tail of the last
	 * block in case the server kept stale bytes there.
	 */
	if (!err && size < old && IS_DAX(inode) &&
	    (size & (ZUFS_PMEM_BLOCK - 1)))
		err = dax_truncate_page(inode, size, &did_zero, &zuf_iomap_ops);
out_unlock:
	up_write(&zii->map_sem);
	return err;
}

int zuf_set_size(struct inode *inode, loff_t size)
{
	struct zufs_op_setattr op = {};

	op.mask = ZUFS_ATTR_SIZE;
	op.set.size = size;
	if (test_and_clear_bit(ZUF_I_TIMES_DIRTY, &ZUI(inode)->state)) {
		op.mask |= ZUFS_ATTR_MTIME | ZUFS_ATTR_CTIME | ZUFS_ATTR_ATIME;
		zuf_put_times(&op.set, inode);
	}
	return zuf_truncate(inode, &op);
}

/* The mode setattr_copy() would store (drops SGID like it does) */
static umode_t zuf_new_mode(struct mnt_idmap *idmap,
			    struct inode *inode, struct iattr *iattr)
{
	umode_t mode = iattr->ia_mode;
	kgid_t gid = (iattr->ia_valid & ATTR_GID) ? iattr->ia_gid :
						     inode->i_gid;

	if (!in_group_p(gid) &&
	    !capable_wrt_inode_uidgid(idmap, inode, CAP_FSETID))
		mode &= ~S_ISGID;
	return (inode->i_mode & S_IFMT) | (mode & 07777);
}

static void zuf_iattr_to_op(struct mnt_idmap *idmap,
			    struct inode *inode, struct iattr *iattr,
			    struct zufs_op_setattr *op)
{
	unsigned int valid = iattr->ia_valid;
	struct zufs_attr *set = &op->set;

	if (test_and_clear_bit(ZUF_I_TIMES_DIRTY, &ZUI(inode)->state)) {
		op->mask |= ZUFS_ATTR_ATIME | ZUFS_ATTR_MTIME | ZUFS_ATTR_CTIME;
		zuf_put_times(set, inode);
	}
	if (valid & ATTR_MODE) {
		op->mask |= ZUFS_ATTR_MODE;
		set->mode = zuf_new_mode(idmap, inode, iattr);
	}
	if (valid & ATTR_UID) {
		op->mask |= ZUFS_ATTR_UID;
		set->uid = from_kuid(i_user_ns(inode), iattr->ia_uid);
	}
	if (valid & ATTR_GID) {
		op->mask |= ZUFS_ATTR_GID;
		set->gid = from_kgid(i_user_ns(inode), iattr->ia_gid);
	}
	if (valid & ATTR_SIZE) {
		op->mask |= ZUFS_ATTR_SIZE;
		set->size = iattr->ia_size;
	}
	if (valid & ATTR_ATIME) {
		op->mask |= ZUFS_ATTR_ATIME;
		set->atime_sec = iattr->ia_atime.tv_sec;
		set->atime_nsec = iattr->ia_atime.tv_nsec;
	}
	if (valid & ATTR_MTIME) {
		op->mask |= ZUFS_ATTR_MTIME;
		set->mtime_sec = iattr->ia_mtime.tv_sec;
		set->mtime_nsec = iattr->ia_mtime.tv_nsec;
	}
	if (valid & ATTR_CTIME) {
		op->mask |= ZUFS_ATTR_CTIME;
		set->ctime_sec = iattr->ia_ctime.tv_sec;
		set->ctime_nsec = iattr->ia_ctime.tv_nsec;
	}
}

int zuf_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
		struct iattr *iattr)
{
	struct inode *inode = d_inode(dentry);
	struct zufs_op_setattr op = {};
	bool times_were_dirty;
	int err;

	err = setattr_prepare(idmap, dentry, iattr);
	if (err)
		return err;
	times_were_dirty = test_bit(ZUF_I_TIMES_DIRTY, &ZUI(inode)->state);
	zuf_iattr_to_op(idmap, inode, iattr, &op);
	if (!op.mask)
		return 0;
	if ((op.mask & ZUFS_ATTR_SIZE) && S_ISREG(inode->i_mode))
		err = zuf_truncate(inode, &op);
	else
		err = zuf_send_setattr(inode, &op);
	if (err) {
		if (times_were_dirty)
			set_bit(ZUF_I_TIMES_DIRTY, &ZUI(inode)->state);
		return err;
	}
	if (iattr->ia_valid & ATTR_MODE)
		err = posix_acl_chmod(idmap, dentry, inode->i_mode);
	return err;
}

/* ------------------------------------------------------------------ */
/* eviction                                                            */
/* ------------------------------------------------------------------ */

/*
 * Reaping.  The last iput of an unlinked inode would make unlink (or the
 * close after it) wait for a second trip, the EVICT that frees it: a
 * worker sends it instead, several inodes per EVICT (ZUFS_EVICT_BATCH).
 * Until then the inode is an orphan on the server's side (a crash leaves
 * it to the next mount, as any open-unlinked file), and no name or answer
 * can bring its number back, so no iget races the late EVICT.  Its space
 * comes back late, but nobody sees that: statfs and umount wait for the
 * pending EVICTs, and an op the server fails with ENOSPC while some are
 * pending waits for them and is sent once more (zufc_dispatch()).  The
 * worker takes no lock but a channel, so any caller may wait for it.
 */
struct zuf_reap {
	struct llist_node	node;
	u64			ino;
};

#define ZUF_REAP_DELAY	(HZ / 100 ?: 1)	/* jiffies */

/*
 * EVICT @nr inodes, the first in the op, the others in the data area.  A
 * new server never heard of a linked inode the kernel drops: only deleted
 * ones (their space) are worth waiting for a re-attach.
 */
static void zuf_send_evict(struct zuf_sb_info *sbi, const u64 *inos, u32 nr,
			   bool linked)
{
	struct zufs_op_evict op = { .hdr.op = ZUFS_OP_EVICT, .ino = inos[0] };
	struct zuf_dispatch zd = { .op = &op.hdr, .op_size = sizeof(op),
				   .in_buf = inos + 1,
				   .in_len = (nr - 1) * sizeof(*inos),
				   .nowait = linked };
	int err = zufc_dispatch(sbi, &zd);

	/* -EIO: the server is gone and its state with it */
	if (err && err != -EIO)
		zuf_dbg(sbi->sb, "evict of %u inode(s) from %llu: %d", nr,
			inos[0], err);
}

static void zuf_reap_send(struct zuf_sb_info *sbi, const u64 *inos, u32 nr)
{
	zuf_send_evict(sbi, inos, nr, false);
	atomic_sub(nr, &sbi->reap_pending);
}

static void zuf_reap_work(struct work_struct *work)
{
	struct zuf_sb_info *sbi = container_of(to_delayed_work(work),
					       struct zuf_sb_info, reap_work);
	struct llist_node *list = llist_del_all(&sbi->reap_list);
	struct zuf_reap *r, *next;
	u64 inos[ZUFS_EVICT_BATCH];
	u32 nr = 0;

	llist_for_each_entry_safe(r, next, llist_reverse_order(list), node) {
		inos[nr++] = r->ino;
		kfree(r);
		if (nr == ZUFS_EVICT_BATCH) {
			zuf_reap_send(sbi, inos, nr);
			nr = 0;
		}
	}
	if (nr)
		zuf_reap_send(sbi, inos, nr);
}

void zuf_reap_init(struct zuf_sb_info *sbi)
{
	init_llist_head(&sbi->reap_list);
	atomic_set(&sbi->reap_pending, 0);
	INIT_DELAYED_WORK(&sbi->reap_work, zuf_reap_work);
}

/*
 * Wait for the pending EVICTs; true if there were any.  Counted, not read
 * off the list: the worker may hold a batch it has not sent yet.
 */
bool zuf_reap_flush(struct zuf_sb_info *sbi)
{
	if (!atomic_read(&sbi->reap_pending))
		return false;
	flush_delayed_work(&sbi->reap_work);
	return true;
}

static bool zuf_reap_later(struct inode *inode)
{
	struct zuf_sb_info *sbi = ZSBI(inode);
	struct zuf_reap *r;
	int pending;

	if (inode->i_nlink || READ_ONCE(sbi->dying))
		return false;
	r = kmalloc(sizeof(*r), GFP_NOFS | __GFP_NOWARN);
	if (!r)
		return false;
	r->ino = inode->i_ino;
	/* counted first: a flush must not miss it */
	pending = atomic_inc_return(&sbi->reap_pending);
	llist_add(&r->node, &sbi->reap_list);
	/*
	 * A short delay gathers a burst into one EVICT instead of waking the
	 * worker (and a ZT) for each inode; a full batch goes at once.
	 */
	if (pending >= ZUFS_EVICT_BATCH)
		mod_delayed_work(system_unbound_wq, &sbi->reap_work, 0);
	else
		queue_delayed_work(system_unbound_wq, &sbi->reap_work,
				   ZUF_REAP_DELAY);
	return true;
}

void zuf_evict_inode(struct inode *inode)
{
	u64 ino;

	truncate_inode_pages_final(&inode->i_data);
	/* a deleted inode's times do not matter any more */
	if (inode->i_nlink && !is_bad_inode(inode))
		zuf_flush_times(inode);
	clear_inode(inode);
	zuf_map_drop_all(inode);
	if (is_bad_inode(inode) || zuf_reap_later(inode))
		return;
	ino = inode->i_ino;
	zuf_send_evict(ZSBI(inode), &ino, 1, inode->i_nlink != 0);
}
