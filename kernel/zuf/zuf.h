/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zuf.h - internal interfaces of zuf.ko, the zufs kernel feeder.
 *
 * Two halves share this header:
 *  - the core (module.c root.c zt.c super.c md.c pmem.c): zuf-root, the
 *    server's special files, ZT channels and dispatch, filesystem types,
 *    mount/umount, the device table and pmem;
 *  - the VFS operations (inode.c namei.c dir.c file.c rw.c mmap.c xattr.c
 *    ioctl.c): everything a mounted zufs filesystem does.
 */
#ifndef __ZUF_H
#define __ZUF_H

#include <linux/fs.h>
#include <linux/dax.h>
#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/workqueue.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/xattr.h>
#include <linux/ratelimit.h>
#include <linux/statfs.h>
#include <linux/timekeeping.h>

#include "zufs_api.h"
#include "compat.h"

#define ZUF_MODULE_NAME	"zuf"

/* ------------------------------------------------------------------ */
/* core: zuf-root, registered types, mounts                            */
/* ------------------------------------------------------------------ */

struct zuf_root_info;		/* one per zuf-root mount = one server (root.c) */
struct zuf_channel;		/* one per CPU (zt.c) */

/*
 * A filesystem type registered by the server.  Lives while the server is
 * alive or any superblock of it exists (refcount), then is unregistered.
 */
struct zuf_fs_type {
	struct file_system_type	vfs_fstype;
	struct zufs_fs_info	info;
	u64			zus_fs_handle;
	struct zuf_root_info	*zri;
	struct list_head	list;		/* in zri's list of types */
	refcount_t		refcount;	/* server alive + superblocks */
	char			name[ZUFS_FS_NAME_MAX];
};

/* One t1 member, as mapped in the kernel */
struct zuf_pmem_dev {
	struct block_device	*bdev;		/* sb->s_bdev or own.bdev */
	struct zuf_bdev		own;		/* other members: opened by md.c */
	struct dax_device	*dax_dev;
	void			*kaddr;		/* whole device, linear */
	pfn_t			pfn;		/* of kaddr */
	u64			offset;		/* in the sb's linear t1 range */
	u64			size;		/* bytes */
	int			numa_node;
};

struct zuf_pmem {
	u64			size;		/* bytes of the linear t1 range */
	u32			ndevs;
	struct zuf_pmem_dev	devs[ZUFS_MAX_DEVS];
	struct zufs_dev_table	table;		/* as read from the mounted member */
};

/* -o copy_max's default: measured, see bench/README.md "copy_max" */
#define ZUF_COPY_MAX_DEFAULT	4096

/* zuf_sb_info.flags */
#define ZUF_SB_NO_MAPCACHE	(1UL << 0)	/* "nomapcache": no cached maps */

struct zuf_server;

struct zuf_sb_info {
	struct super_block	*sb;
	struct zuf_root_info	*zri;
	struct zuf_fs_type	*zft;
	/*
	 * The server the sb is attached to (ref held).  Read under
	 * zuf_srv_srcu (zt.c); a dead one means detached.  Replaced only
	 * by a re-attach, under attach_lock.
	 */
	struct zuf_server	*srv;
	struct mutex		attach_lock;
	wait_queue_head_t	attach_wq;	/* callers of a detached sb */
	unsigned long		reattach_timeout; /* jiffies, 0: EIO at once */
	/*
	 * -o spin=USEC: a caller polls this long for its answer before it
	 * sleeps, and hands its op to a ZT polling on another CPU (zt.c)
	 */
	u32			spin_ns;
	/*
	 * -o copy_max=BYTES: old-IO of at most this many bytes is copied
	 * through the data area: mapping a few pages into the window and
	 * zapping them again (a TLB flush on every CPU the server runs on)
	 * costs more than the copy (io.c)
	 */
	u32			copy_max;
	bool			dying;		/* kill_sb: never wait */
	char			*dev_name;	/* as mounted, for re-attach */
	/* the last statfs answer: what statfs says while detached */
	spinlock_t		statfs_lock;
	struct kstatfs		statfs;		/* @statfs_lock */
	bool			statfs_ok;	/* @statfs_lock */
	u64			zus_sb_handle;	/* server's handle */
	u64			sb_id;		/* ours: GRAB_PMEM key */
	u64			max_ino;	/* from the server's mount answer */
	u64			caps;		/* ZUFS_CAP_*, from the same */
	atomic64_t		last_birth_ns;	/* zuf_birth_stamp() */
	/* jiffies a name / attributes are trusted (MOUNT answer); 0: ever */
	unsigned long		entry_ttl;
	unsigned long		attr_ttl;
	unsigned long		flags;		/* ZUF_SB_* */
	struct zuf_pmem		*pmem;		/* NULL for ZUFS_FST_NODEV */
	char			*options;	/* canonical, for show_options */
	struct ratelimit_state	bad_answer_rs;	/* "server lied" messages */
	atomic64_t		attr_version;	/* see zuf_attr_version() */
	/*
	 * Deleted inodes whose EVICT a worker sends, so that unlink and
	 * rmdir cost their caller one trip (inode.c, "Reaping")
	 */
	struct llist_head	reap_list;
	struct delayed_work	reap_work;
	atomic_t		reap_pending;	/* queued or in the worker */
};

static inline struct zuf_sb_info *ZSB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline bool zuf_is_pmem(struct zuf_sb_info *sbi)
{
	return sbi->zft->info.flags & ZUFS_FST_PMEM;
}

/*
 * Log a bad answer from the server, rate limited per superblock.  The
 * caller then fails the operation (usually with -EIO).
 */
#define zuf_bad_answer(sbi, fmt, ...)					\
	do {								\
		if (__ratelimit(&(sbi)->bad_answer_rs))			\
			pr_err("zuf: %s: bad answer from server: " fmt "\n", \
			       (sbi)->sb->s_id, ##__VA_ARGS__);		\
	} while (0)

#define zuf_dbg(sb, fmt, ...) \
	pr_debug("zuf: %s: " fmt "\n", (sb)->s_id, ##__VA_ARGS__)

/* ------------------------------------------------------------------ */
/* core: dispatch over the ZT channels (zt.c)                          */
/* ------------------------------------------------------------------ */

/*
 * struct zuf_dispatch - one operation sent to the server.
 *
 * @op points at a kernel copy of the op struct (struct zufs_op_*, starting
 * with struct zufs_op_hdr) of @op_size bytes.  The caller fills op->op,
 * op->flags and the op's "in" fields; zufc_dispatch() fills the rest of the
 * header, copies the struct (only its first @op_in_size bytes when the
 * rest is all "out") into the channel, waits for the answer and copies
 * the whole struct back into @op, so the caller reads the "out" fields
 * from its own copy (never from the shared buffer).
 *
 * Request data for the data area comes from @in_buf (@in_len bytes) or
 * from @in_iter (@in_len bytes).  Answer data (up to @out_max bytes; the
 * server's data_out is checked against it) goes to @out_buf or @out_iter;
 * zufc_dispatch() sets @out_len to the bytes actually copied.
 *
 * Old-IO ops may instead hand over @win_nr pages (one reference each) to be
 * mapped into the ZT's window while the server serves the op (writable when
 * @win_writable).  The caller releases them with zuf_win_put_pages() after
 * the call, unless @win_kept is set: the call was abandoned while the server
 * still had them mapped, and the channel releases them later.
 */
struct zuf_dispatch {
	struct zufs_op_hdr	*op;
	u32			op_size;
	u32			op_in_size;	/* sent of it; 0: op_size */
	const void		*in_buf;
	struct iov_iter		*in_iter;
	u32			in_len;
	void			*out_buf;
	struct iov_iter		*out_iter;
	u32			out_max;
	u32			out_len;
	struct page		**win_pages;
	u32			win_nr;
	bool			win_writable;
	bool			win_dirty;	/* set_page_dirty on release */
	bool			win_kept;	/* out */
	bool			nowait;		/* detached: EIO, do not wait */
	/* zt.c: an ENOSPC answer leaves the request intact, to retry it */
	bool			keep_enospc;
	/* ZUFS_IOC_NULL_OP only: channel wanted + 1 (0: the caller's CPU's) */
	u32			chan_want;
	u32			chan_used;	/* out */
	u64			*stamps;	/* ZUFS_NULL_NSTAMPS, or NULL */
};

/* Record when the op reached step @i (zufs_null_stamp) if asked to */
static inline void zuf_stamp(struct zuf_dispatch *zd, unsigned int i)
{
	if (unlikely(zd->stamps))
		zd->stamps[i] = ktime_get_ns();
}

/* Drop the references of window pages (dirty: the server wrote them) */
void zuf_win_put_pages(struct page **pages, u32 nr, bool dirty);

/*
 * Send an operation of this superblock to the server and wait for it.
 * Returns the server's answer (0 or -errno; anything else becomes -EIO),
 * or -EINTR when the caller was killed while waiting.  A detached sb
 * (its server died) makes it wait for a re-attach (see "Server restart"
 * in zufs_api.h) and send the op again; -EIO when none comes in time, or
 * the type cannot re-attach, or zd->nowait.
 */
int zufc_dispatch(struct zuf_sb_info *sbi, struct zuf_dispatch *zd);

/*
 * errno.c: the server's error for op (or mount op) @op if the operation may
 * give it, else -EIO (logged).  0 stays 0.
 */
int zuf_answer_errno(struct zuf_sb_info *sbi, u32 op, int err);
int zuf_mount_errno(struct zuf_sb_info *sbi, u32 mop, int err);
/*
 * zt.c: the sb has no live server (after waiting for a re-attach as
 * zufc_dispatch() does): nothing may change the filesystem now.
 */
bool zuf_sb_srv_dead(struct zuf_sb_info *sbi);
/* zt.c: the sb's server died and no other took over (yet); never waits */
bool zuf_sb_detached(struct zuf_sb_info *sbi);
/*
 * May the filesystem still be changed (0), or is it read-only or its
 * server dead?  Checked by every write that does not ask the server
 * (map cache hits), so that those stop with everything else.
 */
int zuf_may_write(struct zuf_sb_info *sbi);
/* The server went read-only on its own: so does the mount (logged once) */
void zuf_sb_went_rdonly(struct zuf_sb_info *sbi);
const char *zuf_op_name(u32 op);

/* Convenience for ops with no data area traffic */
static inline int zufc_dispatch_op(struct zuf_sb_info *sbi,
				   struct zufs_op_hdr *op, u32 op_size)
{
	struct zuf_dispatch zd = { .op = op, .op_size = op_size };

	return zufc_dispatch(sbi, &zd);
}

/* ------------------------------------------------------------------ */
/* core: pmem (pmem.c / md.c)                                          */
/* ------------------------------------------------------------------ */

/*
 * Check that [off, off + len) lies inside the sb's t1 range and inside one
 * member; return that member (NULL and nothing logged if not).
 */
struct zuf_pmem_dev *zuf_pmem_dev_of(struct zuf_sb_info *sbi, u64 off,
				     u64 len);

/* Does [off, off + len) touch a member's device table block? */
bool zuf_pmem_on_table(struct zuf_sb_info *sbi, u64 off, u64 len);

/* Make every store to the sb's pmem durable (flush each member device) */
int zuf_pmem_flush(struct zuf_sb_info *sbi);

/* ------------------------------------------------------------------ */
/* VFS half: provided by inode.c namei.c dir.c file.c rw.c mmap.c ...  */
/* ------------------------------------------------------------------ */

struct zuf_inode_info {
	struct inode		vfs_inode;
	/* serializes block-map changes (truncate/punch) against I/O */
	struct rw_semaphore	map_sem;
	/* extent cache (kernel-cached block maps) */
	spinlock_t		map_lock;
	struct rb_root		map_root;
};

static inline struct zuf_inode_info *ZUII(struct inode *inode)
{
	return container_of(inode, struct zuf_inode_info, vfs_inode);
}

/* inode.c */
int zuf_inode_cache_init(void);
void zuf_inode_cache_destroy(void);
struct inode *zuf_alloc_inode(struct super_block *sb);
void zuf_free_inode(struct inode *inode);
void zuf_evict_inode(struct inode *inode);
void zuf_reap_init(struct zuf_sb_info *sbi);
bool zuf_reap_flush(struct zuf_sb_info *sbi);
/*
 * Check an attribute answer (type, times, size, nlink, ino range);
 * expect_ino != 0 also checks attr->ino.  -EIO and a log line if bad.
 */
int zuf_attr_check(struct zuf_sb_info *sbi, const struct zufs_attr *attr,
		   u64 expect_ino);
/*
 * Find or make the inode for a (checked) attribute answer; an existing
 * inode is refreshed as by zuf_refresh_inode() with @version.
 */
struct inode *zuf_iget(struct super_block *sb, const struct zufs_attr *attr,
		       u64 version);
/*
 * Refresh an inode from a (checked) answer of an op that changed it under
 * its lock: always applied.
 */
void zuf_update_inode(struct inode *inode, const struct zufs_attr *attr);
/*
 * The sb's attribute version, read before asking a question whose answer
 * zuf_refresh_inode() applies only if nothing changed the inode since.
 */
u64 zuf_attr_version(struct inode *inode);
bool zuf_refresh_inode(struct inode *inode, const struct zufs_attr *attr,
		       u64 version);
/* rw.c: the server's ZUFS_IOC_INVALIDATE of [start, end) */
int zuf_invalidate_inode(struct inode *inode, loff_t start, loff_t end);

/* xattr.c */
extern const struct xattr_handler *zuf_xattr_handlers[];
extern const struct dentry_operations zuf_dentry_ops;
extern const struct dentry_operations zuf_dentry_ttl_ops;
/* namei.c: a name of @dir may exist without a dentry of ours */
void zuf_dir_uncomplete(struct inode *dir);
/* namei.c: complete directories ("Complete directories" there) */
bool zuf_local_names(struct inode *dir);
bool zuf_dir_complete(struct inode *dir);
void zuf_dir_listed(struct inode *dir, int names_lost);
/* namei.c: the server vouched for @dentry's name now (TTL); returns 1 */
int zuf_d_fresh(struct dentry *dentry);
/* namei.c: what is wrong with a child's name from the server, or NULL */
const char *zuf_name_problem(const char *name, u32 len);

#endif /* __ZUF_H */
