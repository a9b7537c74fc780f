// SPDX-License-Identifier: BSD-3-Clause
/*
 * rtbench: the cost of one round trip to a user-mode server, three ways,
 * measured the same way so that they can be put side by side:
 *
 *   futex        the floor: a caller thread and a server process hand a
 *                word back and forth through a shared futex (both sleep)
 *   zufs FILE    ZUFS_IOC_NULL_OP on FILE (any file of a zufs mount): one
 *                ZUFS_OP_NULL through a ZT channel; with -b also where the
 *                time went, from the kernel's and zusd's stamps
 *   fuse FILE    a 1-byte pread of FILE (fuse-nullfs's /data, direct_io):
 *                one FUSE READ, the nearest thing FUSE has to a null request
 *
 * T callers (-t) run at once for S seconds (-T).  Caller i is pinned to
 * CPU i mod ncpu; its peer runs on the same CPU (-p same, default) or on
 * the next one (-p cross): the futex server process is pinned there, the
 * NULL op names that CPU's channel.  A FUSE daemon cannot be placed from
 * here: -P CPU pins every caller to CPU instead (start the daemon under
 * taskset).  One line per run:
 *
 *   rt mode=zufs threads=1 place=same ops=12000 us=41.2 ops_per_s=24271 cpu_us=45.0
 *
 * us: mean round trip seen by one caller; cpu_us: CPU time the whole
 * machine spent per round trip (from /proc/stat: busy ticks of all CPUs
 * over the run / ops), which shows what polling costs.  -b adds a
 * "breakdown" line (mean µs per step, see zufs_api.h ZUFS_NULL_T_*).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zufs_api.h"
#include "cpustat.h"

#define RT_MAX_THREADS	64

enum rt_mode { RT_FUTEX, RT_ZUFS, RT_FUSE };
static const char *const rt_mode_name[] = { "futex", "zufs", "fuse" };

struct rt_cfg {
	enum rt_mode mode;
	const char *file;
	unsigned int threads;
	double secs;
	bool cross;
	int pin;		/* -1: spread the callers */
	bool breakdown;
	int ncpu;
};

/* One futex pair's word: 0 idle, 1 request, 2 quit.  Own cache line. */
struct rt_word {
	_Atomic uint32_t v;
	char pad[60];
};

struct rt_thread {
	pthread_t thread;
	const struct rt_cfg *cfg;
	pthread_barrier_t *start;
	unsigned int id;
	int cpu;		/* the caller's */
	int peer_cpu;		/* its server's */
	struct rt_word *word;	/* futex mode */
	int fd;			/* zufs/fuse */
	uint64_t ops;
	uint64_t ns;
	uint64_t steps[ZUFS_NULL_NSTAMPS + 1];	/* -b: summed step times */
	uint64_t stamped;
	uint64_t user_ns;	/* -b: summed round trips seen by the caller */
	unsigned int wrong_chan;	/* ops that took another channel */
	int err;
};

static volatile sig_atomic_t rt_stop;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* Sleep while *w == val */
static void futex_wait_while(_Atomic uint32_t *w, uint32_t val)
{
	while (atomic_load(w) == val)
		futex(w, FUTEX_WAIT, val);
}

/* The futex server: answer every request until told to quit */
static void futex_server(struct rt_word *word, int cpu)
{
	pin_to(cpu);
	for (;;) {
		futex_wait_while(&word->v, 0);
		if (atomic_load(&word->v) == 2)
			_exit(0);
		atomic_store(&word->v, 0);
		futex(&word->v, FUTEX_WAKE, 1);
	}
}

static int futex_trip(struct rt_thread *th)
{
	atomic_store(&th->word->v, 1);
	futex(&th->word->v, FUTEX_WAKE, 1);
	futex_wait_while(&th->word->v, 1);
	return 0;
}

static int zufs_trip(struct rt_thread *th)
{
	const struct rt_cfg *cfg = th->cfg;
	struct zufs_ioc_null n = {
		.channel = cfg->cross ? (uint32_t)th->peer_cpu :
					ZUFS_NULL_ANY_CHAN,
		.flags = cfg->breakdown ? ZUFS_NULL_STAMPS : 0,
	};
	uint64_t t0 = 0, t1;
	unsigned int i;

	if (cfg->breakdown)
		t0 = now_ns();
	if (ioctl(th->fd, ZUFS_IOC_NULL_OP, &n))
		return -errno;
	if ((int)n.chan_used != th->peer_cpu)
		th->wrong_chan++;
	if (!cfg->breakdown)
		return 0;
	t1 = now_ns();
	for (i = 1; i < ZUFS_NULL_NSTAMPS; i++)
		if (!n.t[i] || n.t[i] < n.t[i - 1])
			return 0;	/* a step not stamped: not counted */
	for (i = 1; i < ZUFS_NULL_NSTAMPS; i++)
		th->steps[i] += n.t[i] - n.t[i - 1];
	th->user_ns += t1 - t0;
	th->stamped++;
	return 0;
}

static int fuse_trip(struct rt_thread *th)
{
	char c;

	return pread(th->fd, &c, 1, 0) == 1 ? 0 : (errno ? -errno : -EIO);
}

static void *rt_caller(void *arg)
{
	struct rt_thread *th = arg;
	const struct rt_cfg *cfg = th->cfg;
	int (*trip)(struct rt_thread *) = cfg->mode == RT_FUTEX ? futex_trip :
		cfg->mode == RT_ZUFS ? zufs_trip : fuse_trip;
	uint64_t t0, end;
	int err;

	th->err = pin_to(th->cpu);
	pthread_barrier_wait(th->start);
	if (th->err)
		return NULL;
	t0 = now_ns();
	end = t0 + (uint64_t)(cfg->secs * 1e9);
	while (!rt_stop) {
		err = trip(th);
		if (err) {
			th->err = err;
			break;
		}
		th->ops++;
		/* the clock every 16 trips: its own cost stays out */
		if (!(th->ops & 15) && now_ns() >= end)
			break;
	}
	th->ns = now_ns() - t0;
	return NULL;
}

static int rt_open(struct rt_cfg *cfg, struct rt_thread *th)
{
	if (cfg->mode == RT_FUTEX) {
		pid_t pid = fork();

		if (pid < 0)
			return -errno;
		if (!pid)
			futex_server(th->word, th->peer_cpu);
		return 0;
	}
	th->fd = open(cfg->file, O_RDONLY);
	if (th->fd < 0) {
		fprintf(stderr, "rtbench: %s: %s\n", cfg->file, strerror(errno));
		return -errno;
	}
	return 0;
}

static void rt_report(const struct rt_cfg *cfg, struct rt_thread *ths,
		      uint64_t busy, uint64_t total, uint64_t wall_ns)
{
	static const char *const step[ZUFS_NULL_NSTAMPS] = {
		[ZUFS_NULL_T_CLAIMED] = "claim",
		[ZUFS_NULL_T_POSTED] = "fill_wake",
		[ZUFS_NULL_T_PICKED] = "zt_wakeup",
		[ZUFS_NULL_T_SRV_IN] = "to_server",
		[ZUFS_NULL_T_SRV_OUT] = "server",
		[ZUFS_NULL_T_ANSWERED] = "answer_in",
		[ZUFS_NULL_T_WOKEN] = "caller_wakeup",
		[ZUFS_NULL_T_DONE] = "copy_check",
	};
	uint64_t ops = 0, ns = 0, stamped = 0, user = 0, sum[ZUFS_NULL_NSTAMPS];
	uint64_t inside = 0;
	unsigned int i, s, wrong = 0;
	double us, cpu_us;

	memset(sum, 0, sizeof(sum));
	for (i = 0; i < cfg->threads; i++) {
		ops += ths[i].ops;
		ns += ths[i].ns;
		stamped += ths[i].stamped;
		user += ths[i].user_ns;
		wrong += ths[i].wrong_chan;
		for (s = 1; s < ZUFS_NULL_NSTAMPS; s++)
			sum[s] += ths[i].steps[s];
	}
	if (!ops) {
		fprintf(stderr, "rtbench: no round trip completed\n");
		return;
	}
	/* per caller: the mean time one of them waited for one trip */
	us = (double)ns / ops / 1000.0;
	/* ticks are 1/100 s (USER_HZ) on every Linux we run on */
	cpu_us = total ? (double)busy * CPUSTAT_US_PER_TICK / ops : 0;
	printf("rt mode=%s threads=%u place=%s ops=%llu us=%.2f ops_per_s=%.0f cpu_us=%.2f cpu_pct=%.0f%s\n",
	       rt_mode_name[cfg->mode], cfg->threads,
	       cfg->pin >= 0 ? "pinned" : cfg->cross ? "cross" : "same",
	       (unsigned long long)ops, us, ops * 1e9 / (double)wall_ns,
	       cpu_us, total ? 100.0 * busy / total : 0.0,
	       cfg->breakdown ? " stamped=1" : "");
	if (wrong)
		printf("rt note: %u ops took another channel than asked (busy)\n",
		       wrong);
	if (!cfg->breakdown || !stamped)
		return;
	printf("breakdown mode=%s threads=%u place=%s n=%llu",
	       rt_mode_name[cfg->mode], cfg->threads,
	       cfg->cross ? "cross" : "same", (unsigned long long)stamped);
	for (s = 1; s < ZUFS_NULL_NSTAMPS; s++) {
		printf(" %s=%.2f", step[s], sum[s] / 1000.0 / stamped);
		inside += sum[s];
	}
	/* what the stamps do not cover: syscall entry and exit, ioctl path */
	printf(" syscall=%.2f total=%.2f\n",
	       user > inside ? (user - inside) / 1000.0 / stamped : 0.0,
	       user / 1000.0 / stamped);
}

/* Tell the futex servers to quit and reap them */
static void futex_servers_stop(struct rt_word *words, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		atomic_store(&words[i].v, 2);
		futex(&words[i].v, FUTEX_WAKE, 1);
	}
	while (wait(NULL) > 0)
		;
}

static int rt_run(struct rt_cfg *cfg)
{
	struct rt_thread ths[RT_MAX_THREADS];
	struct rt_word *words;
	pthread_barrier_t start;
	uint64_t b0 = 0, t0 = 0, b1 = 0, t1 = 0, w0;
	unsigned int i, opened = 0, started = 0;
	int err = 0;

	words = mmap(NULL, sizeof(*words) * cfg->threads,
		     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (words == MAP_FAILED)
		return -errno;
	memset(ths, 0, sizeof(ths));
	pthread_barrier_init(&start, NULL, cfg->threads + 1);
	for (i = 0; i < cfg->threads; i++, opened++) {
		struct rt_thread *th = &ths[i];

		th->cfg = cfg;
		th->start = &start;
		th->id = i;
		th->fd = -1;
		th->word = &words[i];
		th->cpu = cfg->pin >= 0 ? cfg->pin : (int)(i % cfg->ncpu);
		th->peer_cpu = cfg->cross ? (th->cpu + 1) % cfg->ncpu : th->cpu;
		err = rt_open(cfg, th);
		if (err)
			goto out;
	}
	for (i = 0; i < cfg->threads; i++, started++) {
		err = -pthread_create(&ths[i].thread, NULL, rt_caller, &ths[i]);
		if (err) {
			/* the barrier counts on every thread: give up whole */
			fprintf(stderr, "rtbench: thread: %s\n", strerror(-err));
			exit(1);
		}
	}
	cpu_ticks(&b0, &t0);
	w0 = now_ns();
	pthread_barrier_wait(&start);
	for (i = 0; i < started; i++)
		pthread_join(ths[i].thread, NULL);
	w0 = now_ns() - w0;
	cpu_ticks(&b1, &t1);
	for (i = 0; i < started; i++) {
		if (ths[i].err && !err) {
			err = ths[i].err;
			fprintf(stderr, "rtbench: caller %u: %s\n", i,
				strerror(-err));
		}
	}
	if (!err)
		rt_report(cfg, ths, b1 - b0, t1 - t0, w0);
out:
	if (cfg->mode == RT_FUTEX)
		futex_servers_stop(words, opened);
	for (i = 0; i < opened; i++)
		if (ths[i].fd >= 0)
			close(ths[i].fd);
	pthread_barrier_destroy(&start);
	munmap(words, sizeof(*words) * cfg->threads);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: rtbench [-t THREADS] [-T SECONDS] [-p same|cross] [-P CPU] [-b]\n"
"               futex | zufs FILE | fuse FILE\n"
"One server round trip, measured: futex (ping-pong with a server process,\n"
"the floor), zufs (ZUFS_IOC_NULL_OP on FILE of a zufs mount: ZUFS_OP_NULL\n"
"through a ZT), fuse (1-byte pread of FILE, e.g. fuse-nullfs's /data).\n"
"\n"
"  -t THREADS   callers at once (default 1, at most %d); caller i on CPU\n"
"               i mod ncpu\n"
"  -T SECONDS   how long (default 2)\n"
"  -p same      the peer (futex server, ZT channel) on the caller's CPU\n"
"  -p cross     on the next CPU\n"
"  -P CPU       pin every caller to CPU (fuse: place the daemon yourself)\n"
"  -b           zufs: also a breakdown line, mean microseconds per step\n"
"               (the stamps cost time: the us of a -b run is not the\n"
"               plain round trip)\n"
"  -h           this help\n"
"Prints: rt mode= threads= place= ops= us= ops_per_s= cpu_us= cpu_pct=\n",
		RT_MAX_THREADS);
}

static int parse_args(int argc, char **argv, struct rt_cfg *cfg)
{
	char *end;
	int c;

	cfg->threads = 1;
	cfg->secs = 2;
	cfg->pin = -1;
	while ((c = getopt(argc, argv, "t:T:p:P:bh")) != -1) {
		switch (c) {
		case 't':
			cfg->threads = strtoul(optarg, &end, 10);
			if (*end || !cfg->threads ||
			    cfg->threads > RT_MAX_THREADS)
				return -EINVAL;
			break;
		case 'T':
			cfg->secs = strtod(optarg, &end);
			if (*end || cfg->secs <= 0 || cfg->secs > 3600)
				return -EINVAL;
			break;
		case 'p':
			if (!strcmp(optarg, "cross"))
				cfg->cross = true;
			else if (strcmp(optarg, "same"))
				return -EINVAL;
			break;
		case 'P':
			cfg->pin = strtol(optarg, &end, 10);
			if (*end || cfg->pin < 0 || cfg->pin >= cfg->ncpu)
				return -EINVAL;
			break;
		case 'b':
			cfg->breakdown = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind >= argc)
		return -EINVAL;
	if (!strcmp(argv[optind], "futex")) {
		cfg->mode = RT_FUTEX;
		return optind + 1 == argc ? 0 : -EINVAL;
	}
	if (!strcmp(argv[optind], "zufs"))
		cfg->mode = RT_ZUFS;
	else if (!strcmp(argv[optind], "fuse"))
		cfg->mode = RT_FUSE;
	else
		return -EINVAL;
	if (optind + 2 != argc)
		return -EINVAL;
	cfg->file = argv[optind + 1];
	if (cfg->breakdown && cfg->mode != RT_ZUFS)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct rt_cfg cfg = { 0 };
	int err;

	cfg.ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (cfg.ncpu < 1)
		cfg.ncpu = 1;
	if (parse_args(argc, argv, &cfg)) {
		usage(stderr);
		return 2;
	}
	if (cfg.cross && cfg.ncpu < 2) {
		fprintf(stderr, "rtbench: -p cross needs 2 CPUs\n");
		return 2;
	}
	err = rt_run(&cfg);
	if (err) {
		fprintf(stderr, "rtbench: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
