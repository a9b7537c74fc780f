// SPDX-License-Identifier: BSD-3-Clause
/*
 * zt.c - the ZT threads: one per online CPU, pinned to it, each with its
 * own channel file and mapped buffer, looping in ZUFS_IOC_WAIT_OP.  The
 * ioctl both answers the previous op and fetches the next, so an op costs
 * exactly one syscall round trip in the server.  Each channel also maps its
 * window, where the kernel puts the callers' pages for old-IO.
 *
 * The server outlives a plugin that faults on what the kernel lent it: a
 * WRITE's pages are mapped read-only (the kernel's page tables enforce
 * it), so a plugin storing into them takes SIGBUS/SIGSEGV.  Each ZT arms
 * a sigsetjmp() around the op's handler; the signal handler jumps back
 * only for a fault by that thread, inside a handler, on that thread's own
 * window or channel buffer, and the op is answered -EIO.  Anything else
 * (a fault elsewhere, another thread, a signal sent by kill) gets the
 * default action, so real bugs still crash with a core.  The jump does
 * not unwind the plugin: locks or references it held at the fault stay
 * held; a plugin that faults there is broken, the server only goes on.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "zusd.h"

/* The ZT running on this thread, for the fault handler (NULL elsewhere) */
static __thread struct zusd_zt *zt_self
	__attribute__((tls_model("initial-exec")));

/*
 * EVICT comes from the kernel's inode shrinker and writeback may come
 * under reclaim: a server thread allocating memory then must not recurse
 * into filesystem reclaim (which could wait on this very server).
 */
void zusd_set_io_flusher(struct zusd *zd, const char *who)
{
	if (!prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0))
		return;
	/* one line, not one per thread: it is the same refusal */
	if (!atomic_flag_test_and_set(&zd->io_flusher_logged))
		zusd_info(zd, "%s: PR_SET_IO_FLUSHER refused (%s): server threads may recurse into reclaim",
			  who, strerror(errno));
}

static bool zt_owns_addr(const struct zusd_zt *zt, const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	uintptr_t win = (uintptr_t)zt->window, map = (uintptr_t)zt->map;

	return (win && a - win < ZUFS_WINDOW_SIZE) ||
	       (map && a - map < ZUFS_CHAN_MAP_SIZE);
}

static void zt_fault_handler(int sig, siginfo_t *si, void *uctx)
{
	struct zusd_zt *zt = zt_self;

	(void)uctx;
	/* si_code > 0: raised by a fault, not sent by kill/tgkill/sigqueue */
	if (zt && zt->in_plugin && si->si_code > 0 &&
	    zt_owns_addr(zt, si->si_addr)) {
		zt->fault_addr = si->si_addr;
		zt->in_plugin = 0;
		siglongjmp(zt->fault_jmp, sig);
	}
	/* not ours to forgive: die of it as if we had no handler */
	signal(sig, SIG_DFL);
	raise(sig);
}

static int zt_install_fault_handler(struct zusd *zd)
{
	struct sigaction sa;
	static const int sigs[] = { SIGBUS, SIGSEGV };
	unsigned int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = zt_fault_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL)) {
			int err = -errno;

			zusd_err(zd, "fault handler: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The op's first inode number (ino, dir_ino, src_ino...), 0 if none */
static unsigned long long op_ino(const struct zufs_op_hdr *hdr)
{
	const struct zusd_op_desc *d = zusd_op_desc(hdr->op);

	if (!d || hdr->op == ZUFS_OP_STATFS ||
	    d->size < sizeof(*hdr) + sizeof(uint64_t))
		return 0;
	return *(const uint64_t *)(hdr + 1);
}

/* The signal handler jumped back: the op cannot have been done right */
static int zt_fault_answer(struct zusd_zt *zt, struct zufs_op_hdr *hdr,
			   int sig)
{
	uintptr_t a = (uintptr_t)zt->fault_addr;
	uintptr_t win = (uintptr_t)zt->window;
	bool in_win = win && a - win < ZUFS_WINDOW_SIZE;
	sigset_t set;

	/* we left the handler by a jump: its signal is still blocked */
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	zt->faults++;
	zusd_err(zt->zd, "channel %d: plugin took %s at %s+0x%lx serving %s ino %llu (seq %llu): answered EIO",
		 zt->id, sig == SIGBUS ? "SIGBUS" : "SIGSEGV",
		 in_win ? "window" : "channel",
		 (unsigned long)(a - (in_win ? win : (uintptr_t)zt->map)),
		 zusd_op_name(hdr->op), op_ino(hdr),
		 (unsigned long long)hdr->seq);
	return -EIO;
}

/*
 * What the kernel may pass on to a syscall: a plain errno.  Not EFAULT
 * (it would blame the application's buffer for the plugin's fault), not
 * the kernel's internal codes (ERESTARTSYS 512 .. 4095, e.g. EIOCBQUEUED
 * 529) which must never reach user space, not a positive value.
 */
static int zt_check_err(struct zusd_zt *zt, struct zufs_op_hdr *hdr, int err)
{
	if (err == 0 || (err < 0 && err >= -EHWPOISON && err != -EFAULT))
		return err;
	zt->bad_errs++;
	zusd_err(zt->zd, "channel %d: plugin answered %s ino %llu (seq %llu) with %d%s: answered EIO",
		 zt->id, zusd_op_name(hdr->op), op_ino(hdr),
		 (unsigned long long)hdr->seq, err,
		 err == -EFAULT ? " (EFAULT: it faulted on the window)" : "");
	return -EIO;
}

int zusd_zt_call(struct zusd_zt *zt, zusd_op_fn fn, struct zusd_sb *sb,
		 struct zufs_op_hdr *hdr, void *data,
		 const struct zus_ctx *ctx)
{
	int sig, err;

	/* no signal mask saved: that would cost a syscall per op */
	sig = sigsetjmp(zt->fault_jmp, 0);
	if (sig)
		return zt_fault_answer(zt, hdr, sig);
	zt->in_plugin = 1;
	err = fn(zt, sb, hdr, data, ctx);
	zt->in_plugin = 0;
	return zt_check_err(zt, hdr, err);
}

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
	struct zufs_ioc_init_thread it = {
		.channel = zt->cpu,
		.lane = zt->lane,
		.spin_us = zd->opts.spin_us,
	};
	int err;

	zt->fd = zusd_open_special(zd);
	if (zt->fd < 0)
		return zt->fd;
	if (ioctl(zt->fd, ZUFS_IOC_INIT_THREAD, &it)) {
		err = -errno;
		zusd_err(zd, "channel %d: init: %s", zt->id, strerror(-err));
		return err;
	}
	zt->map = mmap(NULL, ZUFS_CHAN_MAP_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, zt->fd, 0);
	if (zt->map == MAP_FAILED) {
		err = -errno;
		zt->map = NULL;
		zusd_err(zd, "channel %d: mmap: %s", zt->id, strerror(-err));
		return err;
	}
	/* the kernel maps the callers' pages here while we serve their I/O */
	zt->window = mmap(NULL, ZUFS_WINDOW_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED, zt->fd, ZUFS_WINDOW_MMAP_OFFSET);
	if (zt->window == MAP_FAILED) {
		err = -errno;
		zt->window = NULL;
		zusd_err(zd, "channel %d: mmap window: %s", zt->id,
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
	char name[16];
	cpu_set_t set;

	/* named, so tests and people can find a ZT among zusd's threads */
	snprintf(name, sizeof(name), "zusd-zt%d", zt->id);
	pthread_setname_np(pthread_self(), name);
	zt_self = zt;
	zusd_set_io_flusher(zd, name);
	CPU_ZERO(&set);
	CPU_SET(zt->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		zusd_err(zd, "channel %d: cannot pin to its CPU", zt->id);
	zusd_chaos_seed(zt);

	for (;;) {
		if (ioctl(zt->fd, ZUFS_IOC_WAIT_OP)) {
			if (errno == EINTR)
				continue;
			zusd_err(zd, "channel %d: wait: %s", zt->id,
				 strerror(errno));
			break;
		}
		if (hdr->op == ZUFS_OP_BREAK)
			break;
		if (hdr->op == ZUFS_OP_NULL)
			zt->null_in = zusd_mono_ns();
		zusd_dispatch(zt);
		zt->ops++;
		if (hdr->op == ZUFS_OP_NULL && !hdr->err &&
		    hdr->data_out == 2 * sizeof(uint64_t))
			((uint64_t *)((char *)zt->map + ZUFS_OP_AREA_SIZE))[1] =
				zusd_mono_ns();
	}
	zusd_info(zd, "channel %d: %llu ops served, %llu I/O in the window, %llu through the data area, %llu plugin faults, %llu bad plugin errnos",
		  zt->id, (unsigned long long)zt->ops,
		  (unsigned long long)zt->io_window,
		  (unsigned long long)zt->io_copied,
		  (unsigned long long)zt->faults,
		  (unsigned long long)zt->bad_errs);
	zt_self = NULL;
	return NULL;
}

int zusd_zt_start(struct zusd *zd)
{
	unsigned int i;
	int err;

	err = zt_install_fault_handler(zd);
	if (err)
		return err;
	zd->nzts = zd->nr_cpus * (zd->opts.lanes ?: 1);
	zd->zts = calloc(zd->nzts, sizeof(*zd->zts));
	if (!zd->zts)
		return -ENOMEM;
	for (i = 0; i < zd->nzts; i++) {
		struct zusd_zt *zt = &zd->zts[i];

		zt->zd = zd;
		zt->id = i;
		zt->cpu = i % zd->nr_cpus;
		zt->lane = i / zd->nr_cpus;
		zt->fd = -1;
		if (!cpu_online(zt->cpu))
			continue;
		zt->numa_node = cpu_node(zt->cpu);
		err = zt_open_channel(zt);
		if (err)
			return err;
		err = -pthread_create(&zt->thread, NULL, zt_main, zt);
		if (err) {
			zusd_err(zd, "channel %d: thread: %s", zt->id,
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
