// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_mount.c - the ABI fuzzer on the mount thread's answers (mount,
 * umount, remount) and on zuf's ioctls themselves: a thread of its own
 * calls them with arguments a sane server never passes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "fuzz.h"

/* "channels" of the mount thread and the ioctl thread, for the log */
#define FZ_CHAN_MOUNT	0xffffU
#define FZ_CHAN_IOCTL	0xfffeU

static uint64_t fz_mount_seq;	/* mount thread only */
static uint64_t fz_sb_ids[4];	/* recent mounts, for the ioctl thread */

static const char *mut_mount(struct fz_rng *r, struct zufs_ioc_mount *im,
			     char *buf, size_t len)
{
	char ab[96];

	switch (im->op == ZUFS_M_MOUNT && !im->err ? fz_below(r, 9) :
		fz_below(r, 4)) {
	case 0: {
		int32_t old = im->err;

		im->err = fz_errno(r, old);
		snprintf(buf, len, "err %d -> %d", old, im->err);
		break;
	}
	case 1:
		memset(im->msg, 'm', sizeof(im->msg));
		if (!im->err)
			im->err = -EINVAL;
		snprintf(buf, len, "msg without NUL, err %d", im->err);
		break;
	case 2:
		memset(im->options, fz_below(r, 2) ? 'o' : ',',
		       sizeof(im->options));
		snprintf(buf, len, "options without NUL");
		break;
	case 3:
		im->op = fz_below(r, 2) ? ZUFS_M_REMOUNT : 99;
		snprintf(buf, len, "op %u", im->op);
		break;
	case 4: {
		static const uint32_t bs[] = { 0, 1, 3, 511, 1024, 8192,
					       65536, UINT32_MAX };

		im->block_size = bs[fz_below(r, 8)];
		snprintf(buf, len, "block_size %u", im->block_size);
		break;
	}
	case 5:
		im->max_bytes = fz_len(r, im->max_bytes, INT64_MAX);
		snprintf(buf, len, "max_bytes %llu", im->max_bytes);
		break;
	case 6:
		im->max_ino = fz_below(r, 2) ? 0 : im->root.ino - 1;
		snprintf(buf, len, "max_ino %llu (root %llu)",
			 im->max_ino, im->root.ino);
		break;
	case 7:
		im->root.ino = fz_below(r, 2) ? 0 : im->max_ino + 1;
		snprintf(buf, len, "root ino %llu", im->root.ino);
		break;
	default:
		fz_mutate_attr(r, &im->root, ab, sizeof(ab));
		snprintf(buf, len, "root %s", ab);
		break;
	}
	return buf;
}

void zusd_fuzz_mount(struct zusd *zd, struct zufs_ioc_mount *im)
{
	struct zusd_fuzz *f = zd->fuzz;
	uint32_t op = im->op, slot = FZ_MOUNT_BASE + op;
	uint64_t seq = ++fz_mount_seq;
	const char *what = NULL;
	char buf[160], line[200];
	struct fz_rng r;
	int cls;

	if (!f || op > ZUFS_M_BREAK)
		return;
	if (op == ZUFS_M_MOUNT && !im->err)
		fz_sb_ids[seq % 4] = im->sb_id;
	r = fz_rng_for(f, FZ_CHAN_MOUNT, seq, op);
	if (fz_below(&r, 1000) >= f->conf.permille) {
		fz_count(f, slot, -1);
		return;
	}
	cls = fz_pick_class(f, &r, 1U << FZ_MOUNT | 1U << FZ_DELAY |
			    1U << FZ_HOLD | 1U << FZ_NEVER | 1U << FZ_DIE);
	switch (cls) {
	case FZ_MOUNT:
		what = mut_mount(&r, im, buf, sizeof(buf));
		break;
	case FZ_DELAY:
	case FZ_HOLD: {
		uint64_t ms = cls == FZ_DELAY ? 1 + fz_below(&r, 50) :
			      200 + fz_below(&r, 2800);

		snprintf(buf, sizeof(buf), "answer %llu ms late", (unsigned long long)ms);
		what = buf;
		fz_log(f, "mount", FZ_CHAN_MOUNT, seq, "mount op", what);
		fz_sleep_ms(ms);
		break;
	}
	case FZ_NEVER:
		what = "never answer";
		fz_log(f, "mount", FZ_CHAN_MOUNT, seq, "mount op", what);
		fz_never(f);
		break;
	case FZ_DIE:
		fz_log(f, "mount", FZ_CHAN_MOUNT, seq, "mount op",
		       "die mid-answer");
		fz_count(f, slot, cls);
		fz_die(f, im, sizeof(*im), &r);
	}
	fz_count(f, slot, what ? cls : -1);
	if (what && cls == FZ_MOUNT) {
		snprintf(line, sizeof(line), "mount: %s", what);
		fz_log(f, "mount", FZ_CHAN_MOUNT, seq,
		       op == ZUFS_M_MOUNT ? "MOUNT" : op == ZUFS_M_UMOUNT ?
		       "UMOUNT" : "REMOUNT", line);
	}
}

/* ------------------------------------------------------------------ */
/* the ioctl thread                                                    */
/* ------------------------------------------------------------------ */

static uint64_t pick_u64(struct fz_rng *r, uint64_t live)
{
	static const uint64_t edge[] = { 0, 1, UINT64_MAX, 1ULL << 63,
					 UINT64_MAX - 4095, 4096 };

	if (live && fz_below(r, 2))
		return live;
	return edge[fz_below(r, sizeof(edge) / sizeof(edge[0]))];
}

/* One ioctl with arguments no sane server passes; returns its result */
static int one_ioctl(struct zusd_fuzz *f, struct fz_rng *r, char *what,
		     size_t len)
{
	struct zusd *zd = f->zd;
	uint64_t live_sb = fz_sb_ids[fz_below(r, 4)];
	int fd = -1, ret;

	switch (fz_below(r, 9)) {
	case 0: {
		struct zufs_ioc_invalidate inv = {
			.sb_id = pick_u64(r, live_sb),
			.ino = pick_u64(r, fz_ring_ino(f, r, 0, true)),
			.offset = pick_u64(r, 0),
			.length = pick_u64(r, 0),
		};

		snprintf(what, len, "INVALIDATE sb %llu ino %llu"
			 " off %llu len %llu", inv.sb_id, inv.ino,
			 inv.offset, inv.length);
		return ioctl(zd->ctl_fd, ZUFS_IOC_INVALIDATE, &inv);
	}
	case 1: {
		struct zufs_ioc_init_thread it = {
			.channel = fz_below(r, 3) == 0 ? 0 :
				   fz_below(r, 2) ? zd->nr_cpus : UINT32_MAX,
		};

		fd = zusd_open_special(zd);
		snprintf(what, len, "INIT_THREAD channel %u", it.channel);
		ret = fd < 0 ? -1 : ioctl(fd, ZUFS_IOC_INIT_THREAD, &it);
		break;
	}
	case 2: {
		struct zufs_ioc_pmem ip = { .sb_id = pick_u64(r, live_sb) };

		fd = zusd_open_special(zd);
		snprintf(what, len, "GRAB_PMEM sb %llu", ip.sb_id);
		ret = fd < 0 ? -1 : ioctl(fd, ZUFS_IOC_GRAB_PMEM, &ip);
		if (!ret && ip.size) {
			void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED,
				       fd, 0);

			if (p != MAP_FAILED)
				munmap(p, 4096);
		}
		break;
	}
	case 3: {
		struct zufs_ioc_handshake hs = {
			.major = fz_below(r, 2) ? ZUFS_MAJOR_VERSION :
				 (uint32_t)fz_next(r),
			.minor = ZUFS_MINOR_VERSION,
		};

		fd = zusd_open_special(zd);
		snprintf(what, len, "a second HANDSHAKE %u.%u", hs.major,
			 hs.minor);
		ret = fd < 0 ? -1 : ioctl(fd, ZUFS_IOC_HANDSHAKE, &hs);
		break;
	}
	case 4: {
		struct zufs_ioc_register_fs rf = { .zus_fs_handle = fz_next(r) };

		/* no new type gets a sane name: a few distinct bad ones */
		switch (fz_below(r, 4)) {
		case 0:
			memset(rf.info.name, 'z', sizeof(rf.info.name));
			break;
		case 1:
			break;		/* empty */
		case 2:
			memcpy(rf.info.name, "fz/x", 4);
			break;
		default:
			memcpy(rf.info.name, "zpmfs", 5);	/* taken */
			break;
		}
		rf.info.flags = fz_next(r);
		snprintf(what, len, "REGISTER_FS \"%.16s\" flags 0x%x",
			 rf.info.name, rf.info.flags);
		return ioctl(zd->ctl_fd, ZUFS_IOC_REGISTER_FS, &rf);
	}
	case 5: {
		unsigned int nr = 10 + fz_below(r, 246);

		snprintf(what, len, "unknown ioctl %u", nr);
		return ioctl(zd->ctl_fd, _IO(ZUFS_IOC_MAGIC, nr), 0);
	}
	case 6: {
		struct zufs_ioc_mount im = { .op = ZUFS_M_NONE };

		/* roles that are not the file's */
		if (fz_below(r, 2)) {
			snprintf(what, len, "WAIT_OP on the control file");
			return ioctl(zd->ctl_fd, ZUFS_IOC_WAIT_OP);
		}
		snprintf(what, len, "MOUNT on the control file");
		return ioctl(zd->ctl_fd, ZUFS_IOC_MOUNT, &im);
	}
	case 7: {
		/* no live mount: one would stay read-only for the run */
		struct zufs_ioc_sb_rdonly ro = { .sb_id = pick_u64(r, 0) };

		snprintf(what, len, "SB_RDONLY sb %llu",
			 (unsigned long long)ro.sb_id);
		return ioctl(zd->ctl_fd, ZUFS_IOC_SB_RDONLY, &ro);
	}
	default:
		snprintf(what, len, "INVALIDATE with a bad pointer");
		return ioctl(zd->ctl_fd, ZUFS_IOC_INVALIDATE, (void *)16);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static void *ioctl_main(void *arg)
{
	struct zusd_fuzz *f = arg;
	uint64_t n = 0;
	char what[160];

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		struct fz_rng r = fz_rng_for(f, FZ_CHAN_IOCTL, ++n, 0);
		int ret;

		/* ten a second: many of them make the kernel log a line */
		fz_sleep_ms(100);
		ret = one_ioctl(f, &r, what, sizeof(what));
		__atomic_fetch_add(&f->ioctls, 1, __ATOMIC_RELAXED);
		if (!ret)
			__atomic_fetch_add(&f->ioctl_ok, 1, __ATOMIC_RELAXED);
		if (!f->conf.quiet) {
			char line[220];

			snprintf(line, sizeof(line), "%s -> %s", what,
				 ret ? strerror(errno) : "ok");
			fz_log(f, "ioctl", FZ_CHAN_IOCTL, n, "ioctl", line);
		}
	}
	return NULL;
}

int fz_ioctl_start(struct zusd_fuzz *f)
{
	int err = -pthread_create(&f->ioctler, NULL, ioctl_main, f);

	if (!err)
		f->ioctler_started = true;
	return err;
}
