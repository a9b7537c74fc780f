// SPDX-License-Identifier: BSD-3-Clause
/*
 * explore.c - crash images of one recorded operation, and their checks.
 *
 * For each fence point of the op (and the point after it returned) the
 * durable image is rebuilt from the op's start and the words earlier
 * fences made durable; then the words in flight at that point are added
 * in subsets: none, all, each one alone, all but one, and seeded random
 * ones (bounded per point, duplicates skipped).  Each image must mount
 * (journal replay, orphan and leak recovery), show the state before the
 * op or after it (after it only, once the op returned: it was
 * acknowledged), and pass fsck.zpmfs after umount.  A failing subset is
 * minimised by dropping stores one at a time while it still fails.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <getopt.h>
#include <unistd.h>

#include "crash.h"
#include "zpmfs_format.h"

static struct {
	struct cr_opts	o;
	char		*img;		/* the crash image, MAP_SHARED */
	char		*r;		/* durable image at the current point */
	char		*r2;		/* scratch copy */
	size_t		size;
	char		path[512], log[512];
	int		devnull, err_fd;
	uint64_t	rng;
	uint64_t	reported;
	bool		nodata;		/* compare without file contents */
	uint64_t	repaired;	/* images fsck -p changed */
	uint64_t	ro_probes;	/* read-only mounts of a pending journal */
} X;

int ex_init(const struct cr_opts *o, size_t size)
{
	int fd;

	X.o = *o;
	X.size = size;
	X.rng = o->seed * 0x9e3779b97f4a7c15ULL + 1;
	snprintf(X.path, sizeof(X.path), "%s/crash-img.%d", o->tmpdir,
		 getpid());
	snprintf(X.log, sizeof(X.log), "%s/crash-fsck.%d", o->tmpdir,
		 getpid());
	fd = open(X.path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, size)) {
		perror(X.path);
		return -1;
	}
	X.img = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	X.r = malloc(size);
	X.r2 = malloc(size);
	if (X.img == MAP_FAILED || !X.r || !X.r2)
		return -1;
	X.devnull = open("/dev/null", O_WRONLY);
	X.err_fd = dup(2);
	return 0;
}

void ex_fini(void)
{
	if (X.o.fsck_first)
		printf("zpmfs_crash: fsck.zpmfs -p repaired %lu image(s) "
		       "before their mount\n", (unsigned long)X.repaired);
	printf("zpmfs_crash: %lu read-only mount(s) of a pending journal "
	       "checked\n", (unsigned long)X.ro_probes);
	free(X.r2);
	munmap(X.img, X.size);
	free(X.r);
	unlink(X.path);
	unlink(X.log);
}

static void quiet(bool on)
{
	if (X.o.verbose)
		return;
	fflush(stderr);
	dup2(on ? X.devnull : X.err_fd, 2);
}

/* fsck.zpmfs -n, linked in (fsck.c built with main renamed): no exec */
static int run_fsck(const char *mode)
{
	char *argv[] = { "fsck.zpmfs", (char *)mode, X.path, NULL };
	int fd, out = dup(1), err = dup(2), rc;

	fflush(stdout);
	fflush(stderr);
	fd = open(X.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	optind = 1;
	rc = zpmfs_fsck_main(3, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
	return rc;
}

/* An unfinished journal op in the image (slot header seq != 0)? */
static bool journal_pending(void)
{
	const struct zpmfs_super *s = (const void *)(X.img + ZPMFS_BLOCK);
	uint64_t i;

	for (i = 0; i < s->log_blocks && i < 64; i++)
		if (((const struct zpmfs_log_hdr *)(X.img + (s->log_start + i) *
						    ZPMFS_BLOCK))->seq)
			return true;
	return false;
}

/*
 * A read-only mount of an image with an unfinished op must leave every
 * byte alone, and refuse to become read-write (its DRAM state was built
 * from the image as the crash left it).  Tried on the first images that
 * have one.
 */
static bool ro_probe(struct zus_mount_info *mi, char *why, size_t wl)
{
	struct zus_mount_out out = { 0 };
	struct zus_sb *sb = NULL;
	bool ok = true;
	int err;

	if (X.ro_probes >= 50 || !journal_pending())
		return true;
	X.ro_probes++;
	memcpy(X.r2, X.img, X.size);
	mi->flags = ZUS_MOUNT_RDONLY;
	quiet(true);
	err = cr_ops->mount(mi, &sb, &out);
	if (!err) {
		err = cr_ops->remount(sb, "nozero_ahead", 0, &out);
		cr_ops->umount(sb);
	}
	quiet(false);
	mi->flags = 0;
	if (err != -EROFS) {
		snprintf(why, wl, "read-only mount with a pending journal: "
			 "remount rw gave %d, want -EROFS", err);
		ok = false;
	} else if (memcmp(X.r2, X.img, X.size)) {
		snprintf(why, wl, "read-only mount changed the image");
		ok = false;
	}
	return ok;
}

/* The image of R plus the selected words: mount, compare, fsck */
static bool image_ok(const struct cr_words *d, const bool *sel,
		     const char *before, const char *after, char *why,
		     size_t wl)
{
	struct zus_mount_info mi = {
		.pmem = X.img, .pmem_size = X.size, .ndevs = 1,
		.dev_name = X.path, .options = "nozero_ahead",
	};
	struct zus_mount_out out = { 0 };
	struct zus_sb *sb = NULL;
	char *now;
	size_t i;
	int err;

	memcpy(X.img, X.r, X.size);
	for (i = 0; i < d->n; i++)
		if (sel[i])
			memcpy(X.img + d->w[i].off, &d->w[i].val, 8);
	mi.devs[0].size = X.size;
	if (!ro_probe(&mi, why, wl))
		return false;
	if (X.o.fsck_first) {
		/* fsck.zpmfs -p repairs the crash image before any mount */
		err = run_fsck("-p");
		if (err > 1) {
			snprintf(why, wl, "fsck.zpmfs -p before mount: exit %d",
				 err);
			return false;
		}
		X.repaired += err == 1;
	}
	quiet(true);
	err = cr_ops->mount(&mi, &sb, &out);
	if (err) {
		quiet(false);
		snprintf(why, wl, "mount failed (%d): %s", err, out.msg);
		return false;
	}
	now = or_snapshot(cr_ops, sb, !X.nodata);
	cr_ops->umount(sb);
	quiet(false);
	if (strcmp(now, after) && (!before || strcmp(now, before))) {
		char alt[512];

		or_diff(after, now, alt, sizeof(alt));
		if (before) {
			char b2[512];

			or_diff(before, now, b2, sizeof(b2));
			snprintf(why, wl, "neither before nor after the op: "
				 "vs before: %.200s; vs after: %.200s", b2, alt);
		} else {
			snprintf(why, wl, "acknowledged op not all there: %.400s",
				 alt);
		}
		free(now);
		return false;
	}
	free(now);
	err = run_fsck("-n");
	if (err) {
		FILE *f = fopen(X.log, "r");
		char line[256] = "";

		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = '\0';
			fclose(f);
		}
		line[strcspn(line, "\n")] = '\0';
		snprintf(why, wl, "fsck.zpmfs exit %d: %s", err, line);
		return false;
	}
	return true;
}

static void print_bt(const struct cr_fence *f)
{
	char cmd[2048];
	size_t n;
	FILE *p;
	int i;

	n = snprintf(cmd, sizeof(cmd), "addr2line -f -p -e '%s'", cr_exe);
	/* frames 0-2 are the explorer's hook and pmem.c */
	for (i = 2; i < f->nbt && n < sizeof(cmd) - 24; i++) {
		Dl_info di;

		if (!dladdr(f->bt[i], &di))
			continue;
		n += snprintf(cmd + n, sizeof(cmd) - n, " 0x%lx",
			      (unsigned long)((char *)f->bt[i] -
					      (char *)di.dli_fbase - 1));
	}
	p = popen(cmd, "r");
	if (!p)
		return;
	while (fgets(cmd, sizeof(cmd), p)) {
		if (strstr(cmd, "main.c") || strstr(cmd, "??"))
			break;
		printf("      at %s", cmd);
	}
	pclose(p);
}

static void report(const char *name, struct cr_op *op, size_t k,
		   const struct cr_words *d, const bool *sel, const char *why)
{
	const struct cr_fence *f = &op->f[k];
	char where[96];
	size_t i;

	if (X.reported++ >= X.o.max_report)
		return;
	printf("VIOLATION op '%s' %s %zu of %zu: %s\n", name,
	       f->end ? "after return, point" : "fence", k + 1, op->nf, why);
	if (!f->end)
		print_bt(f);
	printf("    durable image + these stores in flight (minimised):%s\n",
	       memchr(sel, 1, d->n) ? "" : " none");
	for (i = 0; i < d->n; i++) {
		uint64_t old;

		if (!sel[i])
			continue;
		memcpy(&old, X.r + d->w[i].off, 8);
		tr_describe(d->w[i].off, where, sizeof(where));
		printf("      %-28s 0x%06lx: %016lx -> %016lx\n", where,
		       (unsigned long)d->w[i].off, (unsigned long)old,
		       (unsigned long)d->w[i].val);
	}
	fflush(stdout);
}

/* Drop stores one at a time while the image still fails */
static void minimise(const struct cr_words *d, bool *sel, const char *before,
		     const char *after, char *why, size_t wl,
		     struct cr_stats *st)
{
	char w2[512];
	size_t i;

	for (i = 0; i < d->n; i++) {
		if (!sel[i])
			continue;
		sel[i] = false;
		st->images++;
		if (image_ok(d, sel, before, after, w2, sizeof(w2)))
			sel[i] = true;
		else
			snprintf(why, wl, "%s", w2);
	}
}

static uint64_t sel_hash(const bool *sel, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (sel[i] + 2 * (i & 0xff))) * 0x100000001b3ULL;
	return h ^ n;
}

struct point {
	const struct cr_words *d;
	bool		*sel;
	uint64_t	seen[256];
	unsigned int	nseen;
};

static bool seen_before(struct point *pt)
{
	uint64_t h = sel_hash(pt->sel, pt->d->n);
	unsigned int i;

	for (i = 0; i < pt->nseen; i++)
		if (pt->seen[i] == h)
			return true;
	if (pt->nseen < 256)
		pt->seen[pt->nseen++] = h;
	return false;
}

/* Check one subset; false when it failed (and was reported) */
static bool try_subset(struct point *pt, const char *name, struct cr_op *op,
		       size_t k, const char *before, const char *after,
		       struct cr_stats *st)
{
	char why[512];

	if (seen_before(pt)) {
		st->skipped_dups++;
		return true;
	}
	st->images++;
	if (image_ok(pt->d, pt->sel, before, after, why, sizeof(why)))
		return true;
	st->violations++;
	minimise(pt->d, pt->sel, before, after, why, sizeof(why), st);
	report(name, op, k, pt->d, pt->sel, why);
	return false;
}

static void fill_sel(struct point *pt, int how, size_t which)
{
	size_t i, n = pt->d->n;

	for (i = 0; i < n; i++) {
		switch (how) {
		case 0: pt->sel[i] = false; break;
		case 1: pt->sel[i] = true; break;
		case 2: pt->sel[i] = i == which; break;
		case 3: pt->sel[i] = i != which; break;
		default: pt->sel[i] = cr_rand(&X.rng) & 1; break;
		}
	}
}

/* Every subset of one point; stops at the first failure */
static void explore_point(const char *name, struct cr_op *op, size_t k,
			  const char *before, const char *after,
			  struct cr_stats *st)
{
	struct point pt = { .d = &op->f[k].dirty };
	size_t n = pt.d->n, i, which;
	bool ok;

	pt.sel = calloc(n + 1, sizeof(bool));
	if (!pt.sel)
		exit(2);
	fill_sel(&pt, 0, 0);
	ok = try_subset(&pt, name, op, k, before, after, st);
	fill_sel(&pt, 1, 0);
	ok = ok && try_subset(&pt, name, op, k, before, after, st);
	for (i = 0; ok && i < X.o.singles && i < n; i++) {
		which = n <= X.o.singles ? i : cr_rand(&X.rng) % n;
		fill_sel(&pt, 2, which);
		ok = try_subset(&pt, name, op, k, before, after, st);
		if (ok && n > 2 && i < X.o.singles / 4) {
			fill_sel(&pt, 3, which);
			ok = try_subset(&pt, name, op, k, before, after, st);
		}
	}
	for (i = 0; ok && n > 2 && i < X.o.randoms; i++) {
		fill_sel(&pt, 4, 0);
		ok = try_subset(&pt, name, op, k, before, after, st);
	}
	free(pt.sel);
}

void ex_op(struct cr_op *op, const char *name, const char *before,
	   const char *after, const char *after_full, struct cr_stats *st)
{
	size_t k, i;

	st->ops++;
	st->unflushed += op->unflushed;
	st->unfenced += op->unfenced;
	memcpy(X.r, op->p0, X.size);
	for (k = 0; k < op->nf; k++) {
		const struct cr_fence *f = &op->f[k];

		st->fences += !f->end;
		X.nodata = !f->end && after != after_full;
		explore_point(name, op, k, f->end ? NULL : before,
			      f->end ? after_full : after, st);
		for (i = 0; i < f->persist.n; i++)
			memcpy(X.r + f->persist.w[i].off, &f->persist.w[i].val,
			       8);
	}
}
