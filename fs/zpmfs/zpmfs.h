/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zpmfs.h - in-memory structures of the zpmfs plugin, shared by its files.
 *
 * Locking (outermost first):
 *   sb->rename_lock   serializes renames across directories (so that two
 *                     of them cannot lock directories in opposite orders)
 *   zi->lock          per-inode rwlock: attributes, block map, dir entries.
 *                     Several inodes: parent before child, otherwise in
 *                     ascending inode number.
 *   sb->ialloc_lock   inode allocation bitmap (DRAM)
 *   group->lock       one block-allocator group (bitmap words it owns)
 * Nothing global is taken on the hot path (lookup, getattr, get_blocks of
 * mapped blocks): only the inode's own rwlock, for reading.
 */
#ifndef _ZPMFS_H
#define _ZPMFS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "zus.h"
#include "zpmfs_format.h"
#include "pmem.h"
#include "journal.h"

/* Directory index in DRAM, built on first use of a directory */
struct zdir_slot {
	uint64_t	slot;		/* global slot number (block * 128 + i) */
	uint32_t	hash;
	uint32_t	state;		/* 0 empty, 1 used, 2 deleted */
};

struct zdir {
	struct zdir_slot *tab;
	uint64_t	cap;		/* power of two */
	uint64_t	used;		/* live entries */
	uint64_t	tombs;
	uint8_t		*blk_free;	/* free slots per dir block */
	uint64_t	nblocks;
	uint64_t	hint;		/* lowest block that may have room */
};

/* DRAM side of one inode, created on first use and kept until umount */
struct zinode {
	pthread_rwlock_t lock;
	struct zdir	*dir;		/* under lock (write to build) */
};

#define ZP_ZERO_WINDOW	4096	/* blocks kept zeroed ahead of a group's hint */

#define ZP_MAX_NODES	8	/* nodes placement knows distances of */

struct zgroup {
	_Alignas(64) pthread_mutex_t lock;	/* own cache lines */
	uint64_t	start;		/* first block */
	uint64_t	end;		/* one past the last */
	uint64_t	base;		/* first block of its member */
	uint64_t	next;		/* where to look first */
	_Atomic uint64_t nfree;
	int		node;		/* NUMA node of its pmem, -1 unknown */

	/* zero-ahead window (zeroer.c), under lock */
	uint64_t	zbase;		/* first block of the window, 64-aligned */
	uint64_t	zbusy, zbusy_end; /* being zeroed: not to be handed out */
	bool		zkick;		/* a refill is asked for */
	pthread_cond_t	zdone;		/* a zbusy range was finished */
	uint64_t	zmap[ZP_ZERO_WINDOW / 64]; /* 1 = free and zeroed */
};

struct zus_sb {
	char		*base;		/* the mapped t1 range */
	uint64_t	size;
	struct zpmfs_super sbc;		/* validated copy of the super */
	struct zpmfs_super *super;	/* on pmem */
	struct zpmfs_sb_state *state;	/* on pmem */
	struct zpmfs_inode *itable;	/* on pmem */
	uint64_t	*bitmap;	/* on pmem */
	_Atomic uint32_t *rc;		/* on pmem: refcounts, or NULL */
	bool		rdonly;
	bool		keep_orphans;	/* re-attach: the kernel holds them */
	int		(*host_rdonly)(void *host);	/* see zus.h */
	void		*host;
	bool		verbose;
	int		errors;		/* ZPMFS_ERRORS_* */

	struct zinode *_Atomic *zis;	/* [inode_count], lazily filled */

	pthread_mutex_t	ialloc_lock;
	uint64_t	*imap;		/* DRAM: inode in use */
	uint64_t	ifree;
	uint64_t	inext;

	struct zgroup	*groups;
	unsigned int	ngroups;
	uint32_t	ndevs;		/* t1 members, for NUMA placement */
	struct zufs_pmem_dev devs[ZUFS_MAX_DEVS];
	/* first blocks of members 1.. of a set: their device tables */
	uint64_t	mtab[ZUFS_MAX_DEVS];
	unsigned int	nmtab;
	/* NUMA distances (sysfs) between nodes below ZP_MAX_NODES */
	uint8_t		node_dist[ZP_MAX_NODES][ZP_MAX_NODES];

	pthread_mutex_t	rename_lock;
	struct zp_journal *journal;	/* journal.c */
	bool		zero_ahead;	/* mount option */
	struct zp_zeroer *zeroer;	/* zeroer.c */
#ifdef ZPMFS_DEBUG
	pthread_rwlock_t dbg_lock;	/* check.c: ops read, checks write */
	unsigned long	dbg_every;	/* check after every Nth op (1) */
	_Atomic unsigned long dbg_ops;	/* ops that may allocate or free */
#endif
};

#define ZPMFS_ERRORS_CONTINUE	0
#define ZPMFS_ERRORS_RO		1

/* Bit b of a map of 64-bit words (block bitmap, inode map, zero window) */
static inline bool zp_bit_test(const uint64_t *map, uint64_t b)
{
	return map[b / 64] & (1ULL << (b % 64));
}

static inline void zp_bit_assign(uint64_t *map, uint64_t b, bool on)
{
	if (on)
		map[b / 64] |= 1ULL << (b % 64);
	else
		map[b / 64] &= ~(1ULL << (b % 64));
}

/* Block and inode addressing */
static inline void *zp_block(struct zus_sb *sb, uint64_t blk)
{
	return sb->base + (blk << ZPMFS_BLOCK_SHIFT);
}

static inline struct zpmfs_inode *zp_pi(struct zus_sb *sb, uint64_t ino)
{
	return &sb->itable[ino - 1];
}

static inline bool zp_ino_valid(struct zus_sb *sb, uint64_t ino)
{
	return ino >= 1 && ino <= sb->sbc.inode_count;
}

#define ZP_DIV_UP(a, b)	(((a) + (b) - 1) / (b))

/* super.c */
void zp_log(struct zus_sb *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* corruption found: log it; with errors=remount-ro refuse writes from now */
void zp_error(struct zus_sb *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Block blk holds a later member's device table */
static inline bool zp_blk_member_table(const struct zus_sb *sb, uint64_t blk)
{
	unsigned int i;

	for (i = 0; i < sb->nmtab; i++)
		if (sb->mtab[i] == blk)
			return true;
	return false;
}

/* A block number a file may point at */
static inline bool zp_blk_ok(const struct zus_sb *sb, uint64_t blk)
{
	return blk >= sb->sbc.data_start && blk < sb->sbc.total_blocks &&
	       !zp_blk_member_table(sb, blk);
}

/* balloc.c: block allocator */
int zp_balloc_init(struct zus_sb *sb);
void zp_balloc_fini(struct zus_sb *sb);
/* free counts from the bitmap again (after zp_reclaim at mount) */
void zp_balloc_recount(struct zus_sb *sb);
/* allocate up to want contiguous zeroed blocks near goal; returns count */
int64_t zp_balloc(struct zus_sb *sb, const struct zus_ctx *ctx,
		  uint64_t goal, uint64_t want, uint64_t *start);
/* 2 MiB in blocks: the unit of a huge (PMD) mapping */
#define ZP_HUGE_BLOCKS	512
/* a run for a write at a 2 MiB boundary of its file, on one of pmem */
int64_t zp_balloc_huge(struct zus_sb *sb, const struct zus_ctx *ctx,
		       uint64_t goal, uint64_t want, uint64_t *start);
void zp_bfree(struct zus_sb *sb, uint64_t start, uint64_t count);
uint64_t zp_bfree_count(struct zus_sb *sb);

/* refcount.c: owners of shared data blocks beyond the first */
static inline uint32_t zp_rc(const struct zus_sb *sb, uint64_t blk)
{
	return sb->rc ? atomic_load(&sb->rc[blk]) : 0;
}

/* one more owner: persisted before the caller stores the pointer;
 * -EMLINK when saturated (copy instead) */
int zp_rc_get(struct zus_sb *sb, uint64_t blk);
/* one owner less (its pointer already cleared and persisted): false when
 * the block had no other owner and is the caller's to free */
bool zp_rc_put(struct zus_sb *sb, uint64_t blk);
/* give file block fb (mapped to shared blk) a copy of its own */
int zp_rc_unshare(struct zus_sb *sb, const struct zus_ctx *ctx,
		  struct zpmfs_inode *pi, uint64_t fb, uint64_t blk,
		  uint64_t goal, uint64_t *nblk);
/* unshare every shared block of file blocks [fb, end) */
int zp_rc_unshare_range(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *pi, uint64_t fb, uint64_t end);

/* file blocks [dfb, dfb + count) of dst become those of src at sfb (holes
 * too); both files locked, src for reading at least */
int zp_rc_share_range(struct zus_sb *sb, const struct zus_ctx *ctx,
		      struct zpmfs_inode *spi, uint64_t sfb,
		      struct zpmfs_inode *dpi, uint64_t dfb, uint64_t count);

/* zeroer.c: free blocks zeroed in the background (zp_zero_* under the
 * group lock) */
int zp_zeroer_init(struct zus_sb *sb);
int zp_zeroer_start(struct zus_sb *sb);
void zp_zeroer_pause(struct zus_sb *sb);
void zp_zeroer_stop(struct zus_sb *sb);
void zp_zeroer_fini(struct zus_sb *sb);
bool zp_zero_busy(const struct zgroup *g, uint64_t b, uint64_t n);
bool zp_zero_take(struct zus_sb *sb, struct zgroup *g, uint64_t b,
		  uint64_t n);

/* inode.c */
int zp_inodes_init(struct zus_sb *sb);
void zp_inodes_fini(struct zus_sb *sb);
struct zinode *zp_zi(struct zus_sb *sb, uint64_t ino);
/* a live inode (mode != 0), or NULL */
struct zinode *zp_zi_live(struct zus_sb *sb, uint64_t ino);
int zp_ialloc(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t *ino);
void zp_ifree(struct zus_sb *sb, uint64_t ino);
void zp_fill_attr(struct zus_sb *sb, uint64_t ino, struct zufs_attr *attr);
void zp_touch(struct zpmfs_inode *pi, const struct zus_ctx *ctx, bool m,
	      bool c);
void zp_set_nlink(struct zpmfs_inode *pi, uint32_t nlink);
void zp_inode_free_all(struct zus_sb *sb, uint64_t ino);
unsigned int zp_dtype(uint32_t mode);

/* bmap.c: file block map */
uint64_t zp_bmap_get(struct zus_sb *sb, struct zpmfs_inode *pi, uint64_t fb);
int zp_bmap_set(struct zus_sb *sb, const struct zus_ctx *ctx,
		struct zpmfs_inode *pi, uint64_t fb, uint64_t blk);
/* free the blocks of [start, end) (block numbers); end UINT64_MAX = all */
void zp_bmap_punch(struct zus_sb *sb, struct zpmfs_inode *pi, uint64_t start,
		   uint64_t end);
/* next block >= fb that is mapped (data) or not (hole); UINT64_MAX: none */
uint64_t zp_bmap_next(struct zus_sb *sb, struct zpmfs_inode *pi, uint64_t fb,
		      bool data);
/* map or allocate fb..: returns a run; *new set when freshly allocated */
/* inside an op: ready and log the slots of a run in one leaf (-EAGAIN:
 * the op's slot is full) */
int64_t zp_bmap_log_run(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *pi, uint64_t fb, uint64_t count,
			uint64_t goal, uint64_t **slotp);
int64_t zp_bmap_alloc_run(struct zus_sb *sb, const struct zus_ctx *ctx,
			  struct zpmfs_inode *pi, uint64_t fb, uint64_t count,
			  uint64_t *blk, bool *new);
/* run at fb: mapped and contiguous (*blk != 0) or a hole (*blk == 0) */
int64_t zp_bmap_run(struct zus_sb *sb, struct zpmfs_inode *pi, uint64_t fb,
		    uint64_t count, uint64_t *blk);
int zp_bmap_move(struct zus_sb *sb, const struct zus_ctx *ctx,
		 struct zpmfs_inode *pi, uint64_t from, uint64_t to);
/* blocks the map holds (data + nodes): recount after a crash */
uint64_t zp_bmap_count(struct zus_sb *sb, struct zpmfs_inode *pi);
/* zp_bmap_alloc_run() for a store: a shared block gets a copy first */
int64_t zp_bmap_write_run(struct zus_sb *sb, const struct zus_ctx *ctx,
			  struct zpmfs_inode *pi, uint64_t fb, uint64_t count,
			  uint64_t *blk, bool *new);
int zp_truncate(struct zus_sb *sb, const struct zus_ctx *ctx,
		struct zpmfs_inode *pi, uint64_t size);

/* file.c: data ops */
int zp_get_blocks(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		  uint64_t offset, uint64_t length, uint32_t flags,
		  uint64_t size_after, struct zufs_extent *ext,
		  unsigned int max_ext, struct zufs_attr *attr);
ssize_t zp_read(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		void *buf, size_t len, uint64_t offset);
ssize_t zp_write(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 const void *buf, size_t len, uint64_t offset,
		 struct zufs_attr *attr);
int zp_fsync(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	     uint64_t offset, uint64_t length, bool datasync);
int zp_fallocate(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 uint32_t mode, uint64_t offset, uint64_t length,
		 struct zufs_attr *attr);
int zp_seek(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t offset, int whence, uint64_t *result);
int zp_clone(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t src_ino,
	     uint64_t src_off, uint64_t dst_ino, uint64_t dst_off,
	     uint64_t length, uint32_t flags, uint64_t *done,
	     struct zufs_attr *attr);
/* read bytes of a file into buf (holes as zeros); caller holds the lock */
void zp_read_locked(struct zus_sb *sb, struct zpmfs_inode *pi, void *buf,
		    size_t len, uint64_t offset);
/* write bytes; caller holds the lock (write); returns bytes or -errno */
ssize_t zp_write_locked(struct zus_sb *sb, const struct zus_ctx *ctx,
			struct zpmfs_inode *pi, const void *buf, size_t len,
			uint64_t offset);

/* dir.c: directory entries, readdir; namei.c: namespace ops */
int zp_dir_init_empty(struct zus_sb *sb, struct zinode *zi);
void zp_dir_drop(struct zinode *zi);
int zp_lookup(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, struct zufs_attr *attr);
int zp_readdir(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	       uint64_t pos, zus_filldir_t fill, void *buf, bool *eof);
int zp_create(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, uint32_t mode, uint32_t rdev,
	      uint32_t uid, uint32_t gid, uint32_t iflags,
	      const char *symlink, size_t symlen, bool tmpfile,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr);
int zp_link(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t dir, const char *name, size_t len,
	    struct zufs_attr *attr, struct zufs_attr *dir_attr);
int zp_unlink(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, bool is_dir,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr);

/* rename.c */
int zp_rename(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t old_dir,
	      const char *old_name, size_t old_len, uint64_t new_dir,
	      const char *new_name, size_t new_len, uint32_t flags,
	      struct zus_rename_out *out);

/* dir.c internals used by rename.c; dir locks held by the caller */
/* lock a dir (index built); -ENOENT if it died meanwhile */
int zp_dir_lock(struct zus_sb *sb, uint64_t dir, struct zinode *zi,
		bool write);
/* live directory or -ENOENT / -ENOTDIR */
int zp_dir_zi(struct zus_sb *sb, uint64_t dir, struct zinode **zip);
struct zdir *zp_dir_get(struct zus_sb *sb, uint64_t dir, struct zinode *zi);
int64_t zp_dir_find(struct zus_sb *sb, uint64_t dir, struct zinode *zi,
		    const char *name, size_t len, uint64_t *ino);
int zp_dir_add(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	       struct zinode *zi, const char *name, size_t len, uint64_t ino,
	       uint32_t mode);
void zp_dir_remove(struct zus_sb *sb, uint64_t dir, struct zinode *zi,
		   int64_t slot, size_t len);
void zp_dir_retarget(struct zus_sb *sb, uint64_t dir, int64_t slot,
		     uint64_t ino, uint32_t mode);
bool zp_dir_empty(struct zus_sb *sb, uint64_t dir, struct zinode *zi);
int zp_name_check(const char *name, size_t len);

/* inode.c: attribute ops */
int zp_getattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       struct zufs_attr *attr);
int zp_setattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       uint32_t mask, const struct zufs_attr *set,
	       struct zufs_attr *attr);
int zp_evict(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino);
/* a committed shrink: zero the tail past EOF, free the blocks past it */
void zp_shrink_finish(struct zus_sb *sb, const struct zus_ctx *ctx,
		      struct zpmfs_inode *pi);
ssize_t zp_readlink(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, char *buf, size_t size);
/* set a new inode's symlink target; caller holds nothing (inode is new) */
int zp_symlink_set(struct zus_sb *sb, const struct zus_ctx *ctx,
		   struct zpmfs_inode *pi, const char *target, size_t len);

/* super.c: the operations; check.c: the same with checks (debug) */
extern const struct zus_fs_ops zp_ops;
extern const struct zus_fs_ops zp_debug_ops;

/* check.c: give back data blocks no live inode reaches (mount after an
 * unclean shutdown); returns how many, or -errno */
int64_t zp_reclaim(struct zus_sb *sb);
#ifdef ZPMFS_DEBUG
/* abort unless bitmap, free counts and inodes agree (no op in flight) */
void zp_check_alloc(struct zus_sb *sb, const char *after);
#endif

/* xattr.c */
ssize_t zp_getxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, const char *name, void *value, size_t size);
int zp_setxattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		const char *name, const void *value, size_t size, int flags,
		struct zufs_attr *attr);
ssize_t zp_listxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, char *list, size_t size);
void zp_xattr_free(struct zus_sb *sb, struct zpmfs_inode *pi);

#endif /* _ZPMFS_H */
