// SPDX-License-Identifier: BSD-3-Clause
/*
 * zfsx: a data-integrity exerciser in the spirit of fsx.
 *
 * Applies a seeded random sequence of operations (pwrite, pread, truncate,
 * fallocate punch/zero/allocate, mmap read/write, fsync, close+reopen,
 * and with a second "peer" file FILE.peer: reflink both ways, dedupe and
 * copy_file_range) to one file while keeping an in-memory shadow copy of
 * each, and verifies every read and, at the end, both files against their
 * shadows.  On a mismatch it
 * prints where, a hexdump of expected vs. actual bytes and the last ops.
 *
 * mmap ops go through one persistent MAP_SHARED mapping of the whole
 * [0, maxlen) range, made after each open, so that truncate, punch hole and
 * zero range have to invalidate pages of a live mapping (a stale one is
 * caught by the next mapped read); -M maps and unmaps per op instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "remap.h"

enum op {
	OP_READ,
	OP_WRITE,
	OP_MAPREAD,
	OP_MAPWRITE,
	OP_TRUNCATE,
	OP_PUNCH,
	OP_ZERO,
	OP_FALLOC,
	OP_FSYNC,
	OP_REOPEN,
	OP_CLONE_FROM,	/* FICLONERANGE peer -> file */
	OP_CLONE_TO,	/* FICLONERANGE file -> peer (file's blocks shared) */
	OP_DEDUPE,	/* FIDEDUPERANGE file -> peer */
	OP_COPY,	/* copy_file_range peer -> file */
	OP_NR,
};

static const char *const op_names[OP_NR] = {
	"read", "write", "mapread", "mapwrite", "truncate", "punch",
	"zero", "falloc", "fsync", "reopen", "clonefrom", "cloneto",
	"dedupe", "copy",
};

/* Relative frequency of each operation. */
static const int op_weight[OP_NR] = {
	[OP_READ] = 20, [OP_WRITE] = 24, [OP_MAPREAD] = 10,
	[OP_MAPWRITE] = 10, [OP_TRUNCATE] = 6, [OP_PUNCH] = 6,
	[OP_ZERO] = 6, [OP_FALLOC] = 4, [OP_FSYNC] = 2, [OP_REOPEN] = 1,
	[OP_CLONE_FROM] = 4, [OP_CLONE_TO] = 4, [OP_DEDUPE] = 3, [OP_COPY] = 4,
};

#define LOG_LEN 20
#define DIRECT_ALIGN 4096

struct log_ent {
	long num;
	enum op op;
	off_t off;
	size_t len;
	off_t size_before;
	off_t size_after;
	int keep;		/* FALLOC_FL_KEEP_SIZE used */
};

static struct {
	long numops;
	uint64_t seed;
	off_t maxlen;
	size_t maxoplen;
	long progress;
	long seconds;		/* -t: stop after this long (0: no limit) */
	long check_every;	/* -c: fstat size check every K ops */
	long msync_every;	/* -m: msync every Nth mapped write */
	int permap;		/* -M: mmap/munmap per mapped op */
	int stats;		/* -s: per-op counts and times at the end */
	int direct;
	int quiet;
	long corrupt_at;	/* hidden -X: corrupt the shadow at this op */
	int disabled[OP_NR];
	const char *path;
} opt = {
	.numops = 10000,
	.maxlen = 4 << 20,
	.maxoplen = 64 << 10,
	.corrupt_at = -1,
	.check_every = 64,
	.msync_every = 16,
};

static struct {
	int fd;
	char *good;		/* shadow copy, zero beyond size */
	char *buf;		/* data buffer (aligned) */
	off_t size;
	uint64_t rng;
	long num;		/* current op number, from 1 */
	long pagesize;
	char *map;		/* persistent mapping of [0, maplen), or NULL */
	size_t maplen;
	long nmapwrites;
	long op_count[OP_NR];
	double op_time[OP_NR];
	struct log_ent log[LOG_LEN];
	long nlog;
	int pfd;		/* the peer file (clone ops), or -1 */
	char *pgood;		/* its shadow */
	off_t psize;
} st;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (st.rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void fill_random(char *p, size_t len)
{
	uint64_t x = rnd() | 1;
	size_t i = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Same bytes as the loop below, a word at a time. */
	for (; i + 8 <= len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
	if (i < len) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	for (; i < len; i++)
		p[i] = (char)(x >> ((i & 7) * 8));
#else
	for (; i < len; i++) {
		if (!(i & 7)) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		p[i] = (char)(x >> ((i & 7) * 8));
	}
#endif
}

static struct log_ent *log_op(enum op op, off_t off, size_t len, int keep)
{
	struct log_ent *e = &st.log[st.nlog++ % LOG_LEN];

	e->num = st.num;
	e->op = op;
	e->off = off;
	e->len = len;
	e->keep = keep;
	e->size_before = e->size_after = st.size;
	return e;
}

static void print_log(void)
{
	long i = st.nlog > LOG_LEN ? st.nlog - LOG_LEN : 0;
	struct log_ent *e;

	fprintf(stderr, "last %ld operations:\n", st.nlog - i);
	for (; i < st.nlog; i++) {
		e = &st.log[i % LOG_LEN];
		fprintf(stderr, "  %7ld %-8s ", e->num, op_names[e->op]);
		if (e->op == OP_TRUNCATE || e->op == OP_FSYNC ||
		    e->op == OP_REOPEN)
			fprintf(stderr, "%-29s", "");
		else
			fprintf(stderr, "0x%08jx len 0x%06zx%s",
				(intmax_t)e->off, e->len,
				e->keep ? " keep" : "     ");
		fprintf(stderr, "  size 0x%jx", (intmax_t)e->size_before);
		if (e->size_after != e->size_before)
			fprintf(stderr, " -> 0x%jx", (intmax_t)e->size_after);
		fputc('\n', stderr);
	}
}

static void __attribute__((noreturn)) die_report(void)
{
	fflush(stdout);
	print_log();
	fprintf(stderr, "zfsx: FAILED at op %ld (seed %" PRIu64 ", file %s)\n",
		st.num, opt.seed, opt.path);
	exit(1);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "zfsx: op %ld: ", st.num);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	die_report();
}

static void hexdump(const char *what, const char *p, size_t n, off_t at)
{
	size_t i;

	fprintf(stderr, "  %-8s @0x%08jx:", what, (intmax_t)at);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %02x", (unsigned char)p[i]);
	fputc('\n', stderr);
}

/* got[0..len) was read at file offset off; compare with the shadow. */
static void verify(const char *got, off_t off, size_t len, const char *how)
{
	const char *want = st.good + off;
	size_t i, n;

	if (!memcmp(got, want, len))
		return;
	for (i = 0; got[i] == want[i]; i++)
		;
	n = len - i < 16 ? len - i : 16;
	fflush(stdout);
	fprintf(stderr, "zfsx: op %ld: %s mismatch at offset 0x%jx "
		"(op range 0x%jx len 0x%zx, size 0x%jx)\n", st.num, how,
		(intmax_t)(off + i), (intmax_t)off, len, (intmax_t)st.size);
	hexdump("expected", want + i, n, off + i);
	hexdump("got", got + i, n, off + i);
	if (strstr(how, "mapread")) {
		/* Tell a stale mapping from bad file data. */
		char buf[16];
		ssize_t r = pread(st.fd, buf, n, off + i);

		if (r > 0)
			hexdump("pread", buf, r, off + i);
	}
	die_report();
}

static void check_size(void)
{
	struct stat sb;

	if (fstat(st.fd, &sb))
		fail("fstat: %s", strerror(errno));
	if (sb.st_size != st.size)
		fail("file size 0x%jx, expected 0x%jx", (intmax_t)sb.st_size,
		     (intmax_t)st.size);
}

static void zero_shadow(off_t off, off_t end)
{
	if (end > opt.maxlen)
		end = opt.maxlen;
	if (off < end)
		memset(st.good + off, 0, end - off);
}

static void disable(enum op op, int err)
{
	opt.disabled[op] = 1;
	if (!opt.quiet)
		printf("zfsx: %s not supported (%s), disabling it\n",
		       op_names[op], strerror(err));
}

static ssize_t pread_full(char *p, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(st.fd, p + done, len - done, off + done);
		if (n < 0)
			return -1;
		done += n;
		/* O_DIRECT reads are short only at EOF (then unaligned). */
		if (n == 0 || (opt.direct && done < len))
			break;
	}
	return done;
}

static ssize_t pwrite_full(const char *p, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(st.fd, p + done, len - done, off + done);
		if (n <= 0)
			return -1;
		done += n;
	}
	return done;
}

/* Random [off, off+len) inside [0, limit); aligned for O_DIRECT I/O. */
/* not inlined into the ops that sigsetjmp (-Wclobbered) */
static __attribute__((noinline)) void pick_range(off_t limit, int aligned,
						 off_t *off, size_t *len)
{
	off_t o = rnd_below(limit);
	size_t l = rnd_below(opt.maxoplen) + 1;

	if (aligned) {
		o &= ~(off_t)(DIRECT_ALIGN - 1);
		l = (l + DIRECT_ALIGN - 1) & ~(size_t)(DIRECT_ALIGN - 1);
	}
	if (o + (off_t)l > opt.maxlen)
		l = opt.maxlen - o;
	*off = o;
	*len = l;
}

static void op_read(void)
{
	off_t off;
	size_t len, want;
	ssize_t n;

	pick_range(st.size ? st.size : 1, opt.direct, &off, &len);
	log_op(OP_READ, off, len, 0);
	n = pread_full(st.buf, len, off);
	if (n < 0)
		fail("pread 0x%jx len 0x%zx: %s", (intmax_t)off, len,
		     strerror(errno));
	want = off >= st.size ? 0 : (size_t)(st.size - off);
	if (want > len)
		want = len;
	if ((size_t)n != want)
		fail("pread 0x%jx len 0x%zx returned 0x%zx, expected 0x%zx",
		     (intmax_t)off, len, (size_t)n, want);
	verify(st.buf, off, n, "read");
}

static void op_write(void)
{
	struct log_ent *e;
	off_t off;
	size_t len;

	pick_range(opt.maxlen, opt.direct, &off, &len);
	e = log_op(OP_WRITE, off, len, 0);
	fill_random(st.buf, len);
	if (pwrite_full(st.buf, len, off) < 0)
		fail("pwrite 0x%jx len 0x%zx: %s", (intmax_t)off, len,
		     strerror(errno));
	memcpy(st.good + off, st.buf, len);
	if (off + (off_t)len > st.size)
		st.size = off + len;
	e->size_after = st.size;
}

/*
 * A SIGBUS while touching a mapping means the filesystem thinks the file is
 * shorter than the shadow does (or failed the fault): report it like any
 * other mismatch instead of dying silently.
 */
static sigjmp_buf bus_env;
static volatile sig_atomic_t bus_armed;
static void *volatile bus_addr;

static void bus_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!bus_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	bus_armed = 0;
	bus_addr = si->si_addr;
	siglongjmp(bus_env, 1);
}

static void __attribute__((noreturn)) bus_fail(void)
{
	char *a = bus_addr;

	if (st.map && a >= st.map && a < st.map + st.maplen)
		fail("SIGBUS at mapped file offset 0x%jx (size 0x%jx)",
		     (intmax_t)(a - st.map), (intmax_t)st.size);
	fail("SIGBUS at %p (size 0x%jx)", (void *)a, (intmax_t)st.size);
}

/* Map [0, maxlen) of the open file once; mmap ops use it until reopen. */
static void map_file(void)
{
	void *p;

	if (opt.permap ||
	    (opt.disabled[OP_MAPREAD] && opt.disabled[OP_MAPWRITE]))
		return;
	st.maplen = (opt.maxlen + st.pagesize - 1) & ~(st.pagesize - 1);
	p = mmap(NULL, st.maplen, PROT_READ | PROT_WRITE, MAP_SHARED, st.fd, 0);
	if (p == MAP_FAILED) {
		int err = errno;

		if (err != ENODEV && err != EOPNOTSUPP)
			fail("mmap of 0x%zx bytes: %s", st.maplen,
			     strerror(err));
		if (!opt.disabled[OP_MAPREAD])
			disable(OP_MAPREAD, err);
		if (!opt.disabled[OP_MAPWRITE])
			disable(OP_MAPWRITE, err);
		return;
	}
	st.map = p;
}

static void unmap_file(void)
{
	if (st.map && munmap(st.map, st.maplen))
		fail("munmap: %s", strerror(errno));
	st.map = NULL;
}

/* msync(MS_SYNC) the pages of [off, off+len) of the persistent mapping. */
static void sync_map(off_t off, size_t len)
{
	off_t pg = off & ~(off_t)(st.pagesize - 1);

	if (!st.map || !len)
		return;
	if (msync(st.map + pg, off + len - pg, MS_SYNC))
		fail("msync 0x%jx len 0x%zx: %s", (intmax_t)pg,
		     (size_t)(off + len - pg), strerror(errno));
}

static void *map_range(off_t off, size_t len, int prot, off_t *pg,
		       size_t *mlen)
{
	void *p;

	*pg = off & ~(off_t)(st.pagesize - 1);
	*mlen = off + len - *pg;
	p = mmap(NULL, *mlen, prot, MAP_SHARED, st.fd, *pg);
	return p;
}

/* The bytes of the EOF page beyond EOF must read as zero in a mapping. */
static void check_eof_page(void)
{
	off_t pg = (st.size - 1) & ~(off_t)(st.pagesize - 1);
	size_t i, in = st.size - pg;
	char *p;

	if (!(st.size % st.pagesize))
		return;
	if (st.map) {
		p = st.map + pg;
	} else {
		p = mmap(NULL, st.pagesize, PROT_READ, MAP_SHARED, st.fd, pg);
		if (p == MAP_FAILED)
			fail("mmap EOF page: %s", strerror(errno));
	}
	for (i = in; i < (size_t)st.pagesize; i++)
		if (p[i])
			fail("mapped byte 0x%jx past EOF 0x%jx is 0x%02x, not 0",
			     (intmax_t)(pg + i), (intmax_t)st.size,
			     (unsigned char)p[i]);
	if (!st.map)
		munmap(p, st.pagesize);
}

static void op_mapread(void)
{
	off_t off, pg;
	size_t len, mlen;
	char *p;

	if (!st.size)
		return;
	pick_range(st.size, 0, &off, &len);
	if (off + (off_t)len > st.size)
		len = st.size - off;
	log_op(OP_MAPREAD, off, len, 0);
	if (sigsetjmp(bus_env, 0))
		bus_fail();
	if (st.map) {
		bus_armed = 1;
		verify(st.map + off, off, len, "mapread");
		if (off + (off_t)len == st.size)
			check_eof_page();
		bus_armed = 0;
		return;
	}
	p = map_range(off, len, PROT_READ, &pg, &mlen);
	if (p == MAP_FAILED) {
		if (errno == ENODEV || errno == EOPNOTSUPP) {
			disable(OP_MAPREAD, errno);
			return;
		}
		fail("mmap 0x%jx len 0x%zx: %s", (intmax_t)pg, mlen,
		     strerror(errno));
	}
	bus_armed = 1;
	verify(p + (off - pg), off, len, "mapread");
	bus_armed = 0;
	if (munmap(p, mlen))
		fail("munmap: %s", strerror(errno));
	if (off + (off_t)len == st.size) {
		bus_armed = 1;
		check_eof_page();
		bus_armed = 0;
	}
}

static void op_mapwrite(void)
{
	struct log_ent *e;
	off_t off, pg;
	size_t len, mlen;
	char *p;

	pick_range(opt.maxlen, 0, &off, &len);
	e = log_op(OP_MAPWRITE, off, len, 0);
	if (off + (off_t)len > st.size) {
		if (ftruncate(st.fd, off + len))
			fail("ftruncate to 0x%jx: %s", (intmax_t)(off + len),
			     strerror(errno));
		st.size = e->size_after = off + len;
	}
	fill_random(st.buf, len);
	if (sigsetjmp(bus_env, 0))
		bus_fail();
	if (st.map) {
		/* Only bytes below EOF: [off, off+len) <= size here. */
		bus_armed = 1;
		memcpy(st.map + off, st.buf, len);
		bus_armed = 0;
		memcpy(st.good + off, st.buf, len);
		if (opt.msync_every && !(++st.nmapwrites % opt.msync_every))
			sync_map(off, len);
		return;
	}
	p = map_range(off, len, PROT_READ | PROT_WRITE, &pg, &mlen);
	if (p == MAP_FAILED) {
		if (errno == ENODEV || errno == EOPNOTSUPP) {
			disable(OP_MAPWRITE, errno);
			return;
		}
		fail("mmap 0x%jx len 0x%zx: %s", (intmax_t)pg, mlen,
		     strerror(errno));
	}
	bus_armed = 1;
	memcpy(p + (off - pg), st.buf, len);
	bus_armed = 0;
	memcpy(st.good + off, st.buf, len);
	if (msync(p, mlen, MS_SYNC))
		fail("msync: %s", strerror(errno));
	if (munmap(p, mlen))
		fail("munmap: %s", strerror(errno));
}

static void op_truncate(void)
{
	off_t size = rnd_below(opt.maxlen + 1);
	struct log_ent *e = log_op(OP_TRUNCATE, size, 0, 0);

	if (ftruncate(st.fd, size))
		fail("ftruncate to 0x%jx: %s", (intmax_t)size, strerror(errno));
	if (size < st.size)
		zero_shadow(size, st.size);
	st.size = e->size_after = size;
}

static int do_fallocate(enum op op, int mode, off_t off, size_t len)
{
	if (!fallocate(st.fd, mode, off, len))
		return 0;
	if (errno == EOPNOTSUPP) {
		disable(op, errno);
		return -1;
	}
	fail("fallocate(0x%x) 0x%jx len 0x%zx: %s", mode, (intmax_t)off, len,
	     strerror(errno));
}

static void op_punch(void)
{
	off_t off;
	size_t len;

	if (!st.size)
		return;
	pick_range(st.size, 0, &off, &len);
	if (off + (off_t)len > st.size)
		len = st.size - off;
	log_op(OP_PUNCH, off, len, 1);
	if (do_fallocate(OP_PUNCH, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 off, len))
		return;
	zero_shadow(off, off + len);
}

static void op_zero(void)
{
	int keep = rnd() & 1;
	struct log_ent *e;
	off_t off;
	size_t len;

	pick_range(opt.maxlen, 0, &off, &len);
	e = log_op(OP_ZERO, off, len, keep);
	if (do_fallocate(OP_ZERO, FALLOC_FL_ZERO_RANGE |
			 (keep ? FALLOC_FL_KEEP_SIZE : 0), off, len))
		return;
	zero_shadow(off, off + len);
	if (!keep && off + (off_t)len > st.size)
		st.size = e->size_after = off + len;
}

static void op_falloc(void)
{
	int keep = rnd() & 1;
	struct log_ent *e;
	off_t off;
	size_t len;

	pick_range(opt.maxlen, 0, &off, &len);
	e = log_op(OP_FALLOC, off, len, keep);
	if (do_fallocate(OP_FALLOC, keep ? FALLOC_FL_KEEP_SIZE : 0, off, len))
		return;
	if (!keep && off + (off_t)len > st.size)
		st.size = e->size_after = off + len;
}

static void op_fsync(void)
{
	int data = rnd() & 1;

	log_op(OP_FSYNC, 0, 0, 0);
	/* Mapped writes not msync'ed yet are written back here too. */
	if (st.size)
		sync_map(0, st.size);
	if (data ? fdatasync(st.fd) : fsync(st.fd))
		fail("%s: %s", data ? "fdatasync" : "fsync", strerror(errno));
}

static int open_file(int flags)
{
	int fd = open(opt.path, O_RDWR | flags | (opt.direct ? O_DIRECT : 0),
		      0644);

	if (fd < 0) {
		fprintf(stderr, "zfsx: open %s%s: %s\n", opt.path,
			opt.direct ? " (O_DIRECT)" : "", strerror(errno));
		if (st.num)
			die_report();
		exit(1);
	}
	return fd;
}

static void op_reopen(void)
{
	log_op(OP_REOPEN, 0, 0, 0);
	check_size();
	unmap_file();
	if (close(st.fd))
		fail("close: %s", strerror(errno));
	st.fd = open_file(0);
	check_size();
	map_file();
}

/*
 * Clone ops.  The peer file (FILE.peer) has its own shadow; ranges are
 * whole CLONE_ALIGN blocks except a partial block at the source's EOF,
 * which the VFS lets a clone take only to or past the target's EOF.  A
 * zero-length FICLONERANGE / FIDEDUPERANGE at startup (the probe programs
 * use) decides whether reflink and dedupe ops run at all; once it said yes,
 * any failure of a real call is a failure of the run.
 */
#define CLONE_ALIGN 4096

static void disable_clone_ops(int err, const char *what)
{
	if (!opt.quiet)
		printf("zfsx: %s not supported (%s), disabling it\n", what,
		       strerror(err));
}

static void open_peer(void)
{
	char path[PATH_MAX];
	int err;

	st.pfd = -1;
	if (opt.disabled[OP_CLONE_FROM] && opt.disabled[OP_CLONE_TO] &&
	    opt.disabled[OP_DEDUPE] && opt.disabled[OP_COPY])
		return;
	snprintf(path, sizeof(path), "%s.peer", opt.path);
	st.pfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	st.pgood = calloc(opt.maxlen, 1);
	if (st.pfd < 0 || !st.pgood) {
		fprintf(stderr, "zfsx: open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if ((err = remap_clone(st.pfd, 0, st.fd, 0, 0))) {
		disable_clone_ops(err, "reflink (probe)");
		opt.disabled[OP_CLONE_FROM] = opt.disabled[OP_CLONE_TO] = 1;
	}
	if ((err = remap_dedupe(st.pfd, 0, st.fd, 0, 0))) {
		disable_clone_ops(err, "dedupe (probe)");
		opt.disabled[OP_DEDUPE] = 1;
	}
}

static void peer_write(off_t off, size_t len)
{
	size_t done = 0;
	ssize_t n;

	fill_random(st.buf, len);
	while (done < len) {
		n = pwrite(st.pfd, st.buf + done, len - done, off + done);
		if (n <= 0)
			fail("peer pwrite 0x%jx: %s", (intmax_t)off,
			     strerror(errno));
		done += n;
	}
	memcpy(st.pgood + off, st.buf, len);
	if (off + (off_t)len > st.psize)
		st.psize = off + len;
}

/* Half the time the peer changes first: its old blocks may be shared */
static void maybe_peer_write(void)
{
	off_t o;
	size_t l;

	if (rnd() & 1)
		return;
	o = rnd_below(opt.maxlen);
	l = rnd_below(opt.maxoplen) + 1;
	if (o + (off_t)l > opt.maxlen)
		l = opt.maxlen - o;
	peer_write(o, l);
}

/* [off, off + len) of the peer against its shadow */
static void verify_peer(off_t off, size_t len)
{
	char *got = malloc(len ? len : 1);
	size_t done = 0;
	ssize_t n;

	if (!got)
		fail("out of memory");
	while (done < len) {
		n = pread(st.pfd, got + done, len - done, off + done);
		if (n <= 0)
			fail("peer pread 0x%jx: %s", (intmax_t)off,
			     n ? strerror(errno) : "short");
		done += n;
	}
	if (memcmp(got, st.pgood + off, len)) {
		for (done = 0; got[done] == st.pgood[off + done]; done++)
			;
		fprintf(stderr, "zfsx: op %ld: peer mismatch at 0x%jx\n",
			st.num, (intmax_t)(off + done));
		free(got);
		die_report();
	}
	free(got);
}

/* A clone range of src (size ssize, CLONE_ALIGN aligned start) to a
 * target of size dsize: returns len, 0 when there is none */
static size_t pick_clone(off_t ssize, off_t dsize, off_t *soff, off_t *doff)
{
	off_t so, d;
	size_t len;

	if (!ssize)
		return 0;
	so = rnd_below(ssize) & ~(off_t)(CLONE_ALIGN - 1);
	d = rnd_below(opt.maxlen) & ~(off_t)(CLONE_ALIGN - 1);
	len = (rnd_below(opt.maxoplen) + CLONE_ALIGN) &
	      ~(size_t)(CLONE_ALIGN - 1);
	if (so + (off_t)len >= ssize) {
		len = ssize - so;	/* to src EOF: a partial block ... */
		if ((len % CLONE_ALIGN) && d < dsize)	/* ... not inside */
			len &= ~(size_t)(CLONE_ALIGN - 1);
	}
	if (d + (off_t)len > opt.maxlen)
		len = (opt.maxlen - d) & ~(off_t)(CLONE_ALIGN - 1);
	*soff = so;
	*doff = d;
	return len;
}

static void op_clone_from(void)
{
	struct log_ent *e;
	off_t so, d;
	size_t len;
	int err;

	maybe_peer_write();
	len = pick_clone(st.psize, st.size, &so, &d);
	if (!len)
		return;
	e = log_op(OP_CLONE_FROM, d, len, 0);
	err = remap_clone(st.pfd, so, st.fd, d, len);
	if (err)
		fail("FICLONERANGE peer 0x%jx -> 0x%jx len 0x%zx: %s",
		     (intmax_t)so, (intmax_t)d, len, strerror(err));
	memcpy(st.good + d, st.pgood + so, len);
	if (d + (off_t)len > st.size)
		st.size = e->size_after = d + len;
	verify_peer(so, len);
}

static void op_clone_to(void)
{
	off_t so, d;
	size_t len;
	int err;

	len = pick_clone(st.size, st.psize, &so, &d);
	if (!len)
		return;
	log_op(OP_CLONE_TO, so, len, 0);
	/* stores through the mapping are file data the clone must carry */
	sync_map(so, len);
	err = remap_clone(st.fd, so, st.pfd, d, len);
	if (err)
		fail("FICLONERANGE 0x%jx -> peer 0x%jx len 0x%zx: %s",
		     (intmax_t)so, (intmax_t)d, len, strerror(err));
	memcpy(st.pgood + d, st.good + so, len);
	if (d + (off_t)len > st.psize)
		st.psize = d + len;
	verify_peer(d, len);
}

static void op_dedupe(void)
{
	off_t o, lim = st.size < st.psize ? st.size : st.psize;
	size_t len;
	int err, want;

	if (lim < CLONE_ALIGN)
		return;
	o = rnd_below(lim) & ~(off_t)(CLONE_ALIGN - 1);
	len = (rnd_below(opt.maxoplen) + CLONE_ALIGN) &
	      ~(size_t)(CLONE_ALIGN - 1);
	if (o + (off_t)len > lim)
		len = (lim - o) & ~(off_t)(CLONE_ALIGN - 1);
	if (!len)
		return;
	if (rnd() & 1) {	/* same bytes in both, so that they share */
		peer_write(o, len);	/* leaves them in st.buf */
		if (pwrite_full(st.buf, len, o) < 0)
			fail("pwrite 0x%jx: %s", (intmax_t)o, strerror(errno));
		memcpy(st.good + o, st.buf, len);
	}
	log_op(OP_DEDUPE, o, len, 0);
	sync_map(o, len);
	want = memcmp(st.good + o, st.pgood + o, len) ? EBADE : 0;
	err = remap_dedupe(st.fd, o, st.pfd, o, len);
	if (err != want)
		fail("FIDEDUPERANGE 0x%jx len 0x%zx: %s, expected %s",
		     (intmax_t)o, len, err ? strerror(err) : "same",
		     want ? "differ" : "same");
	verify_peer(o, len);
}

static void op_copy(void)
{
	struct log_ent *e;
	off_t so, d, in, out;
	size_t len, done = 0;
	ssize_t n;

	maybe_peer_write();
	if (!st.psize)
		return;
	so = rnd_below(st.psize);
	d = rnd_below(opt.maxlen);
	len = rnd_below(opt.maxoplen) + 1;
	if (so + (off_t)len > st.psize)
		len = st.psize - so;
	if (d + (off_t)len > opt.maxlen)
		len = opt.maxlen - d;
	e = log_op(OP_COPY, d, len, 0);
	in = so;
	out = d;
	while (done < len) {
		n = copy_file_range(st.pfd, &in, st.fd, &out, len - done, 0);
		if (n < 0 && !done && (errno == EOPNOTSUPP || errno == EXDEV ||
				       errno == ENOSYS)) {
			disable(OP_COPY, errno);
			return;
		}
		if (n <= 0)
			fail("copy_file_range 0x%jx -> 0x%jx len 0x%zx: %s",
			     (intmax_t)so, (intmax_t)d, len,
			     n ? strerror(errno) : "short");
		done += n;
	}
	memcpy(st.good + d, st.pgood + so, len);
	if (d + (off_t)len > st.size)
		st.size = e->size_after = d + len;
}

static void (*const op_funcs[OP_NR])(void) = {
	[OP_READ] = op_read, [OP_WRITE] = op_write,
	[OP_MAPREAD] = op_mapread, [OP_MAPWRITE] = op_mapwrite,
	[OP_TRUNCATE] = op_truncate, [OP_PUNCH] = op_punch,
	[OP_ZERO] = op_zero, [OP_FALLOC] = op_falloc,
	[OP_FSYNC] = op_fsync, [OP_REOPEN] = op_reopen,
	[OP_CLONE_FROM] = op_clone_from, [OP_CLONE_TO] = op_clone_to,
	[OP_DEDUPE] = op_dedupe, [OP_COPY] = op_copy,
};

static enum op pick_op(void)
{
	int total = 0, i, r;

	for (i = 0; i < OP_NR; i++)
		if (!opt.disabled[i])
			total += op_weight[i];
	r = rnd_below(total);
	for (i = 0; i < OP_NR; i++) {
		if (opt.disabled[i])
			continue;
		if (r < op_weight[i])
			break;
		r -= op_weight[i];
	}
	return i;
}

/* Hidden -X debug aid: flip a shadow byte so a later check must fail. */
static void maybe_corrupt(void)
{
	off_t off;

	if (opt.corrupt_at < 0 || st.num < opt.corrupt_at || !st.size)
		return;
	off = rnd_below(st.size);
	st.good[off] ^= 0x5a;
	opt.corrupt_at = -1;
	fprintf(stderr, "zfsx: debug: corrupted shadow byte 0x%jx at op %ld\n",
		(intmax_t)off, st.num);
}

static void final_verify(void)
{
	size_t chunk = 1 << 20, len;
	off_t off;
	ssize_t n;

	st.num++;
	log_op(OP_READ, 0, st.size, 0);
	check_size();
	for (off = 0; off < st.size; off += len) {
		len = st.size - off < (off_t)chunk ? (size_t)(st.size - off) : chunk;
		n = pread_full(st.buf, opt.direct ?
			       (len + DIRECT_ALIGN - 1) & ~(DIRECT_ALIGN - 1) :
			       len, off);
		if (n < (ssize_t)len)
			fail("final read at 0x%jx: %s", (intmax_t)off,
			     n < 0 ? strerror(errno) : "short read");
		verify(st.buf, off, len, "final read");
	}
	if (st.map && st.size) {
		if (sigsetjmp(bus_env, 0))
			bus_fail();
		bus_armed = 1;
		verify(st.map, 0, st.size, "final mapread");
		check_eof_page();
		bus_armed = 0;
	}
	if (st.pfd >= 0) {
		struct stat sb;

		if (fstat(st.pfd, &sb) || sb.st_size != st.psize)
			fail("peer size 0x%jx, expected 0x%jx",
			     (intmax_t)sb.st_size, (intmax_t)st.psize);
		verify_peer(0, st.psize);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: zfsx [options] FILE\n"
"Random-operation data integrity exerciser with an in-memory shadow copy.\n"
"\n"
"  -N numops    number of operations (default 10000)\n"
"  -S seed      random seed (default: time and pid based)\n"
"  -l maxlen    maximum file size (default 4M; k/m/g suffixes)\n"
"  -o maxoplen  maximum length of one operation (default 64k)\n"
"  -p N         print progress every N operations\n"
"  -t SECONDS   stop after SECONDS (no op limit unless -N is given too)\n"
"  -c K         check the file size with fstat every K ops (default 64;\n"
"               always at reopen and at the end)\n"
"  -m N         msync every Nth mmap write (default 16; 0: only at fsync)\n"
"  -s           print per-operation counts and times at the end\n"
"  -M           mmap and munmap per mmap op, instead of one mapping of\n"
"               [0, maxlen) kept from open to close\n"
"  -W           no mmap writes\n"
"  -R           no mmap reads\n"
"  -P           no punch hole\n"
"  -Z           no zero range\n"
"  -F           no fallocate (allocate)\n"
"  -T           no truncate\n"
"  -C           no clone ops (reflink, dedupe, copy_file_range with the\n"
"               peer file FILE.peer); without -C a zero-length probe at\n"
"               start decides whether reflink and dedupe ops run\n"
"  -d           O_DIRECT reads and writes (4 KiB aligned)\n"
"  -q           quiet\n"
"  -h, --help   this help\n"
"\n"
"FILE (and FILE.peer) are created or truncated, and left in place.\n"
"Exits 0 and prints\n"
"'zfsx: N ops OK (seed S), R ops/s' on success; on a mismatch prints the offset,\n"
"expected vs. actual bytes and the last %d operations, and exits 1.\n",
		LOG_LEN);
}

static uint64_t parse_num(const char *s, const char *what)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "zfsx: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, seeded = 0, counted = 0;

	while ((c = getopt_long(argc, argv, "N:S:l:o:p:t:c:m:sMWRPZFTCdqX:h", lopts,
				NULL)) != -1) {
		switch (c) {
		case 'N': opt.numops = parse_num(optarg, "numops");
			  counted = 1; break;
		case 'S': opt.seed = parse_num(optarg, "seed"); seeded = 1;
			  break;
		case 'l': opt.maxlen = parse_num(optarg, "maxlen"); break;
		case 'o': opt.maxoplen = parse_num(optarg, "maxoplen"); break;
		case 'p': opt.progress = parse_num(optarg, "progress"); break;
		case 't': opt.seconds = parse_num(optarg, "seconds"); break;
		case 'c': opt.check_every = parse_num(optarg, "check interval");
			  break;
		case 'm': opt.msync_every = parse_num(optarg, "msync interval");
			  break;
		case 'M': opt.permap = 1; break;
		case 's': opt.stats = 1; break;
		case 'W': opt.disabled[OP_MAPWRITE] = 1; break;
		case 'R': opt.disabled[OP_MAPREAD] = 1; break;
		case 'P': opt.disabled[OP_PUNCH] = 1; break;
		case 'Z': opt.disabled[OP_ZERO] = 1; break;
		case 'F': opt.disabled[OP_FALLOC] = 1; break;
		case 'T': opt.disabled[OP_TRUNCATE] = 1; break;
		case 'C': opt.disabled[OP_CLONE_FROM] = 1;
			  opt.disabled[OP_CLONE_TO] = 1;
			  opt.disabled[OP_DEDUPE] = 1;
			  opt.disabled[OP_COPY] = 1; break;
		case 'd': opt.direct = 1; break;
		case 'q': opt.quiet = 1; break;
		case 'X': opt.corrupt_at = parse_num(optarg, "op"); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		exit(2);
	}
	opt.path = argv[optind];
	if (opt.seconds && !counted)
		opt.numops = LONG_MAX;
	if (opt.maxlen < 1 || opt.maxoplen < 1) {
		fprintf(stderr, "zfsx: maxlen and maxoplen must be > 0\n");
		exit(2);
	}
	if (opt.direct)
		opt.maxlen &= ~(off_t)(DIRECT_ALIGN - 1);
	if (opt.maxlen < 1 || (off_t)opt.maxoplen > opt.maxlen)
		opt.maxoplen = opt.maxlen;
	if (opt.maxlen < 1) {
		fprintf(stderr, "zfsx: -d needs maxlen >= %d\n", DIRECT_ALIGN);
		exit(2);
	}
	if (!seeded)
		opt.seed = (uint64_t)time(NULL) * 1000003u ^ getpid();
}

static void setup(void)
{
	size_t blen = opt.maxoplen + DIRECT_ALIGN;
	struct sigaction sa;

	if (blen < (1 << 20) + DIRECT_ALIGN)
		blen = (1 << 20) + DIRECT_ALIGN;
	st.pagesize = sysconf(_SC_PAGESIZE);
	st.rng = opt.seed;
	st.good = calloc(opt.maxlen, 1);
	if (!st.good || posix_memalign((void **)&st.buf, DIRECT_ALIGN, blen)) {
		fprintf(stderr, "zfsx: out of memory\n");
		exit(2);
	}
	sa.sa_sigaction = bus_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	st.fd = open_file(O_CREAT | O_TRUNC);
	open_peer();
	if (!opt.quiet) {
		printf("zfsx: %s: ", opt.path);
		if (opt.numops == LONG_MAX)
			printf("%lds", opt.seconds);
		else if (opt.seconds)
			printf("%ld ops or %lds", opt.numops, opt.seconds);
		else
			printf("%ld ops", opt.numops);
		printf(", seed %" PRIu64 ", maxlen 0x%jx, maxoplen 0x%zx%s%s\n",
		       opt.seed, (intmax_t)opt.maxlen, opt.maxoplen,
		       opt.direct ? ", O_DIRECT" : "",
		       opt.permap ? ", mmap per op" : "");
	}
	map_file();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double start, secs;
	long done;
	enum op op;

	parse_args(argc, argv);
	setup();
	start = now();
	for (st.num = 1; st.num <= opt.numops; st.num++) {
		maybe_corrupt();
		op = pick_op();
		if (opt.stats) {
			double t = now();

			op_funcs[op]();
			st.op_count[op]++;
			st.op_time[op] += now() - t;
		} else {
			op_funcs[op]();
		}
		if (opt.check_every && !(st.num % opt.check_every))
			check_size();
		if (opt.progress && !(st.num % opt.progress) && !opt.quiet)
			printf("zfsx: %ld ops, size 0x%jx\n", st.num,
			       (intmax_t)st.size);
		if (opt.seconds && !(st.num % 16) &&
		    now() - start >= opt.seconds) {
			if (!opt.quiet)
				printf("zfsx: time limit (%lds) reached after "
				       "%ld ops\n", opt.seconds, st.num);
			st.num++;
			break;
		}
	}
	done = st.num = st.num - 1;
	final_verify();
	unmap_file();
	close(st.fd);
	if (st.pfd >= 0)
		close(st.pfd);
	secs = now() - start;
	for (op = 0; opt.stats && op < OP_NR; op++)
		printf("zfsx: %-8s %8ld ops %9.3fs %8.1fus/op\n", op_names[op],
		       st.op_count[op], st.op_time[op], st.op_count[op] ?
		       st.op_time[op] * 1e6 / st.op_count[op] : 0.0);
	printf("zfsx: %ld ops OK (seed %" PRIu64 "), %.0f ops/s in %.1fs\n",
	       done, opt.seed, secs > 0 ? done / secs : 0.0, secs);
	return 0;
}
