// SPDX-License-Identifier: BSD-3-Clause
/*
 * readdir/getdents: completeness, d_type, concurrent modification,
 * telldir/seekdir, rewinddir.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "pt.h"

struct dent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int t_readdir_empty(void)
{
	struct pt_dent *e;
	struct stat st;
	int n, i;

	OK(mkdir("d", 0755));
	TRY(pt_listdir("d", &e, &n));
	EQ(n, 2);
	EQ(pt_find_dent(e, n, "."), 1);
	EQ(pt_find_dent(e, n, ".."), 1);
	OK(stat("d", &st));
	for (i = 0; i < n; i++) {
		EQ(e[i].type, DT_DIR);
		if (!strcmp(e[i].name, "."))
			EQ(e[i].ino, st.st_ino);
	}
	OK(stat(".", &st));
	for (i = 0; i < n; i++)
		if (!strcmp(e[i].name, ".."))
			EQ(e[i].ino, st.st_ino);
	pt_freedents(e, n);
	return PT_PASS;
}

/* Create entry i of a mixed directory; returns its expected d_type. */
static int make_entry(const char *dir, int i, int *type)
{
	char p[64];

	snprintf(p, sizeof(p), "%s/e%05d", dir, i);
	switch (i % 5) {
	case 0:
		*type = DT_REG;
		return pt_mkfile(p, NULL, 0);
	case 1:
		*type = DT_DIR;
		return mkdir(p, 0755) ? -errno : 0;
	case 2:
		*type = DT_LNK;
		return symlink("target", p) ? -errno : 0;
	case 3:
		*type = DT_FIFO;
		return mknod(p, S_IFIFO | 0644, 0) ? -errno : 0;
	default:
		*type = DT_SOCK;
		return mknod(p, S_IFSOCK | 0644, 0) ? -errno : 0;
	}
}

static int check_mixed(int n, const int *types)
{
	unsigned char *seen = calloc(n, 1);
	struct pt_dent *e;
	struct stat st;
	int cnt, i, idx;
	char p[64];

	TRY(pt_listdir("d", &e, &cnt));
	EQ(cnt, n + 2);
	for (i = 0; i < cnt; i++) {
		if (!strcmp(e[i].name, ".") || !strcmp(e[i].name, ".."))
			continue;
		CHECKM(sscanf(e[i].name, "e%05d", &idx) == 1 && idx >= 0 &&
		       idx < n, "unexpected entry '%s'", e[i].name);
		CHECKM(!seen[idx]++, "entry '%s' listed twice", e[i].name);
		CHECKM(e[i].type == types[idx], "'%s': d_type %d, want %d",
		       e[i].name, e[i].type, types[idx]);
		snprintf(p, sizeof(p), "d/%s", e[i].name);
		OK(lstat(p, &st));
		EQ(e[i].ino, st.st_ino);
	}
	for (i = 0; i < n; i++)
		CHECKM(seen[i] == 1, "entry e%05d not listed", i);
	pt_freedents(e, cnt);
	free(seen);
	return PT_PASS;
}

static int t_readdir_1000(void)
{
	int n = pt_scaled(1000), i, types[1000];

	OK(mkdir("d", 0755));
	for (i = 0; i < n; i++)
		TRY(make_entry("d", i, &types[i]));
	return check_mixed(n, types);
}

static int t_readdir_dtype_dev(void)
{
	struct pt_dent *e;
	int n;

	OK(mkdir("d", 0755));
	OK(mknod("d/c", S_IFCHR | 0600, makedev(1, 3)));
	OK(mknod("d/b", S_IFBLK | 0600, makedev(7, 0)));
	TRY(pt_listdir("d", &e, &n));
	EQ(n, 4);
	CHECK(e[0].type == DT_CHR || e[1].type == DT_CHR ||
	      e[2].type == DT_CHR || e[3].type == DT_CHR);
	CHECK(e[0].type == DT_BLK || e[1].type == DT_BLK ||
	      e[2].type == DT_BLK || e[3].type == DT_BLK);
	pt_freedents(e, n);
	return PT_PASS;
}

/* List dir with getdents64 into a per-index count array of names fmt%d. */
static int count_entries(int fd, size_t bufsz, const char *prefix,
			 unsigned char *cnt, long n, long *others)
{
	char *buf = pt_alloc(bufsz), *end;
	size_t plen = strlen(prefix);
	struct dent64 *d;
	long r, off, idx;

	*others = 0;
	while ((r = pt_getdents(fd, buf, bufsz)) > 0) {
		for (off = 0; off < r; off += d->d_reclen) {
			d = (struct dent64 *)(buf + off);
			if (strncmp(d->d_name, prefix, plen)) {
				(*others)++;
				continue;
			}
			idx = strtol(d->d_name + plen, &end, 10);
			if (*end || idx < 0 || idx >= n) {
				(*others)++;
				continue;
			}
			if (cnt[idx] < 255)
				cnt[idx]++;
		}
	}
	free(buf);
	return r < 0 ? -errno : 0;
}

static int t_readdir_big(void)
{
	long n = pt_cfg.big, i, others;
	unsigned char *cnt = calloc(n, 1);
	char name[32];
	int dfd;

	OK(mkdir("d", 0755));
	dfd = OK(open("d", O_RDONLY | O_DIRECTORY));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%ld", i);
		OK(close(OK(openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL,
				   0644))));
	}
	TRY(count_entries(dfd, 32768, "f", cnt, n, &others));
	EQ(others, 2);
	for (i = 0; i < n; i++)
		CHECKM(cnt[i] == 1, "entry f%ld listed %d times", i, cnt[i]);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%ld", i);
		OK(unlinkat(dfd, name, 0));
	}
	OK(lseek(dfd, 0, SEEK_SET));
	memset(cnt, 0, n);
	TRY(count_entries(dfd, 32768, "f", cnt, n, &others));
	EQ(others, 2);
	OK(close(dfd));
	OK(rmdir("d"));
	free(cnt);
	return PT_PASS;
}

static int t_readdir_small_buf(void)
{
	unsigned char cnt[300] = { 0 };
	char name[32], tiny[16];
	long others;
	int n = pt_scaled(300), fd, i;

	OK(mkdir("d", 0755));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d/x%d", i);
		TRY(pt_mkfile(name, NULL, 0));
	}
	fd = OK(open("d", O_RDONLY | O_DIRECTORY));
	ERR(pt_getdents(fd, tiny, sizeof(tiny)), EINVAL);
	TRY(count_entries(fd, 64, "x", cnt, n, &others));
	EQ(others, 2);
	for (i = 0; i < n; i++)
		CHECKM(cnt[i] == 1, "entry x%d listed %d times", i, cnt[i]);
	OK(lseek(fd, 0, SEEK_SET));
	memset(cnt, 0, sizeof(cnt));
	TRY(count_entries(fd, 4096, "x", cnt, n, &others));
	for (i = 0; i < n; i++)
		CHECKM(cnt[i] == 1, "after lseek 0: x%d listed %d times", i,
		       cnt[i]);
	OK(close(fd));
	return PT_PASS;
}

/*
 * Modify a directory while reading it with small getdents buffers: no entry
 * may show up twice, and entries untouched throughout must show up once.
 */
static int t_readdir_modify(void)
{
	int n = pt_scaled(2000), added = 0, i, fd;
	unsigned char cnt[2000] = { 0 }, bcnt[2000] = { 0 };
	char buf[512], name[32];
	struct dent64 *d;
	long r, off, idx;

	OK(mkdir("d", 0755));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d/a%d", i);
		TRY(pt_mkfile(name, NULL, 0));
	}
	fd = OK(open("d", O_RDONLY | O_DIRECTORY));
	while ((r = OK(pt_getdents(fd, buf, sizeof(buf)))) > 0) {
		for (off = 0; off < r; off += d->d_reclen) {
			d = (struct dent64 *)(buf + off);
			idx = atol(d->d_name + 1);
			if (d->d_name[0] == 'a')
				CHECKM(!cnt[idx]++, "a%ld listed twice", idx);
			else if (d->d_name[0] == 'b')
				CHECKM(!bcnt[idx]++, "b%ld listed twice", idx);
		}
		if (added >= n)
			continue;
		/* Add b-entries; remove every 7th a-entry, seen or not. */
		for (i = 0; i < 50 && added < n; i++, added++) {
			snprintf(name, sizeof(name), "d/b%d", added);
			TRY(pt_mkfile(name, NULL, 0));
			if (added * 7 >= n)
				continue;
			snprintf(name, sizeof(name), "d/a%d", added * 7);
			OK(unlink(name));
		}
	}
	for (i = 0; i < n; i++)
		CHECKM(i % 7 == 0 || cnt[i] == 1,
		       "untouched entry a%d listed %d times", i, cnt[i]);
	OK(close(fd));
	return PT_PASS;
}

/* Unlink each entry as it is returned (rm -rf); one pass must empty it. */
static int t_readdir_unlink_all(void)
{
	int n = pt_scaled(1000), i, fd, dfd;
	char buf[1024], name[32];
	struct dent64 *d;
	long r, off;

	OK(mkdir("d", 0755));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d/file-%d", i);
		TRY(pt_mkfile(name, NULL, 0));
	}
	dfd = OK(open("d", O_RDONLY | O_DIRECTORY));
	fd = OK(open("d", O_RDONLY | O_DIRECTORY));
	while ((r = OK(pt_getdents(fd, buf, sizeof(buf)))) > 0) {
		for (off = 0; off < r; off += d->d_reclen) {
			d = (struct dent64 *)(buf + off);
			if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
				OK(unlinkat(dfd, d->d_name, 0));
		}
	}
	OK(rmdir("d"));
	OK(close(fd));
	OK(close(dfd));
	return PT_PASS;
}

static int t_readdir_seekdir(void)
{
	int n = pt_scaled(500), i, k, j;
	char name[32], *names[502];
	long pos[502];
	struct dirent *de;
	DIR *d;

	OK(mkdir("d", 0755));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d/s%d", i);
		TRY(pt_mkfile(name, NULL, 0));
	}
	d = OKP(opendir("d"), NULL);
	for (i = 0; i < n + 2; i++) {
		pos[i] = telldir(d);
		de = OKP(readdir(d), NULL);
		names[i] = strdup(de->d_name);
	}
	CHECK(readdir(d) == NULL);
	for (k = n + 1; k >= 0; k -= 37) {
		seekdir(d, pos[k]);
		for (j = k; j < n + 2 && j < k + 40; j++) {
			de = readdir(d);
			CHECKM(de && !strcmp(de->d_name, names[j]),
			       "after seekdir to entry %d: got '%s', want "
			       "'%s'", k, de ? de->d_name : "(end)", names[j]);
		}
	}
	closedir(d);
	for (i = 0; i < n + 2; i++)
		free(names[i]);
	return PT_PASS;
}

static int t_readdir_rewind(void)
{
	struct dirent *de;
	int seen_new = 0, seen_old = 0, cnt = 0;
	DIR *d;

	OK(mkdir("d", 0755));
	TRY(pt_mkfile("d/old", NULL, 0));
	d = OKP(opendir("d"), NULL);
	while (readdir(d))
		cnt++;
	EQ(cnt, 3);
	TRY(pt_mkfile("d/new", NULL, 0));
	OK(unlink("d/old"));
	rewinddir(d);
	cnt = 0;
	while ((de = readdir(d))) {
		cnt++;
		seen_new += !strcmp(de->d_name, "new");
		seen_old += !strcmp(de->d_name, "old");
	}
	closedir(d);
	EQ(cnt, 3);
	EQ(seen_new, 1);
	EQ(seen_old, 0);
	return PT_PASS;
}

static int t_readdir_notdir(void)
{
	char buf[4096];
	int fd;

	TRY(pt_mkfile("f", NULL, 0));
	fd = OK(open("f", O_RDONLY));
	ERR(pt_getdents(fd, buf, sizeof(buf)), ENOTDIR);
	OK(close(fd));
	ERR(pt_getdents(-1, buf, sizeof(buf)), EBADF);
	return PT_PASS;
}

const struct pt_test pt_readdir_tests[] = {
	{ "readdir_empty", t_readdir_empty, 0 },
	{ "readdir_1000", t_readdir_1000, 0 },
	{ "readdir_dtype_dev", t_readdir_dtype_dev, PT_ROOT },
	{ "readdir_small_buf", t_readdir_small_buf, 0 },
	{ "readdir_modify", t_readdir_modify, 0 },
	{ "readdir_unlink_all", t_readdir_unlink_all, 0 },
	{ "readdir_seekdir", t_readdir_seekdir, 0 },
	{ "readdir_rewind", t_readdir_rewind, 0 },
	{ "readdir_notdir", t_readdir_notdir, 0 },
	{ "readdir_big", t_readdir_big, PT_BIG },
	{ NULL, NULL, 0 },
};
