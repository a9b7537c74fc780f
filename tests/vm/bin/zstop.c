// SPDX-License-Identifier: BSD-3-Clause
/*
 * zstop - stop ONE thread of a process for a while (SIGSTOP would stop
 * them all): ptrace-seize it, interrupt it, hold it, let it go.
 *
 *   zstop TID MS
 *
 * Prints "stopped" once the thread is held, "released" after MS ms.  A
 * thread sleeping interruptibly in a syscall leaves it (EINTR for zusd's
 * mount thread, which then retries) before it stops, so while it is held
 * nothing is picked up: requests stay posted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	pid_t tid;
	int st;

	if (argc != 3) {
		fprintf(stderr, "usage: zstop TID MS\n");
		return 2;
	}
	tid = atoi(argv[1]);
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) ||
	    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL)) {
		perror("ptrace");
		return 1;
	}
	if (waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st)) {
		perror("waitpid");
		return 1;
	}
	printf("stopped\n");
	fflush(stdout);
	usleep(atoi(argv[2]) * 1000);
	if (ptrace(PTRACE_DETACH, tid, NULL, NULL)) {
		perror("ptrace detach");
		return 1;
	}
	printf("released\n");
	return 0;
}
