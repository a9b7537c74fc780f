// SPDX-License-Identifier: BSD-3-Clause
/*
 * caps.c - honest capability reporting: what a program probing for a
 * feature learns must be what a real call then does.
 *  - a zero-length FICLONERANGE / FIDEDUPERANGE (how fsx, cp --reflink
 *    and friends probe) succeeds exactly when a real one does;
 *  - a fallocate mode the filesystem lacks fails with EOPNOTSUPP and
 *    changes nothing (size, data, mtime), like any mode a filesystem
 *    refuses up front.
 * With -v each test names what the filesystem supports ("# caps_...:
 * clone yes"), so a run on a passthrough mount can be compared with a run
 * on its backing directory.
 */
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "pt.h"
#include "remap.h"

#define BLK	65536	/* a multiple of every block size around */

static int t_caps_clone(void)
{
	int src, dst, probe, real;

	src = OK(open("src", O_RDWR | O_CREAT, 0644));
	dst = OK(open("dst", O_RDWR | O_CREAT, 0644));
	/* both empty: a reflink filesystem has nothing to do */
	probe = remap_clone(src, 0, dst, 0, 0);
	TRY(pt_write_pattern(src, 0, 2 * BLK, 7));
	real = remap_clone(src, 0, dst, 0, BLK);
	CHECKM(probe == real, "zero-length FICLONERANGE: %s, real one: %s",
	       probe ? pt_errname(probe) : "ok",
	       real ? pt_errname(real) : "ok");
	if (!real)
		EQ(pt_check_pattern(dst, 0, BLK, 7), -1);
	else
		EQ(pt_size("dst"), 0);
	pt_info("clone %s", real ? pt_errname(real) : "yes");
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

static int t_caps_dedupe(void)
{
	int src, dst, probe, real;

	TRY(pt_mkfile_pattern("src", BLK, 3));
	TRY(pt_mkfile_pattern("dst", BLK, 3));
	src = OK(open("src", O_RDONLY));
	dst = OK(open("dst", O_RDWR));
	probe = remap_dedupe(src, 0, dst, 0, 0);
	real = remap_dedupe(src, 0, dst, 0, BLK);
	CHECKM(probe == real, "zero-length FIDEDUPERANGE: %s, real one: %s",
	       probe ? pt_errname(probe) : "ok",
	       real ? pt_errname(real) : "ok");
	EQ(pt_check_pattern(dst, 0, BLK, 3), -1);
	pt_info("dedupe %s", real ? pt_errname(real) : "yes");
	OK(close(src));
	OK(close(dst));
	return PT_PASS;
}

/*
 * Each mode on a file of 4 blocks of data whose mtime is in the past:
 * either it works, or it fails with EOPNOTSUPP before touching anything.
 */
static int t_caps_falloc(void)
{
	static const struct {
		int mode;
		const char *name;
		off_t off, len;		/* in BLK */
	} modes[] = {
		{ 0, "allocate", 3, 2 },
		{ FALLOC_FL_KEEP_SIZE, "keep_size", 5, 1 },
		{ FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, "punch_hole",
		  1, 1 },
		{ FALLOC_FL_ZERO_RANGE, "zero_range", 1, 1 },
		{ FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, "zero_range_keep",
		  3, 2 },
		{ FALLOC_FL_COLLAPSE_RANGE, "collapse_range", 1, 1 },
		{ FALLOC_FL_INSERT_RANGE, "insert_range", 1, 1 },
		{ FALLOC_FL_UNSHARE_RANGE, "unshare_range", 0, 1 },
		{ FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE,
		  "unshare_range_keep", 0, 1 },
	};
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char have[512] = "", lack[512] = "";
	struct stat st;
	size_t i;
	int fd, r;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		unlink("f");
		TRY(pt_mkfile_pattern("f", 4 * BLK, 9));
		fd = OK(open("f", O_RDWR));
		OK(futimens(fd, old));
		r = fallocate(fd, modes[i].mode, modes[i].off * BLK,
			      modes[i].len * BLK) ? errno : 0;
		if (r == 0) {
			strcat(have, " ");
			strcat(have, modes[i].name);
		} else {
			CHECKM(r == EOPNOTSUPP, "fallocate %s: %s",
			       modes[i].name, pt_errname(r));
			strcat(lack, " ");
			strcat(lack, modes[i].name);
			OK(fstat(fd, &st));
			CHECKM(st.st_mtim.tv_sec == old[1].tv_sec,
			       "fallocate %s failed with EOPNOTSUPP but "
			       "changed the mtime", modes[i].name);
			EQ(st.st_size, 4 * BLK);
			EQ(pt_check_pattern(fd, 0, 4 * BLK, 9), -1);
		}
		OK(close(fd));
	}
	pt_info("fallocate:%s; not:%s", have[0] ? have : " none",
		lack[0] ? lack : " none");
	return PT_PASS;
}

const struct pt_test pt_caps_tests[] = {
	{ "caps_clone", t_caps_clone, 0 },
	{ "caps_dedupe", t_caps_dedupe, 0 },
	{ "caps_falloc", t_caps_falloc, 0 },
	{ NULL, NULL, 0 },
};
