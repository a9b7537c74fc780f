// SPDX-License-Identifier: BSD-3-Clause
/*
 * zstress: multi-process filesystem stress.
 *
 * The parent forks the workers (ops.c, own.c) and then only supervises:
 * it reaps them, prints progress, stops them on SIGINT/SIGTERM and runs
 * the watchdog.  The watchdog matters as much as the error checks, since
 * a rare hang is what this hunts: a worker publishes each syscall it
 * enters in a shared area, and one that stays in a syscall longer than
 * -w seconds is reported, with what the kernel says it waits on, and all
 * workers are killed (exit 3).
 */
#include "zstress.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NSEC		1000000000ull
#define PROGRESS_NS	(10 * NSEC)
#define TICK_NS		(250 * 1000000ull)
#define KILL_WAIT_NS	(10 * NSEC)

enum { EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_WATCHDOG };

struct parent {
	struct zs_opts opt;
	struct zs_shared *sh;
	pid_t *pids;		/* by worker; 0 once reaped */
	int alive;
	int signals;		/* SIGINT/SIGTERM received */
	int killed;		/* we SIGKILLed the workers */
	uint64_t failures;	/* seen by the parent: workers that crashed */
	uint64_t start, next_progress, last_time, last_ops;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: zstress [options] DIR\n"
"Several processes run random filesystem operations on a small set of\n"
"names shared in DIR, and each checks the contents of a private file.\n"
"\n"
"  -p N        worker processes (default 4, at most %d)\n"
"  -d SECS     run time (default 30; 0: no limit; with -n and no -d: none)\n"
"  -n N        stop each worker after N operations (default: no limit)\n"
"  -s SEED     random seed (default: from time and pid); worker i uses\n"
"              SEED+i\n"
"  -w SECS     watchdog: a syscall taking longer than SECS is reported and\n"
"              all workers are killed (default 120)\n"
"  -q          no progress lines\n"
"  -h, --help  this help\n"
"\n"
"Exit status: 0 no failure, 1 failures, 2 usage error, 3 watchdog fired.\n",
		ZS_MAX_WORKERS);
}

static uint64_t parse_num(const char *s, const char *what, uint64_t min,
			  uint64_t max)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, "zstress: bad %s '%s' (%" PRIu64 "..%" PRIu64
			")\n", what, s, min, max);
		exit(EXIT_USAGE);
	}
	return v;
}

static void parse_args(struct zs_opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, timed = 0, seeded = 0;

	o->nworkers = 4;
	o->seconds = 30;
	o->watchdog = 120;
	while ((c = getopt_long(argc, argv, "p:d:n:s:w:qh", lopts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			o->nworkers = parse_num(optarg, "worker count", 1,
						ZS_MAX_WORKERS);
			break;
		case 'd':
			o->seconds = parse_num(optarg, "run time", 0, 1 << 30);
			timed = 1;
			break;
		case 'n':
			o->nops = parse_num(optarg, "op count", 0, LONG_MAX);
			break;
		case 's':
			o->seed = parse_num(optarg, "seed", 0, UINT64_MAX);
			seeded = 1;
			break;
		case 'w':
			o->watchdog = parse_num(optarg, "watchdog time", 1,
						1 << 30);
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "zstress: %s\n", optind == argc ?
			"no DIR given" : "only one DIR, please");
		usage(stderr);
		exit(EXIT_USAGE);
	}
	o->dir = argv[optind];
	if (o->nops && !timed)
		o->seconds = 0;
	if (!seeded)
		o->seed = (uint64_t)time(NULL) * 1000003u ^ getpid();
}

static void check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st)) {
		fprintf(stderr, "zstress: %s: %s\n", dir, strerror(errno));
		exit(EXIT_USAGE);
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "zstress: %s: not a directory\n", dir);
		exit(EXIT_USAGE);
	}
}

static uint64_t total_failures(struct parent *p)
{
	uint64_t n = p->failures;
	int i;

	for (i = 0; i < p->opt.nworkers; i++)
		n += atomic_load(&p->sh->slot[i].failures);
	return n;
}

static uint64_t total_ops(struct parent *p)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < p->opt.nworkers; i++)
		n += atomic_load(&p->sh->slot[i].nops);
	return n;
}

/* ---- workers ---- */

static void start_workers(struct parent *p)
{
	pid_t pid;
	int i;

	/* Else each child would write our buffered output again. */
	fflush(NULL);
	for (i = 0; i < p->opt.nworkers; i++) {
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "zstress: fork: %s\n", strerror(errno));
			p->failures++;
			atomic_store(&p->sh->stop, 1);
			return;
		}
		if (!pid)
			zs_worker_main(&p->opt, p->sh, i);
		p->pids[i] = pid;
		p->sh->slot[i].pid = pid;
		p->alive++;
	}
}

static void kill_all(struct parent *p)
{
	int i;

	p->killed = 1;
	for (i = 0; i < p->opt.nworkers; i++)
		if (p->pids[i])
			kill(p->pids[i], SIGKILL);
}

static int worker_of(struct parent *p, pid_t pid)
{
	int i;

	for (i = 0; i < p->opt.nworkers; i++)
		if (p->pids[i] == pid)
			return i;
	return -1;
}

/* Reap exited workers; a crash is a failure, exit 1 was counted already. */
static void reap(struct parent *p)
{
	struct zs_slot *s;
	int status, i;
	pid_t pid;

	while (p->alive && (pid = waitpid(-1, &status, WNOHANG)) > 0) {
		i = worker_of(p, pid);
		if (i < 0)
			continue;
		p->pids[i] = 0;
		p->alive--;
		s = &p->sh->slot[i];
		if (WIFSIGNALED(status) && !p->killed) {
			fprintf(stderr, "zstress: worker %d (pid %d) killed by "
				"signal %d (%s) in op #%" PRIu64 " %s %s "
				"(seed %" PRIu64 ")\n", i, (int)pid,
				WTERMSIG(status), strsignal(WTERMSIG(status)),
				s->opnum, s->opname, s->path, p->opt.seed);
			p->failures++;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) > 1) {
			fprintf(stderr, "zstress: worker %d (pid %d) exited "
				"with status %d\n", i, (int)pid,
				WEXITSTATUS(status));
			p->failures++;
		}
	}
}

/* ---- watchdog ---- */

/* Copy a string from a worker's slot, terminated even if torn. */
static void snap(char *dst, const char *src, size_t size)
{
	memcpy(dst, src, size);
	dst[size - 1] = 0;
}

/*
 * One line on what worker i is doing; returns how long it has been in
 * its current syscall (0: not in one).
 */
static uint64_t describe(struct parent *p, int i, const char *prefix)
{
	struct zs_slot *s = &p->sh->slot[i];
	char op[sizeof(s->opname)], sys[sizeof(s->sysname)];
	char path[sizeof(s->path)];
	uint64_t start, opnum, now;

	start = atomic_load_explicit(&s->sys_start, memory_order_acquire);
	opnum = s->opnum;
	snap(op, s->opname, sizeof(op));
	snap(sys, s->sysname, sizeof(sys));
	snap(path, s->path, sizeof(path));
	now = zs_now();
	/* Moved on while we copied: the strings may be torn, say less. */
	if (start != atomic_load(&s->sys_start))
		start = 0;
	fprintf(stderr, "%sworker %d (pid %d): ", prefix, i, (int)s->pid);
	if (start && now > start)
		fprintf(stderr, "in %s for %.1fs, ", sys,
			(double)(now - start) / NSEC);
	else
		fprintf(stderr, "not in a syscall, ");
	fprintf(stderr, "op #%" PRIu64 " %s %s\n", opnum, op, path);
	return start && now > start ? now - start : 0;
}

/* Copy /proc/PID/FILE to stderr, each line after PREFIX; quiet if absent. */
static void print_proc(pid_t pid, const char *file, const char *prefix)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "%s%s%s", prefix, line,
			strchr(line, '\n') ? "" : "\n");
	fclose(f);
}

/* The state letter of /proc/PID/stat (D: uninterruptible), or '?'. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	paren = strrchr(buf, ')');
	return paren && paren[1] && paren[2] ? paren[2] : '?';
}

/*
 * SIGKILL cannot end a task in uninterruptible sleep: give up on those
 * after a while (init reaps them if they ever finish) and say so.
 */
static void wait_gone(struct parent *p)
{
	struct timespec nap = { 0, 50 * 1000000 };
	uint64_t end = zs_now() + KILL_WAIT_NS;
	int i;

	reap(p);
	while (p->alive && zs_now() < end) {
		nanosleep(&nap, NULL);
		reap(p);
	}
	for (i = 0; i < p->opt.nworkers; i++)
		if (p->pids[i])
			fprintf(stderr, "zstress: worker %d (pid %d) still "
				"there %llus after SIGKILL, state %c\n", i,
				(int)p->pids[i], KILL_WAIT_NS / NSEC,
				proc_state(p->pids[i]));
}

/* What the kernel says the stuck worker waits on. */
static void report_stuck(struct parent *p, int w)
{
	pid_t pid = p->sh->slot[w].pid;
	int i;

	fflush(stdout);
	fprintf(stderr, "zstress: watchdog: a syscall took over %lds "
		"(seed %" PRIu64 ")\n", p->opt.watchdog, p->opt.seed);
	describe(p, w, "zstress: stuck: ");
	fprintf(stderr, "zstress:   state %c, wchan ", proc_state(pid));
	print_proc(pid, "wchan", "");
	fprintf(stderr, "zstress:   syscall (nr args sp pc): ");
	print_proc(pid, "syscall", "");
	fprintf(stderr, "zstress:   kernel stack (root only):\n");
	print_proc(pid, "stack", "    ");
	for (i = 0; i < p->opt.nworkers; i++)
		if (i != w && p->pids[i])
			describe(p, i, "zstress:   other: ");
}

/* Fire if a worker has been in one syscall for longer than -w. */
static int watchdog(struct parent *p)
{
	uint64_t limit = p->opt.watchdog * NSEC, start, now = zs_now();
	int i;

	for (i = 0; i < p->opt.nworkers; i++) {
		if (!p->pids[i])
			continue;
		start = atomic_load_explicit(&p->sh->slot[i].sys_start,
					     memory_order_acquire);
		if (start && now > start && now - start > limit)
			break;
	}
	if (i == p->opt.nworkers)
		return 0;
	report_stuck(p, i);
	fprintf(stderr, "zstress: watchdog: killing all workers\n");
	kill_all(p);
	wait_gone(p);
	return 1;
}

/* ---- the parent's loop ---- */

static void on_signal(struct parent *p, int sig)
{
	if (p->signals++) {
		fprintf(stderr, "zstress: %s again: killing the workers\n",
			strsignal(sig));
		kill_all(p);
		return;
	}
	fprintf(stderr, "zstress: %s: stopping the workers (again to kill "
		"them)\n", strsignal(sig));
	atomic_store(&p->sh->stop, 1);
}

static void progress(struct parent *p)
{
	uint64_t now = zs_now(), ops;

	if (p->opt.quiet || now < p->next_progress)
		return;
	ops = total_ops(p);
	printf("zstress: %5.0fs: %" PRIu64 " ops, %.0f ops/s, %" PRIu64
	       " failures\n", (double)(now - p->start) / NSEC, ops,
	       (ops - p->last_ops) * (double)NSEC / (now - p->last_time),
	       total_failures(p));
	fflush(stdout);
	p->last_ops = ops;
	p->last_time = now;
	while (p->next_progress <= now)
		p->next_progress += PROGRESS_NS;
}

/* Until all workers are gone; 1 if the watchdog fired. */
static int supervise(struct parent *p)
{
	struct timespec tick = { 0, TICK_NS };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while (p->alive) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGINT || sig == SIGTERM)
			on_signal(p, sig);
		reap(p);
		if (watchdog(p))
			return 1;
		progress(p);
	}
	return 0;
}

/* ---- summary ---- */

static const char *errname(int e)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{ ENOENT, "ENOENT" }, { ENOTDIR, "ENOTDIR" },
		{ ELOOP, "ELOOP" }, { EISDIR, "EISDIR" },
		{ EEXIST, "EEXIST" }, { ENOTEMPTY, "ENOTEMPTY" },
		{ EINVAL, "EINVAL" }, { EMLINK, "EMLINK" },
		{ EPERM, "EPERM" }, { ENOSPC, "ENOSPC" },
		{ ENODATA, "ENODATA" }, { ENXIO, "ENXIO" },
		{ EOPNOTSUPP, "EOPNOTSUPP" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].name;
	return strerror(e);
}

struct totals {
	uint64_t count[ZS_MAX_OPS];
	uint64_t ok[ZS_MAX_OPS][ZS_MAX_OK];
	uint64_t failed[ZS_MAX_OPS];
	uint64_t ops, sigbus, resync;
};

static void add_up(struct parent *p, struct totals *t)
{
	struct zs_slot *s;
	int i, op, k;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < p->opt.nworkers; i++) {
		s = &p->sh->slot[i];
		for (op = 0; op < zs_nops; op++) {
			t->count[op] += s->count[op];
			t->failed[op] += s->failed[op];
			for (k = 0; k < ZS_MAX_OK; k++)
				t->ok[op][k] += s->okcount[op][k];
		}
		t->ops += atomic_load(&s->nops);
		t->sigbus += s->sigbus;
		t->resync += s->resync;
	}
}

static void summary(struct parent *p, const char *how)
{
	double secs = (double)(zs_now() - p->start) / NSEC;
	uint64_t fails = total_failures(p);
	struct totals *t = calloc(1, sizeof(*t));
	int op, k;

	if (!t)
		return;
	add_up(p, t);
	printf("zstress: %s after %.1fs: %" PRIu64 " ops, %.0f ops/s, %d "
	       "workers, seed %" PRIu64 "\n", how, secs, t->ops,
	       secs > 0 ? t->ops / secs : 0.0, p->opt.nworkers, p->opt.seed);
	printf("zstress:   %-12s %10s  allowed errors\n", "op", "count");
	for (op = 0; op < zs_nops; op++) {
		if (!t->count[op] && !t->failed[op])
			continue;
		printf("zstress:   %-12s %10" PRIu64, zs_ops[op].name,
		       t->count[op]);
		for (k = 0; k < ZS_MAX_OK && zs_ops[op].ok[k]; k++)
			if (t->ok[op][k])
				printf("  %s %" PRIu64,
				       errname(zs_ops[op].ok[k]), t->ok[op][k]);
		if (t->failed[op])
			printf("  FAILURES %" PRIu64, t->failed[op]);
		putchar('\n');
	}
	printf("zstress: SIGBUS in shared mmaps (file shrank under them): %"
	       PRIu64 "\n", t->sigbus);
	if (t->resync)
		printf("zstress: own-file shadows reloaded %" PRIu64 " times "
		       "(after ENOSPC or a failure)\n", t->resync);
	printf("zstress: %" PRIu64 " failure%s\n", fails,
	       fails == 1 ? "" : "s");
	fflush(stdout);
	free(t);
}

static void print_start(struct parent *p)
{
	const struct zs_opts *o = &p->opt;

	printf("zstress: %d workers in %s, ", o->nworkers, o->dir);
	if (o->seconds && o->nops)
		printf("%lds or %ld ops each", o->seconds, o->nops);
	else if (o->seconds)
		printf("%lds", o->seconds);
	else if (o->nops)
		printf("%ld ops each", o->nops);
	else
		printf("until interrupted");
	printf(", seed %" PRIu64 " (worker i: seed+i), watchdog %lds\n",
	       o->seed, o->watchdog);
}

int main(int argc, char **argv)
{
	struct parent p = { 0 };
	size_t shlen;
	int fired, status;
	sigset_t set;

	parse_args(&p.opt, argc, argv);
	check_dir(p.opt.dir);
	shlen = sizeof(*p.sh) + p.opt.nworkers * sizeof(p.sh->slot[0]);
	p.sh = mmap(NULL, shlen, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	p.pids = calloc(p.opt.nworkers, sizeof(*p.pids));
	if (p.sh == MAP_FAILED || !p.pids) {
		fprintf(stderr, "zstress: out of memory\n");
		return EXIT_FAIL;
	}
	/*
	 * The parent takes these with sigtimedwait().  The workers inherit
	 * the mask: a ^C reaches the whole process group, but only the
	 * parent acts on it, by asking the workers to finish their op and
	 * check their file one last time.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	p.opt.parent = getpid();
	p.start = p.last_time = zs_now();
	p.next_progress = p.start + PROGRESS_NS;
	if (p.opt.seconds)
		p.opt.deadline = p.start + p.opt.seconds * NSEC;
	print_start(&p);
	start_workers(&p);
	fired = supervise(&p);
	summary(&p, fired ? "killed by the watchdog" :
		p.signals ? "interrupted" : "done");
	status = fired ? EXIT_WATCHDOG :
		 total_failures(&p) ? EXIT_FAIL : EXIT_OK;
	munmap(p.sh, shlen);
	free(p.pids);
	return status;
}
