// SPDX-License-Identifier: BSD-3-Clause
/*
 * posix-test: a POSIX/Linux conformance suite for a mounted filesystem.
 *
 * Every test is a function returning PT_PASS, PT_FAIL or PT_SKIP.  Tests run
 * in a forked child whose cwd is a fresh, empty directory on the filesystem
 * under test; the runner removes it afterwards.  The check macros below
 * return PT_FAIL from the test function with a "file:line: message".
 */
#ifndef PT_H
#define PT_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum pt_result {
	PT_PASS = 0,
	PT_FAIL = 1,
	PT_SKIP = 2,
};

enum pt_flags {
	PT_ROOT = 1 << 0,	/* needs root (skipped otherwise) */
	PT_XATTR = 1 << 1,	/* needs user.* xattrs (group skip) */
	PT_SLOW = 1 << 2,	/* ENOSPC fill: only with -s */
	PT_BIG = 1 << 3,	/* large directory: only with -n N / BIG=N */
};

struct pt_test {
	const char *name;
	int (*fn)(void);
	unsigned int flags;
};

struct pt_group {
	const char *name;
	const struct pt_test *tests;
};

struct pt_config {
	int verbose;
	int strict;		/* unsupported optional features fail */
	int is_root;
	uid_t uid;		/* unprivileged uid/gid for permission tests */
	gid_t gid;
	long big;		/* entries for readdir_big (0: skip) */
	long scale;		/* percent of the big loops' counts (-S) */
	const char *dir2;	/* scratch dir on another mount (EXDEV) */
	const char *topdir;	/* absolute path of our scratch root */
};

extern struct pt_config pt_cfg;

/* n scaled by -S PCT (default 100: n), never below PT_SCALE_MIN nor above n */
#define PT_SCALE_MIN	50
long pt_scaled(long n);

/* Result reporting (used through the macros below). */
int pt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int pt_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int pt_unsupported(const char *file, int line, const char *what, int err);
void pt_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *pt_errname(int err);

#define FAIL(...) return pt_fail(__FILE__, __LINE__, __VA_ARGS__)

/* An optional feature is missing: skip (or fail with -R). */
#define UNSUPPORTED(what, err) \
	return pt_unsupported(__FILE__, __LINE__, (what), (err))

/* Drop to the unprivileged uid/gid (effective ids) or skip. */
#define BECOME_USER()							\
	do {								\
		int _e = pt_user();					\
		if (_e == -EACCES)					\
			return pt_skip("uid %d cannot access the "	\
				       "scratch directory",		\
				       (int)pt_cfg.uid);		\
		if (_e)							\
			FAIL("cannot become uid %d (%s)",		\
			     (int)pt_cfg.uid, pt_errname(-_e));		\
	} while (0)

#define BECOME_ROOT() TRY(pt_root())

/* Fail unless cond holds. */
#define CHECK(cond)							\
	do {								\
		if (!(cond))						\
			FAIL("expected %s", #cond);			\
	} while (0)

/* Fail with a custom message unless cond holds. */
#define CHECKM(cond, ...)						\
	do {								\
		if (!(cond))						\
			FAIL(__VA_ARGS__);				\
	} while (0)

/* Evaluate expr, which must not return a negative value; yields it. */
#define OK(expr)							\
	({								\
		long _r;						\
		errno = 0;						\
		_r = (long)(expr);					\
		if (_r < 0)						\
			FAIL("%s: expected success, got %ld (%s)",	\
			     #expr, _r, pt_errname(errno));		\
		_r;							\
	})

/* Evaluate a pointer-returning expr that must not return NULL/MAP_FAILED. */
#define OKP(expr, bad)							\
	({								\
		void *_p;						\
		errno = 0;						\
		_p = (void *)(expr);					\
		if (_p == (void *)(bad))				\
			FAIL("%s: expected success, got failure (%s)",	\
			     #expr, pt_errname(errno));			\
		_p;							\
	})

/* expr must fail with -1 and errno == e. */
#define ERR(expr, e)							\
	do {								\
		long _r;						\
		errno = 0;						\
		_r = (long)(expr);					\
		if (_r != -1)						\
			FAIL("%s: expected %s, got success (%ld)",	\
			     #expr, #e, _r);				\
		if (errno != (e))					\
			FAIL("%s: expected %s, got %s",			\
			     #expr, #e, pt_errname(errno));		\
	} while (0)

/* expr must fail with errno e1 or e2. */
#define ERR2(expr, e1, e2)						\
	do {								\
		long _r;						\
		errno = 0;						\
		_r = (long)(expr);					\
		if (_r != -1)						\
			FAIL("%s: expected %s or %s, got success (%ld)", \
			     #expr, #e1, #e2, _r);			\
		if (errno != (e1) && errno != (e2))			\
			FAIL("%s: expected %s or %s, got %s",		\
			     #expr, #e1, #e2, pt_errname(errno));	\
	} while (0)

/* Integer equality. */
#define EQ(a, b)							\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		if (_a != _b)						\
			FAIL("expected %s == %s, got %lld, want %lld",	\
			     #a, #b, _a, _b);				\
	} while (0)

/* Integer relation (op is one of < <= > >= !=). */
#define REL(a, op, b)							\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		if (!(_a op _b))					\
			FAIL("expected %s %s %s, got %lld vs %lld",	\
			     #a, #op, #b, _a, _b);			\
	} while (0)

/* Octal mode equality. */
#define EQMODE(a, b)							\
	do {								\
		unsigned int _a = (a), _b = (b);			\
		if (_a != _b)						\
			FAIL("expected %s == %s, got 0%o, want 0%o",	\
			     #a, #b, _a, _b);				\
	} while (0)

/* Memory equality, reporting the first differing offset. */
#define MEMEQ(got, want, len)						\
	do {								\
		long _o = pt_memdiff((got), (want), (len));		\
		if (_o >= 0)						\
			FAIL("%s differs from %s at offset %ld: "	\
			     "0x%02x, want 0x%02x", #got, #want, _o,	\
			     ((const unsigned char *)(got))[_o],	\
			     ((const unsigned char *)(want))[_o]);	\
	} while (0)

/* Run a helper returning 0 or -errno; fail on error. */
#define TRY(expr)							\
	do {								\
		int _e = (expr);					\
		if (_e < 0)						\
			FAIL("%s: failed (%s)", #expr, pt_errname(-_e)); \
	} while (0)

/* Helpers in util.c: all return 0 / a value, or -errno. */
long pt_memdiff(const void *a, const void *b, size_t len);
long pt_zerodiff(const void *a, size_t len);
void pt_pattern(void *buf, size_t len, uint64_t off, unsigned int seed);
long pt_check_pattern(int fd, off_t off, size_t len, unsigned int seed);
int pt_write_pattern(int fd, off_t off, size_t len, unsigned int seed);
int pt_mkfile(const char *path, const void *data, size_t len);
int pt_mkfile_pattern(const char *path, size_t len, unsigned int seed);
ssize_t pt_readfile(const char *path, void *buf, size_t max);
ssize_t pt_pread_full(int fd, void *buf, size_t len, off_t off);
ssize_t pt_pwrite_full(int fd, const void *buf, size_t len, off_t off);
int pt_stat(const char *path, struct stat *st);
int pt_lstat(const char *path, struct stat *st);
long pt_nlink(const char *path);
long long pt_size(const char *path);
int pt_exists(const char *path);
void *pt_alloc(size_t len);
void pt_tick(void);
int pt_tscmp(const struct timespec *a, const struct timespec *b);
int pt_user(void);
int pt_root(void);
int pt_touch(volatile char *p, int write);
int pt_renameat2(int odfd, const char *old, int ndfd, const char *new,
		 unsigned int flags);
long pt_getdents(int fd, void *buf, size_t len);
int pt_rmtree_at(int dfd, const char *name);
long long pt_free_bytes(const char *path);
long long pt_wait_free(long long want);

/* Names of sets of entries in a directory. */
struct pt_dent {
	char *name;
	unsigned char type;
	ino_t ino;
};

int pt_listdir(const char *path, struct pt_dent **ents, int *n);
void pt_freedents(struct pt_dent *ents, int n);
int pt_find_dent(const struct pt_dent *ents, int n, const char *name);

/* Test tables, one per source file. */
extern const struct pt_test pt_namei_tests[];
extern const struct pt_test pt_at_tests[];
extern const struct pt_test pt_dir_tests[];
extern const struct pt_test pt_readdir_tests[];
extern const struct pt_test pt_attr_tests[];
extern const struct pt_test pt_time_tests[];
extern const struct pt_test pt_rw_tests[];
extern const struct pt_test pt_link_tests[];
extern const struct pt_test pt_symlink_tests[];
extern const struct pt_test pt_rename_tests[];
extern const struct pt_test pt_perm_tests[];
extern const struct pt_test pt_special_tests[];
extern const struct pt_test pt_xattr_tests[];
extern const struct pt_test pt_sync_tests[];
extern const struct pt_test pt_space_tests[];
extern const struct pt_test pt_falloc_tests[];
extern const struct pt_test pt_copy_tests[];
extern const struct pt_test pt_caps_tests[];
extern const struct pt_test pt_tmpfile_tests[];
extern const struct pt_test pt_mmap_tests[];
extern const struct pt_test pt_reflink_tests[];

#define MiB (1024L * 1024L)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* PT_H */
