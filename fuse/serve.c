// SPDX-License-Identifier: BSD-3-Clause
/*
 * serve.c - zus-fuse: mount the plugin, mount FUSE, run the loop, undo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bridge.h"
#include "image.h"

/*
 * zus_mount_info.invalidate: the plugin moved blocks on its own; the kernel
 * may hold the old data in the FUSE page cache of that inode.
 */
static int bridge_invalidate(void *host, uint64_t ino, uint64_t offset,
			     uint64_t length)
{
	struct zf_bridge *b = host;
	struct fuse_session *se = __atomic_load_n(&b->se, __ATOMIC_ACQUIRE);
	int err;

	if (!se)
		return 0;	/* not mounted: the kernel caches nothing */
	if (offset > INT64_MAX || length > INT64_MAX - offset)
		length = 0;	/* FUSE: 0 = to the end */
	err = fuse_lowlevel_notify_inval_inode(se, zf_ino(b, ino), offset,
					       length);
	/* an inode the kernel does not know has nothing cached */
	return err == -ENOENT ? 0 : err;
}

/*
 * zus_mount_info.invalidate_name: another client changed a name; FUSE's
 * dentry cache would keep answering the old lookup until its timeout.
 */
static int bridge_invalidate_name(void *host, uint64_t dir, const char *name,
				  size_t len)
{
	struct zf_bridge *b = host;
	struct fuse_session *se = __atomic_load_n(&b->se, __ATOMIC_ACQUIRE);
	int err;

	if (!len || len > ZUFS_NAME_MAX || memchr(name, '/', len) ||
	    memchr(name, 0, len))
		return -EINVAL;
	if (!se)
		return 0;
	err = fuse_lowlevel_notify_inval_entry(se, zf_ino(b, dir), name, len);
	/* a directory or name the kernel does not cache is already forgotten */
	return err == -ENOENT ? 0 : err;
}

static int plugin_mount(struct zf_bridge *b, const char *source,
			const char *plugopts, bool rdonly)
{
	struct zus_mount_info mi;
	struct zus_mount_out *out;
	int err;

	memset(&mi, 0, sizeof(mi));
	mi.pmem = b->pmem;
	mi.pmem_size = b->pmem_size;
	if (b->pmem) {
		mi.ndevs = b->nsrc;
		memcpy(mi.devs, b->devs, sizeof(mi.devs));
	}
	mi.dev_name = source;
	mi.options = plugopts;
	mi.flags = rdonly ? ZUS_MOUNT_RDONLY : 0;
	mi.invalidate = bridge_invalidate;
	mi.invalidate_name = bridge_invalidate_name;
	mi.host = b;
	out = calloc(1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	err = b->ops->mount(&mi, &b->sb, out);
	if (err) {
		fprintf(stderr, "zus-fuse: mount -t %s %s: %s\n",
			b->type->info.name, source,
			out->msg[0] ? out->msg : strerror(-err));
	} else {
		b->root_ino = out->root_ino;
		b->block_size = out->block_size ? out->block_size : 4096;
		b->caps = out->caps;
		b->entry_timeout = out->entry_ttl_ms ?
				   out->entry_ttl_ms / 1000.0 : ZF_TIMEOUT;
		b->attr_timeout = out->attr_ttl_ms ?
				  out->attr_ttl_ms / 1000.0 : ZF_TIMEOUT;
	}
	free(out);
	return err;
}

static struct fuse_session *session_new(struct zf_bridge *b,
					const char *source, bool rdonly)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	char opts[512];

	/* the kernel checks permissions from the modes, as it does for zuf */
	snprintf(opts, sizeof(opts),
		 "default_permissions,allow_other,subtype=%s%s%.200s%s",
		 b->type->info.name,
		 strchr(source, ',') ? "" : ",fsname=",
		 strchr(source, ',') ? "" : source, rdonly ? ",ro" : "");
	if (fuse_opt_add_arg(&args, "zus-fuse") ||
	    fuse_opt_add_arg(&args, "-o") || fuse_opt_add_arg(&args, opts) ||
	    (b->debug && fuse_opt_add_arg(&args, "-d")))
		goto out_free;
	se = fuse_session_new(&args, &zf_ops, sizeof(zf_ops), b);
out_free:
	fuse_opt_free_args(&args);
	return se;
}

static int run_loop(struct fuse_session *se, unsigned int threads)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int err;

	if (!cfg)
		return -ENOMEM;
	/* one /dev/fuse clone per worker: no shared queue lock */
	fuse_loop_cfg_set_clone_fd(cfg, 1);
	fuse_loop_cfg_set_max_threads(cfg, threads);
	fuse_loop_cfg_set_idle_threads(cfg, threads);
	err = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	/* a signal number: SIGINT/SIGTERM asked us to stop, a clean exit */
	return err > 0 ? 0 : err;
}

static int serve_mounted(struct zf_bridge *b, const char *source,
			 const char *mnt, bool rdonly, unsigned int threads,
			 int ready_fd)
{
	struct fuse_session *se;
	int err;

	se = session_new(b, source, rdonly);
	if (!se) {
		fprintf(stderr, "zus-fuse: cannot create the FUSE session\n");
		return -EINVAL;
	}
	err = fuse_set_signal_handlers(se);
	if (err)
		goto out_destroy;
	err = fuse_session_mount(se, mnt);
	if (err) {
		fprintf(stderr, "zus-fuse: cannot mount on %s\n", mnt);
		goto out_signals;
	}
	zf_daemon_ready(ready_fd, !b->debug);
	__atomic_store_n(&b->se, se, __ATOMIC_RELEASE);
	err = run_loop(se, threads);
	__atomic_store_n(&b->se, NULL, __ATOMIC_RELEASE);
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
	return err;
}

int zf_serve(const struct zus_fs_type *type, const char *source,
	     const char *devs, const char *mnt, const char *plugopts, bool rdonly,
	     bool debug, bool writeback, unsigned int threads, int ready_fd)
{
	struct zf_bridge *b;
	char msg[512];
	void *zeros;
	int err;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->type = type;
	b->ops = type->ops;
	b->debug = debug;
	b->writeback = writeback;
	b->pmem_io = (type->info.flags & ZUFS_FST_PMEM) &&
		     !(b->ops->read && b->ops->write);
	zf_nodes_init(b);
	zeros = mmap(NULL, ZF_ZERO_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (zeros == MAP_FAILED) {
		err = -errno;
		goto out_free;
	}
	b->zeros = zeros;
	if (type->info.flags & ZUFS_FST_PMEM) {
		err = zf_image_open(b, source, devs, type->info.name, rdonly,
				    msg, sizeof(msg));
		if (err) {
			fprintf(stderr, "zus-fuse: %s: %s\n", source, msg);
			goto out_zeros;
		}
	}
	err = plugin_mount(b, source, plugopts, rdonly);
	if (err)
		goto out_image;
	err = serve_mounted(b, source, mnt, rdonly, threads, ready_fd);
	/* the kernel dropped every inode: tell the plugin, like umount does */
	zf_nodes_evict_all(b);
	b->ops->umount(b->sb);
out_image:
	zf_image_close(b);
out_zeros:
	munmap(zeros, ZF_ZERO_SIZE);
out_free:
	free(b);
	return err;
}
