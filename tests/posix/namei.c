// SPDX-License-Identifier: BSD-3-Clause
/*
 * Name lookup and open(2)/creat flags.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "pt.h"

static int t_open_creat(void)
{
	struct stat st, st2;
	int fd;

	fd = OK(open("f", O_WRONLY | O_CREAT, 0640));
	OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	EQMODE(st.st_mode & 07777, 0640);
	EQ(st.st_size, 0);
	EQ(st.st_nlink, 1);
	EQ(st.st_uid, geteuid());
	EQ(st.st_gid, getegid());
	OK(close(fd));
	OK(stat("f", &st2));
	EQ(st2.st_ino, st.st_ino);
	EQ(st2.st_dev, st.st_dev);
	return PT_PASS;
}

static int t_open_creat_existing(void)
{
	struct stat st;
	int fd;

	TRY(pt_mkfile("f", "hello", 5));
	OK(chmod("f", 0600));
	fd = OK(open("f", O_RDWR | O_CREAT, 0777));
	OK(fstat(fd, &st));
	EQMODE(st.st_mode & 07777, 0600);
	EQ(st.st_size, 5);
	OK(close(fd));
	fd = OK(open("g", O_RDONLY | O_CREAT, 0644));
	OK(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	OK(close(fd));
	return PT_PASS;
}

static int t_open_excl(void)
{
	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	OK(symlink("f", "l"));
	OK(symlink("nowhere", "dangling"));
	ERR(open("f", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	ERR(open("d", O_RDONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	ERR(open("l", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	ERR(open("dangling", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	EQ(pt_exists("nowhere"), 0);
	OK(close(OK(open("new", O_WRONLY | O_CREAT | O_EXCL, 0644))));
	EQ(pt_exists("new"), 1);
	return PT_PASS;
}

static int t_open_creat_dangling(void)
{
	struct stat st;

	OK(symlink("target", "link"));
	OK(close(OK(open("link", O_WRONLY | O_CREAT, 0644))));
	OK(lstat("target", &st));
	CHECK(S_ISREG(st.st_mode));
	OK(lstat("link", &st));
	CHECK(S_ISLNK(st.st_mode));
	return PT_PASS;
}

static int t_open_trunc(void)
{
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct stat st;
	int fd;

	TRY(pt_mkfile_pattern("f", 10000, 1));
	OK(utimensat(AT_FDCWD, "f", old, 0));
	fd = OK(open("f", O_WRONLY | O_TRUNC));
	OK(fstat(fd, &st));
	EQ(st.st_size, 0);
	CHECK(st.st_mtim.tv_sec != 1000000000);
	OK(close(fd));
	TRY(pt_mkfile_pattern("f", 5000, 1));
	fd = OK(open("f", O_RDWR | O_TRUNC));
	TRY(pt_write_pattern(fd, 0, 100, 2));
	OK(close(fd));
	EQ(pt_size("f"), 100);
	fd = OK(open("f", O_RDONLY));
	EQ(pt_check_pattern(fd, 0, 100, 2), -1);
	OK(close(fd));
	return PT_PASS;
}

static int t_open_append(void)
{
	char buf[32];
	int fd, fd2;

	TRY(pt_mkfile("f", "abc", 3));
	fd = OK(open("f", O_WRONLY | O_APPEND));
	OK(lseek(fd, 0, SEEK_SET));
	EQ(write(fd, "def", 3), 3);
	EQ(lseek(fd, 0, SEEK_CUR), 6);
	fd2 = OK(open("f", O_WRONLY));
	EQ(pwrite(fd2, "XYZ", 3, 6), 3);
	EQ(write(fd, "ghi", 3), 3);
	EQ(lseek(fd, 0, SEEK_CUR), 12);
	OK(close(fd));
	OK(close(fd2));
	EQ(pt_readfile("f", buf, sizeof(buf)), 12);
	MEMEQ(buf, "abcdefXYZghi", 12);
	return PT_PASS;
}

static int t_open_directory(void)
{
	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	OK(symlink("f", "lf"));
	OK(symlink("d", "ld"));
	ERR(open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
	ERR(open("lf", O_RDONLY | O_DIRECTORY), ENOTDIR);
	OK(close(OK(open("d", O_RDONLY | O_DIRECTORY))));
	OK(close(OK(open("ld", O_RDONLY | O_DIRECTORY))));
	ERR(open("missing", O_RDONLY | O_DIRECTORY), ENOENT);
	return PT_PASS;
}

static int t_open_dir_write(void)
{
	OK(mkdir("d", 0755));
	ERR(open("d", O_WRONLY), EISDIR);
	ERR(open("d", O_RDWR), EISDIR);
	ERR(open("d", O_RDONLY | O_CREAT, 0644), EISDIR);
	ERR(open("d", O_RDONLY | O_TRUNC), EISDIR);
	ERR(open(".", O_WRONLY), EISDIR);
	OK(close(OK(open("d", O_RDONLY))));
	return PT_PASS;
}

static int t_open_nofollow(void)
{
	struct stat st;
	int fd;

	TRY(pt_mkfile("f", "x", 1));
	OK(mkdir("d", 0755));
	TRY(pt_mkfile("d/g", "y", 1));
	OK(symlink("f", "l"));
	OK(symlink("d", "ld"));
	ERR(open("l", O_RDONLY | O_NOFOLLOW), ELOOP);
	ERR(open("l", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644), ELOOP);
	/* Only the last component is affected. */
	OK(close(OK(open("ld/g", O_RDONLY | O_NOFOLLOW))));
	fd = OK(open("l", O_PATH | O_NOFOLLOW));
	OK(fstat(fd, &st));
	CHECK(S_ISLNK(st.st_mode));
	OK(close(fd));
	return PT_PASS;
}

static int t_open_enoent(void)
{
	struct stat st;

	ERR(open("nope", O_RDONLY), ENOENT);
	ERR(open("nodir/f", O_WRONLY | O_CREAT, 0644), ENOENT);
	ERR(stat("nope", &st), ENOENT);
	ERR(lstat("nodir/nope", &st), ENOENT);
	ERR(open("", O_RDONLY), ENOENT);
	ERR(stat("", &st), ENOENT);
	return PT_PASS;
}

static int t_open_enotdir(void)
{
	struct stat st;

	TRY(pt_mkfile("f", "x", 1));
	ERR(open("f/x", O_RDONLY), ENOTDIR);
	ERR(open("f/x", O_WRONLY | O_CREAT, 0644), ENOTDIR);
	ERR(open("f/", O_RDONLY), ENOTDIR);
	ERR(stat("f/", &st), ENOTDIR);
	ERR(stat("f/.", &st), ENOTDIR);
	ERR(stat("f/..", &st), ENOTDIR);
	ERR(mkdir("f/d", 0755), ENOTDIR);
	ERR(unlink("f/x"), ENOTDIR);
	return PT_PASS;
}

static int t_open_creat_slash(void)
{
	ERR(open("new/", O_WRONLY | O_CREAT, 0644), EISDIR);
	EQ(pt_exists("new"), 0);
	return PT_PASS;
}

static int t_name_too_long(void)
{
	char name[257], deep[300];
	struct stat st;

	memset(name, 'n', 256);
	name[256] = '\0';
	TRY(pt_mkfile("f", NULL, 0));
	OK(mkdir("d", 0755));
	snprintf(deep, sizeof(deep), "d/%s", name);
	ERR(open(name, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG);
	ERR(open(deep, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG);
	ERR(stat(name, &st), ENAMETOOLONG);
	ERR(mkdir(name, 0755), ENAMETOOLONG);
	ERR(mknod(name, S_IFIFO | 0644, 0), ENAMETOOLONG);
	ERR(symlink("f", name), ENAMETOOLONG);
	ERR(link("f", name), ENAMETOOLONG);
	ERR(rename("f", name), ENAMETOOLONG);
	ERR(unlink(name), ENAMETOOLONG);
	EQ(pt_exists("f"), 1);
	return PT_PASS;
}

static int t_path_too_long(void)
{
	size_t len = 4200, i;
	char *path = pt_alloc(len + 1);
	struct stat st;

	for (i = 0; i < len; i += 2)
		memcpy(path + i, "d/", 2);
	path[len - 1] = 'x';
	path[len] = '\0';
	ERR(stat(path, &st), ENAMETOOLONG);
	ERR(open(path, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG);
	free(path);
	return PT_PASS;
}

static int check_listed_once(const char *dir, const char *name)
{
	struct pt_dent *ents;
	int n, c;

	TRY(pt_listdir(dir, &ents, &n));
	c = pt_find_dent(ents, n, name);
	pt_freedents(ents, n);
	CHECKM(c == 1, "entry of %zu bytes listed %d times, want once",
	       strlen(name), c);
	return PT_PASS;
}

static int t_name_max(void)
{
	char name[256], name2[256], buf[16];
	struct stat st;

	memset(name, 'a', 255);
	name[255] = '\0';
	memset(name2, 'b', 255);
	name2[255] = '\0';
	TRY(pt_mkfile(name, "data", 4));
	OK(stat(name, &st));
	EQ(st.st_size, 4);
	if (check_listed_once(".", name))
		return PT_FAIL;
	OK(rename(name, name2));
	EQ(pt_readfile(name2, buf, sizeof(buf)), 4);
	MEMEQ(buf, "data", 4);
	OK(mkdir(name, 0755));
	name[254] = 'c';
	OK(symlink(name2, name));
	EQ(pt_readfile(name, buf, sizeof(buf)), 4);
	OK(unlink(name));
	OK(unlink(name2));
	name[254] = 'a';
	OK(rmdir(name));
	return PT_PASS;
}

static const char *const odd_names[] = {
	"with space", " lead", "trail ", "utf8-\xc3\xbc\xc3\xaf\xc3\xa7-"
	"\xe6\x97\xa5\xe6\x9c\xac", "new\nline", "tab\tname", "\x01\x02\x7f",
	"\xff\xfe-not-utf8", "-dash", "...", ".hidden", "a:b", "back\\slash",
	"*?[glob]", "%s%n", "quote\"'", "\xf0\x9f\x98\x80 emoji",
};

static int t_name_odd(void)
{
	char buf[64], to[64];
	size_t i, n = ARRAY_SIZE(odd_names);
	ssize_t len;

	for (i = 0; i < n; i++)
		TRY(pt_mkfile(odd_names[i], odd_names[i],
			      strlen(odd_names[i])));
	for (i = 0; i < n; i++) {
		if (check_listed_once(".", odd_names[i]))
			return PT_FAIL;
		len = OK(pt_readfile(odd_names[i], buf, sizeof(buf)));
		EQ(len, strlen(odd_names[i]));
		MEMEQ(buf, odd_names[i], len);
		snprintf(to, sizeof(to), "%s~", odd_names[i]);
		OK(rename(odd_names[i], to));
		OK(unlink(to));
	}
	OK(mkdir("dir with\nnewline", 0755));
	OK(rmdir("dir with\nnewline"));
	return PT_PASS;
}

static int t_name_case(void)
{
	char buf[4];

	TRY(pt_mkfile("foo", "1", 1));
	TRY(pt_mkfile("Foo", "2", 1));
	TRY(pt_mkfile("FOO", "3", 1));
	EQ(pt_readfile("foo", buf, 4), 1);
	EQ(buf[0], '1');
	EQ(pt_readfile("Foo", buf, 4), 1);
	EQ(buf[0], '2');
	EQ(pt_readfile("FOO", buf, 4), 1);
	EQ(buf[0], '3');
	ERR(stat("fOo", &(struct stat){ 0 }), ENOENT);
	return PT_PASS;
}

static int t_dotdot(void)
{
	struct stat a, b, dot, st;

	OK(mkdir("a", 0755));
	OK(mkdir("a/b", 0755));
	OK(stat("a", &a));
	OK(stat("a/b", &b));
	OK(stat(".", &dot));
	OK(stat("a/b/..", &st));
	EQ(st.st_ino, a.st_ino);
	OK(stat("a/..", &st));
	EQ(st.st_ino, dot.st_ino);
	OK(stat("a/./b/../b/.", &st));
	EQ(st.st_ino, b.st_ino);
	OK(stat("a//b///", &st));
	EQ(st.st_ino, b.st_ino);
	return PT_PASS;
}

static int t_name_reuse(void)
{
	struct stat st;
	char buf[8];

	TRY(pt_mkfile_pattern("x", 100000, 3));
	OK(unlink("x"));
	OK(close(OK(open("x", O_RDWR | O_CREAT | O_EXCL, 0644))));
	OK(stat("x", &st));
	EQ(st.st_size, 0);
	EQ(pt_readfile("x", buf, sizeof(buf)), 0);
	OK(unlink("x"));
	OK(mkdir("x", 0700));
	OK(rmdir("x"));
	TRY(pt_mkfile("x", "ab", 2));
	OK(stat("x", &st));
	CHECK(S_ISREG(st.st_mode));
	EQ(st.st_size, 2);
	return PT_PASS;
}

static int t_ino_unique(void)
{
	struct stat a, b, c, d;

	TRY(pt_mkfile("a", NULL, 0));
	TRY(pt_mkfile("b", NULL, 0));
	OK(mkdir("c", 0755));
	OK(symlink("a", "d"));
	OK(stat("a", &a));
	OK(stat("b", &b));
	OK(stat("c", &c));
	OK(lstat("d", &d));
	CHECK(a.st_ino != b.st_ino && a.st_ino != c.st_ino);
	CHECK(b.st_ino != c.st_ino && d.st_ino != a.st_ino);
	CHECK(d.st_ino != b.st_ino && d.st_ino != c.st_ino);
	CHECK(a.st_dev == b.st_dev && a.st_dev == c.st_dev);
	return PT_PASS;
}

static int t_many_lookups(void)
{
	char name[32];
	struct stat st;
	int i, n = pt_scaled(2000);

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "file%05d", i);
		OK(close(OK(open(name, O_WRONLY | O_CREAT | O_EXCL, 0644))));
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "file%05d", i);
		OK(stat(name, &st));
		snprintf(name, sizeof(name), "file%05dx", i);
		ERR(stat(name, &st), ENOENT);
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "file%05d", i);
		OK(unlink(name));
	}
	OK(stat(".", &st));
	EQ(st.st_nlink, 2);
	return PT_PASS;
}

const struct pt_test pt_namei_tests[] = {
	{ "open_creat", t_open_creat, 0 },
	{ "open_creat_existing", t_open_creat_existing, 0 },
	{ "open_excl", t_open_excl, 0 },
	{ "open_creat_dangling", t_open_creat_dangling, 0 },
	{ "open_trunc", t_open_trunc, 0 },
	{ "open_append", t_open_append, 0 },
	{ "open_directory", t_open_directory, 0 },
	{ "open_dir_write", t_open_dir_write, 0 },
	{ "open_nofollow", t_open_nofollow, 0 },
	{ "open_enoent", t_open_enoent, 0 },
	{ "open_enotdir", t_open_enotdir, 0 },
	{ "open_creat_slash", t_open_creat_slash, 0 },
	{ "name_too_long", t_name_too_long, 0 },
	{ "path_too_long", t_path_too_long, 0 },
	{ "name_max", t_name_max, 0 },
	{ "name_odd", t_name_odd, 0 },
	{ "name_case", t_name_case, 0 },
	{ "dotdot", t_dotdot, 0 },
	{ "name_reuse", t_name_reuse, 0 },
	{ "ino_unique", t_ino_unique, 0 },
	{ "many_lookups", t_many_lookups, 0 },
	{ NULL, NULL, 0 },
};
