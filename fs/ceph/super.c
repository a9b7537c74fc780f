// SPDX-License-Identifier: BSD-3-Clause
/*
 * super.c - zceph: mount options, the libcephfs mount, statfs, cache
 * invalidations from the MDS, and the plugin's exported type.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "zceph.h"

#define ZC_MAGIC	0x00c36400	/* CEPH_SUPER_MAGIC, as the kernel client */

static int set_opt(char *dst, size_t size, const char *val, const char *key,
		   char *msg)
{
	if (!*val || strlen(val) >= size) {
		snprintf(msg, ZUFS_MSG_MAX, "option %s: %s", key,
			 *val ? "too long" : "empty");
		return -EINVAL;
	}
	strcpy(dst, val);
	return 0;
}

/*
 * How long the kernel answers from a name or attributes it holds: the
 * MDS tells us of some changes by other clients (zc_ino_cb, zc_dentry_cb)
 * but not of their renames and new names.
 */
#define ZC_TTL_MS_DEFAULT	1000
#define ZC_TTL_MS_MAX		3600000UL

static int set_ttl(struct zus_sb *sb, const char *val, char *msg)
{
	char *end;

	errno = 0;
	sb->ttl_ms = strtoul(val, &end, 10);
	if (!errno && end != val && !*end && sb->ttl_ms <= ZC_TTL_MS_MAX)
		return 0;
	snprintf(msg, ZUFS_MSG_MAX, "bad ttl='%s' (0..%lu ms)", val,
		 ZC_TTL_MS_MAX);
	return -EINVAL;
}

static int parse_options(struct zus_sb *sb, const char *opts, char *msg)
{
	char buf[ZUFS_OPTIONS_MAX], *tok, *save = NULL;
	int err = 0;

	snprintf(sb->conf, sizeof(sb->conf), "/etc/ceph/ceph.conf");
	snprintf(sb->name, sizeof(sb->name), "admin");
	snprintf(sb->root_path, sizeof(sb->root_path), "/");
	sb->ttl_ms = ZC_TTL_MS_DEFAULT;
	if (strlen(opts) >= sizeof(buf)) {
		snprintf(msg, ZUFS_MSG_MAX, "options too long");
		return -EINVAL;
	}
	strcpy(buf, opts);
	for (tok = strtok_r(buf, ",", &save); tok && !err;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "conf=", 5))
			err = set_opt(sb->conf, sizeof(sb->conf), tok + 5, "conf", msg);
		else if (!strncmp(tok, "name=", 5))
			err = set_opt(sb->name, sizeof(sb->name), tok + 5, "name", msg);
		else if (!strncmp(tok, "fs=", 3))
			err = set_opt(sb->fs, sizeof(sb->fs), tok + 3, "fs", msg);
		else if (!strncmp(tok, "uuid=", 5))
			err = set_opt(sb->uuid, sizeof(sb->uuid), tok + 5, "uuid", msg);
		else if (!strncmp(tok, "root=", 5))
			err = set_opt(sb->root_path, sizeof(sb->root_path),
				      tok + 5, "root", msg);
		else if (!strncmp(tok, "ttl=", 4))
			err = set_ttl(sb, tok + 4, msg);
		else {
			snprintf(msg, ZUFS_MSG_MAX, "unknown option '%s'", tok);
			err = -EINVAL;
		}
	}
	return err;
}

/*
 * The MDS revoked this client's cache of an inode's data (another client
 * writes it): the transport drops its pages and attributes too.  libcephfs
 * calls this from its own invalidator thread, never inside an operation.
 */
static void zc_ino_cb(void *handle, vinodeno_t vino, int64_t off, int64_t len)
{
	struct zus_sb *sb = handle;

	if (off < 0 || len < 0)
		return;
	pthread_rwlock_rdlock(&sb->cb_lock);
	if (!sb->closing)
		sb->invalidate(sb->host, vino.ino.val, (uint64_t)off,
			       (uint64_t)len);
	pthread_rwlock_unlock(&sb->cb_lock);
}

/*
 * The MDS took back this client's lease on a name (another client removed,
 * renamed or created it): the transport forgets its cached lookup of it.
 * Called from libcephfs's dentry invalidator thread.
 */
static void zc_dentry_cb(void *handle, vinodeno_t dir, vinodeno_t ino,
			 const char *name, size_t len)
{
	struct zus_sb *sb = handle;

	(void)ino;
	pthread_rwlock_rdlock(&sb->cb_lock);
	if (!sb->closing)
		sb->invalidate_name(sb->host, dir.ino.val, name, len);
	pthread_rwlock_unlock(&sb->cb_lock);
}

/*
 * The client's uuid names this mount's CephFS session across server
 * restarts: given, or made here and kept in the canonical options, which
 * the kernel gives back to the MOUNT of a re-attach.
 */
static int zc_uuid(struct zus_sb *sb)
{
	FILE *f;
	int ok;

	if (sb->uuid[0])
		return 0;
	f = fopen("/proc/sys/kernel/random/uuid", "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%36s", sb->uuid) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

/*
 * A re-attach: the dead server's session (same uuid) still holds caps the
 * MDS would wait for until the session times out (a minute); end it at
 * once.  Failing that, ops on what it held wait for the timeout.
 */
static void zc_reclaim(struct zus_sb *sb)
{
	int err = ceph_start_reclaim(sb->cm, sb->uuid, CEPH_RECLAIM_RESET);

	if (!err)
		ceph_finish_reclaim(sb->cm);
	else if (err != -ENOENT)	/* ENOENT: the session ended already */
		zus_log(ZUS_LOG_WARNING, "uuid %s: reclaiming the session of the server before: %s",
			sb->uuid, strerror(-err));
}

static int zc_connect(struct zus_sb *sb, bool reattach, char *msg)
{
	char where[sizeof(sb->fs) + sizeof(sb->root_path) + 16];
	const char *step;
	int err;

	err = ceph_create(&sb->cm, sb->name);
	if (err) {
		step = "ceph_create";
		goto out_msg;
	}
	step = sb->conf;
	err = ceph_conf_read_file(sb->cm, sb->conf);
	/* the kernel checked the caller already; its answer is the one */
	if (!err)
		err = ceph_conf_set(sb->cm, "client_permissions", "false");
	if (!err)
		err = ceph_conf_set(sb->cm, "admin_socket", "");
	if (err)
		goto out_release;
	step = "ceph_init";
	err = ceph_init(sb->cm);
	if (!err && reattach)
		zc_reclaim(sb);
	if (!err)
		ceph_set_uuid(sb->cm, sb->uuid);
	if (!err && sb->fs[0]) {
		step = sb->fs;
		err = ceph_select_filesystem(sb->cm, sb->fs);
	}
	if (err)
		goto out_release;
	snprintf(where, sizeof(where), "mount %s%s%s", sb->fs[0] ? "fs " : "",
		 sb->fs, sb->fs[0] ? " at " : "");
	snprintf(where + strlen(where), sizeof(where) - strlen(where), "%s",
		 sb->root_path);
	step = where;
	err = ceph_mount(sb->cm, sb->root_path);
	if (err)
		goto out_release;
	return 0;

out_release:
	ceph_release(sb->cm);
out_msg:
	snprintf(msg, ZUFS_MSG_MAX, "ceph (conf %.100s, client.%.40s): %s: %s",
		 sb->conf, sb->name, step, strerror(-err));
	return err;
}

static int zc_mount(const struct zus_mount_info *mi, struct zus_sb **sbp,
		    struct zus_mount_out *out)
{
	struct ceph_client_callback_args cb = { 0 };
	struct ceph_statx stx;
	struct Inode *root;
	struct zc_node *n;
	struct zus_sb *sb;
	int err;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	pthread_mutex_init(&sb->lock, NULL);
	pthread_mutex_init(&sb->rename_lock, NULL);
	pthread_rwlock_init(&sb->cb_lock, NULL);
	err = parse_options(sb, mi->options ? mi->options : "", out->msg);
	if (err)
		goto out_free;
	err = zc_uuid(sb);
	if (!err)
		err = zc_connect(sb, mi->flags & ZUS_MOUNT_REATTACH, out->msg);
	if (err)
		goto out_free;
	sb->perms = ceph_mount_perms(sb->cm);
	err = ceph_ll_lookup_root(sb->cm, &root);
	if (!err)
		err = ceph_ll_getattr(sb->cm, root, &stx, CEPH_STATX_INO, 0,
				      sb->perms);
	if (err) {
		snprintf(out->msg, ZUFS_MSG_MAX, "root %.200s: %s",
			 sb->root_path, strerror(-err));
		goto out_unmount;
	}
	sb->root_ino = stx.stx_ino;
	n = zc_node_install(sb, root, sb->root_ino);
	if (!n) {
		err = -ENOMEM;
		goto out_unmount;
	}
	zc_node_put(sb, n);	/* the table keeps it until umount */
	if (mi->invalidate) {
		sb->invalidate = mi->invalidate;
		cb.ino_cb = zc_ino_cb;
	}
	if (mi->invalidate_name) {
		sb->invalidate_name = mi->invalidate_name;
		cb.dentry_cb = zc_dentry_cb;
	}
	if (cb.ino_cb || cb.dentry_cb) {
		sb->host = mi->host;
		cb.handle = sb;
		ceph_ll_register_callbacks(sb->cm, &cb);
	}
	/*
	 * CephFS reserves no space ahead (objects are written sparse), so
	 * of fallocate it has only the hole punch, like its kernel client.
	 */
	out->caps = ZUFS_CAP_PUNCH_HOLE;
	out->root_ino = sb->root_ino;
	out->block_size = 4096;
	out->max_bytes = INT64_MAX;
	out->max_ino = UINT64_MAX;
	/* 0 would mean "until told", and we are not told of everything */
	out->entry_ttl_ms = out->attr_ttl_ms = sb->ttl_ms ? sb->ttl_ms : 1;
	snprintf(out->options, sizeof(out->options),
		 "conf=%s,name=%s%s%s,root=%s,uuid=%s,ttl=%lu", sb->conf,
		 sb->name, sb->fs[0] ? ",fs=" : "", sb->fs, sb->root_path,
		 sb->uuid, sb->ttl_ms);
	*sbp = sb;
	return 0;

out_unmount:
	zc_node_table_destroy(sb);
	ceph_unmount(sb->cm);
	ceph_release(sb->cm);
out_free:
	free(sb);
	return err;
}

static void zc_umount(struct zus_sb *sb)
{
	/* the transport's service is gone once umount is called */
	pthread_rwlock_wrlock(&sb->cb_lock);
	sb->closing = true;
	pthread_rwlock_unlock(&sb->cb_lock);
	ceph_sync_fs(sb->cm);
	zc_node_table_destroy(sb);
	ceph_unmount(sb->cm);
	ceph_release(sb->cm);
	free(sb);
}

/*
 * CephFS counts space in its objects' 4 MiB (f_frsize) and answers -1
 * free inodes (no limit), beside the number in use; zuf.ko takes block
 * sizes up to 1 MiB and free counts no larger than the totals (an
 * answer outside is EIO).  So smaller blocks, more of them, and as many
 * inodes as 64 bits count, all free but those in use.
 */
#define ZC_STATFS_BSIZE_MAX	(1U << 20)

static void fill_statfs(const struct statvfs *s, struct zufs_statfs *st)
{
	uint64_t bsize = s->f_frsize ? s->f_frsize : s->f_bsize;
	unsigned int shift = 0;

	while (bsize > ZC_STATFS_BSIZE_MAX) {
		bsize >>= 1;
		shift++;
	}
	st->bsize = bsize;
	st->blocks = (uint64_t)s->f_blocks << shift;
	st->bfree = (uint64_t)s->f_bfree << shift;
	st->bavail = (uint64_t)s->f_bavail << shift;
	st->ffree = s->f_ffree;
	if (st->ffree > UINT64_MAX - s->f_files)
		st->ffree = UINT64_MAX - s->f_files;
	st->files = s->f_files + st->ffree;
	st->fsid = s->f_fsid;
	st->namelen = s->f_namemax;
}

static int zc_statfs(struct zus_sb *sb, struct zufs_statfs *st)
{
	struct statvfs s;
	struct zc_node *n;
	int err;

	err = zc_node_get(sb, sb->root_ino, &n);
	if (err)
		return err;
	err = ceph_ll_statfs(sb->cm, n->in, &s);
	zc_node_put(sb, n);
	if (err)
		return err;
	fill_statfs(&s, st);
	return 0;
}

static int zc_sync_fs(struct zus_sb *sb, bool wait)
{
	(void)wait;
	return ceph_sync_fs(sb->cm);
}

static const struct zus_fs_ops zc_ops = {
	.mount		= zc_mount,
	.umount		= zc_umount,
	.statfs		= zc_statfs,
	.sync_fs	= zc_sync_fs,
	.lookup		= zc_lookup,
	.getattr	= zc_getattr,
	.setattr	= zc_setattr,
	.create		= zc_create,
	.link		= zc_link,
	.unlink		= zc_unlink,
	.rename		= zc_rename,
	.readdir	= zc_readdir,
	.readlink	= zc_readlink,
	.evict		= zc_evict,
	.read		= zc_read,
	.write		= zc_write,
	.fsync		= zc_fsync,
	.fallocate	= zc_fallocate,
	.seek		= zc_seek,
	.getxattr	= zc_getxattr,
	.setxattr	= zc_setxattr,
	.listxattr	= zc_listxattr,
};

static const struct zus_fs_type zc_type = {
	.api_version	= ZUS_API_VERSION,
	.info = {
		.name	= "zceph",
		.magic	= ZC_MAGIC,
		.version = 1,
		.flags	= ZUFS_FST_NODEV | ZUFS_FST_XATTR | ZUFS_FST_REATTACH,
	},
	.ops	= &zc_ops,
	.usage	= "  -o conf=FILE      ceph.conf (default /etc/ceph/ceph.conf)\n"
		  "  -o name=ID        cephx client id (default admin: client.admin)\n"
		  "  -o fs=NAME        the CephFS to mount (default: the default one)\n"
		  "  -o root=PATH      mount this directory of it (default /)\n"
		  "  -o uuid=UUID      the client's session uuid (default: a new\n"
		  "                    one, kept across zusd restarts)\n"
		  "  -o ttl=MS         trust names and attributes this long before\n"
		  "                    asking the MDS again: other clients' renames\n"
		  "                    and new names show within it (0..3600000,\n"
		  "                    default 1000)\n",
};

const struct zus_fs_type *const zus_plugin_types[] = { &zc_type, NULL };
