// SPDX-License-Identifier: BSD-3-Clause
/*
 * zt.c - the ZT threads: one per online CPU, pinned to it, each with its
 * own channel file and mapped buffer, looping in ZUFS_IOC_WAIT_OP.  The
 * ioctl both answers the previous op and fetches the next, so an op costs
 * exactly one syscall round trip in the server.  Each channel also maps its
 * window, where the kernel puts the callers' pages for old-IO.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "zusd.h"

/* NUMA node of a CPU from sysfs (no libnuma needed); -1 if unknown */
static int cpu_node(int cpu)
{
	char path[64];
	struct dirent *de;
	int node = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d", cpu);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "node%d", &node) == 1)
			break;
	closedir(d);
	return node;
}

static bool cpu_online(int cpu)
{
	cpu_set_t set;

	/* the CPUs we may run on are the ones worth serving */
	if (sched_getaffinity(0, sizeof(set), &set))
		return cpu == 0;
	return CPU_ISSET(cpu, &set);
}

static int zt_open_channel(struct zusd_zt *zt)
{
	struct zusd *zd = zt->zd;
	struct zufs_ioc_init_thread it = { .channel = zt->cpu };
	int err;

	zt->fd = zusd_open_special(zd);
	if (zt->fd < 0)
		return zt->fd;
	if (ioctl(zt->fd, ZUFS_IOC_INIT_THREAD, &it)) {
		err = -errno;
		zusd_err(zd, "channel %d: init: %s", zt->cpu, strerror(-err));
		return err;
	}
	zt->map = mmap(NULL, ZUFS_CHAN_MAP_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, zt->fd, 0);
	if (zt->map == MAP_FAILED) {
		err = -errno;
		zt->map = NULL;
		zusd_err(zd, "channel %d: mmap: %s", zt->cpu, strerror(-err));
		return err;
	}
	/* the kernel maps the callers' pages here while we serve their I/O */
	zt->window = mmap(NULL, ZUFS_WINDOW_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED, zt->fd, ZUFS_WINDOW_MMAP_OFFSET);
	if (zt->window == MAP_FAILED) {
		err = -errno;
		zt->window = NULL;
		zusd_err(zd, "channel %d: mmap window: %s", zt->cpu,
			 strerror(-err));
		return err;
	}
	return 0;
}

static void *zt_main(void *arg)
{
	struct zusd_zt *zt = arg;
	struct zusd *zd = zt->zd;
	struct zufs_op_hdr *hdr = zt->map;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(zt->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		zusd_err(zd, "channel %d: cannot pin to its CPU", zt->cpu);
	zusd_chaos_seed(zt);

	for (;;) {
		if (ioctl(zt->fd, ZUFS_IOC_WAIT_OP)) {
			if (errno == EINTR)
				continue;
			zusd_err(zd, "channel %d: wait: %s", zt->cpu,
				 strerror(errno));
			break;
		}
		if (hdr->op == ZUFS_OP_BREAK)
			break;
		zusd_dispatch(zt);
		zt->ops++;
	}
	zusd_info(zd, "channel %d: %llu ops served, %llu I/O in the window, %llu through the data area",
		  zt->cpu, (unsigned long long)zt->ops,
		  (unsigned long long)zt->io_window,
		  (unsigned long long)zt->io_copied);
	return NULL;
}

int zusd_zt_start(struct zusd *zd)
{
	unsigned int i;
	int err;

	zd->zts = calloc(zd->nr_cpus, sizeof(*zd->zts));
	if (!zd->zts)
		return -ENOMEM;
	zd->nzts = zd->nr_cpus;
	for (i = 0; i < zd->nzts; i++) {
		struct zusd_zt *zt = &zd->zts[i];

		zt->zd = zd;
		zt->cpu = i;
		zt->fd = -1;
		if (!cpu_online(i))
			continue;
		zt->numa_node = cpu_node(i);
		err = zt_open_channel(zt);
		if (err)
			return err;
		err = -pthread_create(&zt->thread, NULL, zt_main, zt);
		if (err) {
			zusd_err(zd, "channel %d: thread: %s", zt->cpu,
				 strerror(-err));
			return err;
		}
		zt->started = true;
	}
	return 0;
}

void zusd_zt_join(struct zusd *zd)
{
	unsigned int i;

	for (i = 0; i < zd->nzts; i++) {
		struct zusd_zt *zt = &zd->zts[i];

		if (zt->started)
			pthread_join(zt->thread, NULL);
		if (zt->map)
			munmap(zt->map, ZUFS_CHAN_MAP_SIZE);
		if (zt->window)
			munmap(zt->window, ZUFS_WINDOW_SIZE);
		if (zt->fd >= 0)
			close(zt->fd);
	}
	free(zd->zts);
	zd->zts = NULL;
	zd->nzts = 0;
}
