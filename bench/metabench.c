// SPDX-License-Identifier: BSD-3-Clause
/*
 * metabench: metadata micro-benchmark for the zufs benchmark suite.
 *
 * Creates N small files in a directory, stats each one, renames each one
 * (to a new name in the same directory), then unlinks each one, timing
 * every call.  Each phase reports operations per second and the
 * mean and 99th-percentile latency of one operation, on one line:
 *
 *   create threads=1 ops=5000 secs=0.512 ops_per_s=9765.6 mean_us=102.4 p99_us=180.0 cpu_us=98.0
 *
 * cpu_us is the busy time of all CPUs during the phase (/proc/stat, 10 ms
 * ticks) per operation: the server's share too, and what polling burns.
 *
 * With -t T, T threads work at once, each in its own subdirectory, so the
 * numbers show how metadata operations scale on separate directories.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cpustat.h"

enum mb_phase { MB_CREATE, MB_STAT, MB_RENAME, MB_UNLINK, MB_NR_PHASES };

static const char *const mb_phase_name[MB_NR_PHASES] = {
	[MB_CREATE] = "create",
	[MB_STAT] = "stat",
	[MB_RENAME] = "rename",
	[MB_UNLINK] = "unlink",
};

struct mb_cfg {
	const char *dir;
	unsigned long files;	/* per thread */
	unsigned int threads;
	size_t fsize;		/* bytes written into each new file */
	double limit_s;		/* create/stat/rename stop after this (0: no) */
};

struct mb_thread {
	const struct mb_cfg *cfg;
	pthread_barrier_t *barrier;
	unsigned int id;
	char subdir[4096];
	uint64_t *lat[MB_NR_PHASES];	/* ns, one per file */
	unsigned long done[MB_NR_PHASES];	/* operations timed */
	unsigned long created;		/* files that exist */
	unsigned long renamed;		/* of them, f<i> renamed to r<i> */
	int err;			/* first errno seen */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int mb_create_one(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (len && write(fd, buf, len) != (ssize_t)len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static int mb_do_one(enum mb_phase ph, const char *path, const char *to,
		     const char *buf, size_t len)
{
	struct stat st;

	switch (ph) {
	case MB_CREATE:
		return mb_create_one(path, buf, len);
	case MB_STAT:
		return stat(path, &st) ? -errno : 0;
	case MB_RENAME:
		return rename(path, to) ? -errno : 0;
	case MB_UNLINK:
		return unlink(path) ? -errno : 0;
	default:
		return -EINVAL;
	}
}

/*
 * A time limit ends create early on a slow filesystem; stat and rename
 * then cover what was created, or what fits in their own limit.  Unlink
 * is never cut short: it also cleans up (r<i> up to renamed, f<i> after).
 */
static int mb_run_phase(struct mb_thread *t, enum mb_phase ph, const char *buf)
{
	const struct mb_cfg *cfg = t->cfg;
	unsigned long i, n = ph == MB_CREATE ? cfg->files : t->created;
	uint64_t t0, deadline = UINT64_MAX;
	char path[4200], to[4200];
	int err = 0;

	if (cfg->limit_s > 0 && ph != MB_UNLINK)
		deadline = now_ns() + (uint64_t)(cfg->limit_s * 1e9);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%c%lu", t->subdir,
			 ph == MB_UNLINK && i < t->renamed ? 'r' : 'f', i);
		snprintf(to, sizeof(to), "%s/r%lu", t->subdir, i);
		t0 = now_ns();
		err = mb_do_one(ph, path, to, buf, cfg->fsize);
		t->lat[ph][i] = now_ns() - t0;
		if (err)
			break;
		if (ph == MB_CREATE)
			t->created = i + 1;
		if (ph == MB_RENAME)
			t->renamed = i + 1;
		if (t0 > deadline) {
			i++;
			break;
		}
	}
	t->done[ph] = i;
	if (ph == MB_UNLINK && !err)
		t->created = t->renamed = 0;
	return err;
}

static void *mb_thread_main(void *arg)
{
	struct mb_thread *t = arg;
	char *buf = calloc(1, t->cfg->fsize ? t->cfg->fsize : 1);
	int ph;

	if (!buf)
		t->err = -ENOMEM;
	/* every thread takes part in every barrier, even after an error,
	 * so that the others never wait forever */
	for (ph = 0; ph < MB_NR_PHASES; ph++) {
		pthread_barrier_wait(t->barrier);
		if (!t->err)
			t->err = mb_run_phase(t, (enum mb_phase)ph, buf);
		pthread_barrier_wait(t->barrier);
	}
	free(buf);
	return NULL;
}

/* no /proc/stat (an odd chroot): 0, and cpu_us says 0 rather than fail */
static uint64_t busy_ticks(void)
{
	uint64_t busy = 0, total;

	return cpu_ticks(&busy, &total) ? 0 : busy;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Merge all threads' latencies of one phase and print its line. */
static int mb_report(struct mb_thread *th, const struct mb_cfg *cfg,
		     enum mb_phase ph, uint64_t wall_ns, uint64_t busy)
{
	size_t n = 0, i, k = 0;
	uint64_t *all;
	double sum = 0;
	unsigned int t;

	for (t = 0; t < cfg->threads; t++)
		n += th[t].done[ph];
	if (!n)
		return -ENODATA;
	all = malloc(n * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (t = 0; t < cfg->threads; t++)
		for (i = 0; i < th[t].done[ph]; i++) {
			all[k] = th[t].lat[ph][i];
			sum += (double)all[k++];
		}
	qsort(all, n, sizeof(*all), cmp_u64);
	printf("%s threads=%u ops=%zu secs=%.3f ops_per_s=%.1f mean_us=%.2f p99_us=%.2f cpu_us=%.2f\n",
	       mb_phase_name[ph], cfg->threads, n, wall_ns / 1e9,
	       n / (wall_ns / 1e9), sum / n / 1e3,
	       all[(n * 99 + 99) / 100 - 1] / 1e3,
	       busy * CPUSTAT_US_PER_TICK / n);
	free(all);
	return 0;
}

static int mb_alloc_threads(struct mb_thread *th, const struct mb_cfg *cfg,
			    pthread_barrier_t *bar)
{
	unsigned int t;
	int ph;

	for (t = 0; t < cfg->threads; t++) {
		th[t].cfg = cfg;
		th[t].barrier = bar;
		th[t].id = t;
		snprintf(th[t].subdir, sizeof(th[t].subdir), "%s/mb.%d.%u",
			 cfg->dir, (int)getpid(), t);
		if (mkdir(th[t].subdir, 0755)) {
			fprintf(stderr, "metabench: mkdir %s: %s\n",
				th[t].subdir, strerror(errno));
			return -errno;
		}
		for (ph = 0; ph < MB_NR_PHASES; ph++) {
			th[t].lat[ph] = calloc(cfg->files, sizeof(uint64_t));
			if (!th[t].lat[ph])
				return -ENOMEM;
		}
	}
	return 0;
}

static void mb_free_threads(struct mb_thread *th, const struct mb_cfg *cfg)
{
	unsigned int t;
	int ph;

	for (t = 0; t < cfg->threads; t++) {
		for (ph = 0; ph < MB_NR_PHASES; ph++)
			free(th[t].lat[ph]);
		if (th[t].subdir[0])
			rmdir(th[t].subdir);
	}
}

/* Start the threads, time each phase between the barriers, report. */
static int mb_run(struct mb_thread *th, const struct mb_cfg *cfg,
		  pthread_barrier_t *bar)
{
	pthread_t *tid = calloc(cfg->threads, sizeof(*tid));
	uint64_t wall[MB_NR_PHASES], busy[MB_NR_PHASES], t0, b0;
	unsigned int t, started = 0;
	int ph, err = 0;

	if (!tid)
		return -ENOMEM;
	for (t = 0; t < cfg->threads; t++, started++)
		if (pthread_create(&tid[t], NULL, mb_thread_main, &th[t]))
			break;
	if (started < cfg->threads) {
		/* the barrier counts on everybody: cannot go on */
		fprintf(stderr, "metabench: cannot start threads\n");
		exit(1);
	}
	for (ph = 0; ph < MB_NR_PHASES; ph++) {
		pthread_barrier_wait(bar);
		t0 = now_ns();
		b0 = busy_ticks();
		pthread_barrier_wait(bar);
		wall[ph] = now_ns() - t0;
		busy[ph] = b0 ? busy_ticks() - b0 : 0;
	}
	for (t = 0; t < cfg->threads; t++) {
		pthread_join(tid[t], NULL);
		if (th[t].err && !err)
			err = th[t].err;
	}
	free(tid);
	if (err) {
		fprintf(stderr, "metabench: %s\n", strerror(-err));
		return err;
	}
	for (ph = 0; ph < MB_NR_PHASES && !err; ph++)
		err = mb_report(th, cfg, (enum mb_phase)ph, wall[ph],
				busy[ph]);
	return err;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [-n FILES] [-t THREADS] [-s BYTES] [-T SECONDS] DIR\n"
		"\n"
		"Metadata benchmark: creates FILES files (per thread) in a fresh\n"
		"subdirectory of DIR, stats them, renames them (f<i> to r<i>),\n"
		"unlinks them, and prints for each phase the operations per second,\n"
		"the mean and p99 latency of one operation and the busy time of all\n"
		"CPUs per operation (cpu_us, from /proc/stat: the server's too)\n"
		"(create = open(O_CREAT|O_EXCL) [+ write] + close).\n"
		"\n"
		"  -n FILES    files per thread (default 2000)\n"
		"  -t THREADS  threads, each in its own subdirectory (default 1)\n"
		"  -s BYTES    bytes written into each new file (default 0)\n"
		"  -T SECONDS  stop the create, stat and rename phases after this\n"
		"              long (the later phases cover the files created)\n"
		"  -h, --help  this text\n", prog);
}

static int parse_args(int argc, char **argv, struct mb_cfg *cfg)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "n:t:s:T:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			cfg->files = strtoul(optarg, &end, 0);
			if (*end || !cfg->files)
				return -EINVAL;
			break;
		case 't':
			cfg->threads = (unsigned int)strtoul(optarg, &end, 0);
			if (*end || !cfg->threads || cfg->threads > 1024)
				return -EINVAL;
			break;
		case 's':
			cfg->fsize = strtoul(optarg, &end, 0);
			if (*end || cfg->fsize > (64u << 20))
				return -EINVAL;
			break;
		case 'T':
			cfg->limit_s = strtod(optarg, &end);
			if (*end || cfg->limit_s < 0)
				return -EINVAL;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc - 1)
		return -EINVAL;
	cfg->dir = argv[optind];
	return 0;
}

int main(int argc, char **argv)
{
	struct mb_cfg cfg = { .files = 2000, .threads = 1 };
	pthread_barrier_t bar;
	struct mb_thread *th;
	int err;

	if (parse_args(argc, argv, &cfg)) {
		usage(stderr, argv[0]);
		return 2;
	}
	th = calloc(cfg.threads, sizeof(*th));
	if (!th)
		return 1;
	/* the threads plus the timing thread meet at each barrier */
	pthread_barrier_init(&bar, NULL, cfg.threads + 1);
	err = mb_alloc_threads(th, &cfg, &bar);
	if (!err)
		err = mb_run(th, &cfg, &bar);
	mb_free_threads(th, &cfg);
	pthread_barrier_destroy(&bar);
	free(th);
	return err ? 1 : 0;
}
