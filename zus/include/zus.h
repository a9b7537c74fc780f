/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zus.h - the zusFS plugin API: what a filesystem plugin implements.
 *
 * This is the stable boundary between a filesystem and its transports.
 * The same plugin .so is driven by zusd (kernel zuf.ko over per-CPU ZT
 * channels) and by zus-fuse (libfuse3 low-level API).  Neither transport
 * adds anything to it: whatever a transport needs beyond it (FUSE lookup
 * counts, kernel inode caching, ...) lives in the transport.
 *
 * Model: inodes are named by their inode number, like FUSE's low level API.
 * Every operation returns 0 (or a byte count where documented) on success
 * and a negative errno on failure, with the errno Linux ext4 gives for the
 * same call.  Operations are called concurrently from many threads (one
 * per CPU under zusd, a pool under FUSE): the plugin does its own locking.
 *
 * Permission checks (mode bits, ownership, sticky bit, ACLs) are the
 * transport's job (the kernel VFS does them); a plugin only enforces the
 * filesystem's own rules (ENOTEMPTY, EEXIST, ENOSPC, EMLINK, ...).
 *
 * A plugin exports one symbol:
 *	const struct zus_fs_type *const zus_plugin_types[];
 * a NULL-terminated array of the filesystem types it implements.
 *
 * API history:
 *   1  2026-11-25  first version
 *   2  2026-11-25  zus_mount_info.invalidate/host: the transport's service
 *                  for blocks a plugin moves on its own
 *   3  2026-12-05  zus_mount_info.rdonly: the plugin went read-only on
 *                  its own (errors=remount-ro)
 *                  zus_mount_out.caps: what the mount implements of clone,
 *                  dedupe and the fallocate modes; clone's
 *                  ZUFS_CLONE_DEDUPE
 *   4  2026-12-05  get_blocks takes ZUFS_GB_* flags instead of a write
 *                  bool (ZUFS_GB_WRITE is 1, so true/false still mean
 *                  the same) and may answer ZUFS_EXT_SHARED extents
 *   5  2026-12-05  zus_log()/zus_dbg(): plugins log through their host
 *                  (journal, syslog or stderr; debug classes at run time)
 *   6  2026-12-05  zus_mount_info.invalidate_name: the transport's service
 *                  for names another client of a shared filesystem changed
 *   7  2026-12-05  zus_mount_out.entry_ttl_ms/attr_ttl_ms: how long the
 *                  kernel may trust names and attributes (0: until told)
 */
#ifndef _ZUS_H
#define _ZUS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "zufs_api.h"

#define ZUS_API_VERSION		7
/* the oldest a host still loads: 5 and 6 only added calls a plugin may
 * make, 7 fields at the end of zus_mount_out that the host zeroes */
#define ZUS_API_OLDEST		4
#define ZUS_PLUGIN_SYMBOL	"zus_plugin_types"

struct zus_sb;		/* a mounted filesystem: defined by the plugin */

/*
 * struct zus_ctx - who asks, and when.  Given to every operation.
 * @now is the time to stamp on anything the operation changes, so that the
 * kernel and the server agree on timestamps.  @cpu/@numa_node tell where
 * the caller runs (the ZT's CPU under zusd; -1 when unknown), so a plugin
 * can allocate from pmem close to it.
 */
struct zus_ctx {
	uint32_t	uid;
	uint32_t	gid;
	struct timespec	now;
	int		cpu;
	int		numa_node;
};

/* What a mount gets (pmem plugins: the mapped t1 range) */
#define ZUS_MOUNT_RDONLY	(1U << 0)
#define ZUS_MOUNT_SILENT	(1U << 1)
/*
 * The mount of a server that died, taken over (types registered with
 * ZUFS_FST_REATTACH only; "Server restart" in zufs_api.h): mount as after
 * a crash, but free no orphan (nlink 0) inode: the kernel still holds
 * them and evicts them later.  Blocks once answered by get_blocks must
 * still be the file's.  Ops that may have happened already come again;
 * zusd checks those (resend.c) before they reach the plugin.
 */
#define ZUS_MOUNT_REATTACH	(1U << 2)

struct zus_mount_info {
	void		*pmem;		/* the t1 range, mapped rw; NULL if NODEV */
	uint64_t	pmem_size;	/* bytes */
	uint32_t	ndevs;
	struct zufs_pmem_dev devs[ZUFS_MAX_DEVS];
	const char	*dev_name;	/* as given to mount; "" if none */
	const char	*options;	/* plugin options, comma separated; "" if none */
	uint32_t	flags;		/* ZUS_MOUNT_* */
	/*
	 * The transport's service for this mount; invalidate may be NULL.
	 * invalidate(host, ino, offset, length): the plugin moved or freed
	 * blocks of [offset, offset + length) (length 0: to the end) of ino
	 * on its own, not as the answer to an operation.  Returns 0 once the
	 * transport (the kernel's block-map cache, user mappings, page cache)
	 * uses none of the old blocks any more, or -errno.  Call it from a
	 * thread of the plugin's own, never from inside an operation, and
	 * not once its umount has been called.
	 */
	int		(*invalidate)(void *host, uint64_t ino,
				      uint64_t offset, uint64_t length);
	void		*host;
	/*
	 * rdonly(host): the plugin refuses changes from now on (it found
	 * corruption and its policy is to go read-only).  The transport
	 * stops every write before it reaches the plugin, also those it
	 * would serve from cached block maps.  May be called from inside an
	 * operation; may be NULL.
	 */
	int		(*rdonly)(void *host);
	/*
	 * invalidate_name(host, dir, name, len) (API 6): name (len bytes, no
	 * NUL needed) in directory dir changed without an operation of this
	 * transport (another client of a shared filesystem removed, renamed
	 * or created it).  Returns 0 once the transport's next use of the
	 * name asks the plugin again, or -errno (-EINVAL: not a valid name).
	 * Same calling rules as invalidate; may be NULL.
	 */
	int		(*invalidate_name)(void *host, uint64_t dir,
					   const char *name, size_t len);
};

/* What a mount answers */
struct zus_mount_out {
	uint64_t	root_ino;
	uint32_t	block_size;	/* power of two, 512..4096 */
	uint64_t	max_bytes;	/* largest file size */
	uint64_t	max_ino;	/* largest inode number it will hand out */
	char		options[ZUFS_OPTIONS_MAX];	/* canonical, for /proc/mounts */
	char		msg[ZUFS_MSG_MAX];	/* why, on failure */
	/*
	 * ZUFS_CAP_* (zufs_api.h): which of clone (reflink), dedupe and the
	 * fallocate modes this mount implements, for its whole life.  The
	 * transports fail everything else with -EOPNOTSUPP without calling
	 * the plugin, so say exactly what a real call would do: a plugin
	 * that forwards to a backing store asks the store while it mounts.
	 * 0 (the default) offers none of them.  Ignored by remount.
	 */
	uint64_t	caps;
	/*
	 * How long (ms) the kernel, or the FUSE bridge's kernel, may answer
	 * from a name it looked up (found or not) and from an inode's
	 * attributes before it asks again.  0 (the default): for as long as
	 * it holds them; right when nothing changes the store but this mount,
	 * or when the plugin reports every outside change through
	 * invalidate/invalidate_name.  Set it when others change the store
	 * behind the plugin's back.  Ignored by remount.
	 */
	uint32_t	entry_ttl_ms;
	uint32_t	attr_ttl_ms;
};

/* Results of rename: every inode it touched */
struct zus_rename_out {
	struct zufs_attr attr;		/* the moved inode */
	struct zufs_attr target_attr;	/* the replaced/exchanged one, if any */
	struct zufs_attr old_dir_attr;
	struct zufs_attr new_dir_attr;
	struct zufs_attr whiteout_attr;	/* with RENAME_WHITEOUT */
};

/*
 * Directory listing callback: returns 0 to go on, non-zero when the caller's
 * buffer is full (the entry was NOT taken: report it again next time).
 * @next_pos is the stable position to resume after this entry.
 */
typedef int (*zus_filldir_t)(void *buf, const char *name, size_t len,
			     uint64_t ino, unsigned int dtype,
			     uint64_t next_pos);

/*
 * struct zus_fs_ops - the operations.  Required for every plugin: mount,
 * umount, statfs, lookup, getattr, setattr, create, link, unlink, rename,
 * readdir, readlink, evict.  Data: a ZUFS_FST_PMEM plugin implements
 * get_blocks (and may implement read/write too); any other plugin
 * implements read and write.  The rest are optional: NULL means
 * -EOPNOTSUPP (fsync/sync_fs: NULL means nothing to do).
 */
struct zus_fs_ops {
	/* mount: build the in-memory sb from mi; fill out. */
	int (*mount)(const struct zus_mount_info *mi, struct zus_sb **sbp,
		     struct zus_mount_out *out);
	/* umount: make everything durable and free the sb. */
	void (*umount)(struct zus_sb *sb);
	/* remount: new options and flags (ZUS_MOUNT_RDONLY); out as mount */
	int (*remount)(struct zus_sb *sb, const char *options, uint32_t flags,
		       struct zus_mount_out *out);
	int (*statfs)(struct zus_sb *sb, struct zufs_statfs *st);
	int (*sync_fs)(struct zus_sb *sb, bool wait);

	/* namespace */
	int (*lookup)(struct zus_sb *sb, const struct zus_ctx *ctx,
		      uint64_t dir, const char *name, size_t len,
		      struct zufs_attr *attr);
	int (*getattr)(struct zus_sb *sb, const struct zus_ctx *ctx,
		       uint64_t ino, struct zufs_attr *attr);
	/* setattr: apply the ZUFS_ATTR_* fields of set; SIZE truncates */
	int (*setattr)(struct zus_sb *sb, const struct zus_ctx *ctx,
		       uint64_t ino, uint32_t mask,
		       const struct zufs_attr *set, struct zufs_attr *attr);
	/*
	 * create: any type (mode says which).  symlink != NULL for S_IFLNK.
	 * name == NULL (len 0) with tmpfile: an unnamed inode with nlink 0
	 * that lives until evict.  uid/gid: the owner to give it.
	 */
	int (*create)(struct zus_sb *sb, const struct zus_ctx *ctx,
		      uint64_t dir, const char *name, size_t len,
		      uint32_t mode, uint32_t rdev, uint32_t uid, uint32_t gid,
		      uint32_t iflags, const char *symlink, size_t symlen,
		      bool tmpfile, struct zufs_attr *attr,
		      struct zufs_attr *dir_attr);
	int (*link)(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, uint64_t dir, const char *name, size_t len,
		    struct zufs_attr *attr, struct zufs_attr *dir_attr);
	/*
	 * unlink: remove the name (is_dir: rmdir semantics, -ENOTEMPTY).
	 * The inode itself stays until evict when nlink reaches 0.
	 */
	int (*unlink)(struct zus_sb *sb, const struct zus_ctx *ctx,
		      uint64_t dir, const char *name, size_t len, bool is_dir,
		      struct zufs_attr *attr, struct zufs_attr *dir_attr);
	/* rename: flags are renameat2's (NOREPLACE, EXCHANGE, WHITEOUT) */
	int (*rename)(struct zus_sb *sb, const struct zus_ctx *ctx,
		      uint64_t old_dir, const char *old_name, size_t old_len,
		      uint64_t new_dir, const char *new_name, size_t new_len,
		      uint32_t flags, struct zus_rename_out *out);
	/* readdir: entries at positions >= pos (>= ZUFS_DIR_POS_FIRST) */
	int (*readdir)(struct zus_sb *sb, const struct zus_ctx *ctx,
		       uint64_t dir, uint64_t pos, zus_filldir_t fill,
		       void *buf, bool *eof);
	/* readlink: copy the target (no NUL), return its length */
	ssize_t (*readlink)(struct zus_sb *sb, const struct zus_ctx *ctx,
			    uint64_t ino, char *buf, size_t size);
	/*
	 * evict: the transport keeps no reference to ino any more (no open
	 * file, no cached inode).  If its nlink is 0, free it now.
	 */
	int (*evict)(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino);

	/*
	 * get_blocks (ZUFS_FST_PMEM): map [offset, offset+length) to pmem
	 * extents (offsets into mi->pmem), a prefix of the range, in order,
	 * no gaps, starting with the block that holds offset.  flags are
	 * ZUFS_GB_* (include/zufs_api.h).  ZUFS_GB_WRITE: allocate (zeroed)
	 * blocks for holes, unshare shared blocks, set size = max(size,
	 * size_after), mtime = ctime = ctx->now.  ZUFS_GB_MAP: unshare shared
	 * blocks, holes stay.  Without either, blocks shared with another
	 * file (or offset) are answered with ZUFS_EXT_SHARED, never merged
	 * with exclusive ones.  Returns the number of extents used.
	 */
	int (*get_blocks)(struct zus_sb *sb, const struct zus_ctx *ctx,
			  uint64_t ino, uint64_t offset, uint64_t length,
			  uint32_t flags, uint64_t size_after,
			  struct zufs_extent *ext, unsigned int max_ext,
			  struct zufs_attr *attr);
	/*
	 * read/write: bytes done; write updates size/mtime into attr.  buf is
	 * usually the application's own memory, mapped into this thread only
	 * for the call (read: writable, write: read-only): use it in place,
	 * never keep the pointer, and expect EFAULT from syscalls that want
	 * to pin it (O_DIRECT on it, vmsplice); buffered pread/pwrite work.
	 */
	ssize_t (*read)(struct zus_sb *sb, const struct zus_ctx *ctx,
			uint64_t ino, void *buf, size_t len, uint64_t offset);
	ssize_t (*write)(struct zus_sb *sb, const struct zus_ctx *ctx,
			 uint64_t ino, const void *buf, size_t len,
			 uint64_t offset, struct zufs_attr *attr);
	int (*fsync)(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, uint64_t offset, uint64_t length,
		     bool datasync);
	/* fallocate: mode is FALLOC_FL_* (see clone below) */
	int (*fallocate)(struct zus_sb *sb, const struct zus_ctx *ctx,
			 uint64_t ino, uint32_t mode, uint64_t offset,
			 uint64_t length, struct zufs_attr *attr);
	/* seek: SEEK_DATA / SEEK_HOLE; -ENXIO at or past EOF */
	int (*seek)(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, uint64_t offset, int whence,
		    uint64_t *result);
	/*
	 * fallocate: only modes the mount's caps declare reach it.
	 * clone: ZUFS_CLONE_REFLINK (caps ZUFS_CAP_CLONE), ZUFS_CLONE_DEDUPE
	 * (ZUFS_CAP_DEDUPE: share only if equal, else -EBADE) or
	 * ZUFS_CLONE_COPY (any plugin; -EOPNOTSUPP: the transport copies);
	 * *done = bytes
	 */
	int (*clone)(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t src_ino, uint64_t src_off,
		     uint64_t dst_ino, uint64_t dst_off, uint64_t length,
		     uint32_t flags, uint64_t *done, struct zufs_attr *attr);

	/* xattrs; size 0 asks for the size.  -ERANGE when too small. */
	ssize_t (*getxattr)(struct zus_sb *sb, const struct zus_ctx *ctx,
			    uint64_t ino, const char *name, void *value,
			    size_t size);
	/* setxattr: value == NULL removes (-ENODATA if missing) */
	int (*setxattr)(struct zus_sb *sb, const struct zus_ctx *ctx,
			uint64_t ino, const char *name, const void *value,
			size_t size, int flags, struct zufs_attr *attr);
	ssize_t (*listxattr)(struct zus_sb *sb, const struct zus_ctx *ctx,
			     uint64_t ino, char *list, size_t size);
};

/*
 * struct zus_fs_type - one filesystem type a plugin implements.
 * info.flags are ZUFS_FST_* and tell the transports what it needs.
 */
struct zus_fs_type {
	uint32_t		api_version;	/* ZUS_API_VERSION */
	struct zufs_fs_info	info;
	const struct zus_fs_ops	*ops;
	const char		*usage;		/* its -o options, for --help */
};

/* ---------------------------------------------------------------------- */
/* Logging: plugins never print; they log through their host             */
/* ---------------------------------------------------------------------- */

/*
 * zus_log(level, fmt, ...) logs one line "NAME: message" at a syslog
 * level, NAME being ZUS_PLUGIN_NAME (define it before including zus.h,
 * e.g. -DZUS_PLUGIN_NAME='"zpmfs"'; the fs type name is the custom).
 * The host (libzus, zus_log_open) sends it to the journal with its level
 * when run by systemd, to syslog when zusd daemonized, else to stderr.
 *
 * zus_dbg(class, fmt, ...) logs at ZUS_LOG_DEBUG only while that debug
 * class is on for this plugin: `zusd -d` (every class of every plugin)
 * or at run time `zusctl debug NAME +CLASS` (zusctl(8)).  zusd logs the
 * ops of each class it dispatches to the plugin by itself.
 *
 * Both work in any host: where libzus is not loaded (a unit test linking
 * a plugin's objects) the weak references are NULL and lines go to
 * stderr, debug ones never.
 */
#define ZUS_LOG_ERR		3	/* syslog's LOG_ERR ... LOG_DEBUG */
#define ZUS_LOG_WARNING		4
#define ZUS_LOG_NOTICE		5
#define ZUS_LOG_INFO		6
#define ZUS_LOG_DEBUG		7

enum zus_dbg_class {
	ZUS_DBG_MOUNT,		/* mount, umount, remount, statfs, sync_fs */
	ZUS_DBG_NAMEI,		/* lookup, create, link, unlink, rename,
				 * readlink, evict */
	ZUS_DBG_DIR,		/* readdir */
	ZUS_DBG_ATTR,		/* getattr, setattr */
	ZUS_DBG_IO,		/* get_blocks, read, write, fsync, fallocate,
				 * seek, clone */
	ZUS_DBG_XATTR,		/* getxattr, setxattr, listxattr */
	ZUS_DBG_NCLASSES
};
/* their names, as zusctl takes them (index: enum zus_dbg_class) */
#define ZUS_DBG_CLASS_NAMES \
	"mount", "namei", "dir", "attr", "io", "xattr"
#define ZUS_DBG_ALL		((1U << ZUS_DBG_NCLASSES) - 1)

#ifndef ZUS_PLUGIN_NAME
#define ZUS_PLUGIN_NAME		NULL	/* lines without a name */
#endif

#ifdef ZUS_LIBZUS_BUILD
#define ZUS_WEAK
#else
#define ZUS_WEAK		__attribute__((weak))
#endif

/* libzus: who is the prefix (NULL: none); level a ZUS_LOG_* */
void zus_log_at(const char *who, int level, const char *fmt, ...)
	ZUS_WEAK __attribute__((format(printf, 3, 4)));
void zus_vlog_at(const char *who, int level, const char *fmt, va_list ap)
	ZUS_WEAK;
/* is debug class cls on for who (a plugin's name)? */
bool zus_debug_on(const char *who, unsigned int cls) ZUS_WEAK;

/* without libzus: plain stderr */
static inline void __attribute__((format(printf, 3, 4)))
zus_log_fallback(const char *who, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s%s%s\n", who ? who : "", who ? ": " : "", line);
}

#define zus_log_as(who, level, ...)					\
	do {								\
		if (zus_log_at)						\
			zus_log_at(who, level, __VA_ARGS__);		\
		else							\
			zus_log_fallback(who, level, __VA_ARGS__);	\
	} while (0)
#define zus_log(level, ...)	zus_log_as(ZUS_PLUGIN_NAME, level, __VA_ARGS__)
#define zus_dbg(cls, ...)						\
	do {								\
		if (zus_debug_on && zus_debug_on(ZUS_PLUGIN_NAME, cls))	\
			zus_log_at(ZUS_PLUGIN_NAME, ZUS_LOG_DEBUG,	\
				   __VA_ARGS__);			\
	} while (0)

/* ---------------------------------------------------------------------- */
/* Plugin loading: shared by zusd and zus-fuse (libzus.so, zus/plugin*.c) */
/* ---------------------------------------------------------------------- */

struct zus_plugin_set;

/*
 * Load each .so named in paths (files, or directories whose *.so are all
 * loaded).  Checks each type (API version, name, required ops) and refuses
 * duplicates.  Errors name the file: on failure the message ("x.so: missing
 * symbol zus_plugin_types") is written to the caller's errmsg[errlen].
 */
int zus_plugins_load(struct zus_plugin_set **setp, const char *const *paths,
		     size_t npaths, char *errmsg, size_t errlen);
size_t zus_plugins_count(const struct zus_plugin_set *set);
const struct zus_fs_type *zus_plugins_get(const struct zus_plugin_set *set,
					  size_t i);
const struct zus_fs_type *zus_plugins_find(const struct zus_plugin_set *set,
					   const char *name);
void zus_plugins_free(struct zus_plugin_set *set);

#define ZUS_PLUGIN_ENV		"ZUS_PLUGINS"	/* colon separated paths */

/*
 * The plugin directory for a host given neither -p nor $ZUS_PLUGINS:
 * <dir of the running binary>/../plugins when that is a directory (the
 * build tree), else the installed one, zus_plugins_installed_dir()
 * ($(libdir)/zufs/plugins of `make install`).  Writes it to buf[size];
 * 0 or -ENAMETOOLONG.
 */
int zus_plugins_default_dir(char *buf, size_t size);
const char *zus_plugins_installed_dir(void);

/*
 * Logging, the host's side (libzus, zus/log.c).  zus_log_open(ident,
 * to_syslog): ident prefixes the host's own lines (who NULL); to_syslog
 * for a daemon without a terminal.  When stderr is systemd's journal
 * stream ($JOURNAL_STREAM), lines carry their level there ("<3>...")
 * instead.  zus_debug_set(who, on, off): who a plugin's name, or NULL
 * for every one (now and later); returns the classes now on for who.
 * zus_debug_class(name): the class bit(s) of "namei", "all", ..., or 0.
 */
void zus_log_open(const char *ident, bool to_syslog);
unsigned int zus_debug_set(const char *who, unsigned int on,
			   unsigned int off);
unsigned int zus_debug_get(const char *who);
unsigned int zus_debug_class(const char *name);
const char *zus_debug_class_name(unsigned int cls);

#endif /* _ZUS_H */
