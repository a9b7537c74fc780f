// SPDX-License-Identifier: BSD-3-Clause
/*
 * opbench: what zpmfs itself spends per operation, without kernel or
 * transport: the plugin (.so) is loaded as the loader does and mounted on
 * an image file (put it on /dev/shm: memory, like pmem), and N of each op
 * are timed through its zus_fs_ops.  For comparing plugin builds (e.g.
 * with and without the journal):
 *
 *   opbench PLUGIN.so IMAGE [N]     (IMAGE made by mkfs.zpmfs beforehand)
 *
 * One line per op: "op=create n=20000 ns_per_op=1234".  get_blocks of a
 * mapped block is the overwrite fast path the kernel's map cache serves
 * without asking (measured here to show the plugin's side is unchanged).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zus.h"

static const struct zus_fs_ops *ops;
static struct zus_sb *sb;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static struct zus_ctx ctx(void)
{
	struct zus_ctx c = { 0 };

	clock_gettime(CLOCK_REALTIME, &c.now);
	return c;
}

static void row(const char *op, unsigned long n, double t0)
{
	printf("op=%s n=%lu ns_per_op=%.0f\n", op, n, (now() - t0) * 1e9 / n);
}

static void name(char *b, size_t l, const char *p, unsigned long i)
{
	snprintf(b, l, "%s%lu", p, i);
}

int main(int argc, char **argv)
{
	const struct zus_fs_type *const *types;
	struct zus_mount_info mi = { .options = "", .ndevs = 1 };
	struct zus_mount_out out = { 0 };
	unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 0) : 20000, i;
	struct zus_ctx c = ctx();
	struct zufs_attr a, d;
	struct zus_rename_out ro;
	struct zufs_extent ext[4];
	char nm[64], nm2[64], buf[4096];
	uint64_t dir, file;
	struct stat st;
	void *h;
	double t0;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: opbench PLUGIN.so IMAGE [N]\n");
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW);
	types = h ? dlsym(h, "zus_plugin_types") : NULL;
	fd = open(argv[2], O_RDWR);
	if (!types || fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "opbench: %s\n", h ? argv[2] : dlerror());
		return 2;
	}
	ops = types[0]->ops;
	mi.pmem_size = mi.devs[0].size = st.st_size;
	mi.pmem = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);
	if (mi.pmem == MAP_FAILED || ops->mount(&mi, &sb, &out)) {
		fprintf(stderr, "opbench: mount: %s\n", out.msg);
		return 2;
	}
	ops->create(sb, &c, 1, "d", 1, S_IFDIR | 0755, 0, 0, 0, 0, NULL, 0,
		    false, &a, &d);
	dir = a.ino;
	t0 = now();
	for (i = 0; i < n; i++) {
		name(nm, sizeof(nm), "f", i);
		ops->create(sb, &c, dir, nm, strlen(nm), S_IFREG | 0644, 0, 0,
			    0, 0, NULL, 0, false, &a, &d);
	}
	row("create", n, t0);
	t0 = now();
	for (i = 0; i < n; i++) {
		name(nm, sizeof(nm), "f", i);
		name(nm2, sizeof(nm2), "g", i);
		ops->rename(sb, &c, dir, nm, strlen(nm), 1, nm2, strlen(nm2), 0,
			    &ro);
	}
	row("rename-cross-dir", n, t0);
	t0 = now();
	for (i = 0; i < n; i++) {
		name(nm, sizeof(nm), "g", i);
		ops->unlink(sb, &c, 1, nm, strlen(nm), false, &a, &d);
		ops->evict(sb, &c, a.ino);
	}
	row("unlink+evict", n, t0);
	ops->create(sb, &c, 1, "data", 4, S_IFREG | 0644, 0, 0, 0, 0, NULL, 0,
		    false, &a, &d);
	file = a.ino;
	memset(buf, 'x', sizeof(buf));
	t0 = now();
	for (i = 0; i < n && i < 16384; i++)
		ops->write(sb, &c, file, buf, sizeof(buf), i * 4096, &a);
	row("append-4k", i, t0);
	t0 = now();
	for (i = 0; i < n; i++)
		ops->get_blocks(sb, &c, file, (i % 1024) * 4096, 4096, true,
				(i % 1024 + 1) * 4096, ext, 4, &a);
	row("get_blocks-mapped-4k", n, t0);
	t0 = now();
	for (i = 0; i < n; i++) {
		struct zufs_attr s = { .mode = 0600 | (i & 077) };

		ops->setattr(sb, &c, file, ZUFS_ATTR_MODE, &s, &a);
	}
	row("chmod", n, t0);
	ops->umount(sb);
	return 0;
}
