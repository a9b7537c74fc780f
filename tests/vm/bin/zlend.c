// SPDX-License-Identifier: BSD-3-Clause
/*
 * zlend - write(2) to a file on a zufs old-IO mount from memory the server
 * only borrows read-only, and check that nothing the server does to the
 * window (a hostile plugin storing into it) reaches that memory.
 *
 *   zlend FILE SRC EXPECT
 *
 * FILE is on the zufs mount; SRC a file on tmpfs (its page cache pages are
 * what a PROT_READ mmap of it hands to write).  Three sources, 64 KiB each:
 *   mmap   SRC mapped PROT_READ, MAP_SHARED (page-cache pages)
 *   zero   an untouched private anonymous mapping (the shared zero page)
 *   heap   a malloc'ed buffer
 * After each write: the source's bytes are unchanged, SRC re-read from its
 * page cache is unchanged, a fresh anonymous mapping still reads zeros,
 * the write's result is EXPECT ("eio": fails with EIO; "ok": succeeds in
 * full), and the server still answers (fstat and a 1-byte pread).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "zcheck.h"

#define LEN	(64 * 1024)

static uint64_t sum(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static int zero_page_clean(void)
{
	const unsigned char *p = mmap(NULL, LEN, PROT_READ,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;
	int ok = 1;

	if (p == MAP_FAILED)
		die("mmap fresh");
	for (i = 0; i < LEN; i++)
		if (p[i]) {
			ok = 0;
			break;
		}
	munmap((void *)p, LEN);
	return ok;
}

static void one(const char *what, int fd, const unsigned char *buf,
		int srcfd, const unsigned char *src_copy, int expect_eio)
{
	uint64_t before = sum(buf, LEN);
	unsigned char *reread = malloc(LEN);
	struct stat st;
	ssize_t n;
	int err;

	if (!reread)
		die("malloc");
	n = pwrite(fd, buf, LEN, 0);
	err = n < 0 ? errno : 0;
	if (expect_eio)
		check(n < 0 && err == EIO, "%s: write fails with EIO (got %zd, %s)",
		      what, n, n < 0 ? strerror(err) : "no error");
	else
		check(n == LEN, "%s: write succeeds (got %zd, %s)", what, n,
		      n < 0 ? strerror(err) : "no error");
	check(sum(buf, LEN) == before, "%s: the source bytes are intact", what);
	if (pread(srcfd, reread, LEN, 0) != LEN)
		die("pread SRC");
	check(!memcmp(reread, src_copy, LEN),
	      "%s: the source file's page cache is intact", what);
	check(zero_page_clean(), "%s: fresh anonymous memory reads zeros", what);
	check(!fstat(fd, &st), "%s: the server answers a GETATTR after it",
	      what);
	free(reread);
}

int main(int argc, char **argv)
{
	unsigned char *copy, *heap, *filemap, *zero;
	int fd, srcfd, expect_eio;
	size_t i;

	if (argc != 4) {
		fprintf(stderr, "usage: zlend FILE SRC eio|ok\n");
		return 2;
	}
	expect_eio = !strcmp(argv[3], "eio");
	fd = open(argv[1], O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		die(argv[1]);
	srcfd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (srcfd < 0)
		die(argv[2]);
	copy = malloc(LEN);
	heap = malloc(LEN);
	if (!copy || !heap)
		die("malloc");
	for (i = 0; i < LEN; i++)
		copy[i] = (unsigned char)(i * 7 + 3);
	memcpy(heap, copy, LEN);
	if (pwrite(srcfd, copy, LEN, 0) != LEN)
		die("write SRC");
	filemap = mmap(NULL, LEN, PROT_READ, MAP_SHARED, srcfd, 0);
	zero = mmap(NULL, LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (filemap == MAP_FAILED || zero == MAP_FAILED)
		die("mmap");

	one("mmap", fd, filemap, srcfd, copy, expect_eio);
	one("zero", fd, zero, srcfd, copy, expect_eio);
	for (i = 0; i < LEN; i++)
		if (zero[i])
			break;
	check(i == LEN, "zero: the zero-page mapping still reads zeros");
	one("heap", fd, heap, srcfd, copy, expect_eio);
	check(!memcmp(heap, copy, LEN), "heap: the buffer equals its copy");
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
