/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zusd.h - the server core's internal interfaces.
 *
 * One struct zusd holds all of the server's state; every thread gets a
 * pointer to it.  Per-thread state (a ZT's channel, its RNG for chaos)
 * lives in that thread's struct zusd_zt.
 */
#ifndef _ZUSD_H
#define _ZUSD_H

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include "zus.h"

#define ZUSD_NAME	"zusd"
#define ZUSD_VERSION	"1.0"
/* zusctl's socket (admin.c); zusd --control, zusctl --control */
#define ZUSD_CONTROL_PATH	"/run/zusd/control"

struct zusd;

/* Chaos mode: corrupt answers on purpose (chaos.c) */
struct zusd_chaos {
	bool		on;
	uint64_t	seed;
	unsigned int	permille;
};

/*
 * The ABI fuzzer (fuzz*.c): --fuzz SEED[:PERMILLE][,CLASS...] mutates that
 * share of ZT answers, mount answers and (class ioctl) calls of its own.
 */
enum zusd_fuzz_class {
	FZ_ERRNO,	/* err: every value of -4095..4095 and outside */
	FZ_LENGTH,	/* data_out, counts, done, sizes: 0/1/max/max+1/2^32-1 */
	FZ_ATTR,	/* stale and contradictory attributes */
	FZ_INO,		/* inode numbers 0/root/live/of another mount/huge */
	FZ_EXTENT,	/* GET_BLOCKS: out of range, misaligned, overlapping */
	FZ_DIRENT,	/* malformed readdir records and names */
	FZ_NAME,	/* readlink targets, xattr values and lists */
	FZ_HEADER,	/* wrong op, seq, cpu, handle in the answer header */
	FZ_DELAY,	/* answer 1..50 ms late */
	FZ_HOLD,	/* answer 0.2..3 s late: the caller may be killed */
	FZ_TWICE,	/* answer, then answer (and scribble) again */
	FZ_NEVER,	/* never answer (until zusd stops) */
	FZ_DIE,		/* _exit with the answer half written */
	FZ_MOUNT,	/* mutate mount/umount/remount answers */
	FZ_IOCTL,	/* a thread calling zuf's ioctls with bad arguments */
	FZ_NCLASSES
};
/* without a class list: everything that leaves the server running */
#define FZ_DEFAULT_CLASSES \
	((1U << FZ_NCLASSES) - 1 - (1U << FZ_NEVER) - (1U << FZ_DIE))

struct zusd_fuzz_conf {
	bool		on;
	bool		quiet;		/* do not log each mutation */
	bool		table;		/* per-op table in periodic reports */
	uint64_t	seed;
	unsigned int	permille;	/* share of answers mutated */
	uint32_t	classes;	/* 1 << FZ_* */
	unsigned int	report_s;	/* stats line period, 0 = at exit */
};
struct zusd_fuzz;

/* A mounted filesystem; its address is the zus_sb_handle */
#define ZUSD_SB_MAGIC	0x7a7573645f736220ULL	/* "zusd_sb " */

struct zusd_sb {
	uint64_t		magic;		/* ZUSD_SB_MAGIC while live */
	const struct zus_fs_type *type;
	struct zus_sb		*psb;		/* the plugin's */
	void			*pmem;		/* mapped t1 range, or NULL */
	uint64_t		pmem_size;
	uint32_t		ndevs;		/* t1 members, from GRAB_PMEM */
	struct zufs_pmem_dev	devs[ZUFS_MAX_DEVS];
	int			pmem_fd;
	uint64_t		sb_id;
	uint64_t		root_ino;	/* from the mount answer */
	struct zusd		*zd;
	struct zusd_sb		*next;		/* zd->sbs, mount thread only */
};

/* One ZT thread: one channel, pinned to its CPU */
struct zusd_zt {
	struct zusd	*zd;
	pthread_t	thread;
	bool		started;
	int		cpu;
	unsigned int	lane;		/* of the CPU's channels */
	int		id;		/* lane * CPUs + cpu: in logs, names */
	int		numa_node;	/* of the CPU, -1 if unknown */
	int		fd;		/* channel file */
	void		*map;		/* ZUFS_CHAN_MAP_SIZE bytes */
	void		*window;	/* ZUFS_WINDOW_SIZE bytes: old-IO pages */
	uint64_t	rng;		/* chaos RNG state */
	uint64_t	ops;		/* ops served */
	uint64_t	storm_ino;	/* testing: last GET_BLOCKS inode */
	uint64_t	storm_sb_id;	/* and its mount */
	uint64_t	io_window;	/* old-IO ops done in the window */
	uint64_t	io_copied;	/* old-IO ops through the data area */
	uint64_t	null_in;	/* when the last NULL op reached us */
	/*
	 * A plugin that faults on this channel's window or buffer (a store
	 * into a write's read-only pages): the op is answered -EIO and the
	 * thread goes on serving (zt.c).  in_plugin and fault_addr are
	 * shared with this thread's own signal handler only.
	 */
	sigjmp_buf	fault_jmp;	/* valid while in_plugin */
	volatile sig_atomic_t in_plugin;
	void *volatile	fault_addr;	/* where the last fault hit */
	uint64_t	faults;		/* ops answered -EIO after a fault */
	uint64_t	bad_errs;	/* plugin errnos the kernel must not see */
	timer_t		fuzz_timer;	/* fuzz: the re-answer timer */
	bool		fuzz_timer_ok;
};

struct zusd_opts {
	bool		foreground;
	bool		debug;
	bool		takeover;	/* replace the running server */
	const char	*root;		/* zuf-root mount point */
	const char	*pidfile;
	const char	*control;	/* admin socket path, "none": off */
	const char	**plugins;	/* paths */
	size_t		nplugins;
	unsigned int	abi_major;
	unsigned int	abi_minor;
	struct zusd_chaos chaos;
	struct zusd_fuzz_conf fuzz;
	unsigned int	io_delay_us;	/* testing: stall each old-IO op */
	unsigned int	mount_delay_us;	/* testing: stall each mount-thread op */
	bool		mount_delay_before;	/* before the plugin, not after */
	bool		window_spy;	/* testing: peek around window ops */
	int		late_op;	/* testing: answer this op late (-1) */
	unsigned int	late_us;	/* by that long, after the plugin */
	bool		late_before;	/* ... or before the plugin */
	unsigned int	storm_ms;	/* testing: invalidation storm period */
	unsigned int	spin_us;	/* ZT polls this long before sleeping */
	unsigned int	lanes;		/* ZT channels per CPU (0: 1) */
};

struct zusd {
	struct zusd_opts	opts;
	bool			daemonized;	/* log to syslog too */
	struct zus_plugin_set	*plugins;
	int			ctl_fd;		/* the control file */
	bool			root_mounted;	/* we mounted zuf-root */
	unsigned int		nr_cpus;	/* kernel's channel count */
	/* the mount thread */
	pthread_t		mount_thread;
	bool			mount_started;
	int			mount_fd;
	struct zusd_sb		*sbs;		/* live mounts (mount thread) */
	unsigned int		nr_mounts;	/* how many (mount thread) */
	atomic_flag		io_flusher_logged; /* one "refused" line */
	/* ZT threads, indexed by CPU (unstarted for offline CPUs) */
	struct zusd_zt		*zts;
	unsigned int		nzts;
	/* testing: the invalidation storm */
	pthread_t		storm_thread;
	bool			storm_started;
	bool			storm_stop;
	/* testing: the ABI fuzzer, NULL when off */
	struct zusd_fuzz	*fuzz;
	/* zusctl's socket (admin.c) */
	int			admin_fd;
	int			admin_stop[2];	/* pipe: wakes its thread */
	pthread_t		admin_thread;
	bool			admin_started;
	dev_t			admin_dev;	/* the path we bound */
	ino_t			admin_ino;
};

/*
 * main.c: logging, through libzus (log.c) like the plugins' lines:
 * journal, syslog or stderr; prio a ZUS_LOG_* level
 */
void zusd_log(const struct zusd *zd, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define zusd_err(zd, ...)	zusd_log(zd, ZUS_LOG_ERR, __VA_ARGS__)
#define zusd_info(zd, ...)	zusd_log(zd, ZUS_LOG_INFO, __VA_ARGS__)
#define zusd_dbg(zd, ...)					\
	do {							\
		if ((zd)->opts.debug)				\
			zusd_log(zd, ZUS_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

/* notify.c: sd_notify(3)'s protocol; "READY=1", ... */
int zusd_notify(struct zusd *zd, const char *state);

/* admin.c: the control socket zusctl talks to */
int zusd_admin_start(struct zusd *zd);
void zusd_admin_stop(struct zusd *zd);

/* control.c */
int zusd_open_special(struct zusd *zd);
int zusd_control_start(struct zusd *zd);
int zusd_register_all(struct zusd *zd);
void zusd_break_all(struct zusd *zd);
void zusd_control_stop(struct zusd *zd);

/* mount.c */
int zusd_mount_start(struct zusd *zd);
void zusd_mount_join(struct zusd *zd);
/* after every thread is joined: let the plugins flush mounts left over */
void zusd_mount_cleanup(struct zusd *zd);
/* the sb of a handle from the kernel, or NULL */
struct zusd_sb *zusd_sb_of(uint64_t handle);

/* zt.c */
int zusd_zt_start(struct zusd *zd);
void zusd_zt_join(struct zusd *zd);
/* a server thread that may be called from reclaim: PR_SET_IO_FLUSHER */
void zusd_set_io_flusher(struct zusd *zd, const char *who);

/* dispatch.c: handle the op in a ZT's channel; fills the answer */
typedef int (*zusd_op_fn)(struct zusd_zt *zt, struct zusd_sb *sb,
			  struct zufs_op_hdr *hdr, void *data,
			  const struct zus_ctx *ctx);

#define ZUSD_MAX_ATTRS	5
struct zusd_op_desc {
	const char	*name;
	zusd_op_fn	handler;
	uint32_t	size;		/* of the op struct */
	/* where the answer's struct zufs_attr live (chaos corrupts them) */
	uint16_t	attrs[ZUSD_MAX_ATTRS];
	uint8_t		nattrs;
};

void zusd_dispatch(struct zusd_zt *zt);
/* CLOCK_MONOTONIC in ns: the kernel's ktime_get_ns() clock */
uint64_t zusd_mono_ns(void);
/*
 * zt.c: call an op's handler (and so the plugin) with the thread's fault
 * recovery armed; returns its result made fit for the kernel: -EIO for a
 * fault on the channel, and for errnos a syscall must not return.
 */
int zusd_zt_call(struct zusd_zt *zt, zusd_op_fn fn, struct zusd_sb *sb,
		 struct zufs_op_hdr *hdr, void *data,
		 const struct zus_ctx *ctx);
const struct zusd_op_desc *zusd_op_desc(uint32_t op);
const char *zusd_op_name(uint32_t op);

/*
 * resend.c: an op flagged ZUFS_OPF_RESENT (flag already cleared): 1 when
 * its effect is already there and the answer is filled in (error in
 * *errp), 0 when it must run (again).
 */
int zusd_resent(struct zusd_sb *sb, struct zufs_op_hdr *hdr, void *data,
		const struct zus_ctx *ctx, int *errp);

/* chaos.c */
int zusd_parse_seed(const char *arg, uint64_t *seed, unsigned long *permille,
		    const char **end);
int zusd_chaos_parse(const char *arg, struct zusd_chaos *ch);
void zusd_chaos_seed(struct zusd_zt *zt);
/* maybe corrupt the answer of the op just handled */
void zusd_chaos_answer(struct zusd_zt *zt);

/* fuzz.c: the ABI fuzzer */
int zusd_fuzz_parse(const char *arg, struct zusd_fuzz_conf *conf);
int zusd_fuzz_start(struct zusd *zd);	/* after the ZTs started */
void zusd_fuzz_stop(struct zusd *zd);	/* before BREAK_ALL */
void zusd_fuzz_report(struct zusd *zd);	/* final stats, frees */
/* after the plugin answered: maybe mutate, delay, re-answer or die */
void zusd_fuzz_answer(struct zusd_zt *zt);
/* fuzz_mount.c: after the mount thread's answer was built */
void zusd_fuzz_mount(struct zusd *zd, struct zufs_ioc_mount *im);

/* storm.c: server-initiated invalidation, and its test storm */
int zusd_sb_rdonly(struct zusd *zd, uint64_t sb_id);
int zusd_invalidate_name(struct zusd *zd, uint64_t sb_id, uint64_t dir,
			 const char *name, size_t len);
int zusd_invalidate(struct zusd *zd, uint64_t sb_id, uint64_t ino,
		    uint64_t offset, uint64_t length);
void zusd_storm_note(struct zusd_zt *zt, uint64_t sb_id, uint64_t ino);
int zusd_storm_start(struct zusd *zd);
void zusd_storm_stop(struct zusd *zd);

#endif /* _ZUSD_H */
