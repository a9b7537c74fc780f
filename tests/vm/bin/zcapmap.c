// SPDX-License-Identifier: BSD-3-Clause
/*
 * zcapmap - a server file handed to a process without CAP_SYS_ADMIN must
 * not be mappable: creating server files and their ioctls already need
 * the capability, and so does mmap (a channel buffer shows every op of
 * every application that travels on it).
 *
 * usage: zcapmap     (zuf-root mounted at /sys/fs/zuf, no server running)
 * Prints "mmap as admin: ok" then "mmap without CAP_SYS_ADMIN: <errno>".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../../include/zufs_api.h"

static int open_special(void)
{
	int fd = open(ZUFS_ROOT_PATH, O_TMPFILE | O_RDWR, 0600);

	if (fd < 0)
		perror("zcapmap: O_TMPFILE " ZUFS_ROOT_PATH);
	return fd;
}

static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &=
		~CAP_TO_MASK(CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

int main(void)
{
	struct zufs_ioc_handshake hs = {
		.major = ZUFS_MAJOR_VERSION, .minor = ZUFS_MINOR_VERSION,
	};
	struct zufs_ioc_init_thread it = { .channel = 0 };
	int ctl, chan, err;
	void *p;

	ctl = open_special();
	chan = open_special();
	if (ctl < 0 || chan < 0)
		return 2;
	if (ioctl(ctl, ZUFS_IOC_HANDSHAKE, &hs) ||
	    ioctl(chan, ZUFS_IOC_INIT_THREAD, &it)) {
		perror("zcapmap: handshake/init thread");
		return 2;
	}
	p = mmap(NULL, ZUFS_CHAN_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 chan, 0);
	printf("mmap as admin: %s\n", p == MAP_FAILED ? strerror(errno) : "ok");
	if (p != MAP_FAILED)
		munmap(p, ZUFS_CHAN_MAP_SIZE);
	err = drop_sys_admin();
	if (err) {
		fprintf(stderr, "zcapmap: capset: %s\n", strerror(-err));
		return 2;
	}
	p = mmap(NULL, ZUFS_CHAN_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 chan, 0);
	printf("mmap without CAP_SYS_ADMIN: %s\n",
	       p == MAP_FAILED ? strerrorname_np(errno) : "ok");
	return 0;
}
