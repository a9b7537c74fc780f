/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * devset.h - zpmfs's user-space view of a zufs device set (the table at
 * byte 0 of every member, include/zufs_api.h): the one parser of the
 * table for the plugin and the tools, and opening and mapping the members
 * of a set one after the other as the kernel lays out its t1 range.
 */
#ifndef _ZPMFS_DEVSET_H
#define _ZPMFS_DEVSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zufs_api.h"

/*
 * Members of a set but the last are whole multiples of this many blocks,
 * so that every member starts on a word of the block bitmap and the
 * allocator's groups (one lock per run of words) never straddle two.
 */
#define ZP_MEMBER_ALIGN		64

/* Why t (read from a device of dev_size bytes) is not a valid table */
const char *zp_table_invalid(const struct zufs_dev_table *t, uint64_t dev_size);
/* t and c describe the same set (they may differ in dev_index and csum) */
bool zp_table_same_set(const struct zufs_dev_table *t,
		       const struct zufs_dev_table *c);
uint32_t zp_table_csum(const struct zufs_dev_table *t);
/* First block of member i in the set's t1 range */
uint64_t zp_table_member_start(const struct zufs_dev_table *t, unsigned int i);

struct zp_member {
	const char	*path;
	int		fd;
	uint64_t	dev_size;	/* bytes of the device or file */
	uint64_t	blocks;		/* of the set on it */
	int		node;		/* NUMA node, -1 unknown */
	struct zufs_dev_table table;	/* as read (zp_devset_read_tables) */
	const char	*bad;		/* why table is not valid, or NULL */
	bool		left;		/* an undone grow wiped its table */
};

struct zp_devset {
	const char	*tool;		/* for messages */
	unsigned int	n;
	struct zp_member m[ZUFS_MAX_DEVS];
	char		*base;		/* members one after the other */
	uint64_t	size;		/* bytes mapped at base */
};

/*
 * Open path as member s->n (block devices exclusively: EBUSY while
 * mounted).  flags: O_RDONLY or O_RDWR.  Returns 0 or -1 (message given).
 */
int zp_devset_add(struct zp_devset *s, const char *path, int flags);
/* Read each member's table into m[i].table, judging it (m[i].bad) */
void zp_devset_read_tables(struct zp_devset *s);
/*
 * Add the members of t's set that are not open yet, found among the
 * /dev/pmem* devices by set uuid.  Returns how many were added.
 */
int zp_devset_find(struct zp_devset *s, const struct zufs_dev_table *t,
		   int flags);
/* Map m[i].blocks of every member, in order, as one range at s->base */
int zp_devset_map(struct zp_devset *s, bool writable);
/* msync and fsync every member; -1 with a message on failure */
int zp_devset_sync(struct zp_devset *s);
void zp_devset_close(struct zp_devset *s);
/* Close and forget the members an undone grow took out (m[i].left) */
void zp_devset_drop_left(struct zp_devset *s);

/* Name of a filesystem (or set) found on the device open at fd, or NULL */
const char *zp_existing_fs(int fd);
/* Is path (a device or image file) the source of a mount? */
bool zp_path_mounted(const char *path);
/* "64M", "1GiB", "4096": bytes, K/M/G/T binary suffixes; -1 if bad */
int zp_parse_size(const char *s, uint64_t *out);
/* A random (version 4) uuid */
void zp_make_uuid(uint8_t *u);

/* growset.c: growing a set (zpmfs-grow) and settling an interrupted grow */
struct zpmfs_super;
/* old = t without its last member */
void zp_table_shrink(const struct zufs_dev_table *t,
		     struct zufs_dev_table *old);
/* Blocks the bitmap and refcount table have room for (mkfs --max-size) */
uint64_t zp_super_room(const struct zpmfs_super *s);
/* Read and check the superblock at block of fd: 0, or -1 if not valid */
int zp_super_read(int fd, unsigned int block, struct zpmfs_super *s);
/* pwrite and fdatasync; -1 with a message naming m */
int zp_write_sync(const struct zp_devset *s, const struct zp_member *m,
		  const void *buf, size_t len, uint64_t off);
/*
 * Read the members' tables; if they show an interrupted zpmfs-grow, tell
 * (stderr) and, when flags is O_RDWR, roll it back or forward as the
 * primary superblock says.  Members not open are looked for by set uuid.
 * Returns 1 if one was found, 0 if not, -1 on a write error.
 */
int zp_grow_settle(struct zp_devset *s, int flags);

#endif /* _ZPMFS_DEVSET_H */
