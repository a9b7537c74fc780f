// SPDX-License-Identifier: BSD-3-Clause
/*
 * admin.c - zusd's administration socket (zusctl(8)): runtime debug
 * switches and status, without a restart.
 *
 * A SOCK_SEQPACKET socket at --control PATH (default ZUSD_CONTROL_PATH),
 * mode 0600, answered by one thread, for root only (SO_PEERCRED).  One
 * request per message, one answer per request; both plain text:
 *
 *   debug                        every type and the classes on for it
 *   debug TYPE|all [+|-]CLASS... turn classes on/off; answers as above
 *   status                       version, pid, channels, types
 *
 * An answer starts with "ok\n" or "error: why\n".  The newest zusd owns
 * the path: a takeover's new server binds over the old one's, and a
 * server only removes the path at exit while it is still its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "zusd.h"

#define ADMIN_MSG_MAX	4096

struct reply {
	char	buf[ADMIN_MSG_MAX];
	size_t	len;
};

static void __attribute__((format(printf, 2, 3)))
say(struct reply *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len >= sizeof(r->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n;
	if (r->len > sizeof(r->buf) - 1)
		r->len = sizeof(r->buf) - 1;
}

static void say_classes(struct reply *r, const char *name)
{
	unsigned int mask = zus_debug_get(name), c;
	bool any = false;

	say(r, "%s:", name);
	for (c = 0; c < ZUS_DBG_NCLASSES; c++) {
		if (mask & (1U << c)) {
			say(r, " +%s", zus_debug_class_name(c));
			any = true;
		}
	}
	say(r, "%s\n", any ? "" : " (none)");
}

static void say_all_classes(struct zusd *zd, struct reply *r)
{
	size_t i, n = zus_plugins_count(zd->plugins);

	for (i = 0; i < n; i++)
		say_classes(r, zus_plugins_get(zd->plugins, i)->info.name);
}

/* "debug [TYPE|all [+|-]CLASS...]": tokens after "debug" */
static void cmd_debug(struct zusd *zd, char *args, struct reply *r)
{
	unsigned int on = 0, off = 0, bits;
	char *save = NULL, *type, *tok;
	const char *who;

	type = strtok_r(args, " \t\n", &save);
	if (!type) {
		say(r, "ok\n");
		say_all_classes(zd, r);
		return;
	}
	who = strcmp(type, "all") ? type : NULL;
	if (who && !zus_plugins_find(zd->plugins, who)) {
		say(r, "error: no filesystem type '%s' in this zusd\n", who);
		return;
	}
	while ((tok = strtok_r(NULL, " \t\n", &save))) {
		bool minus = *tok == '-';

		bits = zus_debug_class(tok + (*tok == '+' || minus));
		if (!bits) {
			say(r, "error: unknown debug class '%s' (classes: all %s)\n",
			    tok, "mount namei dir attr io xattr");
			return;
		}
		if (minus)
			off |= bits;
		else
			on |= bits;
	}
	zus_debug_set(who, on, off);
	zusd_info(zd, "debug %s: +0x%x -0x%x (zusctl)", type, on, off);
	say(r, "ok\n");
	if (who)
		say_classes(r, who);
	else
		say_all_classes(zd, r);
}

static void cmd_status(struct zusd *zd, struct reply *r)
{
	size_t i, n = zus_plugins_count(zd->plugins);

	say(r, "ok\nzusd %s pid %d, zufs ABI %u.%u, %u channel(s)\ntypes:",
	    ZUSD_VERSION, (int)getpid(), ZUFS_MAJOR_VERSION,
	    ZUFS_MINOR_VERSION, zd->nr_cpus);
	for (i = 0; i < n; i++)
		say(r, " %s", zus_plugins_get(zd->plugins, i)->info.name);
	say(r, "\n");
}

static void serve_one(struct zusd *zd, int fd)
{
	struct reply r = { .len = 0 };
	char req[512], *save = NULL, *verb;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	ssize_t n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
	    cred.uid != 0) {
		say(&r, "error: only root may use zusd's control socket\n");
		goto out;
	}
	n = recv(fd, req, sizeof(req) - 1, 0);
	if (n <= 0)
		return;
	req[n] = 0;
	verb = strtok_r(req, " \t\n", &save);
	if (verb && !strcmp(verb, "debug"))
		cmd_debug(zd, save, &r);
	else if (verb && !strcmp(verb, "status"))
		cmd_status(zd, &r);
	else
		say(&r, "error: unknown request '%s' (debug, status)\n",
		    verb ? verb : "");
out:
	if (send(fd, r.buf, r.len, MSG_NOSIGNAL) < 0)
		zusd_dbg(zd, "control socket: answer: %s", strerror(errno));
}

static void *admin_thread(void *arg)
{
	struct zusd *zd = arg;
	struct pollfd p[2] = {
		{ .fd = zd->admin_fd, .events = POLLIN },
		{ .fd = zd->admin_stop[0], .events = POLLIN },
	};

	for (;;) {
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			zusd_err(zd, "control socket: poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		fd = accept4(zd->admin_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		/* a client that sends nothing must not stall the next one */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
			   &(struct timeval){ .tv_sec = 2 },
			   sizeof(struct timeval));
		serve_one(zd, fd);
		close(fd);
	}
	return NULL;
}

static int admin_bind(struct zusd *zd, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a path left by a dead or replaced server: this one is newer */
	unlink(path);
	if (bind(fd, (void *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    listen(fd, 8) || stat(path, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	zd->admin_dev = st.st_dev;
	zd->admin_ino = st.st_ino;
	return fd;
}

/* not fatal: zusd serves without it, and says so */
int zusd_admin_start(struct zusd *zd)
{
	const char *path = zd->opts.control;
	int fd, err;

	if (!path || !strcmp(path, "none"))
		return 0;
	fd = admin_bind(zd, path);
	if (fd < 0) {
		zusd_log(zd, ZUS_LOG_WARNING,
			 "control socket %s: %s (no zusctl for this server)",
			 path, strerror(-fd));
		return 0;
	}
	zd->admin_fd = fd;
	if (pipe2(zd->admin_stop, O_CLOEXEC))
		goto out_close;
	err = pthread_create(&zd->admin_thread, NULL, admin_thread, zd);
	if (err) {
		errno = err;
		goto out_pipe;
	}
	zd->admin_started = true;
	return 0;
out_pipe:
	close(zd->admin_stop[0]);
	close(zd->admin_stop[1]);
out_close:
	zusd_log(zd, ZUS_LOG_WARNING, "control socket %s: %s", path,
		 strerror(errno));
	close(fd);
	zd->admin_fd = -1;
	unlink(path);
	return 0;
}

void zusd_admin_stop(struct zusd *zd)
{
	struct stat st;

	if (!zd->admin_started)
		return;
	if (write(zd->admin_stop[1], "x", 1) != 1)
		zusd_err(zd, "control socket: stop: %s", strerror(errno));
	pthread_join(zd->admin_thread, NULL);
	zd->admin_started = false;
	close(zd->admin_stop[0]);
	close(zd->admin_stop[1]);
	close(zd->admin_fd);
	zd->admin_fd = -1;
	/* only our own: a newer server may have bound the path since */
	if (!stat(zd->opts.control, &st) && st.st_dev == zd->admin_dev &&
	    st.st_ino == zd->admin_ino)
		unlink(zd->opts.control);
}
