// SPDX-License-Identifier: BSD-3-Clause
/*
 * zstress: declarations shared by the parent (zstress.c: options, workers,
 * watchdog, summary), the shared-namespace operations (ops.c) and the
 * private-file checker (own.c).
 */
#ifndef ZSTRESS_H
#define ZSTRESS_H

#include <errno.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define ZS_MAX_OPS	64		/* room in the per-op counters */
#define ZS_MAX_OK	14		/* allowed errnos per op, with the 0 */
#define ZS_PATH		64		/* longest generated path, with NUL */
#define ZS_NFDS		4		/* files kept open across ops */
#define ZS_HIST		16		/* own-file ops kept for a report */
#define ZS_OWN_MAX	(4 << 20)	/* own file (and shadow) size limit */
#define ZS_BUF		(256 << 10)	/* largest single write */
#define ZS_MAX_WORKERS	1024
#define ZS_MAX_PRINTED	100		/* failure reports per worker */

struct zs_opts {
	const char *dir;
	pid_t parent;
	int nworkers;
	long seconds;		/* 0: no time limit */
	long nops;		/* per worker; 0: no limit */
	long watchdog;		/* seconds a syscall may take */
	uint64_t seed;
	int quiet;
	uint64_t deadline;	/* CLOCK_MONOTONIC ns; 0: none */
};

/*
 * One per worker in a MAP_SHARED|MAP_ANONYMOUS area.  Only the worker
 * writes it (but pid, which the parent sets); the parent reads the
 * atomics at any time and the rest for the watchdog report (the worker
 * is stuck then, so they hold still) and for the summary (the worker has
 * exited by then).
 */
struct zs_slot {
	pid_t pid;
	_Atomic uint64_t nops;
	_Atomic uint64_t failures;
	/* CLOCK_MONOTONIC ns when the current syscall began; 0: none. */
	_Atomic uint64_t sys_start;
	uint64_t opnum;
	char opname[16];
	char sysname[24];
	char path[2 * ZS_PATH + 16];
	uint64_t count[ZS_MAX_OPS];	/* ops run */
	uint64_t failed[ZS_MAX_OPS];	/* failures, by op */
	/* allowed errnos by op, indexed like zs_op.ok[] */
	uint64_t okcount[ZS_MAX_OPS][ZS_MAX_OK];
	uint64_t sigbus;		/* expected SIGBUS in shared mmaps */
	uint64_t resync;		/* own shadow reloaded from the file */
};

struct zs_shared {
	_Atomic int stop;		/* parent asks workers to finish */
	struct zs_slot slot[];
};

/* A record of one own-file op, for the mismatch report. */
struct zs_hist {
	uint64_t opnum;
	const char *what;
	off_t from;			/* copy source, else -1 */
	off_t off;
	size_t len;
	off_t before, after;		/* file size */
};

/* The worker's private file "own-W" and its in-memory shadow. */
struct zs_own {
	int fd;				/* -1: given up after an error */
	char name[16];
	char *shadow;			/* ZS_OWN_MAX bytes, zero past size */
	off_t size;
	struct zs_hist hist[ZS_HIST];
	unsigned long nhist;
};

/* A file the worker keeps open across ops (-1: slot empty). */
struct zs_fd {
	int fd;
	char path[ZS_PATH];
};

/* All the state of one worker process. */
struct zs_worker {
	int id;
	const struct zs_opts *opt;
	struct zs_shared *sh;
	struct zs_slot *slot;
	uid_t uid;
	gid_t gid;
	uint64_t rng;
	uint64_t opnum;			/* from 1 */
	int op;				/* index in zs_ops of the op running */
	long pagesize;
	char *buf;			/* ZS_BUF bytes of data to write */
	char *rbuf;			/* ZS_BUF bytes to read into */
	struct zs_fd fds[ZS_NFDS];
	struct zs_own own;
	sigjmp_buf bus_env;
};

struct zs_op {
	const char *name;
	int weight;
	void (*fn)(struct zs_worker *w);
	/* errnos that concurrency (or the fs saying "unsupported") explains */
	int ok[ZS_MAX_OK];
};

extern const struct zs_op zs_ops[];
extern const int zs_nops;

static inline uint64_t zs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* splitmix64: small, fast, and the same sequence everywhere for a seed. */
static inline uint64_t zs_rnd(struct zs_worker *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t zs_below(struct zs_worker *w, uint64_t n)
{
	return n ? zs_rnd(w) % n : 0;
}

/* 1 .. max, log-uniform: mostly small, now and then large. */
static inline size_t zs_rnd_len(struct zs_worker *w, size_t max)
{
	unsigned bits = 0;		/* 2^bits <= max < 2^(bits+1) */

	while (bits < 62 && (2ull << bits) <= max)
		bits++;
	return 1 + zs_below(w, 1ull << zs_below(w, bits + 1));
}

void zs_fill(struct zs_worker *w, char *p, size_t len);

/*
 * Publish "in syscall NAME since now" for the watchdog; cleared by
 * zs_sys_end().  A page fault on a mapped file counts as a syscall here:
 * it can block in the filesystem just the same.
 */
static inline void zs_sys_begin(struct zs_worker *w, const char *name)
{
	char *d = w->slot->sysname;
	size_t i;

	for (i = 0; i < sizeof(w->slot->sysname) - 1 && name[i]; i++)
		d[i] = name[i];
	d[i] = 0;
	atomic_store_explicit(&w->slot->sys_start, zs_now(),
			      memory_order_release);
}

/* Returns ret, with errno preserved, so SYS() can wrap any call. */
static inline long zs_sys_end(struct zs_worker *w, long ret)
{
	int e = errno;

	atomic_store_explicit(&w->slot->sys_start, 0, memory_order_release);
	errno = e;
	return ret;
}

#define SYS(w, name, call) (zs_sys_begin(w, name), zs_sys_end(w, (call)))

/* Set the path(s) shown in failure reports and by the watchdog. */
void zs_set_path(struct zs_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Classify errno after syscall SYS of the current op failed: an errno in
 * the op's allowed list is counted and 0 returned; anything else is
 * reported as a failure and -1 returned.
 */
int zs_err(struct zs_worker *w, const char *sys);

/*
 * Report a failure of the current op: one line naming worker, op number,
 * op, path and seed, then DETAIL (may be NULL) verbatim, in one write.
 */
void zs_fail_detail(struct zs_worker *w, const char *detail,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define zs_fail(w, ...) zs_fail_detail(w, NULL, __VA_ARGS__)

/* memcpy from w->buf into a shared mapping; -1 if that hit SIGBUS. */
int zs_mapped_store(struct zs_worker *w, char *dst, size_t len);

void zs_worker_main(const struct zs_opts *opt, struct zs_shared *sh, int id)
	__attribute__((noreturn));

/* own.c */
int zs_own_open(struct zs_worker *w);
void zs_own_close(struct zs_worker *w);
void op_own_write(struct zs_worker *w);
void op_own_append(struct zs_worker *w);
void op_own_hole(struct zs_worker *w);
void op_own_read(struct zs_worker *w);
void op_own_trunc(struct zs_worker *w);
void op_own_punch(struct zs_worker *w);
void op_own_zero(struct zs_worker *w);
void op_own_falloc(struct zs_worker *w);
void op_own_mmap(struct zs_worker *w);
void op_own_copy(struct zs_worker *w);
void op_own_fsync(struct zs_worker *w);
void op_own_verify(struct zs_worker *w);

#endif
