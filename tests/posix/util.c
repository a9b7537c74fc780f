// SPDX-License-Identifier: BSD-3-Clause
/*
 * Helpers shared by the posix-test groups.
 */
#include <dirent.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "pt.h"

#define E(x) [x] = #x
static const char *const errnames[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
	E(EFAULT), E(ENOTBLK), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV),
	E(ENOTDIR), E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY),
	E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE), E(EROFS), E(EMLINK),
	E(EPIPE), E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG), E(ENOLCK),
	E(ENOSYS), E(ENOTEMPTY), E(ELOOP), E(ENOMSG), E(EIDRM), E(ENODATA),
	E(ENOTSOCK), E(EOPNOTSUPP), E(EOVERFLOW), E(EBADFD), E(ENOTCONN),
	E(ESTALE), E(EDQUOT), E(ECANCELED),
	E(ENOKEY), E(EUCLEAN), E(EADDRINUSE), E(ECONNREFUSED), E(ETIMEDOUT),
};
#undef E

const char *pt_errname(int err)
{
	static char buf[32];

	if (err >= 0 && (size_t)err < ARRAY_SIZE(errnames) && errnames[err])
		return errnames[err];
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

long pt_memdiff(const void *a, const void *b, size_t len)
{
	const unsigned char *p = a, *q = b;
	size_t i;

	if (!memcmp(a, b, len))
		return -1;
	for (i = 0; i < len; i++)
		if (p[i] != q[i])
			return (long)i;
	return -1;
}

long pt_zerodiff(const void *a, size_t len)
{
	const unsigned char *p = a;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return (long)i;
	return -1;
}

/* A byte pattern that depends on the file offset, never all-zero. */
static unsigned char pattern_byte(uint64_t off, unsigned int seed)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ull + seed * 0x2545f491ull;

	x ^= x >> 29;
	return (unsigned char)((x >> ((off & 7) * 8)) | 1);
}

void pt_pattern(void *buf, size_t len, uint64_t off, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern_byte(off + i, seed);
}

void *pt_alloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p) {
		perror("posix-test: malloc");
		exit(2);
	}
	return p;
}

ssize_t pt_pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done, off + done);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

ssize_t pt_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, (const char *)buf + done, len - done, off + done);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		done += n;
	}
	return done;
}

#define PCHUNK (1024 * 1024)

/* Write len bytes of pattern(seed) at off, in chunks. Returns 0 or -errno. */
int pt_write_pattern(int fd, off_t off, size_t len, unsigned int seed)
{
	char *buf = pt_alloc(PCHUNK);
	size_t n;
	ssize_t r = 0;

	while (len) {
		n = len < PCHUNK ? len : PCHUNK;
		pt_pattern(buf, n, off, seed);
		r = pt_pwrite_full(fd, buf, n, off);
		if (r < 0)
			break;
		off += n;
		len -= n;
	}
	free(buf);
	return r < 0 ? (int)r : 0;
}

/*
 * Check len bytes at off against pattern(seed).  Returns -1 if they all
 * match, else the absolute offset of the first difference (a short read
 * counts as a difference at its end).
 */
long pt_check_pattern(int fd, off_t off, size_t len, unsigned int seed)
{
	char *buf = pt_alloc(PCHUNK), *want = pt_alloc(PCHUNK);
	long bad = -1, d;
	size_t n;
	ssize_t r;

	while (len && bad < 0) {
		n = len < PCHUNK ? len : PCHUNK;
		r = pt_pread_full(fd, buf, n, off);
		pt_pattern(want, n, off, seed);
		if (r < (ssize_t)n) {
			d = r < 0 ? 0 : pt_memdiff(buf, want, r);
			bad = off + (d >= 0 ? d : (r < 0 ? 0 : r));
			break;
		}
		d = pt_memdiff(buf, want, n);
		if (d >= 0)
			bad = off + d;
		off += n;
		len -= n;
	}
	free(buf);
	free(want);
	return bad;
}

int pt_mkfile(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t r = 0;

	if (fd < 0)
		return -errno;
	if (len)
		r = pt_pwrite_full(fd, data, len, 0);
	if (close(fd) < 0 && r >= 0)
		r = -errno;
	return r < 0 ? (int)r : 0;
}

int pt_mkfile_pattern(const char *path, size_t len, unsigned int seed)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int r;

	if (fd < 0)
		return -errno;
	r = pt_write_pattern(fd, 0, len, seed);
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

ssize_t pt_readfile(const char *path, void *buf, size_t max)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = pt_pread_full(fd, buf, max, 0);
	close(fd);
	return r;
}

int pt_stat(const char *path, struct stat *st)
{
	return stat(path, st) ? -errno : 0;
}

int pt_lstat(const char *path, struct stat *st)
{
	return lstat(path, st) ? -errno : 0;
}

long pt_nlink(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return -errno;
	return (long)st.st_nlink;
}

long long pt_size(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return -errno;
	return st.st_size;
}

/* 1 if path exists (without following), 0 if ENOENT, else -errno. */
int pt_exists(const char *path)
{
	struct stat st;

	if (!lstat(path, &st))
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

int pt_tscmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

/*
 * Sleep until the kernel's coarse clock is past the precise time of the
 * call, so that any timestamp taken afterwards (coarse or fine-grained) is
 * later than any taken before.
 */
void pt_tick(void)
{
	struct timespec t0, t, d = { 0, 1000000 };

	clock_gettime(CLOCK_REALTIME, &t0);
	do {
		nanosleep(&d, NULL);
		clock_gettime(CLOCK_REALTIME_COARSE, &t);
	} while (pt_tscmp(&t, &t0) <= 0);
}

/*
 * Become the unprivileged user (effective ids only, so pt_root() can come
 * back).  Returns -EACCES if that user cannot even stat the scratch dir,
 * e.g. on a FUSE mount without allow_other.
 */
int pt_user(void)
{
	struct stat st;

	if (geteuid() == 0 && setgroups(0, NULL))
		return -errno;
	if (setegid(pt_cfg.gid) || seteuid(pt_cfg.uid))
		return -errno;
	if (stat(".", &st))
		return -EACCES;
	return 0;
}

int pt_root(void)
{
	if (seteuid(0) || setegid(0))
		return -errno;
	return 0;
}

static sigjmp_buf touch_jmp;

static void touch_handler(int sig)
{
	siglongjmp(touch_jmp, sig);
}

/* Access *p; returns 0, or the signal (SIGBUS/SIGSEGV) it raised. */
int pt_touch(volatile char *p, int write)
{
	struct sigaction sa, obus, osegv;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = touch_handler;
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	sig = sigsetjmp(touch_jmp, 1);
	if (!sig) {
		if (write)
			*p = 'w';
		else
			(void)*p;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return sig;
}

int pt_renameat2(int odfd, const char *old, int ndfd, const char *new,
		 unsigned int flags)
{
	return (int)syscall(SYS_renameat2, odfd, old, ndfd, new, flags);
}

long pt_getdents(int fd, void *buf, size_t len)
{
	return syscall(SYS_getdents64, fd, buf, len);
}

static int rm_children(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int err = 0, e;

	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		e = pt_rmtree_at(dirfd(d), de->d_name);
		if (e && !err)
			err = e;
	}
	closedir(d);
	return err;
}

/* rm -rf dfd/name; returns 0 or the first -errno met. */
int pt_rmtree_at(int dfd, const char *name)
{
	struct stat st;
	int fd, err;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) ? -errno : 0;
	fchmodat(dfd, name, 0700, 0);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	err = rm_children(fd);
	if (unlinkat(dfd, name, AT_REMOVEDIR) && !err)
		err = -errno;
	return err;
}

long long pt_free_bytes(const char *path)
{
	struct statvfs sv;

	if (statvfs(path, &sv))
		return -errno;
	return (long long)sv.f_bfree * sv.f_frsize;
}

/* Wait (up to ~5 s, syncing) for free space to reach want; returns it. */
long long pt_wait_free(long long want)
{
	int i, fd = open(".", O_RDONLY | O_DIRECTORY);
	long long f = 0;

	for (i = 0; i < 100; i++) {
		if (fd >= 0)
			syncfs(fd);
		f = pt_free_bytes(".");
		if (f >= want)
			break;
		usleep(50000);
	}
	if (fd >= 0)
		close(fd);
	return f;
}

int pt_listdir(const char *path, struct pt_dent **ents, int *n)
{
	DIR *d = opendir(path);
	struct pt_dent *v = NULL;
	struct dirent *de;
	int cnt = 0, cap = 0;

	if (!d)
		return -errno;
	errno = 0;
	while ((de = readdir(d))) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				exit(2);
		}
		v[cnt].name = strdup(de->d_name);
		v[cnt].type = de->d_type;
		v[cnt].ino = de->d_ino;
		cnt++;
	}
	if (errno) {
		int e = -errno;

		closedir(d);
		pt_freedents(v, cnt);
		return e;
	}
	closedir(d);
	*ents = v;
	*n = cnt;
	return 0;
}

void pt_freedents(struct pt_dent *ents, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(ents[i].name);
	free(ents);
}

/* Number of entries called name. */
int pt_find_dent(const struct pt_dent *ents, int n, const char *name)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		if (!strcmp(ents[i].name, name))
			c++;
	return c;
}
