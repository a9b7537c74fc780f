/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zuf_core.h - private interfaces of the zuf.ko core (module.c root.c zt.c
 * super.c md.c pmem.c).  The VFS half never needs these: it sees only
 * zuf.h.
 *
 * Object lifetimes:
 *  - struct zuf_root_info: one per zuf-root superblock; lives until that
 *    superblock is killed (the server's files pin the mount).
 *  - struct zuf_server: one per successful HANDSHAKE (one running zusd).
 *    Referenced by each of its role files and by each filesystem type it
 *    registered and by each superblock attached to it (zuf_sb_info.srv);
 *    a new server gets a new object.  Dispatchers use a server without a
 *    reference, inside zuf_srv_srcu: a re-attach drops the superblock's
 *    reference to the dead server only after synchronize_srcu().
 *  - struct zuf_fs_type_core: lives while its server is alive or a
 *    superblock uses it.  When a server dies, a ZUFS_FST_REATTACH type
 *    with superblocks goes on the orphan list (root.c) until a new server
 *    registers the same name and adopts it; otherwise, or once the last
 *    superblock goes, it is unregistered, and freed at module exit
 *    (deactivate_locked_super() still touches the file_system_type after
 *    kill_sb, so it can never be freed from there).
 */
#ifndef __ZUF_CORE_H
#define __ZUF_CORE_H

#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>

#include "zuf.h"

struct zuf_server;

/* zuf_sb_info.flags bits private to the core (the VFS half's are low) */
#define ZUF_SB_MOUNTED		(1UL << 31)	/* server holds an sb handle */

struct zuf_root_info {
	struct super_block	*sb;
	struct mutex		lock;		/* guards srv */
	struct zuf_server	*srv;		/* the live server, or NULL */
};

/*
 * Mount-thread mailbox.  One request at a time (req_mutex); the state
 * machine, guarded by @lock:
 *
 *   IDLE -> POSTED        kernel posted a request
 *   POSTED -> SERVING     the mount thread picked it up (ZUFS_IOC_MOUNT)
 *   POSTED -> IDLE        the poster withdrew it (killed) or saw the
 *                         server dead
 *   SERVING -> ANSWERED   the mount thread's next ZUFS_IOC_MOUNT
 *   SERVING -> IDLE       the poster saw the server dead
 *   ANSWERED -> IDLE      the poster took the answer
 *
 * A SERVING request is never abandoned (see zuf_mount_request()): the
 * poster's buffer outlives every use the mount thread makes of it.
 */
enum zuf_mbox_state {
	ZUF_MB_IDLE,
	ZUF_MB_POSTED,
	ZUF_MB_SERVING,
	ZUF_MB_ANSWERED,
};

struct zuf_mbox {
	struct mutex		req_mutex;	/* one poster at a time */
	spinlock_t		lock;
	enum zuf_mbox_state	state;		/* @lock */
	struct zufs_ioc_mount	*req;		/* @lock: request, then answer */
	wait_queue_head_t	thread_wq;	/* mount thread waits here */
	wait_queue_head_t	poster_wq;	/* the poster waits here */
};

struct zuf_server {
	struct kref		ref;		/* role files + fs types */
	struct zuf_root_info	*zri;		/* valid while a file is open */
	bool			dead;		/* set once, under zri->lock */
	unsigned long		died_at;	/* jiffies, set before dead */
	bool			ctl_closed;	/* its control file is released */
	wait_queue_head_t	gone_wq;	/* for ctl_closed */
	struct pid		*tgid;		/* the server process */
	bool			mount_attached;	/* zri->lock: its mount thread */
	struct mutex		types_lock;	/* guards types */
	struct list_head	types;		/* struct zuf_fs_type_core */
	struct zuf_mbox		mbox;
	/* pmem of live mounts by sb_id, for GRAB_PMEM */
	spinlock_t		pmem_lock;
	struct idr		pmem_idr;	/* @pmem_lock */
	/* ZT channels; an entry is set once (cmpxchg) and never cleared */
	u32			nr_chans;
	struct zuf_channel	**chans;
	wait_queue_head_t	chan_free_wq;	/* slow path: all busy */
};

static inline bool zuf_srv_dead(struct zuf_server *srv)
{
	return READ_ONCE(srv->dead);
}

struct zuf_fs_type_core {
	struct zuf_fs_type	zft;		/* zft.refcount: alive + sbs */
	struct zuf_server	*srv;		/* ref held until unregistered */
	struct list_head	grave;		/* unregistered, to free */
};

static inline struct zuf_fs_type_core *ZFTC(struct zuf_fs_type *zft)
{
	return container_of(zft, struct zuf_fs_type_core, zft);
}

/* The pmem of one superblock plus the server mappings of it (pmem.c) */
struct zuf_pmem_core {
	struct zuf_pmem		pmem;		/* sbi->pmem points here */
	struct kref		ref;		/* the sb + each pmem file */
	struct rw_semaphore	revoke_sem;	/* faults vs. revoke */
	bool			revoked;	/* @revoke_sem */
	struct list_head	files;		/* @revoke_sem: zuf_pmem_file */
};

/* pmem.c */
struct super_block *zuf_sb_get_by_id(struct zuf_server *srv, u64 sb_id);
void zuf_srv_unmap_all(struct zuf_server *srv);

/* zt.c: guards every use of a zuf_sb_info.srv without a reference */
extern struct srcu_struct zuf_srv_srcu;

/* module.c */
void zuf_fs_type_bury(struct zuf_fs_type_core *zftc);

/* root.c */
int zuf_root_register(void);
void zuf_root_unregister(void);
void zuf_server_put(struct zuf_server *srv);
void zuf_server_kill(struct zuf_server *srv, const char *why);
/* Post a mount-thread request and wait for its answer (in place) */
int zuf_mount_request(struct zuf_server *srv, struct zufs_ioc_mount *req);
/*
 * Take an sb reference on a live type, and a reference on its server,
 * which it returns; NULL if the server is gone.
 */
struct zuf_server *zuf_fs_type_get(struct zuf_fs_type *zft);
void zuf_fs_type_put(struct zuf_fs_type *zft);

/* zt.c */
struct zuf_channel *zuf_chan_create(struct zuf_server *srv, u32 cpu,
				    u32 lane, u32 spin_us);
void zuf_chan_free(struct zuf_channel *chan);
int zuf_chan_mmap(struct zuf_channel *chan, struct vm_area_struct *vma);
int zuf_chan_wait_op(struct zuf_channel *chan);
int zuf_chan_numa_node(struct zuf_channel *chan);
void zuf_chans_wake_all(struct zuf_server *srv);

/* super.c */
int zuf_init_fs_context(struct fs_context *fc);
void zuf_kill_sb(struct super_block *sb);
/* Offer every detached sb of @zft to its new server @srv (REGISTER_FS) */
void zuf_reattach_type(struct zuf_fs_type *zft, struct zuf_server *srv);

/* md.c */
int zuf_md_assemble(struct zuf_sb_info *sbi, struct zuf_pmem *pmem,
		    const char *devs);
/* Unmap and close every member (the mounted one stays open) */
void zuf_md_release(struct zuf_pmem *pmem);

/* pmem.c */
int zuf_pmem_map_dev(struct super_block *sb, struct zuf_pmem_dev *pd,
		     struct block_device *bdev, bool loud);
void zuf_pmem_unmap_dev(struct zuf_pmem_dev *pd);
/* @devs: the devs= mount option (PATH:PATH...) or NULL */
int zuf_pmem_open(struct zuf_sb_info *sbi, const char *devs);
void zuf_pmem_close(struct zuf_sb_info *sbi);
/* Make the sb's pmem findable by GRAB_PMEM under a fresh sbi->sb_id */
int zuf_pmem_publish(struct zuf_server *srv, struct zuf_sb_info *sbi);
void zuf_pmem_unpublish(struct zuf_server *srv, struct zuf_sb_info *sbi);
/* The pmem file's side (root.c) */
struct zuf_pmem_file;
struct zuf_pmem_file *zuf_pmem_grab(struct zuf_server *srv, struct file *file,
				    struct zufs_ioc_pmem *ioc);
int zuf_pmem_mmap(struct zuf_pmem_file *pf, struct vm_area_struct *vma);
void zuf_pmem_file_release(struct zuf_pmem_file *pf);

#endif /* __ZUF_CORE_H */
