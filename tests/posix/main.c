// SPDX-License-Identifier: BSD-3-Clause
/*
 * posix-test: runner.  Parses options, creates the scratch directory, runs
 * every selected test in its own child process and directory, and prints
 * one line per test and a summary.
 */
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "pt.h"

struct pt_config pt_cfg = {
	.uid = 65534,
	.gid = 65534,
	.scale = 100,
};

static const struct pt_group groups[] = {
	{ "namei", pt_namei_tests },
	{ "at", pt_at_tests },
	{ "dir", pt_dir_tests },
	{ "readdir", pt_readdir_tests },
	{ "attr", pt_attr_tests },
	{ "time", pt_time_tests },
	{ "rw", pt_rw_tests },
	{ "link", pt_link_tests },
	{ "symlink", pt_symlink_tests },
	{ "rename", pt_rename_tests },
	{ "perm", pt_perm_tests },
	{ "special", pt_special_tests },
	{ "xattr", pt_xattr_tests },
	{ "sync", pt_sync_tests },
	{ "space", pt_space_tests },
	{ "falloc", pt_falloc_tests },
	{ "copy", pt_copy_tests },
	{ "caps", pt_caps_tests },
	{ "tmpfile", pt_tmpfile_tests },
	{ "mmap", pt_mmap_tests },
	{ "reflink", pt_reflink_tests },
};

/* Result of one test, shared between the runner and the test child. */
struct shared_result {
	int status;
	char msg[2048];
};

static struct shared_result *res;
static const char *cur_test;

static struct {
	int keep;
	int slow;
	unsigned int timeout;
	const char **only;
	int nonly;
	const char **excl;
	int nexcl;
	int xattr_ok;
	int topfd;
	int passed, failed, skipped;
} opt = {
	.timeout = 900,
};

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int pt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (res->status != PT_FAIL) {
		n = snprintf(res->msg, sizeof(res->msg), "%s:%d: ",
			     base(file), line);
		va_start(ap, fmt);
		vsnprintf(res->msg + n, sizeof(res->msg) - n, fmt, ap);
		va_end(ap);
	}
	res->status = PT_FAIL;
	return PT_FAIL;
}

int pt_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
	res->status = PT_SKIP;
	return PT_SKIP;
}

int pt_unsupported(const char *file, int line, const char *what, int err)
{
	if (pt_cfg.strict)
		return pt_fail(file, line, "%s: not supported (%s) [-R]",
			       what, pt_errname(err));
	return pt_skip("%s not supported (%s)", what, pt_errname(err));
}

void pt_info(const char *fmt, ...)
{
	va_list ap;

	if (!pt_cfg.verbose)
		return;
	printf("# %s: ", cur_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: posix-test [options] DIR\n"
"Run POSIX/Linux conformance tests in a scratch subdirectory of DIR.\n"
"\n"
"  -v         verbose: timings and informational notes\n"
"  -k         keep the scratch directory (do not clean up)\n"
"  -l         list the tests and exit\n"
"  -o NAME    run only tests matching NAME (test or group name, glob;\n"
"             repeatable, comma-separated)\n"
"  -x NAME    exclude tests matching NAME (same syntax)\n"
"  -s         also run slow tests (fill the filesystem to ENOSPC)\n"
"  -n N       run readdir_big with N entries (or env BIG=N)\n"
"  -S PCT     make only PCT percent (1-100, at least 50) of the entries\n"
"             of the readdir group and many_lookups (default 100), for\n"
"             filesystems where each create is a slow round trip\n"
"  -u UID[:GID]  unprivileged ids for permission tests (65534:65534)\n"
"  -m DIR2    scratch dir on another mount, for EXDEV tests\n"
"  -R         strict: missing optional features fail instead of skip\n"
"  -t SECS    per-test timeout (default 900)\n"
"  -h, --help this help\n"
"\n"
"Prints 'ok NAME', 'FAIL NAME: file:line: ...' or 'skip NAME: why' per\n"
"test and finally 'N passed, M failed[, K skipped]'; exits 1 on failure.\n"
"Permission tests need root (they switch to the unprivileged uid).\n");
}

static void add_names(const char ***v, int *n, char *arg)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		*v = realloc(*v, (*n + 1) * sizeof(**v));
		if (!*v)
			exit(2);
		(*v)[(*n)++] = tok;
	}
}

static int matches(const char **v, int n, const char *group,
		   const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!fnmatch(v[i], name, 0) || !fnmatch(v[i], group, 0))
			return 1;
	return 0;
}

static int selected(const struct pt_group *g, const struct pt_test *t)
{
	if (opt.nonly && !matches(opt.only, opt.nonly, g->name, t->name))
		return 0;
	return !matches(opt.excl, opt.nexcl, g->name, t->name);
}

static void list_tests(void)
{
	const struct pt_test *t;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(groups); i++)
		for (t = groups[i].tests; t->name; t++)
			printf("%-8s %s%s%s%s%s\n", groups[i].name, t->name,
			       t->flags & PT_ROOT ? " [root]" : "",
			       t->flags & PT_XATTR ? " [xattr]" : "",
			       t->flags & PT_SLOW ? " [-s]" : "",
			       t->flags & PT_BIG ? " [-n]" : "");
}

static long parse_num(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s == '\0' || *end || v < 0) {
		fprintf(stderr, "posix-test: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static long parse_pct(const char *s)
{
	long v = parse_num(s, "percentage");

	if (v < 1 || v > 100) {
		fprintf(stderr, "posix-test: percentage '%s' not in 1-100\n", s);
		exit(2);
	}
	return v;
}

long pt_scaled(long n)
{
	long m;

	if (n <= PT_SCALE_MIN)
		return n;
	m = n * pt_cfg.scale / 100;
	return m > PT_SCALE_MIN ? m : PT_SCALE_MIN;
}

static void parse_ids(const char *s)
{
	char *end;
	long uid = strtol(s, &end, 0);

	if (end == s || uid <= 0 || (*end && *end != ':')) {
		fprintf(stderr, "posix-test: bad uid '%s'\n", s);
		exit(2);
	}
	pt_cfg.uid = uid;
	pt_cfg.gid = *end == ':' ? parse_num(end + 1, "gid") : uid;
}

static const char *parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "vklo:x:sn:S:u:m:Rt:h", lopts,
				NULL)) != -1) {
		switch (c) {
		case 'v': pt_cfg.verbose = 1; break;
		case 'k': opt.keep = 1; break;
		case 'l': list_tests(); exit(0);
		case 'o': add_names(&opt.only, &opt.nonly, optarg); break;
		case 'x': add_names(&opt.excl, &opt.nexcl, optarg); break;
		case 's': opt.slow = 1; break;
		case 'n': pt_cfg.big = parse_num(optarg, "count"); break;
		case 'S': pt_cfg.scale = parse_pct(optarg); break;
		case 'u': parse_ids(optarg); break;
		case 'm': pt_cfg.dir2 = optarg; break;
		case 'R': pt_cfg.strict = 1; break;
		case 't': opt.timeout = parse_num(optarg, "timeout"); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		exit(2);
	}
	return argv[optind];
}

static void print_result(const char *name, int status, const char *msg,
			 double secs)
{
	switch (status) {
	case PT_PASS:
		opt.passed++;
		if (pt_cfg.verbose)
			printf("ok %s (%.2fs)\n", name, secs);
		else
			printf("ok %s\n", name);
		break;
	case PT_SKIP:
		opt.skipped++;
		printf("skip %s: %s\n", name, msg);
		break;
	default:
		opt.failed++;
		printf("FAIL %s: %s\n", name, msg);
		break;
	}
	fflush(stdout);
}

static void child(const struct pt_test *t, int dfd)
{
	int st;

	if (fchdir(dfd)) {
		pt_fail(__FILE__, __LINE__, "fchdir: %s", pt_errname(errno));
		_exit(0);
	}
	close(dfd);
	close(opt.topfd);
	umask(0);
	alarm(opt.timeout);
	st = t->fn();
	if (st != res->status && st == PT_PASS)
		st = res->status;	/* a helper recorded a failure */
	res->status = st;
	fflush(stdout);
	_exit(0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void wait_child(pid_t pid)
{
	int ws;

	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return;
	if (WIFSIGNALED(ws) && res->status != PT_FAIL) {
		res->status = PT_FAIL;
		if (WTERMSIG(ws) == SIGALRM)
			snprintf(res->msg, sizeof(res->msg),
				 "timed out after %us", opt.timeout);
		else
			snprintf(res->msg, sizeof(res->msg),
				 "killed by signal %d (%s)", WTERMSIG(ws),
				 strsignal(WTERMSIG(ws)));
	} else if (WIFEXITED(ws) && WEXITSTATUS(ws) &&
		   res->status != PT_FAIL) {
		res->status = PT_FAIL;
		snprintf(res->msg, sizeof(res->msg), "exited with status %d",
			 WEXITSTATUS(ws));
	}
}

static void cleanup_test(const char *name)
{
	int err;

	if (opt.keep)
		return;
	err = pt_rmtree_at(opt.topfd, name);
	if (err && res->status != PT_FAIL) {
		res->status = PT_FAIL;
		snprintf(res->msg, sizeof(res->msg),
			 "cleanup: removing the test directory failed (%s)",
			 pt_errname(-err));
	}
}

static void run_test(const struct pt_test *t)
{
	double t0 = now();
	pid_t pid;
	int dfd;

	memset(res, 0, sizeof(*res));
	cur_test = t->name;
	if (mkdirat(opt.topfd, t->name, 0755) ||
	    (dfd = openat(opt.topfd, t->name, O_RDONLY | O_DIRECTORY)) < 0) {
		snprintf(res->msg, sizeof(res->msg),
			 "cannot create test directory (%s)",
			 pt_errname(errno));
		print_result(t->name, PT_FAIL, res->msg, 0);
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("posix-test: fork");
		exit(2);
	}
	if (pid == 0)
		child(t, dfd);
	close(dfd);
	wait_child(pid);
	cleanup_test(t->name);
	print_result(t->name, res->status, res->msg, now() - t0);
}

/* Returns a reason to skip t without running it, or NULL. */
static const char *skip_reason(const struct pt_test *t)
{
	if ((t->flags & PT_ROOT) && !pt_cfg.is_root)
		return "needs root";
	if ((t->flags & PT_SLOW) && !opt.slow)
		return "slow, enable with -s";
	if ((t->flags & PT_BIG) && !pt_cfg.big)
		return "enable with -n N or BIG=N";
	return NULL;
}

static void run_group(const struct pt_group *g)
{
	const struct pt_test *t;
	const char *why;
	int nx = 0;

	for (t = g->tests; t->name; t++) {
		if (!selected(g, t))
			continue;
		if ((t->flags & PT_XATTR) && !opt.xattr_ok) {
			nx++;
			continue;
		}
		why = skip_reason(t);
		if (why)
			print_result(t->name, PT_SKIP, why, 0);
		else
			run_test(t);
	}
	if (nx) {
		printf("skip %s: user.* xattrs not supported (%d tests)\n",
		       g->name, nx);
		opt.skipped += nx;
	}
}

static int probe_xattr(void)
{
	static const char name[] = ".xattr-probe";
	int fd, r;

	fd = openat(opt.topfd, name, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return 0;
	r = fsetxattr(fd, "user.pt_probe", "1", 1, 0) ? errno : 0;
	close(fd);
	unlinkat(opt.topfd, name, 0);
	/* Only EOPNOTSUPP means "no xattrs"; other errors should be seen. */
	return r != EOPNOTSUPP;
}

static void make_topdir(const char *dir)
{
	char path[PATH_MAX], *abs;

	abs = realpath(dir, NULL);
	if (!abs) {
		fprintf(stderr, "posix-test: %s: %s\n", dir, strerror(errno));
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/posix-test.XXXXXX", abs);
	free(abs);
	if (!mkdtemp(path) || chmod(path, 0755)) {
		fprintf(stderr, "posix-test: mkdir %s: %s\n", path,
			strerror(errno));
		exit(2);
	}
	opt.topfd = open(path, O_RDONLY | O_DIRECTORY);
	if (opt.topfd < 0) {
		fprintf(stderr, "posix-test: open %s: %s\n", path,
			strerror(errno));
		exit(2);
	}
	pt_cfg.topdir = strdup(path);
}

static void remove_topdir(void)
{
	char *parent = strdup(pt_cfg.topdir), *slash = strrchr(parent, '/');
	int pfd, err;

	close(opt.topfd);
	if (opt.keep) {
		printf("# kept %s\n", pt_cfg.topdir);
		return;
	}
	*slash = '\0';
	pfd = open(*parent ? parent : "/", O_RDONLY | O_DIRECTORY);
	err = pfd < 0 ? -errno : pt_rmtree_at(pfd, slash + 1);
	if (err)
		printf("# warning: cannot remove %s: %s\n", pt_cfg.topdir,
		       pt_errname(-err));
	if (pfd >= 0)
		close(pfd);
	free(parent);
}

int main(int argc, char **argv)
{
	const char *dir, *big = getenv("BIG");
	size_t i;

	if (big && *big)
		pt_cfg.big = parse_num(big, "BIG");
	dir = parse_args(argc, argv);
	pt_cfg.is_root = geteuid() == 0;
	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		perror("posix-test: mmap");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	make_topdir(dir);
	opt.xattr_ok = probe_xattr();
	for (i = 0; i < ARRAY_SIZE(groups); i++)
		run_group(&groups[i]);
	remove_topdir();
	printf("%d passed, %d failed", opt.passed, opt.failed);
	if (opt.skipped)
		printf(", %d skipped", opt.skipped);
	printf("\n");
	return opt.failed ? 1 : 0;
}
