// SPDX-License-Identifier: BSD-3-Clause
/*
 * zmount2 - two more mount-role files beside the running server's own:
 * open two special files on zuf-root and issue ZUFS_IOC_MOUNT on both at
 * once, from two threads, for SECS seconds, while the test mounts and
 * unmounts.  A request one of them picks up is answered -EBUSY (and named
 * on stdout).  The kernel may refuse the files (any error is fine); it
 * must not oops, hang, or hand one request to two threads.
 *
 *   zmount2 ROOT SECS
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "zufs_api.h"

struct role {
	pthread_t	thread;
	int		fd;
	int		n;		/* which one */
	int		first_err;	/* errno of the first ioctl, 0 if ok */
	int		picked;		/* requests it got */
};

static volatile sig_atomic_t stop;

static void on_alarm(int sig)
{
	(void)sig;
	stop = 1;
}

static void *serve(void *arg)
{
	struct role *r = arg;
	struct zufs_ioc_mount *im = calloc(1, sizeof(*im));
	int first = 1;

	if (!im)
		return NULL;
	im->op = ZUFS_M_NONE;
	while (!stop) {
		if (ioctl(r->fd, ZUFS_IOC_MOUNT, im)) {
			if (first)
				r->first_err = errno;
			first = 0;
			if (errno != EINTR)
				break;
			im->op = ZUFS_M_NONE;
			continue;
		}
		first = 0;
		if (im->op == ZUFS_M_BREAK)
			break;
		r->picked++;
		printf("file %d picked up op %u (%s)\n", r->n, im->op,
		       im->dev_name);
		fflush(stdout);
		/* answer it, and nothing else: an error the mounter sees */
		im->err = -EBUSY;
		snprintf(im->msg, sizeof(im->msg), "zmount2 took it");
	}
	free(im);
	return NULL;
}

int main(int argc, char **argv)
{
	struct role r[2];
	struct sigaction sa = { .sa_handler = on_alarm };
	sigset_t set;
	int i;

	if (argc != 3) {
		fprintf(stderr, "usage: zmount2 ROOT SECS\n");
		return 2;
	}
	/* SIGALRM, not SA_RESTART: it interrupts the ioctls to end them */
	sigaction(SIGALRM, &sa, NULL);
	for (i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].n = i;
		r[i].fd = open(argv[1], O_TMPFILE | O_RDWR, 0600);
		if (r[i].fd < 0) {
			perror(argv[1]);
			return 2;
		}
	}
	for (i = 0; i < 2; i++)
		pthread_create(&r[i].thread, NULL, serve, &r[i]);
	/* the main thread takes no SIGALRM: it forwards it to both */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sleep(atoi(argv[2]));
	stop = 1;
	for (i = 0; i < 2; i++) {
		/* until it is out of the ioctl (it may re-enter once) */
		while (pthread_tryjoin_np(r[i].thread, NULL) == EBUSY) {
			pthread_kill(r[i].thread, SIGALRM);
			usleep(10000);
		}
	}
	for (i = 0; i < 2; i++) {
		printf("file %d: first ioctl %s, %d requests picked up\n", i,
		       r[i].first_err ? strerror(r[i].first_err) : "ok",
		       r[i].picked);
		close(r[i].fd);
	}
	return 0;
}
