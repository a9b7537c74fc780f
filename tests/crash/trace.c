// SPDX-License-Identifier: BSD-3-Clause
/*
 * trace.c - what reached the persistence domain, store by store.
 *
 * The plugin is built with -DZPMFS_TRACE, so pmem.c reports each flush and
 * fence here instead of executing it (and copies with cached stores).  We
 * keep a shadow of the image as it is guaranteed to be persisted.  A flush
 * snapshots its cache lines (what the write-back would carry); a fence
 * makes the snapshots durable.  Plain stores are never seen one by one:
 * at each fence, every 8-byte word where the live image differs from the
 * shadow is a store that may or may not have reached pmem by then, and
 * that set is the fence point's "in flight".  Stores are modelled at
 * 8-byte granularity, any subset persisting (stricter than x86, where a
 * cache line's stores persist in order).  One thread: zpmfs runs single-
 * threaded here (nozero_ahead), so the per-thread order is the order.
 */
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"
#include "pmem.h"
#include "zpmfs_format.h"

#define LINE	64

struct pend {
	uint64_t	line;
	uint64_t	data[LINE / 8];
};

static struct {
	char		*live;		/* the image the live mount uses */
	char		*pers;		/* what is durable */
	size_t		size;
	struct pend	*pend;		/* flushed since the last fence */
	size_t		npend, cap;
	struct cr_op	*op;		/* recording, or NULL */
	struct zpmfs_super s;
} T;

void cr_words_add(struct cr_words *ws, uint64_t off, uint64_t val)
{
	if (ws->n == ws->cap) {
		ws->cap = ws->cap ? ws->cap * 2 : 16;
		ws->w = realloc(ws->w, ws->cap * sizeof(*ws->w));
		if (!ws->w) {
			perror("zpmfs_crash");
			exit(2);
		}
	}
	ws->w[ws->n].off = off;
	ws->w[ws->n++].val = val;
}

static void on_flush(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(LINE - 1);
	uintptr_t end = (uintptr_t)p + len;
	uintptr_t lo = (uintptr_t)T.live, hi = lo + T.size;

	if (!T.op)
		return;
	for (; a < end; a += LINE) {
		struct pend *pd;

		if (a < lo || a >= hi)
			continue;	/* not pmem (cannot happen) */
		if (T.npend == T.cap) {
			T.cap = T.cap ? T.cap * 2 : 64;
			T.pend = realloc(T.pend, T.cap * sizeof(*T.pend));
			if (!T.pend)
				exit(2);
		}
		pd = &T.pend[T.npend++];
		pd->line = (a - lo) / LINE;
		memcpy(pd->data, (void *)a, LINE);
	}
}

/* Every word where the live image is not what is durable */
static void diff_words(struct cr_words *ws)
{
	size_t pg, i;

	for (pg = 0; pg < T.size; pg += 4096) {
		const uint64_t *l = (const void *)(T.live + pg);
		const uint64_t *p = (const void *)(T.pers + pg);

		if (!memcmp(l, p, 4096))
			continue;
		for (i = 0; i < 4096 / 8; i++)
			if (l[i] != p[i])
				cr_words_add(ws, pg + i * 8, l[i]);
	}
}

static struct cr_fence *new_fence(struct cr_op *op)
{
	struct cr_fence *f;

	if (op->nf == op->cap) {
		op->cap = op->cap ? op->cap * 2 : 16;
		op->f = realloc(op->f, op->cap * sizeof(*op->f));
		if (!op->f)
			exit(2);
	}
	f = &op->f[op->nf++];
	memset(f, 0, sizeof(*f));
	return f;
}

static void on_fence(void)
{
	struct cr_fence *f;
	size_t i, k;

	if (!T.op)
		return;
	f = new_fence(T.op);
	f->nbt = backtrace(f->bt, CR_BT);
	diff_words(&f->dirty);
	for (i = 0; i < T.npend; i++) {
		uint64_t *p = (void *)(T.pers + T.pend[i].line * LINE);

		for (k = 0; k < LINE / 8; k++) {
			if (p[k] == T.pend[i].data[k])
				continue;
			p[k] = T.pend[i].data[k];
			cr_words_add(&f->persist, T.pend[i].line * LINE + k * 8,
				     p[k]);
		}
	}
	T.npend = 0;
}

void tr_init(char *live, size_t size)
{
	T.live = live;
	T.size = size;
	T.pers = malloc(size);
	if (!T.pers)
		exit(2);
	memcpy(&T.s, live + ZPMFS_SB_BLOCK * ZPMFS_BLOCK, sizeof(T.s));
	pmem_trace.flush = on_flush;
	pmem_trace.fence = on_fence;
	tr_sync();
}

void tr_sync(void)
{
	memcpy(T.pers, T.live, T.size);
	T.npend = 0;
}

void tr_begin(struct cr_op *op)
{
	memset(op, 0, sizeof(*op));
	op->p0 = malloc(T.size);
	if (!op->p0)
		exit(2);
	memcpy(op->p0, T.pers, T.size);
	T.npend = 0;
	T.op = op;
}

static bool line_pending(uint64_t off)
{
	size_t i;

	for (i = 0; i < T.npend; i++)
		if (T.pend[i].line == off / LINE)
			return true;
	return false;
}

void tr_end(struct cr_op *op, const char *what)
{
	struct cr_fence *f = new_fence(op);
	char where[96];
	size_t i;

	T.op = NULL;
	f->end = true;
	diff_words(&f->dirty);
	for (i = 0; i < f->dirty.n; i++) {
		bool fl = line_pending(f->dirty.w[i].off);

		if (fl)
			op->unfenced++;
		else
			op->unflushed++;
		tr_describe(f->dirty.w[i].off, where, sizeof(where));
		printf("FLAG %s: %s at %s (0x%lx) when the op returned\n",
		       what, fl ? "flush with no fence after it" :
		       "store never flushed", where,
		       (unsigned long)f->dirty.w[i].off);
	}
	/* what the next op starts from: the stores in flight stay in flight */
	T.npend = 0;
}

void tr_op_free(struct cr_op *op)
{
	size_t i;

	for (i = 0; i < op->nf; i++) {
		free(op->f[i].dirty.w);
		free(op->f[i].persist.w);
	}
	free(op->f);
	free(op->p0);
	memset(op, 0, sizeof(*op));
}

static const struct { size_t off; const char *name; } ifields[] = {
#define F(x) { offsetof(struct zpmfs_inode, x), #x }
	F(mode), F(uid), F(rdev), F(size), F(blocks), F(generation),
	F(atime), F(mtime), F(ctime), F(btime), F(atime_ns), F(ctime_ns),
	F(map_root), F(map_height), F(xattr_block), F(parent), F(reserved),
	F(inline_data),
#undef F
};

static const char *ifield(size_t off)
{
	const char *name = "?";
	size_t i;

	for (i = 0; i < sizeof(ifields) / sizeof(ifields[0]); i++)
		if (ifields[i].off <= off)
			name = ifields[i].name;
	if (!strcmp(name, "mode"))
		return "mode+nlink";
	if (!strcmp(name, "uid"))
		return "uid+gid";
	if (!strcmp(name, "rdev"))
		return "rdev+flags";
	return name;
}

void tr_describe(uint64_t off, char *buf, size_t len)
{
	uint64_t b = off / ZPMFS_BLOCK, in = off % ZPMFS_BLOCK;
	const struct zpmfs_super *s = &T.s;

	if (b >= s->itable_start && b < s->itable_start + s->itable_blocks) {
		uint64_t i = (off - s->itable_start * ZPMFS_BLOCK) /
			     ZPMFS_INODE_SIZE;

		snprintf(buf, len, "inode %lu %s", (unsigned long)i + 1,
			 ifield(off % ZPMFS_INODE_SIZE));
	} else if (b >= s->bitmap_start && b < s->data_start) {
		snprintf(buf, len, "bitmap (blocks %lu..)",
			 (unsigned long)((off - s->bitmap_start * ZPMFS_BLOCK)
					 * 8));
	} else if (b >= s->log_start && b < s->log_start + s->log_blocks) {
		snprintf(buf, len, "log block %lu +%lu",
			 (unsigned long)(b - s->log_start), (unsigned long)in);
	} else if (b <= ZPMFS_SB_COPY_BLOCK) {
		snprintf(buf, len, "superblock %lu +%lu", (unsigned long)b,
			 (unsigned long)in);
	} else {
		snprintf(buf, len, "block %lu +%lu", (unsigned long)b,
			 (unsigned long)in);
	}
}
