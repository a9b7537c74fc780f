// SPDX-License-Identifier: GPL-2.0
/*
 * root.c - zuf-root, the pseudo filesystem the server talks through.
 *
 * zuf-root has one visible object: its root directory.  The server opens
 * it with O_TMPFILE to get anonymous special files and gives each a role
 * with its first ioctl (see zufs_api.h).  This file owns those files, the
 * server object behind them, filesystem type registration and the mount
 * thread's mailbox.
 */
#define pr_fmt(fmt) fmt

#include <linux/module.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/nodemask.h>
#include <linux/ctype.h>
#include <linux/sched/signal.h>

#include "zuf_core.h"

enum zuf_role {
	ZUF_ROLE_NONE,
	ZUF_ROLE_CONTROL,
	ZUF_ROLE_MOUNT,
	ZUF_ROLE_PMEM,
	ZUF_ROLE_CHAN,
};

/* file->private_data of every special file */
struct zuf_special {
	struct mutex		role_lock;	/* role assignment */
	enum zuf_role		role;		/* set once, under role_lock */
	struct zuf_root_info	*zri;
	struct zuf_server	*srv;		/* ref held when role != NONE */
	union {
		struct zuf_channel	*chan;
		struct zuf_pmem_file	*pf;
	};
};

/* ------------------------------------------------------------------ */
/* the server object                                                   */
/* ------------------------------------------------------------------ */

static void zuf_server_release(struct kref *kref)
{
	struct zuf_server *srv = container_of(kref, struct zuf_server, ref);
	u32 i;

	for (i = 0; i < srv->nr_chans; i++)
		if (srv->chans[i])
			zuf_chan_free(srv->chans[i]);
	kfree(srv->chans);
	idr_destroy(&srv->pmem_idr);
	put_pid(srv->tgid);
	kfree(srv);
}

void zuf_server_put(struct zuf_server *srv)
{
	kref_put(&srv->ref, zuf_server_release);
}

static struct zuf_server *zuf_server_new(struct zuf_root_info *zri)
{
	struct zuf_server *srv = kzalloc(sizeof(*srv), GFP_KERNEL);

	if (!srv)
		return NULL;
	/* channel (lane, cpu) is chans[lane * nr_cpu_ids + cpu] */
	srv->nr_chans = nr_cpu_ids * ZUFS_MAX_LANES;
	srv->chans = kcalloc(srv->nr_chans, sizeof(*srv->chans), GFP_KERNEL);
	if (!srv->chans) {
		kfree(srv);
		return NULL;
	}
	kref_init(&srv->ref);
	srv->zri = zri;
	mutex_init(&srv->types_lock);
	INIT_LIST_HEAD(&srv->types);
	mutex_init(&srv->mbox.req_mutex);
	spin_lock_init(&srv->mbox.lock);
	init_waitqueue_head(&srv->mbox.thread_wq);
	init_waitqueue_head(&srv->mbox.poster_wq);
	spin_lock_init(&srv->pmem_lock);
	idr_init(&srv->pmem_idr);
	init_waitqueue_head(&srv->chan_free_wq);
	init_waitqueue_head(&srv->gone_wq);
	return srv;
}

/*
 * Types of dead servers that still have superblocks and may re-attach,
 * waiting for a new server to register their name (zft.list).  The lock
 * also orders a type's last put against its adoption.
 */
static LIST_HEAD(zuf_orphan_types);
static DEFINE_MUTEX(zuf_orphans_lock);

/* The server's types leave it; those that can re-attach wait for another */
static void zuf_server_drop_types(struct zuf_server *srv)
{
	struct zuf_fs_type_core *zftc, *tmp;
	LIST_HEAD(types);

	mutex_lock(&srv->types_lock);
	list_splice_init(&srv->types, &types);
	mutex_unlock(&srv->types_lock);
	list_for_each_entry_safe(zftc, tmp, &types, zft.list) {
		mutex_lock(&zuf_orphans_lock);
		list_del_init(&zftc->zft.list);
		if (zftc->zft.info.flags & ZUFS_FST_REATTACH)
			list_add_tail(&zftc->zft.list, &zuf_orphan_types);
		mutex_unlock(&zuf_orphans_lock);
		zuf_fs_type_put(&zftc->zft);	/* the "server alive" ref */
	}
}

/*
 * The server is gone (or asked to stop): fail everything at once.  Every
 * waiter checks srv->dead after waking, so setting it before the wake-ups
 * is all the ordering needed.  Superblocks of re-attachable types only
 * detach: their callers wait for the next server (zufc_dispatch()).
 */
void zuf_server_kill(struct zuf_server *srv, const char *why)
{
	struct zuf_root_info *zri = srv->zri;

	mutex_lock(&zri->lock);
	if (srv->dead) {
		mutex_unlock(&zri->lock);
		return;
	}
	srv->died_at = jiffies;
	smp_wmb();	/* died_at before dead, for zuf_sb_wait_attached() */
	WRITE_ONCE(srv->dead, true);
	if (zri->srv == srv)
		zri->srv = NULL;
	mutex_unlock(&zri->lock);
	pr_info("zuf: server stopped (%s)\n", why);

	wake_up_all(&srv->mbox.thread_wq);
	wake_up_all(&srv->mbox.poster_wq);
	zuf_chans_wake_all(srv);
	zuf_srv_unmap_all(srv);
	zuf_server_drop_types(srv);
}

/* ------------------------------------------------------------------ */
/* filesystem types                                                    */
/* ------------------------------------------------------------------ */

struct zuf_server *zuf_fs_type_get(struct zuf_fs_type *zft)
{
	struct zuf_server *srv = NULL;

	if (!refcount_inc_not_zero(&zft->refcount))
		return NULL;
	/* an adoption may switch the type's server meanwhile */
	mutex_lock(&zuf_orphans_lock);
	if (!zuf_srv_dead(ZFTC(zft)->srv)) {
		srv = ZFTC(zft)->srv;
		kref_get(&srv->ref);
	}
	mutex_unlock(&zuf_orphans_lock);
	if (!srv)
		zuf_fs_type_put(zft);
	return srv;
}

void zuf_fs_type_put(struct zuf_fs_type *zft)
{
	struct zuf_fs_type_core *zftc = ZFTC(zft);

	if (!refcount_dec_and_mutex_lock(&zft->refcount, &zuf_orphans_lock))
		return;
	list_del_init(&zft->list);	/* an orphan nobody adopted */
	mutex_unlock(&zuf_orphans_lock);
	unregister_filesystem(&zft->vfs_fstype);
	pr_info("zuf: filesystem type %s unregistered\n", zft->name);
	zuf_fs_type_bury(zftc);
}

static bool zuf_fs_name_ok(const char *name)
{
	size_t len = strnlen(name, ZUFS_FS_NAME_MAX);
	size_t i;

	if (len == 0 || len == ZUFS_FS_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!(isdigit(name[i]) || (name[i] >= 'a' && name[i] <= 'z') ||
		      name[i] == '_'))
			return false;
	return true;
}

/* Registration parameters a re-attached superblock depends on */
#define ZUF_FST_FIXED	(ZUFS_FST_PMEM | ZUFS_FST_NODEV | ZUFS_FST_ACL | \
			 ZUFS_FST_REATTACH)

/*
 * A new server registers a name that only detached superblocks keep
 * registered: it takes the type over (with its new handle, version and
 * flags) and gets those superblocks offered.  NULL: no such orphan (the
 * caller registers as usual); ERR_PTR: one that this registration cannot
 * take over.
 */
static struct zuf_fs_type *zuf_adopt_fs(struct zuf_server *srv,
					struct zufs_ioc_register_fs *ioc)
{
	struct zuf_fs_type *zft, *found = NULL;
	struct zuf_server *old;

	mutex_lock(&zuf_orphans_lock);
	list_for_each_entry(zft, &zuf_orphan_types, list)
		if (!strcmp(zft->name, ioc->info.name))
			found = zft;
	if (!found)
		goto out_unlock;
	if ((found->info.flags ^ ioc->info.flags) & ZUF_FST_FIXED ||
	    found->info.magic != ioc->info.magic) {
		pr_err("zuf: register %s: differs from the type its detached mounts use: not re-attached\n",
		       found->name);
		found = ERR_PTR(-EEXIST);
		goto out_unlock;
	}
	mutex_lock(&srv->types_lock);
	if (srv->dead) {
		mutex_unlock(&srv->types_lock);
		found = ERR_PTR(-EIO);
		goto out_unlock;
	}
	refcount_inc(&found->refcount);	/* "server alive" again */
	list_move_tail(&found->list, &srv->types);
	old = ZFTC(found)->srv;
	kref_get(&srv->ref);
	ZFTC(found)->srv = srv;
	found->info = ioc->info;
	found->zus_fs_handle = ioc->zus_fs_handle;
	mutex_unlock(&srv->types_lock);
	mutex_unlock(&zuf_orphans_lock);
	zuf_server_put(old);
	pr_info("zuf: filesystem type %s taken over by the new server\n",
		found->name);
	return found;

out_unlock:
	mutex_unlock(&zuf_orphans_lock);
	return found;
}

static int zuf_register_fs(struct zuf_server *srv,
			   struct zufs_ioc_register_fs *ioc)
{
	u32 kind = ioc->info.flags & (ZUFS_FST_PMEM | ZUFS_FST_NODEV);
	struct zuf_fs_type_core *zftc;
	struct zuf_fs_type *zft;
	int err;

	if (!zuf_fs_name_ok(ioc->info.name)) {
		pr_err("zuf: register: invalid filesystem name\n");
		return -EINVAL;
	}
	if (kind != ZUFS_FST_PMEM && kind != ZUFS_FST_NODEV) {
		pr_err("zuf: register %s: exactly one of PMEM/NODEV needed\n",
		       ioc->info.name);
		return -EINVAL;
	}
	zft = zuf_adopt_fs(srv, ioc);
	if (IS_ERR(zft))
		return PTR_ERR(zft);
	if (zft) {
		zuf_reattach_type(zft, srv);
		return 0;
	}
	zftc = kzalloc(sizeof(*zftc), GFP_KERNEL);
	if (!zftc)
		return -ENOMEM;
	zft = &zftc->zft;
	zft->info = ioc->info;
	strscpy(zft->name, ioc->info.name, sizeof(zft->name));
	zft->zus_fs_handle = ioc->zus_fs_handle;
	zft->zri = srv->zri;
	refcount_set(&zft->refcount, 1);
	INIT_LIST_HEAD(&zft->list);
	INIT_LIST_HEAD(&zftc->grave);
	zft->vfs_fstype.name = zft->name;
	zft->vfs_fstype.owner = THIS_MODULE;
	zft->vfs_fstype.init_fs_context = zuf_init_fs_context;
	zft->vfs_fstype.kill_sb = zuf_kill_sb;
	if (kind == ZUFS_FST_PMEM)
		zft->vfs_fstype.fs_flags = FS_REQUIRES_DEV;

	mutex_lock(&srv->types_lock);
	if (srv->dead) {
		err = -EIO;
		goto out_unlock;
	}
	err = register_filesystem(&zft->vfs_fstype);
	if (err) {
		/* register_filesystem says -EBUSY for a taken name */
		err = -EEXIST;
		pr_err("zuf: register %s: name already registered\n",
		       zft->name);
		goto out_unlock;
	}
	kref_get(&srv->ref);
	zftc->srv = srv;
	list_add_tail(&zft->list, &srv->types);
	mutex_unlock(&srv->types_lock);
	pr_info("zuf: filesystem type %s registered\n", zft->name);
	return 0;

out_unlock:
	mutex_unlock(&srv->types_lock);
	kfree(zftc);
	return err;
}

/* ------------------------------------------------------------------ */
/* the mount thread's mailbox                                          */
/* ------------------------------------------------------------------ */

/*
 * A request the mount thread has picked up is never abandoned, whatever
 * the signal: until the server answers, it may be using the mount's pmem
 * (mounting, unmounting, switching to read-only), and the kernel takes
 * that pmem back as soon as the poster gives up.  A late MOUNT answer would
 * also leave the server with a mount the kernel never knew of.  A fatal
 * signal only withdraws a MOUNT or REMOUNT still POSTED (an UMOUNT not
 * even then: the superblock goes away anyway); after that the poster
 * sleeps (TASK_IDLE: a stuck server is not the kernel's hung task) until
 * the answer or the server's death.
 */
static bool zuf_mbox_answered(struct zuf_server *srv)
{
	return READ_ONCE(srv->mbox.state) == ZUF_MB_ANSWERED ||
	       zuf_srv_dead(srv);
}

static bool zuf_mbox_withdrawn(struct zuf_server *srv)
{
	struct zuf_mbox *mb = &srv->mbox;
	bool withdrawn = false;

	spin_lock(&mb->lock);
	if (mb->state == ZUF_MB_POSTED) {
		mb->state = ZUF_MB_IDLE;
		mb->req = NULL;
		withdrawn = true;
	}
	spin_unlock(&mb->lock);
	return withdrawn;
}

int zuf_mount_request(struct zuf_server *srv, struct zufs_ioc_mount *req)
{
	struct zuf_mbox *mb = &srv->mbox;
	/* the superblock goes away after an umount, answered or not */
	bool withdrawable = req->op != ZUFS_M_UMOUNT;
	struct zufs_ioc_mount *buf;
	int err = 0;

	buf = kmemdup(req, sizeof(*req), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (withdrawable)
		err = mutex_lock_killable(&mb->req_mutex);
	else
		mutex_lock(&mb->req_mutex);
	if (err)
		goto out_free;

	spin_lock(&mb->lock);
	if (zuf_srv_dead(srv) || mb->state != ZUF_MB_IDLE) {
		spin_unlock(&mb->lock);
		err = -EIO;
		goto out_unlock;
	}
	mb->req = buf;
	mb->state = ZUF_MB_POSTED;
	spin_unlock(&mb->lock);
	wake_up(&mb->thread_wq);

	if (!withdrawable) {
		wait_event_idle(mb->poster_wq, zuf_mbox_answered(srv));
	} else if (wait_event_killable(mb->poster_wq,
				       zuf_mbox_answered(srv))) {
		if (zuf_mbox_withdrawn(srv)) {
			err = -EINTR;
			goto out_unlock;
		}
		wait_event_idle(mb->poster_wq, zuf_mbox_answered(srv));
	}

	spin_lock(&mb->lock);
	if (mb->state == ZUF_MB_ANSWERED) {
		memcpy(req, buf, sizeof(*req));
		err = 0;
	} else {	/* the server died: POSTED or SERVING */
		err = -EIO;
	}
	mb->state = ZUF_MB_IDLE;
	mb->req = NULL;
	spin_unlock(&mb->lock);
out_unlock:
	mutex_unlock(&mb->req_mutex);
out_free:
	kfree(buf);
	return err;
}

/* Deliver the answer in @ans (if one is due), then wait for a request */
static int zuf_mbox_serve(struct zuf_server *srv, struct zufs_ioc_mount *ans)
{
	struct zuf_mbox *mb = &srv->mbox;
	int err;

	spin_lock(&mb->lock);
	/* one mount-role file per server (zuf_attach()): it took the request */
	if (mb->state == ZUF_MB_SERVING && ans->op != ZUFS_M_NONE) {
		/* the request's op stays the kernel's, whatever came back */
		ans->op = mb->req->op;
		memcpy(mb->req, ans, sizeof(*ans));
		mb->state = ZUF_MB_ANSWERED;
		wake_up(&mb->poster_wq);
	}
	spin_unlock(&mb->lock);

	for (;;) {
		err = wait_event_interruptible(mb->thread_wq,
				READ_ONCE(mb->state) == ZUF_MB_POSTED ||
				zuf_srv_dead(srv));
		if (err)
			return -EINTR;

		spin_lock(&mb->lock);
		if (zuf_srv_dead(srv)) {
			memset(ans, 0, sizeof(*ans));
			ans->op = ZUFS_M_BREAK;
			break;
		}
		/* the poster may have withdrawn it since we woke */
		if (mb->state == ZUF_MB_POSTED) {
			memcpy(ans, mb->req, sizeof(*ans));
			mb->state = ZUF_MB_SERVING;
			break;
		}
		spin_unlock(&mb->lock);
	}
	spin_unlock(&mb->lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* special files                                                       */
/* ------------------------------------------------------------------ */

/*
 * ZUFS_HS_TAKEOVER: stop the running server as if it died, and tell its
 * process to flush and exit (it waits for SIGTERM in zusd).
 */
static void zuf_server_takeover(struct zuf_root_info *zri)
{
	struct zuf_server *old;

	mutex_lock(&zri->lock);
	old = zri->srv;
	if (old)
		kref_get(&old->ref);
	mutex_unlock(&zri->lock);
	if (!old)
		return;
	kill_pid(old->tgid, SIGTERM, 1);
	zuf_server_kill(old, "taken over by a new server");
	zuf_server_put(old);
}

static int zuf_ioc_handshake(struct zuf_special *zs, void __user *uarg)
{
	struct zuf_root_info *zri = zs->zri;
	struct zufs_ioc_handshake hs;
	struct zuf_server *srv;
	int err = 0;

	if (copy_from_user(&hs, uarg, sizeof(hs)))
		return -EFAULT;
	if (hs.major != ZUFS_MAJOR_VERSION || hs.minor != ZUFS_MINOR_VERSION) {
		pr_err("zuf: ABI version mismatch: server ABI %u.%u, kernel ABI %u.%u\n",
		       hs.major, hs.minor, ZUFS_MAJOR_VERSION,
		       ZUFS_MINOR_VERSION);
		err = -EPROTO;
		goto out_answer;
	}
	srv = zuf_server_new(zri);
	if (!srv)
		return -ENOMEM;
	mutex_lock(&zri->lock);
	if (zri->srv && (hs.flags & ZUFS_HS_TAKEOVER)) {
		mutex_unlock(&zri->lock);
		zuf_server_takeover(zri);
		mutex_lock(&zri->lock);
	}
	if (zri->srv) {
		mutex_unlock(&zri->lock);
		zuf_server_put(srv);
		pr_err("zuf: handshake: a server is already running\n");
		return -EBUSY;
	}
	srv->tgid = get_pid(task_tgid(current));
	zri->srv = srv;
	mutex_unlock(&zri->lock);
	zs->srv = srv;		/* our reference from zuf_server_new() */
	zs->role = ZUF_ROLE_CONTROL;
	pr_info("zuf: server connected, ABI %u.%u\n", hs.major, hs.minor);

out_answer:
	hs.major = ZUFS_MAJOR_VERSION;
	hs.minor = ZUFS_MINOR_VERSION;
	hs.nr_cpus = nr_cpu_ids;
	hs.nr_nodes = nr_node_ids;
	hs.op_area_size = ZUFS_OP_AREA_SIZE;
	hs.data_area_size = ZUFS_DATA_AREA_SIZE;
	hs.err = err;
	if (copy_to_user(uarg, &hs, sizeof(hs)))
		return -EFAULT;
	return err;
}

/* Attach a non-control file to the live server of this zuf-root */
/*
 * Only the server process (the one that shook hands) joins its server,
 * and it has one mount thread: another administrator's process taking
 * mount requests meant for zusd would leave zusd with mounts the kernel
 * dropped, and its exit would take the server down.
 */
static int zuf_attach(struct zuf_special *zs, enum zuf_role role)
{
	struct zuf_root_info *zri = zs->zri;
	struct zuf_server *srv;
	int err = 0;

	mutex_lock(&zri->lock);
	srv = zri->srv;
	if (!srv)
		err = -ENOTCONN;
	else if (task_tgid(current) != srv->tgid)
		err = -EPERM;
	else if (role == ZUF_ROLE_MOUNT && srv->mount_attached)
		err = -EBUSY;
	if (err) {
		mutex_unlock(&zri->lock);
		return err;
	}
	if (role == ZUF_ROLE_MOUNT)
		srv->mount_attached = true;
	zs->srv = srv;
	kref_get(&zs->srv->ref);
	mutex_unlock(&zri->lock);
	zs->role = role;
	return 0;
}

static int zuf_ioc_init_thread(struct zuf_special *zs, void __user *uarg)
{
	struct zufs_ioc_init_thread it;
	struct zuf_channel *chan;
	int err;

	if (copy_from_user(&it, uarg, sizeof(it)))
		return -EFAULT;
	err = zuf_attach(zs, ZUF_ROLE_CHAN);
	if (err)
		goto out_answer;
	chan = zuf_chan_create(zs->srv, it.channel, it.lane, it.spin_us);
	if (IS_ERR(chan)) {
		err = PTR_ERR(chan);
		goto out_answer;
	}
	zs->chan = chan;
	it.numa_node = zuf_chan_numa_node(chan);
	it.map_size = ZUFS_CHAN_MAP_SIZE;
out_answer:
	it.err = err;
	if (copy_to_user(uarg, &it, sizeof(it)))
		return -EFAULT;
	return err;
}

static int zuf_ioc_grab_pmem(struct zuf_special *zs, struct file *file,
			     void __user *uarg)
{
	struct zuf_pmem_file *pf;
	struct zufs_ioc_pmem *ip;
	int err;

	ip = kmalloc(sizeof(*ip), GFP_KERNEL);
	if (!ip)
		return -ENOMEM;
	if (copy_from_user(ip, uarg, sizeof(*ip))) {
		err = -EFAULT;
		goto out_free;
	}
	err = zuf_attach(zs, ZUF_ROLE_PMEM);
	if (!err) {
		pf = zuf_pmem_grab(zs->srv, file, ip);
		if (IS_ERR(pf))
			err = PTR_ERR(pf);
		else
			zs->pf = pf;
	}
	ip->err = err;
	if (copy_to_user(uarg, ip, sizeof(*ip)))
		err = -EFAULT;
out_free:
	kfree(ip);
	return err;
}

static int zuf_ioc_mount(struct zuf_special *zs, void __user *uarg)
{
	struct zufs_ioc_mount *im;
	int err;

	im = kmalloc(sizeof(*im), GFP_KERNEL);
	if (!im)
		return -ENOMEM;
	if (copy_from_user(im, uarg, sizeof(*im))) {
		err = -EFAULT;
		goto out_free;
	}
	err = zuf_mbox_serve(zs->srv, im);
	if (!err && copy_to_user(uarg, im, sizeof(*im)))
		err = -EFAULT;
out_free:
	kfree(im);
	return err;
}

/* Roles a file may take (first ioctl) or already has (later ones) */
static int zuf_role_of_cmd(unsigned int cmd)
{
	switch (cmd) {
	case ZUFS_IOC_HANDSHAKE:
	case ZUFS_IOC_REGISTER_FS:
	case ZUFS_IOC_BREAK_ALL:
	case ZUFS_IOC_INVALIDATE:
	case ZUFS_IOC_INVALIDATE_NAME:
	case ZUFS_IOC_SB_RDONLY:
		return ZUF_ROLE_CONTROL;
	case ZUFS_IOC_MOUNT:
		return ZUF_ROLE_MOUNT;
	case ZUFS_IOC_GRAB_PMEM:
		return ZUF_ROLE_PMEM;
	case ZUFS_IOC_INIT_THREAD:
	case ZUFS_IOC_WAIT_OP:
		return ZUF_ROLE_CHAN;
	}
	return -1;
}

/* The first ioctl of a file: gives it its role */
static long zuf_ioctl_first(struct zuf_special *zs, struct file *file,
			    unsigned int cmd, void __user *uarg)
{
	switch (cmd) {
	case ZUFS_IOC_HANDSHAKE:
		return zuf_ioc_handshake(zs, uarg);
	case ZUFS_IOC_INIT_THREAD:
		return zuf_ioc_init_thread(zs, uarg);
	case ZUFS_IOC_GRAB_PMEM:
		return zuf_ioc_grab_pmem(zs, file, uarg);
	}
	return -EINVAL;
}

static long zuf_ioc_invalidate(struct zuf_server *srv, void __user *uarg);
static long zuf_ioc_invalidate_name(struct zuf_server *srv, void __user *uarg);
static long zuf_ioc_sb_rdonly(struct zuf_server *srv, void __user *uarg);

static long zuf_ioctl_control(struct zuf_special *zs, unsigned int cmd,
			      void __user *uarg)
{
	struct zufs_ioc_register_fs rf;
	int err;

	switch (cmd) {
	case ZUFS_IOC_REGISTER_FS:
		if (copy_from_user(&rf, uarg, sizeof(rf)))
			return -EFAULT;
		err = zuf_register_fs(zs->srv, &rf);
		rf.err = err;
		if (copy_to_user(uarg, &rf, sizeof(rf)))
			return -EFAULT;
		return err;
	case ZUFS_IOC_BREAK_ALL:
		zuf_server_kill(zs->srv, "break-all");
		return 0;
	case ZUFS_IOC_INVALIDATE:
		return zuf_ioc_invalidate(zs->srv, uarg);
	case ZUFS_IOC_INVALIDATE_NAME:
		return zuf_ioc_invalidate_name(zs->srv, uarg);
	case ZUFS_IOC_SB_RDONLY:
		return zuf_ioc_sb_rdonly(zs->srv, uarg);
	}
	return -EINVAL;
}

/* ZUFS_IOC_INVALIDATE: see include/zufs_api.h */
static long zuf_ioc_invalidate(struct zuf_server *srv, void __user *uarg)
{
	struct zufs_ioc_invalidate inv;
	struct super_block *sb;
	struct inode *inode;
	loff_t end;
	int err = 0;

	if (copy_from_user(&inv, uarg, sizeof(inv)))
		return -EFAULT;
	if (inv.offset > LLONG_MAX)
		return -EINVAL;
	end = !inv.length || inv.length > LLONG_MAX - inv.offset ?
	      LLONG_MAX : inv.offset + inv.length;
	sb = zuf_sb_get_by_id(srv, inv.sb_id);
	if (!sb) {
		err = -ENOENT;
		goto out;
	}
	inode = ilookup(sb, inv.ino);
	if (inode) {
		err = zuf_invalidate_inode(inode, inv.offset, end);
		iput(inode);
	}
	deactivate_super(sb);
out:
	inv.err = err;
	if (copy_to_user(uarg, &inv, sizeof(inv)))
		return -EFAULT;
	return err;
}

/* Drop the cached dentry of @name in the (held) directory @dir, if any */
static void zuf_drop_name(struct inode *dir, const char *name,
			  unsigned int len)
{
	struct qstr q = QSTR_INIT(name, len);
	struct dentry *parent, *dentry;

	/* the name changed behind this kernel's back */
	zuf_dir_uncomplete(dir);
	parent = d_find_any_alias(dir);
	if (!parent)
		return;
	dentry = d_hash_and_lookup(parent, &q);
	if (!IS_ERR_OR_NULL(dentry)) {
		d_invalidate(dentry);
		dput(dentry);
	}
	dput(parent);
}

/* ZUFS_IOC_INVALIDATE_NAME: see include/zufs_api.h */
static long zuf_ioc_invalidate_name(struct zuf_server *srv, void __user *uarg)
{
	struct zufs_ioc_invalidate_name *in;
	struct super_block *sb;
	struct inode *dir;
	long err = 0;

	in = memdup_user(uarg, sizeof(*in));
	if (IS_ERR(in))
		return PTR_ERR(in);
	if (zuf_name_problem(in->name, in->name_len)) {
		pr_err_ratelimited("zuf: invalidate-name from the server: bad name (%u bytes) in dir %llu of mount %llu\n",
				   in->name_len, in->dir_ino, in->sb_id);
		err = -EINVAL;
		goto out;
	}
	sb = zuf_sb_get_by_id(srv, in->sb_id);
	if (!sb) {
		err = -ENOENT;
		goto out;
	}
	dir = ilookup(sb, in->dir_ino);
	if (dir) {
		if (S_ISDIR(dir->i_mode))
			zuf_drop_name(dir, in->name, in->name_len);
		iput(dir);
	}
	deactivate_super(sb);
out:
	in->err = err;
	if (copy_to_user(uarg, in, sizeof(*in)))
		err = -EFAULT;
	kfree(in);
	return err;
}

static long zuf_ioc_sb_rdonly(struct zuf_server *srv, void __user *uarg)
{
	struct zufs_ioc_sb_rdonly ro;
	struct super_block *sb;
	int err = 0;

	if (copy_from_user(&ro, uarg, sizeof(ro)))
		return -EFAULT;
	sb = zuf_sb_get_by_id(srv, ro.sb_id);
	if (sb) {
		zuf_sb_went_rdonly(ZSB(sb));
		deactivate_super(sb);
	} else {
		err = -ENOENT;
	}
	ro.err = err;
	if (copy_to_user(uarg, &ro, sizeof(ro)))
		return -EFAULT;
	return err;
}

/*
 * A server thread woken by SIGKILL: the server is dying.  Say so now
 * rather than when its files are finally closed, which comes only after
 * its whole address space is torn down.
 */
static void zuf_check_killed(struct zuf_special *zs, long err)
{
	if (err == -EINTR && fatal_signal_pending(current))
		zuf_server_kill(zs->srv, "server killed");
}

static long zuf_special_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct zuf_special *zs = file->private_data;
	void __user *uarg = (void __user *)arg;
	int want = zuf_role_of_cmd(cmd);
	long err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (want < 0)
		return -ENOTTY;

	/* the mount thread's file gets its role inside zuf_ioc_mount() */
	if (cmd == ZUFS_IOC_MOUNT) {
		mutex_lock(&zs->role_lock);
		err = (zs->role == ZUF_ROLE_NONE || zs->role == want) ?
		      0 : -EINVAL;
		if (!err && zs->role == ZUF_ROLE_NONE)
			err = zuf_attach(zs, ZUF_ROLE_MOUNT);
		mutex_unlock(&zs->role_lock);
		if (err)
			return err;
		err = zuf_ioc_mount(zs, uarg);
		zuf_check_killed(zs, err);
		return err;
	}

	mutex_lock(&zs->role_lock);
	if (zs->role == ZUF_ROLE_NONE) {
		err = zuf_ioctl_first(zs, file, cmd, uarg);
		mutex_unlock(&zs->role_lock);
		return err;
	}
	mutex_unlock(&zs->role_lock);

	if (zs->role != want)
		return cmd == ZUFS_IOC_HANDSHAKE ? -EBUSY : -EINVAL;
	switch (zs->role) {
	case ZUF_ROLE_CONTROL:
		return zuf_ioctl_control(zs, cmd, uarg);
	case ZUF_ROLE_CHAN:
		if (!zs->chan)		/* INIT_THREAD failed */
			return -EINVAL;
		if (cmd != ZUFS_IOC_WAIT_OP)
			return -EBUSY;
		err = zuf_chan_wait_op(zs->chan);
		zuf_check_killed(zs, err);
		return err;
	default:
		return -EBUSY;
	}
}

static int zuf_special_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct zuf_special *zs = file->private_data;

	/* as for the ioctls: an inherited or passed fd is not a server */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (READ_ONCE(zs->role)) {
	case ZUF_ROLE_CHAN:
		return zs->chan ? zuf_chan_mmap(zs->chan, vma) : -EINVAL;
	case ZUF_ROLE_PMEM:
		return zs->pf ? zuf_pmem_mmap(zs->pf, vma) : -EINVAL;
	default:
		return -EINVAL;
	}
}

static int zuf_special_open(struct inode *inode, struct file *file)
{
	struct zuf_special *zs = kzalloc(sizeof(*zs), GFP_KERNEL);

	if (!zs)
		return -ENOMEM;
	mutex_init(&zs->role_lock);
	zs->zri = inode->i_sb->s_fs_info;
	file->private_data = zs;
	return 0;
}

static int zuf_special_release(struct inode *inode, struct file *file)
{
	struct zuf_special *zs = file->private_data;

	switch (zs->role) {
	case ZUF_ROLE_CONTROL:
		zuf_server_kill(zs->srv, "server exited");
		/* its process is done with the mounts: they may re-attach */
		WRITE_ONCE(zs->srv->ctl_closed, true);
		wake_up_all(&zs->srv->gone_wq);
		break;
	case ZUF_ROLE_CHAN:
		if (!zs->chan)		/* INIT_THREAD failed: never a ZT */
			break;
		fallthrough;
	case ZUF_ROLE_MOUNT:
		/*
		 * Without its mount thread or one of its ZTs the server
		 * would leave callers hanging: treat it as dead.
		 */
		zuf_server_kill(zs->srv, "a server thread exited");
		break;
	case ZUF_ROLE_PMEM:
		if (zs->pf)
			zuf_pmem_file_release(zs->pf);
		break;
	case ZUF_ROLE_NONE:
		break;
	}
	if (zs->srv)
		zuf_server_put(zs->srv);
	kfree(zs);
	return 0;
}

static const struct file_operations zuf_special_fops = {
	.owner		= THIS_MODULE,
	.open		= zuf_special_open,
	.release	= zuf_special_release,
	.unlocked_ioctl	= zuf_special_ioctl,
	.mmap		= zuf_special_mmap,
	.llseek		= noop_llseek,
};

/* ------------------------------------------------------------------ */
/* the zuf-root filesystem                                             */
/* ------------------------------------------------------------------ */

/* Only an administrator may create server files (-EPERM, not -EACCES) */
static int zuf_root_permission(struct mnt_idmap *idmap, struct inode *inode,
			       int mask)
{
	if ((mask & MAY_WRITE) && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	return generic_permission(idmap, inode, mask);
}

static int zuf_root_tmpfile(struct mnt_idmap *idmap, struct inode *dir,
			    struct file *file, umode_t mode)
{
	struct inode *inode;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	inode = new_inode(dir->i_sb);
	if (!inode)
		return -ENOMEM;
	inode->i_ino = get_next_ino();
	inode->i_mode = S_IFREG | 0600;
	simple_inode_init_ts(inode);
	inode->i_fop = &zuf_special_fops;
	d_tmpfile(file, inode);
	return finish_open_simple(file, 0);
}

static const struct inode_operations zuf_root_dir_iops = {
	.lookup		= simple_lookup,
	.tmpfile	= zuf_root_tmpfile,
	.permission	= zuf_root_permission,
};

static const struct super_operations zuf_root_sops = {
	.statfs		= simple_statfs,
	.drop_inode	= generic_delete_inode,
};

static int zuf_root_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct zuf_root_info *zri;
	struct inode *root;

	zri = kzalloc(sizeof(*zri), GFP_KERNEL);
	if (!zri)
		return -ENOMEM;
	mutex_init(&zri->lock);
	zri->sb = sb;
	sb->s_fs_info = zri;
	sb->s_magic = ZUFS_ROOT_MAGIC;
	sb->s_op = &zuf_root_sops;
	sb->s_time_gran = 1;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;

	root = new_inode(sb);
	if (!root)
		return -ENOMEM;	/* kill_sb frees zri */
	root->i_ino = 1;
	root->i_mode = S_IFDIR | 0755;
	simple_inode_init_ts(root);
	root->i_op = &zuf_root_dir_iops;
	root->i_fop = &simple_dir_operations;
	set_nlink(root, 2);
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	return 0;
}

static int zuf_root_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, zuf_root_fill_super);
}

static const struct fs_context_operations zuf_root_context_ops = {
	.get_tree	= zuf_root_get_tree,
};

static int zuf_root_init_fs_context(struct fs_context *fc)
{
	fc->ops = &zuf_root_context_ops;
	return 0;
}

static void zuf_root_kill_sb(struct super_block *sb)
{
	struct zuf_root_info *zri = sb->s_fs_info;

	kill_anon_super(sb);
	kfree(zri);
}

static struct file_system_type zuf_root_fstype = {
	.owner			= THIS_MODULE,
	.name			= ZUFS_ROOT_FSTYPE,
	.init_fs_context	= zuf_root_init_fs_context,
	.kill_sb		= zuf_root_kill_sb,
};

int zuf_root_register(void)
{
	return register_filesystem(&zuf_root_fstype);
}

void zuf_root_unregister(void)
{
	unregister_filesystem(&zuf_root_fstype);
}
