// SPDX-License-Identifier: BSD-3-Clause
/*
 * zstress: the private-file checker.
 *
 * Shared files cannot be checked: several workers write them at once.  So
 * each worker also owns "own-W" in DIR, which only it touches, and keeps a
 * shadow of it in memory.  Every write, append, truncate, punch, zero
 * range, allocation, copy_file_range and mapped store is applied to both;
 * reads of some ranges, and of the whole file at own_verify and at the
 * end, are compared with the shadow.  The other workers' traffic on the
 * shared names runs all the while, which is what might disturb it.
 *
 * The shadow is zero past the file size, so growing the file never needs
 * to touch it.  When an op leaves the file in a state the shadow cannot
 * know (ENOSPC halfway, or an error already reported), the shadow is
 * reloaded from the file, so that one problem is reported once.
 */
#include "zstress.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define OWN_MAX ((off_t)ZS_OWN_MAX)

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * Start an own-file op: publish the path and record the op in the
 * history.  NULL if the file was given up after an error.
 */
static struct zs_hist *own_begin(struct zs_worker *w, const char *what,
				 off_t off, size_t len)
{
	struct zs_own *o = &w->own;
	struct zs_hist *h;

	if (o->fd < 0)
		return NULL;
	zs_set_path(w, "%s", o->name);
	h = &o->hist[o->nhist++ % ZS_HIST];
	h->opnum = w->opnum;
	h->what = what;
	h->from = -1;
	h->off = off;
	h->len = len;
	h->before = h->after = o->size;
	return h;
}

static void hist_dump(struct zs_worker *w, FILE *f)
{
	struct zs_own *o = &w->own;
	unsigned long i = o->nhist > ZS_HIST ? o->nhist - ZS_HIST : 0;
	struct zs_hist *h;

	fprintf(f, "  last %lu ops on %s (worker %d):\n", o->nhist - i,
		o->name, w->id);
	for (; i < o->nhist; i++) {
		h = &o->hist[i % ZS_HIST];
		fprintf(f, "    op #%-8" PRIu64 " %-15s", h->opnum, h->what);
		if (h->from >= 0)
			fprintf(f, " from 0x%06jx", (intmax_t)h->from);
		fprintf(f, " off 0x%06jx len 0x%06zx size 0x%jx",
			(intmax_t)h->off, h->len, (intmax_t)h->before);
		if (h->after != h->before)
			fprintf(f, " -> 0x%jx", (intmax_t)h->after);
		fputc('\n', f);
	}
}

static void hexdump(FILE *f, const char *what, const char *p, size_t n,
		    off_t at)
{
	size_t i;

	fprintf(f, "  %-8s @0x%06jx:", what, (intmax_t)at);
	for (i = 0; i < n; i++)
		fprintf(f, " %02x", (unsigned char)p[i]);
	fputc('\n', f);
}

/*
 * Report that the file is not what the shadow says: the message, then,
 * if n, n bytes from offset at as expected and as read, then the history.
 */
static void __attribute__((format(printf, 5, 6)))
own_report(struct zs_worker *w, const char *got, off_t at, size_t n,
	   const char *fmt, ...)
{
	char *detail = NULL, msg[256];
	size_t dlen;
	FILE *f = open_memstream(&detail, &dlen);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f) {
		if (n) {
			hexdump(f, "expected", w->own.shadow + at, n, at);
			hexdump(f, "got", got, n, at);
		}
		hist_dump(w, f);
		fclose(f);
	}
	zs_fail_detail(w, detail, "%s", msg);
	free(detail);
}

/* pread until len bytes or EOF; the count, or -1 with errno. */
static ssize_t own_pread(struct zs_worker *w, char *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = SYS(w, "pread", pread(w->own.fd, buf + done, len - done,
					  off + done));
		if (n < 0)
			return -1;
		if (!n)
			break;
		done += n;
	}
	return done;
}

/* Reload the shadow from the file; give the file up if that fails. */
static void own_resync(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	struct stat st;
	off_t size;
	ssize_t n;

	w->slot->resync++;
	if (SYS(w, "fstat", fstat(o->fd, &st)))
		goto broken;
	size = st.st_size;
	if (size > OWN_MAX) {
		if (SYS(w, "ftruncate", ftruncate(o->fd, OWN_MAX)))
			goto broken;
		size = OWN_MAX;
	}
	memset(o->shadow, 0, ZS_OWN_MAX);
	n = own_pread(w, o->shadow, size, 0);
	if (n < 0)
		goto broken;
	if (n != size) {
		zs_fail(w, "cannot reload %s: EOF at 0x%jx, size 0x%jx; no "
			"more checks of it", o->name, (intmax_t)n,
			(intmax_t)size);
		goto out;
	}
	o->size = size;
	return;
broken:
	zs_fail(w, "cannot reload %s (%s), no more checks of it", o->name,
		strerror(errno));
out:
	close(o->fd);
	o->fd = -1;
}

/*
 * A syscall on the own file failed: count it or report it.  Unless the
 * filesystem just does not support the op, the file may have changed
 * partly, so reload the shadow.
 */
static void own_err(struct zs_worker *w, const char *sys)
{
	int e = errno;

	zs_err(w, sys);
	if (e != EOPNOTSUPP)
		own_resync(w);
}

/* Compare got[0..len), read at off, with the shadow; -1 if different. */
static int own_compare(struct zs_worker *w, const char *got, off_t off,
		       size_t len)
{
	const char *want = w->own.shadow + off;
	size_t i;

	if (!memcmp(got, want, len))
		return 0;
	for (i = 0; got[i] == want[i]; i++)
		;
	own_report(w, got + i, off + i, min_sz(16, len - i),
		   "data mismatch at offset 0x%jx: expected 0x%02x, got 0x%02x "
		   "(file size 0x%jx)", (intmax_t)(off + i),
		   (unsigned char)want[i], (unsigned char)got[i],
		   (intmax_t)w->own.size);
	own_resync(w);
	return -1;
}

/* Zero [off, end) of the shadow; it is zero past the size already. */
static void shadow_zero(struct zs_own *o, off_t off, off_t end)
{
	if (end > o->size)
		end = o->size;
	if (off < end)
		memset(o->shadow + off, 0, end - off);
}

static void shadow_grow(struct zs_own *o, off_t end)
{
	if (end > o->size)
		o->size = end;
}

/* Clip [*off, *off + *len) into the shadow, keeping at least a byte. */
static void clip(off_t *off, size_t *len)
{
	if (*off >= OWN_MAX)
		*off = OWN_MAX - 1;
	if (*off + (off_t)*len > OWN_MAX)
		*len = OWN_MAX - *off;
}

int zs_own_open(struct zs_worker *w)
{
	struct zs_own *o = &w->own;

	snprintf(o->name, sizeof(o->name), "own-%d", w->id);
	zs_set_path(w, "%s", o->name);
	o->fd = SYS(w, "open", open(o->name, O_RDWR | O_CREAT | O_TRUNC, 0644));
	if (o->fd < 0) {
		zs_err(w, "open");
		return -1;
	}
	o->size = 0;
	return 0;
}

void zs_own_close(struct zs_worker *w)
{
	if (w->own.fd >= 0)
		close(w->own.fd);
	w->own.fd = -1;
}

/* pwrite fresh random bytes, applying to the shadow what the fs took. */
static void own_write_at(struct zs_worker *w, const char *what, off_t off,
			 size_t len)
{
	struct zs_hist *h = own_begin(w, what, off, len);
	struct zs_own *o = &w->own;
	size_t done = 0;
	ssize_t n;

	if (!h)
		return;
	zs_fill(w, w->buf, len);
	while (done < len) {
		n = SYS(w, "pwrite", pwrite(o->fd, w->buf + done, len - done,
					    off + done));
		if (n <= 0) {
			if (n)
				own_err(w, "pwrite");
			else
				own_report(w, NULL, 0, 0, "pwrite returned 0");
			break;
		}
		memcpy(o->shadow + off + done, w->buf + done, n);
		done += n;
		shadow_grow(o, off + done);
	}
	h->after = o->size;
}

void op_own_write(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	size_t len = zs_rnd_len(w, ZS_BUF);
	off_t off;

	switch (zs_below(w, 4)) {
	case 0:
	case 1:
		off = zs_below(w, o->size + 1);		/* overwrite */
		break;
	case 2:
		off = o->size;				/* extend */
		break;
	default:
		off = zs_below(w, OWN_MAX);		/* anywhere */
	}
	clip(&off, &len);
	own_write_at(w, "own_write", off, len);
}

/* A write past EOF: the gap must read back as zeros. */
void op_own_hole(struct zs_worker *w)
{
	off_t off = w->own.size + 1 + zs_below(w, 1ull << zs_below(w, 21));
	size_t len = zs_rnd_len(w, 64 << 10);

	if (off + (off_t)len > OWN_MAX)
		off = zs_below(w, OWN_MAX - len);
	own_write_at(w, "own_hole", off, len);
}

/* O_APPEND writes go to EOF, which only we move: the shadow's size. */
void op_own_append(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	size_t len = min_sz(zs_rnd_len(w, 64 << 10), OWN_MAX - o->size);
	struct zs_hist *h = own_begin(w, "own_append", o->size, len);
	size_t done = 0;
	ssize_t n;
	int fd;

	if (!h || !len)
		return;
	fd = SYS(w, "open", open(o->name, O_WRONLY | O_APPEND));
	if (fd < 0) {
		own_err(w, "open");
		return;
	}
	zs_fill(w, w->buf, len);
	while (done < len) {
		n = SYS(w, "write", write(fd, w->buf + done, len - done));
		if (n <= 0) {
			if (n)
				own_err(w, "write");
			else
				own_report(w, NULL, 0, 0, "write returned 0");
			break;
		}
		memcpy(o->shadow + o->size, w->buf + done, n);
		o->size += n;
		done += n;
	}
	if (SYS(w, "close", close(fd)))
		own_err(w, "close");
	h->after = o->size;
}

void op_own_read(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	off_t off = zs_below(w, o->size + 4096);
	size_t len = zs_rnd_len(w, ZS_BUF), want;
	struct zs_hist *h = own_begin(w, "own_read", off, len);
	ssize_t n;

	if (!h)
		return;
	want = off >= o->size ? 0 : min_sz(len, o->size - off);
	n = own_pread(w, w->rbuf, len, off);
	if (n < 0) {
		own_err(w, "pread");
	} else if ((size_t)n != want) {
		own_report(w, NULL, 0, 0, "pread of 0x%zx bytes at 0x%jx "
			   "returned 0x%zx, expected 0x%zx (file size 0x%jx)",
			   len, (intmax_t)off, n, want, (intmax_t)o->size);
		own_resync(w);
	} else {
		own_compare(w, w->rbuf, off, n);
	}
}

void op_own_trunc(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	off_t size = zs_below(w, 1ull << zs_below(w, 23));
	struct zs_hist *h = own_begin(w, "own_trunc", size, 0);

	if (!h)
		return;
	if (SYS(w, "ftruncate", ftruncate(o->fd, size))) {
		own_err(w, "ftruncate");
		return;
	}
	shadow_zero(o, size, o->size);
	o->size = h->after = size;
}

void op_own_punch(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	off_t off = zs_below(w, o->size + 1);
	size_t len = zs_rnd_len(w, 1 << 20);
	struct zs_hist *h;

	clip(&off, &len);
	h = own_begin(w, "own_punch", off, len);
	if (!h)
		return;
	if (SYS(w, "falloc/punch", fallocate(o->fd, FALLOC_FL_PUNCH_HOLE |
					     FALLOC_FL_KEEP_SIZE, off, len))) {
		own_err(w, "falloc/punch");
		return;
	}
	shadow_zero(o, off, off + len);
}

void op_own_zero(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	int keep = zs_below(w, 2);
	off_t off = zs_below(w, o->size + (1 << 20));
	size_t len = zs_rnd_len(w, 1 << 20);
	struct zs_hist *h;

	clip(&off, &len);
	h = own_begin(w, keep ? "own_zero/keep" : "own_zero", off, len);
	if (!h)
		return;
	if (SYS(w, "falloc/zero", fallocate(o->fd, FALLOC_FL_ZERO_RANGE |
					    (keep ? FALLOC_FL_KEEP_SIZE : 0),
					    off, len))) {
		own_err(w, "falloc/zero");
		return;
	}
	shadow_zero(o, off, off + len);
	if (!keep)
		shadow_grow(o, off + len);
	h->after = o->size;
}

/* Plain allocation: contents stay, only the size may grow. */
void op_own_falloc(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	int keep = zs_below(w, 2);
	off_t off = zs_below(w, OWN_MAX);
	size_t len = zs_rnd_len(w, 1 << 20);
	struct zs_hist *h;

	clip(&off, &len);
	h = own_begin(w, keep ? "own_falloc/keep" : "own_falloc", off, len);
	if (!h)
		return;
	if (SYS(w, "fallocate", fallocate(o->fd, keep ? FALLOC_FL_KEEP_SIZE :
					  0, off, len))) {
		own_err(w, "fallocate");
		return;
	}
	if (!keep)
		shadow_grow(o, off + len);
	h->after = o->size;
}

/*
 * Store through a shared mapping of a range below EOF.  Nobody else
 * truncates this file, so here a SIGBUS is a failure.
 */
void op_own_mmap(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	off_t off = zs_below(w, o->size), pg;
	size_t len = min_sz(zs_rnd_len(w, 64 << 10), o->size - off), mlen;
	int sync = zs_below(w, 3);
	struct zs_hist *h;
	char *map;

	if (!o->size)
		return;
	h = own_begin(w, "own_mmap", off, len);
	if (!h)
		return;
	pg = off & ~(off_t)(w->pagesize - 1);
	mlen = off + len - pg;
	zs_sys_begin(w, "mmap");
	map = mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, pg);
	zs_sys_end(w, 0);
	if (map == MAP_FAILED) {
		own_err(w, "mmap");
		return;
	}
	zs_fill(w, w->buf, len);
	if (zs_mapped_store(w, map + (off - pg), len)) {
		own_report(w, NULL, 0, 0, "SIGBUS storing 0x%zx bytes at 0x%jx "
			   "through a mapping (file size 0x%jx)", len,
			   (intmax_t)off, (intmax_t)o->size);
		munmap(map, mlen);
		own_resync(w);
		return;
	}
	memcpy(o->shadow + off, w->buf, len);
	if (sync < 2 && SYS(w, "msync", msync(map, mlen, sync ? MS_SYNC :
					      MS_ASYNC)))
		own_err(w, "msync");
	if (SYS(w, "munmap", munmap(map, mlen)))
		own_err(w, "munmap");
}

/*
 * copy_file_range within the file, between ranges that do not overlap.
 * Each call copies what it says it did; bytes past EOF of the source
 * read as zeros, which is what the shadow holds there.
 */
void op_own_copy(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	off_t src = zs_below(w, o->size + 1), dst = -1, d, in, out;
	size_t len = zs_rnd_len(w, 1 << 20), done = 0;
	struct zs_hist *h;
	ssize_t n;
	int i;

	clip(&src, &len);
	for (i = 0; i < 4 && dst < 0; i++) {
		d = zs_below(w, OWN_MAX - len + 1);
		if (d + (off_t)len <= src || d >= src + (off_t)len)
			dst = d;
	}
	if (dst < 0)
		return;
	h = own_begin(w, "own_copy", dst, len);
	if (!h)
		return;
	h->from = src;
	while (done < len) {
		in = src + done;
		out = dst + done;
		n = SYS(w, "copy_file_range", copy_file_range(o->fd, &in, o->fd,
					&out, len - done, 0));
		if (n < 0) {
			own_err(w, "copy_file_range");
			break;
		}
		if (!n)
			break;
		memcpy(o->shadow + dst + done, o->shadow + src + done, n);
		done += n;
		shadow_grow(o, dst + done);
	}
	h->after = o->size;
}

void op_own_fsync(struct zs_worker *w)
{
	int data = zs_below(w, 2);

	if (!own_begin(w, data ? "own_fdatasync" : "own_fsync", 0, 0))
		return;
	if (data ? SYS(w, "fdatasync", fdatasync(w->own.fd)) :
	    SYS(w, "fsync", fsync(w->own.fd)))
		own_err(w, data ? "fdatasync" : "fsync");
}

/* Size, every byte, and nothing past EOF. */
void op_own_verify(struct zs_worker *w)
{
	struct zs_own *o = &w->own;
	struct zs_hist *h = own_begin(w, "own_verify", 0, o->size);
	struct stat st;
	size_t want;
	ssize_t n;
	off_t off;

	if (!h)
		return;
	if (SYS(w, "fstat", fstat(o->fd, &st))) {
		own_err(w, "fstat");
		return;
	}
	if (st.st_size != o->size) {
		own_report(w, NULL, 0, 0, "file size 0x%jx, expected 0x%jx",
			   (intmax_t)st.st_size, (intmax_t)o->size);
		own_resync(w);
		return;
	}
	for (off = 0; off < o->size; off += n) {
		want = min_sz(ZS_BUF, o->size - off);
		n = own_pread(w, w->rbuf, want, off);
		if (n < 0) {
			own_err(w, "pread");
			return;
		}
		if ((size_t)n < want) {
			own_report(w, NULL, 0, 0, "read hit EOF at 0x%jx, "
				   "file size 0x%jx", (intmax_t)(off + n),
				   (intmax_t)o->size);
			own_resync(w);
			return;
		}
		if (own_compare(w, w->rbuf, off, n))
			return;
	}
	n = own_pread(w, w->rbuf, 1, o->size);
	if (n < 0)
		own_err(w, "pread");
	else if (n)
		own_report(w, NULL, 0, 0, "read past EOF 0x%jx returned data",
			   (intmax_t)o->size);
}
