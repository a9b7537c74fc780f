/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * zufs_api.h - the contract between zuf.ko (the kernel feeder) and zusd
 * (the user-mode server).  Compiled into both halves; every structure has
 * static size checks at the bottom so that a change on one side that the
 * other side does not see fails the build instead of corrupting memory.
 *
 * Version history (ZUFS_MAJOR_VERSION.ZUFS_MINOR_VERSION):
 *   1.0  2026-11-25  first version: handshake, fs registration, mount
 *                    thread, pmem grab, per-CPU ZT channels, namespace,
 *                    attribute, block-map, old-IO, xattr and space ops.
 *   1.1  2026-11-25  old-IO window: the caller's pages are mapped into the
 *                    ZT for READ/WRITE (ZUFS_IO_WINDOW, zufs_op_io.win_offset,
 *                    second mmap of the channel file); 1.0 copied the data
 *                    through the data area.  ZUFS_IOC_INVALIDATE: the
 *                    server makes the kernel forget cached block maps.
 *   1.2  2026-12-05  ZUFS_IOC_SB_RDONLY: the server tells the kernel that a
 *                    mount went read-only on its side.  The kernel now
 *                    also holds each op to the errnos it may give (others
 *                    become EIO) and lends only whole pages of user memory
 *                    to the window (no wire change).
 *                    zufs_ioc_mount.caps (ZUFS_CAP_*): the MOUNT answer says
 *                    which of reflink, dedupe and each fallocate mode the
 *                    mount implements; the kernel offers only those.
 *                    ZUFS_CLONE_DEDUPE.
 *   1.3  2026-12-05  Shared blocks (reflink): ZUFS_EXT_SHARED in GET_BLOCKS
 *                    answers (read in place only: never cached, mapped or
 *                    stored into by the kernel), ZUFS_GB_MAP in requests
 *                    (the range will be mapped into a process or zeroed in
 *                    place: answer no shared blocks), ZUFS_CAP_UNSHARE_RANGE;
 *                    a ZUFS_CLONE_COPY may share whole blocks; the plugin
 *                    compares the ranges of a ZUFS_CLONE_DEDUPE.
 *   1.4  2026-12-05  Re-attach (see "Server restart" below): ZUFS_FST_REATTACH
 *                    (a type whose mounts survive its server's death),
 *                    ZUFS_MF_REATTACH (a MOUNT that takes over a mount of
 *                    a dead server), ZUFS_OPF_RESENT (hdr.flags bit 31: an
 *                    op the dead server may have done already),
 *                    zufs_ioc_handshake.flags with ZUFS_HS_TAKEOVER (a
 *                    new server replaces the running one).
 *   1.5  2026-12-05  Round-trip cost: ZUFS_IOC_NULL_OP on a mounted file
 *                    sends ZUFS_OP_NULL and returns where the time went
 *                    (struct zufs_ioc_null); a NULL op may answer two
 *                    server timestamps in the data area.
 *                    zufs_ioc_init_thread.spin_us: the ZT polls that long
 *                    for its next op before it sleeps.
 *   1.6  2026-12-05  Device sets of several t1 members: the kernel opens
 *                    every member of the mounted device's set (found by
 *                    set uuid, or the devs= mount option) and GRAB_PMEM
 *                    lays them out in table order as the t1 range.
 *                    zufs_dev_id.node (was padding): the member's NUMA
 *                    node + 1 when the table was written, 0 unknown.
 *   1.7  2026-12-05  Fewer and cheaper round trips: zufs_op_get_blocks
 *                    ends in a flexible ext[] with ext_max (was padding)
 *                    saying how many extents the kernel takes; the kernel
 *                    copies only the bytes an op uses.  ZUFS_FST_LOCAL_NAMES:
 *                    the kernel answers negative lookups in directories
 *                    it knows completely without asking.  ZUFS_READDIR_PLUS:
 *                    a READDIR answers every entry's attributes too.
 *                    zufs_ioc_init_thread.lane: several channels per CPU.
 *                    ZUFS_IOC_INVALIDATE_NAME: the server makes the kernel
 *                    forget a cached name (positive or negative) under a
 *                    directory, for names another client of a shared
 *                    filesystem changed.
 *   1.8  2026-12-05  Create in one trip (atomic_open): ZUFS_NEW_OPEN asks
 *                    NEW_INODE for a name the kernel has not looked up to
 *                    answer the inode already there (ZUFS_NEW_EXISTED in
 *                    zufs_op_new_inode.result, was padding) instead of
 *                    creating; zufs_op_new_inode.birth_sec/nsec stamp the
 *                    new inode's times and tell a resent op whether the
 *                    dead server created the name.  zufs_ioc_mount.
 *                    entry_ttl_ms/attr_ttl_ms: how long the kernel trusts
 *                    a looked-up name and an inode's attributes.
 *                    ZUFS_OP_EVICT batches: hdr.data_in may carry up to
 *                    ZUFS_EVICT_BATCH - 1 more inode numbers of deleted
 *                    inodes in the data area; the server evicts them all
 *                    in order and answers the first error (the kernel's
 *                    reaper sends the EVICTs of unlinked inodes so).
 *
 * Compatibility rule: kernel and server must agree on the major AND the
 * minor version.  The kernel refuses a mismatching handshake with -EPROTO
 * (and logs both versions); the server prints both versions and exits.
 * Any change to a structure below or to the meaning of a field bumps the
 * minor version at least; changes that are not append-only bump the major.
 *
 * Conventions:
 *  - All structures use fixed-width types, explicit padding, natural
 *    alignment, and are little-endian (x86_64 only for now).
 *  - Errors travel as negative errno values (Linux numbering).
 *  - Everything that comes from the server is untrusted by the kernel: it
 *    copies the answer out of the shared buffer before checking it, and
 *    checks every length, offset, inode number and name.
 */
#ifndef _ZUFS_API_H
#define _ZUFS_API_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/falloc.h>

#define ZUFS_MAJOR_VERSION	1
#define ZUFS_MINOR_VERSION	8

/* Magic of the zuf-root pseudo filesystem (statfs f_type), "zufr" */
#define ZUFS_ROOT_MAGIC		0x7a756672
/* Where the server expects zuf-root to be mounted */
#define ZUFS_ROOT_PATH		"/sys/fs/zuf"
#define ZUFS_ROOT_FSTYPE	"zuf"

#define ZUFS_NAME_MAX		255	/* longest file name, bytes */
#define ZUFS_SYMLINK_MAX	4095	/* longest symlink target, bytes */
#define ZUFS_XATTR_NAME_MAX	255
#define ZUFS_XATTR_SIZE_MAX	65536
#define ZUFS_FS_NAME_MAX	16	/* fs type name incl. the NUL */
#define ZUFS_OPTIONS_MAX	1024	/* mount options string incl. NUL */
#define ZUFS_MSG_MAX		256	/* server's error message incl. NUL */
#define ZUFS_MAX_DEVS		8	/* members of one device set */
#define ZUFS_PMEM_BLOCK		4096	/* unit of pmem addressing */

/*
 * The ZT channel buffer.  Each ZT thread mmaps its channel file: the first
 * ZUFS_OP_AREA_SIZE bytes hold the operation (a struct zufs_op_* that starts
 * with struct zufs_op_hdr); the next ZUFS_DATA_AREA_SIZE bytes carry the
 * variable part of requests and answers (readdir records, xattr values,
 * symlink targets, old-IO data when the window cannot be used).
 */
#define ZUFS_OP_AREA_SIZE	4096
#define ZUFS_DATA_AREA_SIZE	(1U << 20)
#define ZUFS_CHAN_MAP_SIZE	(ZUFS_OP_AREA_SIZE + ZUFS_DATA_AREA_SIZE)

/*
 * The ZT window.  A second mmap of the channel file, MAP_SHARED, exactly
 * ZUFS_WINDOW_SIZE bytes at file offset ZUFS_WINDOW_MMAP_OFFSET.  It is
 * empty (touching it gives SIGBUS) except while the ZT serves an old-IO
 * READ/WRITE flagged ZUFS_IO_WINDOW: then the caller's own pages holding
 * the I/O buffer are mapped there, in order, from the window's start
 * (writable for READ, read-only for WRITE).  The kernel maps them when
 * ZUFS_IOC_WAIT_OP hands the op over and unmaps them when the next
 * ZUFS_IOC_WAIT_OP answers it, both in the ZT's own context; the server
 * must not keep pointers into the window across ops.  One op moves at most
 * ZUFS_IO_MAX bytes; the extra page covers a buffer that does not start
 * on a page boundary.  Each channel has one window; a second mmap of it
 * while the first exists fails with EBUSY, and the window cannot be split,
 * moved, mprotect()ed or inherited across fork.
 */
#define ZUFS_IO_MAX		(1U << 20)
#define ZUFS_WINDOW_PAGES	((ZUFS_IO_MAX >> 12) + 1)
#define ZUFS_WINDOW_SIZE	(ZUFS_WINDOW_PAGES << 12)
#define ZUFS_WINDOW_MMAP_OFFSET	ZUFS_CHAN_MAP_SIZE

/* ---------------------------------------------------------------------- */
/* Inode attributes, as the server reports them                            */
/* ---------------------------------------------------------------------- */

/*
 * struct zufs_attr - an inode's attributes.  Sent by the server in the
 * answer of every operation that creates, finds or changes an inode; the
 * kernel refreshes its in-core inode from it.  Sent by the kernel in
 * SETATTR together with a ZUFS_ATTR_* mask.
 */
struct zufs_attr {
	__u64	ino;		/* inode number, never 0 */
	__u64	size;		/* bytes */
	__u64	blocks;		/* allocated, in 512-byte units */
	__u64	generation;	/* changes when an inode number is reused */
	__s64	atime_sec;
	__s64	mtime_sec;
	__s64	ctime_sec;
	__s64	btime_sec;	/* birth time */
	__u32	atime_nsec;	/* < 1e9 */
	__u32	mtime_nsec;
	__u32	ctime_nsec;
	__u32	btime_nsec;
	__u32	mode;		/* S_IFMT type and permission bits */
	__u32	nlink;
	__u32	uid;
	__u32	gid;
	__u32	rdev;		/* new_encode_dev() of a device special file */
	__u32	flags;		/* FS_*_FL inode flags (chattr) */
};

/* SETATTR mask: which fields of struct zufs_attr to apply */
#define ZUFS_ATTR_MODE		(1U << 0)
#define ZUFS_ATTR_UID		(1U << 1)
#define ZUFS_ATTR_GID		(1U << 2)
#define ZUFS_ATTR_SIZE		(1U << 3)	/* truncate up or down */
#define ZUFS_ATTR_ATIME		(1U << 4)
#define ZUFS_ATTR_MTIME		(1U << 5)
#define ZUFS_ATTR_CTIME		(1U << 6)
#define ZUFS_ATTR_FLAGS		(1U << 7)

/* ---------------------------------------------------------------------- */
/* ioctls on zuf-root's special files                                     */
/* ---------------------------------------------------------------------- */
/*
 * The server opens zuf-root (a directory) with O_TMPFILE|O_RDWR to get an
 * anonymous special file, and gives it a role with its first ioctl:
 *
 *   ZUFS_IOC_HANDSHAKE    the control file (one per zuf-root = one server).
 *                         REGISTER_FS and BREAK_ALL go to it.  Closing it
 *                         (server exit) marks the server dead.
 *   ZUFS_IOC_MOUNT        the mount thread's file.
 *   ZUFS_IOC_GRAB_PMEM    a pmem file: mmap it to see a mount's t1 range.
 *   ZUFS_IOC_INIT_THREAD  a ZT channel file: mmap it (ZUFS_CHAN_MAP_SIZE
 *                         bytes) and loop in ZUFS_IOC_WAIT_OP.
 *
 * Only CAP_SYS_ADMIN may create these files or issue these ioctls.
 * Every ioctl returns 0 or -1 with errno; where the structure has an err
 * field the kernel also stores the negative errno there.
 */
#define ZUFS_IOC_MAGIC		0xB9

/* Handshake: first ioctl of the control file */
struct zufs_ioc_handshake {
	__u32	major;		/* in: server's ZUFS_MAJOR_VERSION; out: kernel's */
	__u32	minor;		/* in: server's ZUFS_MINOR_VERSION; out: kernel's */
	__u32	nr_cpus;	/* out: nr_cpu_ids: channels the server may open */
	__u32	nr_nodes;	/* out: nr_node_ids */
	__u32	op_area_size;	/* out: ZUFS_OP_AREA_SIZE of the kernel */
	__u32	data_area_size;	/* out: ZUFS_DATA_AREA_SIZE of the kernel */
	__s32	err;		/* out */
	__u32	flags;		/* in: ZUFS_HS_* (1.4; was padding) */
	__u64	reserved[4];
};

/*
 * ZUFS_HS_TAKEOVER (1.4): live upgrade.  If a server is running on this
 * zuf-root, the kernel stops it as if it had died (its threads get BREAK,
 * its process SIGTERM, so it flushes its plugins' mounts and exits) and
 * this server takes its place; every superblock of a ZUFS_FST_REATTACH
 * type detaches and re-attaches when this server registers the type (see
 * "Server restart").  A re-attach never starts before the old server's
 * control file is closed (its process is done with the backing store),
 * waiting at most 10 s for that.  Without the flag a running server
 * makes the handshake fail with EBUSY.
 */
#define ZUFS_HS_TAKEOVER	(1U << 0)

/* Filesystem type flags (struct zufs_fs_info.flags) */
#define ZUFS_FST_PMEM		(1U << 0) /* mounts a device set; block map I/O */
#define ZUFS_FST_NODEV		(1U << 1) /* no device (e.g. passthrough) */
#define ZUFS_FST_SYNC_META	(1U << 2) /* metadata durable when an op returns */
#define ZUFS_FST_XATTR		(1U << 3) /* supports xattrs */
#define ZUFS_FST_ACL		(1U << 4) /* kernel may store POSIX ACLs as xattrs */
#define ZUFS_FST_REATTACH	(1U << 5) /* mounts survive the server (1.4) */
/*
 * Nobody but this kernel changes the type's namespaces (1.7): no other
 * client, no change behind its back.  The kernel then knows a directory
 * completely when it made it itself and still holds a dentry for every
 * name added since, and answers lookups of other names there as
 * negative without asking (a create in a new directory is one trip, not
 * a LOOKUP and a NEW_INODE).  Never for a shared or networked store.
 */
#define ZUFS_FST_LOCAL_NAMES	(1U << 6)

struct zufs_fs_info {
	char	name[ZUFS_FS_NAME_MAX];	/* "zpmfs": -t NAME, NUL terminated */
	__u32	magic;		/* statfs f_type */
	__u32	version;	/* the plugin's on-disk format version */
	__u32	flags;		/* ZUFS_FST_* */
	__u32	pad;
	__u64	reserved[4];
};

/* Registration of one filesystem type, on the control file */
struct zufs_ioc_register_fs {
	struct zufs_fs_info info;	/* in */
	__u64	zus_fs_handle;	/* in: server's cookie, echoed in mount ops */
	__s32	err;		/* out */
	__u32	pad;
};

/* Mount-thread operations (struct zufs_ioc_mount.op) */
enum zufs_mount_op {
	ZUFS_M_NONE	= 0,	/* server -> kernel: first call, no answer */
	ZUFS_M_MOUNT	= 1,
	ZUFS_M_UMOUNT	= 2,
	ZUFS_M_REMOUNT	= 3,
	ZUFS_M_BREAK	= 4,	/* kernel -> server: the thread must exit */
};

/* struct zufs_ioc_mount.mount_flags */
#define ZUFS_MF_RDONLY		(1U << 0)
#define ZUFS_MF_SILENT		(1U << 1)
#define ZUFS_MF_REATTACH	(1U << 2) /* MOUNT: take over a detached mount (1.4) */

/*
 * Server restart (1.4).  When a server dies, the superblocks of its types
 * that were registered with ZUFS_FST_REATTACH stay mounted, *detached*.
 * An operation on a detached superblock waits (killable) for a new server,
 * at most reattach_timeout seconds (mount option, default 30) counted from
 * the death; after that, and at once with reattach_timeout=0, on umount
 * and for types without ZUFS_FST_REATTACH, it fails with EIO as before.
 *
 * A new server that registers a type of the same name and kind (PMEM or
 * NODEV, and ACL) adopts it instead of getting EEXIST: before
 * ZUFS_IOC_REGISTER_FS returns, the kernel sends one MOUNT with
 * ZUFS_MF_REATTACH for each detached superblock of the type, through the
 * mount thread (which must be running already), with the original
 * dev_name, the canonical options of the last answer and a new sb_id
 * (GRAB_PMEM key).  The plugin mounts the same backing store again, as
 * after a crash, with two differences: every inode the kernel still holds
 * is live, so it must not free orphans (nlink 0 inodes) at this mount (the
 * kernel sends EVICT for them as usual), and every block it ever answered
 * in GET_BLOCKS for a file must still belong to that file: the kernel
 * keeps its block-map cache (user mappings were zapped at the death and
 * fault again).  The answer must give the same root inode number, block
 * size and max_bytes, else the superblock stays detached (logged).
 * Plugins keep no per-open-file state (there is no open op) and address
 * inodes by number only, so nothing else is replayed: a plugin that keeps
 * per-inode state rebuilds it from the number when the number first comes
 * (zpassthrough finds the backing inode again; one it cannot find answers
 * -ESTALE).  A failed re-attach leaves the superblock detached until its
 * timeout.
 *
 * Operations in flight at the death: one the server had not picked up
 * (POSTED) is simply sent to the new server.  One it had picked up
 * (SERVING: it may or may not have happened on disk) is sent again with
 * ZUFS_OPF_RESENT in hdr.flags (an old-IO op with the same caller pages
 * in the window again).  The kernel holds the same locks across the resend
 * as around the first attempt, so a plugin that supports re-attach
 * answers a resent op as the first attempt would have if it finds that
 * the op already happened:
 *  - LOOKUP, GETATTR, READDIR, READLINK, STATFS, SEEK, GETXATTR,
 *    LISTXATTR, READ, SYNC_FS, FSYNC, EVICT: no change, run again.
 *  - SETATTR (incl. truncate to a size), WRITE (same bytes, same place),
 *    GET_BLOCKS (an allocated block is answered again, not allocated
 *    twice), FALLOCATE modes 0/KEEP_SIZE/PUNCH_HOLE/ZERO_RANGE, CLONE,
 *    SETXATTR without XATTR_CREATE: idempotent, run again.
 *  - NEW_INODE with a name: the kernel saw the name negative; if it
 *    exists now, the create happened: answer that inode (and the dir).
 *    A resent TMPFILE is run again (a first one is an orphan, freed at
 *    the next plain mount).  A resent ZUFS_NEW_OPEN saw nothing: the
 *    name there now is its own creation only if the type has
 *    ZUFS_FST_LOCAL_NAMES and the inode's birth time equals birth_sec/
 *    nsec; anything else is answered with ZUFS_NEW_EXISTED (the caller
 *    opens it as an existing file: O_EXCL gets EEXIST).
 *  - LINK: the name exists with ino: done.  UNLINK (and rmdir): the name
 *    is gone: done (attr: the victim as it is now).
 *  - RENAME: ino is now at new_name (and, with RENAME_EXCHANGE,
 *    target_ino at old_name): done.
 *  - SETXATTR with XATTR_CREATE: the value there equals the one sent:
 *    done.  With ZUFS_XATTR_REMOVE: ENODATA counts as done.
 *  - FALLOCATE COLLAPSE_RANGE / INSERT_RANGE: not verifiable without the
 *    old size; the server answers -EIO (the application sees EIO).
 * zusd implements these checks for every plugin (zus/resend.c) with the
 * plugin's own lookup/getattr/getxattr, then strips the flag.
 */

/*
 * The mount thread loops in ZUFS_IOC_MOUNT.  Each call carries the answer
 * to the previous request (op/err/out fields) and returns with the next
 * request.  Requests are serialized by the kernel: one at a time.
 */
struct zufs_ioc_mount {
	__u32	op;		/* enum zufs_mount_op */
	__s32	err;		/* out (server): 0 or -errno */
	__u64	zus_fs_handle;	/* in: which registered type */
	__u64	zus_sb_handle;	/* MOUNT: out; UMOUNT/REMOUNT: in */
	__u64	sb_id;		/* in: kernel's id of the mount; GRAB_PMEM key */
	__u32	mount_flags;	/* in: ZUFS_MF_* */
	__u32	block_size;	/* MOUNT out: 512..4096, power of two */
	__u64	max_bytes;	/* MOUNT out: s_maxbytes */
	__u64	max_ino;	/* MOUNT out: highest valid inode number */
	struct zufs_attr root;	/* MOUNT out: the root directory */
	char	dev_name[256];	/* in: device named on the command line */
	/* in: plugin options; out (MOUNT/REMOUNT): canonical options shown
	 * in /proc/mounts */
	char	options[ZUFS_OPTIONS_MAX];
	char	msg[ZUFS_MSG_MAX];	/* out: why, when err != 0 */
	__u64	caps;		/* MOUNT out: ZUFS_CAP_* (1.2) */
	/*
	 * MOUNT out (1.8): how long the kernel may trust a name it looked up
	 * (a positive or negative dentry) and an inode's attributes before
	 * it asks again, in ms; 0 for as long as it holds them (nobody else
	 * changes this filesystem, or its server tells the kernel with
	 * ZUFS_IOC_INVALIDATE*).  For stores others change behind the
	 * server's back (a backing tree, a shared cluster).
	 */
	__u32	entry_ttl_ms;
	__u32	attr_ttl_ms;
};

/*
 * Capabilities of a mount (zufs_ioc_mount.caps, answered with MOUNT and
 * fixed for the mount's life): what the server implements beyond the
 * required operations.  The kernel offers reflink, dedupe and each
 * fallocate mode only when its bit is set, and otherwise fails the call
 * with -EOPNOTSUPP before it changes anything (no timestamps, no suid
 * drop, no invalidation), so a probe (a zero-length FICLONERANGE or
 * FIDEDUPERANGE, which asks the server nothing) gets the answer a real
 * call would.  A server whose answer depends on its backing store
 * (passthrough) finds it out while it mounts.  The kernel ignores bits it
 * does not know.
 *
 * A fallocate mode needs one bit for what it does (FALLOC, PUNCH_HOLE,
 * ZERO_RANGE, COLLAPSE_RANGE, INSERT_RANGE or UNSHARE_RANGE) plus
 * KEEP_SIZE when it carries FALLOC_FL_KEEP_SIZE, except PUNCH_HOLE, which
 * always does: zufs_falloc_caps() below is the one mapping.
 */
#define ZUFS_CAP_CLONE		(1ULL << 0)	/* CLONE with ZUFS_CLONE_REFLINK */
#define ZUFS_CAP_DEDUPE		(1ULL << 1)	/* CLONE with ZUFS_CLONE_DEDUPE */
#define ZUFS_CAP_FALLOC		(1ULL << 2)	/* mode 0: allocate (and extend) */
#define ZUFS_CAP_KEEP_SIZE	(1ULL << 3)	/* FALLOC_FL_KEEP_SIZE */
#define ZUFS_CAP_PUNCH_HOLE	(1ULL << 4)	/* FALLOC_FL_PUNCH_HOLE */
#define ZUFS_CAP_ZERO_RANGE	(1ULL << 5)	/* FALLOC_FL_ZERO_RANGE */
#define ZUFS_CAP_COLLAPSE_RANGE	(1ULL << 6)	/* FALLOC_FL_COLLAPSE_RANGE */
#define ZUFS_CAP_INSERT_RANGE	(1ULL << 7)	/* FALLOC_FL_INSERT_RANGE */
#define ZUFS_CAP_UNSHARE_RANGE	(1ULL << 8)	/* FALLOC_FL_UNSHARE_RANGE */
#define ZUFS_CAP_ALL		((1ULL << 9) - 1)

/* The ZUFS_CAP_* bits fallocate mode needs (0: a mode zufs never offers) */
static inline __u64 zufs_falloc_caps(__u32 mode)
{
	__u64 need;

	if (mode & ~(__u32)(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE |
			    FALLOC_FL_ZERO_RANGE | FALLOC_FL_COLLAPSE_RANGE |
			    FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE))
		return 0;
	if (mode & FALLOC_FL_PUNCH_HOLE)
		return ZUFS_CAP_PUNCH_HOLE;
	if (mode & FALLOC_FL_ZERO_RANGE)
		need = ZUFS_CAP_ZERO_RANGE;
	else if (mode & FALLOC_FL_COLLAPSE_RANGE)
		need = ZUFS_CAP_COLLAPSE_RANGE;
	else if (mode & FALLOC_FL_INSERT_RANGE)
		need = ZUFS_CAP_INSERT_RANGE;
	else if (mode & FALLOC_FL_UNSHARE_RANGE)
		need = ZUFS_CAP_UNSHARE_RANGE;
	else
		need = ZUFS_CAP_FALLOC;
	if (mode & FALLOC_FL_KEEP_SIZE)
		need |= ZUFS_CAP_KEEP_SIZE;
	return need;
}

/* A t1 (pmem) member as the server sees it inside the linear range */
struct zufs_pmem_dev {
	__u64	offset;		/* bytes from the start of the range */
	__u64	size;		/* bytes */
	__s32	numa_node;	/* -1 when unknown */
	__u32	pad;
};

/* Bind a pmem file to a mount (sb_id from ZUFS_M_MOUNT), then mmap it */
struct zufs_ioc_pmem {
	__u64	sb_id;		/* in */
	__u64	size;		/* out: bytes of the linear t1 range */
	__u32	ndevs;		/* out: t1 members in devs[] */
	__u32	block_size;	/* out: ZUFS_PMEM_BLOCK */
	struct zufs_pmem_dev devs[ZUFS_MAX_DEVS];	/* out */
	__s32	err;		/* out */
	__u32	pad;
};

/*
 * Make a file a ZT channel of one CPU, then mmap ZUFS_CHAN_MAP_SIZE.
 * (1.7) A CPU may have up to ZUFS_MAX_LANES channels (lanes): a caller
 * takes the first idle lane of its CPU, then any idle channel, so that an
 * op that blocks in the plugin does not hold the CPU's other callers.
 */
struct zufs_ioc_init_thread {
	__u32	channel;	/* in: the CPU this channel serves */
	__s32	numa_node;	/* out: node the buffer was allocated on */
	__u64	map_size;	/* out: ZUFS_CHAN_MAP_SIZE */
	__s32	err;		/* out */
	/*
	 * in (1.5): after answering, WAIT_OP polls this many microseconds
	 * for the next op before it sleeps (0: sleep at once).  The kernel
	 * caps it at ZUFS_SPIN_MAX_US and stops early when another task
	 * wants the CPU or a signal is pending.
	 */
	__u32	spin_us;
	__u32	lane;		/* in (1.7): 0..ZUFS_MAX_LANES - 1 */
	__u32	pad;
};
#define ZUFS_SPIN_MAX_US	1000
#define ZUFS_MAX_LANES		4

#define ZUFS_IOC_HANDSHAKE	_IOWR(ZUFS_IOC_MAGIC, 1, struct zufs_ioc_handshake)
#define ZUFS_IOC_REGISTER_FS	_IOWR(ZUFS_IOC_MAGIC, 2, struct zufs_ioc_register_fs)
#define ZUFS_IOC_MOUNT		_IOWR(ZUFS_IOC_MAGIC, 3, struct zufs_ioc_mount)
#define ZUFS_IOC_GRAB_PMEM	_IOWR(ZUFS_IOC_MAGIC, 4, struct zufs_ioc_pmem)
#define ZUFS_IOC_INIT_THREAD	_IOWR(ZUFS_IOC_MAGIC, 5, struct zufs_ioc_init_thread)
/*
 * ZT loop: the call answers the operation now in the buffer (if any) and
 * sleeps until the next one is there.  Returns 0 with an op in the buffer,
 * -1/EINTR on a signal (call again: an answer is never delivered twice).
 * An op of ZUFS_OP_BREAK means: leave the loop.
 */
#define ZUFS_IOC_WAIT_OP	_IO(ZUFS_IOC_MAGIC, 6)
/* On the control file: wake every ZT and the mount thread with BREAK */
#define ZUFS_IOC_BREAK_ALL	_IO(ZUFS_IOC_MAGIC, 7)

/*
 * On the control file: the server moved or freed blocks of [offset,
 * offset + length) (length 0: to the end) of inode ino of mount sb_id on
 * its own, not as the answer to an op.  When the call returns 0 the kernel
 * keeps no cached block map of that range, user mappings of it are gone
 * (they fault again), dirty page-cache pages of it were written back and
 * dropped, and no I/O that used an old mapping is still running.  -ENOENT:
 * no such mount.  An inode the kernel does not hold has nothing cached: 0.
 * The kernel takes the inode's lock and may send ops itself (an evict), so
 * call it from a thread that is not a ZT, never from inside an op.
 */
struct zufs_ioc_invalidate {
	__u64	sb_id;		/* in: zufs_ioc_mount.sb_id of the mount */
	__u64	ino;		/* in */
	__u64	offset;		/* in: bytes */
	__u64	length;		/* in: bytes, 0 = to the end of the file */
	__s32	err;		/* out */
	__u32	pad;
};
#define ZUFS_IOC_INVALIDATE	_IOWR(ZUFS_IOC_MAGIC, 8, struct zufs_ioc_invalidate)

/*
 * On the control file: mount sb_id went read-only on the server's side
 * (a plugin's errors=remount-ro found corruption).  When the call returns
 * 0 the kernel holds the mount read-only too: no write starts any more,
 * also none the kernel would have served from its cached block maps
 * without asking.  A remount read-write asks the server again.  Takes no
 * inode lock and sends no op, so a ZT may call it from inside an op.
 * -ENOENT: no such mount.
 */
struct zufs_ioc_sb_rdonly {
	__u64	sb_id;		/* in: zufs_ioc_mount.sb_id of the mount */
	__s32	err;		/* out */
	__u32	pad;
};
#define ZUFS_IOC_SB_RDONLY	_IOWR(ZUFS_IOC_MAGIC, 9, struct zufs_ioc_sb_rdonly)

/*
 * On the control file (1.7): the name name under directory dir_ino of
 * mount sb_id changed on the server's side without an op from this kernel
 * (another client of a shared filesystem removed, renamed or created it).
 * When the call returns 0 the kernel keeps no cached lookup result of that
 * name, positive or negative: its next use asks the server.  A directory
 * the kernel does not hold, or a name it has not cached, is 0.  -ENOENT:
 * no such mount; -EINVAL: name_len not 1..ZUFS_NAME_MAX, or the name has
 * a '/' or NUL, or is "." or "..".  A cached directory name that is a
 * mount point is detached, as on NFS.  Takes the directory's dentry
 * locks and sends no op, but may evict inodes (which sends ops): call it
 * from a thread that is not a ZT.
 */
struct zufs_ioc_invalidate_name {
	__u64	sb_id;		/* in: zufs_ioc_mount.sb_id of the mount */
	__u64	dir_ino;	/* in */
	__s32	err;		/* out */
	__u16	name_len;	/* in */
	__u16	pad;
	char	name[ZUFS_NAME_MAX + 1];	/* in: NUL not needed */
};
#define ZUFS_IOC_INVALIDATE_NAME \
	_IOWR(ZUFS_IOC_MAGIC, 11, struct zufs_ioc_invalidate_name)

/* ---------------------------------------------------------------------- */
/* ioctl on a file or directory of a mounted zufs filesystem (1.5)        */
/* ---------------------------------------------------------------------- */
/*
 * ZUFS_IOC_NULL_OP sends one ZUFS_OP_NULL to the mount's server and waits
 * for its answer: the cost of a bare round trip, for benchmarks
 * (bench/rtbench.c).  Any user who can open the file may call it; it
 * changes nothing.  With ZUFS_NULL_STAMPS it also fills t[] with
 * CLOCK_MONOTONIC nanoseconds at each step of the trip (0: not reached);
 * the two server stamps are what the server answered and are only as
 * honest as the server.  channel picks the channel (a CPU number) for a
 * cross-CPU measurement; ZUFS_NULL_ANY_CHAN takes the caller's CPU's, as
 * every other op does.  A busy or missing channel falls back as usual
 * (t[ZUFS_NULL_T_CLAIMED] and chan_used tell).
 */
enum zufs_null_stamp {
	ZUFS_NULL_T_ENTER,	/* ioctl entered */
	ZUFS_NULL_T_CLAIMED,	/* a channel is ours */
	ZUFS_NULL_T_POSTED,	/* request in the buffer, ZT woken */
	ZUFS_NULL_T_PICKED,	/* the ZT took it, in the kernel */
	ZUFS_NULL_T_SRV_IN,	/* the server's handler started (server) */
	ZUFS_NULL_T_SRV_OUT,	/* the server's handler ended (server) */
	ZUFS_NULL_T_ANSWERED,	/* the ZT's answer reached the kernel */
	ZUFS_NULL_T_WOKEN,	/* the caller runs again */
	ZUFS_NULL_T_DONE,	/* the answer is copied out and checked */
	ZUFS_NULL_NSTAMPS
};
#define ZUFS_NULL_ANY_CHAN	0xffffffffU
#define ZUFS_NULL_STAMPS	(1U << 0)

struct zufs_ioc_null {
	__u32	channel;	/* in: CPU number or ZUFS_NULL_ANY_CHAN */
	__u32	flags;		/* in: ZUFS_NULL_STAMPS */
	__u32	chan_used;	/* out: the channel it travelled on */
	__u32	pad;
	__u64	t[ZUFS_NULL_NSTAMPS];	/* out: see enum zufs_null_stamp */
};
#define ZUFS_IOC_NULL_OP	_IOWR(ZUFS_IOC_MAGIC, 10, struct zufs_ioc_null)

/* ---------------------------------------------------------------------- */
/* Operations carried by the ZT channels                                  */
/* ---------------------------------------------------------------------- */

enum zufs_op {
	ZUFS_OP_NULL		= 0,	/* does nothing; for latency tests:
					 * with data_max >= 16 the server may
					 * answer its handler's start and end
					 * (two __u64 CLOCK_MONOTONIC ns) */
	ZUFS_OP_BREAK		= 1,	/* leave the ZT loop */
	ZUFS_OP_STATFS		= 2,
	ZUFS_OP_SYNC_FS		= 3,
	ZUFS_OP_LOOKUP		= 4,
	ZUFS_OP_GETATTR		= 5,
	ZUFS_OP_SETATTR		= 6,
	ZUFS_OP_NEW_INODE	= 7,	/* create, mkdir, mknod, symlink, tmpfile */
	ZUFS_OP_LINK		= 8,
	ZUFS_OP_UNLINK		= 9,	/* unlink and rmdir */
	ZUFS_OP_RENAME		= 10,
	ZUFS_OP_READDIR		= 11,
	ZUFS_OP_READLINK	= 12,
	ZUFS_OP_EVICT		= 13,	/* kernel dropped the inode */
	ZUFS_OP_GET_BLOCKS	= 14,	/* pmem: file range -> pmem extents */
	ZUFS_OP_READ		= 15,	/* old-IO: data in the data area */
	ZUFS_OP_WRITE		= 16,
	ZUFS_OP_FSYNC		= 17,
	ZUFS_OP_FALLOCATE	= 18,
	ZUFS_OP_SEEK		= 19,	/* SEEK_DATA / SEEK_HOLE */
	ZUFS_OP_CLONE		= 20,	/* reflink or copy a range */
	ZUFS_OP_GETXATTR	= 21,
	ZUFS_OP_SETXATTR	= 22,	/* also removes */
	ZUFS_OP_LISTXATTR	= 23,
	ZUFS_OP_MAX_OPT
};

/*
 * struct zufs_op_hdr - starts every operation in the channel's op area.
 * The kernel fills everything but err/data_out; the server fills err and
 * data_out and the op's "out" fields.
 */
struct zufs_op_hdr {
	__u32	op;		/* enum zufs_op */
	__u32	flags;		/* op specific */
	__u64	sb_handle;	/* server's handle of the mount (zus_sb_handle) */
	__s32	err;		/* out: 0 or -errno */
	__u32	data_in;	/* bytes of request data in the data area */
	__u32	data_max;	/* room for answer data in the data area */
	__u32	data_out;	/* out: bytes of answer data (<= data_max) */
	__u32	uid;		/* caller's fsuid, for new inodes / checks */
	__u32	gid;		/* caller's fsgid */
	__s64	now_sec;	/* kernel's current time, for timestamps */
	__u32	now_nsec;
	__u32	cpu;		/* channel number the op travels on */
	__u64	seq;		/* per-channel sequence number, for tracing */
};

/* hdr.flags bit of every op: sent again after a server death (1.4) */
#define ZUFS_OPF_RESENT		(1U << 31)

/* A name inside an operation; not NUL terminated on the wire (len counts) */
struct zufs_name {
	__u16	len;		/* 1..ZUFS_NAME_MAX */
	__u8	pad[6];
	char	name[ZUFS_NAME_MAX + 1];	/* NUL added for convenience */
};

struct zufs_statfs {
	__u64	blocks;		/* in units of bsize */
	__u64	bfree;
	__u64	bavail;
	__u64	files;
	__u64	ffree;
	__u64	fsid;
	__u32	bsize;
	__u32	namelen;
};

/* ZUFS_OP_STATFS */
struct zufs_op_statfs {
	struct zufs_op_hdr hdr;
	struct zufs_statfs st;		/* out */
};

/* ZUFS_OP_SYNC_FS: hdr.flags bit 0 = wait */
struct zufs_op_sync_fs {
	struct zufs_op_hdr hdr;
};

/* ZUFS_OP_LOOKUP: -ENOENT when the name is not there */
struct zufs_op_lookup {
	struct zufs_op_hdr hdr;
	__u64	dir_ino;		/* in */
	struct zufs_name name;		/* in */
	struct zufs_attr attr;		/* out: the inode found */
};

/* ZUFS_OP_GETATTR */
struct zufs_op_getattr {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
	struct zufs_attr attr;		/* out */
};

/* ZUFS_OP_SETATTR: apply attr fields selected by mask (ZUFS_ATTR_*) */
struct zufs_op_setattr {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
	__u32	mask;			/* in: ZUFS_ATTR_* */
	__u32	pad;
	struct zufs_attr set;		/* in: new values */
	struct zufs_attr attr;		/* out: resulting attributes */
};

/* ZUFS_OP_NEW_INODE hdr.flags */
#define ZUFS_NEW_TMPFILE	(1U << 0)	/* no name: O_TMPFILE in dir_ino */
#define ZUFS_NEW_OPEN		(1U << 1)	/* open(O_CREAT): see below (1.8) */

/* zufs_op_new_inode.result */
#define ZUFS_NEW_EXISTED	(1U << 0)	/* ZUFS_NEW_OPEN found the name */

/*
 * ZUFS_OP_NEW_INODE: create a regular file, directory, device node, fifo,
 * socket or symlink (mode's type says which).  A symlink's target is in the
 * data area (hdr.data_in bytes, no NUL).  uid/gid are the owner the kernel
 * decided (setgid directories already applied).
 *
 * ZUFS_NEW_OPEN (regular files only) is open(2) with O_CREAT of a name the
 * kernel has not looked up, so that an open that creates costs one trip:
 * if dir_ino/name exists, the server creates nothing and answers the
 * inode there in attr (any type; the kernel then opens it as a lookup
 * would have found it, O_EXCL failing with EEXIST), the directory in
 * dir_attr and ZUFS_NEW_EXISTED in result.  Otherwise it creates the file
 * with every time set to birth_sec/nsec instead of hdr.now: the kernel
 * makes that stamp unique within the mount, so that a resent op (server
 * restart) of a filesystem with ZUFS_FST_LOCAL_NAMES knows the name is its
 * own creation when the inode's birth time equals it.  Any other inode
 * found there on a resend is answered as existing.
 */
struct zufs_op_new_inode {
	struct zufs_op_hdr hdr;
	__u64	dir_ino;		/* in */
	__u32	mode;			/* in */
	__u32	rdev;			/* in: new_encode_dev() */
	__u32	uid;			/* in */
	__u32	gid;			/* in */
	__u32	iflags;			/* in: FS_*_FL inherited from the dir */
	__u32	result;			/* out: ZUFS_NEW_EXISTED or 0 */
	__s64	birth_sec;		/* in, with ZUFS_NEW_OPEN */
	__u32	birth_nsec;		/* in, with ZUFS_NEW_OPEN: < 1e9 */
	__u32	pad;
	struct zufs_name name;		/* in (unused with ZUFS_NEW_TMPFILE) */
	struct zufs_attr attr;		/* out: the new inode */
	struct zufs_attr dir_attr;	/* out: the directory after the change */
};

/* ZUFS_OP_LINK: new name newdir/name for inode ino */
struct zufs_op_link {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
	__u64	dir_ino;		/* in */
	struct zufs_name name;		/* in */
	struct zufs_attr attr;		/* out: ino (nlink, ctime) */
	struct zufs_attr dir_attr;	/* out */
};

/* ZUFS_OP_UNLINK hdr.flags */
#define ZUFS_UNLINK_DIR		(1U << 0)	/* rmdir: victim must be an empty dir */

/* ZUFS_OP_UNLINK: remove dir_ino/name, which the kernel knows as ino */
struct zufs_op_unlink {
	struct zufs_op_hdr hdr;
	__u64	dir_ino;		/* in */
	__u64	ino;			/* in: the victim */
	struct zufs_name name;		/* in */
	struct zufs_attr attr;		/* out: victim after the change */
	struct zufs_attr dir_attr;	/* out */
};

/*
 * ZUFS_OP_RENAME: hdr.flags are the renameat2() flags (RENAME_NOREPLACE 1,
 * RENAME_EXCHANGE 2, RENAME_WHITEOUT 4).  ino/target_ino are what the kernel
 * sees at the two names (target_ino 0: no target).
 */
struct zufs_op_rename {
	struct zufs_op_hdr hdr;
	__u64	old_dir_ino;		/* in */
	__u64	new_dir_ino;		/* in */
	__u64	ino;			/* in */
	__u64	target_ino;		/* in */
	struct zufs_name old_name;	/* in */
	struct zufs_name new_name;	/* in */
	struct zufs_attr attr;		/* out: the moved inode */
	struct zufs_attr target_attr;	/* out: the target (if any) after */
	struct zufs_attr old_dir_attr;	/* out */
	struct zufs_attr new_dir_attr;	/* out (== old_dir_attr if same dir) */
	struct zufs_attr whiteout_attr;	/* out: with RENAME_WHITEOUT */
};

/*
 * ZUFS_OP_READDIR: fill the data area (up to hdr.data_max bytes) with
 * struct zufs_dirent records for entries at positions >= pos.  "." and ".."
 * are the kernel's (positions 0 and 1); server positions start at 2 and are
 * stable cookies: an entry keeps its position while it exists, and a
 * position is never handed to two live entries.
 */
#define ZUFS_DIR_POS_FIRST	2

/*
 * ZUFS_OP_READDIR hdr.flags (1.7): each record is followed by the struct
 * zufs_attr of its inode (ZUFS_DIRENT_PLUS_SIZE), so that listing a
 * directory and stat()ing its entries (ls -l) costs no LOOKUP per entry:
 * the kernel makes their dentries from it.  An entry whose attributes
 * could not be read has attr.ino 0 (the kernel then looks it up later).
 */
#define ZUFS_READDIR_PLUS	(1U << 0)

struct zufs_op_readdir {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
	__u64	pos;			/* in: first position wanted */
	__u32	count;			/* out: records in the data area */
	__u32	eof;			/* out: 1 when nothing follows */
};

struct zufs_dirent {
	__u64	ino;
	__u64	next_pos;	/* position to resume after this entry */
	__u16	name_len;	/* 1..ZUFS_NAME_MAX */
	__u8	type;		/* DT_* */
	__u8	pad[5];
	char	name[];		/* name_len bytes, no NUL */
};
/* Bytes one record takes: header + name rounded up to 8 */
#define ZUFS_DIRENT_SIZE(len) \
	((sizeof(struct zufs_dirent) + (len) + 7) & ~(__u32)7)
/* With ZUFS_READDIR_PLUS: the record, then its struct zufs_attr */
#define ZUFS_DIRENT_PLUS_SIZE(len) \
	(ZUFS_DIRENT_SIZE(len) + (__u32)sizeof(struct zufs_attr))

/* ZUFS_OP_READLINK: target in the data area, hdr.data_out bytes */
struct zufs_op_readlink {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
};

/*
 * ZUFS_OP_EVICT: kernel holds no reference any more; free if nlink == 0.
 * Batched: hdr.data_in may carry more inode numbers (__u64 each, a multiple
 * of 8 bytes, at most ZUFS_EVICT_BATCH - 1 of them) in the data area, all
 * of deleted inodes the kernel dropped; the server evicts @ino, then each
 * of them in order, goes on past a failure and answers the first error.
 * The kernel's reaper (inode.c) batches the EVICTs of unlinked inodes this
 * way; a server rejects a bad data_in or an inode number 0 with -EINVAL
 * before evicting anything.
 */
#define ZUFS_EVICT_BATCH	64	/* inodes one EVICT may carry */
struct zufs_op_evict {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
};

/* One mapping of a file range to the t1 (pmem) range */
#define ZUFS_EXT_HOLE		(1U << 0)	/* no blocks: reads as zeros */
#define ZUFS_EXT_NEW		(1U << 1)	/* just allocated (zeroed) */
/*
 * (1.3) The blocks are shared with another file or another place of this
 * one (reflink): they may be read in place, never stored into, mapped into
 * a process or cached by the kernel (the server may repoint the file at a
 * copy at any time, on a write to the other owner).  Never with HOLE or
 * NEW, never in the answer to a ZUFS_GB_WRITE or ZUFS_GB_MAP request.
 */
#define ZUFS_EXT_SHARED		(1U << 2)

struct zufs_extent {
	__u64	offset;		/* file offset, bytes, block aligned */
	__u64	pmem_off;	/* offset in the t1 range, bytes (not for holes) */
	__u64	length;		/* bytes, block aligned, > 0 */
	__u32	flags;		/* ZUFS_EXT_* */
	__u32	pad;
};

#define ZUFS_MAX_EXTENTS	64

/* ZUFS_OP_GET_BLOCKS hdr.flags */
#define ZUFS_GB_WRITE		(1U << 0)	/* allocate holes (zeroed) */
/*
 * (1.3) The kernel will map the blocks into a process (a DAX fault, read
 * or write) or store into them in place (zeroing a partial block): the
 * server unshares every shared block of the answer first (new block,
 * whole old content copied and persisted, file repointed), so the answer
 * has no ZUFS_EXT_SHARED extent.  Holes stay holes unless GB_WRITE is set
 * too; size and times do not change for the unsharing.
 */
#define ZUFS_GB_MAP		(1U << 1)

/*
 * ZUFS_OP_GET_BLOCKS: map [offset, offset + length) of ino to pmem.  The
 * answer covers a prefix of the range, in order, with no gaps, starting at
 * the block containing offset.  With ZUFS_GB_WRITE there are no holes in
 * the answer and the server sets size = max(size, size_after) and
 * mtime = ctime = now, so an appending write costs one round trip; the
 * kernel sends SETATTR if it then copies less than it asked for.
 */
struct zufs_op_get_blocks {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
	__u64	offset;			/* in: bytes */
	__u64	length;			/* in: bytes */
	__u64	size_after;		/* in (WRITE): file size after the write */
	__u32	count;			/* out: extents used, <= ext_max */
	__u32	ext_max;		/* in: room for this many (1.7) */
	struct zufs_attr attr;		/* out */
	/*
	 * out.  The kernel sends the op with room for ext_max extents
	 * (1..ZUFS_MAX_EXTENTS; the op area always has room for all of
	 * them) and copies back only those; more is a bad answer (1.7: the
	 * array was fixed at ZUFS_MAX_EXTENTS).
	 */
	struct zufs_extent ext[];
};

/*
 * ZUFS_OP_READ / ZUFS_OP_WRITE (plugins without pmem).  At most ZUFS_IO_MAX
 * bytes per op.  Where the data is:
 *  - hdr.flags has ZUFS_IO_WINDOW: in the ZT window (see ZUFS_WINDOW_SIZE),
 *    from byte win_offset (< 4096) on, length bytes; READ writes there,
 *    WRITE reads from there.  data_in and data_max are 0, and a READ answers
 *    with data_out 0.  The kernel uses the window whenever it can pin the
 *    caller's buffer (user memory, page-cache pages).
 *  - otherwise: in the data area (WRITE: hdr.data_in bytes; READ: up to
 *    hdr.data_max, answer in hdr.data_out).
 * done (<= length) is what the plugin read or wrote; short is fine (EOF).
 */
#define ZUFS_IO_WINDOW		(1U << 0)

struct zufs_op_io {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
	__u64	offset;			/* in */
	__u64	length;			/* in */
	__u64	done;			/* out: bytes read or written */
	struct zufs_attr attr;		/* out (WRITE): size, mtime */
	__u32	win_offset;		/* in: ZUFS_IO_WINDOW: first byte */
	__u32	pad;
};

/* ZUFS_OP_FSYNC hdr.flags */
#define ZUFS_FSYNC_DATAONLY	(1U << 0)

struct zufs_op_fsync {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
	__u64	offset;			/* in */
	__u64	length;			/* in */
};

/* ZUFS_OP_FALLOCATE: mode is fallocate(2)'s FALLOC_FL_* */
struct zufs_op_fallocate {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
	__u64	offset;			/* in */
	__u64	length;			/* in */
	__u32	mode;			/* in */
	__u32	pad;
	struct zufs_attr attr;		/* out */
};

/* ZUFS_OP_SEEK: whence is SEEK_DATA (3) or SEEK_HOLE (4) */
struct zufs_op_seek {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
	__u64	offset;			/* in */
	__u32	whence;			/* in */
	__u32	pad;
	__u64	result;			/* out: -ENXIO past the end */
};

/* ZUFS_OP_CLONE hdr.flags */
#define ZUFS_CLONE_REFLINK	(1U << 0)	/* share blocks, or -EOPNOTSUPP */
/*
 * Copy the bytes (copy_file_range).  A server whose mount has
 * ZUFS_CAP_CLONE may share whole blocks instead of copying them (1.3).
 */
#define ZUFS_CLONE_COPY		(1U << 1)
/*
 * Share blocks only if both ranges hold the same bytes (FIDEDUPERANGE;
 * 1.2, ZUFS_CAP_DEDUPE): the server compares and shares atomically and
 * answers -EBADE, changing nothing, when they differ.  length > 0.
 */
#define ZUFS_CLONE_DEDUPE	(1U << 2)

struct zufs_op_clone {
	struct zufs_op_hdr hdr;
	__u64	src_ino;		/* in */
	__u64	dst_ino;		/* in */
	__u64	src_offset;		/* in */
	__u64	dst_offset;		/* in */
	__u64	length;			/* in: 0 with REFLINK = to src EOF */
	__u64	done;			/* out: bytes */
	struct zufs_attr attr;		/* out: dst after */
};

/*
 * Xattrs: names are full ("user.foo", "trusted.x", "security.y",
 * "system.posix_acl_access").  GET: value in the data area, hdr.data_out
 * bytes; with hdr.data_max == 0 only the size (in size) is asked.
 * SET: value in the data area (hdr.data_in bytes); flags XATTR_CREATE (1)
 * / XATTR_REPLACE (2); ZUFS_XATTR_REMOVE removes.  LIST: NUL separated
 * names in the data area; data_max == 0 asks for the size.
 */
#define ZUFS_XATTR_REMOVE	(1U << 8)

struct zufs_op_xattr {
	struct zufs_op_hdr hdr;
	__u64	ino;			/* in */
	__u32	flags;			/* in (SET) */
	__u32	size;			/* out: value / list size */
	struct zufs_name name;		/* in (GET/SET) */
	struct zufs_attr attr;		/* out (SET): ctime */
};

/* ---------------------------------------------------------------------- */
/* The device table (md): first bytes of every member device              */
/* ---------------------------------------------------------------------- */
/*
 * Every member of a device set starts with this table at byte 0 of its
 * first ZUFS_PMEM_BLOCK.  That block belongs to the table: a plugin's own
 * superblock starts at the second block of the t1 range.  Members are
 * listed in set order, t1 (pmem) first, then t2 (block).  Every member's
 * table is the same but for dev_index and csum.
 *
 * The t1 range a mount's server sees (GRAB_PMEM) is the t1 members one
 * after the other in table order, each devs[i].blocks long: member i
 * starts at the sum of the sizes before it, and its first block there is
 * its own copy of this table (never a plugin's to allocate; the kernel
 * refuses extents on it).  zufs_ioc_pmem.devs[] gives each member's
 * offset, size and NUMA node as the kernel found them at mount.  Mount
 * opens every member exclusively and refuses, naming the device, a set
 * with a member missing, a device of another set, two devices claiming
 * one index, or tables that disagree.  t2 members are not supported yet.
 * csum is the
 * CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320, init and final xor ~0,
 * as zlib's crc32()) of the whole structure with csum set to 0.
 */
#define ZUFS_DEV_TABLE_MAGIC	0x5456454453465a55ULL	/* "UZFSDEVT" le */
#define ZUFS_DEV_TABLE_VERSION	1
#define ZUFS_DEV_TABLE_OFFSET	0

struct zufs_dev_id {
	__u8	uuid[16];
	__u64	blocks;		/* size in ZUFS_PMEM_BLOCK units */
	__u32	flags;		/* reserved, 0 */
	__u32	node;		/* 1.5: NUMA node + 1 when written, 0 unknown;
				 * informative: placement follows the node
				 * the kernel reports at mount */
};

struct zufs_dev_table {
	__u64	magic;		/* ZUFS_DEV_TABLE_MAGIC */
	__u32	version;	/* ZUFS_DEV_TABLE_VERSION */
	__u32	csum;
	__u8	set_uuid[16];	/* the set */
	char	fs_type[ZUFS_FS_NAME_MAX];	/* owner, e.g. "zpmfs" */
	__u16	dev_index;	/* this member's index in devs[] */
	__u16	t1_count;
	__u16	t2_count;
	__u16	pad;
	__u32	block_size;	/* ZUFS_PMEM_BLOCK */
	__u32	pad2;
	struct zufs_dev_id devs[ZUFS_MAX_DEVS];
	__u8	reserved[192];
};

/* ---------------------------------------------------------------------- */
/* Static checks: both halves compile these                               */
/* ---------------------------------------------------------------------- */
#define ZUFS_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " size changed")
#define ZUFS_ASSERT_OFF(type, field, off) \
	_Static_assert(__builtin_offsetof(type, field) == (off), \
		       #type "." #field " moved")

ZUFS_ASSERT_SIZE(struct zufs_attr, 104);
ZUFS_ASSERT_OFF(struct zufs_attr, atime_nsec, 64);
ZUFS_ASSERT_OFF(struct zufs_attr, mode, 80);
ZUFS_ASSERT_SIZE(struct zufs_ioc_handshake, 64);
ZUFS_ASSERT_SIZE(struct zufs_fs_info, 64);
ZUFS_ASSERT_SIZE(struct zufs_ioc_register_fs, 80);
ZUFS_ASSERT_OFF(struct zufs_ioc_mount, root, 56);
ZUFS_ASSERT_OFF(struct zufs_ioc_mount, options, 416);
ZUFS_ASSERT_SIZE(struct zufs_ioc_mount, 1712);
ZUFS_ASSERT_OFF(struct zufs_ioc_mount, caps, 1696);
ZUFS_ASSERT_SIZE(struct zufs_pmem_dev, 24);
ZUFS_ASSERT_SIZE(struct zufs_ioc_pmem, 224);
ZUFS_ASSERT_SIZE(struct zufs_ioc_init_thread, 32);
ZUFS_ASSERT_SIZE(struct zufs_ioc_invalidate, 40);
ZUFS_ASSERT_SIZE(struct zufs_ioc_sb_rdonly, 16);
ZUFS_ASSERT_SIZE(struct zufs_ioc_invalidate_name, 280);
ZUFS_ASSERT_SIZE(struct zufs_ioc_null, 88);
ZUFS_ASSERT_SIZE(struct zufs_op_hdr, 64);
ZUFS_ASSERT_SIZE(struct zufs_name, 264);
ZUFS_ASSERT_SIZE(struct zufs_statfs, 56);
ZUFS_ASSERT_SIZE(struct zufs_op_lookup, 440);
ZUFS_ASSERT_SIZE(struct zufs_op_setattr, 288);
ZUFS_ASSERT_SIZE(struct zufs_op_new_inode, 584);
ZUFS_ASSERT_SIZE(struct zufs_op_rename, 1144);
ZUFS_ASSERT_SIZE(struct zufs_op_readdir, 88);
ZUFS_ASSERT_SIZE(struct zufs_dirent, 24);
ZUFS_ASSERT_SIZE(struct zufs_extent, 32);
ZUFS_ASSERT_SIZE(struct zufs_op_get_blocks, 208);
ZUFS_ASSERT_SIZE(struct zufs_op_io, 208);
ZUFS_ASSERT_OFF(struct zufs_op_io, win_offset, 200);
_Static_assert(ZUFS_WINDOW_SIZE == ZUFS_IO_MAX + 4096,
	       "the window holds one op of any alignment");
_Static_assert(ZUFS_IO_MAX <= ZUFS_DATA_AREA_SIZE,
	       "an op without the window fits the data area");
ZUFS_ASSERT_SIZE(struct zufs_op_clone, 216);
ZUFS_ASSERT_SIZE(struct zufs_op_xattr, 448);
ZUFS_ASSERT_SIZE(struct zufs_dev_id, 32);
ZUFS_ASSERT_SIZE(struct zufs_dev_table, 512);
_Static_assert(sizeof(struct zufs_op_get_blocks) +
	       ZUFS_MAX_EXTENTS * sizeof(struct zufs_extent) <=
	       ZUFS_OP_AREA_SIZE,
	       "get_blocks must fit the op area");
_Static_assert(sizeof(struct zufs_op_rename) <= ZUFS_OP_AREA_SIZE,
	       "rename must fit the op area");
ZUFS_ASSERT_SIZE(struct zufs_op_evict, 72);
_Static_assert((ZUFS_EVICT_BATCH - 1) * sizeof(__u64) <= ZUFS_DATA_AREA_SIZE,
	       "a batch of EVICTs fits the data area");

#endif /* _ZUFS_API_H */
