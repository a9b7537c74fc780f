// SPDX-License-Identifier: BSD-3-Clause
/*
 * oracle.c - the logical state of a mounted zpmfs, as text: one line per
 * name reachable from the root, sorted, with what a user can observe of
 * it (inode number, type and permission bits, link count, owner, size,
 * a hash of the contents or the symlink target, ".." of directories, the
 * xattrs).  Two images are the same filesystem iff their texts are equal.
 * Timestamps are left out: they are not what atomicity is about here and
 * every op changes them.  Unreachable inodes (unlinked while open) are not
 * part of it: the mount after a crash frees them, and fsck checks that.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "crash.h"

struct buf {
	char	*p;
	size_t	n, cap;
};

static void put(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (n >= 0 && b->n + n < b->cap)
			break;
		b->cap = b->cap * 2 + n + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			exit(2);
	}
	b->n += n;
}

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		h = (h ^ *c++) * 0x100000001b3ULL;
	return h;
}

struct ent {
	char	name[ZUFS_NAME_MAX + 1];
	uint64_t ino;
};

struct ents {
	struct ent *e;
	size_t	n, cap;
};

static int fill(void *buf, const char *name, size_t len, uint64_t ino,
		unsigned int dtype, uint64_t next)
{
	struct ents *es = buf;

	(void)dtype;
	(void)next;
	if (es->n == es->cap) {
		es->cap = es->cap ? es->cap * 2 : 32;
		es->e = realloc(es->e, es->cap * sizeof(*es->e));
		if (!es->e)
			exit(2);
	}
	memcpy(es->e[es->n].name, name, len);
	es->e[es->n].name[len] = '\0';
	es->e[es->n++].ino = ino;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->name,
		      ((const struct ent *)b)->name);
}

static bool all_zero(const char *p, size_t n)
{
	while (n && !*p) {
		p++;
		n--;
	}
	return !n;
}

static uint64_t content_hash(const struct zus_fs_ops *ops, struct zus_sb *sb,
			     const struct zufs_attr *a, bool with_data)
{
	struct zus_ctx c = cr_ctx();
	char data[4096];
	uint64_t h = 0xcbf29ce484222325ULL, off = 0;
	ssize_t n;

	if (S_ISLNK(a->mode)) {
		n = ops->readlink(sb, &c, a->ino, data, sizeof(data));
		return n < 0 ? (uint64_t)n : fnv(h, data, n);
	}
	if (!S_ISREG(a->mode) || !ops->read || !with_data)
		return 0;
	/* Holes skipped and zero blocks left out, each block hashed with its
	 * offset: a file 1 GiB long (the tree grown past 512 * 512 blocks)
	 * costs what its data costs, and a hole equals a block of zeros. */
	while (off < a->size) {
		uint64_t next = off;

		if (ops->seek && ops->seek(sb, &c, a->ino, off, SEEK_DATA,
					   &next) < 0)
			break;	/* -ENXIO: no data up to EOF */
		off = next & ~(uint64_t)(sizeof(data) - 1);
		if (off >= a->size)
			break;
		n = ops->read(sb, &c, a->ino, data, sizeof(data), off);
		if (n <= 0)
			return (uint64_t)n;
		if (!all_zero(data, (size_t)n)) {
			h = fnv(h, &off, sizeof(off));
			h = fnv(h, data, n);
		}
		off += n;
	}
	return h;
}

static uint64_t xattr_hash(const struct zus_fs_ops *ops, struct zus_sb *sb,
			   uint64_t ino)
{
	struct zus_ctx c = cr_ctx();
	char list[4096], val[4096];
	uint64_t h = 0xcbf29ce484222325ULL;
	ssize_t n, v;
	char *p;

	n = ops->listxattr(sb, &c, ino, list, sizeof(list));
	if (n <= 0)
		return n < 0 ? (uint64_t)n : 0;
	/* zpmfs lists in insertion order; the set is what matters */
	for (p = list; p < list + n; p += strlen(p) + 1) {
		uint64_t e = fnv(0xcbf29ce484222325ULL, p, strlen(p));

		v = ops->getxattr(sb, &c, ino, p, val, sizeof(val));
		e = fnv(e, val, v > 0 ? v : 0) ^ (uint64_t)v;
		h += e * 0x9e3779b97f4a7c15ULL;
	}
	return h;
}

static void walk(const struct zus_fs_ops *ops, struct zus_sb *sb,
		 uint64_t dir, const char *path, struct buf *b, int depth,
		 bool data)
{
	struct zus_ctx c = cr_ctx();
	struct ents es = { 0 };
	bool eof = false;
	size_t i;
	int err;

	err = ops->readdir(sb, &c, dir, 0, fill, &es, &eof);
	if (err || !eof)
		put(b, "%s/ readdir error %d eof %d\n", path, err, eof);
	qsort(es.e, es.n, sizeof(*es.e), ent_cmp);
	for (i = 0; i < es.n; i++) {
		struct zufs_attr a, dd;
		char sub[4096];

		snprintf(sub, sizeof(sub), "%s/%s", path, es.e[i].name);
		err = ops->lookup(sb, &c, dir, es.e[i].name,
				  strlen(es.e[i].name), &a);
		if (err) {
			put(b, "%s lookup error %d\n", sub, err);
			continue;
		}
		put(b, "%s ino=%lu/%lu mode=%o nlink=%u own=%u:%u size=%lu "
		    "data=%016lx xattr=%016lx", sub, (unsigned long)a.ino,
		    (unsigned long)es.e[i].ino, a.mode, a.nlink, a.uid, a.gid,
		    S_ISDIR(a.mode) ? 0UL : (unsigned long)a.size,
		    (unsigned long)content_hash(ops, sb, &a, data),
		    (unsigned long)xattr_hash(ops, sb, a.ino));
		if (S_ISCHR(a.mode) || S_ISBLK(a.mode))
			put(b, " rdev=%x", a.rdev);
		if (S_ISDIR(a.mode)) {
			err = ops->lookup(sb, &c, a.ino, "..", 2, &dd);
			put(b, " dotdot=%lu\n", err ? 0UL :
			    (unsigned long)dd.ino);
			if (depth < 32)
				walk(ops, sb, a.ino, sub, b, depth + 1, data);
		} else {
			put(b, "\n");
		}
	}
	free(es.e);
}

char *or_snapshot(const struct zus_fs_ops *ops, struct zus_sb *sb, bool data)
{
	struct buf b = { 0 };
	struct zus_ctx c = cr_ctx();
	struct zufs_attr a;
	int err;

	err = ops->getattr(sb, &c, 1, &a);
	put(&b, "/ err=%d mode=%o nlink=%u xattr=%016lx\n", err, a.mode,
	    a.nlink, (unsigned long)xattr_hash(ops, sb, 1));
	walk(ops, sb, 1, "", &b, 0, data);
	return b.p;
}

void or_diff(const char *a, const char *b, char *buf, size_t len)
{
	size_t i = 0, ls = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n')
			ls = i + 1;
		i++;
	}
	snprintf(buf, len, "expected: %.*s | got: %.*s",
		 (int)strcspn(a + ls, "\n"), a + ls,
		 (int)strcspn(b + ls, "\n"), b + ls);
}
