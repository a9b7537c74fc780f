// SPDX-License-Identifier: BSD-3-Clause
/*
 * control.c - zuf-root: mounting it, the handshake and registration of
 * every plugin's filesystem types on the control file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "zusd.h"

/* A new anonymous special file in zuf-root (its role comes later) */
int zusd_open_special(struct zusd *zd)
{
	int fd = open(zd->opts.root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

static bool is_zuf_root(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == ZUFS_ROOT_MAGIC;
}

/* Mount zuf-root at the configured place unless it already is there */
static int mount_root(struct zusd *zd)
{
	const char *root = zd->opts.root;

	if (is_zuf_root(root))
		return 0;
	if (mount(ZUFS_ROOT_FSTYPE, root, ZUFS_ROOT_FSTYPE, 0, NULL)) {
		int err = -errno;

		if (err == -ENODEV || err == -ENOENT)
			zusd_err(zd, "%s: not a zuf-root (is zuf.ko loaded?)",
				 root);
		else
			zusd_err(zd, "mount -t zuf %s: %s", root,
				 strerror(-err));
		return err;
	}
	zd->root_mounted = true;
	zusd_dbg(zd, "mounted zuf-root on %s", root);
	return 0;
}

static int handshake(struct zusd *zd)
{
	struct zufs_ioc_handshake hs = {
		.major = zd->opts.abi_major,
		.minor = zd->opts.abi_minor,
		.flags = zd->opts.takeover ? ZUFS_HS_TAKEOVER : 0,
	};
	int err;

	if (ioctl(zd->ctl_fd, ZUFS_IOC_HANDSHAKE, &hs) == 0) {
		if (hs.op_area_size != ZUFS_OP_AREA_SIZE ||
		    hs.data_area_size != ZUFS_DATA_AREA_SIZE || !hs.nr_cpus) {
			zusd_err(zd, "kernel channel layout %u+%u, ours %u+%u",
				 hs.op_area_size, hs.data_area_size,
				 ZUFS_OP_AREA_SIZE, ZUFS_DATA_AREA_SIZE);
			return -EPROTO;
		}
		zd->nr_cpus = hs.nr_cpus;
		if (zd->opts.takeover)
			zusd_info(zd, "took over from the running server (if any)");
		return 0;
	}
	err = -errno;
	if (err == -EPROTO)
		zusd_err(zd, "ABI version mismatch: server %u.%u, kernel %u.%u",
			 zd->opts.abi_major, zd->opts.abi_minor, hs.major,
			 hs.minor);
	else if (err == -EBUSY)
		zusd_err(zd, "%s: another server is already running (--takeover replaces it)",
			 zd->opts.root);
	else
		zusd_err(zd, "handshake: %s", strerror(-err));
	return err;
}

int zusd_control_start(struct zusd *zd)
{
	int err;

	err = mount_root(zd);
	if (err)
		return err;
	if (!is_zuf_root(zd->opts.root)) {
		zusd_err(zd, "%s: not a zuf-root (is zuf.ko loaded?)",
			 zd->opts.root);
		return -ENODEV;
	}
	zd->ctl_fd = zusd_open_special(zd);
	if (zd->ctl_fd < 0) {
		err = zd->ctl_fd;
		zusd_err(zd, "%s: cannot open a control file: %s",
			 zd->opts.root, strerror(-err));
		return err;
	}
	return handshake(zd);
}

static int register_one(struct zusd *zd, size_t i)
{
	const struct zus_fs_type *t = zus_plugins_get(zd->plugins, i);
	struct zufs_ioc_register_fs rf = {
		.info = t->info,
		.zus_fs_handle = i + 1,		/* 0 is never valid */
	};

	if (ioctl(zd->ctl_fd, ZUFS_IOC_REGISTER_FS, &rf)) {
		int err = -errno;

		zusd_err(zd, "registering filesystem %s: %s", t->info.name,
			 err == -EEXIST ? "name already registered" :
			 strerror(-err));
		return err;
	}
	zusd_dbg(zd, "registered %s", t->info.name);
	return 0;
}

int zusd_register_all(struct zusd *zd)
{
	size_t i, n = zus_plugins_count(zd->plugins);
	int err;

	for (i = 0; i < n; i++) {
		err = register_one(zd, i);
		if (err)
			return err;
	}
	return 0;
}

void zusd_break_all(struct zusd *zd)
{
	if (zd->ctl_fd >= 0 && ioctl(zd->ctl_fd, ZUFS_IOC_BREAK_ALL) &&
	    errno != EINVAL)
		zusd_err(zd, "break-all: %s", strerror(errno));
}

void zusd_control_stop(struct zusd *zd)
{
	if (zd->ctl_fd >= 0)
		close(zd->ctl_fd);
	zd->ctl_fd = -1;
	/* zuf-root stays mounted: a restarted server finds it there */
}

/* A mount went read-only on the plugin's side: so must the kernel's */
int zusd_sb_rdonly(struct zusd *zd, uint64_t sb_id)
{
	struct zufs_ioc_sb_rdonly ro = { .sb_id = sb_id };

	if (ioctl(zd->ctl_fd, ZUFS_IOC_SB_RDONLY, &ro))
		return -errno;
	return 0;
}

/* Another client changed a name: the kernel must look it up again */
int zusd_invalidate_name(struct zusd *zd, uint64_t sb_id, uint64_t dir,
			 const char *name, size_t len)
{
	struct zufs_ioc_invalidate_name in = { .sb_id = sb_id, .dir_ino = dir };

	if (!len || len > ZUFS_NAME_MAX)
		return -EINVAL;
	in.name_len = (uint16_t)len;
	memcpy(in.name, name, len);
	if (ioctl(zd->ctl_fd, ZUFS_IOC_INVALIDATE_NAME, &in))
		return -errno;
	return 0;
}
