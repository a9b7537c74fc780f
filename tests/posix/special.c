// SPDX-License-Identifier: BSD-3-Clause
/*
 * Special files: FIFOs, sockets, device nodes made by mknod(2).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "pt.h"

static int t_mkfifo(void)
{
	struct stat st;
	char buf[8];
	int r, w;

	OK(mkfifo("p", 0640));
	OK(mknod("q", S_IFIFO | 0600, 0));
	OK(lstat("p", &st));
	CHECK(S_ISFIFO(st.st_mode));
	EQMODE(st.st_mode & 07777, 0640);
	EQ(st.st_size, 0);
	OK(lstat("q", &st));
	CHECK(S_ISFIFO(st.st_mode));
	r = OK(open("p", O_RDONLY | O_NONBLOCK));
	w = OK(open("p", O_WRONLY | O_NONBLOCK));
	EQ(write(w, "pipe", 4), 4);
	EQ(read(r, buf, sizeof(buf)), 4);
	MEMEQ(buf, "pipe", 4);
	OK(close(w));
	OK(close(r));
	EQ(pt_size("p"), 0);
	ERR(mkfifo("p", 0644), EEXIST);
	return PT_PASS;
}

static int t_mknod_socket(void)
{
	struct stat st;

	OK(mknod("s", S_IFSOCK | 0644, 0));
	OK(lstat("s", &st));
	CHECK(S_ISSOCK(st.st_mode));
	EQMODE(st.st_mode & 07777, 0644);
	ERR(open("s", O_RDONLY), ENXIO);
	OK(rename("s", "s2"));
	OK(unlink("s2"));
	return PT_PASS;
}

static int t_unix_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int s, c, a;

	strcpy(sa.sun_path, "sock");
	s = OK(socket(AF_UNIX, SOCK_STREAM, 0));
	OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	OK(listen(s, 1));
	OK(lstat("sock", &st));
	CHECK(S_ISSOCK(st.st_mode));
	c = OK(socket(AF_UNIX, SOCK_STREAM, 0));
	OK(connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	a = OK(accept(s, NULL, NULL));
	EQ(write(c, "hi", 2), 2);
	EQ(read(a, &st, sizeof(st)), 2);
	ERR(bind(c, (struct sockaddr *)&sa, sizeof(sa)), EADDRINUSE);
	OK(close(a));
	OK(close(c));
	OK(close(s));
	OK(unlink("sock"));
	return PT_PASS;
}

static int check_dev(const char *name, mode_t type, dev_t dev)
{
	struct stat st;

	OK(mknod(name, type | 0600, dev));
	OK(lstat(name, &st));
	CHECKM((st.st_mode & S_IFMT) == type, "%s: type 0%o, want 0%o", name,
	       st.st_mode & S_IFMT, type);
	EQMODE(st.st_mode & 07777, 0600);
	CHECKM(st.st_rdev == dev, "%s: rdev %u:%u, want %u:%u", name,
	       major(st.st_rdev), minor(st.st_rdev), major(dev), minor(dev));
	EQ(st.st_size, 0);
	return PT_PASS;
}

static int t_mknod_chr(void)
{
	if (check_dev("null", S_IFCHR, makedev(1, 3)) ||
	    check_dev("zero", S_IFCHR, makedev(1, 5)) ||
	    check_dev("big", S_IFCHR, makedev(4095, 1048575)) ||
	    check_dev("mid", S_IFCHR, makedev(300, 70000)))
		return PT_FAIL;
	OK(rename("big", "big2"));
	OK(link("big2", "big3"));
	OK(unlink("big2"));
	return check_dev("again", S_IFCHR, makedev(1, 7));
}

static int t_mknod_blk(void)
{
	if (check_dev("loop", S_IFBLK, makedev(7, 0)) ||
	    check_dev("nvme", S_IFBLK, makedev(259, 123456)) ||
	    check_dev("sda", S_IFBLK, makedev(8, 255)))
		return PT_FAIL;
	OK(unlink("loop"));
	return PT_PASS;
}

static int t_mknod_reg(void)
{
	struct stat st;

	OK(mknod("f", S_IFREG | 0640, 0));
	OK(lstat("f", &st));
	CHECK(S_ISREG(st.st_mode));
	EQMODE(st.st_mode & 07777, 0640);
	EQ(st.st_size, 0);
	OK(mknod("g", 0644, 0));
	OK(lstat("g", &st));
	CHECK(S_ISREG(st.st_mode));
	return PT_PASS;
}

static int t_mknod_errors(void)
{
	TRY(pt_mkfile("f", NULL, 0));
	ERR(mknod("d", S_IFDIR | 0755, 0), EPERM);
	ERR(mknod("x", S_IFMT | 0644, 0), EINVAL);
	ERR(mknod("f", S_IFIFO | 0644, 0), EEXIST);
	ERR(mknod("nodir/p", S_IFIFO | 0644, 0), ENOENT);
	ERR(mknod("f/p", S_IFIFO | 0644, 0), ENOTDIR);
	EQ(pt_exists("d"), 0);
	return PT_PASS;
}

static int t_special_chmod(void)
{
	struct stat st;

	OK(mkfifo("p", 0600));
	OK(chmod("p", 0644));
	OK(lstat("p", &st));
	CHECK(S_ISFIFO(st.st_mode));
	EQMODE(st.st_mode & 07777, 0644);
	OK(mknod("s", S_IFSOCK | 0600, 0));
	OK(chmod("s", 0777));
	OK(lstat("s", &st));
	CHECK(S_ISSOCK(st.st_mode));
	EQMODE(st.st_mode & 07777, 0777);
	return PT_PASS;
}

const struct pt_test pt_special_tests[] = {
	{ "mkfifo", t_mkfifo, 0 },
	{ "mknod_socket", t_mknod_socket, 0 },
	{ "unix_socket", t_unix_socket, 0 },
	{ "mknod_chr", t_mknod_chr, PT_ROOT },
	{ "mknod_blk", t_mknod_blk, PT_ROOT },
	{ "mknod_reg", t_mknod_reg, 0 },
	{ "mknod_errors", t_mknod_errors, 0 },
	{ "special_chmod", t_special_chmod, 0 },
	{ NULL, NULL, 0 },
};
