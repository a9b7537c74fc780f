// SPDX-License-Identifier: BSD-3-Clause
/*
 * Extended attributes in the user.* (and, as root, trusted.*) namespace.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "pt.h"

/* Count occurrences of name in a listxattr buffer. */
static int list_count(const char *list, ssize_t len, const char *name)
{
	ssize_t off;
	int c = 0;

	for (off = 0; off < len; off += strlen(list + off) + 1)
		c += !strcmp(list + off, name);
	return c;
}

static int t_xattr_basic(void)
{
	char buf[256];
	ssize_t n;

	TRY(pt_mkfile("f", NULL, 0));
	OK(setxattr("f", "user.color", "blue", 4, 0));
	OK(setxattr("f", "user.shape", "round", 5, 0));
	EQ(getxattr("f", "user.color", buf, sizeof(buf)), 4);
	MEMEQ(buf, "blue", 4);
	n = OK(listxattr("f", buf, sizeof(buf)));
	EQ(list_count(buf, n, "user.color"), 1);
	EQ(list_count(buf, n, "user.shape"), 1);
	OK(setxattr("f", "user.color", "green!", 6, 0));
	EQ(getxattr("f", "user.color", buf, sizeof(buf)), 6);
	MEMEQ(buf, "green!", 6);
	OK(removexattr("f", "user.color"));
	ERR(getxattr("f", "user.color", buf, sizeof(buf)), ENODATA);
	n = OK(listxattr("f", buf, sizeof(buf)));
	EQ(list_count(buf, n, "user.color"), 0);
	EQ(list_count(buf, n, "user.shape"), 1);
	return PT_PASS;
}

static int t_xattr_flags(void)
{
	char buf[16];

	TRY(pt_mkfile("f", NULL, 0));
	ERR(setxattr("f", "user.a", "1", 1, XATTR_REPLACE), ENODATA);
	OK(setxattr("f", "user.a", "1", 1, XATTR_CREATE));
	ERR(setxattr("f", "user.a", "2", 1, XATTR_CREATE), EEXIST);
	OK(setxattr("f", "user.a", "3", 1, XATTR_REPLACE));
	EQ(getxattr("f", "user.a", buf, sizeof(buf)), 1);
	EQ(buf[0], '3');
	ERR(setxattr("f", "user.a", "4", 1, 0x80), EINVAL);
	return PT_PASS;
}

static int t_xattr_missing(void)
{
	char buf[16];

	TRY(pt_mkfile("f", NULL, 0));
	ERR(getxattr("f", "user.none", buf, sizeof(buf)), ENODATA);
	ERR(getxattr("f", "user.none", NULL, 0), ENODATA);
	ERR(removexattr("f", "user.none"), ENODATA);
	ERR(getxattr("missing", "user.none", buf, sizeof(buf)), ENOENT);
	return PT_PASS;
}

static int t_xattr_erange(void)
{
	char buf[64];
	ssize_t n;

	TRY(pt_mkfile("f", NULL, 0));
	OK(setxattr("f", "user.long", "0123456789", 10, 0));
	EQ(getxattr("f", "user.long", NULL, 0), 10);
	ERR(getxattr("f", "user.long", buf, 9), ERANGE);
	EQ(getxattr("f", "user.long", buf, 10), 10);
	n = OK(listxattr("f", NULL, 0));
	REL(n, >=, 10);
	ERR(listxattr("f", buf, 3), ERANGE);
	EQ(listxattr("f", buf, n), n);
	return PT_PASS;
}

static int t_xattr_empty_value(void)
{
	char buf[16];
	ssize_t n;

	TRY(pt_mkfile("f", NULL, 0));
	OK(setxattr("f", "user.empty", "", 0, 0));
	EQ(getxattr("f", "user.empty", buf, sizeof(buf)), 0);
	EQ(getxattr("f", "user.empty", NULL, 0), 0);
	n = OK(listxattr("f", buf, sizeof(buf)));
	EQ(list_count(buf, n, "user.empty"), 1);
	OK(setxattr("f", "user.empty", "x", 1, XATTR_REPLACE));
	OK(setxattr("f", "user.empty", "", 0, XATTR_REPLACE));
	EQ(getxattr("f", "user.empty", buf, sizeof(buf)), 0);
	return PT_PASS;
}

static int t_xattr_many(void)
{
	int n = 64, i;
	char name[32], val[16], buf[4096];
	ssize_t len;

	TRY(pt_mkfile("f", NULL, 0));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "user.x%02d", i);
		snprintf(val, sizeof(val), "val%04d", i);
		OK(setxattr("f", name, val, 7, XATTR_CREATE));
	}
	len = OK(listxattr("f", buf, sizeof(buf)));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "user.x%02d", i);
		CHECKM(list_count(buf, len, name) == 1, "%s not listed once",
		       name);
		snprintf(val, sizeof(val), "val%04d", i);
		EQ(getxattr("f", name, buf + 2048, 64), 7);
		MEMEQ(buf + 2048, val, 7);
		len = OK(listxattr("f", buf, 2048));
	}
	for (i = 0; i < n; i += 2) {
		snprintf(name, sizeof(name), "user.x%02d", i);
		OK(removexattr("f", name));
	}
	len = OK(listxattr("f", buf, sizeof(buf)));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "user.x%02d", i);
		EQ(list_count(buf, len, name), i & 1);
	}
	return PT_PASS;
}

static int t_xattr_large_value(void)
{
	size_t len = 2000;
	char *v = pt_alloc(len), *r = pt_alloc(len);

	TRY(pt_mkfile("f", NULL, 0));
	pt_pattern(v, len, 0, 11);
	OK(setxattr("f", "user.big", v, len, 0));
	EQ(getxattr("f", "user.big", r, len), len);
	MEMEQ(r, v, len);
	free(v);
	v = pt_alloc(65537);
	ERR(setxattr("f", "user.huge", v, 65537, 0), E2BIG);
	free(v);
	free(r);
	return PT_PASS;
}

static int t_xattr_names(void)
{
	char name[300];

	TRY(pt_mkfile("f", NULL, 0));
	ERR(setxattr("f", "nosuchns.attr", "x", 1, 0), EOPNOTSUPP);
	memcpy(name, "user.", 5);
	memset(name + 5, 'n', 251);
	name[256] = '\0';
	ERR(setxattr("f", name, "x", 1, 0), ERANGE);
	name[255] = '\0';
	OK(setxattr("f", name, "x", 1, 0));
	EQ(getxattr("f", name, name + 280, 1), 1);
	ERR(setxattr("f", "", "x", 1, 0), ERANGE);
	return PT_PASS;
}

static int t_xattr_types(void)
{
	char buf[16];
	int fd;

	OK(mkdir("d", 0755));
	OK(setxattr("d", "user.dir", "d", 1, 0));
	EQ(getxattr("d", "user.dir", buf, sizeof(buf)), 1);
	OK(symlink("d", "l"));
	ERR(lsetxattr("l", "user.link", "l", 1, 0), EPERM);
	EQ(getxattr("l", "user.dir", buf, sizeof(buf)), 1);
	ERR(lgetxattr("l", "user.dir", buf, sizeof(buf)), ENODATA);
	TRY(pt_mkfile("f", NULL, 0));
	fd = OK(open("f", O_RDONLY));
	OK(fsetxattr(fd, "user.fd", "123", 3, 0));
	EQ(fgetxattr(fd, "user.fd", buf, sizeof(buf)), 3);
	OK(fremovexattr(fd, "user.fd"));
	ERR(fgetxattr(fd, "user.fd", buf, sizeof(buf)), ENODATA);
	OK(close(fd));
	return PT_PASS;
}

static int t_xattr_link_rename(void)
{
	char buf[16];

	TRY(pt_mkfile("f", NULL, 0));
	OK(setxattr("f", "user.k", "v", 1, 0));
	OK(link("f", "g"));
	OK(rename("f", "h"));
	EQ(getxattr("g", "user.k", buf, sizeof(buf)), 1);
	EQ(getxattr("h", "user.k", buf, sizeof(buf)), 1);
	OK(setxattr("g", "user.k2", "w", 1, 0));
	EQ(getxattr("h", "user.k2", buf, sizeof(buf)), 1);
	return PT_PASS;
}

static int t_xattr_ctime(void)
{
	struct stat a, b;

	TRY(pt_mkfile("f", NULL, 0));
	OK(stat("f", &a));
	pt_tick();
	OK(setxattr("f", "user.t", "1", 1, 0));
	OK(stat("f", &b));
	CHECKM(pt_tscmp(&b.st_ctim, &a.st_ctim) > 0,
	       "setxattr did not advance ctime");
	pt_tick();
	OK(removexattr("f", "user.t"));
	OK(stat("f", &a));
	CHECKM(pt_tscmp(&a.st_ctim, &b.st_ctim) > 0,
	       "removexattr did not advance ctime");
	return PT_PASS;
}

static int t_xattr_perm(void)
{
	char buf[16];

	TRY(pt_mkfile("ro", NULL, 0));
	OK(chmod("ro", 0644));
	OK(setxattr("ro", "user.a", "1", 1, 0));
	TRY(pt_mkfile("none", NULL, 0));
	OK(chmod("none", 0600));
	OK(setxattr("none", "user.a", "1", 1, 0));
	BECOME_USER();
	ERR(setxattr("ro", "user.b", "1", 1, 0), EACCES);
	ERR(removexattr("ro", "user.a"), EACCES);
	EQ(getxattr("ro", "user.a", buf, sizeof(buf)), 1);
	ERR(getxattr("none", "user.a", buf, sizeof(buf)), EACCES);
	return PT_PASS;
}

static int t_xattr_trusted(void)
{
	char buf[256];
	ssize_t n;

	TRY(pt_mkfile("f", NULL, 0));
	OK(chmod("f", 0666));
	if (setxattr("f", "trusted.t", "secret", 6, 0) &&
	    errno == EOPNOTSUPP)
		UNSUPPORTED("trusted.* xattrs", EOPNOTSUPP);
	EQ(getxattr("f", "trusted.t", buf, sizeof(buf)), 6);
	n = OK(listxattr("f", buf, sizeof(buf)));
	EQ(list_count(buf, n, "trusted.t"), 1);
	BECOME_USER();
	n = OK(listxattr("f", buf, sizeof(buf)));
	EQ(list_count(buf, n, "trusted.t"), 0);
	ERR(getxattr("f", "trusted.t", buf, sizeof(buf)), ENODATA);
	ERR(setxattr("f", "trusted.u", "x", 1, 0), EPERM);
	return PT_PASS;
}

const struct pt_test pt_xattr_tests[] = {
	{ "xattr_basic", t_xattr_basic, PT_XATTR },
	{ "xattr_flags", t_xattr_flags, PT_XATTR },
	{ "xattr_missing", t_xattr_missing, PT_XATTR },
	{ "xattr_erange", t_xattr_erange, PT_XATTR },
	{ "xattr_empty_value", t_xattr_empty_value, PT_XATTR },
	{ "xattr_many", t_xattr_many, PT_XATTR },
	{ "xattr_large_value", t_xattr_large_value, PT_XATTR },
	{ "xattr_names", t_xattr_names, PT_XATTR },
	{ "xattr_types", t_xattr_types, PT_XATTR },
	{ "xattr_link_rename", t_xattr_link_rename, PT_XATTR },
	{ "xattr_ctime", t_xattr_ctime, PT_XATTR },
	{ "xattr_perm", t_xattr_perm, PT_XATTR | PT_ROOT },
	{ "xattr_trusted", t_xattr_trusted, PT_XATTR | PT_ROOT },
	{ NULL, NULL, 0 },
};
