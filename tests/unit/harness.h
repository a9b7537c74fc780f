/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * harness.h - a tiny host test harness for zusFS plugins: load a plugin
 * the way the loader does (dlopen + zus_plugin_types), mount it on an
 * mmapped image file, count checks.
 */
#ifndef _UNIT_HARNESS_H
#define _UNIT_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "zus.h"

struct th {
	const struct zus_fs_type *type;
	const struct zus_fs_ops *ops;
	const char *mkfs;		/* path of mkfs.zpmfs */
	const char *fsck;		/* path of fsck.zpmfs */
	const char *image;		/* image file */
	void *map;
	uint64_t size;
	struct zus_sb *sb;
	struct zus_mount_out out;
	unsigned int passed, failed;
	bool verbose;
};

extern struct th T;

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		T.passed++;						\
	} else {							\
		T.failed++;						\
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
	}								\
} while (0)

/* expect an errno-style result */
#define CHECK_ERR(expr, want) do {					\
	long long __r = (long long)(expr);				\
	CHECK(__r == (long long)(want), "%s = %lld (%s), want %lld",	\
	      #expr, __r, __r < 0 ? strerror((int)-__r) : "ok",		\
	      (long long)(want));					\
} while (0)

struct zus_ctx th_ctx(void);
/* make a fresh image: mkfs.zpmfs -f -q -s SIZE [-i INODES] */
int th_mkfs(const char *size, const char *inodes);
/* fsck.zpmfs the image; returns its exit status */
int th_fsck(void);
/* 1 if fsck.zpmfs -v prints a line containing what, 0 if not, -1 error */
int th_fsck_says(const char *what);
int th_map(void);
void th_unmap(void);
int th_mount(const char *options, uint32_t flags);
void th_umount(void);
/* what a transport does before umount: evict every unlinked inode */
void th_evict_unlinked(void);
/* convenience wrappers on the root or a given dir */
uint64_t th_create(uint64_t dir, const char *name, uint32_t mode);
int th_create_err(uint64_t dir, const char *name, uint32_t mode);
uint64_t th_lookup(uint64_t dir, const char *name);
int th_unlink(uint64_t dir, const char *name, bool is_dir);
uint64_t th_bfree(void);
uint64_t th_ffree(void);

#endif
