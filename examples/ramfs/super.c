// SPDX-License-Identifier: BSD-3-Clause
/*
 * super.c - zramfs mount options, mount/umount/statfs, and the one symbol
 * every plugin exports: zus_plugin_types[].
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ramfs.h"

#define RF_MAGIC	0x7a72616d	/* "zram": statfs f_type */
#define RF_DEFAULT_SIZE	(64ULL << 20)

/* size=BYTES[k|m|g]: how much memory the mount may use */
static int parse_size(const char *arg, uint64_t *bytes)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || !v || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*bytes = v << shift;
	return 0;
}

static int parse_options(const char *opts, uint64_t *size, char *msg)
{
	char buf[ZUFS_OPTIONS_MAX], *tok, *save = NULL;

	*size = RF_DEFAULT_SIZE;
	if (strlen(opts) >= sizeof(buf)) {
		snprintf(msg, ZUFS_MSG_MAX, "options too long");
		return -EINVAL;
	}
	strcpy(buf, opts);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "size=", 5) && !parse_size(tok + 5, size))
			continue;
		snprintf(msg, ZUFS_MSG_MAX, "unknown option '%s'", tok);
		return -EINVAL;
	}
	return 0;
}

static void fill_out(const struct zus_sb *sb, struct zus_mount_out *out)
{
	out->root_ino = RF_ROOT_INO;
	out->block_size = RF_BLOCK;
	out->max_bytes = RF_MAX_FILE;
	out->max_ino = RF_MAX_INO;
	snprintf(out->options, sizeof(out->options), "size=%llu",
		 (unsigned long long)sb->max_bytes);
}

static int rf_mount(const struct zus_mount_info *mi, struct zus_sb **sbp,
		    struct zus_mount_out *out)
{
	struct zus_ctx ctx = { .cpu = -1, .numa_node = -1 };
	struct rf_inode *root;
	struct zus_sb *sb;
	int err;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	err = parse_options(mi->options, &sb->max_bytes, out->msg);
	if (err)
		goto out_free;
	pthread_mutex_init(&sb->lock, NULL);
	sb->next_ino = RF_ROOT_INO;
	clock_gettime(CLOCK_REALTIME, &ctx.now);
	/* root's 0755, like a fresh mkfs; chmod/chown it after mounting */
	err = rf_new(sb, &ctx, S_IFDIR | 0755, 0, 0, 0, &root);
	if (err)
		goto out_free;
	root->parent = RF_ROOT_INO;
	fill_out(sb, out);
	*sbp = sb;
	return 0;

out_free:
	free(sb->inodes);
	free(sb);
	return err;
}

static void rf_umount(struct zus_sb *sb)
{
	uint64_t i;

	for (i = 0; i < sb->ninodes; i++)
		if (sb->inodes[i])
			rf_free(sb, sb->inodes[i]);
	free(sb->inodes);
	pthread_mutex_destroy(&sb->lock);
	free(sb);
}

static int rf_remount(struct zus_sb *sb, const char *options, uint32_t flags,
		      struct zus_mount_out *out)
{
	uint64_t size;
	int err;

	(void)flags;
	err = parse_options(options, &size, out->msg);
	pthread_mutex_lock(&sb->lock);
	if (!err && size < sb->used_bytes) {
		snprintf(out->msg, ZUFS_MSG_MAX, "size=%llu: %llu bytes in use",
			 (unsigned long long)size,
			 (unsigned long long)sb->used_bytes);
		err = -EBUSY;
	}
	if (!err)
		sb->max_bytes = size;
	fill_out(sb, out);
	pthread_mutex_unlock(&sb->lock);
	return err;
}

static int rf_statfs(struct zus_sb *sb, struct zufs_statfs *st)
{
	pthread_mutex_lock(&sb->lock);
	st->bsize = RF_BLOCK;
	st->blocks = sb->max_bytes / RF_BLOCK;
	st->bfree = st->bavail = (sb->max_bytes - sb->used_bytes) / RF_BLOCK;
	st->files = RF_MAX_INO;
	st->ffree = RF_MAX_INO - sb->next_ino;
	st->namelen = ZUFS_NAME_MAX;
	st->fsid = RF_MAGIC;
	pthread_mutex_unlock(&sb->lock);
	return 0;
}

static const struct zus_fs_ops rf_ops = {
	.mount		= rf_mount,
	.umount		= rf_umount,
	.remount	= rf_remount,
	.statfs		= rf_statfs,
	.lookup		= rf_lookup,
	.getattr	= rf_getattr,
	.setattr	= rf_setattr,
	.create		= rf_create,
	.link		= rf_link,
	.unlink		= rf_unlink,
	.rename		= rf_rename,
	.readdir	= rf_readdir,
	.readlink	= rf_readlink,
	.evict		= rf_evict,
	.read		= rf_read,
	.write		= rf_write,
	.getxattr	= rf_getxattr,
	.setxattr	= rf_setxattr,
	.listxattr	= rf_listxattr,
};

static const struct zus_fs_type rf_type = {
	.api_version	= ZUS_API_VERSION,
	.info = {
		.name	= "zramfs",
		.magic	= RF_MAGIC,
		.version = 1,
		.flags	= ZUFS_FST_NODEV | ZUFS_FST_XATTR | ZUFS_FST_ACL,
	},
	.ops	= &rf_ops,
	.usage	= "  -o size=BYTES[k|m|g]  memory the mount may use (default 64m)\n",
};

/* the only symbol the .so exports (the Makefile hides all others) */
__attribute__((visibility("default")))
const struct zus_fs_type *const zus_plugin_types[] = { &rf_type, NULL };
