// SPDX-License-Identifier: BSD-3-Clause
/*
 * storm.c - testing: an invalidation storm.  With --invalidate-storm MS, a
 * thread of its own (never a ZT: the kernel may need the channels while it
 * invalidates) tells the kernel every MS milliseconds to forget the whole
 * block map of the inode each ZT last answered GET_BLOCKS for, as a plugin
 * that moves blocks on its own would.  The workload must see no change.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>

#include "zusd.h"

/* Remember what a ZT just mapped: the storm's next victim */
void zusd_storm_note(struct zusd_zt *zt, uint64_t sb_id, uint64_t ino)
{
	__atomic_store_n(&zt->storm_sb_id, sb_id, __ATOMIC_RELAXED);
	__atomic_store_n(&zt->storm_ino, ino, __ATOMIC_RELAXED);
}

int zusd_invalidate(struct zusd *zd, uint64_t sb_id, uint64_t ino,
		    uint64_t offset, uint64_t length)
{
	struct zufs_ioc_invalidate inv = {
		.sb_id = sb_id, .ino = ino, .offset = offset, .length = length,
	};

	if (ioctl(zd->ctl_fd, ZUFS_IOC_INVALIDATE, &inv))
		return -errno;
	return 0;
}

static void *storm_main(void *arg)
{
	struct zusd *zd = arg;
	struct timespec pause = {
		.tv_sec = zd->opts.storm_ms / 1000,
		.tv_nsec = (zd->opts.storm_ms % 1000) * 1000000L,
	};
	uint64_t done = 0, gone = 0;
	unsigned int i;

	while (!__atomic_load_n(&zd->storm_stop, __ATOMIC_RELAXED)) {
		nanosleep(&pause, NULL);
		for (i = 0; i < zd->nzts; i++) {
			struct zusd_zt *zt = &zd->zts[i];
			uint64_t ino, sb_id;
			int err;

			ino = __atomic_load_n(&zt->storm_ino, __ATOMIC_RELAXED);
			sb_id = __atomic_load_n(&zt->storm_sb_id,
						__ATOMIC_RELAXED);
			if (!ino)
				continue;
			err = zusd_invalidate(zd, sb_id, ino, 0, 0);
			if (!err)
				done++;
			else if (err == -ENOENT)
				gone++;
			else
				zusd_err(zd, "invalidate storm: ino %llu: %s",
					 (unsigned long long)ino,
					 strerror(-err));
		}
	}
	zusd_info(zd, "invalidate storm: %llu invalidations (%llu of unmounted filesystems)",
		  (unsigned long long)done, (unsigned long long)gone);
	return NULL;
}

int zusd_storm_start(struct zusd *zd)
{
	int err;

	if (!zd->opts.storm_ms)
		return 0;
	err = -pthread_create(&zd->storm_thread, NULL, storm_main, zd);
	if (err) {
		zusd_err(zd, "invalidate storm: thread: %s", strerror(-err));
		return err;
	}
	zd->storm_started = true;
	return 0;
}

void zusd_storm_stop(struct zusd *zd)
{
	if (!zd->storm_started)
		return;
	__atomic_store_n(&zd->storm_stop, true, __ATOMIC_RELAXED);
	pthread_join(zd->storm_thread, NULL);
	zd->storm_started = false;
}
