/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * remap.h - FICLONERANGE and FIDEDUPERANGE of one range, for the test
 * programs (posix-test, zfsx): 0 or an errno, so that a probe and a real
 * call can be compared as values.
 */
#ifndef _TESTS_REMAP_H
#define _TESTS_REMAP_H

#include <errno.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>

static inline int remap_clone(int src, off_t soff, int dst, off_t doff,
			      off_t len)
{
	struct file_clone_range r = {
		.src_fd = src, .src_offset = soff, .src_length = len,
		.dest_offset = doff,
	};

	return ioctl(dst, FICLONERANGE, &r) ? errno : 0;
}

/* 0 (len bytes shared, or nothing to do), EBADE (the ranges differ),
 * ERANGE (fewer bytes deduped than asked) or errno */
static inline int remap_dedupe(int src, off_t soff, int dst, off_t doff,
			       off_t len)
{
	struct {
		struct file_dedupe_range r;
		struct file_dedupe_range_info info;
	} d;

	memset(&d, 0, sizeof(d));
	d.r.src_offset = soff;
	d.r.src_length = len;
	d.r.dest_count = 1;
	d.info.dest_fd = dst;
	d.info.dest_offset = doff;
	if (ioctl(src, FIDEDUPERANGE, &d))
		return errno;
	if (d.info.status == FILE_DEDUPE_RANGE_DIFFERS)
		return EBADE;
	if (d.info.status < 0)
		return -d.info.status;
	if (len && d.info.bytes_deduped != (__u64)len)
		return ERANGE;
	return 0;
}

#endif
