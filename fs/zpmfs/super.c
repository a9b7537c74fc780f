// SPDX-License-Identifier: BSD-3-Clause
/*
 * super.c - mount, umount, remount, statfs and sync_fs of zpmfs, its mount
 * options, and the table the plugin loader finds.
 *
 * Mount options (comma separated):
 *   errors=continue|remount-ro   what to do when a structure is found
 *                                corrupt (default continue)
 *   verbose                      log mount details
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "zpmfs.h"
#include "devset.h"

#define ZPMFS_USAGE \
	"errors=continue|remount-ro  on corruption: go on, or refuse writes\n" \
	"verbose                     log mount details"

void zp_log(struct zus_sb *sb, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	zus_log_as("zpmfs", strncmp(msg, "error: ", 7) ? ZUS_LOG_INFO :
		   ZUS_LOG_ERR, "(%.16s) %s",
		   sb && sb->sbc.label[0] ? sb->sbc.label : "-", msg);
}

void zp_error(struct zus_sb *sb, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	zp_log(sb, "error: %s%s", msg,
	       sb->errors == ZPMFS_ERRORS_RO && !sb->rdonly ?
	       "; now read-only" : "");
	if (sb->errors == ZPMFS_ERRORS_RO && !sb->rdonly) {
		sb->rdonly = true;
		zp_zeroer_pause(sb);
		/* writes the transport serves from cached maps stop too */
		if (sb->host_rdonly)
			sb->host_rdonly(sb->host);
	}
}

static int mount_err(struct zus_mount_out *out, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int mount_err(struct zus_mount_out *out, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
	va_end(ap);
	zus_log_as("zpmfs", ZUS_LOG_ERR, "mount: %s", out->msg);
	return err;
}

struct zp_opts {
	int errors;
	bool verbose;
	bool zero_ahead;
};

static int parse_options(const char *options, struct zp_opts *o,
			 struct zus_mount_out *out)
{
	char buf[ZUFS_OPTIONS_MAX], *tok, *save = NULL;

	o->errors = ZPMFS_ERRORS_CONTINUE;
	o->verbose = false;
	o->zero_ahead = true;
	if (!options)
		return 0;
	if (strlen(options) >= sizeof(buf))
		return mount_err(out, -EINVAL, "options too long");
	strcpy(buf, options);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "verbose"))
			o->verbose = true;
		else if (!strcmp(tok, "zero_ahead"))
			o->zero_ahead = true;
		else if (!strcmp(tok, "nozero_ahead"))
			o->zero_ahead = false;
		else if (!strcmp(tok, "errors=continue"))
			o->errors = ZPMFS_ERRORS_CONTINUE;
		else if (!strcmp(tok, "errors=remount-ro"))
			o->errors = ZPMFS_ERRORS_RO;
		else
			return mount_err(out, -EINVAL, "unknown option '%s'",
					 tok);
	}
	return 0;
}

static void show_options(const struct zus_sb *sb, struct zus_mount_out *out)
{
	snprintf(out->options, sizeof(out->options), "errors=%s%s%s",
		 sb->errors == ZPMFS_ERRORS_RO ? "remount-ro" : "continue",
		 sb->verbose ? ",verbose" : "",
		 sb->zero_ahead ? "" : ",nozero_ahead");
}

static uint32_t super_csum(const struct zpmfs_super *s)
{
	struct zpmfs_super c = *s;

	c.csum = 0;
	return zpmfs_crc32(0, &c, sizeof(c));
}

static uint32_t state_csum(const struct zpmfs_sb_state *st)
{
	struct zpmfs_sb_state c = *st;

	c.csum = 0;
	return zpmfs_crc32(0, &c, sizeof(c));
}

/* Why this superblock cannot be used, or NULL */
static const char *super_invalid(const struct zpmfs_super *s, uint64_t size,
				 char *why, size_t wlen)
{
	uint64_t nb = size / ZPMFS_BLOCK;

	if (s->magic != ZPMFS_SB_MAGIC)
		return "bad superblock magic: not a zpmfs filesystem";
	if (s->version != ZPMFS_FORMAT_VERSION) {
		snprintf(why, wlen, "unsupported format version %u (this is %u)",
			 s->version, ZPMFS_FORMAT_VERSION);
		return why;
	}
	if (s->csum != super_csum(s))
		return "superblock checksum mismatch";
	if (s->block_size != ZPMFS_BLOCK || s->inode_size != ZPMFS_INODE_SIZE)
		return "unsupported block or inode size";
	if (s->features & ~ZPMFS_FEATURES)
		return "unknown feature bits";
	if (s->total_blocks > nb) {
		snprintf(why, wlen, "filesystem has %lu blocks, device only %lu",
			 (unsigned long)s->total_blocks, (unsigned long)nb);
		return why;
	}
	if (s->log_start < ZPMFS_LOG_START || !s->log_blocks ||
	    s->log_start + s->log_blocks > s->itable_start ||
	    s->itable_start < ZPMFS_LOG_START ||
	    s->itable_blocks * ZPMFS_INODES_PER_BLOCK < s->inode_count ||
	    s->itable_start + s->itable_blocks > s->bitmap_start ||
	    s->bitmap_blocks * ZPMFS_BLOCK * 8 < s->total_blocks ||
	    s->bitmap_start + s->bitmap_blocks > s->data_start ||
	    s->data_start >= s->total_blocks || !s->inode_count ||
	    s->root_ino != ZPMFS_ROOT_INO)
		return "inconsistent superblock layout";
	if ((s->features & ZPMFS_FEAT_REFLINK) &&
	    (s->refcount_start < s->bitmap_start + s->bitmap_blocks ||
	     s->refcount_blocks > s->data_start ||
	     s->refcount_start > s->data_start - s->refcount_blocks ||
	     s->refcount_blocks * (ZPMFS_BLOCK / 4) < s->total_blocks))
		return "inconsistent refcount table";
	return NULL;
}

/* Pick the superblock: the primary, or the copy when the primary is bad */
static int read_super(const struct zus_mount_info *mi, struct zpmfs_super *s,
		      bool *repaired, struct zus_mount_out *out)
{
	const char *base = mi->pmem, *why, *why2;
	char b1[128], b2[128];

	*repaired = false;
	memcpy(s, base + ZPMFS_SB_BLOCK * ZPMFS_BLOCK, sizeof(*s));
	why = super_invalid(s, mi->pmem_size, b1, sizeof(b1));
	if (!why)
		return 0;
	memcpy(s, base + ZPMFS_SB_COPY_BLOCK * ZPMFS_BLOCK, sizeof(*s));
	why2 = super_invalid(s, mi->pmem_size, b2, sizeof(b2));
	if (!why2 && s->magic == ZPMFS_SB_MAGIC) {
		zus_log_as("zpmfs", ZUS_LOG_WARNING,
			   "primary superblock: %s; using the copy", why);
		*repaired = true;
		return 0;
	}
	return mount_err(out, -EINVAL, "%s", why);
}

/*
 * A set must be laid out as its table says (devset.h): the host gives
 * every member, in order, at the offsets and sizes of the table.
 */
static int check_set(const struct zus_mount_info *mi,
		     const struct zufs_dev_table *dt, struct zus_mount_out *out)
{
	const char *why = zp_table_invalid(dt, mi->pmem_size);
	unsigned int i;

	if (why)
		return mount_err(out, -EINVAL, "%s", why);
	if (mi->ndevs != dt->t1_count)
		return mount_err(out, -EINVAL, "the device is member %u of a set of %u pmem devices, %u given (mount the set with zuf.ko)",
				 dt->dev_index, dt->t1_count, mi->ndevs);
	for (i = 0; i < dt->t1_count; i++)
		if (mi->devs[i].offset !=
		    zp_table_member_start(dt, i) * ZPMFS_BLOCK ||
		    mi->devs[i].size != dt->devs[i].blocks * ZPMFS_BLOCK)
			return mount_err(out, -EINVAL, "member %u is not where the device table puts it",
					 i);
	return 0;
}

static int check_dev_table(const struct zus_mount_info *mi,
			   struct zus_mount_out *out)
{
	const struct zufs_dev_table *dt = mi->pmem;

	if (dt->magic != ZUFS_DEV_TABLE_MAGIC)
		return mount_err(out, -EINVAL,
				 "no zufs device table (run mkfs.zpmfs)");
	if (strncmp(dt->fs_type, ZPMFS_NAME, sizeof(dt->fs_type)))
		return mount_err(out, -EINVAL, "device belongs to '%.16s'",
				 dt->fs_type);
	if (dt->t1_count > 1)
		return check_set(mi, dt, out);
	return 0;
}

/*
 * A set's superblock covers all of it: less is a zpmfs-grow that stopped
 * before its commit point (growset.c), which fsck.zpmfs -p undoes.
 */
static int check_covers_set(const struct zus_mount_info *mi,
			    const struct zpmfs_super *s,
			    struct zus_mount_out *out)
{
	const struct zufs_dev_table *dt = mi->pmem;

	if (dt->t1_count < 2 || s->total_blocks * ZPMFS_BLOCK == mi->pmem_size)
		return 0;
	return mount_err(out, -EINVAL, "the set's %u members hold %lu blocks, the superblock only %lu: an unfinished zpmfs-grow (run fsck.zpmfs -p or zpmfs-grow again)",
			 dt->t1_count,
			 (unsigned long)(mi->pmem_size / ZPMFS_BLOCK),
			 (unsigned long)s->total_blocks);
}

/* Later members' first blocks hold their tables: never the allocator's */
static void set_members(struct zus_sb *sb)
{
	const struct zufs_dev_table *dt = (const void *)sb->base;
	unsigned int i;

	sb->nmtab = 0;
	if (dt->t1_count < 2 || dt->t1_count > ZUFS_MAX_DEVS)
		return;
	for (i = 1; i < dt->t1_count; i++)
		sb->mtab[sb->nmtab++] = zp_table_member_start(dt, i);
}

static void state_write(struct zus_sb *sb, bool clean, int64_t now)
{
	struct zpmfs_sb_state *st = sb->state;

	if (clean) {
		st->flags |= ZPMFS_STATE_CLEAN;
		st->umount_time = now;
	} else {
		st->flags &= ~ZPMFS_STATE_CLEAN;
		st->mount_count++;
		st->mount_time = now;
	}
	st->csum = state_csum(st);
	pmem_persist(st, sizeof(*st));
}

static void sb_free(struct zus_sb *sb)
{
	zp_zeroer_fini(sb);
	zj_fini(sb);
	zp_inodes_fini(sb);
	zp_balloc_fini(sb);
	pthread_mutex_destroy(&sb->rename_lock);
	free(sb);
}

/*
 * After an unclean shutdown (orphans already freed): blocks a crash left
 * marked used with no inode reaching them go back to the allocator.
 */
static int reclaim(struct zus_sb *sb)
{
	int64_t n = zp_reclaim(sb);

	if (n < 0)
		return (int)n;
	if (n) {
		zp_balloc_recount(sb);
		zp_log(sb, "reclaimed %ld unreachable block(s)", (long)n);
	}
	return 0;
}

/*
 * What zp_fallocate() and zp_clone() implement without shared blocks:
 * every fallocate mode but UNSHARE_RANGE, no reflink, no dedupe.
 */
#define ZPMFS_CAPS	(ZUFS_CAP_FALLOC | ZUFS_CAP_KEEP_SIZE | \
			 ZUFS_CAP_PUNCH_HOLE | ZUFS_CAP_ZERO_RANGE | \
			 ZUFS_CAP_COLLAPSE_RANGE | ZUFS_CAP_INSERT_RANGE)

/* With the refcount table (ZPMFS_FEAT_REFLINK): shared blocks */
#define ZPMFS_RC_CAPS	(ZUFS_CAP_CLONE | ZUFS_CAP_DEDUPE | \
			 ZUFS_CAP_UNSHARE_RANGE)

static int sb_setup(struct zus_sb *sb, const struct zus_mount_info *mi,
		    bool repaired, struct zus_mount_out *out)
{
	int err;

	sb->base = mi->pmem;
	sb->size = mi->pmem_size;
	sb->ndevs = mi->ndevs < ZUFS_MAX_DEVS ? mi->ndevs : ZUFS_MAX_DEVS;
	memcpy(sb->devs, mi->devs, sizeof(sb->devs));
	set_members(sb);
	sb->super = zp_block(sb, ZPMFS_SB_BLOCK);
	sb->state = (void *)((char *)sb->super + ZPMFS_STATE_OFFSET);
	sb->itable = zp_block(sb, sb->sbc.itable_start);
	sb->bitmap = zp_block(sb, sb->sbc.bitmap_start);
	if (sb->sbc.features & ZPMFS_FEAT_REFLINK)
		sb->rc = zp_block(sb, sb->sbc.refcount_start);
	pthread_mutex_init(&sb->rename_lock, NULL);
	if (repaired && !sb->rdonly)
		pmem_memcpy_persist(sb->super, &sb->sbc, sizeof(sb->sbc));
	err = zj_init(sb);
	if (err)
		return mount_err(out, err, "out of memory");
	/* before anything reads an inode: ops a crash cut short roll back */
	if (!sb->rdonly)
		zj_replay(sb);
	else if (zj_pending(sb))
		zp_log(sb, "journal: %u unfinished operation(s) left as they "
		       "are (read-only); a read-write mount finishes them",
		       zj_pending(sb));
	err = zp_balloc_init(sb);
	if (err)
		return mount_err(out, err, "out of memory");
	if (!S_ISDIR(zp_pi(sb, ZPMFS_ROOT_INO)->mode))
		return mount_err(out, -EINVAL, "root inode is not a directory");
	err = zp_inodes_init(sb);
	if (!err && !sb->rdonly)
		zj_replay_intents(sb);
	if (!err && !sb->rdonly && !(sb->state->flags & ZPMFS_STATE_CLEAN))
		err = reclaim(sb);
	if (!err)
		err = zp_zeroer_init(sb);
	if (err)
		return mount_err(out, err, "out of memory");
	return 0;
}

/*
 * The zeroer writes free blocks: only on a writable mount that wants it.
 * Without it new blocks are zeroed inline, so a thread that cannot start
 * costs speed, not the mount.
 */
static void zeroer_update(struct zus_sb *sb)
{
	int err;

	if (sb->rdonly || !sb->zero_ahead) {
		zp_zeroer_stop(sb);
		return;
	}
	err = zp_zeroer_start(sb);
	if (err)
		zp_log(sb, "zero_ahead: cannot start the zeroing thread (%s); "
		       "zeroing new blocks inline", strerror(-err));
}

static int zp_mount(const struct zus_mount_info *mi, struct zus_sb **sbp,
		    struct zus_mount_out *out)
{
	struct zp_opts o;
	struct zus_sb *sb;
	bool repaired;
	int err;

	if (!mi->pmem || mi->pmem_size < 8 * ZPMFS_BLOCK)
		return mount_err(out, -EINVAL, "no pmem range or too small");
	err = parse_options(mi->options, &o, out);
	if (!err)
		err = check_dev_table(mi, out);
	if (err)
		return err;
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return mount_err(out, -ENOMEM, "out of memory");
	err = read_super(mi, &sb->sbc, &repaired, out);
	if (!err)
		err = check_covers_set(mi, &sb->sbc, out);
	if (err)
		goto out_free;
	sb->rdonly = mi->flags & ZUS_MOUNT_RDONLY;
	sb->keep_orphans = mi->flags & ZUS_MOUNT_REATTACH;
	sb->host_rdonly = mi->rdonly;
	sb->host = mi->host;
	sb->errors = o.errors;
	sb->verbose = o.verbose;
	sb->zero_ahead = o.zero_ahead;
	err = sb_setup(sb, mi, repaired, out);
	if (err)
		goto out_free;
	zeroer_update(sb);
	if (!(sb->state->flags & ZPMFS_STATE_CLEAN) && sb->state->mount_count)
		zp_log(sb, "was not cleanly unmounted");
	if (!sb->rdonly)
		state_write(sb, false, time(NULL));
	if (sb->verbose)
		zp_log(sb, "mounted %s: %lu blocks, %lu inodes, flush %s",
		       sb->rdonly ? "ro" : "rw",
		       (unsigned long)sb->sbc.total_blocks,
		       (unsigned long)sb->sbc.inode_count, pmem_flush_name());
	out->root_ino = ZPMFS_ROOT_INO;
	out->block_size = ZPMFS_BLOCK;
	out->max_bytes = ZPMFS_MAX_BYTES;
	out->max_ino = sb->sbc.inode_count;
	out->caps = ZPMFS_CAPS | (sb->rc ? ZPMFS_RC_CAPS : 0);
	show_options(sb, out);
	*sbp = sb;
	return 0;
out_free:
	sb_free(sb);
	return err;
}

static int zp_sync_fs(struct zus_sb *sb, bool wait)
{
	pmem_drain();
	/* A file-backed image (FUSE bridge, tests) needs the page cache
	 * written back too; on real pmem this fails harmlessly. */
	if (wait)
		msync(sb->base, sb->size, MS_SYNC);
	return 0;
}

static void zp_umount(struct zus_sb *sb)
{
	zp_zeroer_stop(sb);
	if (!sb->rdonly)
		state_write(sb, true, time(NULL));
	zp_sync_fs(sb, true);
	if (sb->verbose)
		zp_log(sb, "unmounted");
	sb_free(sb);
}

static int zp_remount(struct zus_sb *sb, const char *options, uint32_t flags,
		      struct zus_mount_out *out)
{
	bool ro = flags & ZUS_MOUNT_RDONLY, was_ro;
	struct zp_opts o;
	int err;

	err = parse_options(options, &o, out);
	if (err)
		return err;
	/* the DRAM state was built from the image as the crash left it:
	 * only a fresh mount may roll the journal back under it */
	if (sb->rdonly && !ro && zj_pending(sb))
		return mount_err(out, -EROFS, "the journal has unfinished "
				 "operations: umount, then mount read-write");
	was_ro = sb->rdonly;
	sb->rdonly = ro;
	sb->errors = o.errors;
	sb->verbose = o.verbose;
	sb->zero_ahead = o.zero_ahead;
	/* on the way to ro the zeroer stops before the state says clean */
	zeroer_update(sb);
	if (ro != was_ro)
		state_write(sb, ro, time(NULL));
	out->root_ino = ZPMFS_ROOT_INO;
	out->block_size = ZPMFS_BLOCK;
	out->max_bytes = ZPMFS_MAX_BYTES;
	out->max_ino = sb->sbc.inode_count;
	show_options(sb, out);
	return 0;
}

static int zp_statfs(struct zus_sb *sb, struct zufs_statfs *st)
{
	uint64_t id[2];

	memcpy(id, sb->sbc.uuid, sizeof(id));
	memset(st, 0, sizeof(*st));
	/* like ext4's default: the metadata area is not counted as used */
	st->blocks = sb->sbc.total_blocks - sb->sbc.data_start;
	st->bfree = zp_bfree_count(sb);
	st->bavail = st->bfree;
	st->files = sb->sbc.inode_count;
	pthread_mutex_lock(&sb->ialloc_lock);
	st->ffree = sb->ifree;
	pthread_mutex_unlock(&sb->ialloc_lock);
	st->fsid = id[0] ^ id[1];
	st->bsize = ZPMFS_BLOCK;
	st->namelen = ZUFS_NAME_MAX;
	return 0;
}

const struct zus_fs_ops zp_ops = {
	.mount		= zp_mount,
	.umount		= zp_umount,
	.remount	= zp_remount,
	.statfs		= zp_statfs,
	.sync_fs	= zp_sync_fs,
	.lookup		= zp_lookup,
	.getattr	= zp_getattr,
	.setattr	= zp_setattr,
	.create		= zp_create,
	.link		= zp_link,
	.unlink		= zp_unlink,
	.rename		= zp_rename,
	.readdir	= zp_readdir,
	.readlink	= zp_readlink,
	.evict		= zp_evict,
	.get_blocks	= zp_get_blocks,
	.read		= zp_read,
	.write		= zp_write,
	.fsync		= zp_fsync,
	.fallocate	= zp_fallocate,
	.seek		= zp_seek,
	.clone		= zp_clone,
	.getxattr	= zp_getxattr,
	.setxattr	= zp_setxattr,
	.listxattr	= zp_listxattr,
};

static const struct zus_fs_type zpmfs_type = {
	.api_version	= ZUS_API_VERSION,
	.info = {
		.name		= ZPMFS_NAME,
		.magic		= ZPMFS_MAGIC,
		.version	= ZPMFS_FORMAT_VERSION,
		.flags		= ZUFS_FST_PMEM | ZUFS_FST_SYNC_META |
				  ZUFS_FST_XATTR | ZUFS_FST_ACL |
				  ZUFS_FST_REATTACH | ZUFS_FST_LOCAL_NAMES,
	},
#ifdef ZPMFS_DEBUG
	.ops		= &zp_debug_ops,	/* check.c: zp_ops + checks */
#else
	.ops		= &zp_ops,
#endif
	.usage		= ZPMFS_USAGE,
};

__attribute__((visibility("default")))
const struct zus_fs_type *const zus_plugin_types[] = { &zpmfs_type, NULL };
