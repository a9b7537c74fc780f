// SPDX-License-Identifier: BSD-3-Clause
/*
 * journal.c - the undo journal that makes every namespace, attribute and
 * xattr operation atomic across a crash (design and invariants in
 * README.md, "Crash consistency").
 *
 * One slot per log block; an op holds one from zj_begin() to zj_commit().
 * Each zj_log() appends a record with the old bytes and persists it (and,
 * for the first record, the slot header's seq in the same fence) before
 * the caller may store over them.  zj_commit() writes back every logged
 * range, fences, and clears seq: from that store on, the op is whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zpmfs.h"
#include "journal.h"

#define MAX_SLOTS	64
#define MAX_RANGES	160
#define FREES_KEPT	1024	/* deferred-free entries a thread keeps */

struct zj_range {
	const char	*p;
	size_t		len;
};

struct zj_free {
	uint64_t	start;
	uint64_t	count;
};

/* The op in flight on this thread */
struct zj {
	struct zus_sb	*sb;
	unsigned int	slot;
	unsigned int	depth;		/* nested begin: one op */
	uint64_t	seq;
	size_t		used;		/* bytes of the slot written */
	struct zj_range	r[MAX_RANGES];
	unsigned int	nr;
	bool		overflow;
	bool		intent;
	bool		lazy;		/* begun by zj_begin_lazy() */
	/*
	 * Frees deferred to the commit, on the heap: a punch inside an op
	 * (the preallocation an insert drops, a fragmented range a collapse
	 * removes) frees any number of runs.
	 */
	unsigned int	nfree;
	unsigned int	free_cap;
	struct zj_free	*f;
};

struct zp_journal {
	pthread_mutex_t	lock;
	pthread_cond_t	freed;
	uint64_t	busy;		/* slot bitmap */
	unsigned int	nslots;
	_Atomic uint64_t next_seq;
};

static _Thread_local struct zj cur;

static char *slot_base(struct zus_sb *sb, unsigned int slot)
{
	return zp_block(sb, sb->sbc.log_start + slot);
}

/*
 * The valid records of a slot whose header says seq: same seq, good
 * checksum, sane target; the first one that is not ends the op's log.
 * Calls fn on each (in log order); returns how many.
 */
static unsigned int slot_walk(struct zus_sb *sb, unsigned int slot,
			      uint64_t seq,
			      void (*fn)(struct zus_sb *, const struct zpmfs_log_rec *, void *),
			      void *arg)
{
	const char *b = slot_base(sb, slot);
	size_t off = sizeof(struct zpmfs_log_hdr);
	const struct zpmfs_log_rec *r;
	unsigned int n = 0;

	/* inodes, bitmap and data: never the log itself */
	while ((r = zpmfs_log_rec_at(b, off, seq,
				     sb->sbc.itable_start * ZPMFS_BLOCK,
				     sb->sbc.total_blocks * ZPMFS_BLOCK))) {
		if (fn)
			fn(sb, r, arg);
		n++;
		off += ZPMFS_LOG_REC_SIZE(r->len);
	}
	return n;
}

static void max_seq(struct zus_sb *sb, const struct zpmfs_log_rec *r,
		    void *arg)
{
	uint64_t *m = arg;

	(void)sb;
	if (r->seq > *m)
		*m = r->seq;
}

int zj_init(struct zus_sb *sb)
{
	struct zp_journal *j = calloc(1, sizeof(*j));
	uint64_t m = 0;
	unsigned int i;

	if (!j)
		return -ENOMEM;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->freed, NULL);
	j->nslots = sb->sbc.log_blocks < MAX_SLOTS ? sb->sbc.log_blocks :
		    MAX_SLOTS;
	/* Old records of committed ops stay in the slots: a new op's seq
	 * must never match one of them. */
	for (i = 0; i < j->nslots; i++) {
		struct zpmfs_log_hdr *h = (void *)slot_base(sb, i);

		if (h->seq > m)
			m = h->seq;
		slot_walk(sb, i, 0, max_seq, &m);
	}
	atomic_store(&j->next_seq, m + 1);
	sb->journal = j;
	return 0;
}

void zj_fini(struct zus_sb *sb)
{
	struct zp_journal *j = sb->journal;

	if (!j)
		return;
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->freed);
	free(j);
	sb->journal = NULL;
}

struct undo {
	const struct zpmfs_log_rec *r[ZPMFS_BLOCK / sizeof(struct zpmfs_log_rec)];
	unsigned int n;
};

static void collect(struct zus_sb *sb, const struct zpmfs_log_rec *r,
		    void *arg)
{
	struct undo *u = arg;

	(void)sb;
	u->r[u->n++] = r;
}

int zj_replay(struct zus_sb *sb)
{
	struct zp_journal *j = sb->journal;
	unsigned int i, ops = 0, recs = 0;

	for (i = 0; i < j->nslots; i++) {
		struct zpmfs_log_hdr *h = (void *)slot_base(sb, i);
		struct undo u = { .n = 0 };

		if (!h->seq)
			continue;
		slot_walk(sb, i, h->seq, collect, &u);
		/* last change first: the oldest bytes win */
		while (u.n--) {
			const struct zpmfs_log_rec *r = u.r[u.n];

			pmem_memcpy_persist(sb->base + r->off, r + 1, r->len);
			recs++;
		}
		/* rolled back: what it intended never happened */
		pmem_store64(&h->intent, 0);
		pmem_store64(&h->seq, 0);
		ops++;
	}
	if (ops)
		zp_log(sb, "journal: rolled back %u unfinished operation(s) "
		       "(%u record(s))", ops, recs);
	return 0;
}

static void redo(struct zus_sb *sb, const struct zpmfs_log_hdr *h)
{
	struct zpmfs_inode *pi;

	switch (h->intent) {
	case ZPMFS_INTENT_TRUNCATE:
		if (!zp_ino_valid(sb, h->arg0))
			break;
		pi = zp_pi(sb, h->arg0);
		if (S_ISREG(pi->mode) && h->arg1 == pi->size)
			zp_shrink_finish(sb, NULL, pi);
		return;
	case ZPMFS_INTENT_PUNCH:
		if (!zp_ino_valid(sb, h->arg0))
			break;
		pi = zp_pi(sb, h->arg0);
		if (S_ISREG(pi->mode))
			zp_bmap_punch(sb, pi, h->arg1, h->arg2);
		return;
	}
	zp_log(sb, "journal: dropped intent %lu (%lu, %lu)",
	       (unsigned long)h->intent, (unsigned long)h->arg0,
	       (unsigned long)h->arg1);
}

void zj_replay_intents(struct zus_sb *sb)
{
	struct zp_journal *j = sb->journal;
	unsigned int i, n = 0;

	for (i = 0; i < j->nslots; i++) {
		struct zpmfs_log_hdr *h = (void *)slot_base(sb, i);

		if (!h->intent)
			continue;
		redo(sb, h);
		pmem_store64(&h->intent, 0);
		n++;
	}
	if (n)
		zp_log(sb, "journal: finished %u committed operation(s)", n);
}

unsigned int zj_pending(struct zus_sb *sb)
{
	unsigned int i, n = 0;

	for (i = 0; i < sb->journal->nslots; i++) {
		const struct zpmfs_log_hdr *h = (void *)slot_base(sb, i);

		n += h->seq || h->intent;
	}
	return n;
}

static unsigned int slot_get(struct zp_journal *j, int cpu)
{
	unsigned int s;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		s = (unsigned int)(cpu < 0 ? 0 : cpu) % j->nslots;
		if (!(j->busy & (1ULL << s)))
			break;
		for (s = 0; s < j->nslots; s++)
			if (!(j->busy & (1ULL << s)))
				break;
		if (s < j->nslots)
			break;
		pthread_cond_wait(&j->freed, &j->lock);
	}
	j->busy |= 1ULL << s;
	pthread_mutex_unlock(&j->lock);
	return s;
}

static void slot_put(struct zp_journal *j, unsigned int s)
{
	pthread_mutex_lock(&j->lock);
	j->busy &= ~(1ULL << s);
	pthread_cond_signal(&j->freed);
	pthread_mutex_unlock(&j->lock);
}

void zj_begin(struct zus_sb *sb, const struct zus_ctx *ctx)
{
	if (cur.depth++)
		return;
	cur.sb = sb;
	cur.slot = slot_get(sb->journal, ctx->cpu);
	cur.seq = atomic_fetch_add(&sb->journal->next_seq, 1);
	cur.used = sizeof(struct zpmfs_log_hdr);
	cur.nr = 0;
	cur.overflow = false;
	cur.intent = false;
	cur.lazy = false;
	cur.nfree = 0;
}

void zj_begin_lazy(struct zus_sb *sb, const struct zus_ctx *ctx,
		   const void *pi)
{
	if (cur.depth)
		return;
	zj_begin(sb, ctx);
	cur.lazy = true;
	zj_log(pi, ZJ_INODE);
}

void zj_end_lazy(void)
{
	if (cur.depth == 1 && cur.lazy)
		zj_commit();
}

size_t zj_room(void)
{
	size_t hdr = ZPMFS_LOG_REC_SIZE(0);

	if (!cur.depth)
		return SIZE_MAX;
	if (cur.overflow || cur.nr == MAX_RANGES ||
	    cur.used + hdr >= ZPMFS_BLOCK)
		return 0;
	return ZPMFS_BLOCK - cur.used - hdr;
}

static bool frees_grow(struct zj *c)
{
	unsigned int cap = c->free_cap ? 2 * c->free_cap : 64;
	struct zj_free *f = realloc(c->f, cap * sizeof(*f));

	if (!f)
		return false;
	c->f = f;
	c->free_cap = cap;
	return true;
}

void zj_bfree(struct zus_sb *sb, uint64_t start, uint64_t count)
{
	struct zj *c = &cur;

	if (!c->depth || !count) {
		if (count)
			zp_bfree(sb, start, count);
		return;
	}
	if (c->nfree && c->f[c->nfree - 1].start + c->f[c->nfree - 1].count ==
	    start) {
		c->f[c->nfree - 1].count += count;
		return;
	}
	if (c->nfree == c->free_cap && !frees_grow(c)) {
		/* a leak (fsck finds it) rather than a block the undo could
		 * map again */
		zp_error(sb, "journal: no memory for a deferred free; %lu "
			 "block(s) leaked", (unsigned long)count);
		return;
	}
	c->f[c->nfree].start = start;
	c->f[c->nfree++].count = count;
}

/* after the commit: nothing the undo restores can point at them now */
static void run_frees(struct zus_sb *sb)
{
	unsigned int i;

	for (i = 0; i < cur.nfree; i++)
		zp_bfree(sb, cur.f[i].start, cur.f[i].count);
	cur.nfree = 0;
	if (cur.free_cap > FREES_KEPT) {
		free(cur.f);
		cur.f = NULL;
		cur.free_cap = 0;
	}
}

void zj_intent(uint64_t intent, uint64_t arg0, uint64_t arg1,
	       uint64_t arg2)
{
	struct zpmfs_log_hdr *h;

	if (!cur.depth || !cur.nr)
		return;		/* no op, or nothing logged to undo */
	h = (void *)slot_base(cur.sb, cur.slot);
	h->arg0 = arg0;
	h->arg1 = arg1;
	h->arg2 = arg2;
	pmem_persist(&h->arg0, 3 * sizeof(uint64_t));
	pmem_store64(&h->intent, intent);
	cur.intent = true;
}

void zj_intent_done(void)
{
	struct zpmfs_log_hdr *h;

	if (!cur.intent)
		return;
	h = (void *)slot_base(cur.sb, cur.slot);
	pmem_store64(&h->intent, 0);
	cur.intent = false;
	slot_put(cur.sb->journal, cur.slot);
	cur.sb = NULL;
}

static bool covered(const char *p, size_t len)
{
	unsigned int i;

	for (i = 0; i < cur.nr; i++)
		if (p >= cur.r[i].p && p + len <= cur.r[i].p + cur.r[i].len)
			return true;
	return false;
}

static void log_rec(const void *p, size_t len, bool fence)
{
	struct zus_sb *sb = cur.sb;
	struct zpmfs_log_hdr *h;
	struct zpmfs_log_rec *r;
	size_t need = ZPMFS_LOG_REC_SIZE(len);

	if (!cur.depth || covered(p, len))
		return;
	if (cur.used + need > ZPMFS_BLOCK || cur.nr == MAX_RANGES) {
		if (!cur.overflow)
			zp_error(sb, "journal: op needs more than one slot; "
				 "not atomic");
		cur.overflow = true;
		return;
	}
	h = (void *)slot_base(sb, cur.slot);
	r = (void *)((char *)h + cur.used);
	r->seq = cur.seq;
	r->off = (const char *)p - sb->base;
	r->len = len;
	memcpy(r + 1, p, len);
	r->csum = zpmfs_log_csum(r, r + 1);
	pmem_flush(r, sizeof(*r) + len);
	if (cur.used == sizeof(*h)) {
		h->seq = cur.seq;
		pmem_flush(&h->seq, sizeof(h->seq));
	}
	/* the old bytes are durable before the caller stores over them */
	if (fence)
		pmem_drain();
	cur.used += need;
	cur.r[cur.nr].p = p;
	cur.r[cur.nr++].len = len;
}

void zj_log(const void *p, size_t len)
{
	log_rec(p, len, true);
}

void zj_log_more(const void *p, size_t len)
{
	log_rec(p, len, false);
}

void zj_commit(void)
{
	struct zpmfs_log_hdr *h;

	if (!cur.depth || --cur.depth)
		return;
	h = (void *)slot_base(cur.sb, cur.slot);
	if (cur.nr) {
		/* Every store of the op was persisted (flushed and fenced)
		 * where it was made, so nothing is in flight: the store that
		 * makes the op whole needs no fence before it.  tests/crash
		 * flags a store the op leaves unflushed. */
		pmem_store64(&h->seq, 0);
	}
	run_frees(cur.sb);
	cur.lazy = false;
	if (cur.intent)
		return;		/* zj_intent_done() gives the slot back */
	slot_put(cur.sb->journal, cur.slot);
	cur.sb = NULL;
}
