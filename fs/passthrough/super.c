// SPDX-License-Identifier: BSD-3-Clause
/*
 * super.c - zpassthrough: mount options, mount/umount, statfs, and the
 * plugin's exported type.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/statfs.h>

#include "passthrough.h"

#define PT_MAGIC	0x7a707431	/* "zpt1" */

/* how long the kernel trusts names and attributes: others change the tree */
#define PT_TTL_MS_DEFAULT	1000
#define PT_TTL_MS_MAX		3600000

static int parse_ttl(const char *val, uint32_t *ttl_ms, char *msg)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || end == val || *end || v > PT_TTL_MS_MAX) {
		snprintf(msg, ZUFS_MSG_MAX, "bad ttl='%s' (0..%u ms)", val,
			 PT_TTL_MS_MAX);
		return -EINVAL;
	}
	*ttl_ms = v;
	return 0;
}

static int parse_options(const char *opts, char *backing, size_t blen,
			 uint32_t *ttl_ms, char *msg)
{
	char buf[ZUFS_OPTIONS_MAX], *tok, *save = NULL;

	backing[0] = '\0';
	*ttl_ms = PT_TTL_MS_DEFAULT;
	if (strlen(opts) >= sizeof(buf)) {
		snprintf(msg, ZUFS_MSG_MAX, "options too long");
		return -EINVAL;
	}
	strcpy(buf, opts);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "backing=", 8) && tok[8]) {
			snprintf(backing, blen, "%s", tok + 8);
			continue;
		}
		if (!strncmp(tok, "ttl=", 4)) {
			if (parse_ttl(tok + 4, ttl_ms, msg))
				return -EINVAL;
			continue;
		}
		snprintf(msg, ZUFS_MSG_MAX, "unknown option '%s'", tok);
		return -EINVAL;
	}
	if (!backing[0]) {
		snprintf(msg, ZUFS_MSG_MAX, "missing option backing=DIR");
		return -EINVAL;
	}
	return 0;
}

/*
 * Every inode the transport keeps holds an fd: let the table grow as far
 * as the system allows (root may raise the hard limit up to nr_open).
 */
static void raise_nofile(void)
{
	unsigned long nr_open = 0;
	struct rlimit rl;
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	f = fopen("/proc/sys/fs/nr_open", "r");
	if (f) {
		if (fscanf(f, "%lu", &nr_open) != 1)
			nr_open = 0;
		fclose(f);
	}
	if (nr_open > rl.rlim_max) {
		struct rlimit want = { nr_open, nr_open };

		if (!setrlimit(RLIMIT_NOFILE, &want))
			return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int open_backing(struct zus_sb *sb, char *msg)
{
	struct stat st;
	int err;

	sb->root_fd = open(sb->backing, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sb->root_fd < 0)
		goto out_msg;
	sb->sync_fd = open(sb->backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sb->sync_fd < 0)
		goto out_close_root;
	if (fstat(sb->root_fd, &st))
		goto out_close_sync;
	sb->root_dev = st.st_dev;
	sb->root_ino = st.st_ino;
	return 0;

out_close_sync:
	err = errno;
	close(sb->sync_fd);
	errno = err;
out_close_root:
	err = errno;
	close(sb->root_fd);
	errno = err;
out_msg:
	err = -errno;
	snprintf(msg, ZUFS_MSG_MAX, "backing %.200s: %s", sb->backing,
		 strerror(errno));
	return err;
}

static int pt_mount(const struct zus_mount_info *mi, struct zus_sb **sbp,
		    struct zus_mount_out *out)
{
	struct zus_sb *sb;
	uint32_t ttl_ms;
	int fd, err;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	err = parse_options(mi->options ? mi->options : "", sb->backing,
			    sizeof(sb->backing), &ttl_ms, out->msg);
	if (err)
		goto out_free;
	err = open_backing(sb, out->msg);
	if (err)
		goto out_free;
	err = pt_node_table_init(sb);
	if (err)
		goto out_close;
	fd = fcntl(sb->root_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out_table;
	}
	err = pt_node_install(sb, fd, sb->root_dev, sb->root_ino, S_IFDIR,
			      &sb->root);
	if (err)
		goto out_table;
	raise_nofile();
	sb->reattached = mi->flags & ZUS_MOUNT_REATTACH;
	out->caps = pt_probe_caps(sb->sync_fd);
	out->root_ino = sb->root->ino;
	out->block_size = 4096;
	out->max_bytes = INT64_MAX;
	out->max_ino = UINT64_MAX;
	/* a TTL of 0 would mean "until told": the kernel is never told */
	out->entry_ttl_ms = out->attr_ttl_ms = ttl_ms ? ttl_ms : 1;
	snprintf(out->options, sizeof(out->options), "backing=%s",
		 sb->backing);
	if (ttl_ms != PT_TTL_MS_DEFAULT)
		snprintf(out->options + strlen(out->options),
			 sizeof(out->options) - strlen(out->options),
			 ",ttl=%u", ttl_ms);
	*sbp = sb;
	return 0;

out_table:
	pt_node_table_destroy(sb);
out_close:
	close(sb->sync_fd);
	close(sb->root_fd);
out_free:
	free(sb);
	return err;
}

static void pt_umount(struct zus_sb *sb)
{
	syncfs(sb->sync_fd);
	pt_node_put(sb, sb->root);	/* the mount's; the table's stays */
	pt_node_table_destroy(sb);
	close(sb->sync_fd);
	close(sb->root_fd);
	free(sb);
}

static int pt_statfs(struct zus_sb *sb, struct zufs_statfs *st)
{
	struct statfs s;

	if (fstatfs(sb->root_fd, &s))
		return -errno;
	st->blocks = s.f_blocks;
	st->bfree = s.f_bfree;
	st->bavail = s.f_bavail;
	st->files = s.f_files;
	st->ffree = s.f_ffree;
	memcpy(&st->fsid, &s.f_fsid, sizeof(st->fsid));
	st->bsize = s.f_frsize ? s.f_frsize : s.f_bsize;
	st->namelen = s.f_namelen;
	return 0;
}

static int pt_sync_fs(struct zus_sb *sb, bool wait)
{
	(void)wait;
	return syncfs(sb->sync_fd) ? -errno : 0;
}

static const struct zus_fs_ops pt_ops = {
	.mount		= pt_mount,
	.umount		= pt_umount,
	.statfs		= pt_statfs,
	.sync_fs	= pt_sync_fs,
	.lookup		= pt_lookup,
	.getattr	= pt_getattr,
	.setattr	= pt_setattr,
	.create		= pt_create,
	.link		= pt_link,
	.unlink		= pt_unlink,
	.rename		= pt_rename,
	.readdir	= pt_readdir,
	.readlink	= pt_readlink,
	.evict		= pt_evict,
	.read		= pt_read,
	.write		= pt_write,
	.fsync		= pt_fsync,
	.fallocate	= pt_fallocate,
	.seek		= pt_seek,
	.clone		= pt_clone,
	.getxattr	= pt_getxattr,
	.setxattr	= pt_setxattr,
	.listxattr	= pt_listxattr,
};

static const struct zus_fs_type pt_type = {
	.api_version	= ZUS_API_VERSION,
	.info = {
		.name	= "zpassthrough",
		.magic	= PT_MAGIC,
		.version = 1,
		.flags	= ZUFS_FST_NODEV | ZUFS_FST_XATTR | ZUFS_FST_REATTACH,
	},
	.ops	= &pt_ops,
	.usage	= "  -o backing=DIR    the host directory to mirror (required)\n"
		  "  -o ttl=MS         trust names and attributes this long, then ask\n"
		  "                    the backing tree again (0..3600000, default 1000;\n"
		  "                    0: as short as the kernel allows)\n",
};

const struct zus_fs_type *const zus_plugin_types[] = { &pt_type, NULL };
