// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_big.c - a directory of 100 000 entries, running out of space, and
 * many threads at once.
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
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

	/* the debug plugin's check walks 110 000 inodes: not after each op */
	setenv("ZPMFS_CHECK_EVERY", "4096", 1);
	err = fresh("256M", "110000");
	unsetenv("ZPMFS_CHECK_EVERY");
	if (err)
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

/* Random namespace and data ops until killed (child of t_crash) */
static void crash_child(unsigned int seed)
{
	char name[32], name2[32], buf[9000];
	struct zus_rename_out ro;
	struct zufs_attr a, d;
	uint64_t dirs[4];
	int i;

	if (th_mount("", 0))
		_exit(3);
	srand(seed);
	memset(buf, 'c', sizeof(buf));
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		dirs[i] = th_lookup(ROOT, name);
		if (!dirs[i])
			dirs[i] = th_create(ROOT, name, S_IFDIR | 0755);
	}
	for (;;) {
		struct zus_ctx c = th_ctx();
		uint64_t dir = dirs[rand() % 4], dir2 = dirs[rand() % 4], ino;
		int op = rand() % 6;

		snprintf(name, sizeof(name), "f%d", rand() % 200);
		snprintf(name2, sizeof(name2), "f%d", rand() % 200);
		switch (op) {
		case 0:
			T.ops->create(T.sb, &c, dir, name, strlen(name),
				      S_IFREG | 0644, 0, 0, 0, 0, NULL, 0, false,
				      &a, &d);
			break;
		case 1:
			if (!T.ops->unlink(T.sb, &c, dir, name, strlen(name),
					   false, &a, &d))
				T.ops->evict(T.sb, &c, a.ino);
			break;
		case 2:
			T.ops->rename(T.sb, &c, dir, name, strlen(name), dir2,
				      name2, strlen(name2), 0, &ro);
			if (ro.target_attr.ino && !ro.target_attr.nlink)
				T.ops->evict(T.sb, &c, ro.target_attr.ino);
			memset(&ro, 0, sizeof(ro));
			break;
		default:
			ino = th_lookup(dir, name);
			if (ino)
				T.ops->write(T.sb, &c, ino, buf,
					     rand() % sizeof(buf),
					     rand() % 100000, &a);
			break;
		}
	}
}

/*
 * Kill a process in the middle of random operations (all its stores have
 * reached the shared mapping, as if pmem persisted each one): the image
 * must mount again, work, and fsck must not find more than the known
 * windows of the not-yet-journaled multi-store operations.
 */
void t_crash(void)
{
	int i, bad_mount = 0, errors = 0, fsck_fail = 0, leaks_left = 0, rc;

	if (fresh("32M", NULL))
		return;
	th_umount();
	for (i = 0; i < 20; i++) {
		pid_t pid = fork();
		struct timespec ts = { 0, (10 + rand() % 40) * 1000000L };

		if (pid == 0)
			crash_child(i + 1);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		rc = th_fsck();
		if (rc == 4)
			errors++;
		else if (rc != 0 && rc != 1)
			fsck_fail++;
		if (th_mount("", 0)) {
			bad_mount++;
			continue;
		}
		if (th_create_err(ROOT, "after", S_IFREG | 0644) &&
		    th_create_err(ROOT, "after", S_IFREG | 0644) != -EEXIST)
			bad_mount++;
		th_umount();
		/* the mount freed the orphans and reclaimed leaked blocks */
		if (th_fsck_says("unreachable") || th_fsck_says("orphan"))
			leaks_left++;
	}
	CHECK(!leaks_left, "%d crash images still leaked blocks or orphans "
	      "after a mount", leaks_left);
	CHECK(!bad_mount, "%d crash images did not mount or work", bad_mount);
	CHECK(!fsck_fail, "fsck failed on %d crash images", fsck_fail);
	if (errors || T.verbose)
		printf("crash: %d of 20 images had inconsistencies (no journal yet)\n",
		       errors);
	if (!th_mount("", 0)) {
		struct zus_ctx c = th_ctx();
		int count = 0, k;
		bool eof;

		for (k = 0; k < 4; k++) {
			char name[8];

			snprintf(name, sizeof(name), "d%d", k);
			T.ops->readdir(T.sb, &c, th_lookup(ROOT, name),
				       ZUFS_DIR_POS_FIRST, count_fill, &count,
				       &eof);
		}
		CHECK(count > 20, "the killed children did work: %d files",
		      count);
	}
}

/* Threads renaming, creating and removing across a small tree */
struct sarg {
	uint64_t dirs[6];
	unsigned int seed;
	int done;
};

static void *stress_worker(void *p)
{
	struct sarg *s = p;
	struct zus_rename_out ro;
	struct zufs_attr a, d;
	char n1[16], n2[16];
	bool eof;
	int i, cnt;

	for (i = 0; i < 4000; i++) {
		struct zus_ctx c = th_ctx();
		uint64_t x = s->dirs[rand_r(&s->seed) % 6];
		uint64_t y = s->dirs[rand_r(&s->seed) % 6];
		int op = rand_r(&s->seed) % 7;

		snprintf(n1, sizeof(n1), "n%u", rand_r(&s->seed) % 12);
		snprintf(n2, sizeof(n2), "n%u", rand_r(&s->seed) % 12);
		switch (op) {
		case 0:
			T.ops->create(T.sb, &c, x, n1, strlen(n1),
				      S_IFREG | 0644, 0, 0, 0, 0, NULL, 0,
				      false, &a, &d);
			break;
		case 1:
			T.ops->create(T.sb, &c, x, n1, strlen(n1),
				      S_IFDIR | 0755, 0, 0, 0, 0, NULL, 0,
				      false, &a, &d);
			break;
		case 2:
			memset(&ro, 0, sizeof(ro));
			if (!T.ops->rename(T.sb, &c, x, n1, strlen(n1), y, n2,
					   strlen(n2), rand_r(&s->seed) % 3,
					   &ro) &&
			    ro.target_attr.ino && !ro.target_attr.nlink)
				T.ops->evict(T.sb, &c, ro.target_attr.ino);
			break;
		case 3:
			if (!T.ops->unlink(T.sb, &c, x, n1, strlen(n1),
					   rand_r(&s->seed) % 2, &a, &d))
				T.ops->evict(T.sb, &c, a.ino);
			break;
		case 4:
			T.ops->lookup(T.sb, &c, x, n1, strlen(n1), &a);
			break;
		default:
			cnt = 0;
			T.ops->readdir(T.sb, &c, x, ZUFS_DIR_POS_FIRST,
				       count_fill, &cnt, &eof);
			break;
		}
	}
	s->done = 1;
	return NULL;
}

void t_stress(void)
{
	struct sarg args[4];
	pthread_t th[4];
	uint64_t dirs[6];
	int i, rc;

	if (fresh("64M", NULL))
		return;
	dirs[0] = ROOT;
	dirs[1] = th_create(ROOT, "a", S_IFDIR | 0755);
	dirs[2] = th_create(ROOT, "b", S_IFDIR | 0755);
	dirs[3] = th_create(dirs[1], "c", S_IFDIR | 0755);
	dirs[4] = th_create(dirs[3], "d", S_IFDIR | 0755);
	dirs[5] = th_create(dirs[2], "e", S_IFDIR | 0755);
	alarm(120);	/* a deadlock kills the run instead of hanging it */
	for (i = 0; i < 4; i++) {
		memcpy(args[i].dirs, dirs, sizeof(dirs));
		args[i].seed = i + 1;
		args[i].done = 0;
		pthread_create(&th[i], NULL, stress_worker, &args[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(args[i].done, "worker %d finished", i);
	}
	alarm(0);
	th_umount();
	rc = th_fsck();
	CHECK(rc == 0, "fsck after stress: %d", rc);
	CHECK_ERR(th_mount("", 0), 0);
}
