/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcheck.h - the reporting of the small VM test programs: one line per
 * check ("ok   ..." or "FAIL ..."), a failure count, die() on setup errors.
 */
#ifndef ZCHECK_H
#define ZCHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int failures;

static void check(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

/* A setup step failed: not a finding about the filesystem, exit 2 */
static void die(const char *what)
{
	perror(what);
	exit(2);
}

#endif
