// SPDX-License-Identifier: BSD-3-Clause
/*
 * main.c - zpmfs_crash: the crash-state explorer's driver.  See --help and
 * tests/crash/README.md.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "zpmfs.h"

const struct zus_fs_ops *cr_ops = &zp_ops;
const char *cr_exe;
static int64_t fake_now = 1700000000;
static bool show_fences;

struct zus_ctx cr_ctx(void)
{
	struct zus_ctx c = { .now = { .tv_sec = fake_now } };

	return c;
}

uint64_t cr_rand(uint64_t *s)
{
	/* splitmix64: seeded, the same on every machine */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int cr_run(struct wl_ctx *w, const char *name, cr_fn fn, void *arg)
{
	bool data = !w->data_op;
	char *before, *after, *full;
	struct cr_op op;
	int ret;

	fake_now++;
	before = or_snapshot(w->ops, w->sb, data);
	tr_begin(&op);
	ret = fn(w, arg);
	tr_end(&op, name);
	if (show_fences)	/* the cost of an op, in the unit that dominates */
		printf("op %s: %zu fences\n", name, op.nf - 1);
	after = or_snapshot(w->ops, w->sb, data);
	full = data ? after : or_snapshot(w->ops, w->sb, true);
	ex_op(&op, name, before, after, full, w->st);
	tr_op_free(&op);
	free(before);
	free(after);
	if (full != after)
		free(full);
	w->data_op = false;
	return ret;
}

static struct {
	const char	*mkfs, *size, *inodes, *only;
	char		*tmpl, *live;
	size_t		img_size;
	unsigned int	mixes, mix_ops;
	bool		alone;
	bool		self_test;
	uint64_t	max_images;
} M = {
	.size = "2M", .inodes = "256", .mixes = 4, .mix_ops = 40,
	.alone = true,
};

static int make_template(const char *tmpdir)
{
	char path[512];
	struct stat st;
	pid_t pid;
	int fd, s;

	snprintf(path, sizeof(path), "%s/crash-tmpl.%d", tmpdir, getpid());
	pid = fork();
	if (pid == 0) {
		execl(M.mkfs, M.mkfs, "-f", "-q", "-s", M.size, "-i", M.inodes,
		      path, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &s, 0) < 0 || !WIFEXITED(s) ||
	    WEXITSTATUS(s)) {
		fprintf(stderr, "zpmfs_crash: %s failed\n", M.mkfs);
		return -1;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		return -1;
	M.img_size = st.st_size;
	M.tmpl = malloc(M.img_size);
	M.live = mmap(NULL, M.img_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!M.tmpl || M.live == MAP_FAILED ||
	    pread(fd, M.tmpl, M.img_size, 0) != (ssize_t)M.img_size)
		return -1;
	close(fd);
	unlink(path);
	return 0;
}

/* A fresh live mount of the template */
static int live_mount(struct wl_ctx *w)
{
	struct zus_mount_info mi = {
		.pmem = M.live, .pmem_size = M.img_size, .ndevs = 1,
		.dev_name = "live", .options = "nozero_ahead",
	};
	struct zus_mount_out out = { 0 };
	int err;

	memcpy(M.live, M.tmpl, M.img_size);
	mi.devs[0].size = M.img_size;
	err = cr_ops->mount(&mi, &w->sb, &out);
	if (err)
		fprintf(stderr, "zpmfs_crash: mount: %s\n", out.msg);
	tr_sync();
	return err;
}

static void usage(FILE *o)
{
	fprintf(o,
"usage: zpmfs_crash [options] --mkfs MKFS\n"
"Runs zpmfs natively on a file-backed image with every store, flush and\n"
"fence recorded; at each fence point of each operation builds crash images\n"
"(durable stores + subsets of those in flight) and checks that each one\n"
"mounts, shows the op wholly absent or wholly there (wholly there once it\n"
"returned), and passes fsck.zpmfs -n (fs/zpmfs/fsck.c, linked in).  Also\n"
"flags stores never flushed, or\n"
"flushed with no fence, when their op returns.\n"
"  --seed N        random mixes and subsets (default 1)\n"
"  --mixes N       random mixes (default 4), each of --mix-ops N ops (40)\n"
"  --no-alone      skip the single-op workloads\n"
"  --only NAME     run only this single-op workload (see --list)\n"
"  --list          the single-op workloads\n"
"  --singles N     single-store images per fence point (default 24)\n"
"  --randoms N     random-subset images per fence point (default 6)\n"
"  --max-images N  stop the mixes after N images (0: no limit)\n"
"  --max-report N  violations printed in full (default 20)\n"
"  --tmpdir DIR    where the crash image lives (default $TMPDIR, /tmp)\n"
"  --size S        image size for mkfs (default 2M)\n"
"  --fences        print how many fences each op takes\n"
"  --self-test     first make sure an unflushed store, an unfenced flush\n"
"                  and an unpersisted link count are caught (exit 2 if not)\n"
"  --fsck-first    repair each crash image with fsck.zpmfs -p (which must\n"
"                  not leave anything uncorrected) before mounting it\n"
"  -v              the plugin's and fsck's messages too\n"
"Exit: 0 no violation and nothing left in flight, 1 violations or flags,\n"
"2 usage or setup error.\n");
}

static int parse(int argc, char **argv, struct cr_opts *o)
{
	static const struct option lo[] = {
		{ "mkfs", 1, NULL, 'M' },
		{ "seed", 1, NULL, 's' }, { "mixes", 1, NULL, 'm' },
		{ "mix-ops", 1, NULL, 'o' }, { "no-alone", 0, NULL, 'A' },
		{ "only", 1, NULL, 'O' }, { "list", 0, NULL, 'l' },
		{ "singles", 1, NULL, 'S' }, { "randoms", 1, NULL, 'R' },
		{ "max-images", 1, NULL, 'I' }, { "max-report", 1, NULL, 'r' },
		{ "tmpdir", 1, NULL, 't' }, { "size", 1, NULL, 'z' },
		{ "fsck-first", 0, NULL, 'P' }, { "fences", 0, NULL, 'f' },
		{ "self-test", 0, NULL, 'T' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c, i;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'M': M.mkfs = optarg; break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'm': M.mixes = atoi(optarg); break;
		case 'o': M.mix_ops = atoi(optarg); break;
		case 'A': M.alone = false; break;
		case 'O': M.only = optarg; break;
		case 'S': o->singles = atoi(optarg); break;
		case 'R': o->randoms = atoi(optarg); break;
		case 'I': M.max_images = strtoull(optarg, NULL, 0); break;
		case 'r': o->max_report = atoi(optarg); break;
		case 't': o->tmpdir = optarg; break;
		case 'z': M.size = optarg; break;
		case 'v': o->verbose = true; break;
		case 'P': o->fsck_first = true; break;
		case 'f': show_fences = true; break;
		case 'T': M.self_test = true; break;
		case 'l':
			for (i = 0; wl_alone_name(i); i++)
				puts(wl_alone_name(i));
			exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (!M.mkfs || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* ---- --self-test: the explorer must see what it is meant to see ---- */

enum bad_kind { BAD_NO_FLUSH, BAD_NO_FENCE, BAD_NLINK };

static int bad_op(struct wl_ctx *w, void *arg)
{
	struct zpmfs_inode *root = zp_pi(w->sb, ZPMFS_ROOT_INO);
	enum bad_kind k = *(enum bad_kind *)arg;

	switch (k) {
	case BAD_NO_FLUSH:	/* a store nobody flushes */
		root->reserved[0]++;
		break;
	case BAD_NO_FENCE:	/* flushed, never fenced */
		root->reserved[1]++;
		pmem_flush(&root->reserved[1], 8);
		break;
	case BAD_NLINK:		/* visible state, never persisted */
		root->nlink++;
		break;
	}
	return 0;
}

static int self_test(struct wl_ctx *w)
{
	static const char *const names[] = { "unflushed store",
		"unfenced flush", "unpersisted nlink" };
	struct cr_stats *st = w->st, before;
	enum bad_kind k;
	int bad = 0;

	for (k = BAD_NO_FLUSH; k <= BAD_NLINK; k++) {
		if (live_mount(w))
			return -1;
		before = *st;
		cr_run(w, names[k], bad_op, &k);
		cr_ops->umount(w->sb);
		if ((k == BAD_NO_FLUSH && st->unflushed == before.unflushed) ||
		    (k == BAD_NO_FENCE && st->unfenced == before.unfenced) ||
		    (k == BAD_NLINK && st->violations == before.violations)) {
			printf("SELF-TEST FAILED: %s not detected\n", names[k]);
			bad++;
		}
	}
	*st = (struct cr_stats){ 0 };
	printf("zpmfs_crash: self-test %s\n", bad ? "FAILED" : "passed");
	return bad ? -1 : 0;
}

static int run_alone(struct wl_ctx *w)
{
	unsigned int i;
	int rc = 0;

	for (i = 0; wl_alone_name(i); i++) {
		if (M.only && strcmp(M.only, wl_alone_name(i)))
			continue;
		if (live_mount(w))
			return -1;
		if (wl_alone(w, i))
			rc = -1;
		cr_ops->umount(w->sb);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct cr_opts o = {
		.singles = 24, .randoms = 6, .max_report = 20, .seed = 1,
		.tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	};
	struct cr_stats st = { 0 };
	struct wl_ctx w = { .ops = cr_ops, .st = &st };
	time_t t0 = time(NULL);
	unsigned int i;
	int rc = 0;
	static char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	cr_exe = n > 0 ? (exe[n] = '\0', exe) : argv[0];
	if (parse(argc, argv, &o))
		return 2;
	if (make_template(o.tmpdir) || ex_init(&o, M.img_size))
		return 2;
	memcpy(M.live, M.tmpl, M.img_size);	/* tr_init reads the layout */
	tr_init(M.live, M.img_size);
	if (M.self_test && self_test(&w))
		return 2;
	if (M.alone && run_alone(&w))
		rc = 2;
	for (i = 0; !M.only && i < M.mixes; i++) {
		if (M.max_images && st.images >= M.max_images)
			break;
		w.rng = o.seed * 1000 + i;
		if (live_mount(&w))
			return 2;
		wl_mix(&w, M.mix_ops);
		cr_ops->umount(w.sb);
	}
	ex_fini();
	printf("zpmfs_crash: %lu ops, %lu fence points, %lu crash images "
	       "(%lu duplicate subsets skipped), %lu violations, "
	       "%lu stores never flushed, %lu flushes never fenced, %lds\n",
	       (unsigned long)st.ops, (unsigned long)st.fences,
	       (unsigned long)st.images, (unsigned long)st.skipped_dups,
	       (unsigned long)st.violations, (unsigned long)st.unflushed,
	       (unsigned long)st.unfenced, (long)(time(NULL) - t0));
	if (rc)
		return rc;
	return st.violations || st.unflushed || st.unfenced ? 1 : 0;
}
