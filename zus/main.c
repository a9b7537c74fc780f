// SPDX-License-Identifier: BSD-3-Clause
/*
 * main.c - zusd: options, daemonizing, signals, start and stop.
 *
 * Start order: plugins, zuf-root + handshake, ZT threads, mount thread,
 * and only then registration, so the kernel never sees a type whose
 * server cannot yet serve a mount.  Stop (SIGTERM/SIGINT): BREAK_ALL,
 * which wakes every server thread with BREAK, then join them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "zusd.h"

void zusd_log(const struct zusd *zd, int prio, const char *fmt, ...)
{
	va_list ap;

	(void)zd;	/* where lines go was set once: zus_log_open() */
	va_start(ap, fmt);
	zus_vlog_at(NULL, prio, fmt, ap);
	va_end(ap);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: zusd [OPTION]...\n"
"The zufs user-mode server: hosts filesystem plugins for zuf.ko.\n"
"\n"
"  -f, --foreground        do not daemonize\n"
"  -p, --plugin PATH       load a plugin .so (or every .so in a directory);\n"
"                          repeatable.  Default: $" ZUS_PLUGIN_ENV " (colon\n"
"                          separated), else ../plugins next to zusd if it\n"
"                          exists (build tree), else the installed plugin\n"
"                          directory (zusd(8))\n"
"      --root DIR          zuf-root mount point (default " ZUFS_ROOT_PATH ")\n"
"      --pidfile FILE      write the server's pid there\n"
"      --control PATH      zusctl's socket (default " ZUSD_CONTROL_PATH ";\n"
"                          none: no socket)\n"
"      --takeover          live upgrade: replace the running zusd; it stops\n"
"                          and flushes, and the mounts of types that can\n"
"                          re-attach move to this one without an error\n"
"      --spin USEC         after each answer a ZT polls that long for its\n"
"                          next op before it sleeps (0..1000, default 0);\n"
"                          pair it with mount -o spin=USEC, see zusd(8)\n"
"      --lanes N           ZT channels per CPU (1..4, default 1): with more,\n"
"                          an op that blocks in a plugin (a network or disk\n"
"                          wait) does not hold the CPU's other callers\n"
"  -d, --debug             log every operation and corruption (all debug\n"
"                          classes of all plugins; zusctl debug turns them\n"
"                          on and off per plugin at run time)\n"
"      --chaos SEED[:PERMILLE]\n"
"                          testing: corrupt that share of answers (default\n"
"                          50 per mille), reproducibly from SEED\n"
"      --fuzz SEED[:PERMILLE][,TOKEN...]\n"
"                          testing: the ABI fuzzer.  Mutate that share of\n"
"                          answers (default 100 per mille), reproducibly\n"
"                          from SEED.  TOKENs: classes errno length attr ino\n"
"                          extent dirent name header delay hold twice never\n"
"                          die mount ioctl (naming some keeps only those;\n"
"                          -CLASS drops one; default: all but never, die),\n"
"                          all, quiet (no line per mutation), report=SECS\n"
"                          (stats line period), table (and the per-op table\n"
"                          every tenth report).  Stats at exit.\n"
"      --io-delay USEC     testing: hold every READ/WRITE that long before the\n"
"                          plugin serves it (to kill callers or the server\n"
"                          while their pages are mapped)\n"
"      --mount-delay [before:]USEC\n"
"                          testing: hold every MOUNT/UMOUNT/REMOUNT that long\n"
"                          after the plugin served it (before: before the\n"
"                          plugin sees it), to kill the mounter meanwhile\n"
"      --window-spy        testing: read (and for READ overwrite) the bytes of\n"
"                          the window pages outside each op, log any found\n"
"      --late-op [before:]OP:USEC\n"
"                          testing: hold the answer of every OP (a name as in\n"
"                          debug output, e.g. LOOKUP) that long after the\n"
"                          plugin made it, so that it arrives stale (before:\n"
"                          hold OP before the plugin sees it)\n"
"      --invalidate-storm MS\n"
"                          testing: every MS ms, make the kernel forget the\n"
"                          block maps of the inodes just mapped\n"
"      --abi-version MAJ.MIN\n"
"                          testing: claim another ABI version in the handshake\n"
"  -h, --help              this help\n"
"  -V, --version           print the version and the ABI version\n");
}

enum { OPT_ROOT = 256, OPT_PIDFILE, OPT_CHAOS, OPT_ABI, OPT_IO_DELAY, OPT_STORM,
       OPT_LATE_OP, OPT_WINDOW_SPY, OPT_MOUNT_DELAY, OPT_FUZZ,
       OPT_TAKEOVER, OPT_CONTROL, OPT_SPIN, OPT_LANES };

static const struct option long_opts[] = {
	{ "foreground",  no_argument,       NULL, 'f' },
	{ "plugin",      required_argument, NULL, 'p' },
	{ "root",        required_argument, NULL, OPT_ROOT },
	{ "pidfile",     required_argument, NULL, OPT_PIDFILE },
	{ "control",     required_argument, NULL, OPT_CONTROL },
	{ "takeover",    no_argument,       NULL, OPT_TAKEOVER },
	{ "debug",       no_argument,       NULL, 'd' },
	{ "spin",        required_argument, NULL, OPT_SPIN },
	{ "lanes",       required_argument, NULL, OPT_LANES },
	{ "chaos",       required_argument, NULL, OPT_CHAOS },
	{ "fuzz",        required_argument, NULL, OPT_FUZZ },
	{ "abi-version", required_argument, NULL, OPT_ABI },
	{ "io-delay",    required_argument, NULL, OPT_IO_DELAY },
	{ "mount-delay", required_argument, NULL, OPT_MOUNT_DELAY },
	{ "late-op",     required_argument, NULL, OPT_LATE_OP },
	{ "window-spy",  no_argument,       NULL, OPT_WINDOW_SPY },
	{ "invalidate-storm", required_argument, NULL, OPT_STORM },
	{ "help",        no_argument,       NULL, 'h' },
	{ "version",     no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int add_plugin(struct zusd_opts *o, const char *path)
{
	const char **p = realloc(o->plugins, (o->nplugins + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	p[o->nplugins++] = path;
	o->plugins = p;
	return 0;
}

/* $ZUS_PLUGINS, else build/plugins or the installed directory (libzus) */
static int default_plugins(struct zusd_opts *o, char **storage)
{
	const char *env = getenv(ZUS_PLUGIN_ENV);
	char *tok, *save = NULL;
	int err;

	if (env && *env) {
		*storage = strdup(env);
		if (!*storage)
			return -ENOMEM;
		for (tok = strtok_r(*storage, ":", &save); tok;
		     tok = strtok_r(NULL, ":", &save)) {
			err = add_plugin(o, tok);
			if (err)
				return err;
		}
		return 0;
	}
	*storage = malloc(PATH_MAX);
	if (!*storage)
		return -ENOMEM;
	err = zus_plugins_default_dir(*storage, PATH_MAX);
	return err ? err : add_plugin(o, *storage);
}

static int parse_abi(const char *arg, struct zusd_opts *o)
{
	char tail;

	if (sscanf(arg, "%u.%u%c", &o->abi_major, &o->abi_minor, &tail) != 2)
		return -EINVAL;
	return 0;
}

static int parse_uint(const char *arg, unsigned long max, unsigned int *val)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v > max || *arg == '-')
		return -EINVAL;
	*val = v;
	return 0;
}

/* [before:]OP:USEC, OP an op name as zusd_op_name() gives it */
static int parse_late_op(const char *arg, struct zusd_opts *o)
{
	const char *colon;
	uint32_t op;

	o->late_before = !strncmp(arg, "before:", 7);
	if (o->late_before)
		arg += 7;
	colon = strchr(arg, ':');
	if (!colon)
		return -EINVAL;
	for (op = 0; op < ZUFS_OP_MAX_OPT; op++) {
		const char *name = zusd_op_name(op);

		if (strlen(name) == (size_t)(colon - arg) &&
		    !strncmp(name, arg, colon - arg))
			break;
	}
	if (op == ZUFS_OP_MAX_OPT || op == ZUFS_OP_BREAK)
		return -EINVAL;
	o->late_op = op;
	return parse_uint(colon + 1, 10000000, &o->late_us);
}

/* Returns 0 to run, 1 to exit 0 (help/version), <0 on a usage error */
static int parse_args(int argc, char **argv, struct zusd_opts *o)
{
	int c;

	o->root = ZUFS_ROOT_PATH;
	o->control = ZUSD_CONTROL_PATH;
	o->late_op = -1;
	o->abi_major = ZUFS_MAJOR_VERSION;
	o->abi_minor = ZUFS_MINOR_VERSION;
	while ((c = getopt_long(argc, argv, "fp:dhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->foreground = true;
			break;
		case 'p':
			if (add_plugin(o, optarg))
				return -ENOMEM;
			break;
		case 'd':
			o->debug = true;
			break;
		case OPT_SPIN:
			if (parse_uint(optarg, ZUFS_SPIN_MAX_US, &o->spin_us)) {
				fprintf(stderr, ZUSD_NAME ": bad --spin '%s' (0..%u microseconds)\n",
					optarg, ZUFS_SPIN_MAX_US);
				return -EINVAL;
			}
			break;
		case OPT_LANES:
			if (parse_uint(optarg, ZUFS_MAX_LANES, &o->lanes) ||
			    !o->lanes) {
				fprintf(stderr, ZUSD_NAME ": bad --lanes '%s' (1..%u)\n",
					optarg, ZUFS_MAX_LANES);
				return -EINVAL;
			}
			break;
		case OPT_ROOT:
			o->root = optarg;
			break;
		case OPT_PIDFILE:
			o->pidfile = optarg;
			break;
		case OPT_CONTROL:
			o->control = optarg;
			break;
		case OPT_CHAOS:
			if (zusd_chaos_parse(optarg, &o->chaos)) {
				fprintf(stderr, ZUSD_NAME ": bad --chaos '%s' (SEED[:PERMILLE], PERMILLE 0..1000)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_FUZZ:
			if (zusd_fuzz_parse(optarg, &o->fuzz)) {
				fprintf(stderr, ZUSD_NAME ": bad --fuzz '%s' (SEED[:PERMILLE][,CLASS|-CLASS|all|quiet|report=SECS...])\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_IO_DELAY:
			if (parse_uint(optarg, 10000000, &o->io_delay_us)) {
				fprintf(stderr, ZUSD_NAME ": bad --io-delay '%s' (0..10000000 microseconds)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_MOUNT_DELAY:
			o->mount_delay_before = !strncmp(optarg, "before:", 7);
			if (o->mount_delay_before)
				optarg += 7;
			else if (!strncmp(optarg, "after:", 6))
				optarg += 6;
			if (parse_uint(optarg, 10000000, &o->mount_delay_us)) {
				fprintf(stderr, ZUSD_NAME ": bad --mount-delay '%s' ([before:|after:]0..10000000 microseconds)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_WINDOW_SPY:
			o->window_spy = true;
			break;
		case OPT_LATE_OP:
			if (parse_late_op(optarg, o)) {
				fprintf(stderr, ZUSD_NAME ": bad --late-op '%s' ([before:]OP:USEC, USEC 0..10000000)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_STORM:
			if (parse_uint(optarg, 60000, &o->storm_ms) ||
			    !o->storm_ms) {
				fprintf(stderr, ZUSD_NAME ": bad --invalidate-storm '%s' (1..60000 milliseconds)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_TAKEOVER:
			o->takeover = true;
			break;
		case OPT_ABI:
			if (parse_abi(optarg, o)) {
				fprintf(stderr, ZUSD_NAME ": bad --abi-version '%s' (MAJ.MIN)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("zusd %s (zufs ABI %u.%u, plugin API %u)\n",
			       ZUSD_VERSION, ZUFS_MAJOR_VERSION,
			       ZUFS_MINOR_VERSION, ZUS_API_VERSION);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, ZUSD_NAME ": unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/*
 * Fork; the parent waits until the child reports that it is serving (or
 * why it failed) and exits with that status, so `zusd && mount ...` works.
 */
static int daemonize(int *ready_fd)
{
	int pfd[2];
	pid_t pid;
	char st = 1;

	if (pipe(pfd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(pfd[1]);
		if (read(pfd[0], &st, 1) != 1)
			st = 1;
		_exit(st);
	}
	close(pfd[0]);
	setsid();
	*ready_fd = pfd[1];
	return 0;
}

static void report_ready(int *ready_fd, char status)
{
	int fd;

	if (*ready_fd < 0)
		return;
	if (write(*ready_fd, &status, 1) != 1)
		status = 1;
	close(*ready_fd);
	*ready_fd = -1;
	if (status)
		return;
	/* detached: keep stderr if it goes somewhere, else /dev/null */
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		if (!isatty(STDOUT_FILENO))
			dup2(fd, STDOUT_FILENO);
		close(fd);
	}
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) ? -errno : 0;
}

static int load_plugins(struct zusd *zd)
{
	char msg[512] = "";
	int err;

	err = zus_plugins_load(&zd->plugins, zd->opts.plugins,
			       zd->opts.nplugins, msg, sizeof(msg));
	if (err) {
		zusd_err(zd, "loading plugins: %s", msg[0] ? msg :
			 strerror(-err));
		return err;
	}
	if (!zus_plugins_count(zd->plugins))
		zusd_info(zd, "no plugins loaded: no filesystem to serve");
	/* every type has its debug entry before zusctl can name one */
	for (size_t i = 0; i < zus_plugins_count(zd->plugins); i++)
		zus_debug_set(zus_plugins_get(zd->plugins, i)->info.name,
			      0, 0);
	if (zd->opts.debug)
		zus_debug_set(NULL, ZUS_DBG_ALL, 0);
	return 0;
}

/* Wait for SIGTERM/SIGINT (blocked in every thread) */
static void wait_for_stop(struct zusd *zd)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
	zusd_info(zd, "signal %d: stopping", sig);
}

static int run(struct zusd *zd, int *ready_fd)
{
	int err;

	err = load_plugins(zd);
	if (err)
		return err;
	err = zusd_control_start(zd);
	if (err)
		return err;
	/* before the ZTs: they look for it on their first answer */
	err = zusd_fuzz_start(zd);
	if (err)
		goto out_stop;
	err = zusd_zt_start(zd);
	if (err)
		goto out_stop;
	err = zusd_mount_start(zd);
	if (err)
		goto out_stop;
	err = zusd_register_all(zd);
	if (err)
		goto out_stop;
	err = zusd_storm_start(zd);
	if (err)
		goto out_stop;
	if (zd->opts.pidfile) {
		err = write_pidfile(zd->opts.pidfile);
		if (err) {
			zusd_err(zd, "%s: %s", zd->opts.pidfile,
				 strerror(-err));
			goto out_stop;
		}
	}
	zusd_info(zd, "serving %zu filesystem type(s) on %u channel(s)%s",
		  zus_plugins_count(zd->plugins), zd->nr_cpus,
		  zd->opts.chaos.on ? " (chaos mode)" :
		  zd->fuzz ? " (fuzz mode)" : "");
	/* zusctl works once zusd says it is ready */
	err = zusd_admin_start(zd);
	if (err)
		goto out_stop;
	report_ready(ready_fd, 0);
	/* systemd: fstab mounts of our types may go ahead now */
	zusd_notify(zd, "READY=1\nSTATUS=serving");
	wait_for_stop(zd);
	zusd_notify(zd, "STOPPING=1");
	err = 0;
out_stop:
	zusd_admin_stop(zd);
	zusd_storm_stop(zd);
	/* a held answer ends now, or its thread never sees BREAK */
	zusd_fuzz_stop(zd);
	zusd_break_all(zd);
	zusd_mount_join(zd);
	zusd_zt_join(zd);
	zusd_fuzz_report(zd);
	zusd_mount_cleanup(zd);
	zusd_control_stop(zd);
	if (zd->opts.pidfile && !err)
		unlink(zd->opts.pidfile);
	return err;
}

int main(int argc, char **argv)
{
	struct zusd zd = { .ctl_fd = -1, .mount_fd = -1, .admin_fd = -1 };
	char *plugin_storage = NULL;
	int ready_fd = -1;
	sigset_t set;
	int err;

	zus_log_open(ZUSD_NAME, false);
	err = parse_args(argc, argv, &zd.opts);
	if (err)
		return err > 0 ? 0 : 2;
	if (!zd.opts.nplugins && default_plugins(&zd.opts, &plugin_storage)) {
		fprintf(stderr, ZUSD_NAME ": cannot find the plugin directory\n");
		return 1;
	}
	if (!zd.opts.foreground) {
		err = daemonize(&ready_fd);
		if (err) {
			zusd_err(&zd, "fork: %s", strerror(-err));
			return 1;
		}
		zd.daemonized = true;
		zus_log_open(ZUSD_NAME, true);
	}
	/* every thread inherits this: only sigwait() sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	err = run(&zd, &ready_fd);
	report_ready(&ready_fd, err ? 1 : 0);
	if (zd.plugins)
		zus_plugins_free(zd.plugins);
	free(zd.opts.plugins);
	free(plugin_storage);
	return err ? 1 : 0;
}
