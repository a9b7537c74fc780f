// SPDX-License-Identifier: BSD-3-Clause
/*
 * main.c - zus-fuse: run a zusFS plugin over /dev/fuse.
 *
 *   zus-fuse -t TYPE [-o opts] [-p PLUGIN]... [-f] [-d] [--threads N]
 *            [--writeback] SOURCE MOUNTPOINT
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "bridge.h"
#include "image.h"

#define ZF_MAX_PLUGINS	32

struct zf_opts {
	const char	*type;
	char		plugopts[ZUFS_OPTIONS_MAX];
	const char	*plugins[ZF_MAX_PLUGINS];
	size_t		nplugins;
	char		*env_plugins;	/* strdup of $ZUS_PLUGINS, split */
	char		default_plugins[PATH_MAX];
	bool		foreground, debug, writeback, rdonly, help;
	unsigned int	threads;
	const char	*source;
	char		devs[ZUFS_OPTIONS_MAX];	/* -o devs=: a set's members */
	char		mnt[PATH_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: zus-fuse -t TYPE [-o OPTS] [-p PLUGIN]... [-f] [-d] [--threads N]\n"
"                [--writeback] SOURCE MOUNTPOINT\n"
"Run the zusFS plugin filesystem TYPE over FUSE.\n"
"\n"
"  SOURCE           image file or block device holding a zufs device table\n"
"                   (mkfs.zpmfs makes one), or 'none' for NODEV types; for\n"
"                   a set, any member (and -o devs=)\n"
"  -t TYPE          filesystem type, e.g. zpmfs, zpassthrough\n"
"  -o OPTS          comma separated: ro, rw, devs=, and the type's own\n"
"                   options\n"
"  -o devs=PATH:PATH...\n"
"                   the members of a device set (mkfs.zpmfs DEV DEV...),\n"
"                   SOURCE among them or not: they are mapped one after\n"
"                   the other, in the set's order, as zuf.ko does\n"
"  -p PLUGIN        plugin .so or directory of them (repeatable); default\n"
"                   $" ZUS_PLUGIN_ENV " (colon separated), else ../plugins next\n"
"                   to this binary if it exists (build tree), else the\n"
"                   installed plugin directory (zus-fuse(8))\n"
"  -f               stay in the foreground\n"
"  -d               debug: foreground, log every FUSE request\n"
"  --threads N      worker threads, each on its own /dev/fuse clone\n"
"                   (default: the number of CPUs)\n"
"  --writeback      let the kernel cache writes (FUSE writeback cache)\n"
"  -h, --help       this text, and the options of the types found\n"
"\n"
"Unmount with fusermount3 -u MOUNTPOINT, umount, or SIGINT/SIGTERM.\n");
}

static int add_opts(struct zf_opts *o, const char *opts)
{
	char buf[ZUFS_OPTIONS_MAX], *tok, *save = NULL;
	size_t len;

	if (strlen(opts) >= sizeof(buf))
		return -E2BIG;
	strcpy(buf, opts);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "ro") || !strcmp(tok, "rw")) {
			o->rdonly = !strcmp(tok, "ro");
			continue;
		}
		/* the bridge's, as zuf.ko's: the plugin never sees it */
		if (!strncmp(tok, "devs=", 5)) {
			strcpy(o->devs, tok + 5);
			continue;
		}
		len = strlen(o->plugopts);
		if (len + !!len + strlen(tok) >= sizeof(o->plugopts))
			return -E2BIG;
		if (len)
			o->plugopts[len++] = ',';
		memcpy(o->plugopts + len, tok, strlen(tok) + 1);
	}
	return 0;
}

static int add_plugin(struct zf_opts *o, const char *path)
{
	if (o->nplugins == ZF_MAX_PLUGINS)
		return -E2BIG;
	o->plugins[o->nplugins++] = path;
	return 0;
}

/* -p, else $ZUS_PLUGINS, else build/plugins or the installed directory */
static int default_plugins(struct zf_opts *o)
{
	const char *env = getenv(ZUS_PLUGIN_ENV);
	char *tok, *save = NULL;
	int err = 0;

	if (o->nplugins)
		return 0;
	if (env && *env) {
		o->env_plugins = strdup(env);
		if (!o->env_plugins)
			return -ENOMEM;
		for (tok = strtok_r(o->env_plugins, ":", &save); tok && !err;
		     tok = strtok_r(NULL, ":", &save))
			err = add_plugin(o, tok);
		return err;
	}
	err = zus_plugins_default_dir(o->default_plugins,
				      sizeof(o->default_plugins));
	return err ? err : add_plugin(o, o->default_plugins);
}

enum { OPT_THREADS = 256, OPT_WRITEBACK };

static const struct option long_opts[] = {
	{ "help",	no_argument,		NULL, 'h' },
	{ "threads",	required_argument,	NULL, OPT_THREADS },
	{ "writeback",	no_argument,		NULL, OPT_WRITEBACK },
	{ NULL, 0, NULL, 0 },
};

static int parse_one(struct zf_opts *o, int c)
{
	char *end;
	long n;

	switch (c) {
	case 't':
		o->type = optarg;
		return 0;
	case 'o':
		return add_opts(o, optarg);
	case 'p':
		return add_plugin(o, optarg);
	case 'd':
		o->debug = true;
		/* fall through */
	case 'f':
		o->foreground = true;
		return 0;
	case 'h':
		o->help = true;
		return 0;
	case OPT_THREADS:
		n = strtol(optarg, &end, 10);
		if (*end || n < 1 || n > 1024)
			return -EINVAL;
		o->threads = n;
		return 0;
	case OPT_WRITEBACK:
		o->writeback = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static int parse_args(struct zf_opts *o, int argc, char **argv)
{
	int c, err;

	while ((c = getopt_long(argc, argv, "t:o:p:fdh", long_opts,
				NULL)) != -1) {
		err = parse_one(o, c);
		if (err) {
			fprintf(stderr, "zus-fuse: bad option -%c%s%s\n",
				c < 256 ? c : '-', optarg ? " " : "",
				optarg ? optarg : "");
			return err;
		}
	}
	if (o->help)
		return 0;
	if (!o->type || argc - optind != 2) {
		fprintf(stderr, "zus-fuse: need -t TYPE, SOURCE and MOUNTPOINT\n");
		return -EINVAL;
	}
	o->source = argv[optind];
	if (!realpath(argv[optind + 1], o->mnt)) {
		fprintf(stderr, "zus-fuse: %s: %s\n", argv[optind + 1],
			strerror(errno));
		return -errno;
	}
	if (!o->threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		o->threads = n > 0 ? n : 1;
	}
	return 0;
}

static void print_types(struct zf_opts *o)
{
	struct zus_plugin_set *set;
	const struct zus_fs_type *t;
	char msg[512];
	size_t i;

	if (default_plugins(o) ||
	    zus_plugins_load(&set, o->plugins, o->nplugins, msg, sizeof(msg))) {
		printf("\n(no plugins loaded: %s)\n", msg);
		return;
	}
	for (i = 0; i < zus_plugins_count(set); i++) {
		t = zus_plugins_get(set, i);
		if (o->type && strcmp(o->type, t->info.name))
			continue;
		printf("\nOptions of -t %s%s:\n%s", t->info.name,
		       t->info.flags & ZUFS_FST_NODEV ? " (SOURCE: none)" : "",
		       t->usage ? t->usage : "  (none)");
		if (!t->usage || !*t->usage ||
		    t->usage[strlen(t->usage) - 1] != '\n')
			putchar('\n');
	}
	zus_plugins_free(set);
}

/*
 * Daemon mode: the child does all the work; the parent waits until the
 * mount is up (or failed) so that the exit status and error messages of
 * `zus-fuse ...` mean what they say.  Returns the fd to report on, in the
 * child; never returns in the parent.
 */
static int daemon_start(void)
{
	int fds[2];
	char st = 1;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC)) {
		perror("zus-fuse: pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("zus-fuse: fork");
		exit(1);
	}
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &st, 1) != 1)
			st = 1;
		_exit(st);
	}
	close(fds[0]);
	setsid();
	return fds[1];
}

void zf_daemon_ready(int fd, bool quiet)
{
	char ok = 0;
	int null;

	if (fd < 0)
		return;
	if (chdir("/") < 0)
		perror("zus-fuse: chdir /");
	if (quiet) {
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
	}
	if (write(fd, &ok, 1) != 1)
		perror("zus-fuse: notify");
	close(fd);
}

int main(int argc, char **argv)
{
	static struct zf_opts o;	/* big: PATH_MAX buffers */
	struct zus_plugin_set *set;
	const struct zus_fs_type *type;
	char msg[512];
	int err, ready = -1;

	err = parse_args(&o, argc, argv);
	if (err) {
		fprintf(stderr, "Try 'zus-fuse --help'.\n");
		return 2;
	}
	if (o.help) {
		usage(stdout);
		print_types(&o);
		return 0;
	}
	err = default_plugins(&o);
	if (!err)
		err = zus_plugins_load(&set, o.plugins, o.nplugins, msg,
				       sizeof(msg));
	if (err) {
		fprintf(stderr, "zus-fuse: loading plugins: %s\n",
			msg[0] ? msg : strerror(-err));
		return 1;
	}
	type = zus_plugins_find(set, o.type);
	if (!type) {
		fprintf(stderr, "zus-fuse: unknown filesystem type '%s'\n",
			o.type);
		zus_plugins_free(set);
		return 1;
	}
	if (!o.foreground)
		ready = daemon_start();
	err = zf_serve(type, o.source, o.devs[0] ? o.devs : NULL, o.mnt, o.plugopts, o.rdonly, o.debug,
		       o.writeback, o.threads, ready);
	zus_plugins_free(set);
	free(o.env_plugins);
	return err ? 1 : 0;
}

