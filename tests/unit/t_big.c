// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_big.c - a directory of 100 000 entries, running out of space, and
 * many threads at once.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"
#include "tests.h"

#define BIG_N		100000
#define BATCH		1000

struct big_rd {
	int *seen_f;		/* per original entry */
	int *seen_n;		/* per entry created during the scan */
	int n, max, bad;
	uint64_t last;
};

static int big_fill(void *buf, const char *name, size_t len, uint64_t ino,
		    unsigned int dtype, uint64_t next_pos)
{
	struct big_rd *r = buf;
	char tmp[32];
	int i;

	(void)ino; (void)dtype;
	if (r->n >= r->max)
		return 1;
	snprintf(tmp, sizeof(tmp), "%.*s", (int)len, name);
	i = atoi(tmp + 1);
	if (tmp[0] == 'f' && i >= 0 && i < BIG_N)
		r->seen_f[i]++;
	else if (tmp[0] == 'n' && i >= 0 && i < BIG_N)
		r->seen_n[i]++;
	else
		r->bad++;
	if (next_pos <= r->last)
		r->bad++;
	r->last = next_pos;
	r->n++;
	return 0;
}

void t_bigdir(void)
{
	struct zus_ctx c = th_ctx();
	struct big_rd r = { 0 };
	char name[32];
	int *gone, i, err = 0, missing = 0, dup = 0, seen_gone = 0, batches = 0;
	int removed = 0, added = 0;
	uint64_t d, pos = ZUFS_DIR_POS_FIRST;
	bool eof = false;

	if (fresh("256M", "110000"))
		return;
	r.seen_f = calloc(BIG_N, sizeof(int));
	r.seen_n = calloc(BIG_N, sizeof(int));
	gone = calloc(BIG_N, sizeof(int));
	d = th_create(ROOT, "big", S_IFDIR | 0755);
	for (i = 0; i < BIG_N && !err; i++) {
		snprintf(name, sizeof(name), "f%06d", i);
		err = th_create_err(d, name, S_IFREG | 0644);
	}
	CHECK(!err, "created %d entries: %s", i, strerror(-err));
	for (i = 0; i < BIG_N; i += 7) {
		snprintf(name, sizeof(name), "f%06d", i);
		if (!th_lookup(d, name))
			missing++;
	}
	CHECK(!missing, "%d lookups failed", missing);
	/* remount: the index is rebuilt from pmem on first use */
	th_umount();
	CHECK_ERR(th_mount("", 0), 0);
	CHECK(th_lookup(d, "f099999") != 0, "lookup after remount");

	/* scan in batches; unlink and create between batches */
	while (!eof) {
		r.n = 0;
		r.max = BATCH;
		err = T.ops->readdir(T.sb, &c, d, pos, big_fill, &r, &eof);
		if (err)
			break;
		pos = r.last;
		if (++batches % 10)
			continue;
		for (i = 0; i < 50; i++) {
			/* one already seen, one not yet seen (from the end) */
			int k = (batches * 50 + i) % BIG_N, e = BIG_N - 1 - k;

			snprintf(name, sizeof(name), "f%06d", k);
			if (!gone[k] && !th_unlink(d, name, false)) {
				gone[k] = 1;
				removed++;
			}
			snprintf(name, sizeof(name), "f%06d", e);
			if (!gone[e] && !r.seen_f[e] && !th_unlink(d, name, false)) {
				gone[e] = 2;
				removed++;
			}
			snprintf(name, sizeof(name), "n%06d", added);
			if (!th_create_err(d, name, S_IFREG | 0644))
				added++;
		}
	}
	CHECK(!err, "readdir: %d", err);
	for (i = 0; i < BIG_N; i++) {
		if (gone[i] == 2 && r.seen_f[i])
			seen_gone++;
		else if (!gone[i] && r.seen_f[i] != 1)
			r.seen_f[i] ? dup++ : missing++;
	}
	for (i = 0; i < added; i++)
		if (r.seen_n[i] > 1)
			dup++;
	CHECK(!missing && !dup && !seen_gone && !r.bad,
	      "scan: %d missing, %d twice, %d removed-but-seen, %d bad",
	      missing, dup, seen_gone, r.bad);
	CHECK(batches >= BIG_N / BATCH, "batches %d", batches);

	/* a clean full scan sees exactly what is there */
	memset(r.seen_f, 0, BIG_N * sizeof(int));
	memset(r.seen_n, 0, BIG_N * sizeof(int));
	r.last = 0;
	r.n = 0;
	r.max = 1 << 30;
	CHECK_ERR(T.ops->readdir(T.sb, &c, d, ZUFS_DIR_POS_FIRST, big_fill, &r,
				 &eof), 0);
	CHECK(eof && r.n == BIG_N - removed + added,
	      "full scan %d, want %d", r.n, BIG_N - removed + added);
	free(r.seen_f);
	free(r.seen_n);
	free(gone);
}

void t_enospc(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;
	static char buf[1 << 20];
	uint64_t free0, f, off = 0;
	ssize_t n;
	int i, err = 0;

	if (fresh("16M", "64"))
		return;
	f = th_create(ROOT, "fill", S_IFREG | 0644);
	free0 = th_bfree();
	memset(buf, 0xab, sizeof(buf));
	do {
		n = T.ops->write(T.sb, &c, f, buf, sizeof(buf), off, &a);
		if (n > 0)
			off += n;
	} while (n == (ssize_t)sizeof(buf));
	CHECK(n == -ENOSPC || (n > 0 && n < (ssize_t)sizeof(buf)),
	      "write until full: %zd", n);
	n = T.ops->write(T.sb, &c, f, buf, sizeof(buf), off, &a);
	CHECK(n == -ENOSPC, "full: %zd", n);
	CHECK(th_bfree() == 0, "bfree %lu", (unsigned long)th_bfree());
	CHECK(off > 14 << 20, "filled %lu bytes", (unsigned long)off);
	{
		struct zufs_extent ext[4];

		CHECK_ERR(T.ops->get_blocks(T.sb, &c, f, off + (1 << 20), 4096,
					    true, off + (1 << 20) + 4096, ext,
					    4, &a), -ENOSPC);
	}
	CHECK_ERR(T.ops->fallocate(T.sb, &c, f, 0, off + 8192, 1 << 20, &a),
		  -ENOSPC);
	CHECK_ERR(T.ops->read(T.sb, &c, f, buf, 4096, off - 4096), 4096);
	CHECK(buf[0] == (char)0xab, "data intact when full");
	CHECK_ERR(th_unlink(ROOT, "fill", false), 0);
	CHECK_ERR(T.ops->evict(T.sb, &c, f), 0);
	CHECK(th_bfree() == free0, "space came back: %lu vs %lu",
	      (unsigned long)th_bfree(), (unsigned long)free0);
	/* inodes run out too */
	for (i = 0; i < 100 && !err; i++) {
		char name[16];

		snprintf(name, sizeof(name), "i%d", i);
		err = th_create_err(ROOT, name, S_IFREG | 0644);
	}
	CHECK(err == -ENOSPC && i == 64, "inode ENOSPC after %d: %d", i, err);
}

#define THREADS		8
#define PER_THREAD	300
#define FSIZE		20000

struct targ {
	int id;
	uint64_t dir;
	int errors;
};

static void *worker(void *p)
{
	struct targ *t = p;
	char name[32], buf[FSIZE], back[FSIZE];
	struct zufs_extent ext[8];
	struct zufs_attr a, d;
	int i, j;

	for (i = 0; i < PER_THREAD; i++) {
		struct zus_ctx c = th_ctx();
		uint64_t f;

		c.cpu = t->id;
		snprintf(name, sizeof(name), "t%d_%d", t->id, i);
		if (T.ops->create(T.sb, &c, t->dir, name, strlen(name),
				  S_IFREG | 0644, 0, 0, 0, 0, NULL, 0, false,
				  &a, &d)) {
			t->errors++;
			fprintf(stderr, "thread %d: create %s failed\n", t->id,
				name);
			continue;
		}
		f = a.ino;
		for (j = 0; j < FSIZE; j++)
			buf[j] = (char)(t->id * 31 + i + j);
		if (i % 2) {
			if (T.ops->write(T.sb, &c, f, buf, FSIZE, 0, &a) != FSIZE)
				t->errors++;
		} else {
			int n = T.ops->get_blocks(T.sb, &c, f, 0, FSIZE, true,
						  FSIZE, ext, 8, &a);

			uint64_t done = 0;

			for (j = 0; j < n; j++) {
				uint64_t l = ext[j].length;

				if (l > FSIZE - done)
					l = FSIZE - done;
				memcpy((char *)T.map + ext[j].pmem_off,
				       buf + done, l);
				done += l;
			}
			if (n < 1 || done < FSIZE) {
				t->errors++;
				fprintf(stderr, "thread %d: get_blocks %s: %d\n",
					t->id, name, n);
				continue;
			}
		}
		if (T.ops->read(T.sb, &c, f, back, FSIZE, 0) != FSIZE ||
		    memcmp(buf, back, FSIZE)) {
			t->errors++;
			fprintf(stderr, "thread %d: %s reads back wrong\n",
				t->id, name);
		}
		if (i % 3 == 0) {
			if (T.ops->unlink(T.sb, &c, t->dir, name, strlen(name),
					  false, &a, &d) ||
			    T.ops->evict(T.sb, &c, f)) {
				t->errors++;
				fprintf(stderr, "thread %d: unlink %s failed\n",
					t->id, name);
			}
		}
	}
	return NULL;
}

static int count_fill(void *buf, const char *name, size_t len, uint64_t ino,
		      unsigned int dtype, uint64_t next_pos)
{
	(void)name; (void)len; (void)ino; (void)dtype; (void)next_pos;
	(*(int *)buf)++;
	return 0;
}

void t_threads(void)
{
	struct zus_ctx c = th_ctx();
	pthread_t th[THREADS];
	struct targ args[THREADS];
	uint64_t shared, free0, ffree0;
	int i, errors = 0, count = 0;
	bool eof;

	if (fresh("256M", NULL))
		return;
	shared = th_create(ROOT, "shared", S_IFDIR | 0755);
	free0 = th_bfree();
	ffree0 = th_ffree();
	for (i = 0; i < THREADS; i++) {
		args[i] = (struct targ){ .id = i, .dir = shared };
		pthread_create(&th[i], NULL, worker, &args[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		errors += args[i].errors;
	}
	CHECK(!errors, "%d errors in threads", errors);
	T.ops->readdir(T.sb, &c, shared, ZUFS_DIR_POS_FIRST, count_fill,
		       &count, &eof);
	CHECK(count == THREADS * (PER_THREAD - PER_THREAD / 3),
	      "entries %d, want %d", count,
	      THREADS * (PER_THREAD - PER_THREAD / 3));
	CHECK(ffree0 - th_ffree() == (uint64_t)count, "inodes used %lu",
	      (unsigned long)(ffree0 - th_ffree()));
	CHECK(free0 - th_bfree() >= (uint64_t)count * 5,
	      "blocks used %lu", (unsigned long)(free0 - th_bfree()));
}
