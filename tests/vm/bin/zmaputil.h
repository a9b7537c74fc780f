/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zmaputil.h - what the mmap test programs (zmmap, zhuge) share: a fresh
 * file, a mapping that must work, a byte-range check, a guarded SIGBUS.  Setup failures
 * die() (zcheck.h), they are not findings.
 */
#ifndef ZMAPUTIL_H
#define ZMAPUTIL_H

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "zcheck.h"

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

/*
 * The SIGBUS handler (install it with sigaction).  A SIGBUS outside
 * faults() (a lying server's answer, vm/54) ends the run, loudly:
 * jumping to faults()'s long-gone frame would crash at random.
 */
static void on_bus(int sig)
{
	static const char msg[] = "unexpected SIGBUS outside a checked access\n";

	(void)sig;
	if (!bus_armed) {
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(3);
		_exit(3);
	}
	siglongjmp(bus_jmp, 1);
}

/* 1 when reading *p raises SIGBUS */
static int faults(volatile char *p)
{
	volatile int bus = 1;

	if (!sigsetjmp(bus_jmp, 1)) {
		bus_armed = 1;
		(void)*p;
		bus = 0;
	}
	bus_armed = 0;
	return bus;
}

/* DIR/NAME, created empty (an old one is removed first), read-write */
static int open_new(const char *dir, const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	return fd;
}

/* a read-write mapping of fd's first len bytes, at addr if given */
static char *map_at(int fd, void *addr, size_t len, int flags)
{
	char *p = mmap(addr, len, PROT_READ | PROT_WRITE, flags, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* 1 when all len bytes at p are c */
static int all(const char *p, int c, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

#endif
