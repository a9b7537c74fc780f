// SPDX-License-Identifier: GPL-2.0
/*
 * super.c - mounting a server's filesystem: fs_context, fill_super,
 * remount, statfs, show_options and teardown.
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/slab.h>
#include <linux/seq_file.h>
#include <linux/statfs.h>
#include <linux/log2.h>

#include "zuf_core.h"

/* How long callers of a detached sb wait for a new server, by default */
#define ZUF_REATTACH_TIMEOUT_DEFAULT	30	/* seconds */
#define ZUF_REATTACH_TIMEOUT_MAX	86400
/* How long a re-attach waits for the old server's process to let go */
#define ZUF_OLD_SERVER_WAIT		(10 * HZ)

/* fs_context private: the options that go to the plugin */
struct zuf_fs_context {
	char	opts[ZUFS_OPTIONS_MAX];	/* comma separated */
	size_t	len;
	bool	nomapcache;
	int	reattach_timeout;	/* seconds; -1: not given */
	int	spin_us;		/* -1: not given */
	int	copy_max;		/* bytes; -1: not given */
	char	*devs;		/* devs=PATH:PATH...: the set's members */
};

/* s_umount or attach_lock held: the sb's server cannot change */
static struct zuf_server *zuf_sbi_srv(struct zuf_sb_info *sbi)
{
	return sbi->srv;
}

/* ------------------------------------------------------------------ */
/* mount-thread requests                                               */
/* ------------------------------------------------------------------ */

static u32 zuf_mount_flags(unsigned int sb_flags)
{
	u32 mf = 0;

	if (sb_flags & SB_RDONLY)
		mf |= ZUFS_MF_RDONLY;
	if (sb_flags & SB_SILENT)
		mf |= ZUFS_MF_SILENT;
	return mf;
}

static struct zufs_ioc_mount *zuf_mount_req_new(struct zuf_sb_info *sbi,
						enum zufs_mount_op op)
{
	struct zufs_ioc_mount *req = kzalloc(sizeof(*req), GFP_KERNEL);

	if (!req)
		return NULL;
	req->op = op;
	req->zus_fs_handle = sbi->zft->zus_fs_handle;
	req->zus_sb_handle = sbi->zus_sb_handle;
	req->sb_id = sbi->sb_id;
	return req;
}

/* Log the server's reason for a failed mount/remount */
static void zuf_mount_failed(struct zuf_sb_info *sbi,
			     struct zufs_ioc_mount *req, const char *what)
{
	req->msg[ZUFS_MSG_MAX - 1] = 0;
	if (req->msg[0])
		pr_err("zuf: %s: %s: %s\n", sbi->sb->s_id, what, req->msg);
	else
		pr_err("zuf: %s: %s failed: %d\n", sbi->sb->s_id, what,
		       req->err);
}


static int zuf_set_options(struct zuf_sb_info *sbi, char *opts)
{
	char *copy;

	opts[ZUFS_OPTIONS_MAX - 1] = 0;
	copy = kstrdup(opts, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	kfree(sbi->options);
	sbi->options = copy;
	return 0;
}

static void zuf_umount(struct zuf_sb_info *sbi)
{
	struct zufs_ioc_mount *req;
	int err;

	if (!(sbi->flags & ZUF_SB_MOUNTED))
		return;
	sbi->flags &= ~ZUF_SB_MOUNTED;
	if (zuf_srv_dead(zuf_sbi_srv(sbi)))
		return;
	req = zuf_mount_req_new(sbi, ZUFS_M_UMOUNT);
	if (!req)
		return;
	err = zuf_mount_request(zuf_sbi_srv(sbi), req);
	if (!err)
		err = zuf_mount_errno(sbi, ZUFS_M_UMOUNT, req->err);
	if (err)
		pr_warn("zuf: %s: server umount failed: %d\n",
			sbi->sb->s_id, err);
	kfree(req);
}

/* ------------------------------------------------------------------ */
/* super operations                                                    */
/* ------------------------------------------------------------------ */

/*
 * statfs never waits for a detached sb's server: umount(8) and df ask it
 * first, and umount must not wait.  The last answer stands in meanwhile.
 */
static int zuf_statfs_detached(struct zuf_sb_info *sbi, struct kstatfs *buf)
{
	int err = -EIO;

	spin_lock(&sbi->statfs_lock);
	if (sbi->statfs_ok) {
		*buf = sbi->statfs;
		err = 0;
	}
	spin_unlock(&sbi->statfs_lock);
	return err;
}

static int zuf_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct zuf_sb_info *sbi = ZSB(dentry->d_sb);
	struct zufs_op_statfs op = { .hdr.op = ZUFS_OP_STATFS };
	struct zuf_dispatch zd = { .op = &op.hdr, .op_size = sizeof(op),
				   .nowait = true };
	struct zufs_statfs *st = &op.st;
	int err;

	if (zuf_sb_detached(sbi))
		return zuf_statfs_detached(sbi, buf);
	/* inodes already unlinked count as free */
	zuf_reap_flush(sbi);
	err = zufc_dispatch(sbi, &zd);
	if (err == -EIO && zuf_sb_detached(sbi))
		return zuf_statfs_detached(sbi, buf);
	if (err)
		return err;
	if (!is_power_of_2(st->bsize) || st->bsize > (1U << 20) ||
	    st->bfree > st->blocks || st->bavail > st->bfree ||
	    st->ffree > st->files || st->namelen > ZUFS_NAME_MAX) {
		zuf_bad_answer(sbi, "statfs: bsize %u blocks %llu/%llu/%llu files %llu/%llu",
			       st->bsize, st->blocks, st->bfree, st->bavail,
			       st->files, st->ffree);
		return -EIO;
	}
	buf->f_type = sbi->zft->info.magic;
	buf->f_bsize = st->bsize;
	buf->f_frsize = st->bsize;
	buf->f_blocks = st->blocks;
	buf->f_bfree = st->bfree;
	buf->f_bavail = st->bavail;
	buf->f_files = st->files;
	buf->f_ffree = st->ffree;
	buf->f_namelen = st->namelen ?: ZUFS_NAME_MAX;
	buf->f_fsid = u64_to_fsid(st->fsid);
	spin_lock(&sbi->statfs_lock);
	sbi->statfs = *buf;
	sbi->statfs_ok = true;
	spin_unlock(&sbi->statfs_lock);
	return 0;
}

static int zuf_sync_fs(struct super_block *sb, int wait)
{
	struct zufs_op_sync_fs op = {
		.hdr.op = ZUFS_OP_SYNC_FS,
		.hdr.flags = wait ? 1 : 0,
	};

	return zufc_dispatch_op(ZSB(sb), &op.hdr, sizeof(op));
}

/* A set shows all its members, in table order, as a devs= that mounts it */
static void zuf_show_devs(struct seq_file *seq, struct zuf_sb_info *sbi)
{
	struct zuf_pmem *pmem = sbi->pmem;
	u32 i;

	if (!pmem || pmem->ndevs < 2)
		return;
	for (i = 0; i < pmem->ndevs; i++)
		seq_printf(seq, "%s/dev/%pg", i ? ":" : ",devs=",
			   pmem->devs[i].bdev);
}

static int zuf_show_options(struct seq_file *seq, struct dentry *root)
{
	struct zuf_sb_info *sbi = ZSB(root->d_sb);

	if (sbi->options && sbi->options[0]) {
		seq_putc(seq, ',');
		seq_escape(seq, sbi->options, " \t\n\\#");
	}
	if (sbi->flags & ZUF_SB_NO_MAPCACHE)
		seq_puts(seq, ",nomapcache");
	if (sbi->reattach_timeout != ZUF_REATTACH_TIMEOUT_DEFAULT * HZ)
		seq_printf(seq, ",reattach_timeout=%lu",
			   sbi->reattach_timeout / HZ);
	if (sbi->spin_ns)
		seq_printf(seq, ",spin=%u", sbi->spin_ns / (u32)NSEC_PER_USEC);
	if (!(sbi->zft->info.flags & ZUFS_FST_PMEM) &&
	    sbi->copy_max != ZUF_COPY_MAX_DEFAULT)
		seq_printf(seq, ",copy_max=%u", sbi->copy_max);
	zuf_show_devs(seq, sbi);
	return 0;
}

static void zuf_put_super(struct super_block *sb)
{
	struct zuf_sb_info *sbi = ZSB(sb);

	/* inodes are evicted: the server may let go of the mount */
	zuf_reap_flush(sbi);
	zuf_umount(sbi);
	zuf_pmem_unpublish(zuf_sbi_srv(sbi), sbi);
	zuf_pmem_close(sbi);
}

static const struct super_operations zuf_sops = {
	.alloc_inode	= zuf_alloc_inode,
	.free_inode	= zuf_free_inode,
	.evict_inode	= zuf_evict_inode,
	.put_super	= zuf_put_super,
	.sync_fs	= zuf_sync_fs,
	.statfs		= zuf_statfs,
	.show_options	= zuf_show_options,
};

/* ------------------------------------------------------------------ */
/* fill_super                                                          */
/* ------------------------------------------------------------------ */

static int zuf_check_mount_answer(struct zuf_sb_info *sbi,
				  struct zufs_ioc_mount *req)
{
	if (!is_power_of_2(req->block_size) || req->block_size < 512 ||
	    req->block_size > PAGE_SIZE) {
		zuf_bad_answer(sbi, "mount: block size %u", req->block_size);
		return -EIO;
	}
	if (!req->max_bytes || req->max_bytes > MAX_LFS_FILESIZE) {
		zuf_bad_answer(sbi, "mount: max_bytes %llu", req->max_bytes);
		return -EIO;
	}
	if (!req->root.ino || req->max_ino < req->root.ino) {
		zuf_bad_answer(sbi, "mount: root ino %llu, max_ino %llu",
			       req->root.ino, req->max_ino);
		return -EIO;
	}
	if (zuf_attr_check(sbi, &req->root, req->root.ino))
		return -EIO;
	if (!S_ISDIR(req->root.mode)) {
		zuf_bad_answer(sbi, "mount: root mode 0%o is not a directory",
			       req->root.mode);
		return -EIO;
	}
	return 0;
}

/* Ask the server to mount, check its answer, remember its handle */
static int zuf_mount_server(struct zuf_sb_info *sbi, struct fs_context *fc,
			    struct zufs_ioc_mount *req)
{
	struct zuf_fs_context *ctx = fc->fs_private;
	int err;

	req->mount_flags = zuf_mount_flags(fc->sb_flags);
	strscpy(req->dev_name, fc->source ?: "", sizeof(req->dev_name));
	strscpy(req->options, ctx->opts, sizeof(req->options));
	err = zuf_mount_request(zuf_sbi_srv(sbi), req);
	if (err)
		return err;
	err = zuf_mount_errno(sbi, ZUFS_M_MOUNT, req->err);
	if (err) {
		zuf_mount_failed(sbi, req, "mount");
		return err;
	}
	sbi->zus_sb_handle = req->zus_sb_handle;
	sbi->flags |= ZUF_SB_MOUNTED;
	/* zuf_attr_check() of the root below bounds inode numbers by it */
	sbi->max_ino = req->max_ino;
	sbi->caps = req->caps & ZUFS_CAP_ALL;
	err = zuf_check_mount_answer(sbi, req);
	if (err)
		return err;
	return zuf_set_options(sbi, req->options);
}

static void zuf_set_sb_fields(struct super_block *sb,
			      struct zufs_ioc_mount *req)
{
	sb->s_magic = ZSB(sb)->zft->info.magic;
	sb->s_maxbytes = req->max_bytes;
	sb->s_blocksize = req->block_size;
	sb->s_blocksize_bits = ilog2(req->block_size);
	sb->s_time_gran = 1;
	sb->s_time_min = S64_MIN;
	sb->s_time_max = S64_MAX;
	sb->s_op = &zuf_sops;
	sb->s_xattr = zuf_xattr_handlers;
	ZSB(sb)->entry_ttl = msecs_to_jiffies(req->entry_ttl_ms);
	ZSB(sb)->attr_ttl = msecs_to_jiffies(req->attr_ttl_ms);
	sb->s_d_op = ZSB(sb)->entry_ttl ? &zuf_dentry_ttl_ops : &zuf_dentry_ops;
	if (ZSB(sb)->zft->info.flags & ZUFS_FST_ACL)
		sb->s_flags |= SB_POSIXACL;
}

static int zuf_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct zuf_fs_type *zft = container_of(fc->fs_type,
					       struct zuf_fs_type, vfs_fstype);
	struct zuf_fs_context *ctx = fc->fs_private;
	struct zufs_ioc_mount *req = NULL;
	struct zuf_sb_info *sbi;
	struct inode *root;
	int err;

	/* on any failure, kill_sb undoes whatever is recorded in sbi */
	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sbi->sb = sb;
	ratelimit_state_init(&sbi->bad_answer_rs, 5 * HZ, 10);
	mutex_init(&sbi->attach_lock);
	init_waitqueue_head(&sbi->attach_wq);
	spin_lock_init(&sbi->statfs_lock);
	zuf_reap_init(sbi);
	sb->s_fs_info = sbi;
	sbi->srv = zuf_fs_type_get(zft);
	if (!sbi->srv) {
		pr_err("zuf: %s: the server of %s is gone\n", sb->s_id,
		       zft->name);
		return -EIO;
	}
	sbi->zft = zft;
	if (ctx->nomapcache)
		sbi->flags |= ZUF_SB_NO_MAPCACHE;
	sbi->reattach_timeout = (ctx->reattach_timeout < 0 ?
				 ZUF_REATTACH_TIMEOUT_DEFAULT :
				 ctx->reattach_timeout) * HZ;
	if (ctx->spin_us > 0)
		sbi->spin_ns = ctx->spin_us * NSEC_PER_USEC;
	sbi->copy_max = ctx->copy_max < 0 ? ZUF_COPY_MAX_DEFAULT :
			ctx->copy_max;
	sbi->dev_name = kstrdup(fc->source ?: "", GFP_KERNEL);
	if (!sbi->dev_name)
		return -ENOMEM;

	if (zuf_is_pmem(sbi)) {
		err = zuf_pmem_open(sbi, ctx->devs);
		if (err)
			return err;
	}
	err = zuf_pmem_publish(zuf_sbi_srv(sbi), sbi);
	if (err)
		return err;
	req = zuf_mount_req_new(sbi, ZUFS_M_MOUNT);
	if (!req)
		return -ENOMEM;
	err = zuf_mount_server(sbi, fc, req);
	if (err)
		goto out_free_req;

	zuf_set_sb_fields(sb, req);
	root = zuf_iget(sb, &req->root, U64_MAX);
	if (IS_ERR(root)) {
		err = PTR_ERR(root);
		goto out_free_req;
	}
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		err = -ENOMEM;
out_free_req:
	kfree(req);
	return err;
}

void zuf_kill_sb(struct super_block *sb)
{
	struct zuf_sb_info *sbi = ZSB(sb);

	/* umount of a detached sb must not wait for a server */
	if (sbi) {
		WRITE_ONCE(sbi->dying, true);
		wake_up_all(&sbi->attach_wq);
	}
	if (sb->s_bdev)
		kill_block_super(sb);
	else
		kill_anon_super(sb);
	if (!sbi)
		return;
	/* fill_super failed before s_root: put_super was not called */
	if (sbi->zft) {
		zuf_umount(sbi);
		zuf_pmem_unpublish(zuf_sbi_srv(sbi), sbi);
		zuf_pmem_close(sbi);
		zuf_fs_type_put(sbi->zft);
	}
	if (sbi->srv)
		zuf_server_put(sbi->srv);
	kfree(sbi->dev_name);
	kfree(sbi->options);
	kfree(sbi);
}

/* ------------------------------------------------------------------ */
/* re-attach to a new server (see "Server restart" in zufs_api.h)      */
/* ------------------------------------------------------------------ */

/* The new mount must be the one the kernel's inodes and caches describe */
static int zuf_check_reattach_answer(struct zuf_sb_info *sbi,
				     struct zufs_ioc_mount *req)
{
	struct super_block *sb = sbi->sb;

	if (req->max_ino < sbi->max_ino) {
		zuf_bad_answer(sbi, "re-attach: max_ino %llu < %llu",
			       req->max_ino, sbi->max_ino);
		return -EIO;
	}
	sbi->max_ino = req->max_ino;
	if (zuf_check_mount_answer(sbi, req))
		return -EIO;
	if (req->root.ino != d_inode(sb->s_root)->i_ino ||
	    req->block_size != sb->s_blocksize ||
	    req->max_bytes != sb->s_maxbytes) {
		zuf_bad_answer(sbi, "re-attach: root %llu bsize %u max_bytes %llu differ",
			       req->root.ino, req->block_size, req->max_bytes);
		return -EIO;
	}
	return 0;
}

/* Switch the sb to @srv; the callers waiting for it go on */
static void zuf_sb_switch_srv(struct zuf_sb_info *sbi, struct zuf_server *srv)
{
	struct zuf_server *old = sbi->srv;

	kref_get(&srv->ref);
	smp_store_release(&sbi->srv, srv);
	wake_up_all(&sbi->attach_wq);
	/* dispatchers still on the dead server leave it before its put */
	synchronize_srcu(&zuf_srv_srcu);
	zuf_server_put(old);
}

static int zuf_reattach_sb(struct zuf_sb_info *sbi, struct zuf_server *srv)
{
	struct zufs_ioc_mount *req;
	int err;

	zuf_pmem_unpublish(sbi->srv, sbi);
	err = zuf_pmem_publish(srv, sbi);
	if (err)
		return err;
	req = zuf_mount_req_new(sbi, ZUFS_M_MOUNT);
	if (!req) {
		err = -ENOMEM;
		goto out_unpublish;
	}
	req->mount_flags = zuf_mount_flags(sbi->sb->s_flags) |
			   ZUFS_MF_REATTACH;
	strscpy(req->dev_name, sbi->dev_name, sizeof(req->dev_name));
	strscpy(req->options, sbi->options ?: "", sizeof(req->options));
	err = zuf_mount_request(srv, req);
	if (!err)
		err = zuf_mount_errno(sbi, ZUFS_M_MOUNT, req->err);
	if (err) {
		if (req->err)
			zuf_mount_failed(sbi, req, "re-attach");
		goto out_free;
	}
	err = zuf_check_reattach_answer(sbi, req);
	if (err) {
		/* the server holds a mount the kernel will not use */
		req->op = ZUFS_M_UMOUNT;
		zuf_mount_request(srv, req);
		goto out_free;
	}
	sbi->zus_sb_handle = req->zus_sb_handle;
	sbi->caps = req->caps & ZUFS_CAP_ALL;
	sbi->flags |= ZUF_SB_MOUNTED;
	kfree(req);
	zuf_sb_switch_srv(sbi, srv);
	return 0;

out_free:
	kfree(req);
out_unpublish:
	zuf_pmem_unpublish(srv, sbi);
	return err;
}

static void zuf_reattach_one(struct super_block *sb, void *arg)
{
	struct zuf_server *srv = arg;
	struct zuf_sb_info *sbi = ZSB(sb);
	int err;

	mutex_lock(&sbi->attach_lock);
	if (!zuf_srv_dead(sbi->srv) || READ_ONCE(sbi->dying))
		goto out_unlock;
	/* two processes must never use one backing store */
	if (wait_event_killable_timeout(sbi->srv->gone_wq,
					READ_ONCE(sbi->srv->ctl_closed),
					ZUF_OLD_SERVER_WAIT) <= 0) {
		pr_err("zuf: %s: the old server still runs: stays detached\n",
		       sb->s_id);
		goto out_unlock;
	}
	err = zuf_reattach_sb(sbi, srv);
	if (err)
		pr_err("zuf: %s: re-attach failed (%d): stays detached\n",
		       sb->s_id, err);
	else
		pr_info("zuf: %s: re-attached to the new server\n", sb->s_id);
out_unlock:
	mutex_unlock(&sbi->attach_lock);
}

void zuf_reattach_type(struct zuf_fs_type *zft, struct zuf_server *srv)
{
	iterate_supers_type(&zft->vfs_fstype, zuf_reattach_one, srv);
}

/* ------------------------------------------------------------------ */
/* fs_context                                                          */
/* ------------------------------------------------------------------ */

static int zuf_add_option(struct zuf_fs_context *ctx,
			  struct fs_parameter *param)
{
	const char *val = param->type == fs_value_is_string ?
			  param->string : NULL;
	int n;

	n = snprintf(ctx->opts + ctx->len, sizeof(ctx->opts) - ctx->len,
		     "%s%s%s%s", ctx->len ? "," : "", param->key,
		     val ? "=" : "", val ?: "");
	if (n < 0 || n >= sizeof(ctx->opts) - ctx->len) {
		ctx->opts[ctx->len] = 0;
		return -EINVAL;
	}
	ctx->len += n;
	return 0;
}

/* An option's value: a decimal number in 0..@max */
static int zuf_parse_int(struct fs_parameter *param, int max, int *val)
{
	if (param->type != fs_value_is_string ||
	    kstrtoint(param->string, 10, val) || *val < 0 || *val > max)
		return -EINVAL;
	return 0;
}

static int zuf_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct zuf_fs_context *ctx = fc->fs_private;

	if (!strcmp(param->key, "source"))
		return -ENOPARAM;	/* the VFS takes it */
	if (!strcmp(param->key, "nomapcache")) {
		ctx->nomapcache = true;
		return 0;
	}
	if (!strcmp(param->key, "reattach_timeout")) {
		if (zuf_parse_int(param, ZUF_REATTACH_TIMEOUT_MAX,
				  &ctx->reattach_timeout))
			return invalfc(fc, "reattach_timeout: 0..%d seconds",
				       ZUF_REATTACH_TIMEOUT_MAX);
		return 0;
	}
	if (!strcmp(param->key, "spin")) {
		if (zuf_parse_int(param, ZUFS_SPIN_MAX_US, &ctx->spin_us))
			return invalfc(fc, "spin: 0..%d microseconds",
				       ZUFS_SPIN_MAX_US);
		return 0;
	}
	if (!strcmp(param->key, "copy_max")) {
		if (zuf_parse_int(param, ZUFS_IO_MAX, &ctx->copy_max))
			return invalfc(fc, "copy_max: 0..%u bytes",
				       ZUFS_IO_MAX);
		return 0;
	}
	if (!strcmp(param->key, "devs")) {
		if (param->type != fs_value_is_string || !*param->string)
			return invalfc(fc, "devs: PATH:PATH... of the set's members");
		kfree(ctx->devs);
		ctx->devs = param->string;
		param->string = NULL;
		return 0;
	}
	if (param->type != fs_value_is_string &&
	    param->type != fs_value_is_flag)
		return invalfc(fc, "%s: unsupported option value",
			       param->key);
	if (strpbrk(param->key, ",") ||
	    (param->type == fs_value_is_string && strchr(param->string, ',')))
		return invalfc(fc, "%s: comma in option", param->key);
	if (zuf_add_option(ctx, param))
		return invalfc(fc, "options too long");
	return 0;
}

static int zuf_get_tree(struct fs_context *fc)
{
	if (fc->fs_type->fs_flags & FS_REQUIRES_DEV)
		return get_tree_bdev(fc, zuf_fill_super);
	return get_tree_nodev(fc, zuf_fill_super);
}

static int zuf_reconfigure(struct fs_context *fc)
{
	struct super_block *sb = fc->root->d_sb;
	struct zuf_fs_context *ctx = fc->fs_private;
	struct zuf_sb_info *sbi = ZSB(sb);
	struct zufs_ioc_mount *req;
	int err;

	sync_filesystem(sb);
	req = zuf_mount_req_new(sbi, ZUFS_M_REMOUNT);
	if (!req)
		return -ENOMEM;
	req->mount_flags = zuf_mount_flags(fc->sb_flags);
	strscpy(req->options, ctx->opts, sizeof(req->options));
	err = zuf_mount_request(zuf_sbi_srv(sbi), req);
	if (!err)
		err = zuf_mount_errno(sbi, ZUFS_M_REMOUNT, req->err);
	if (err) {
		if (req->err)
			zuf_mount_failed(sbi, req, "remount");
		goto out_free;
	}
	err = zuf_set_options(sbi, req->options);
	if (ctx->nomapcache)
		sbi->flags |= ZUF_SB_NO_MAPCACHE;
	if (ctx->reattach_timeout >= 0)
		sbi->reattach_timeout = ctx->reattach_timeout * HZ;
	if (ctx->spin_us >= 0)
		WRITE_ONCE(sbi->spin_ns, ctx->spin_us * NSEC_PER_USEC);
	if (ctx->copy_max >= 0)
		WRITE_ONCE(sbi->copy_max, ctx->copy_max);
out_free:
	kfree(req);
	return err;
}

static void zuf_free_fc(struct fs_context *fc)
{
	struct zuf_fs_context *ctx = fc->fs_private;

	if (ctx)
		kfree(ctx->devs);
	kfree(ctx);
}

static const struct fs_context_operations zuf_context_ops = {
	.free		= zuf_free_fc,
	.parse_param	= zuf_parse_param,
	.get_tree	= zuf_get_tree,
	.reconfigure	= zuf_reconfigure,
};

int zuf_init_fs_context(struct fs_context *fc)
{
	struct zuf_fs_context *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	ctx->reattach_timeout = -1;
	ctx->spin_us = -1;
	ctx->copy_max = -1;
	fc->fs_private = ctx;
	fc->ops = &zuf_context_ops;
	return 0;
}
