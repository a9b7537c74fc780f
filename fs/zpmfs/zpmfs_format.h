/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zpmfs_format.h - the on-pmem format of zpmfs.  Shared by the plugin,
 * mkfs.zpmfs and fsck.zpmfs.  Everything is little-endian, fixed width.
 *
 * Format history (ZPMFS_FORMAT_VERSION):
 *   1  2026-11-25  first version.
 *      2026-12-05  the log area holds the journal (same version: mkfs
 *                  always zeroed it, so an empty log reads as "nothing
 *                  in flight"; a zpmfs from before ignores a pending op,
 *                  so after a crash mount with this one first).
 *      2026-12-05  feature ZPMFS_FEAT_REFLINK: the refcount table (an
 *                  image without it mounts as before, without reflink).
 *
 * Layout of the t1 range, in ZPMFS_BLOCK units:
 *
 *   0                  device table (struct zufs_dev_table, include/zufs_api.h)
 *   1                  superblock (struct zpmfs_super)
 *   2                  superblock copy, for recovery
 *   log_start..        log area: the journal's undo slots (below)
 *   itable_start..     inode table: inode_count inodes of ZPMFS_INODE_SIZE
 *   bitmap_start..     block bitmap, one bit per block of the whole range
 *   refcount_start..   (ZPMFS_FEAT_REFLINK) one uint32_t per block of the
 *                      whole range: how many owners a data block has
 *                      beyond the first (0: exclusive or free)
 *   data_start..       data blocks (file data, radix nodes, dir blocks,
 *                      xattr blocks, long symlinks)
 *
 * Inode numbers are table index + 1 (0 is never valid); the root is 1.
 *
 * Files map their blocks with a radix tree of height map_height (0..4):
 * height 0 means map_root is the data block of file block 0 (or 0: empty);
 * height h >= 1 means map_root is a node of 512 block numbers, each one the
 * root of a tree of height h - 1.  0 in a node is a hole.
 *
 * Directories are files whose blocks hold dentries: a block is 128 slots of
 * 32 bytes; the first 4 slots hold the slot map (one byte per slot: 0 free,
 * 1..9 a record of that many slots starts here, 0xff continuation).  The
 * slot-map byte of a record's first slot is its commit point: the record's
 * bytes are persisted before it is set, and clearing it removes the entry.
 * readdir positions are (block * 128 + slot + ZUFS_DIR_POS_FIRST).
 */
#ifndef _ZPMFS_FORMAT_H
#define _ZPMFS_FORMAT_H

#include <stdint.h>
#include <string.h>

#include "zufs_api.h"

#define ZPMFS_NAME		"zpmfs"
#define ZPMFS_MAGIC		0x7a706d66U	/* "zpmf", statfs f_type */
#define ZPMFS_SB_MAGIC		0x3153464d505a5aULL	/* "ZZPMFS1" */
#define ZPMFS_FORMAT_VERSION	1

#define ZPMFS_BLOCK		ZUFS_PMEM_BLOCK
#define ZPMFS_BLOCK_SHIFT	12
#define ZPMFS_SB_BLOCK		1
#define ZPMFS_SB_COPY_BLOCK	2
#define ZPMFS_LOG_START		3
#define ZPMFS_LOG_BLOCKS	16

#define ZPMFS_ROOT_INO		1
#define ZPMFS_INODE_SIZE	256
#define ZPMFS_INODES_PER_BLOCK	(ZPMFS_BLOCK / ZPMFS_INODE_SIZE)

#define ZPMFS_MAP_FANOUT	512	/* block numbers per radix node */
#define ZPMFS_MAP_SHIFT		9
#define ZPMFS_MAP_MAX_HEIGHT	4	/* 2^36 blocks: beyond max_bytes */
#define ZPMFS_MAX_BYTES		(1ULL << 44)	/* 16 TiB, like ext4 */
#define ZPMFS_LINK_MAX		65000	/* like ext4 */
#define ZPMFS_INLINE_MAX	64	/* symlinks up to this live in the inode */

/* Directory blocks */
#define ZPMFS_SLOT_SIZE		32
#define ZPMFS_SLOTS_PER_BLOCK	(ZPMFS_BLOCK / ZPMFS_SLOT_SIZE)	/* 128 */
#define ZPMFS_SLOT_FIRST	4	/* slots 0..3 hold the slot map */
#define ZPMFS_SLOT_CONT		0xff
#define ZPMFS_DENTRY_HDR	16
#define ZPMFS_DENTRY_SLOTS(len) \
	((ZPMFS_DENTRY_HDR + (len) + ZPMFS_SLOT_SIZE - 1) / ZPMFS_SLOT_SIZE)

/*
 * Feature bits (zpmfs_super.features).  ZPMFS_FEAT_REFLINK: the refcount
 * table exists.  A data block of a file map may then be pointed at by
 * refcount + 1 map slots (of one or more files); radix nodes, directory
 * and xattr blocks are never shared.  Ordering: the count is raised and
 * persisted before a new pointer is stored, and lowered only after a
 * pointer is cleared and persisted, so a crash leaves counts too high at
 * worst (mount recounts them, as it reclaims leaked blocks).
 */
#define ZPMFS_FEAT_REFLINK	(1ULL << 0)
#define ZPMFS_FEATURES		ZPMFS_FEAT_REFLINK	/* known here */
#define ZPMFS_RC_MAX		0xffffffffU	/* saturated: copy */

/* Superblock state (struct zpmfs_sb_state.flags) */
#define ZPMFS_STATE_CLEAN	(1U << 0)	/* last umount was clean */

/*
 * struct zpmfs_super - the immutable part of the superblock, written by
 * mkfs.  csum is zlib's CRC-32 of the structure with csum = 0.
 */
struct zpmfs_super {
	uint64_t	magic;		/* ZPMFS_SB_MAGIC */
	uint32_t	version;	/* ZPMFS_FORMAT_VERSION */
	uint32_t	csum;
	uint8_t		uuid[16];
	char		label[64];	/* NUL padded */
	uint64_t	total_blocks;	/* of the range, incl. block 0 */
	uint32_t	block_size;	/* ZPMFS_BLOCK */
	uint32_t	inode_size;	/* ZPMFS_INODE_SIZE */
	uint64_t	inode_count;
	uint64_t	itable_start;	/* block */
	uint64_t	itable_blocks;
	uint64_t	bitmap_start;	/* block */
	uint64_t	bitmap_blocks;
	uint64_t	data_start;	/* first block the allocator may hand out */
	uint64_t	log_start;	/* block; reserved for the journal */
	uint64_t	log_blocks;
	uint64_t	root_ino;
	int64_t		mkfs_time;	/* seconds */
	uint64_t	features;	/* ZPMFS_FEAT_*; unknown: no mount */
	uint64_t	refcount_start;	/* block (ZPMFS_FEAT_REFLINK) */
	uint64_t	refcount_blocks;
	uint64_t	reserved[14];
};

/*
 * struct zpmfs_sb_state - the mutable part, right after the super in the
 * same block, with its own checksum so that the super's never changes.
 */
struct zpmfs_sb_state {
	uint32_t	flags;		/* ZPMFS_STATE_* */
	uint32_t	csum;		/* CRC-32 of this struct with csum = 0 */
	uint64_t	mount_count;
	int64_t		mount_time;
	int64_t		umount_time;
	uint64_t	reserved[4];
};

#define ZPMFS_STATE_OFFSET	1024	/* of struct zpmfs_sb_state in block 1 */

/*
 * struct zpmfs_inode - an on-pmem inode.  mode == 0 means free; generation
 * survives the inode being freed and is bumped on every reuse.
 */
struct zpmfs_inode {
	uint32_t	mode;
	uint32_t	nlink;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	rdev;
	uint32_t	flags;		/* FS_*_FL */
	uint64_t	size;
	uint64_t	blocks;		/* allocated blocks (data + map nodes) */
	uint64_t	generation;
	int64_t		atime;
	int64_t		mtime;
	int64_t		ctime;
	int64_t		btime;
	uint32_t	atime_ns;
	uint32_t	mtime_ns;
	uint32_t	ctime_ns;
	uint32_t	btime_ns;
	uint64_t	map_root;	/* block number, 0: empty */
	uint8_t		map_height;
	uint8_t		pad[7];
	uint64_t	xattr_block;	/* 0: none */
	uint64_t	parent;		/* directories: the parent's ino */
	uint64_t	reserved[8];	/* journal / crash consistency */
	char		inline_data[ZPMFS_INLINE_MAX];	/* short symlinks */
};

/* A directory entry inside dir-block slots */
struct zpmfs_dentry {
	uint64_t	ino;
	uint8_t		name_len;
	uint8_t		type;		/* DT_* */
	uint8_t		pad[2];
	uint32_t	hash;		/* of the name, to skip compares */
	char		name[];		/* name_len bytes, no NUL */
};

/* An xattr block: header then packed entries, each 4-byte aligned */
#define ZPMFS_XATTR_MAGIC	0x5a58415454520001ULL
struct zpmfs_xattr_hdr {
	uint64_t	magic;
	uint32_t	used;		/* bytes of entries after the header */
	uint32_t	count;
};

struct zpmfs_xattr_entry {
	uint8_t		name_len;
	uint8_t		pad;
	uint16_t	value_len;
	char		data[];		/* name then value */
};

/*
 * The journal (journal.c, design in README.md): the log area holds one
 * slot per block.  A metadata op takes a free slot and, before it changes
 * any byte of an inode, a dentry slot map or a dentry header, appends an
 * undo record (the old bytes) and persists it.  hdr.seq != 0 says an op is
 * in flight; its valid records are those with that seq and a good csum,
 * up to the first that is not.  Mount copies them back, last first, then
 * clears seq.  A record never covers the log area itself.
 *
 * An intent finishes an op forward instead: set (with seq) before the
 * op's in-place stores, it survives the commit (seq = 0) until the work
 * after the commit is done; a mount that finds it with seq = 0 redoes
 * that work (idempotent), one that finds seq != 0 drops it with the undo.
 */
#define ZPMFS_INTENT_TRUNCATE	1	/* zp_truncate(arg0, arg1) */
#define ZPMFS_INTENT_PUNCH	2	/* unmap arg0's blocks [arg1, arg2) */
#define ZPMFS_LOG_REC_ALIGN	8

struct zpmfs_log_hdr {
	uint64_t	seq;		/* 0: no op in flight in this slot */
	uint64_t	intent;		/* ZPMFS_INTENT_*, 0: none */
	uint64_t	arg0, arg1, arg2;
	uint64_t	reserved[3];
};

struct zpmfs_log_rec {
	uint64_t	seq;		/* the op's, as in the slot header */
	uint64_t	off;		/* byte offset in the range */
	uint32_t	len;		/* bytes of old data that follow */
	uint32_t	csum;		/* zpmfs_log_csum(): header + data */
	/* then len bytes, padded to ZPMFS_LOG_REC_ALIGN */
};

_Static_assert(sizeof(struct zpmfs_log_hdr) == 64, "log header size");
_Static_assert(sizeof(struct zpmfs_log_rec) == 24, "log record size");

#define ZPMFS_LOG_REC_SIZE(len) \
	((sizeof(struct zpmfs_log_rec) + (len) + ZPMFS_LOG_REC_ALIGN - 1) & \
	 ~(size_t)(ZPMFS_LOG_REC_ALIGN - 1))

uint32_t zpmfs_crc32(uint32_t crc, const void *buf, size_t len);

/*
 * Checksum of a log record: a multiply-xorshift over 8-byte words, on the
 * commit path of every op, where the bytewise CRC-32 cost a microsecond a
 * record.  It only has to tell a whole record from a torn or stale one.
 */
static inline uint32_t zpmfs_log_csum(const struct zpmfs_log_rec *r,
				      const void *data)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL, w;
	size_t i;

	h = (h ^ r->seq) * 0xff51afd7ed558ccdULL;
	h = (h ^ r->off) * 0xc4ceb9fe1a85ec53ULL;
	h = (h ^ r->len) * 0xff51afd7ed558ccdULL;
	for (i = 0; i < r->len; i += 8) {
		w = 0;
		memcpy(&w, p + i, r->len - i < 8 ? r->len - i : 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/*
 * The record at byte off of a log slot if it belongs to op seq (0: any)
 * and restores bytes inside [lo, hi) of the range; NULL where the op's
 * log ends.  Shared by the mount's replay and fsck.zpmfs.
 */
static inline const struct zpmfs_log_rec *
zpmfs_log_rec_at(const char *slot, size_t off, uint64_t seq, uint64_t lo,
		 uint64_t hi)
{
	const struct zpmfs_log_rec *r = (const void *)(slot + off);

	if (off + sizeof(*r) > ZPMFS_BLOCK || !r->seq ||
	    (seq && r->seq != seq) ||
	    r->len > ZPMFS_BLOCK - off - sizeof(*r) || !r->len ||
	    r->off < lo || r->off >= hi || r->len > hi - r->off ||
	    r->csum != zpmfs_log_csum(r, r + 1))
		return NULL;
	return r;
}

#define ZPMFS_XATTR_ENTRY_SIZE(nl, vl) \
	((sizeof(struct zpmfs_xattr_entry) + (nl) + (vl) + 3) & ~3U)

_Static_assert(sizeof(struct zpmfs_super) <= ZPMFS_STATE_OFFSET,
	       "super overlaps state");
_Static_assert(sizeof(struct zpmfs_sb_state) == 64, "sb_state size");
_Static_assert(sizeof(struct zpmfs_inode) == ZPMFS_INODE_SIZE,
	       "zpmfs_inode size");
_Static_assert(sizeof(struct zpmfs_dentry) == ZPMFS_DENTRY_HDR,
	       "dentry header size");
_Static_assert(ZPMFS_DENTRY_SLOTS(255) <= 9, "long names fit 9 slots");

/* crc32.c: zlib-compatible CRC-32 (declared above the log helpers) */

#endif /* _ZPMFS_FORMAT_H */
