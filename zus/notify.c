// SPDX-License-Identifier: BSD-3-Clause
/*
 * notify.c - systemd's readiness protocol (sd_notify(3)), spoken without
 * libsystemd: one datagram of "KEY=VALUE\n" lines to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace).
 * zusd.service is Type=notify: systemd orders the fstab mounts of zufs
 * types after READY=1, which zusd sends only once every type is
 * registered and every detached mount re-attached (main.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "zusd.h"

/* 0 (also without $NOTIFY_SOCKET: not run by systemd) or -errno */
int zusd_notify(struct zusd *zd, const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	ssize_t n;
	int fd, err = 0;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		zusd_err(zd, "NOTIFY_SOCKET=%s: not a socket path", path);
		return -EINVAL;
	}
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (void *)&sa,
		   offsetof(struct sockaddr_un, sun_path) + len);
	if (n < 0) {
		err = -errno;
		zusd_err(zd, "notifying systemd (%s): %s", path, strerror(-err));
	}
	close(fd);
	return err;
}
