// SPDX-License-Identifier: BSD-3-Clause
/*
 * zstress worker: the operations on the shared namespace, the op table
 * and the worker loop.
 *
 * All workers use the same few names (directories d0..d3 nested up to
 * three deep, files f0..f15, mostly near the top), so they keep running
 * into each other: an op that loses a race ends with an errno from its
 * list of allowed ones and is counted; any other errno is a failure.
 * File contents cannot be checked here (several writers at once); own.c
 * does that on a file only its worker touches.
 */
#include "zstress.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define NDIRS		4
#define NFILES		16
#define NXATTRS		8
#define MAX_OFF_BITS	22	/* data ops stay below 4 MiB + length */

/* Errno lists shared by many ops. */
#define LOOKUP	ENOENT, ENOTDIR, ELOOP	/* a path component raced */
#define OPEN	LOOKUP, EISDIR		/* ... or a file became a dir */

/*
 * Armed (non-NULL) only around stores into a shared mapping; one per
 * process, as signal handlers need it.
 */
static sigjmp_buf *volatile bus_jmp;

void zs_fill(struct zs_worker *w, char *p, size_t len)
{
	uint64_t x = zs_rnd(w) | 1;
	size_t i;

	/* xorshift64: cheap enough to fill 256 KiB per write */
	for (i = 0; i < len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, len - i < 8 ? len - i : 8);
	}
}

void zs_set_path(struct zs_worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->slot->path, sizeof(w->slot->path), fmt, ap);
	va_end(ap);
}

/* One write if it can, so reports of different workers do not mix. */
static void write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n <= 0)
			return;
		p += n;
		len -= n;
	}
}

void zs_fail_detail(struct zs_worker *w, const char *detail,
		    const char *fmt, ...)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msg, &len);
	uint64_t nth = atomic_fetch_add(&w->slot->failures, 1);
	va_list ap;

	w->slot->failed[w->op]++;
	/* A filesystem gone bad fails everything: keep the first ones. */
	if (nth >= ZS_MAX_PRINTED) {
		if (nth == ZS_MAX_PRINTED)
			fprintf(stderr, "zstress: worker %d: over %d failures, "
				"only counting them from now on\n", w->id,
				ZS_MAX_PRINTED);
		if (f)
			fclose(f);
		free(msg);
		return;
	}
	if (!f)
		f = stderr;
	fprintf(f, "zstress: worker %d op #%" PRIu64 " %s %s: ", w->id,
		w->opnum, zs_ops[w->op].name, w->slot->path);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fprintf(f, " (seed %" PRIu64 ")\n%s", w->opt->seed,
		detail ? detail : "");
	if (f == stderr)
		return;
	fclose(f);
	write_all(STDERR_FILENO, msg, len);
	free(msg);
}

int zs_err(struct zs_worker *w, const char *sys)
{
	const struct zs_op *op = &zs_ops[w->op];
	int e = errno, i;

	for (i = 0; i < ZS_MAX_OK && op->ok[i]; i++) {
		if (op->ok[i] == e) {
			w->slot->okcount[w->op][i]++;
			return 0;
		}
	}
	zs_fail(w, "%s: %s", sys, strerror(e));
	errno = e;
	return -1;
}

static void on_sigbus(int sig)
{
	if (bus_jmp)
		siglongjmp(*bus_jmp, 1);
	/* A SIGBUS anywhere else is a real crash: die of it. */
	signal(sig, SIG_DFL);
	raise(sig);
}

int zs_mapped_store(struct zs_worker *w, char *dst, size_t len)
{
	zs_sys_begin(w, "mmap-store");
	if (sigsetjmp(w->bus_env, 1)) {
		bus_jmp = NULL;
		zs_sys_end(w, 0);
		return -1;
	}
	bus_jmp = &w->bus_env;
	memcpy(dst, w->buf, len);
	bus_jmp = NULL;
	zs_sys_end(w, 0);
	return 0;
}

/* ---- names ---- */

/* Depth of a random directory: mostly shallow, so that workers meet. */
static int rnd_depth(struct zs_worker *w)
{
	int r = zs_below(w, 20);

	return r < 9 ? 0 : r < 15 ? 1 : r < 18 ? 2 : 3;
}

static char *put_dirs(struct zs_worker *w, char *p, int depth)
{
	while (depth-- > 0)
		p += sprintf(p, "d%d/", (int)zs_below(w, NDIRS));
	return p;
}

static void rnd_file(struct zs_worker *w, char *p)
{
	p = put_dirs(w, p, rnd_depth(w));
	sprintf(p, "f%d", (int)zs_below(w, NFILES));
}

/* A directory name: d0..d3, 1 to 3 levels below DIR. */
static void rnd_subdir(struct zs_worker *w, char *p)
{
	int depth = rnd_depth(w);

	p = put_dirs(w, p, depth < 3 ? depth : 2);
	sprintf(p, "d%d", (int)zs_below(w, NDIRS));
}

/* Any name: mostly files, some directories. */
static void rnd_name(struct zs_worker *w, char *p)
{
	if (zs_below(w, 10) < 7)
		rnd_file(w, p);
	else
		rnd_subdir(w, p);
}

/*
 * A symlink target.  Never absolute and never "..": whatever directory
 * the link is in (or is renamed to), it resolves below it, so nothing
 * outside DIR is ever reached through it.
 */
static void rnd_target(struct zs_worker *w, char *p)
{
	p = put_dirs(w, p, zs_below(w, 2));
	if (zs_below(w, 4))
		sprintf(p, "f%d", (int)zs_below(w, NFILES));
	else
		sprintf(p, "d%d", (int)zs_below(w, NDIRS));
}

/* Is s[0..n) one of the names zstress creates (d0..d3, f0..f15)? */
static int our_name(const char *s, size_t n)
{
	int v;

	if (n < 2 || n > 3 || (s[0] != 'd' && s[0] != 'f'))
		return 0;
	if (s[1] < '0' || s[1] > '9' || (n == 3 && (s[1] == '0' ||
	    s[2] < '0' || s[2] > '9')))
		return 0;
	v = n == 3 ? (s[1] - '0') * 10 + s[2] - '0' : s[1] - '0';
	return v < (s[0] == 'd' ? NDIRS : NFILES);
}

/* Is s[0..n) a target rnd_target() could have made? */
static int our_target(const char *s, size_t n)
{
	const char *slash;

	while ((slash = memchr(s, '/', n))) {
		if (!our_name(s, slash - s))
			return 0;
		n -= slash + 1 - s;
		s = slash + 1;
	}
	return our_name(s, n);
}

/* ---- open files ---- */

/* An fd for a data op; temp: opened for this op only. */
struct ref {
	int fd;
	int temp;
	char path[ZS_PATH];
};

/* Index of a random file among those kept open, or -1. */
static int kept_fd(struct zs_worker *w)
{
	int start = zs_below(w, ZS_NFDS), i;

	for (i = 0; i < ZS_NFDS; i++)
		if (w->fds[(start + i) % ZS_NFDS].fd >= 0)
			return (start + i) % ZS_NFDS;
	return -1;
}

static void close_fd(struct zs_worker *w, int fd)
{
	if (SYS(w, "close", close(fd)))
		zs_err(w, "close");
}

/*
 * A file for a data op: a third of the time one this worker keeps open
 * (it may have been unlinked or renamed since: I/O on such files is part
 * of the test), else a random path opened with FLAGS.
 */
static int get_fd(struct zs_worker *w, int flags, struct ref *r)
{
	int i = kept_fd(w);

	if (i >= 0 && !zs_below(w, 3)) {
		r->fd = w->fds[i].fd;
		r->temp = 0;
		snprintf(r->path, sizeof(r->path), "%s", w->fds[i].path);
		zs_set_path(w, "%s (kept open)", r->path);
		return 0;
	}
	rnd_file(w, r->path);
	zs_set_path(w, "%s", r->path);
	r->temp = 1;
	r->fd = SYS(w, "open", open(r->path, flags));
	if (r->fd < 0) {
		zs_err(w, "open");
		return -1;
	}
	return 0;
}

static void put_fd(struct zs_worker *w, struct ref *r)
{
	if (r->temp)
		close_fd(w, r->fd);
}

/* Random file offset: mostly small, up to 4 MiB. */
static off_t rnd_off(struct zs_worker *w)
{
	return zs_below(w, 1ull << zs_below(w, MAX_OFF_BITS + 1));
}

/* ---- data ops ---- */

static void op_create(struct zs_worker *w)
{
	int flags = O_RDWR | O_CREAT, fd, i;
	char p[ZS_PATH];

	rnd_file(w, p);
	if (!zs_below(w, 4))
		flags |= O_EXCL;
	if (!zs_below(w, 8))
		flags |= O_TRUNC;
	zs_set_path(w, "%s", p);
	fd = SYS(w, "open", open(p, flags, 0644));
	if (fd < 0) {
		zs_err(w, "open");
		return;
	}
	if (zs_below(w, 2)) {
		close_fd(w, fd);
		return;
	}
	/* Keep it open for later ops, in place of an older one. */
	i = zs_below(w, ZS_NFDS);
	if (w->fds[i].fd >= 0)
		close_fd(w, w->fds[i].fd);
	w->fds[i].fd = fd;
	snprintf(w->fds[i].path, sizeof(w->fds[i].path), "%s", p);
}

static void op_close(struct zs_worker *w)
{
	int i = kept_fd(w);

	if (i < 0)
		return;
	zs_set_path(w, "%s (kept open)", w->fds[i].path);
	close_fd(w, w->fds[i].fd);
	w->fds[i].fd = -1;
}

static void op_write(struct zs_worker *w)
{
	size_t len = zs_rnd_len(w, ZS_BUF);
	off_t off = rnd_off(w);
	struct ref r;

	if (get_fd(w, O_RDWR, &r))
		return;
	if (SYS(w, "pwrite", pwrite(r.fd, w->buf, len, off)) < 0)
		zs_err(w, "pwrite");
	put_fd(w, &r);
}

static void op_append(struct zs_worker *w)
{
	size_t len = zs_rnd_len(w, 64 << 10);
	char p[ZS_PATH];
	int fd;

	rnd_file(w, p);
	zs_set_path(w, "%s", p);
	fd = SYS(w, "open", open(p, O_WRONLY | O_APPEND));
	if (fd < 0) {
		zs_err(w, "open");
		return;
	}
	if (SYS(w, "write", write(fd, w->buf, len)) < 0)
		zs_err(w, "write");
	close_fd(w, fd);
}

/* A write past EOF, leaving a hole between the old EOF and it. */
static void op_hole(struct zs_worker *w)
{
	off_t gap = 1 + zs_below(w, 1ull << zs_below(w, 21));
	size_t len = zs_rnd_len(w, 16 << 10);
	struct stat st;
	struct ref r;

	if (get_fd(w, O_RDWR, &r))
		return;
	if (SYS(w, "fstat", fstat(r.fd, &st))) {
		zs_err(w, "fstat");
	} else {
		/* Bounded, so that files do not keep growing. */
		if (st.st_size > (16 << 20))
			st.st_size = zs_below(w, 16 << 20);
		if (SYS(w, "pwrite", pwrite(r.fd, w->buf, len,
					    st.st_size + gap)) < 0)
			zs_err(w, "pwrite");
	}
	put_fd(w, &r);
}

static void op_read(struct zs_worker *w)
{
	size_t len = zs_rnd_len(w, ZS_BUF), done = 0;
	off_t off = rnd_off(w);
	struct ref r;
	ssize_t n;

	if (get_fd(w, O_RDONLY, &r))
		return;
	if (zs_below(w, 2)) {
		if (SYS(w, "pread", pread(r.fd, w->rbuf, len, off)) < 0)
			zs_err(w, "pread");
	} else {
		/* The whole file (up to 1 MiB), as a reader would. */
		do {
			n = SYS(w, "pread", pread(r.fd, w->rbuf, ZS_BUF, done));
			if (n < 0) {
				zs_err(w, "pread");
				break;
			}
			done += n;
		} while (n > 0 && done < (1 << 20));
	}
	put_fd(w, &r);
}

static void op_truncate(struct zs_worker *w)
{
	off_t size = rnd_off(w);
	char p[ZS_PATH];
	struct ref r;

	if (zs_below(w, 2)) {
		rnd_file(w, p);
		zs_set_path(w, "%s", p);
		if (SYS(w, "truncate", truncate(p, size)))
			zs_err(w, "truncate");
		return;
	}
	if (get_fd(w, O_RDWR, &r))
		return;
	if (SYS(w, "ftruncate", ftruncate(r.fd, size)))
		zs_err(w, "ftruncate");
	put_fd(w, &r);
}

static void op_fallocate(struct zs_worker *w)
{
	static const struct {
		int mode;
		const char *name;
	} modes[] = {
		{ 0, "fallocate" },
		{ FALLOC_FL_KEEP_SIZE, "falloc/keep" },
		{ FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, "falloc/punch" },
		{ FALLOC_FL_ZERO_RANGE, "falloc/zero" },
		{ FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		  "falloc/zerokeep" },
		/* block aligned below; EINVAL when not inside the file */
		{ FALLOC_FL_COLLAPSE_RANGE, "falloc/collapse" },
		{ FALLOC_FL_INSERT_RANGE, "falloc/insert" },
	};
	int m = zs_below(w, sizeof(modes) / sizeof(modes[0]));
	size_t len = zs_rnd_len(w, 1 << 20);
	off_t off = rnd_off(w);
	struct ref r;

	if (modes[m].mode & (FALLOC_FL_COLLAPSE_RANGE |
			     FALLOC_FL_INSERT_RANGE)) {
		off &= ~(off_t)65535;
		len = (len + 65535) & ~(size_t)65535;
	}

	if (get_fd(w, O_RDWR, &r))
		return;
	if (SYS(w, modes[m].name, fallocate(r.fd, modes[m].mode, off, len)))
		zs_err(w, modes[m].name);
	put_fd(w, &r);
}

/*
 * Store a few bytes through a shared mapping of part of a file.  The
 * range is inside the size fstat gave just before, but another worker
 * may shrink the file meanwhile: the resulting SIGBUS is expected and
 * only counted.
 */
static void op_mmap(struct zs_worker *w)
{
	size_t len, mlen;
	struct stat st;
	struct ref r;
	off_t off, pg;
	char *map;

	if (get_fd(w, O_RDWR, &r))
		return;
	if (SYS(w, "fstat", fstat(r.fd, &st))) {
		zs_err(w, "fstat");
		goto out;
	}
	if (!S_ISREG(st.st_mode) || !st.st_size)
		goto out;
	off = zs_below(w, st.st_size);
	len = zs_rnd_len(w, st.st_size - off < 256 ? st.st_size - off : 256);
	pg = off & ~(off_t)(w->pagesize - 1);
	mlen = off + len - pg;
	zs_sys_begin(w, "mmap");
	map = mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, pg);
	zs_sys_end(w, 0);
	if (map == MAP_FAILED) {
		zs_err(w, "mmap");
		goto out;
	}
	if (zs_mapped_store(w, map + (off - pg), len))
		w->slot->sigbus++;
	else if (SYS(w, "msync", msync(map, mlen,
				       zs_below(w, 2) ? MS_SYNC : MS_ASYNC)))
		zs_err(w, "msync");
	if (SYS(w, "munmap", munmap(map, mlen)))
		zs_err(w, "munmap");
out:
	put_fd(w, &r);
}

static void op_fsync(struct zs_worker *w)
{
	int data = zs_below(w, 2);
	struct ref r;

	if (get_fd(w, O_RDWR, &r))
		return;
	if (data ? SYS(w, "fdatasync", fdatasync(r.fd)) :
	    SYS(w, "fsync", fsync(r.fd)))
		zs_err(w, data ? "fdatasync" : "fsync");
	put_fd(w, &r);
}

static void op_syncfs(struct zs_worker *w)
{
	int fd;

	zs_set_path(w, ".");
	fd = SYS(w, "open", open(".", O_RDONLY | O_DIRECTORY));
	if (fd < 0) {
		zs_err(w, "open");
		return;
	}
	if (SYS(w, "syncfs", syncfs(fd)))
		zs_err(w, "syncfs");
	close_fd(w, fd);
}

static void op_copy(struct zs_worker *w)
{
	size_t len = zs_rnd_len(w, 1 << 20);
	off_t in = rnd_off(w), out = rnd_off(w);
	char src[ZS_PATH + 16];
	struct ref a, b;

	if (get_fd(w, O_RDONLY, &a))
		return;
	snprintf(src, sizeof(src), "%s%s", a.path, a.temp ? "" : " (kept)");
	if (get_fd(w, O_RDWR, &b))
		goto out;
	zs_set_path(w, "%s -> %s%s", src, b.path, b.temp ? "" : " (kept)");
	if (SYS(w, "copy_file_range", copy_file_range(a.fd, &in, b.fd, &out,
						      len, 0)) < 0)
		zs_err(w, "copy_file_range");
	put_fd(w, &b);
out:
	put_fd(w, &a);
}

/*
 * Reflink (or, a quarter of the time, dedupe) whole blocks into a shared
 * file, half the time from the worker's own file: its blocks then become
 * shared with a file every worker writes, and own_read checks that their
 * stores never show in it (copy-on-write).
 */
static void op_clone(struct zs_worker *w)
{
	off_t soff = rnd_off(w) & ~4095L, doff = rnd_off(w) & ~4095L;
	off_t len = (off_t)(1 + zs_below(w, 64)) * 4096;
	struct ref a = { .fd = w->own.fd, .temp = 0 }, b;
	int own = w->own.fd >= 0 && zs_below(w, 2), r;

	if (own)
		snprintf(a.path, sizeof(a.path), "%s", w->own.name);
	else if (get_fd(w, O_RDONLY, &a))
		return;
	if (get_fd(w, O_RDWR, &b))
		goto out;
	zs_set_path(w, "%s -> %s", a.path, b.path);
	if (zs_below(w, 4)) {
		struct file_clone_range c = {
			.src_fd = a.fd, .src_offset = soff,
			.src_length = len, .dest_offset = doff,
		};

		r = SYS(w, "FICLONERANGE", ioctl(b.fd, FICLONERANGE, &c));
		if (r < 0)
			zs_err(w, "FICLONERANGE");
	} else {
		struct {
			struct file_dedupe_range r;
			struct file_dedupe_range_info i;
		} d = { .r = { .src_offset = soff, .src_length = len,
			       .dest_count = 1 },
			.i = { .dest_fd = b.fd, .dest_offset = doff } };

		r = SYS(w, "FIDEDUPERANGE", ioctl(a.fd, FIDEDUPERANGE, &d));
		if (r < 0)
			zs_err(w, "FIDEDUPERANGE");
	}
	put_fd(w, &b);
out:
	if (!own)
		put_fd(w, &a);
}

static void op_seek(struct zs_worker *w)
{
	int whence = zs_below(w, 2) ? SEEK_DATA : SEEK_HOLE;
	off_t off = rnd_off(w), got;
	struct ref r;

	/* O_RDWR: a directory fails the open, not lseek (EINVAL). */
	if (get_fd(w, O_RDWR, &r))
		return;
	got = SYS(w, whence == SEEK_DATA ? "lseek/data" : "lseek/hole",
		  lseek(r.fd, off, whence));
	if (got < 0)
		zs_err(w, "lseek");
	else if (got < off)
		zs_fail(w, "lseek(%jd, %s) returned %jd, before the offset",
			(intmax_t)off, whence == SEEK_DATA ? "SEEK_DATA" :
			"SEEK_HOLE", (intmax_t)got);
	put_fd(w, &r);
}

/* ---- namespace ops ---- */

static void op_unlink(struct zs_worker *w)
{
	char p[ZS_PATH];

	rnd_name(w, p);
	zs_set_path(w, "%s", p);
	if (SYS(w, "unlink", unlink(p)))
		zs_err(w, "unlink");
}

static void op_mkdir(struct zs_worker *w)
{
	char p[ZS_PATH];

	rnd_subdir(w, p);
	zs_set_path(w, "%s", p);
	if (SYS(w, "mkdir", mkdir(p, 0755)))
		zs_err(w, "mkdir");
}

static void op_rmdir(struct zs_worker *w)
{
	char p[ZS_PATH];

	if (zs_below(w, 4))
		rnd_subdir(w, p);
	else
		rnd_name(w, p);
	zs_set_path(w, "%s", p);
	if (SYS(w, "rmdir", rmdir(p)))
		zs_err(w, "rmdir");
}

/* Files and directories, across directories, over existing targets. */
static void op_rename(struct zs_worker *w)
{
	char a[ZS_PATH], b[ZS_PATH];

	rnd_name(w, a);
	rnd_name(w, b);
	zs_set_path(w, "%s -> %s", a, b);
	if (SYS(w, "rename", rename(a, b)))
		zs_err(w, "rename");
}

static void op_rename2(struct zs_worker *w)
{
	int flags = zs_below(w, 2) ? RENAME_NOREPLACE : RENAME_EXCHANGE;
	const char *sys = flags == RENAME_NOREPLACE ? "rename/noreplace" :
			  "rename/exchange";
	char a[ZS_PATH], b[ZS_PATH];

	rnd_name(w, a);
	rnd_name(w, b);
	zs_set_path(w, "%s %s %s", a,
		    flags == RENAME_NOREPLACE ? "->" : "<->", b);
	if (SYS(w, sys, syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b,
				flags)))
		zs_err(w, sys);
}

static void op_link(struct zs_worker *w)
{
	char a[ZS_PATH], b[ZS_PATH];

	rnd_name(w, a);
	rnd_file(w, b);
	zs_set_path(w, "%s -> %s", a, b);
	if (SYS(w, "link", link(a, b)))
		zs_err(w, "link");
}

static void op_symlink(struct zs_worker *w)
{
	char t[ZS_PATH], p[ZS_PATH];

	rnd_target(w, t);
	rnd_name(w, p);
	zs_set_path(w, "%s -> %s", p, t);
	if (SYS(w, "symlink", symlink(t, p)))
		zs_err(w, "symlink");
}

/* Symlinks are never rewritten: a target we did not make is corruption. */
static void op_readlink(struct zs_worker *w)
{
	char p[ZS_PATH], t[ZS_PATH];
	ssize_t n;

	rnd_name(w, p);
	zs_set_path(w, "%s", p);
	n = SYS(w, "readlink", readlink(p, t, sizeof(t)));
	if (n < 0)
		zs_err(w, "readlink");
	else if (!our_target(t, n))
		zs_fail(w, "readlink returned \"%.*s\" (%zd bytes), not a "
			"target zstress makes", (int)n, t, n);
}

static void op_stat(struct zs_worker *w)
{
	int how = zs_below(w, 3);
	char p[ZS_PATH];
	struct stat st;
	struct ref r;

	if (how == 2) {
		if (get_fd(w, O_RDONLY, &r))
			return;
		if (SYS(w, "fstat", fstat(r.fd, &st)))
			zs_err(w, "fstat");
		put_fd(w, &r);
		return;
	}
	rnd_name(w, p);
	zs_set_path(w, "%s", p);
	if (how ? SYS(w, "stat", stat(p, &st)) : SYS(w, "lstat", lstat(p, &st)))
		zs_err(w, how ? "stat" : "lstat");
}

/* Modes keep u+rwx, so that a run as non-root never locks itself out. */
static void op_chmod(struct zs_worker *w)
{
	mode_t mode = 0700 | zs_below(w, 0100);
	char p[ZS_PATH];
	int i = kept_fd(w);

	if (i >= 0 && !zs_below(w, 3)) {
		zs_set_path(w, "%s (kept open)", w->fds[i].path);
		if (SYS(w, "fchmod", fchmod(w->fds[i].fd, mode)))
			zs_err(w, "fchmod");
		return;
	}
	rnd_name(w, p);
	zs_set_path(w, "%s", p);
	if (SYS(w, "chmod", chmod(p, mode)))
		zs_err(w, "chmod");
}

/* To our own uid and gid: allowed without privileges, still a setattr. */
static void op_chown(struct zs_worker *w)
{
	int how = zs_below(w, 3), i = kept_fd(w);
	char p[ZS_PATH];

	if (how == 2 && i >= 0) {
		zs_set_path(w, "%s (kept open)", w->fds[i].path);
		if (SYS(w, "fchown", fchown(w->fds[i].fd, w->uid, w->gid)))
			zs_err(w, "fchown");
		return;
	}
	rnd_name(w, p);
	zs_set_path(w, "%s", p);
	if (how ? SYS(w, "chown", chown(p, w->uid, w->gid)) :
	    SYS(w, "lchown", lchown(p, w->uid, w->gid)))
		zs_err(w, how ? "chown" : "lchown");
}

static void rnd_time(struct zs_worker *w, struct timespec *ts)
{
	switch (zs_below(w, 3)) {
	case 0:
		ts->tv_nsec = UTIME_NOW;
		break;
	case 1:
		ts->tv_nsec = UTIME_OMIT;
		break;
	default:
		/* 2001 .. 2033 */
		ts->tv_sec = 1000000000 + zs_below(w, 1000000000);
		ts->tv_nsec = zs_below(w, 1000000000);
	}
}

static void op_utimes(struct zs_worker *w)
{
	int flags = zs_below(w, 4) ? 0 : AT_SYMLINK_NOFOLLOW;
	struct timespec ts[2];
	char p[ZS_PATH];

	rnd_time(w, &ts[0]);
	rnd_time(w, &ts[1]);
	rnd_name(w, p);
	zs_set_path(w, "%s", p);
	if (SYS(w, "utimensat", utimensat(AT_FDCWD, p, ts, flags)))
		zs_err(w, "utimensat");
}

/*
 * List a directory, now and then stat'ing each entry too (lookups racing
 * with unlinks and renames).  Below DIR every name must be one we make.
 */
static void op_readdir(struct zs_worker *w)
{
	int stat_all = !zs_below(w, 4);
	struct dirent *de;
	char p[ZS_PATH];
	struct stat st;
	DIR *d;

	if (zs_below(w, 3))
		rnd_subdir(w, p);
	else
		strcpy(p, ".");
	zs_set_path(w, "%s", p);
	zs_sys_begin(w, "opendir");
	d = opendir(p);
	zs_sys_end(w, 0);
	if (!d) {
		zs_err(w, "opendir");
		return;
	}
	for (;;) {
		errno = 0;
		zs_sys_begin(w, "getdents");
		de = readdir(d);
		zs_sys_end(w, 0);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strcmp(p, ".") && !our_name(de->d_name, strlen(de->d_name)))
			zs_fail(w, "readdir returned entry \"%s\"", de->d_name);
		if (stat_all && SYS(w, "fstatat", fstatat(dirfd(d), de->d_name,
						&st, AT_SYMLINK_NOFOLLOW)))
			zs_err(w, "fstatat");
	}
	/* ENOENT: the directory was removed while we listed it. */
	if (errno)
		zs_err(w, "readdir");
	zs_sys_begin(w, "closedir");
	if (zs_sys_end(w, closedir(d)))
		zs_err(w, "closedir");
}

/*
 * rm -r of subtree NAME of dirfd, racing with everything else.  Besides
 * being a common workload it keeps the tree bounded: renames move
 * directories below depth 3, out of reach of every other op.  Symlinks
 * are removed, never followed.
 */
static void rm_tree(struct zs_worker *w, int dirfd, const char *name,
		    int depth)
{
	struct dirent *de;
	int fd;
	DIR *d;

	if (depth > 64)		/* leave the rest to a later rmtree */
		return;
	fd = SYS(w, "openat", openat(dirfd, name, O_RDONLY | O_DIRECTORY |
				      O_NOFOLLOW));
	if (fd < 0) {
		if (errno != ENOTDIR && errno != ELOOP)
			zs_err(w, "openat");
		else if (SYS(w, "unlinkat", unlinkat(dirfd, name, 0)))
			zs_err(w, "unlinkat");
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		zs_fail(w, "fdopendir: %s", strerror(errno));
		close_fd(w, fd);
		return;
	}
	for (;;) {
		errno = 0;
		zs_sys_begin(w, "getdents");
		de = readdir(d);
		zs_sys_end(w, 0);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR) {
			rm_tree(w, fd, de->d_name, depth + 1);
			continue;
		}
		if (!SYS(w, "unlinkat", unlinkat(fd, de->d_name, 0)))
			continue;
		if (errno == EISDIR)	/* no d_type, or it changed */
			rm_tree(w, fd, de->d_name, depth + 1);
		else
			zs_err(w, "unlinkat");
	}
	if (errno)
		zs_err(w, "readdir");
	zs_sys_begin(w, "closedir");
	if (zs_sys_end(w, closedir(d)))
		zs_err(w, "closedir");
	if (SYS(w, "rmdir", unlinkat(dirfd, name, AT_REMOVEDIR)))
		zs_err(w, "rmdir");
}

static void op_rmtree(struct zs_worker *w)
{
	char p[ZS_PATH];

	/* Mostly the deepest level, where what renames push down piles up. */
	if (zs_below(w, 4))
		sprintf(put_dirs(w, p, 2), "d%d", (int)zs_below(w, NDIRS));
	else
		rnd_subdir(w, p);
	zs_set_path(w, "%s", p);
	rm_tree(w, AT_FDCWD, p, 0);
}

/* ---- xattrs ---- */

static void xattr_name(struct zs_worker *w, char *name)
{
	sprintf(name, "user.zs%d", (int)zs_below(w, NXATTRS));
}

static void op_setxattr(struct zs_worker *w)
{
	static const int flags[] = { 0, 0, XATTR_CREATE, XATTR_REPLACE };
	int fl = flags[zs_below(w, 4)];
	size_t len = zs_below(w, 257);
	char p[ZS_PATH], name[16];

	rnd_name(w, p);
	xattr_name(w, name);
	zs_set_path(w, "%s %s", p, name);
	if (SYS(w, "setxattr", setxattr(p, name, w->buf, len, fl)))
		zs_err(w, "setxattr");
}

static void op_getxattr(struct zs_worker *w)
{
	size_t size = zs_below(w, 4) ? 4096 : 0;	/* 0: size query */
	char p[ZS_PATH], name[16];
	ssize_t n;

	rnd_name(w, p);
	xattr_name(w, name);
	zs_set_path(w, "%s %s", p, name);
	n = SYS(w, "getxattr", getxattr(p, name, w->rbuf, size));
	if (n < 0)
		zs_err(w, "getxattr");
	else if (n > 256)
		zs_fail(w, "getxattr returned %zd bytes, values are <= 256", n);
}

/* The list must be well formed, and its user.* names ours. */
static void op_listxattr(struct zs_worker *w)
{
	char p[ZS_PATH], *s, *end;
	ssize_t n;

	rnd_name(w, p);
	zs_set_path(w, "%s", p);
	n = SYS(w, "listxattr", listxattr(p, w->rbuf, ZS_BUF));
	if (n < 0) {
		zs_err(w, "listxattr");
		return;
	}
	if (n && w->rbuf[n - 1]) {
		zs_fail(w, "listxattr: %zd bytes, not NUL-terminated", n);
		return;
	}
	for (s = w->rbuf, end = s + n; s < end; s += strlen(s) + 1) {
		if (!strncmp(s, "user.", 5) && (strncmp(s, "user.zs", 7) ||
		    strlen(s) != 8 || s[7] < '0' || s[7] >= '0' + NXATTRS)) {
			zs_fail(w, "listxattr returned name \"%s\"", s);
			return;
		}
	}
}

static void op_rmxattr(struct zs_worker *w)
{
	char p[ZS_PATH], name[16];

	rnd_name(w, p);
	xattr_name(w, name);
	zs_set_path(w, "%s %s", p, name);
	if (SYS(w, "removexattr", removexattr(p, name)))
		zs_err(w, "removexattr");
}

/* ---- the table ---- */

/*
 * Weights are out of about 150, roughly a busy file server: reads, writes
 * and stats first, namespace changes next, syncs rarely.  ENOSPC is
 * allowed (and counted) for whatever allocates.  EOPNOTSUPP is allowed
 * only where a filesystem may lack the feature: fallocate modes,
 * copy_file_range, user xattrs; EINVAL for a collapse or insert that is
 * not inside the file any more.
 */
const struct zs_op zs_ops[] = {
	{ "setup",	0, NULL,	{ 0 } },
	{ "create",	8, op_create,	{ OPEN, EEXIST, EMLINK, ENOSPC } },
	{ "close",	2, op_close,	{ 0 } },
	{ "write",	14, op_write,	{ OPEN, ENOSPC } },
	{ "append",	3, op_append,	{ OPEN, ENOSPC } },
	{ "hole",	3, op_hole,	{ OPEN, ENOSPC } },
	{ "read",	12, op_read,	{ OPEN } },
	{ "truncate",	4, op_truncate,	{ OPEN, ENOSPC } },
	{ "fallocate",	4, op_fallocate, { OPEN, ENOSPC, EOPNOTSUPP, EINVAL } },
	{ "mmap",	4, op_mmap,	{ OPEN } },
	{ "fsync",	3, op_fsync,	{ OPEN } },
	{ "syncfs",	1, op_syncfs,	{ 0 } },
	{ "copy",	3, op_copy,	{ OPEN, EINVAL, ENOSPC, EOPNOTSUPP } },
	{ "clone",	3, op_clone,	{ OPEN, EINVAL, ENOSPC, EOPNOTSUPP } },
	{ "seek",	3, op_seek,	{ OPEN, ENXIO } },
	{ "unlink",	5, op_unlink,	{ LOOKUP, EISDIR } },
	{ "mkdir",	4, op_mkdir,	{ LOOKUP, EEXIST, EMLINK, ENOSPC } },
	{ "rmdir",	3, op_rmdir,	{ LOOKUP, ENOTEMPTY, EEXIST } },
	{ "rmtree",	1, op_rmtree,	{ LOOKUP, EISDIR, ENOTEMPTY, EEXIST } },
	{ "rename",	5, op_rename,	{ LOOKUP, EISDIR, ENOTEMPTY, EEXIST,
					  EINVAL, EMLINK, ENOSPC } },
	{ "rename2",	3, op_rename2,	{ LOOKUP, EISDIR, ENOTEMPTY, EEXIST,
					  EINVAL, EMLINK, ENOSPC } },
	{ "link",	3, op_link,	{ LOOKUP, EEXIST, EPERM, EMLINK,
					  ENOSPC } },
	{ "symlink",	3, op_symlink,	{ LOOKUP, EEXIST, ENOSPC } },
	{ "readlink",	2, op_readlink,	{ LOOKUP, EINVAL } },
	{ "stat",	8, op_stat,	{ OPEN } },
	{ "chmod",	2, op_chmod,	{ LOOKUP } },
	{ "chown",	1, op_chown,	{ LOOKUP } },
	{ "utimes",	2, op_utimes,	{ LOOKUP } },
	{ "readdir",	4, op_readdir,	{ LOOKUP } },
	{ "setxattr",	3, op_setxattr,	{ LOOKUP, EEXIST, ENODATA, ENOSPC,
					  EOPNOTSUPP } },
	{ "getxattr",	3, op_getxattr,	{ LOOKUP, ENODATA, EOPNOTSUPP } },
	{ "listxattr",	2, op_listxattr, { LOOKUP, EOPNOTSUPP } },
	{ "rmxattr",	2, op_rmxattr,	{ LOOKUP, ENODATA, EOPNOTSUPP } },
	/* own.c: the private file, where contents are checked */
	{ "own_write",	8, op_own_write,  { ENOSPC } },
	{ "own_append",	2, op_own_append, { ENOSPC } },
	{ "own_hole",	2, op_own_hole,	  { ENOSPC } },
	{ "own_read",	4, op_own_read,	  { 0 } },
	{ "own_trunc",	2, op_own_trunc,  { ENOSPC } },
	{ "own_punch",	2, op_own_punch,  { ENOSPC, EOPNOTSUPP } },
	{ "own_zero",	2, op_own_zero,	  { ENOSPC, EOPNOTSUPP } },
	{ "own_falloc",	2, op_own_falloc, { ENOSPC, EOPNOTSUPP } },
	{ "own_mmap",	3, op_own_mmap,	  { ENOSPC } },
	{ "own_copy",	2, op_own_copy,	  { ENOSPC, EOPNOTSUPP } },
	{ "own_fsync",	1, op_own_fsync,  { 0 } },
	{ "own_verify",	1, op_own_verify, { 0 } },
};
const int zs_nops = sizeof(zs_ops) / sizeof(zs_ops[0]);

_Static_assert(sizeof(zs_ops) / sizeof(zs_ops[0]) <= ZS_MAX_OPS,
	       "raise ZS_MAX_OPS");

/* ---- the worker ---- */

static int op_index(void (*fn)(struct zs_worker *))
{
	int i;

	for (i = 0; i < zs_nops && zs_ops[i].fn != fn; i++)
		;
	return i;
}

static int pick_op(struct zs_worker *w, int total)
{
	int r = zs_below(w, total), i;

	for (i = 0; i < zs_nops - 1; i++) {
		if (r < zs_ops[i].weight)
			break;
		r -= zs_ops[i].weight;
	}
	return i;
}

static void run_op(struct zs_worker *w, int op)
{
	struct zs_slot *s = w->slot;
	const char *name = zs_ops[op].name;
	size_t i;

	w->op = op;
	s->opnum = ++w->opnum;
	for (i = 0; i < sizeof(s->opname) - 1 && name[i]; i++)
		s->opname[i] = name[i];
	s->opname[i] = 0;
	s->path[0] = 0;
	zs_ops[op].fn(w);
	s->count[op]++;
	atomic_fetch_add_explicit(&s->nops, 1, memory_order_relaxed);
}

static int time_to_stop(struct zs_worker *w)
{
	const struct zs_opts *opt = w->opt;

	if (atomic_load_explicit(&w->sh->stop, memory_order_relaxed))
		return 1;
	if (opt->nops && w->opnum >= (uint64_t)opt->nops)
		return 1;
	return opt->deadline && zs_now() >= opt->deadline;
}

static int setup(struct zs_worker *w)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	int i;

	/* Die with the parent, even if it is SIGKILLed. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != w->opt->parent)
		_exit(1);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	w->uid = getuid();
	w->gid = getgid();
	w->pagesize = sysconf(_SC_PAGESIZE);
	for (i = 0; i < ZS_NFDS; i++)
		w->fds[i].fd = -1;
	w->buf = malloc(ZS_BUF);
	w->rbuf = malloc(ZS_BUF);
	w->own.shadow = calloc(ZS_OWN_MAX, 1);
	zs_set_path(w, "%s", w->opt->dir);
	if (!w->buf || !w->rbuf || !w->own.shadow) {
		zs_fail(w, "out of memory");
		return -1;
	}
	zs_fill(w, w->buf, ZS_BUF);
	if (SYS(w, "chdir", chdir(w->opt->dir))) {
		zs_err(w, "chdir");
		return -1;
	}
	return zs_own_open(w);
}

void zs_worker_main(const struct zs_opts *opt, struct zs_shared *sh, int id)
{
	struct zs_worker w = {
		.id = id, .opt = opt, .sh = sh, .slot = &sh->slot[id],
		.rng = opt->seed + id,
	};
	int total = 0, i;

	for (i = 0; i < zs_nops; i++)
		total += zs_ops[i].weight;
	if (setup(&w))
		_exit(1);
	while (!time_to_stop(&w))
		run_op(&w, pick_op(&w, total));
	/* The last check of the private file, whatever stopped us. */
	run_op(&w, op_index(op_own_verify));
	for (i = 0; i < ZS_NFDS; i++)
		if (w.fds[i].fd >= 0)
			close(w.fds[i].fd);
	zs_own_close(&w);
	_exit(atomic_load(&w.slot->failures) ? 1 : 0);
}
