/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crash.h - the zpmfs crash-state explorer (see README.md here).
 *
 * trace.c    records the stores, flushes and fences of one operation
 * oracle.c   the logical state of a mounted image, for comparison
 * explore.c  builds crash images from a recording and checks each one
 * workload.c the operations, alone and in seeded random mixes
 * main.c     options, the image template, the summary
 */
#ifndef _CRASH_H
#define _CRASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zus.h"

/* One 8-byte word of the image: its offset and the value it would get */
struct cr_word {
	uint64_t	off;
	uint64_t	val;
};

struct cr_words {
	struct cr_word	*w;
	size_t		n, cap;
};

#define CR_BT	12

/* One fence point: what was in flight just before it, what it made durable */
struct cr_fence {
	struct cr_words	dirty;		/* words where image != persisted */
	struct cr_words	persist;	/* words the fence made durable */
	void		*bt[CR_BT];	/* who fenced */
	int		nbt;
	bool		end;		/* the point after the op returned */
};

/* The recording of one operation */
struct cr_op {
	char		*p0;		/* persisted image when it started */
	struct cr_fence	*f;
	size_t		nf, cap;
	/* stores still not durable when the op returned */
	size_t		unflushed, unfenced;
};

/* trace.c */
void tr_init(char *live, size_t size);
/* everything so far is durable (setup done untraced) */
void tr_sync(void);
void tr_begin(struct cr_op *op);
/* the op returned: add the end point, count what it left in flight */
void tr_end(struct cr_op *op, const char *what);
void tr_op_free(struct cr_op *op);
void cr_words_add(struct cr_words *ws, uint64_t off, uint64_t val);
/* where an image offset is, in words: "inode 5 nlink", "bitmap", ... */
void tr_describe(uint64_t off, char *buf, size_t len);
extern const char *cr_exe;

/* oracle.c: logical state of a mounted filesystem (malloc'd text);
 * !data: without the contents of regular files */
char *or_snapshot(const struct zus_fs_ops *ops, struct zus_sb *sb, bool data);
/* first differing line of two snapshots, for reports */
void or_diff(const char *a, const char *b, char *buf, size_t len);

/* explore.c */
/* fs/zpmfs/fsck.c's main(), renamed by the Makefile */
int zpmfs_fsck_main(int argc, char **argv);

struct cr_opts {
	const char	*tmpdir;
	unsigned int	singles;	/* max single-store images per fence */
	unsigned int	randoms;	/* seeded random subsets per fence */
	unsigned int	max_report;	/* violations reported in full */
	uint64_t	seed;
	bool		verbose;
	bool		fsck_first;	/* fsck.zpmfs -p each image first */
};

struct cr_stats {
	uint64_t	ops, fences, images, violations, unflushed, unfenced;
	uint64_t	skipped_dups;
};

int ex_init(const struct cr_opts *o, size_t size);
void ex_fini(void);
/* check every crash image of op; before/after are the oracle's states */
/* a data op (write) may tear its data until it returns: its fence points
 * are judged on before/after without file contents, the point after it
 * returned on after_full */
void ex_op(struct cr_op *op, const char *name, const char *before,
	   const char *after, const char *after_full, struct cr_stats *st);

/* workload.c: runs against the live mount; returns ops run */
struct wl_ctx {
	const struct zus_fs_ops *ops;
	struct zus_sb	*sb;
	uint64_t	rng;
	struct cr_stats	*st;
	bool		data_op;	/* the next cr_run() is a write */
};
/* the name of single-op workload which, NULL past the last */
const char *wl_alone_name(unsigned int which);
int wl_alone(struct wl_ctx *w, unsigned int which);
int wl_mix(struct wl_ctx *w, unsigned int nops);

/* main.c: mount/umount of the live image; run one recorded op */
struct zus_ctx cr_ctx(void);
uint64_t cr_rand(uint64_t *s);
typedef int (*cr_fn)(struct wl_ctx *w, void *arg);
/* run fn traced as one op (name for reports); returns fn's result */
int cr_run(struct wl_ctx *w, const char *name, cr_fn fn, void *arg);
extern const struct zus_fs_ops *cr_ops;

#endif
