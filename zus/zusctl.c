// SPDX-License-Identifier: BSD-3-Clause
/*
 * zusctl - talk to a running zusd through its control socket (admin.c):
 * runtime debug classes per plugin, status.  See zusctl(8).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "zusd.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: zusctl [--control PATH] COMMAND [ARGS]\n"
"Control a running zusd (the zufs user-mode server).\n"
"\n"
"Commands:\n"
"  status                      zusd's version, pid, channels and types\n"
"  debug                       the debug classes on for each type\n"
"  debug TYPE|all [+|-]CLASS...\n"
"                              turn debug classes on (+, the default) or\n"
"                              off (-) for one filesystem type, or all;\n"
"                              CLASS: mount namei dir attr io xattr all.\n"
"                              zusd then logs every op of those classes\n"
"                              (and the plugin its zus_dbg() lines) at\n"
"                              debug level, without a restart\n"
"\n"
"Options:\n"
"  -c, --control PATH          zusd's socket (default " ZUSD_CONTROL_PATH ")\n"
"  -h, --help                  this help\n"
"  -V, --version               print the version\n"
"\n"
"Exit status: 0 done, 1 zusd refused the request or is not there, 2 usage.\n");
}

static const struct option long_opts[] = {
	{ "control", required_argument, NULL, 'c' },
	{ "help",    no_argument,       NULL, 'h' },
	{ "version", no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* join argv into one request line; -E2BIG when it does not fit */
static int build_request(char *req, size_t size, int argc, char **argv)
{
	size_t len = 0;
	int i, n;

	for (i = 0; i < argc; i++) {
		n = snprintf(req + len, size - len, "%s%s", i ? " " : "",
			     argv[i]);
		if (n < 0 || (size_t)n >= size - len)
			return -E2BIG;
		len += (size_t)n;
	}
	return 0;
}

static int connect_zusd(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (void *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* the answer without its "ok" line to stdout; an error to stderr */
static int show_answer(const char *ans)
{
	if (!strncmp(ans, "ok\n", 3)) {
		fputs(ans + 3, stdout);
		return 0;
	}
	fprintf(stderr, "zusctl: zusd: %s", ans);
	if (!*ans || ans[strlen(ans) - 1] != '\n')
		fputc('\n', stderr);
	return 1;
}

int main(int argc, char **argv)
{
	const char *path = ZUSD_CONTROL_PATH;
	char req[512], ans[4097];
	ssize_t n;
	int c, fd;

	while ((c = getopt_long(argc, argv, "+c:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("zusctl %s\n", ZUSD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "zusctl: no command (status, debug)\n");
		usage(stderr);
		return 2;
	}
	if (build_request(req, sizeof(req), argc - optind, argv + optind)) {
		fprintf(stderr, "zusctl: request too long\n");
		return 2;
	}
	fd = connect_zusd(path);
	if (fd < 0) {
		fprintf(stderr, "zusctl: %s: %s (is zusd running?)\n", path,
			strerror(-fd));
		return 1;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 ||
	    (n = recv(fd, ans, sizeof(ans) - 1, 0)) < 0) {
		fprintf(stderr, "zusctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	ans[n] = 0;
	return show_answer(ans);
}
