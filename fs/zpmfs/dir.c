// SPDX-License-Identifier: BSD-3-Clause
/*
 * dir.c - directory entries on pmem, their DRAM hash index, and readdir
 * (the namespace operations built on them are in namei.c and rename.c).
 *
 * A directory's blocks hold dentry records in 32-byte slots (see
 * zpmfs_format.h).  The slot-map byte of a record's first slot commits it:
 * the record is persisted first, then the byte; removal clears the byte.
 * A record never moves, so its slot number is its readdir position: stable
 * while it exists, never shared by two live entries.
 *
 * The hash index (name hash -> slot) and the per-block free counts are
 * built from pmem the first time a directory is used after mount and kept
 * in DRAM until umount or until the directory is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zpmfs.h"

#define SLOTS		ZPMFS_SLOTS_PER_BLOCK
#define USABLE_SLOTS	(SLOTS - ZPMFS_SLOT_FIRST)
#define HASH_MIN	16

enum { HS_EMPTY, HS_USED, HS_DELETED };

static uint32_t name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261U;	/* FNV-1a */

	while (len--) {
		h ^= (uint8_t)*name++;
		h *= 16777619U;
	}
	return h;
}

int zp_name_check(const char *name, size_t len)
{
	if (!name || !len)
		return -ENOENT;
	if (len > ZUFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	return 0;
}

static uint8_t *block_map(struct zus_sb *sb, uint64_t blk)
{
	return zp_block(sb, blk);
}

/* The dentry at a global slot number; NULL if its block is not mapped */
static struct zpmfs_dentry *slot_dentry(struct zus_sb *sb,
					struct zpmfs_inode *pi, uint64_t slot)
{
	uint64_t blk = zp_bmap_get(sb, pi, slot / SLOTS);

	if (!blk)
		return NULL;
	return (struct zpmfs_dentry *)((char *)zp_block(sb, blk) +
				       (slot % SLOTS) * ZPMFS_SLOT_SIZE);
}

static bool is_start(uint8_t m, unsigned int i)
{
	return m >= 1 && m <= ZPMFS_DENTRY_SLOTS(ZUFS_NAME_MAX) &&
	       i + m <= SLOTS;
}

/* A committed record whose name fits its slots (never trust pmem blindly) */
static struct zpmfs_dentry *rec_at(uint8_t *map, unsigned int i)
{
	struct zpmfs_dentry *d;

	if (!is_start(map[i], i))
		return NULL;
	d = (struct zpmfs_dentry *)(map + i * ZPMFS_SLOT_SIZE);
	if (!d->name_len || ZPMFS_DENTRY_SLOTS(d->name_len) != map[i])
		return NULL;
	return d;
}

/* ---- the DRAM hash index ------------------------------------------- */

static int hash_resize(struct zdir *zd, uint64_t cap)
{
	struct zdir_slot *old = zd->tab, *tab;
	uint64_t oldcap = zd->cap, i;

	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	zd->tab = tab;
	zd->cap = cap;
	zd->tombs = 0;
	for (i = 0; i < oldcap; i++) {
		uint64_t j;

		if (old[i].state != HS_USED)
			continue;
		for (j = old[i].hash & (cap - 1); tab[j].state;
		     j = (j + 1) & (cap - 1))
			;
		tab[j] = old[i];
	}
	free(old);
	return 0;
}

static int hash_insert(struct zdir *zd, uint32_t hash, uint64_t slot)
{
	uint64_t j;
	int err;

	if ((zd->used + zd->tombs + 1) * 4 > zd->cap * 3) {
		uint64_t cap = zd->cap;

		while ((zd->used + 1) * 2 > cap)
			cap *= 2;
		err = hash_resize(zd, cap < HASH_MIN ? HASH_MIN : cap);
		if (err)
			return err;
	}
	for (j = hash & (zd->cap - 1); zd->tab[j].state == HS_USED;
	     j = (j + 1) & (zd->cap - 1))
		;
	if (zd->tab[j].state == HS_DELETED)
		zd->tombs--;
	zd->tab[j].hash = hash;
	zd->tab[j].slot = slot;
	zd->tab[j].state = HS_USED;
	zd->used++;
	return 0;
}

static void hash_delete(struct zdir *zd, uint32_t hash, uint64_t slot)
{
	uint64_t j;

	for (j = hash & (zd->cap - 1); zd->tab[j].state;
	     j = (j + 1) & (zd->cap - 1)) {
		if (zd->tab[j].state == HS_USED && zd->tab[j].slot == slot) {
			zd->tab[j].state = HS_DELETED;
			zd->used--;
			zd->tombs++;
			return;
		}
	}
}

static struct zdir *zdir_new(void)
{
	struct zdir *zd = calloc(1, sizeof(*zd));

	if (!zd)
		return NULL;
	zd->cap = HASH_MIN;
	zd->tab = calloc(zd->cap, sizeof(*zd->tab));
	if (!zd->tab) {
		free(zd);
		return NULL;
	}
	return zd;
}

void zp_dir_drop(struct zinode *zi)
{
	if (!zi->dir)
		return;
	free(zi->dir->tab);
	free(zi->dir->blk_free);
	free(zi->dir);
	zi->dir = NULL;
}

int zp_dir_init_empty(struct zus_sb *sb, struct zinode *zi)
{
	(void)sb;
	zp_dir_drop(zi);
	zi->dir = zdir_new();
	return zi->dir ? 0 : -ENOMEM;
}

static int blk_free_grow(struct zdir *zd, uint64_t nblocks)
{
	uint8_t *bf = realloc(zd->blk_free, nblocks ? nblocks : 1);

	if (!bf)
		return -ENOMEM;
	if (nblocks > zd->nblocks)
		memset(bf + zd->nblocks, 0, nblocks - zd->nblocks);
	zd->blk_free = bf;
	zd->nblocks = nblocks;
	return 0;
}

/* Index one dir block; returns its free slot count */
static int index_block(struct zus_sb *sb, struct zdir *zd, uint64_t b,
		       uint64_t blk, unsigned int *nfree)
{
	uint8_t *map = block_map(sb, blk);
	unsigned int i = ZPMFS_SLOT_FIRST, used = 0;
	int err;

	while (i < SLOTS) {
		struct zpmfs_dentry *d = rec_at(map, i);

		if (!d) {
			i++;
			continue;
		}
		err = hash_insert(zd, name_hash(d->name, d->name_len),
				  b * SLOTS + i);
		if (err)
			return err;
		used += map[i];
		i += map[i];
	}
	*nfree = USABLE_SLOTS - used;
	return 0;
}

static struct zdir *dir_build(struct zus_sb *sb, uint64_t dir)
{
	struct zpmfs_inode *pi = zp_pi(sb, dir);
	uint64_t nb = pi->size / ZPMFS_BLOCK, b;
	struct zdir *zd = zdir_new();

	if (!zd || blk_free_grow(zd, nb))
		goto out_free;
	for (b = 0; b < nb; b++) {
		uint64_t blk = zp_bmap_get(sb, pi, b);
		unsigned int nfree = 0;

		if (blk && index_block(sb, zd, b, blk, &nfree))
			goto out_free;
		zd->blk_free[b] = nfree;	/* hole: never used */
	}
	return zd;
out_free:
	if (zd) {
		free(zd->tab);
		free(zd->blk_free);
		free(zd);
	}
	return NULL;
}

struct zdir *zp_dir_get(struct zus_sb *sb, uint64_t dir, struct zinode *zi)
{
	if (!zi->dir)
		zi->dir = dir_build(sb, dir);
	return zi->dir;
}

/*
 * Lock a directory and make sure its index exists.  Building needs the
 * write lock, so a reader that finds no index upgrades, builds, and starts
 * over as a reader; the index then lives as long as the directory.
 */
int zp_dir_lock(struct zus_sb *sb, uint64_t dir, struct zinode *zi,
		    bool write)
{
	if (write) {
		pthread_rwlock_wrlock(&zi->lock);
		goto check;
	}
	pthread_rwlock_rdlock(&zi->lock);
	if (zi->dir)
		return 0;
	pthread_rwlock_unlock(&zi->lock);
	pthread_rwlock_wrlock(&zi->lock);
	zp_dir_get(sb, dir, zi);
	pthread_rwlock_unlock(&zi->lock);
	pthread_rwlock_rdlock(&zi->lock);
check:
	if (!zp_pi(sb, dir)->mode) {
		pthread_rwlock_unlock(&zi->lock);
		return -ENOENT;
	}
	if (!zp_dir_get(sb, dir, zi)) {
		pthread_rwlock_unlock(&zi->lock);
		return -ENOMEM;
	}
	return 0;
}

/* Live directory inode or -ENOENT / -ENOTDIR */
int zp_dir_zi(struct zus_sb *sb, uint64_t dir, struct zinode **zip)
{
	struct zinode *zi = zp_zi_live(sb, dir);

	if (!zi)
		return -ENOENT;
	if (!S_ISDIR(zp_pi(sb, dir)->mode))
		return -ENOTDIR;
	*zip = zi;
	return 0;
}

int64_t zp_dir_find(struct zus_sb *sb, uint64_t dir, struct zinode *zi,
		    const char *name, size_t len, uint64_t *ino)
{
	struct zpmfs_inode *pi = zp_pi(sb, dir);
	struct zdir *zd = zi->dir;
	uint32_t hash = name_hash(name, len);
	uint64_t j;

	for (j = hash & (zd->cap - 1); zd->tab[j].state;
	     j = (j + 1) & (zd->cap - 1)) {
		struct zpmfs_dentry *d;

		if (zd->tab[j].state != HS_USED || zd->tab[j].hash != hash)
			continue;
		d = slot_dentry(sb, pi, zd->tab[j].slot);
		if (d && d->name_len == len && !memcmp(d->name, name, len)) {
			*ino = d->ino;
			return (int64_t)zd->tab[j].slot;
		}
	}
	return -ENOENT;
}

/* ---- adding and removing records ----------------------------------- */

/* First run of need free slots in a block, or 0 */
static unsigned int block_find_run(const uint8_t *map, unsigned int need)
{
	unsigned int i = ZPMFS_SLOT_FIRST, run = 0;

	while (i < SLOTS) {
		if (is_start(map[i], i)) {
			run = 0;
			i += map[i];
			continue;
		}
		if (++run == need)
			return i + 1 - need;
		i++;
	}
	return 0;
}

/* Append an empty block to the directory; returns its index */
static int64_t dir_grow(struct zus_sb *sb, const struct zus_ctx *ctx,
			uint64_t dir, struct zdir *zd)
{
	struct zpmfs_inode *pi = zp_pi(sb, dir);
	uint64_t b = zd->nblocks, blk;
	int64_t n;
	bool new;
	int err;

	err = blk_free_grow(zd, b + 1);
	if (err)
		return err;
	zd->nblocks = b;	/* until the block is really there */
	/* map root, height, blocks and size roll back together; a pointer
	 * stored in an existing map node may survive a rollback: it maps a
	 * zeroed block past the size, which the next growth takes again */
	zj_log(pi, ZJ_INODE);
	n = zp_bmap_alloc_run(sb, ctx, pi, b, 1, &blk, &new);
	if (n < 0)
		return n;
	/* zeroed block = empty slot map; size covers it from now on */
	pi->size = (b + 1) * ZPMFS_BLOCK;
	pmem_persist(&pi->size, sizeof(pi->size));
	zd->nblocks = b + 1;
	zd->blk_free[b] = USABLE_SLOTS;
	return (int64_t)b;
}

int zp_dir_add(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	       struct zinode *zi, const char *name, size_t len, uint64_t ino,
	       uint32_t mode)
{
	struct zpmfs_inode *pi = zp_pi(sb, dir);
	unsigned int need = ZPMFS_DENTRY_SLOTS(len), s = 0, k;
	struct zdir *zd = zi->dir;
	struct zpmfs_dentry *d;
	uint64_t b, blk = 0;
	uint8_t *map;
	int64_t nb;
	int err;

	while (zd->hint < zd->nblocks && !zd->blk_free[zd->hint])
		zd->hint++;
	for (b = zd->hint; b < zd->nblocks; b++) {
		if (zd->blk_free[b] < need)
			continue;
		blk = zp_bmap_get(sb, pi, b);
		if (blk && (s = block_find_run(block_map(sb, blk), need)))
			break;
	}
	if (b == zd->nblocks) {
		nb = dir_grow(sb, ctx, dir, zd);
		if (nb < 0)
			return (int)nb;
		b = nb;
		blk = zp_bmap_get(sb, pi, b);
		s = ZPMFS_SLOT_FIRST;
	}
	err = hash_insert(zd, name_hash(name, len), b * SLOTS + s);
	if (err)
		return err;
	map = block_map(sb, blk);
	/* the record goes to free slots: only the slot map needs undo */
	zj_log(&map[s], need);
	d = (struct zpmfs_dentry *)((char *)map + s * ZPMFS_SLOT_SIZE);
	d->ino = ino;
	d->name_len = len;
	d->type = zp_dtype(mode);
	d->pad[0] = d->pad[1] = 0;
	d->hash = name_hash(name, len);
	memcpy(d->name, name, len);
	pmem_flush(d, ZPMFS_DENTRY_HDR + len);
	for (k = 1; k < need; k++)
		map[s + k] = ZPMFS_SLOT_CONT;
	pmem_persist(&map[s], need);
	/* The record is durable; now the one byte that makes it exist.  A
	 * crash before this store leaves the slot free. */
	map[s] = need;
	pmem_persist(&map[s], 1);
	zd->blk_free[b] -= need;
	return 0;
}

void zp_dir_remove(struct zus_sb *sb, uint64_t dir, struct zinode *zi,
		   int64_t slot, size_t len)
{
	struct zpmfs_inode *pi = zp_pi(sb, dir);
	uint64_t b = slot / SLOTS, blk = zp_bmap_get(sb, pi, b);
	unsigned int s = slot % SLOTS, need;
	struct zpmfs_dentry *d;
	uint8_t *map;

	if (!blk)
		return;
	map = block_map(sb, blk);
	d = (struct zpmfs_dentry *)((char *)map + s * ZPMFS_SLOT_SIZE);
	need = map[s];
	if (!is_start(need, s))
		return;
	zj_log(&map[s], need);
	hash_delete(zi->dir, name_hash(d->name, d->name_len), slot);
	/* Commit point of the removal: the start byte goes first */
	map[s] = 0;
	pmem_persist(&map[s], 1);
	memset(&map[s + 1], 0, need - 1);
	pmem_persist(&map[s], need);
	zi->dir->blk_free[b] += need;
	if (b < zi->dir->hint)
		zi->dir->hint = b;
	(void)len;
}

void zp_dir_retarget(struct zus_sb *sb, uint64_t dir, int64_t slot,
		     uint64_t ino, uint32_t mode)
{
	struct zpmfs_dentry *d = slot_dentry(sb, zp_pi(sb, dir), slot);

	if (!d)
		return;
	zj_log(d, ZPMFS_DENTRY_HDR);
	/* The 8-byte ino store is the switch; the type follows it */
	pmem_store64(&d->ino, ino);
	d->type = zp_dtype(mode);
	pmem_persist(&d->type, 1);
}

bool zp_dir_empty(struct zus_sb *sb, uint64_t dir, struct zinode *zi)
{
	struct zdir *zd = zp_dir_get(sb, dir, zi);

	return zd && !zd->used;
}

/* ---- readdir -------------------------------------------------------- */

int zp_readdir(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	       uint64_t pos, zus_filldir_t fill, void *buf, bool *eof)
{
	struct zpmfs_inode *pi = zp_pi(sb, dir);
	uint64_t slot, b, nb;
	struct zinode *zi;
	int err;

	(void)ctx;
	*eof = false;
	err = zp_dir_zi(sb, dir, &zi);
	if (err)
		return err;
	pthread_rwlock_rdlock(&zi->lock);
	slot = pos < ZUFS_DIR_POS_FIRST ? 0 : pos - ZUFS_DIR_POS_FIRST;
	nb = pi->size / ZPMFS_BLOCK;
	for (b = slot / SLOTS; b < nb; b++) {
		uint64_t blk = zp_bmap_get(sb, pi, b);
		unsigned int i = b == slot / SLOTS ? slot % SLOTS : 0;
		uint8_t *map;

		if (!blk)
			continue;
		map = block_map(sb, blk);
		if (i < ZPMFS_SLOT_FIRST)
			i = ZPMFS_SLOT_FIRST;
		for (; i < SLOTS; i++) {
			struct zpmfs_dentry *d;
			uint64_t next;

			d = rec_at(map, i);
			if (!d)
				continue;
			next = b * SLOTS + i + 1 + ZUFS_DIR_POS_FIRST;
			if (fill(buf, d->name, d->name_len, d->ino, d->type,
				 next))
				goto out_unlock;
		}
	}
	*eof = true;
out_unlock:
	pthread_rwlock_unlock(&zi->lock);
	return 0;
}
