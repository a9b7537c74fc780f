// SPDX-License-Identifier: BSD-3-Clause
/*
 * workload.c - what the explorer runs: every metadata op alone on a small
 * prepared tree, and seeded random mixes of them.  Setup steps run
 * untraced (and are then taken as durable); each op under test runs
 * through cr_run(), which records it and checks its crash images.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crash.h"

#define R_NOREPLACE	(1U << 0)
#define R_EXCHANGE	(1U << 1)
#define R_WHITEOUT	(1U << 2)

enum kind {
	K_CREATE, K_TMPFILE, K_LINK, K_UNLINK, K_RENAME, K_SETATTR,
	K_SETXATTR, K_WRITE, K_EVICT, K_FALLOC, K_CLONE,
};

/* fallocate modes (linux/falloc.h) */
#define FA_KEEP_SIZE	0x01
#define FA_PUNCH	0x02
#define FA_COLLAPSE	0x08
#define FA_ZERO		0x10
#define FA_INSERT	0x20
#define FA_UNSHARE	0x40

struct op {
	enum kind	kind;
	uint64_t	dir, dir2, ino;
	const char	*name, *name2;	/* name2: rename target, symlink */
	uint32_t	mode, flags, mask;
	uint64_t	size;
	bool		is_dir;
	uint64_t	res;		/* out: the new inode */
};

static int do_op(struct wl_ctx *w, void *arg)
{
	struct op *o = arg;
	struct zus_ctx c = cr_ctx();
	struct zufs_attr a = { 0 }, d;
	struct zus_rename_out ro;
	char data[6000];
	int err = 0;

	switch (o->kind) {
	case K_CREATE:
	case K_TMPFILE:
		err = w->ops->create(w->sb, &c, o->dir, o->name,
				     o->name ? strlen(o->name) : 0, o->mode,
				     0x0801, 7, 8, 0, o->name2,
				     o->name2 ? strlen(o->name2) : 0,
				     o->kind == K_TMPFILE, &a, &d);
		o->res = err ? 0 : a.ino;
		break;
	case K_LINK:
		err = w->ops->link(w->sb, &c, o->ino, o->dir, o->name,
				   strlen(o->name), &a, &d);
		break;
	case K_UNLINK:
		err = w->ops->unlink(w->sb, &c, o->dir, o->name,
				     strlen(o->name), o->is_dir, &a, &d);
		o->res = err ? 0 : a.ino;
		break;
	case K_RENAME:
		err = w->ops->rename(w->sb, &c, o->dir, o->name,
				     strlen(o->name), o->dir2, o->name2,
				     strlen(o->name2), o->flags, &ro);
		break;
	case K_SETATTR:
		a.mode = o->mode;
		a.uid = 1000 + (uint32_t)o->size % 7;
		a.size = o->size;
		err = w->ops->setattr(w->sb, &c, o->ino, o->mask, &a, &d);
		break;
	case K_SETXATTR:
		memset(data, 'v', sizeof(data));
		err = w->ops->setxattr(w->sb, &c, o->ino, o->name,
				       o->size ? data : NULL, o->size,
				       o->flags, &a);
		break;
	case K_WRITE:
		memset(data, 'a' + o->size % 26, sizeof(data));
		err = (int)w->ops->write(w->sb, &c, o->ino, data,
					 o->size % sizeof(data), o->dir, &a);
		err = err < 0 ? err : 0;
		break;
	case K_EVICT:
		err = w->ops->evict(w->sb, &c, o->ino);
		break;
	case K_FALLOC:	/* dir: offset, size: length, flags: mode */
		err = w->ops->fallocate(w->sb, &c, o->ino, o->flags, o->dir,
					o->size, &a);
		break;
	case K_CLONE:	/* ino to dir2 at dir, mask: source offset */
		err = w->ops->clone(w->sb, &c, o->ino, o->mask, o->dir2,
				    o->dir, o->size, o->flags, &o->res, &a);
		break;
	}
	return err;
}

static const char *kind_name(const struct op *o)
{
	static const char *const n[] = {
		[K_CREATE] = "create", [K_TMPFILE] = "tmpfile",
		[K_LINK] = "link", [K_UNLINK] = "unlink",
		[K_RENAME] = "rename", [K_SETATTR] = "setattr",
		[K_SETXATTR] = "setxattr", [K_WRITE] = "write",
		[K_EVICT] = "evict", [K_FALLOC] = "fallocate",
		[K_CLONE] = "clone",
	};

	return n[o->kind];
}

/* Untraced setup step: must succeed */
static uint64_t setup(struct wl_ctx *w, struct op o)
{
	int err = do_op(w, &o);

	if (err) {
		fprintf(stderr, "zpmfs_crash: setup %s %s: %s\n",
			kind_name(&o), o.name ? o.name : "", strerror(-err));
		exit(2);
	}
	return o.res;
}

static uint64_t mk(struct wl_ctx *w, uint64_t dir, const char *name,
		   uint32_t mode)
{
	return setup(w, (struct op){ .kind = K_CREATE, .dir = dir,
				     .name = name, .mode = mode });
}

/* ops that store file contents in place: judged without them until they
 * return (the journal covers metadata only) */
static bool is_data_op(const struct op *o)
{
	return o->kind == K_WRITE ||
	       (o->kind == K_CLONE && o->flags == ZUFS_CLONE_COPY) ||
	       (o->kind == K_FALLOC && (o->flags & (FA_ZERO | FA_PUNCH)));
}

static int traced(struct wl_ctx *w, const char *name, struct op o)
{
	w->data_op = is_data_op(&o);
	return cr_run(w, name, do_op, &o);
}

/* The base tree: root, d1/{f1 (xattr user.a, 5000 bytes), f2, sub/},
 * d2/{f3}, /hl (a link of f1); a single op names its objects by index */
enum { ROOT, D1, D2, SUB, F1, F2, F3, NOBJ };

static void base_tree(struct wl_ctx *w, uint64_t *t)
{
	t[ROOT] = 1;
	t[D1] = mk(w, 1, "d1", S_IFDIR | 0755);
	t[D2] = mk(w, 1, "d2", S_IFDIR | 0755);
	t[SUB] = mk(w, t[D1], "sub", S_IFDIR | 0700);
	t[F1] = mk(w, t[D1], "f1", S_IFREG | 0644);
	t[F2] = mk(w, t[D1], "f2", S_IFREG | 0600);
	t[F3] = mk(w, t[D2], "f3", S_IFREG | 0644);
	setup(w, (struct op){ .kind = K_SETXATTR, .ino = t[F1],
			      .name = "user.a", .size = 10 });
	setup(w, (struct op){ .kind = K_WRITE, .ino = t[F1], .size = 5000 });
	setup(w, (struct op){ .kind = K_LINK, .ino = t[F1], .dir = 1,
			      .name = "hl" });
}

static const char long_target[] =
	"/a/very/long/symlink/target/that/does/not/fit/in/the/inode/itself/"
	"so/it/needs/a/block/of/its/own";

enum prep { P_NONE, P_FILL_D2, P_FILL_D2_TWICE, P_UNLINK_F2, P_TMPFILE_F2,
	     P_F2_ONE, P_SHARED_F3, P_FALLOC_F1 };

/* One single-op workload: op's dir, dir2 and ino are indexes into the
 * tree (dir also the write offset of K_WRITE) */
struct alone {
	const char	*name;
	enum prep	prep;
	struct op	op;
};

#define A(n, p, ...) { n, p, { __VA_ARGS__ } }
static const struct alone alone[] = {
	A("create", P_NONE, .kind = K_CREATE, .dir = D2, .name = "new",
	  .mode = S_IFREG | 0640),
	A("mkdir", P_NONE, .kind = K_CREATE, .dir = D1, .name = "nd",
	  .mode = S_IFDIR | 0750),
	A("mknod", P_NONE, .kind = K_CREATE, .dir = ROOT, .name = "fifo",
	  .mode = S_IFIFO | 0600),
	A("symlink", P_NONE, .kind = K_CREATE, .dir = D2, .name = "sl",
	  .mode = S_IFLNK | 0777, .name2 = "f3"),
	A("symlink-long", P_NONE, .kind = K_CREATE, .dir = D2, .name = "sll",
	  .mode = S_IFLNK | 0777, .name2 = long_target),
	A("tmpfile", P_NONE, .kind = K_TMPFILE, .dir = D1,
	  .mode = S_IFREG | 0600),
	A("link-tmpfile", P_TMPFILE_F2, .kind = K_LINK, .ino = F2, .dir = D2,
	  .name = "was-tmp"),
	A("link", P_NONE, .kind = K_LINK, .ino = F3, .dir = SUB, .name = "l3"),
	A("unlink", P_NONE, .kind = K_UNLINK, .dir = D2, .name = "f3"),
	A("unlink-link", P_NONE, .kind = K_UNLINK, .dir = ROOT, .name = "hl"),
	/* f2 unlinked beforehand and still open: no evict */
	A("unlink-open", P_UNLINK_F2, .kind = K_UNLINK, .dir = D1,
	  .name = "f1"),
	A("evict-orphan", P_UNLINK_F2, .kind = K_EVICT, .ino = F2),
	A("rmdir", P_NONE, .kind = K_UNLINK, .dir = D1, .name = "sub",
	  .is_dir = true),
	A("rename", P_NONE, .kind = K_RENAME, .dir = D1, .name = "f2",
	  .dir2 = D1, .name2 = "f2-renamed"),
	A("rename-over", P_NONE, .kind = K_RENAME, .dir = D1, .name = "f2",
	  .dir2 = D1, .name2 = "f1"),
	A("rename-cross", P_NONE, .kind = K_RENAME, .dir = D1, .name = "f2",
	  .dir2 = D2, .name2 = "f2"),
	A("rename-cross-over", P_NONE, .kind = K_RENAME, .dir = D1,
	  .name = "f1", .dir2 = D2, .name2 = "f3"),
	A("rename-dir", P_NONE, .kind = K_RENAME, .dir = D1, .name = "sub",
	  .dir2 = D2, .name2 = "moved"),
	A("rename-exchange", P_NONE, .kind = K_RENAME, .dir = D1,
	  .name = "sub", .dir2 = D2, .name2 = "f3", .flags = R_EXCHANGE),
	A("rename-noreplace", P_NONE, .kind = K_RENAME, .dir = D2,
	  .name = "f3", .dir2 = ROOT, .name2 = "top", .flags = R_NOREPLACE),
	A("rename-whiteout", P_NONE, .kind = K_RENAME, .dir = D1,
	  .name = "f2", .dir2 = D2, .name2 = "f3", .flags = R_WHITEOUT),
	A("chmod", P_NONE, .kind = K_SETATTR, .ino = F1,
	  .mask = ZUFS_ATTR_MODE | ZUFS_ATTR_UID, .mode = 0611),
	A("truncate-up", P_NONE, .kind = K_SETATTR, .ino = F1,
	  .mask = ZUFS_ATTR_SIZE, .size = 20000),
	A("truncate-down", P_NONE, .kind = K_SETATTR, .ino = F1,
	  .mask = ZUFS_ATTR_SIZE, .size = 100),
	A("xattr-set", P_NONE, .kind = K_SETXATTR, .ino = F3,
	  .name = "user.new", .size = 300),
	A("xattr-replace", P_NONE, .kind = K_SETXATTR, .ino = F1,
	  .name = "user.a", .size = 20),
	A("xattr-remove", P_NONE, .kind = K_SETXATTR, .ino = F1,
	  .name = "user.a"),
	A("dir-grow", P_FILL_D2, .kind = K_CREATE, .dir = D2,
	  .name = "overflow-entry-name", .mode = S_IFREG | 0644),
	/* the third block goes into the existing map node (no new root) */
	A("dir-grow-node", P_FILL_D2_TWICE, .kind = K_CREATE, .dir = D2,
	  .name = "overflow-entry-name", .mode = S_IFREG | 0644),
	/* K_WRITE: dir is the file offset, not an object */
	A("append", P_NONE, .kind = K_WRITE, .ino = F1, .dir = 5000,
	  .size = 3000),
	/* the block the inode maps becomes child 0 of a new root */
	A("write-grow-1", P_F2_ONE, .kind = K_WRITE, .ino = F2, .dir = 4096,
	  .size = 100),
	A("write-grow-512", P_NONE, .kind = K_WRITE, .ino = F1,
	  .dir = 512ULL * 4096 + 7, .size = 5000),
	A("write-grow-262144", P_NONE, .kind = K_WRITE, .ino = F1,
	  .dir = 512ULL * 512 * 4096, .size = 4000),
	A("write-hole-in-node", P_NONE, .kind = K_WRITE, .ino = F1,
	  .dir = 3 * 4096 + 5, .size = 5000),
	A("falloc", P_NONE, .kind = K_FALLOC, .ino = F1, .dir = 6000,
	  .size = 14000),
	A("falloc-keep-size", P_NONE, .kind = K_FALLOC, .ino = F1,
	  .dir = 4096, .size = 20000, .flags = FA_KEEP_SIZE),
	A("falloc-far", P_NONE, .kind = K_FALLOC, .ino = F3,
	  .dir = 512ULL * 4096 * 3, .size = 9000),
	A("zero-range", P_NONE, .kind = K_FALLOC, .ino = F1, .dir = 1000,
	  .size = 12000, .flags = FA_ZERO),
	A("zero-range-keep", P_NONE, .kind = K_FALLOC, .ino = F1, .dir = 3000,
	  .size = 20000, .flags = FA_ZERO | FA_KEEP_SIZE),
	A("punch", P_NONE, .kind = K_FALLOC, .ino = F1, .dir = 100,
	  .size = 4500, .flags = FA_PUNCH | FA_KEEP_SIZE),
	A("punch-all", P_NONE, .kind = K_FALLOC, .ino = F1, .dir = 0,
	  .size = 8192, .flags = FA_PUNCH | FA_KEEP_SIZE),
	A("punch-past-eof", P_FALLOC_F1, .kind = K_FALLOC, .ino = F1,
	  .dir = 4096, .size = 40960, .flags = FA_PUNCH | FA_KEEP_SIZE),
	A("collapse", P_FALLOC_F1, .kind = K_FALLOC, .ino = F1, .dir = 4096,
	  .size = 4096, .flags = FA_COLLAPSE),
	A("insert", P_NONE, .kind = K_FALLOC, .ino = F1, .dir = 0,
	  .size = 8192, .flags = FA_INSERT),
	A("insert-grow", P_NONE, .kind = K_FALLOC, .ino = F1, .dir = 4096,
	  .size = 512 * 4096, .flags = FA_INSERT),
	/* K_CLONE: ino to dir2 at offset dir, source offset mask */
	A("clone", P_NONE, .kind = K_CLONE, .ino = F1, .dir2 = F3,
	  .flags = ZUFS_CLONE_REFLINK),
	A("clone-over", P_SHARED_F3, .kind = K_CLONE, .ino = F1, .dir2 = F3,
	  .dir = 4096, .size = 4096, .flags = ZUFS_CLONE_REFLINK),
	A("clone-far", P_NONE, .kind = K_CLONE, .ino = F1, .dir2 = F2,
	  .dir = 512ULL * 4096, .flags = ZUFS_CLONE_REFLINK),
	A("dedupe", P_SHARED_F3, .kind = K_CLONE, .ino = F1, .dir2 = F3,
	  .size = 4096, .flags = ZUFS_CLONE_DEDUPE),
	A("copy-range", P_NONE, .kind = K_CLONE, .ino = F1, .dir2 = F2,
	  .dir = 100, .mask = 7, .size = 4500, .flags = ZUFS_CLONE_COPY),
	A("copy-range-share", P_NONE, .kind = K_CLONE, .ino = F1, .dir2 = F2,
	  .size = 5000, .flags = ZUFS_CLONE_COPY),
	A("unshare", P_SHARED_F3, .kind = K_FALLOC, .ino = F3, .dir = 0,
	  .size = 8192, .flags = FA_UNSHARE),
	A("cow-write", P_SHARED_F3, .kind = K_WRITE, .ino = F3, .dir = 100,
	  .size = 5000),
};
#undef A

const char *wl_alone_name(unsigned int which)
{
	return which < sizeof(alone) / sizeof(alone[0]) ?
	       alone[which].name : NULL;
}

static void prepare(struct wl_ctx *w, enum prep p, uint64_t *t)
{
	char name[32];
	int i;

	switch (p) {
	case P_FILL_D2:		/* d2's first block full but one slot */
	case P_FILL_D2_TWICE:	/* and its second block full */
		for (i = 0; i < (p == P_FILL_D2 ? 123 : 123 + 124); i++) {
			snprintf(name, sizeof(name), "g%03d", i);
			mk(w, t[D2], name, S_IFREG | 0644);
		}
		break;
	case P_UNLINK_F2:
		setup(w, (struct op){ .kind = K_UNLINK, .dir = t[D1],
				      .name = "f2" });
		break;
	case P_TMPFILE_F2:
		t[F2] = setup(w, (struct op){ .kind = K_TMPFILE, .dir = 1,
					      .mode = S_IFREG | 0600 });
		break;
	case P_F2_ONE:		/* f2: one block, mapped by the inode itself */
		setup(w, (struct op){ .kind = K_WRITE, .ino = t[F2],
				      .size = 100 });
		break;
	case P_SHARED_F3:	/* f3: a reflink of f1 to EOF (a block shared,
				 * the tail copied) */
		setup(w, (struct op){ .kind = K_CLONE, .ino = t[F1],
				      .dir2 = t[F3], .size = 0,
				      .flags = ZUFS_CLONE_REFLINK });
		break;
	case P_FALLOC_F1:	/* f1: 5 blocks, some preallocated past EOF */
		setup(w, (struct op){ .kind = K_WRITE, .ino = t[F1],
				      .dir = 12000, .size = 100 });
		setup(w, (struct op){ .kind = K_FALLOC, .ino = t[F1],
				      .dir = 12100, .size = 9000,
				      .flags = FA_KEEP_SIZE });
		break;
	case P_NONE:
		break;
	}
}

int wl_alone(struct wl_ctx *w, unsigned int which)
{
	const struct alone *a = &alone[which];
	uint64_t t[NOBJ];
	struct op o = a->op;
	int err;

	base_tree(w, t);
	prepare(w, a->prep, t);
	tr_sync();
	if (o.kind != K_WRITE && o.kind != K_FALLOC && o.kind != K_CLONE)
		o.dir = t[o.dir];
	o.dir2 = t[o.dir2];
	o.ino = t[o.ino];
	if (o.kind == K_CLONE)
		o.res = 0;
	err = traced(w, a->name, o);
	if (err)
		fprintf(stderr, "zpmfs_crash: %s: %s\n", a->name,
			strerror(-err));
	return err ? -1 : 0;
}

/* ---- random mixes ---------------------------------------------------- */

struct pick {
	char	name[256];
	uint64_t ino;
	unsigned int dtype;
	unsigned int seen;
	uint64_t *rng;
};

static int pick_fill(void *buf, const char *name, size_t len, uint64_t ino,
		     unsigned int dtype, uint64_t next)
{
	struct pick *p = buf;

	(void)next;
	/* reservoir sampling: each entry equally likely */
	if (cr_rand(p->rng) % ++p->seen == 0) {
		memcpy(p->name, name, len);
		p->name[len] = '\0';
		p->ino = ino;
		p->dtype = dtype;
	}
	return 0;
}

/* A random entry of dir, or false if it is empty */
static bool pick(struct wl_ctx *w, uint64_t dir, struct pick *p)
{
	struct zus_ctx c = cr_ctx();
	bool eof;

	memset(p, 0, sizeof(*p));
	p->rng = &w->rng;
	w->ops->readdir(w->sb, &c, dir, 0, pick_fill, p, &eof);
	return p->seen;
}

struct mix {
	uint64_t dirs[64];
	unsigned int ndirs;
	uint64_t open[16];		/* unlinked while "open" */
	unsigned int nopen;
};

static uint64_t rdir(struct wl_ctx *w, struct mix *m)
{
	return m->dirs[cr_rand(&w->rng) % m->ndirs];
}

static void rname(struct wl_ctx *w, char *buf, size_t len)
{
	unsigned int r = cr_rand(&w->rng) % 100;

	if (r < 8)	/* long names take several slots: directories grow */
		snprintf(buf, len, "long-%u-%0*u", r,
			 (int)(40 + cr_rand(&w->rng) % 150), r);
	else
		snprintf(buf, len, "n%u", r % 24);
}

static void mix_forget_dir(struct mix *m, uint64_t ino)
{
	unsigned int i;

	for (i = 0; i < m->ndirs; i++)
		if (m->dirs[i] == ino)
			m->dirs[i] = m->dirs[--m->ndirs];
}

/* mostly small, sometimes past 512 or 512 * 512 blocks: the tree grows */
static uint64_t mix_offset(struct wl_ctx *w)
{
	unsigned int r = cr_rand(&w->rng) % 16;
	uint64_t off = cr_rand(&w->rng) % 12000;

	if (r == 0)
		off += 512ULL * 4096;
	else if (r == 1)
		off += 512ULL * 512 * 4096;
	return off;
}

static void mix_falloc(struct wl_ctx *w, struct op *o, uint64_t ino)
{
	static const uint32_t modes[] = {
		0, FA_KEEP_SIZE, FA_PUNCH | FA_KEEP_SIZE, FA_ZERO,
		FA_ZERO | FA_KEEP_SIZE, FA_COLLAPSE, FA_INSERT, FA_UNSHARE,
	};

	o->kind = K_FALLOC;
	o->ino = ino;
	o->flags = modes[cr_rand(&w->rng) % 8];
	o->dir = mix_offset(w);
	o->size = 1 + cr_rand(&w->rng) % 14000;
	if (o->flags & (FA_COLLAPSE | FA_INSERT)) {
		o->dir = cr_rand(&w->rng) % 3 * 4096;
		o->size = (1 + cr_rand(&w->rng) % 2) * 4096;
	}
}

static void mix_step(struct wl_ctx *w, struct mix *m)
{
	unsigned int r = cr_rand(&w->rng) % 24;
	char nm[256], nm2[256], label[64];
	struct op o = { .dir = rdir(w, m) };
	struct pick p;
	int err;

	rname(w, nm, sizeof(nm));
	rname(w, nm2, sizeof(nm2));
	o.name = nm;
	if (r >= 6 && r != 18 && r != 19 && !pick(w, o.dir, &p))
		r = cr_rand(&w->rng) % 6;
	switch (r) {
	case 0: case 1:
		o.kind = K_CREATE;
		o.mode = S_IFREG | 0644;
		break;
	case 2:
		o.kind = K_CREATE;
		o.mode = S_IFDIR | 0755;
		break;
	case 3:
		o.kind = K_CREATE;
		o.mode = S_IFLNK | 0777;
		o.name2 = cr_rand(&w->rng) & 1 ? "short" : long_target;
		break;
	case 4:
		o.kind = K_CREATE;
		o.mode = (cr_rand(&w->rng) & 1 ? S_IFIFO : S_IFCHR) | 0600;
		break;
	case 5:
		o.kind = K_TMPFILE;
		o.name = NULL;
		o.mode = S_IFREG | 0600;
		break;
	case 6: case 7:
		o.kind = K_UNLINK;
		o.name = p.name;
		o.is_dir = p.dtype == 4;
		break;
	case 8: case 9: case 10:
		o.kind = K_RENAME;
		o.name = p.name;
		o.dir2 = rdir(w, m);
		o.name2 = nm2;
		if (cr_rand(&w->rng) % 3 == 0 && pick(w, o.dir2, &p) &&
		    p.ino != o.dir)
			o.name2 = strcpy(nm2, p.name);
		o.flags = (uint32_t[]){ 0, 0, 0, R_NOREPLACE, R_EXCHANGE,
					R_WHITEOUT }[cr_rand(&w->rng) % 6];
		pick(w, o.dir, &p);
		o.name = p.name;
		break;
	case 11:
		o.kind = K_LINK;
		o.ino = p.ino;
		o.dir = rdir(w, m);
		break;
	case 12: case 13:
		o.kind = K_SETATTR;
		o.ino = p.ino;
		o.mask = r == 12 ? ZUFS_ATTR_MODE | ZUFS_ATTR_UID :
			 ZUFS_ATTR_SIZE;
		o.mode = 0600 | (cr_rand(&w->rng) & 077);
		o.size = cr_rand(&w->rng) % 3 ? cr_rand(&w->rng) % 9000 : 0;
		break;
	case 14: case 15:
		o.kind = K_SETXATTR;
		o.ino = p.ino;
		o.name = (const char *[]){ "user.a", "user.b", "trusted.c" }
			[cr_rand(&w->rng) % 3];
		o.size = cr_rand(&w->rng) % 4 ? 1 + cr_rand(&w->rng) % 700 : 0;
		break;
	case 16: case 17:
		o.kind = K_WRITE;
		o.ino = p.ino;
		o.dir = mix_offset(w);
		o.size = 1 + cr_rand(&w->rng) % 5000;
		break;
	case 20: case 21:
		mix_falloc(w, &o, p.ino);
		break;
	case 22: case 23:
		o.kind = K_CLONE;
		o.ino = p.ino;
		o.flags = (uint32_t[]){ ZUFS_CLONE_REFLINK, ZUFS_CLONE_DEDUPE,
					ZUFS_CLONE_COPY }[cr_rand(&w->rng) % 3];
		o.mask = (uint32_t)(cr_rand(&w->rng) % 3) * 4096;
		o.dir = mix_offset(w) & ~4095ULL;
		o.size = cr_rand(&w->rng) % 3 * 4096;
		if (o.flags == ZUFS_CLONE_COPY)
			o.dir += cr_rand(&w->rng) % 2 * 100;
		if (!pick(w, rdir(w, m), &p))
			return;
		o.dir2 = p.ino;
		break;
	default:
		if (!m->nopen) {
			o.kind = K_CREATE;
			o.mode = S_IFREG | 0644;
			break;
		}
		o.kind = K_EVICT;
		o.ino = m->open[--m->nopen];
		break;
	}
	snprintf(label, sizeof(label), "mix#%lu %s", (unsigned long)w->st->ops,
		 kind_name(&o));
	if (o.kind == K_RENAME && o.flags)
		snprintf(label + strlen(label), sizeof(label) - strlen(label),
			 "/%s", o.flags == R_EXCHANGE ? "exchange" :
			 o.flags == R_WHITEOUT ? "whiteout" : "noreplace");
	w->data_op = is_data_op(&o);
	err = cr_run(w, label, do_op, &o);
	if (err)
		return;
	if (o.kind == K_CREATE && S_ISDIR(o.mode) && m->ndirs < 64)
		m->dirs[m->ndirs++] = o.res;
	if (o.kind == K_UNLINK && o.is_dir)
		mix_forget_dir(m, o.res);
	if ((o.kind == K_UNLINK || o.kind == K_TMPFILE) && !o.is_dir &&
	    o.res && m->nopen < 16)
		m->open[m->nopen++] = o.res;	/* closed later: evict */
}

int wl_mix(struct wl_ctx *w, unsigned int nops)
{
	struct mix m = { .dirs = { 1 }, .ndirs = 1 };
	unsigned int i;

	for (i = 0; i < nops; i++)
		mix_step(w, &m);
	return 0;
}
