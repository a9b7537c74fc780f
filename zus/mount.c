// SPDX-License-Identifier: BSD-3-Clause
/*
 * mount.c - the mount thread: MOUNT / UMOUNT / REMOUNT requests from the
 * kernel, one at a time.  For a pmem type it grabs the mount's t1 range
 * (GRAB_PMEM on a fresh pmem file, then mmap) before the plugin's mount.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "zusd.h"

struct zusd_sb *zusd_sb_of(uint64_t handle)
{
	struct zusd_sb *sb = (struct zusd_sb *)(uintptr_t)handle;

	/* the kernel only echoes handles we gave it; the magic catches bugs */
	if (!sb || sb->magic != ZUSD_SB_MAGIC)
		return NULL;
	return sb;
}

static const struct zus_fs_type *type_of(struct zusd *zd, uint64_t handle)
{
	if (!handle || handle > zus_plugins_count(zd->plugins))
		return NULL;
	return zus_plugins_get(zd->plugins, handle - 1);
}

static int grab_pmem(struct zusd *zd, struct zusd_sb *sb)
{
	struct zufs_ioc_pmem ip = { .sb_id = sb->sb_id };
	int err;

	sb->pmem_fd = zusd_open_special(zd);
	if (sb->pmem_fd < 0)
		return sb->pmem_fd;
	if (ioctl(sb->pmem_fd, ZUFS_IOC_GRAB_PMEM, &ip)) {
		err = -errno;
		zusd_err(zd, "grab pmem of mount %llu: %s",
			 (unsigned long long)sb->sb_id, strerror(-err));
		return err;
	}
	if (!ip.size || ip.ndevs == 0 || ip.ndevs > ZUFS_MAX_DEVS)
		return -EPROTO;
	sb->pmem = mmap(NULL, ip.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			sb->pmem_fd, 0);
	if (sb->pmem == MAP_FAILED) {
		err = -errno;
		sb->pmem = NULL;
		zusd_err(zd, "mmap pmem (%llu bytes): %s",
			 (unsigned long long)ip.size, strerror(-err));
		return err;
	}
	sb->pmem_size = ip.size;
	sb->ndevs = ip.ndevs;
	memcpy(sb->devs, ip.devs, sizeof(sb->devs));
	return ip.ndevs;
}

/* zus_mount_info.invalidate for the plugins */
static int host_invalidate(void *host, uint64_t ino, uint64_t offset,
			   uint64_t length)
{
	struct zusd_sb *sb = host;

	return zusd_invalidate(sb->zd, sb->sb_id, ino, offset, length);
}

/* zus_mount_info.invalidate_name for the plugins */
static int host_invalidate_name(void *host, uint64_t dir, const char *name,
				size_t len)
{
	struct zusd_sb *sb = host;

	return zusd_invalidate_name(sb->zd, sb->sb_id, dir, name, len);
}

/* zus_mount_info.rdonly for the plugins */
static int host_rdonly(void *host)
{
	struct zusd_sb *sb = host;
	int err = zusd_sb_rdonly(sb->zd, sb->sb_id);

	if (err)
		zusd_err(sb->zd, "mount %llu: telling the kernel it is read-only: %s",
			 (unsigned long long)sb->sb_id, strerror(-err));
	return err;
}

static void release_sb(struct zusd_sb *sb)
{
	if (sb->pmem)
		munmap(sb->pmem, sb->pmem_size);
	if (sb->pmem_fd >= 0)
		close(sb->pmem_fd);
	sb->magic = 0;
	free(sb);
}

static void answer_root(struct zusd_sb *sb, struct zus_mount_out *out,
			struct zufs_ioc_mount *im)
{
	struct zus_ctx ctx = { .cpu = -1, .numa_node = -1 };

	clock_gettime(CLOCK_REALTIME, &ctx.now);
	im->block_size = out->block_size;
	im->max_bytes = out->max_bytes;
	im->max_ino = out->max_ino;
	im->caps = out->caps;
	im->entry_ttl_ms = out->entry_ttl_ms;
	im->attr_ttl_ms = out->attr_ttl_ms;
	memcpy(im->options, out->options, sizeof(im->options));
	im->options[sizeof(im->options) - 1] = 0;
	sb->root_ino = out->root_ino;
	im->err = sb->type->ops->getattr(sb->psb, &ctx, out->root_ino,
					 &im->root);
}

static int do_mount(struct zusd *zd, struct zufs_ioc_mount *im,
		    struct zus_mount_out *out)
{
	const struct zus_fs_type *t = type_of(zd, im->zus_fs_handle);
	struct zus_mount_info mi = { 0 };
	struct zusd_sb *sb;
	int err;

	if (!t)
		return -EINVAL;
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->type = t;
	sb->pmem_fd = -1;
	sb->sb_id = im->sb_id;
	sb->zd = zd;
	if (t->info.flags & ZUFS_FST_PMEM) {
		err = grab_pmem(zd, sb);
		if (err < 0)
			goto out_release;
		mi.ndevs = sb->ndevs;
		memcpy(mi.devs, sb->devs, sizeof(mi.devs));
	}
	im->dev_name[sizeof(im->dev_name) - 1] = 0;
	im->options[sizeof(im->options) - 1] = 0;
	mi.pmem = sb->pmem;
	mi.pmem_size = sb->pmem_size;
	mi.dev_name = im->dev_name;
	mi.invalidate = host_invalidate;
	mi.rdonly = host_rdonly;
	mi.invalidate_name = host_invalidate_name;
	mi.host = sb;
	mi.options = im->options;
	mi.flags = (im->mount_flags & ZUFS_MF_RDONLY ? ZUS_MOUNT_RDONLY : 0) |
		   (im->mount_flags & ZUFS_MF_SILENT ? ZUS_MOUNT_SILENT : 0) |
		   (im->mount_flags & ZUFS_MF_REATTACH ? ZUS_MOUNT_REATTACH : 0);
	err = t->ops->mount(&mi, &sb->psb, out);
	if (err)
		goto out_release;
	sb->magic = ZUSD_SB_MAGIC;
	im->zus_sb_handle = (uintptr_t)sb;
	answer_root(sb, out, im);
	if (im->err) {
		t->ops->umount(sb->psb);
		err = im->err;
		goto out_release;
	}
	sb->next = zd->sbs;
	zd->sbs = sb;
	zd->nr_mounts++;
	zusd_info(zd, "%s %s on %s (%s), %u live",
		  im->mount_flags & ZUFS_MF_REATTACH ? "re-attached" : "mounted",
		  t->info.name, im->dev_name,
		  im->options[0] ? im->options : "no options", zd->nr_mounts);
	return 0;

out_release:
	release_sb(sb);
	return err;
}

static int do_umount(struct zusd *zd, struct zufs_ioc_mount *im)
{
	struct zusd_sb *sb = zusd_sb_of(im->zus_sb_handle);

	struct zusd_sb **pp;

	if (!sb)
		return -EINVAL;
	for (pp = &zd->sbs; *pp; pp = &(*pp)->next) {
		if (*pp == sb) {
			*pp = sb->next;
			break;
		}
	}
	sb->type->ops->umount(sb->psb);
	zd->nr_mounts--;
	zusd_info(zd, "unmounted %s, %u live", sb->type->info.name,
		  zd->nr_mounts);
	release_sb(sb);
	return 0;
}

/*
 * The kernel fails every operation of these mounts from now on; let the
 * plugin make them durable and mark them clean before we exit.
 */
void zusd_mount_cleanup(struct zusd *zd)
{
	/* a mount the kernel forgot to unmount shows here */
	zusd_info(zd, "%u mounts live at exit", zd->nr_mounts);
	while (zd->sbs) {
		struct zusd_sb *sb = zd->sbs;

		zd->sbs = sb->next;
		zusd_info(zd, "stopping with %s still mounted: flushing it",
			  sb->type->info.name);
		sb->type->ops->umount(sb->psb);
		release_sb(sb);
		zd->nr_mounts--;
	}
}

static int do_remount(struct zusd *zd, struct zufs_ioc_mount *im,
		      struct zus_mount_out *out)
{
	struct zusd_sb *sb = zusd_sb_of(im->zus_sb_handle);
	uint32_t flags;
	int err;

	if (!sb)
		return -EINVAL;
	im->options[sizeof(im->options) - 1] = 0;
	flags = im->mount_flags & ZUFS_MF_RDONLY ? ZUS_MOUNT_RDONLY : 0;
	if (!sb->type->ops->remount) {
		/* no options to change: only ro/rw, which the VFS does */
		if (im->options[0]) {
			snprintf(out->msg, sizeof(out->msg),
				 "remount with options not supported");
			return -EINVAL;
		}
		return 0;
	}
	err = sb->type->ops->remount(sb->psb, im->options, flags, out);
	if (err)
		return err;
	zusd_dbg(zd, "remounted %s %s", sb->type->info.name,
		 flags ? "ro" : "rw");
	memcpy(im->options, out->options, sizeof(im->options));
	im->options[sizeof(im->options) - 1] = 0;
	return 0;
}

/* testing: hold the request so that its poster can be killed meanwhile */
static void mount_delay(struct zusd *zd, bool before)
{
	if (zd->opts.mount_delay_us && zd->opts.mount_delay_before == before)
		usleep(zd->opts.mount_delay_us);
}

/*
 * Fuzzing: mutate the answer.  A mount that succeeded here but is now
 * reported failed is undone, as the kernel will never send its UMOUNT:
 * the lie stays in the answer, not in a plugin mount left behind (whose
 * pmem the kernel takes back under the plugin's feet).
 */
static void fuzz_answer(struct zusd *zd, struct zufs_ioc_mount *im)
{
	uint32_t op = im->op;
	uint64_t handle = im->zus_sb_handle;
	int err = im->err;

	zusd_fuzz_mount(zd, im);
	if (op == ZUFS_M_MOUNT && !err && im->err) {
		struct zufs_ioc_mount undo = { .zus_sb_handle = handle };

		do_umount(zd, &undo);
	}
}

static void handle(struct zusd *zd, struct zufs_ioc_mount *im)
{
	struct zus_mount_out *out = calloc(1, sizeof(*out));
	int err;

	if (!out) {
		im->err = -ENOMEM;
		return;
	}
	mount_delay(zd, true);
	switch (im->op) {
	case ZUFS_M_MOUNT:
		err = do_mount(zd, im, out);
		break;
	case ZUFS_M_UMOUNT:
		err = do_umount(zd, im);
		break;
	case ZUFS_M_REMOUNT:
		err = do_remount(zd, im, out);
		break;
	default:
		err = -EINVAL;
		break;
	}
	im->err = err;
	im->msg[0] = 0;
	if (err) {
		out->msg[sizeof(out->msg) - 1] = 0;
		memcpy(im->msg, out->msg, sizeof(im->msg));
		zusd_dbg(zd, "mount op %u: %d %s", im->op, err, im->msg);
	}
	free(out);
	mount_delay(zd, false);
	if (zd->fuzz)
		fuzz_answer(zd, im);
}

static void *mount_main(void *arg)
{
	struct zusd *zd = arg;
	struct zufs_ioc_mount *im = calloc(1, sizeof(*im));

	pthread_setname_np(pthread_self(), "zusd-mount");
	zusd_set_io_flusher(zd, "mount thread");
	if (!im) {
		zusd_err(zd, "mount thread: out of memory");
		return NULL;
	}
	im->op = ZUFS_M_NONE;
	for (;;) {
		if (ioctl(zd->mount_fd, ZUFS_IOC_MOUNT, im)) {
			if (errno == EINTR) {
				im->op = ZUFS_M_NONE;
				continue;
			}
			zusd_err(zd, "mount thread: %s", strerror(errno));
			break;
		}
		if (im->op == ZUFS_M_BREAK)
			break;
		handle(zd, im);
	}
	free(im);
	return NULL;
}

int zusd_mount_start(struct zusd *zd)
{
	int err;

	zd->mount_fd = zusd_open_special(zd);
	if (zd->mount_fd < 0)
		return zd->mount_fd;
	err = -pthread_create(&zd->mount_thread, NULL, mount_main, zd);
	if (err) {
		zusd_err(zd, "mount thread: %s", strerror(-err));
		return err;
	}
	zd->mount_started = true;
	return 0;
}

void zusd_mount_join(struct zusd *zd)
{
	if (zd->mount_started)
		pthread_join(zd->mount_thread, NULL);
	zd->mount_started = false;
	if (zd->mount_fd >= 0)
		close(zd->mount_fd);
	zd->mount_fd = -1;
}
