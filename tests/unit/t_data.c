// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_data.c - read/write, get_blocks, truncate, fallocate, seek, clone,
 * xattrs and rename.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"
#include "tests.h"

static bool all_zero(const char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

void t_data(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a, s = { 0 };
	static char buf[1 << 20], back[1 << 20];
	uint64_t f, free0, d;
	size_t i;

	if (fresh("64M", NULL))
		return;
	free0 = th_bfree();
	f = th_create(ROOT, "f", S_IFREG | 0644);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 13 + 1);
	CHECK_ERR(T.ops->write(T.sb, &c, f, buf, 5000, 100, &a), 5000);
	CHECK(a.size == 5100, "size %lu", (unsigned long)a.size);
	CHECK_ERR(T.ops->read(T.sb, &c, f, back, sizeof(back), 0), 5100);
	CHECK(all_zero(back, 100) && !memcmp(back + 100, buf, 5000),
	      "read back");
	CHECK_ERR(T.ops->read(T.sb, &c, f, back, 10, 5100), 0);
	CHECK_ERR(T.ops->read(T.sb, &c, f, back, 10, 9999999), 0);
	/* sparse write far away */
	CHECK_ERR(T.ops->write(T.sb, &c, f, buf, 10, 40 << 20, &a), 10);
	CHECK(a.size == (40 << 20) + 10, "sparse size");
	CHECK(a.blocks == 8 * 3 + 8 * 2 || a.blocks >= 8 * 3,
	      "blocks %lu", (unsigned long)a.blocks);
	CHECK_ERR(T.ops->read(T.sb, &c, f, back, 4096, 20 << 20), 4096);
	CHECK(all_zero(back, 4096), "hole reads zeros");
	/* truncate down zeroes the tail, frees blocks */
	s.size = 150;
	CHECK_ERR(T.ops->setattr(T.sb, &c, f, ZUFS_ATTR_SIZE, &s, &a), 0);
	CHECK(a.size == 150, "truncated");
	s.size = 8192;
	CHECK_ERR(T.ops->setattr(T.sb, &c, f, ZUFS_ATTR_SIZE, &s, &a), 0);
	CHECK_ERR(T.ops->read(T.sb, &c, f, back, 8192, 0), 8192);
	CHECK(!memcmp(back + 100, buf, 50) && all_zero(back + 150, 8192 - 150),
	      "truncate up reads zeros past old EOF");
	/* big write: one run, contiguous */
	CHECK_ERR(T.ops->write(T.sb, &c, f, buf, sizeof(buf), 1 << 20, &a),
		  (long)sizeof(buf));
	CHECK_ERR(T.ops->read(T.sb, &c, f, back, sizeof(back), 1 << 20),
		  (long)sizeof(back));
	CHECK(!memcmp(buf, back, sizeof(buf)), "1 MiB round trip");
	s.size = 0;
	CHECK_ERR(T.ops->setattr(T.sb, &c, f, ZUFS_ATTR_SIZE, &s, &a), 0);
	CHECK(a.blocks == 0, "truncate 0 frees all, blocks %lu",
	      (unsigned long)a.blocks);
	CHECK_ERR(th_unlink(ROOT, "f", false), 0);
	T.ops->evict(T.sb, &c, f);
	CHECK(th_bfree() == free0 - 1 || th_bfree() == free0,
	      "space back: %lu vs %lu", (unsigned long)th_bfree(),
	      (unsigned long)free0);
	d = th_create(ROOT, "d", S_IFDIR | 0755);
	CHECK_ERR(T.ops->write(T.sb, &c, d, buf, 1, 0, &a), -EISDIR);
	CHECK_ERR(T.ops->setattr(T.sb, &c, d, ZUFS_ATTR_SIZE, &s, &a), -EISDIR);
	CHECK_ERR(T.ops->write(T.sb, &c, f, buf, 1, 0, &a), -ENOENT);
}

void t_get_blocks(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_extent ext[ZUFS_MAX_EXTENTS];
	struct zufs_attr a;
	uint64_t f;
	int n, i;
	char *pm;

	if (fresh("64M", NULL))
		return;
	f = th_create(ROOT, "f", S_IFREG | 0644);
	/* read of an empty file: one hole */
	n = T.ops->get_blocks(T.sb, &c, f, 0, 65536, false, 0, ext,
			      ZUFS_MAX_EXTENTS, &a);
	CHECK(n == 1 && (ext[0].flags & ZUFS_EXT_HOLE) &&
	      ext[0].length == 65536, "hole extent n=%d", n);
	/* write 1 MiB at 8 KiB + 5: one new extent */
	n = T.ops->get_blocks(T.sb, &c, f, 8192 + 5, 1 << 20, true,
			      8192 + 5 + (1 << 20), ext, ZUFS_MAX_EXTENTS, &a);
	CHECK(n == 1, "write extents %d", n);
	CHECK(ext[0].offset == 8192 && ext[0].length == (1 << 20) + 4096 &&
	      (ext[0].flags & ZUFS_EXT_NEW) && ext[0].pmem_off % 4096 == 0,
	      "write extent off %lu len %lu flags %x",
	      (unsigned long)ext[0].offset, (unsigned long)ext[0].length,
	      ext[0].flags);
	CHECK(a.size == 8192 + 5 + (1 << 20), "size_after %lu",
	      (unsigned long)a.size);
	CHECK(a.mtime_sec == c.now.tv_sec && a.mtime_nsec == c.now.tv_nsec,
	      "mtime from ctx");
	/* the kernel copies itself: emulate, then read through the plugin */
	pm = (char *)T.map + ext[0].pmem_off;
	CHECK(all_zero(pm, ext[0].length), "new blocks zeroed");
	memcpy(pm + 5, "hello", 5);
	{
		char b[5];

		CHECK_ERR(T.ops->read(T.sb, &c, f, b, 5, 8192 + 5), 5);
		CHECK(!memcmp(b, "hello", 5), "read sees kernel copy");
	}
	/* read map: hole then data */
	n = T.ops->get_blocks(T.sb, &c, f, 0, 2 << 20, false, 0, ext,
			      ZUFS_MAX_EXTENTS, &a);
	CHECK(n == 3 && (ext[0].flags & ZUFS_EXT_HOLE) && ext[0].length == 8192 &&
	      !(ext[1].flags & ZUFS_EXT_HOLE) && (ext[2].flags & ZUFS_EXT_HOLE),
	      "read map n=%d", n);
	/* re-write mapped range: same blocks, not NEW */
	n = T.ops->get_blocks(T.sb, &c, f, 8192, 4096, true, 0, ext,
			      ZUFS_MAX_EXTENTS, &a);
	CHECK(n == 1 && !(ext[0].flags & ZUFS_EXT_NEW) &&
	      a.size == 8192 + 5 + (1 << 20), "rewrite n=%d flags %x", n,
	      ext[0].flags);
	/* max_ext limits the answer to a prefix */
	{
		uint64_t g = th_create(ROOT, "g", S_IFREG | 0644);

		for (i = 0; i < 8; i += 2)
			T.ops->get_blocks(T.sb, &c, g, (uint64_t)i * 4096, 4096,
					  true, 0, ext, 1, &a);
		n = T.ops->get_blocks(T.sb, &c, g, 0, 8 * 4096, false, 0, ext,
				      2, &a);
		CHECK(n == 2 && ext[0].offset == 0 && ext[1].offset == 4096,
		      "prefix n=%d", n);
	}
	CHECK_ERR(T.ops->get_blocks(T.sb, &c, ROOT, 0, 4096, false, 0, ext, 4,
				    &a), -EISDIR);
}

void t_fallocate(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;
	static char buf[65536], back[65536];
	uint64_t f, r, free0;
	size_t i;

	if (fresh("64M", NULL))
		return;
	f = th_create(ROOT, "f", S_IFREG | 0644);
	free0 = th_bfree();
	CHECK_ERR(T.ops->fallocate(T.sb, &c, f, 0, 0, 1 << 20, &a), 0);
	CHECK(a.size == 1 << 20 && free0 - th_bfree() >= 256,
	      "fallocate size %lu", (unsigned long)a.size);
	CHECK_ERR(T.ops->fallocate(T.sb, &c, f, 1, 2 << 20, 4096, &a), 0);
	CHECK(a.size == 1 << 20, "KEEP_SIZE keeps size");
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i | 1);
	T.ops->write(T.sb, &c, f, buf, sizeof(buf), 0, &a);
	/* punch 4096+100 .. 3*4096+50 */
	CHECK_ERR(T.ops->fallocate(T.sb, &c, f, 2, 0, 100, &a), -EOPNOTSUPP);
	CHECK_ERR(T.ops->fallocate(T.sb, &c, f, 3, 4196, 2 * 4096 - 50, &a), 0);
	T.ops->read(T.sb, &c, f, back, sizeof(back), 0);
	CHECK(!memcmp(back, buf, 4196) && all_zero(back + 4196, 2 * 4096 - 50) &&
	      !memcmp(back + 3 * 4096 + 50, buf + 3 * 4096 + 50,
		      sizeof(buf) - 3 * 4096 - 50), "punch hole contents");
	CHECK_ERR(T.ops->seek(T.sb, &c, f, 8192, 4, &r), 0);
	CHECK(r == 8192, "SEEK_HOLE in punched block: %lu", (unsigned long)r);
	CHECK_ERR(T.ops->seek(T.sb, &c, f, 8192, 3, &r), 0);
	CHECK(r == 3 * 4096, "SEEK_DATA after hole: %lu", (unsigned long)r);
	CHECK_ERR(T.ops->seek(T.sb, &c, f, 0, 3, &r), 0);
	CHECK(r == 0, "SEEK_DATA at 0");
	CHECK_ERR(T.ops->seek(T.sb, &c, f, 1 << 20, 3, &r), -ENXIO);
	/* zero range */
	CHECK_ERR(T.ops->fallocate(T.sb, &c, f, 0x10, 20000, 10000, &a), 0);
	T.ops->read(T.sb, &c, f, back, sizeof(back), 0);
	CHECK(all_zero(back + 20000, 10000) && back[19999] == buf[19999] &&
	      back[30000] == buf[30000], "zero range");
	CHECK_ERR(T.ops->fallocate(T.sb, &c, f, 0x10, (2 << 20) - 10, 20, &a),
		  0);
	CHECK(a.size == (2 << 20) + 10, "zero range extends: %lu",
	      (unsigned long)a.size);
	/* collapse 2 blocks at 4096, insert them back */
	T.ops->write(T.sb, &c, f, buf, sizeof(buf), 0, &a);
	CHECK_ERR(T.ops->fallocate(T.sb, &c, f, 0x08, 4096, 8192, &a), 0);
	CHECK(a.size == (2 << 20) + 10 - 8192, "collapse size");
	T.ops->read(T.sb, &c, f, back, 8192, 4096);
	CHECK(!memcmp(back, buf + 3 * 4096, 8192), "collapse moved data");
	CHECK_ERR(T.ops->fallocate(T.sb, &c, f, 0x20, 4096, 8192, &a), 0);
	CHECK(a.size == (2 << 20) + 10, "insert size");
	T.ops->read(T.sb, &c, f, back, 3 * 4096, 4096);
	CHECK(all_zero(back, 8192) && !memcmp(back + 8192, buf + 3 * 4096, 4096),
	      "insert made a hole");
	CHECK_ERR(T.ops->fallocate(T.sb, &c, f, 0x08, 100, 4096, &a), -EINVAL);
	CHECK_ERR(T.ops->fallocate(T.sb, &c, ROOT, 0, 0, 4096, &a), -EISDIR);
}

void t_clone(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;
	static char buf[300000], back[300000];
	uint64_t s, d, done = 0;
	size_t i;

	if (fresh("64M", NULL))
		return;
	s = th_create(ROOT, "s", S_IFREG | 0644);
	d = th_create(ROOT, "d", S_IFREG | 0644);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 31);
	T.ops->write(T.sb, &c, s, buf, sizeof(buf), 0, &a);
	CHECK_ERR(T.ops->clone(T.sb, &c, s, 10, d, 5, 1 << 20, ZUFS_CLONE_COPY,
			       &done, &a), 0);
	CHECK(done == sizeof(buf) - 10 && a.size == sizeof(buf) - 5,
	      "copy done %lu size %lu", (unsigned long)done,
	      (unsigned long)a.size);
	T.ops->read(T.sb, &c, d, back, sizeof(back), 0);
	CHECK(all_zero(back, 5) && !memcmp(back + 5, buf + 10, sizeof(buf) - 10),
	      "copied bytes");
	/* length 0: to the source's EOF (t_reflink.c tests the rest) */
	d = th_create(ROOT, "e", S_IFREG | 0644);
	CHECK_ERR(T.ops->clone(T.sb, &c, s, 0, d, 0, 0, ZUFS_CLONE_REFLINK,
			       &done, &a), 0);
	CHECK(done == sizeof(buf) && a.size == sizeof(buf),
	      "reflink done %lu size %lu", (unsigned long)done,
	      (unsigned long)a.size);
	T.ops->read(T.sb, &c, d, back, sizeof(back), 0);
	CHECK(!memcmp(back, buf, sizeof(buf)), "reflinked bytes");
}

void t_xattr(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;
	char v[4096], list[256];
	uint64_t f;

	if (fresh("32M", NULL))
		return;
	f = th_create(ROOT, "f", S_IFREG | 0644);
	CHECK_ERR(T.ops->getxattr(T.sb, &c, f, "user.a", v, sizeof(v)),
		  -ENODATA);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "user.a", "12345", 5, 0, &a), 0);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "trusted.b", "", 0, 0, &a), 0);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "system.posix_acl_access",
				  "acl", 3, 0, &a), 0);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "bogus.x", "1", 1, 0, &a),
		  -EOPNOTSUPP);
	CHECK_ERR(T.ops->getxattr(T.sb, &c, f, "user.a", v, 0), 5);
	CHECK_ERR(T.ops->getxattr(T.sb, &c, f, "user.a", v, 3), -ERANGE);
	CHECK_ERR(T.ops->getxattr(T.sb, &c, f, "user.a", v, sizeof(v)), 5);
	CHECK(!memcmp(v, "12345", 5), "value");
	CHECK_ERR(T.ops->getxattr(T.sb, &c, f, "trusted.b", v, sizeof(v)), 0);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "user.a", "x", 1, 1, &a),
		  -EEXIST);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "user.z", "x", 1, 2, &a),
		  -ENODATA);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "user.a", "xy", 2, 2, &a), 0);
	CHECK_ERR(T.ops->getxattr(T.sb, &c, f, "user.a", v, sizeof(v)), 2);
	CHECK_ERR(T.ops->listxattr(T.sb, &c, f, list, 0),
		  (long)(sizeof("trusted.b") + sizeof("system.posix_acl_access") +
			 sizeof("user.a")));
	CHECK_ERR(T.ops->listxattr(T.sb, &c, f, list, 5), -ERANGE);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "user.a", NULL, 0, 0, &a), 0);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "user.a", NULL, 0, 0, &a),
		  -ENODATA);
	memset(v, 'v', sizeof(v));
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "user.big", v, 3000, 0, &a), 0);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, f, "user.big2", v, 3000, 0, &a),
		  -ENOSPC);
	CHECK_ERR(T.ops->setxattr(T.sb, &c, ROOT, "user.dir", v, 10, 0, &a), 0);
}

static void rename_ok(uint64_t od, const char *on, uint64_t nd,
		      const char *nn, uint32_t flags, int want,
		      struct zus_rename_out *out)
{
	struct zus_ctx c = th_ctx();
	int err = T.ops->rename(T.sb, &c, od, on, strlen(on), nd, nn,
				strlen(nn), flags, out);

	CHECK(err == want, "rename %s -> %s flags %u: %d, want %d", on, nn,
	      flags, err, want);
}

void t_rename(void)
{
	struct zus_ctx c = th_ctx();
	struct zus_rename_out o;
	struct zufs_attr a;
	uint64_t a1, b1, d1, d2, e1, x;

	if (fresh("32M", NULL))
		return;
	a1 = th_create(ROOT, "a", S_IFREG | 0644);
	b1 = th_create(ROOT, "b", S_IFREG | 0644);
	d1 = th_create(ROOT, "d1", S_IFDIR | 0755);
	d2 = th_create(ROOT, "d2", S_IFDIR | 0755);
	rename_ok(ROOT, "a", ROOT, "a2", 0, 0, &o);
	CHECK(th_lookup(ROOT, "a2") == a1 && !th_lookup(ROOT, "a"), "simple");
	rename_ok(ROOT, "a2", ROOT, "b", 1, -EEXIST, &o);
	rename_ok(ROOT, "a2", ROOT, "b", 0, 0, &o);
	CHECK(th_lookup(ROOT, "b") == a1 && o.target_attr.ino == b1 &&
	      o.target_attr.nlink == 0, "over file, target nlink %u",
	      o.target_attr.nlink);
	T.ops->evict(T.sb, &c, b1);
	rename_ok(ROOT, "nothere", ROOT, "x", 0, -ENOENT, &o);
	rename_ok(ROOT, "b", ROOT, "d1", 0, -EISDIR, &o);
	rename_ok(ROOT, "d1", ROOT, "b", 0, -ENOTDIR, &o);
	/* dir across dirs: nlinks */
	e1 = th_create(d1, "e", S_IFDIR | 0755);
	rename_ok(d1, "e", d2, "e", 0, 0, &o);
	CHECK(o.old_dir_attr.nlink == 2 && o.new_dir_attr.nlink == 3,
	      "dir move nlinks %u %u", o.old_dir_attr.nlink,
	      o.new_dir_attr.nlink);
	CHECK(th_lookup(d2, "e") == e1 && !th_lookup(d1, "e"), "moved dir");
	CHECK(th_lookup(e1, "..") == d2, "parent updated");
	/* into own subtree */
	rename_ok(ROOT, "d2", e1, "loop", 0, -EINVAL, &o);
	/* over empty dir, over non-empty dir */
	th_create(d1, "empty", S_IFDIR | 0755);
	rename_ok(d2, "e", d1, "empty", 0, 0, &o);
	CHECK(o.target_attr.nlink == 0 && o.new_dir_attr.nlink == 3 &&
	      o.old_dir_attr.nlink == 2, "over empty dir: %u %u %u",
	      o.target_attr.nlink, o.new_dir_attr.nlink, o.old_dir_attr.nlink);
	th_create(d2, "full", S_IFDIR | 0755);
	th_create(th_lookup(d2, "full"), "x", S_IFREG | 0644);
	rename_ok(d1, "empty", d2, "full", 0, -ENOTEMPTY, &o);
	/* exchange a file and a dir across dirs */
	x = th_create(d2, "xf", S_IFREG | 0644);
	rename_ok(d1, "empty", d2, "xf", 2, 0, &o);
	CHECK(th_lookup(d1, "empty") == x && th_lookup(d2, "xf") == e1,
	      "exchanged");
	T.ops->getattr(T.sb, &c, d1, &a);
	CHECK(a.nlink == 2, "d1 nlink after exchange %u", a.nlink);
	T.ops->getattr(T.sb, &c, d2, &a);
	CHECK(a.nlink == 4, "d2 nlink after exchange %u", a.nlink);
	rename_ok(d1, "empty", d2, "nothere", 2, -ENOENT, &o);
	rename_ok(d1, "empty", d2, "xf", 3, -EINVAL, &o);
	/* whiteout */
	rename_ok(d1, "empty", ROOT, "wh", 4, 0, &o);
	CHECK(S_ISCHR(o.whiteout_attr.mode) && o.whiteout_attr.rdev == 0 &&
	      th_lookup(d1, "empty") == o.whiteout_attr.ino &&
	      th_lookup(ROOT, "wh") == x, "whiteout left behind");
	/* rename to itself and between hard links */
	rename_ok(ROOT, "wh", ROOT, "wh", 0, 0, &o);
	{
		struct zufs_attr d;

		T.ops->link(T.sb, &c, x, ROOT, "hl", 2, &a, &d);
		rename_ok(ROOT, "wh", ROOT, "hl", 0, 0, &o);
		CHECK(th_lookup(ROOT, "wh") == x && th_lookup(ROOT, "hl") == x,
		      "hard-link rename is a no-op");
	}
}
