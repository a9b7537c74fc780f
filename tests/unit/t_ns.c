// SPDX-License-Identifier: BSD-3-Clause
/*
 * t_ns.c - mount, namespace, directories, symlinks, links, rename,
 * tmpfile, persistence and superblock corruption.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"
#include "tests.h"
#include "zpmfs_format.h"

int fresh(const char *size, const char *inodes)
{
	int err;

	th_umount();
	th_unmap();
	err = th_mkfs(size, inodes);
	CHECK(!err, "mkfs.zpmfs -s %s: exit %d", size, err);
	if (err)
		return -1;
	err = th_map();
	CHECK(!err, "map image: %d", err);
	if (err)
		return -1;
	err = th_mount("", 0);
	CHECK(!err, "mount: %d %s", err, T.out.msg);
	return err ? -1 : 0;
}

void t_mount(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_statfs st;
	struct zufs_attr a;

	if (fresh("32M", NULL))
		return;
	CHECK(T.out.root_ino == ROOT, "root ino %lu",
	      (unsigned long)T.out.root_ino);
	CHECK(T.out.block_size == 4096, "block size %u", T.out.block_size);
	CHECK(!strcmp(T.out.options, "errors=continue"), "options '%s'",
	      T.out.options);
	CHECK_ERR(T.ops->getattr(T.sb, &c, ROOT, &a), 0);
	CHECK(S_ISDIR(a.mode) && a.nlink == 2, "root mode %o nlink %u",
	      a.mode, a.nlink);
	CHECK_ERR(T.ops->statfs(T.sb, &st), 0);
	CHECK(st.blocks < 8192 && st.blocks > 7000 && st.bfree <= st.blocks &&
	      st.bfree + 4 >= st.blocks,
	      "statfs blocks %lu bfree %lu", (unsigned long)st.blocks,
	      (unsigned long)st.bfree);
	CHECK(st.namelen == 255 && st.bsize == 4096 && st.files >= 4096,
	      "statfs namelen %u bsize %u files %lu", st.namelen, st.bsize,
	      (unsigned long)st.files);
	CHECK(st.ffree == st.files - 1, "ffree %lu", (unsigned long)st.ffree);
	th_umount();

	CHECK_ERR(th_mount("bogus", 0), -EINVAL);
	CHECK(!strcmp(T.out.msg, "unknown option 'bogus'"), "msg '%s'",
	      T.out.msg);
	CHECK_ERR(th_mount("errors=remount-ro,verbose", 0), 0);
	CHECK(!strcmp(T.out.options, "errors=remount-ro,verbose"),
	      "options '%s'", T.out.options);
	CHECK_ERR(T.ops->remount(T.sb, "errors=continue", ZUS_MOUNT_RDONLY,
				 &T.out), 0);
	CHECK_ERR(th_create_err(ROOT, "f", S_IFREG | 0644), -EROFS);
	CHECK_ERR(T.ops->remount(T.sb, "", 0, &T.out), 0);
	CHECK_ERR(th_create_err(ROOT, "f", S_IFREG | 0644), 0);
	th_umount();

	CHECK_ERR(th_mount("", ZUS_MOUNT_RDONLY), 0);
	CHECK(th_lookup(ROOT, "f") != 0, "f visible read-only");
	CHECK_ERR(th_create_err(ROOT, "g", S_IFREG | 0644), -EROFS);
	CHECK_ERR(th_unlink(ROOT, "f", false), -EROFS);
	th_umount();
}

void t_namespace(void)
{
	char longname[300];
	struct zus_ctx c = th_ctx();
	struct zufs_attr a, d;
	uint64_t f, sub;

	if (fresh("32M", NULL))
		return;
	f = th_create(ROOT, "file", S_IFREG | 0640);
	CHECK(th_lookup(ROOT, "file") == f, "lookup file");
	CHECK_ERR(T.ops->getattr(T.sb, &c, f, &a), 0);
	CHECK(a.mode == (S_IFREG | 0640) && a.nlink == 1 && a.size == 0,
	      "file attr mode %o nlink %u", a.mode, a.nlink);
	CHECK(a.mtime_sec >= c.now.tv_sec && a.mtime_sec <= c.now.tv_sec + 2,
	      "mtime %ld now %ld", (long)a.mtime_sec, (long)c.now.tv_sec);
	CHECK_ERR(th_create_err(ROOT, "file", S_IFREG | 0644), -EEXIST);
	CHECK_ERR(th_create_err(ROOT, "file", S_IFDIR | 0755), -EEXIST);
	memset(longname, 'x', sizeof(longname));
	longname[256] = '\0';
	CHECK_ERR(th_create_err(ROOT, longname, S_IFREG | 0644),
		  -ENAMETOOLONG);
	longname[255] = '\0';
	CHECK_ERR(th_create_err(ROOT, longname, S_IFREG | 0644), 0);
	CHECK(th_lookup(ROOT, longname) != 0, "255-byte name");
	CHECK_ERR(T.ops->lookup(T.sb, &c, ROOT, "nope", 4, &a), -ENOENT);
	CHECK_ERR(T.ops->lookup(T.sb, &c, f, "x", 1, &a), -ENOTDIR);
	CHECK_ERR(th_create_err(f, "x", S_IFREG | 0644), -ENOTDIR);

	/* every file type */
	CHECK_ERR(th_create_err(ROOT, "fifo", S_IFIFO | 0644), 0);
	CHECK_ERR(th_create_err(ROOT, "sock", S_IFSOCK | 0644), 0);
	CHECK_ERR(T.ops->create(T.sb, &c, ROOT, "chr", 3, S_IFCHR | 0600,
				0x0501, 0, 0, 0, NULL, 0, false, &a, &d), 0);
	CHECK(S_ISCHR(a.mode) && a.rdev == 0x0501, "chr rdev %x", a.rdev);
	CHECK_ERR(T.ops->create(T.sb, &c, ROOT, "blk", 3, S_IFBLK | 0600,
				0x0802, 1000, 1001, 0, NULL, 0, false, &a,
				&d), 0);
	CHECK(S_ISBLK(a.mode) && a.uid == 1000 && a.gid == 1001,
	      "blk owner %u:%u", a.uid, a.gid);

	/* setattr */
	{
		struct zufs_attr s = { 0 };

		s.mode = 0600;
		s.uid = 7;
		s.gid = 8;
		s.atime_sec = 1000;
		s.atime_nsec = 5;
		s.mtime_sec = 2000;
		s.mtime_nsec = 999999999;
		CHECK_ERR(T.ops->setattr(T.sb, &c, f, ZUFS_ATTR_MODE |
					 ZUFS_ATTR_UID | ZUFS_ATTR_GID |
					 ZUFS_ATTR_ATIME | ZUFS_ATTR_MTIME,
					 &s, &a), 0);
		CHECK(a.mode == (S_IFREG | 0600) && a.uid == 7 && a.gid == 8 &&
		      a.atime_sec == 1000 && a.atime_nsec == 5 &&
		      a.mtime_sec == 2000 && a.mtime_nsec == 999999999,
		      "setattr result mode %o", a.mode);
	}
	sub = th_create(ROOT, "sub", S_IFDIR | 0755);
	(void)sub;
	CHECK_ERR(th_unlink(ROOT, "file", false), 0);
	CHECK(!th_lookup(ROOT, "file"), "file gone");
	CHECK_ERR(th_unlink(ROOT, "file", false), -ENOENT);
	CHECK_ERR(th_unlink(ROOT, "sub", false), -EISDIR);
	CHECK_ERR(th_unlink(ROOT, "fifo", true), -ENOTDIR);
	CHECK_ERR(T.ops->evict(T.sb, &c, f), 0);
	CHECK_ERR(T.ops->getattr(T.sb, &c, f, &a), -ENOENT);
}

struct rd {
	char names[64][32];
	uint64_t pos[64];
	int n, max;
};

static int rd_fill(void *buf, const char *name, size_t len, uint64_t ino,
		   unsigned int dtype, uint64_t next_pos)
{
	struct rd *r = buf;

	(void)ino; (void)dtype;
	if (r->n >= r->max)
		return 1;
	snprintf(r->names[r->n], sizeof(r->names[0]), "%.*s", (int)len, name);
	r->pos[r->n++] = next_pos;
	return 0;
}

void t_dirs(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;
	struct rd r = { .max = 64 };
	uint64_t d1, d2;
	bool eof;

	if (fresh("32M", NULL))
		return;
	d1 = th_create(ROOT, "d1", S_IFDIR | 0755);
	T.ops->getattr(T.sb, &c, ROOT, &a);
	CHECK(a.nlink == 3, "root nlink after mkdir %u", a.nlink);
	d2 = th_create(d1, "d2", S_IFDIR | 0755);
	th_create(d2, "f", S_IFREG | 0644);
	CHECK_ERR(th_unlink(d1, "d2", true), -ENOTEMPTY);
	CHECK_ERR(th_unlink(ROOT, "d1", true), -ENOTEMPTY);
	CHECK_ERR(T.ops->readdir(T.sb, &c, d2, ZUFS_DIR_POS_FIRST, rd_fill, &r,
				 &eof), 0);
	CHECK(r.n == 1 && !strcmp(r.names[0], "f") && eof,
	      "readdir d2: %d entries eof %d", r.n, eof);
	CHECK(r.pos[0] > ZUFS_DIR_POS_FIRST, "next_pos %lu",
	      (unsigned long)r.pos[0]);
	r.n = 0;
	CHECK_ERR(T.ops->readdir(T.sb, &c, d2, r.pos[0], rd_fill, &r, &eof), 0);
	CHECK(r.n == 0 && eof, "readdir at end");
	CHECK_ERR(th_unlink(d2, "f", false), 0);
	CHECK_ERR(th_unlink(d1, "d2", true), 0);
	CHECK_ERR(T.ops->getattr(T.sb, &c, d1, &a), 0);
	CHECK(a.nlink == 2, "d1 nlink after rmdir %u", a.nlink);
	CHECK_ERR(T.ops->evict(T.sb, &c, d2), 0);
	CHECK_ERR(th_create_err(d2, "x", S_IFREG), -ENOENT);
	CHECK_ERR(th_unlink(ROOT, "d1", true), 0);
	CHECK_ERR(T.ops->getattr(T.sb, &c, ROOT, &a), 0);
	CHECK(a.nlink == 2, "root nlink %u", a.nlink);
	/* a removed but still referenced dir refuses new entries */
	CHECK_ERR(th_create_err(d1, "x", S_IFREG), -ENOENT);
	T.ops->evict(T.sb, &c, d1);

	/* readdir in small batches resumes exactly */
	{
		char name[32];
		int i, seen = 0;
		uint64_t pos = ZUFS_DIR_POS_FIRST;

		for (i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "e%03d", i);
			th_create(ROOT, name, S_IFREG | 0644);
		}
		do {
			r.n = 0;
			r.max = 7;
			T.ops->readdir(T.sb, &c, ROOT, pos, rd_fill, &r, &eof);
			seen += r.n;
			if (r.n)
				pos = r.pos[r.n - 1];
		} while (!eof);
		CHECK(seen == 300, "batched readdir saw %d of 300", seen);
	}
}

void t_symlink(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a, d;
	char target[4096], buf[4200];
	uint64_t free0;

	if (fresh("32M", NULL))
		return;
	free0 = th_bfree();
	CHECK_ERR(T.ops->create(T.sb, &c, ROOT, "s1", 2, S_IFLNK | 0777, 0, 0,
				0, 0, "short", 5, false, &a, &d), 0);
	CHECK(a.size == 5 && S_ISLNK(a.mode), "symlink size %lu",
	      (unsigned long)a.size);
	CHECK_ERR(T.ops->readlink(T.sb, &c, a.ino, buf, sizeof(buf)), 5);
	CHECK(!memcmp(buf, "short", 5), "short target");
	memset(target, 'a', 4095);
	target[0] = '/';
	target[4094] = 'z';
	CHECK_ERR(T.ops->create(T.sb, &c, ROOT, "s2", 2, S_IFLNK | 0777, 0, 0,
				0, 0, target, 4095, false, &a, &d), 0);
	CHECK_ERR(T.ops->readlink(T.sb, &c, a.ino, buf, sizeof(buf)), 4095);
	CHECK(!memcmp(buf, target, 4095), "long target");
	CHECK_ERR(T.ops->create(T.sb, &c, ROOT, "s3", 2, S_IFLNK | 0777, 0, 0,
				0, 0, target, 4096, false, &a, &d),
		  -ENAMETOOLONG);
	CHECK_ERR(T.ops->readlink(T.sb, &c, ROOT, buf, sizeof(buf)), -EINVAL);
	CHECK_ERR(th_unlink(ROOT, "s2", false), 0);
	T.ops->evict(T.sb, &c, th_lookup(ROOT, "s2"));
	CHECK_ERR(T.ops->evict(T.sb, &c, a.ino), 0);
	/* the root directory keeps the one block its entries live in */
	CHECK(th_bfree() == free0 - 1, "bfree back %lu vs %lu",
	      (unsigned long)th_bfree(), (unsigned long)free0);
}

void t_link(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a, d;
	char name[32];
	uint64_t f, dir;
	int i, err = 0;

	if (fresh("128M", NULL))
		return;
	f = th_create(ROOT, "f", S_IFREG | 0644);
	dir = th_create(ROOT, "d", S_IFDIR | 0755);
	CHECK_ERR(T.ops->link(T.sb, &c, f, dir, "g", 1, &a, &d), 0);
	CHECK(a.nlink == 2, "nlink %u", a.nlink);
	CHECK(th_lookup(dir, "g") == f, "link found");
	CHECK_ERR(T.ops->link(T.sb, &c, f, dir, "g", 1, &a, &d), -EEXIST);
	CHECK_ERR(T.ops->link(T.sb, &c, dir, ROOT, "dl", 2, &a, &d), -EPERM);
	CHECK_ERR(th_unlink(ROOT, "f", false), 0);
	CHECK_ERR(T.ops->getattr(T.sb, &c, f, &a), 0);
	CHECK(a.nlink == 1, "nlink after unlink %u", a.nlink);
	for (i = 2; i <= 65000 && !err; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		err = T.ops->link(T.sb, &c, f, dir, name, strlen(name), &a, &d);
	}
	CHECK(!err && a.nlink == 65000, "65000 links: err %d nlink %u", err,
	      a.nlink);
	CHECK_ERR(T.ops->link(T.sb, &c, f, dir, "one-more", 8, &a, &d),
		  -EMLINK);
}

void t_tmpfile(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a, d;
	uint64_t free0, ffree0, t, o;
	char buf[8192];

	if (fresh("32M", NULL))
		return;
	free0 = th_bfree();
	ffree0 = th_ffree();
	CHECK_ERR(T.ops->create(T.sb, &c, ROOT, NULL, 0, S_IFREG | 0600, 0, 0,
				0, 0, NULL, 0, true, &a, &d), 0);
	t = a.ino;
	CHECK(a.nlink == 0, "tmpfile nlink %u", a.nlink);
	memset(buf, 'T', sizeof(buf));
	CHECK_ERR(T.ops->write(T.sb, &c, t, buf, sizeof(buf), 0, &a),
		  (long)sizeof(buf));
	CHECK(th_bfree() < free0, "tmpfile holds blocks");
	CHECK_ERR(T.ops->evict(T.sb, &c, t), 0);
	CHECK(th_bfree() == free0 && th_ffree() == ffree0,
	      "tmpfile freed: bfree %lu/%lu", (unsigned long)th_bfree(),
	      (unsigned long)free0);

	/* tmpfile then linkat */
	CHECK_ERR(T.ops->create(T.sb, &c, ROOT, NULL, 0, S_IFREG | 0600, 0, 0,
				0, 0, NULL, 0, true, &a, &d), 0);
	t = a.ino;
	CHECK_ERR(T.ops->link(T.sb, &c, t, ROOT, "named", 5, &a, &d), 0);
	CHECK(a.nlink == 1, "linked tmpfile nlink %u", a.nlink);
	CHECK_ERR(T.ops->evict(T.sb, &c, t), 0);
	CHECK(th_lookup(ROOT, "named") == t, "linked tmpfile survives evict");

	/* orphan: unlinked while open, freed by the next mount */
	free0 = th_bfree();
	o = th_create(ROOT, "orphan", S_IFREG | 0644);
	T.ops->write(T.sb, &c, o, buf, sizeof(buf), 0, &a);
	CHECK_ERR(th_unlink(ROOT, "orphan", false), 0);
	CHECK_ERR(T.ops->getattr(T.sb, &c, o, &a), 0);
	CHECK(a.nlink == 0 && a.size == sizeof(buf), "open orphan readable");
	th_umount();
	CHECK_ERR(th_mount("", 0), 0);
	CHECK(th_bfree() == free0, "orphan blocks freed at mount: %lu vs %lu",
	      (unsigned long)th_bfree(), (unsigned long)free0);
	CHECK_ERR(T.ops->getattr(T.sb, &c, o, &a), -ENOENT);
}

void t_persist(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;
	char buf[10000], back[10000];
	uint64_t d, f, free0;
	int i;

	if (fresh("32M", NULL))
		return;
	d = th_create(ROOT, "dir", S_IFDIR | 0700);
	f = th_create(d, "data", S_IFREG | 0644);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	T.ops->write(T.sb, &c, f, buf, sizeof(buf), 123, &a);
	T.ops->setxattr(T.sb, &c, f, "user.k", "v", 1, 0, &a);
	free0 = th_bfree();
	th_umount();
	th_unmap();
	CHECK_ERR(th_map(), 0);
	CHECK_ERR(th_mount("", 0), 0);
	CHECK(th_lookup(ROOT, "dir") == d && th_lookup(d, "data") == f,
	      "names persist");
	CHECK_ERR(T.ops->read(T.sb, &c, f, back, sizeof(back), 123),
		  (long)sizeof(back));
	CHECK(!memcmp(buf, back, sizeof(buf)), "data persists");
	CHECK_ERR(T.ops->getxattr(T.sb, &c, f, "user.k", back, 10), 1);
	CHECK_ERR(T.ops->getattr(T.sb, &c, d, &a), 0);
	CHECK(a.mode == (S_IFDIR | 0700), "mode persists %o", a.mode);
	CHECK(th_bfree() == free0, "free count rebuilt %lu vs %lu",
	      (unsigned long)th_bfree(), (unsigned long)free0);
}

/* fsck.zpmfs finds what it is meant to find */
void t_fsck(void)
{
	struct zus_ctx c = th_ctx();
	struct zpmfs_super *sup;
	struct zufs_attr a;
	uint32_t *nlink;
	uint64_t f, d, *bm;
	char buf[4096];

	if (fresh("16M", "256"))
		return;
	d = th_create(ROOT, "d", S_IFDIR | 0755);
	f = th_create(d, "f", S_IFREG | 0644);
	memset(buf, 1, sizeof(buf));
	T.ops->write(T.sb, &c, f, buf, sizeof(buf), 0, &a);
	th_umount();
	CHECK_ERR(th_fsck(), 0);
	sup = (struct zpmfs_super *)((char *)T.map + 4096);
	nlink = &((struct zpmfs_inode *)((char *)T.map +
					 sup->itable_start * 4096))[f - 1].nlink;
	(*nlink)++;
	CHECK_ERR(th_fsck(), 4);
	(*nlink)--;
	/* a used block marked free in the bitmap */
	bm = (uint64_t *)((char *)T.map + sup->bitmap_start * 4096);
	{
		uint64_t w = bm[0], b;

		for (b = 63; b > 0 && !(w & (1ULL << b)); b--)
			;
		bm[0] &= ~(1ULL << b);
		CHECK_ERR(th_fsck(), 4);
		bm[0] = w;
	}
	CHECK_ERR(th_fsck(), 0);
	/* a leaked block is only a warning */
	bm[1] |= 1ULL << 63;
	CHECK_ERR(th_fsck(), 1);
	bm[1] &= ~(1ULL << 63);
	CHECK_ERR(th_mount("", 0), 0);
}

void t_corrupt(void)
{
	char *sb1, *sb2;

	if (fresh("16M", NULL))
		return;
	th_create(ROOT, "keep", S_IFREG | 0644);
	th_umount();
	sb1 = (char *)T.map + 4096;
	sb2 = (char *)T.map + 8192;
	sb1[100] ^= 0x55;	/* label byte: checksum now wrong */
	CHECK_ERR(th_mount("", 0), 0);
	CHECK(th_lookup(ROOT, "keep") != 0, "mounted from the copy");
	th_umount();
	CHECK(sb1[100] == sb2[100], "primary repaired from the copy");
	sb1[100] ^= 0x55;
	sb2[100] ^= 0x55;
	CHECK_ERR(th_mount("", 0), -EINVAL);
	CHECK(strstr(T.out.msg, "checksum") != NULL, "msg '%s'", T.out.msg);
	memset(sb1, 0, 8);
	memset(sb2, 0, 8);
	CHECK_ERR(th_mount("", 0), -EINVAL);
	CHECK(strstr(T.out.msg, "magic") != NULL, "msg '%s'", T.out.msg);
	memset(T.map, 0, 8);
	CHECK_ERR(th_mount("", 0), -EINVAL);
	CHECK(strstr(T.out.msg, "device table") != NULL, "msg '%s'",
	      T.out.msg);
	T.sb = NULL;
}
