// SPDX-License-Identifier: BSD-3-Clause
/*
 * zinvname - a server that tells the kernel bad names to forget
 * (ZUFS_IOC_INVALIDATE_NAME): handshakes on zuf-root ROOT (no other
 * server may run), then checks that every bad request fails with the
 * documented errno and changes nothing.
 *
 *   zinvname ROOT
 *
 * Prints one line per request; exits 1 if any answer was not the
 * expected one.  The guest's kernel log must stay clean (the caller
 * checks).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "zufs_api.h"

static int bad;

static void expect(int fd, const char *what, uint64_t sb_id, const char *name,
		   unsigned int len, int want)
{
	struct zufs_ioc_invalidate_name in = {
		.sb_id = sb_id, .dir_ino = 1, .name_len = (uint16_t)len,
	};
	int got;

	memcpy(in.name, name, len < sizeof(in.name) ? len : sizeof(in.name));
	got = ioctl(fd, ZUFS_IOC_INVALIDATE_NAME, &in) ? errno : 0;
	printf("%-28s -> %s (want %s)\n", what, got ? strerror(got) : "ok",
	       want ? strerror(want) : "ok");
	if (got != want || in.err != -want)
		bad = 1;
}

int main(int argc, char **argv)
{
	struct zufs_ioc_handshake hs = {
		.major = ZUFS_MAJOR_VERSION, .minor = ZUFS_MINOR_VERSION,
	};
	char longname[ZUFS_NAME_MAX + 1];
	int fd;

	if (argc != 2 || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: zinvname ZUF_ROOT\n");
		return 2;
	}
	fd = open(argv[1], O_TMPFILE | O_RDWR, 0600);
	if (fd < 0 || ioctl(fd, ZUFS_IOC_HANDSHAKE, &hs)) {
		perror(argv[1]);
		return 1;
	}
	memset(longname, 'n', sizeof(longname));
	expect(fd, "empty name", 1, "", 0, EINVAL);
	expect(fd, "256-byte name", 1, longname, ZUFS_NAME_MAX + 1, EINVAL);
	expect(fd, "65535-byte name", 1, longname, 65535, EINVAL);
	expect(fd, "name with '/'", 1, "a/b", 3, EINVAL);
	expect(fd, "name with NUL", 1, "a\0b", 3, EINVAL);
	expect(fd, "\".\"", 1, ".", 1, EINVAL);
	expect(fd, "\"..\"", 1, "..", 2, EINVAL);
	expect(fd, "no such mount (0)", 0, "a", 1, ENOENT);
	expect(fd, "no such mount (~0)", UINT64_MAX, longname, ZUFS_NAME_MAX,
	       ENOENT);
	if (ioctl(fd, ZUFS_IOC_INVALIDATE_NAME, (void *)16) == 0 ||
	    errno != EFAULT) {
		printf("bad pointer -> not EFAULT\n");
		bad = 1;
	}
	close(fd);
	return bad;
}
