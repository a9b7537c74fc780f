// SPDX-License-Identifier: BSD-3-Clause
/*
 * zwin - the old-IO window from an application's side: read and write
 * with buffers of every size and alignment, vectors, O_DIRECT, buffers
 * that are themselves mappings of zufs files (also of the same file),
 * read-only and partly unmapped buffers, many threads at once, and the
 * kernel-memory paths (sendfile, splice, copy_file_range, exec, mmap).
 *
 * usage: zwin DIR     (one line per check, exits 1 on failure)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zcheck.h"

#define MIB		(1024 * 1024)
#define NTHREADS	4
#define THREAD_OPS	1500
#define THREAD_SPAN	(256 * 1024)

static const char *dir;
static long pg;

/* The byte that belongs at file offset off of pattern seed */
static unsigned char pat(uint64_t off, unsigned int seed)
{
	uint64_t x = (off + 1) * 0x9E3779B97F4A7C15ULL ^ seed;

	return (unsigned char)(x >> 29);
}

static void fill(unsigned char *p, size_t len, uint64_t off, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(off + i, seed);
}

/* First offset where p differs from the pattern, or -1 */
static long long mismatch(const unsigned char *p, size_t len, uint64_t off,
			  unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(off + i, seed))
			return (long long)i;
	return -1;
}

static char *path_of(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static int open_file(const char *name, int flags)
{
	int fd = open(path_of(name), flags | O_CREAT, 0644);

	if (fd < 0)
		die(path_of(name));
	return fd;
}

/* An anonymous buffer of len bytes starting at byte offset `shift` of a page */
static unsigned char *anon_buf(size_t len, size_t shift, void **base,
			       size_t *maplen)
{
	*maplen = (len + shift + pg - 1) / pg * pg + pg;
	*base = mmap(NULL, *maplen, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*base == MAP_FAILED)
		die("mmap anon");
	return (unsigned char *)*base + shift;
}

static void sizes_and_alignments(void)
{
	static const size_t sizes[] = { 1, 100, 4095, 4096, 4097, 65543,
					MIB, MIB + 4097, 3 * MIB + 5 };
	static const size_t shifts[] = { 0, 1, 4095 };
	int fd = open_file("sizes", O_RDWR | O_TRUNC);
	unsigned int i, j, bad = 0, n = 0;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (j = 0; j < sizeof(shifts) / sizeof(shifts[0]); j++) {
			size_t len = sizes[i], wmap, rmap;
			off_t off = 12345 + i * 7 + j;
			void *wbase, *rbase;
			unsigned char *w = anon_buf(len, shifts[j], &wbase,
						    &wmap);
			unsigned char *r = anon_buf(len, shifts[(j + 1) % 3],
						    &rbase, &rmap);
			ssize_t got;

			fill(w, len, off, i * 3 + j);
			memset(r, 0xa5, len);
			if (pwrite(fd, w, len, off) != (ssize_t)len)
				bad++;
			got = pread(fd, r, len, off);
			if (got != (ssize_t)len ||
			    mismatch(r, len, off, i * 3 + j) >= 0) {
				if (!bad++)
					printf("     size %zu shift %zu: read %zd, first bad byte %lld\n",
					       len, shifts[j], got,
					       mismatch(r, len, off, i * 3 + j));
			}
			n++;
			munmap(wbase, wmap);
			munmap(rbase, rmap);
		}
	}
	close(fd);
	check(!bad, "pwrite+pread of %u size/alignment pairs (1 B .. 3 MiB, buffer at page offset 0, 1, 4095)",
	      n);
}

static void vectors(void)
{
	static const size_t seg[] = { 1, 4095, 3, 8192, 777, MIB + 1 };
	enum { NSEG = sizeof(seg) / sizeof(seg[0]) };
	struct iovec wv[NSEG], rv[NSEG];
	size_t total = 0, maplen[2 * NSEG], k;
	void *base[2 * NSEG];
	int fd = open_file("vec", O_RDWR | O_TRUNC), ok = 1;
	uint64_t off = 5000;

	for (k = 0; k < NSEG; k++) {
		wv[k].iov_base = anon_buf(seg[k], k * 513 % pg, &base[k],
					  &maplen[k]);
		rv[k].iov_base = anon_buf(seg[k], k * 1001 % pg,
					  &base[NSEG + k], &maplen[NSEG + k]);
		wv[k].iov_len = rv[k].iov_len = seg[k];
		fill(wv[k].iov_base, seg[k], off + total, 77);
		total += seg[k];
	}
	ok &= pwritev(fd, wv, NSEG, off) == (ssize_t)total;
	ok &= preadv(fd, rv, NSEG, off) == (ssize_t)total;
	for (total = 0, k = 0; k < NSEG; total += seg[k], k++)
		ok &= mismatch(rv[k].iov_base, seg[k], off + total, 77) < 0;
	for (k = 0; k < 2 * NSEG; k++)
		munmap(base[k], maplen[k]);
	close(fd);
	check(ok, "pwritev+preadv with %d segments of odd sizes and alignments",
	      NSEG);
}

static void direct_io(void)
{
	size_t len = 3 * pg + 17, ml;
	void *base;
	unsigned char *b = anon_buf(len, 9, &base, &ml);
	int fd = open(path_of("direct"), O_RDWR | O_CREAT | O_TRUNC | O_DIRECT,
		      0644);
	int ok;

	if (fd < 0) {
		check(errno == EINVAL, "O_DIRECT open refused with EINVAL (%s)",
		      strerror(errno));
		munmap(base, ml);
		return;
	}
	fill(b, len, 3, 5);
	ok = pwrite(fd, b, len, 3) == (ssize_t)len;
	memset(b, 0, len);
	ok &= pread(fd, b, len, 3) == (ssize_t)len;
	ok &= mismatch(b, len, 3, 5) < 0;
	close(fd);
	munmap(base, ml);
	check(ok, "O_DIRECT with an unaligned buffer, offset and length");
}

/* A mapping of file `name`, `len` bytes, filled with pattern seed */
static unsigned char *map_file(const char *name, size_t len, unsigned int seed,
			       int *fdp)
{
	int fd = open_file(name, O_RDWR | O_TRUNC);
	unsigned char *m;

	if (ftruncate(fd, len))
		die("ftruncate");
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap file");
	fill(m, len, 0, seed);
	*fdp = fd;
	return m;
}

static void buffers_in_zufs_mappings(void)
{
	size_t len = 256 * 1024;
	int a = open_file("src", O_RDWR | O_TRUNC), bfd, ok = 1;
	unsigned char *tmp = malloc(len), *m;

	if (!tmp)
		die("malloc");
	fill(tmp, len, 0, 11);
	if (pwrite(a, tmp, len, 0) != (ssize_t)len)
		die("pwrite src");

	/* read file A into a shared mapping of file B, then B must hold it */
	m = map_file("dst", len, 12, &bfd);
	ok &= pread(a, m + 100, len - 200, 100) == (ssize_t)(len - 200);
	ok &= msync(m, len, MS_SYNC) == 0;
	munmap(m, len);
	ok &= pread(bfd, tmp, len, 0) == (ssize_t)len;
	ok &= mismatch(tmp, 100, 0, 12) < 0;
	ok &= mismatch(tmp + 100, len - 200, 100, 11) < 0;
	ok &= mismatch(tmp + len - 100, 100, len - 100, 12) < 0;
	check(ok, "pread from a zufs file into a MAP_SHARED mapping of another zufs file");

	/* write from a mapping of B into A */
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, bfd, 0);
	if (m == MAP_FAILED)
		die("mmap dst");
	ok = pwrite(a, m, len, 0) == (ssize_t)len;
	munmap(m, len);
	ok &= pread(a, tmp, len, 0) == (ssize_t)len;
	ok &= mismatch(tmp, 100, 0, 12) < 0 && mismatch(tmp + 100, 100, 100, 11) < 0;
	check(ok, "pwrite into a zufs file from a read-only mapping of another zufs file");

	/* the same file as source and destination, disjoint ranges */
	m = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
	if (ftruncate(a, 2 * len) || m == MAP_FAILED)
		die("mmap src");
	fill(tmp, len, 0, 13);
	ok = pwrite(a, tmp, len, 0) == (ssize_t)len;
	ok &= pread(a, m + len, len, 0) == (ssize_t)len;	/* into itself */
	ok &= mismatch(m + len, len, 0, 13) < 0;
	ok &= pwrite(a, m + len, len / 2, 7) == (ssize_t)(len / 2);
	ok &= pread(a, tmp, len / 2, 7) == (ssize_t)(len / 2);
	ok &= mismatch(tmp, len / 2, 0, 13) < 0;
	munmap(m, 2 * len);
	check(ok, "pread/pwrite with a buffer mapped from the same file");
	close(a);
	close(bfd);
	free(tmp);
}

static void bad_buffers(void)
{
	int fd = open_file("fault", O_RDWR | O_TRUNC);
	unsigned char *m, *hole, good[8192];
	ssize_t n;
	int ok;

	/* an address that was mapped a moment ago and is not any more */
	hole = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED || munmap(hole, pg))
		die("mmap hole");

	fill(good, sizeof(good), 0, 21);
	if (pwrite(fd, good, sizeof(good), 0) != (ssize_t)sizeof(good))
		die("pwrite fault");

	errno = 0;
	n = pread(fd, hole, 100, 0);
	check(n == -1 && errno == EFAULT, "pread into an unmapped address: EFAULT (%zd, %s)",
	      n, strerror(errno));
	errno = 0;
	n = pwrite(fd, hole, 100, 0);
	check(n == -1 && errno == EFAULT, "pwrite from an unmapped address: EFAULT (%zd, %s)",
	      n, strerror(errno));

	/* two pages, the second PROT_NONE: a short count or EFAULT */
	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + pg, pg, PROT_NONE))
		die("mmap guard");
	errno = 0;
	n = pread(fd, m, 2 * pg, 0);
	ok = (n == -1 && errno == EFAULT) ||
	     (n == pg && mismatch(m, pg, 0, 21) < 0);
	check(ok, "pread across a PROT_NONE page: short or EFAULT (%zd, %s)",
	      n, strerror(errno));
	fill(m, pg, 0, 22);
	errno = 0;
	n = pwrite(fd, m, 2 * pg, 0);
	ok = (n == -1 && errno == EFAULT) || n == pg;
	ok &= pread(fd, good, sizeof(good), 0) == (ssize_t)sizeof(good);
	/* the second page of the file was never in the buffer: untouched */
	ok &= mismatch(good + pg, pg, pg, 21) < 0;
	check(ok, "pwrite across a PROT_NONE page: short or EFAULT, nothing beyond it written (%zd)",
	      n);
	munmap(m, 2 * pg);
	close(fd);
}

struct worker {
	int fd;
	unsigned int id;
	int bad;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t base = (uint64_t)w->id * THREAD_SPAN, rng = w->id * 7919 + 1;
	unsigned char *wb = malloc(65536 + 1), *rb = malloc(65536 + 1);
	int i;

	if (!wb || !rb)
		die("malloc");
	for (i = 0; i < THREAD_OPS; i++) {
		size_t len, off;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		len = 1 + (rng >> 33) % 65536;
		off = (rng >> 17) % (THREAD_SPAN - len);
		fill(wb + (i & 1), len, base + off, w->id);
		if (pwrite(w->fd, wb + (i & 1), len, base + off) !=
		    (ssize_t)len ||
		    pread(w->fd, rb + !(i & 1), len, base + off) !=
		    (ssize_t)len ||
		    mismatch(rb + !(i & 1), len, base + off, w->id) >= 0)
			w->bad++;
	}
	free(wb);
	free(rb);
	return NULL;
}

static void threads(void)
{
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	int fd = open_file("threads", O_RDWR | O_TRUNC), bad = 0, i;

	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .fd = fd, .id = i };
		if (pthread_create(&t[i], NULL, worker_main, &w[i]))
			die("pthread_create");
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		bad += w[i].bad;
	}
	close(fd);
	check(!bad, "%d threads x %d pwrite+pread of their own ranges, all CPUs (%d bad)",
	      NTHREADS, THREAD_OPS, bad);
}

static int same_content(int a, int b, size_t len)
{
	unsigned char *x = malloc(len), *y = malloc(len);
	int ok;

	if (!x || !y)
		die("malloc");
	ok = pread(a, x, len, 0) == (ssize_t)len &&
	     pread(b, y, len, 0) == (ssize_t)len && !memcmp(x, y, len);
	free(x);
	free(y);
	return ok;
}

static void kernel_buffers(void)
{
	size_t len = 2 * MIB + 333;
	unsigned char *tmp = malloc(len);
	int src = open_file("ksrc", O_RDWR | O_TRUNC), out, p[2], ok;
	char tmpl[] = "/tmp/zwin.XXXXXX";
	off_t off = 0;
	ssize_t n, total;

	if (!tmp)
		die("malloc");
	fill(tmp, len, 0, 31);
	if (pwrite(src, tmp, len, 0) != (ssize_t)len)
		die("pwrite ksrc");

	out = mkstemp(tmpl);
	if (out < 0)
		die("mkstemp");
	unlink(tmpl);
	for (total = 0; total < (ssize_t)len; total += n) {
		n = sendfile(out, src, &off, len - total);
		if (n <= 0)
			break;
	}
	check(total == (ssize_t)len && same_content(src, out, len),
	      "sendfile from zufs to tmpfs (%zd bytes)", total);

	/* splice zufs -> pipe -> zufs */
	if (pipe(p))
		die("pipe");
	close(out);
	out = open_file("kdst", O_RDWR | O_TRUNC);
	off = 0;
	ok = 1;
	for (total = 0; total < (ssize_t)len && ok; total += n) {
		loff_t in_off = total, out_off = total;

		n = splice(src, &in_off, p[1], NULL, 65536, 0);
		ok = n > 0 &&
		     splice(p[0], NULL, out, &out_off, n, 0) == n;
	}
	check(ok && same_content(src, out, len), "splice zufs -> pipe -> zufs");
	close(p[0]);
	close(p[1]);

	/* copy_file_range zufs -> zufs */
	if (ftruncate(out, 0))
		die("ftruncate kdst");
	{
		loff_t in_off = 0, out_off = 0;

		for (total = 0; total < (ssize_t)len; total += n) {
			n = copy_file_range(src, &in_off, out, &out_off,
					    len - total, 0);
			if (n <= 0)
				break;
		}
	}
	check(total == (ssize_t)len && same_content(src, out, len),
	      "copy_file_range zufs -> zufs");
	close(out);
	close(src);
	free(tmp);
}

static void exec_and_mmap(void)
{
	int in = open("/bin/true", O_RDONLY), out, st, ok;
	unsigned char *m, *buf;
	struct stat sb;
	pid_t pid;

	if (in < 0 || fstat(in, &sb))
		die("/bin/true");
	out = open_file("true", O_RDWR | O_TRUNC);
	buf = malloc(sb.st_size);
	if (!buf || read(in, buf, sb.st_size) != sb.st_size ||
	    write(out, buf, sb.st_size) != sb.st_size || fchmod(out, 0755))
		die("copy /bin/true");
	close(in);
	close(out);
	pid = fork();
	if (pid == 0) {
		execl(path_of("true"), "true", (char *)NULL);
		_exit(127);
	}
	ok = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	     WEXITSTATUS(st) == 0;
	check(ok, "exec of a program stored on the mount");

	out = open(path_of("true"), O_RDONLY);
	m = mmap(NULL, sb.st_size, PROT_READ, MAP_SHARED, out, 0);
	check(out >= 0 && m != MAP_FAILED && !memcmp(m, buf, sb.st_size),
	      "mmap of a file reads what write() wrote");
	if (m != MAP_FAILED)
		munmap(m, sb.st_size);
	close(out);
	free(buf);
}

int main(int argc, char **argv)
{
	if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc == 2 ? stdout : stderr,
			"usage: zwin DIR\nexercises the old-IO window with odd buffers; one line per check\n");
		return argc == 2 ? 0 : 2;
	}
	dir = argv[1];
	pg = sysconf(_SC_PAGESIZE);
	sizes_and_alignments();
	vectors();
	direct_io();
	buffers_in_zufs_mappings();
	bad_buffers();
	threads();
	kernel_buffers();
	exec_and_mmap();
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
