// SPDX-License-Identifier: BSD-3-Clause
/*
 * harness.c - image, mount and small wrappers for the plugin unit tests.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

struct zus_ctx th_ctx(void)
{
	struct zus_ctx c = { .uid = 0, .gid = 0, .cpu = sched_getcpu(),
			     .numa_node = 0 };

	clock_gettime(CLOCK_REALTIME, &c.now);
	return c;
}

int th_mkfs(const char *size, const char *inodes)
{
	char *argv[10];
	int n = 0, st;
	pid_t pid;

	argv[n++] = (char *)T.mkfs;
	argv[n++] = "-f";
	argv[n++] = "-q";
	argv[n++] = "-s";
	argv[n++] = (char *)size;
	if (inodes) {
		argv[n++] = "-i";
		argv[n++] = (char *)inodes;
	}
	argv[n++] = (char *)T.image;
	argv[n] = NULL;
	unlink(T.image);
	pid = fork();
	if (pid == 0) {
		execv(T.mkfs, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int th_fsck(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		if (!T.verbose) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(T.fsck, T.fsck, T.image, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int th_fsck_says(const char *what)
{
	char line[512];
	int found = 0;
	FILE *f;
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' -v '%s' 2>&1", T.fsck, T.image);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what)) {
			found = 1;
			if (T.verbose)
				fputs(line, stdout);
		}
	return pclose(f) < 0 ? -1 : found;
}

int th_map(void)
{
	struct stat st;
	int fd = open(T.image, O_RDWR);

	if (fd < 0 || fstat(fd, &st))
		return -errno;
	T.size = st.st_size;
	T.map = mmap(NULL, T.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (T.map == MAP_FAILED) {
		T.map = NULL;
		return -errno;
	}
	return 0;
}

void th_unmap(void)
{
	if (T.map)
		munmap(T.map, T.size);
	T.map = NULL;
}

int th_mount(const char *options, uint32_t flags)
{
	struct zus_mount_info mi = {
		.pmem = T.map, .pmem_size = T.size, .ndevs = 1,
		.dev_name = T.image, .options = options ? options : "",
		.flags = flags,
	};

	mi.devs[0].size = T.size;
	mi.devs[0].numa_node = 0;	/* exercises NUMA placement */
	memset(&T.out, 0, sizeof(T.out));
	T.sb = NULL;
	return T.ops->mount(&mi, &T.sb, &T.out);
}

void th_evict_unlinked(void)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;
	uint64_t ino;

	for (ino = 2; T.sb && ino <= T.out.max_ino; ino++)
		if (!T.ops->getattr(T.sb, &c, ino, &a) && !a.nlink)
			T.ops->evict(T.sb, &c, ino);
}

void th_umount(void)
{
	if (T.sb)
		T.ops->umount(T.sb);
	T.sb = NULL;
}

int th_create_err(uint64_t dir, const char *name, uint32_t mode)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a, d;

	return T.ops->create(T.sb, &c, dir, name, strlen(name), mode, 0, 0, 0,
			     0, NULL, 0, false, &a, &d);
}

uint64_t th_create(uint64_t dir, const char *name, uint32_t mode)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a, d;
	int err = T.ops->create(T.sb, &c, dir, name, strlen(name), mode, 0, 0,
				0, 0, NULL, 0, false, &a, &d);

	CHECK(!err, "create %s: %s", name, strerror(-err));
	return err ? 0 : a.ino;
}

uint64_t th_lookup(uint64_t dir, const char *name)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a;

	if (T.ops->lookup(T.sb, &c, dir, name, strlen(name), &a))
		return 0;
	return a.ino;
}

int th_unlink(uint64_t dir, const char *name, bool is_dir)
{
	struct zus_ctx c = th_ctx();
	struct zufs_attr a, d;

	return T.ops->unlink(T.sb, &c, dir, name, strlen(name), is_dir, &a,
			     &d);
}

uint64_t th_bfree(void)
{
	struct zufs_statfs st;

	T.ops->statfs(T.sb, &st);
	return st.bfree;
}

uint64_t th_ffree(void)
{
	struct zufs_statfs st;

	T.ops->statfs(T.sb, &st);
	return st.ffree;
}
