// SPDX-License-Identifier: BSD-3-Clause
/*
 * zpmfs_test - host unit tests of the zpmfs plugin through its zus_fs_ops,
 * on an mmapped image file made by mkfs.zpmfs.  No kernel, no FUSE.
 *
 * usage: zpmfs_test [-v] [-k] [-p PLUGIN.so] [-m MKFS] [-d DIR] [TEST...]
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "tests.h"

struct th T;

static const struct unit_test {
	const char *name;
	void (*fn)(void);
	bool no_fsck;		/* leaves a damaged image on purpose */
} tests[] = {
	{ "mount", t_mount, false },
	{ "namespace", t_namespace, false },
	{ "dirs", t_dirs, false },
	{ "data", t_data, false },
	{ "get_blocks", t_get_blocks, false },
	{ "symlink", t_symlink, false },
	{ "link", t_link, false },
	{ "rename", t_rename, false },
	{ "xattr", t_xattr, false },
	{ "fallocate", t_fallocate, false },
	{ "clone", t_clone, false },
	{ "tmpfile", t_tmpfile, false },
	{ "persist", t_persist, false },
	{ "corrupt", t_corrupt, true },
	{ "fsck", t_fsck, false },
	{ "bigdir", t_bigdir, false },
	{ "enospc", t_enospc, false },
	{ "threads", t_threads, false },
	{ "crash", t_crash, false },
	{ "stress", t_stress, false },
	{ "zero", t_zero, false },
	{ "leak", t_leak, false },
	{ "leak-shift", t_leak_shift, false },
	{ "reflink", t_reflink, false },
	{ "reflink_random", t_reflink_random, false },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: zpmfs_test [-v] [-p PLUGIN.so] [-m MKFS] [-d DIR] [TEST...]\n"
		"Unit tests of the zpmfs plugin on an image file.\n"
		"  -p PATH  plugin (default: ../../plugins-debug/zpmfs.so next to this\n"
		"           binary: the build that checks the allocator after each op)\n"
		"  -m PATH  mkfs.zpmfs (default: ../../bin/mkfs.zpmfs)\n"
		"  -d DIR   where to put the image (default: $TMPDIR or /tmp)\n"
		"  -v       verbose\n"
		"tests:");
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		fprintf(f, " %s", tests[i].name);
	fprintf(f, "\n");
}

static char *rel_path(const char *argv0, const char *rel)
{
	char self[4096], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(self, sizeof(self), "%s", argv0);
		n = strlen(self);
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&p, "%s/%s", self, rel) < 0)
		return NULL;
	return p;
}

static int load_plugin(const char *path)
{
	const struct zus_fs_type *const *types;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "zpmfs_test: %s\n", dlerror());
		return -1;
	}
	types = dlsym(h, ZUS_PLUGIN_SYMBOL);
	if (!types || !types[0]) {
		fprintf(stderr, "zpmfs_test: %s: no %s\n", path,
			ZUS_PLUGIN_SYMBOL);
		return -1;
	}
	for (; *types; types++)
		if (!strcmp((*types)->info.name, "zpmfs"))
			break;
	if (!*types || (*types)->api_version != ZUS_API_VERSION) {
		fprintf(stderr, "zpmfs_test: %s: no zpmfs type of API %d\n",
			path, ZUS_API_VERSION);
		return -1;
	}
	T.type = *types;
	T.ops = T.type->ops;
	return 0;
}

int main(int argc, char **argv)
{
	const char *plugin = NULL, *dir = getenv("TMPDIR");
	char image[4096];
	size_t i;
	int c, j;

	while ((c = getopt(argc, argv, "vp:m:d:h")) != -1) {
		switch (c) {
		case 'v': T.verbose = true; break;
		case 'p': plugin = optarg; break;
		case 'm': T.mkfs = optarg; break;
		case 'd': dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!plugin)
		plugin = rel_path(argv[0], "../../plugins-debug/zpmfs.so");
	if (!T.mkfs)
		T.mkfs = rel_path(argv[0], "../../bin/mkfs.zpmfs");
	T.fsck = rel_path(argv[0], "../../bin/fsck.zpmfs");
	snprintf(image, sizeof(image), "%s/zpmfs_test.%d.img",
		 dir ? dir : "/tmp", getpid());
	T.image = image;
	if (load_plugin(plugin))
		return 2;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		bool run = optind == argc;
		unsigned int f0 = T.failed, p0 = T.passed;

		for (j = optind; j < argc; j++)
			run |= !strcmp(argv[j], tests[i].name);
		if (!run)
			continue;
		tests[i].fn();
		if (T.sb && !tests[i].no_fsck) {
			int rc;

			th_evict_unlinked();
			th_umount();
			rc = th_fsck();
			/* clean: no leak, no orphan, no warning */
			CHECK(rc == 0, "fsck.zpmfs after %s: exit %d",
			      tests[i].name, rc);
		}
		th_umount();
		th_unmap();
		printf("%-12s %s (%u checks)\n", tests[i].name,
		       T.failed == f0 ? "ok" : "FAILED",
		       T.passed + T.failed - f0 - p0);
		fflush(stdout);
	}
	unlink(image);
	printf("%u passed, %u failed\n", T.passed, T.failed);
	return T.failed ? 1 : 0;
}
