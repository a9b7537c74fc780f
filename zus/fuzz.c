// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz.c - the ABI fuzzer's core: options, the per-answer decision, the
 * timing classes (late, twice, never, death), counters and the reports.
 *
 * --fuzz SEED[:PERMILLE][,CLASS...]: after the plugin answered an op (or
 * the mount thread a mount request), PERMILLE of the answers get one
 * mutation of one enabled class that applies to the op.  The kernel must
 * turn every lie into an error for the caller (or survive it), never
 * crash, hang or leak.  What happens to an answer depends only on the seed,
 * the channel, the op's seq and its code (see fuzz.h), and every mutation
 * is logged as "fuzz: seed S chan C seq Q OP: CLASS: what" unless quiet.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "fuzz.h"

const char *const fz_class_names[FZ_NCLASSES] = {
	[FZ_ERRNO] = "errno",	[FZ_LENGTH] = "length",	[FZ_ATTR] = "attr",
	[FZ_INO] = "ino",	[FZ_EXTENT] = "extent",	[FZ_DIRENT] = "dirent",
	[FZ_NAME] = "name",	[FZ_HEADER] = "header",	[FZ_DELAY] = "delay",
	[FZ_HOLD] = "hold",	[FZ_TWICE] = "twice",	[FZ_NEVER] = "never",
	[FZ_DIE] = "die",	[FZ_MOUNT] = "mount",	[FZ_IOCTL] = "ioctl",
};

static int class_of(const char *name, size_t len)
{
	int i;

	for (i = 0; i < FZ_NCLASSES; i++)
		if (strlen(fz_class_names[i]) == len &&
		    !strncmp(fz_class_names[i], name, len))
			return i;
	return -1;
}

/*
 * SEED[:PERMILLE][,TOKEN...]; a TOKEN is a class name (adds it), -CLASS
 * (removes it), all, default, quiet, table, report=SECS.  Classes named only by
 * additions replace the default set; a removal starts from the default.
 */
int zusd_fuzz_parse(const char *arg, struct zusd_fuzz_conf *conf)
{
	unsigned long pm = 100;
	bool explicit = false;
	const char *tok, *end;

	memset(conf, 0, sizeof(*conf));
	if (zusd_parse_seed(arg, &conf->seed, &pm, &end))
		return -EINVAL;
	conf->permille = pm;
	conf->classes = FZ_DEFAULT_CLASSES;
	for (tok = end; *tok; ) {
		size_t len;
		int cls;

		if (*tok != ',')
			return -EINVAL;
		tok++;
		len = strcspn(tok, ",");
		if (len == 3 && !strncmp(tok, "all", 3)) {
			conf->classes = (1U << FZ_NCLASSES) - 1;
			explicit = true;
		} else if (len == 7 && !strncmp(tok, "default", 7)) {
			conf->classes = FZ_DEFAULT_CLASSES;
			explicit = true;
		} else if (len == 5 && !strncmp(tok, "quiet", 5)) {
			conf->quiet = true;
		} else if (len == 5 && !strncmp(tok, "table", 5)) {
			conf->table = true;
		} else if (len > 7 && !strncmp(tok, "report=", 7)) {
			char *num_end;
			unsigned long s = strtoul(tok + 7, &num_end, 10);

			if (num_end != tok + len || s > 86400)
				return -EINVAL;
			conf->report_s = s;
		} else if (*tok == '-') {
			cls = class_of(tok + 1, len - 1);
			if (cls < 0)
				return -EINVAL;
			conf->classes &= ~(1U << cls);
			explicit = true;
		} else {
			cls = class_of(tok, len);
			if (cls < 0)
				return -EINVAL;
			if (!explicit)
				conf->classes = 0;
			conf->classes |= 1U << cls;
			explicit = true;
		}
		tok += len;
	}
	conf->on = true;
	return 0;
}

struct fz_rng fz_rng_for(const struct zusd_fuzz *f, uint64_t chan,
			 uint64_t seq, uint64_t op)
{
	struct fz_rng r = { f->conf.seed };
	struct fz_rng m = { (chan << 48) ^ (op << 40) ^ seq };

	/* mixing both keeps nearby seqs and seeds apart */
	r.s ^= fz_next(&m);
	fz_next(&r);
	return r;
}

int fz_pick_class(const struct zusd_fuzz *f, struct fz_rng *r,
		  uint32_t allowed)
{
	uint32_t set = allowed & f->conf.classes;
	int n = __builtin_popcount(set), k, i;

	if (!n)
		return -1;
	k = fz_below(r, n);
	for (i = 0; i < FZ_NCLASSES; i++)
		if (set & (1U << i) && k-- == 0)
			return i;
	return -1;
}

void fz_count(struct zusd_fuzz *f, unsigned int slot, int cls)
{
	if (slot >= FZ_NSLOTS)
		return;
	__atomic_fetch_add(&f->answers[slot], 1, __ATOMIC_RELAXED);
	if (cls < 0)
		return;
	__atomic_fetch_add(&f->mutated[slot], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&f->hits[slot][cls], 1, __ATOMIC_RELAXED);
}

void fz_note_ino(struct zusd_fuzz *f, uint64_t sb, uint64_t ino)
{
	uint32_t i = __atomic_fetch_add(&f->ring_pos, 1, __ATOMIC_RELAXED);

	if (!ino)
		return;
	__atomic_store_n(&f->ring[i % FZ_RING].sb, sb, __ATOMIC_RELAXED);
	__atomic_store_n(&f->ring[i % FZ_RING].ino, ino, __ATOMIC_RELAXED);
}

uint64_t fz_ring_ino(struct zusd_fuzz *f, struct fz_rng *r, uint64_t sb,
		     bool other)
{
	uint32_t start = fz_below(r, FZ_RING), i;

	for (i = 0; i < FZ_RING; i++) {
		struct fz_ino *e = &f->ring[(start + i) % FZ_RING];
		uint64_t esb = __atomic_load_n(&e->sb, __ATOMIC_RELAXED);
		uint64_t ino = __atomic_load_n(&e->ino, __ATOMIC_RELAXED);

		if (ino && (esb != sb) == other)
			return ino;
	}
	return 0;
}

/* err values the kernel must sort out: its own internal codes included */
int32_t fz_errno(struct fz_rng *r, int32_t cur)
{
	static const int32_t odd[] = {
		-4095, -4096, -4097, 4096, 1, -1, INT32_MIN, INT32_MAX,
		-(1 << 20), 0x7fff0000,
	};
	static const int32_t plausible[] = {
		-ENOENT, -EEXIST, -ENOTDIR, -EISDIR, -ENOTEMPTY, -ENOSPC,
		-EFBIG, -EOVERFLOW, -ENAMETOOLONG, -E2BIG, -ERANGE, -ENODATA,
		-EOPNOTSUPP, -ENOSYS, -ESTALE, -ENXIO, -EAGAIN, -EINTR,
		-EPERM, -EACCES, -EROFS, -EXDEV, -EMLINK, -ELOOP, -EBADF,
		-EFAULT, -ENOMEM, -EINVAL, -EIO, -ENOTTY, -ETXTBSY,
	};

	switch (fz_below(r, 8)) {
	case 0:
	case 1:
	case 2:	/* anywhere in -4095..4095 but 0 */
		return (int32_t)fz_below(r, 8190) - 4095 + (fz_below(r, 2));
	case 3:	/* the kernel's own: ERESTARTSYS 512 .. EIOCBQUEUED 529 */
		return -(int32_t)(512 + fz_below(r, 18));
	case 4:
		return odd[fz_below(r, sizeof(odd) / sizeof(odd[0]))];
	case 5:
		return plausible[fz_below(r, sizeof(plausible) /
					     sizeof(plausible[0]))];
	case 6:	/* success for a failure, a failure for a success */
		return cur ? 0 : -EIO;
	default:
		return -(int32_t)(1 + fz_below(r, 133));
	}
}

/* the edges of a length: 0/1/max/max+1/2^32-1 and friends */
uint64_t fz_len(struct fz_rng *r, uint64_t cur, uint64_t max)
{
	switch (fz_below(r, 12)) {
	case 0:	return 0;
	case 1:	return 1;
	case 2:	return max;
	case 3:	return max + 1;
	case 4:	return max ? max - 1 : 0;
	case 5:	return cur + 1;
	case 6:	return cur ? cur - 1 : 0;
	case 7:	return 0xffffffffULL;
	case 8:	return 0x100000000ULL;
	case 9:	return UINT64_MAX;
	case 10: return 1ULL << 63;
	default: return cur + 1 + fz_below(r, 1U << 20);
	}
}

void fz_log(struct zusd_fuzz *f, const char *where, uint64_t chan,
	    uint64_t seq, const char *op, const char *what)
{
	zusd_log(f->zd, 6, "fuzz: seed %" PRIu64 " %s chan %" PRIu64
		 " seq %" PRIu64 " %s: %s", f->conf.seed, where, chan, seq,
		 op, what);
}

void fz_sleep_ms(uint64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Hold the answer until zusd is told to stop: the caller must be killable */
void fz_never(struct zusd_fuzz *f)
{
	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED))
		fz_sleep_ms(50);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void print_stats(struct zusd_fuzz *f, const char *tag, bool table);

/* Die with the answer half written (and, for I/O, the window mapped) */
void fz_die(struct zusd_fuzz *f, void *area, size_t len, struct fz_rng *r)
{
	size_t n = len ? fz_below(r, len) : 0, i;
	unsigned char *p = area;

	print_stats(f, "died", false);
	for (i = 0; i < n; i++)
		p[i] = fz_next(r);
	_exit(86);
}

/*
 * Twice: a timer signal hits the ZT shortly after it answered, usually
 * inside ZUFS_IOC_WAIT_OP: the ioctl returns EINTR after answering, the
 * loop calls it again, which answers once more (the kernel must ignore
 * it).  The handler also scribbles over the answer it already gave, while
 * the caller may be copying it out.
 */
struct fz_twice_state {
	struct zufs_op_hdr *hdr;
	uint64_t seq;
};
static __thread struct fz_twice_state fz_tw;

static void twice_handler(int sig)
{
	struct zufs_op_hdr *hdr = fz_tw.hdr;

	(void)sig;
	if (!hdr || __atomic_load_n(&hdr->seq, __ATOMIC_RELAXED) != fz_tw.seq)
		return;
	__atomic_store_n(&hdr->err, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&hdr->data_out, 0xffffffffU, __ATOMIC_RELAXED);
}

void fz_twice(struct zusd_zt *zt, uint64_t seq)
{
	struct itimerspec its = { .it_value = { 0, 200000 } };

	if (!zt->fuzz_timer_ok) {
		struct sigevent sev = {
			.sigev_notify = SIGEV_THREAD_ID,
			.sigev_signo = SIGUSR2,
		};

		sev._sigev_un._tid = syscall(SYS_gettid);
		if (timer_create(CLOCK_MONOTONIC, &sev, &zt->fuzz_timer))
			return;
		zt->fuzz_timer_ok = true;
	}
	its.it_value.tv_nsec += (seq % 8) * 250000;
	fz_tw.hdr = zt->map;
	fz_tw.seq = seq;
	timer_settime(zt->fuzz_timer, 0, &its, NULL);
}

static uint32_t timing_classes(void)
{
	return 1U << FZ_DELAY | 1U << FZ_HOLD | 1U << FZ_TWICE |
	       1U << FZ_NEVER | 1U << FZ_DIE;
}

void zusd_fuzz_answer(struct zusd_zt *zt)
{
	struct zusd_fuzz *f = zt->zd->fuzz;
	struct zufs_op_hdr *hdr = zt->map;
	uint32_t op = hdr->op, allowed;
	uint64_t seq = hdr->seq;
	const struct zusd_op_desc *d = zusd_op_desc(op);
	const char *what = NULL;
	char buf[160];
	struct fz_rng r;
	int cls = -1;

	if (!f || op >= ZUFS_OP_MAX_OPT)
		return;
	if (!hdr->err && d && d->nattrs)
		fz_note_ino(f, hdr->sb_handle, ((struct zufs_attr *)
			    ((char *)hdr + d->attrs[0]))->ino);
	r = fz_rng_for(f, zt->id, seq, op);
	if (fz_below(&r, 1000) >= f->conf.permille) {
		fz_count(f, op, -1);
		return;
	}
	allowed = fz_op_classes(op) | timing_classes();
	while ((cls = fz_pick_class(f, &r, allowed)) >= 0) {
		/* a hold stalls a whole channel for seconds: one pick in
		 * eight, the others are short delays, or a soak crawls */
		if (cls == FZ_HOLD && f->conf.classes & (1U << FZ_DELAY) &&
		    fz_below(&r, 8))
			cls = FZ_DELAY;
		switch (cls) {
		case FZ_DELAY:
		case FZ_HOLD: {
			uint64_t ms = cls == FZ_DELAY ? 1 + fz_below(&r, 50) :
				      200 + fz_below(&r, 2800);

			snprintf(buf, sizeof(buf), "answer %" PRIu64 " ms late",
				 ms);
			what = buf;
			if (!f->conf.quiet || cls == FZ_HOLD)
				fz_log(f, "answer", zt->id, seq,
				       zusd_op_name(op), what);
			fz_sleep_ms(ms);
			break;
		}
		case FZ_TWICE:
			what = "answer twice (EINTR, re-answer, scribble)";
			fz_twice(zt, seq);
			break;
		case FZ_NEVER:
			what = "never answer";
			fz_log(f, "answer", zt->id, seq, zusd_op_name(op),
			       what);
			fz_never(f);
			break;
		case FZ_DIE:
			fz_log(f, "answer", zt->id, seq, zusd_op_name(op),
			       "die mid-answer");
			fz_count(f, op, cls);
			fz_die(f, (char *)hdr + sizeof(*hdr),
			       (d ? d->size : sizeof(*hdr)) - sizeof(*hdr),
			       &r);
			break;
		default:
			what = fz_mutate_op(zt, &r, cls);
			break;
		}
		if (what)
			break;
		allowed &= ~(1U << cls);
	}
	fz_count(f, op, what ? cls : -1);
	if (what && !f->conf.quiet && cls != FZ_DELAY && cls != FZ_HOLD &&
	    cls != FZ_NEVER) {
		char line[200];

		snprintf(line, sizeof(line), "%s: %s", fz_class_names[cls],
			 what);
		fz_log(f, "answer", zt->id, seq, zusd_op_name(op), line);
	}
}

/* ------------------------------------------------------------------ */
/* reports                                                             */
/* ------------------------------------------------------------------ */

static const char *slot_name(unsigned int slot)
{
	static const char *const mnames[] = {
		"M_NONE", "M_MOUNT", "M_UMOUNT", "M_REMOUNT", "M_BREAK",
	};

	if (slot < FZ_MOUNT_BASE)
		return zusd_op_name(slot);
	return mnames[slot - FZ_MOUNT_BASE];
}

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/*
 * One summary line (what tests parse), and with @table one line per op
 * that was answered: answers, mutations, and the classes that hit it.
 */
static void print_stats(struct zusd_fuzz *f, const char *tag, bool table)
{
	uint64_t total = 0, mut = 0, el = now_ns() - f->start_ns;
	uint32_t cls_hit = 0;
	unsigned int ops = 0, opsm = 0, s, c;
	char cl[256] = "";
	size_t n = 0;

	for (s = 0; s < FZ_NSLOTS; s++) {
		total += ld(&f->answers[s]);
		mut += ld(&f->mutated[s]);
		ops += ld(&f->answers[s]) != 0;
		opsm += ld(&f->mutated[s]) != 0;
		for (c = 0; c < FZ_NCLASSES; c++)
			if (ld(&f->hits[s][c]))
				cls_hit |= 1U << c;
	}
	if (ld(&f->ioctls))
		cls_hit |= 1U << FZ_IOCTL;
	for (c = 0; c < FZ_NCLASSES && n < sizeof(cl) - 16; c++)
		if (cls_hit & (1U << c))
			n += snprintf(cl + n, sizeof(cl) - n, "%s%s",
				      n ? "," : "", fz_class_names[c]);
	zusd_log(f->zd, 6, "fuzz: %s seed=%" PRIu64 " t=%.1fs answers=%" PRIu64
		 " mutated=%" PRIu64 " rate=%.0f/s ops=%u mutated_ops=%u"
		 " ioctls=%" PRIu64 "/%" PRIu64 " classes=%s", tag,
		 f->conf.seed, el / 1e9, total, mut,
		 el ? total * 1e9 / el : 0.0, ops, opsm, ld(&f->ioctl_ok),
		 ld(&f->ioctls), cl[0] ? cl : "-");
	if (!table)
		return;
	for (s = 0; s < FZ_NSLOTS; s++) {
		char line[512];

		if (!ld(&f->answers[s]))
			continue;
		n = 0;
		for (c = 0; c < FZ_NCLASSES && n < sizeof(line) - 32; c++)
			if (ld(&f->hits[s][c]))
				n += snprintf(line + n, sizeof(line) - n,
					      " %s:%" PRIu64,
					      fz_class_names[c],
					      ld(&f->hits[s][c]));
		line[n] = 0;
		zusd_log(f->zd, 6, "fuzz: op %-10s answers=%" PRIu64
			 " (%.0f/s) mutated=%" PRIu64 "%s", slot_name(s),
			 ld(&f->answers[s]),
			 el ? ld(&f->answers[s]) * 1e9 / el : 0.0,
			 ld(&f->mutated[s]), line);
	}
}

static void *reporter_main(void *arg)
{
	struct zusd_fuzz *f = arg;
	uint64_t next = now_ns() + f->conf.report_s * 1000000000ULL;
	unsigned int n = 0;

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		fz_sleep_ms(100);
		if (now_ns() < next)
			continue;
		next += f->conf.report_s * 1000000000ULL;
		/* with "table", the per-op table every 10th report */
		print_stats(f, "stats", f->conf.table && ++n % 10 == 0);
	}
	return NULL;
}

int zusd_fuzz_start(struct zusd *zd)
{
	struct sigaction sa = { .sa_handler = twice_handler };
	struct zusd_fuzz *f;
	int err;

	if (!zd->opts.fuzz.on)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->conf = zd->opts.fuzz;
	f->zd = zd;
	f->start_ns = now_ns();
	/* no SA_RESTART: the re-answer needs WAIT_OP to return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	zd->fuzz = f;
	if (f->conf.report_s) {
		err = -pthread_create(&f->reporter, NULL, reporter_main, f);
		if (err)
			return err;
		f->reporter_started = true;
	}
	if (f->conf.classes & (1U << FZ_IOCTL)) {
		err = fz_ioctl_start(f);
		if (err)
			return err;
	}
	zusd_info(zd, "fuzz: seed %" PRIu64 ", %u per mille, classes 0x%x%s",
		  f->conf.seed, f->conf.permille, f->conf.classes,
		  f->conf.quiet ? ", quiet" : "");
	return 0;
}

void zusd_fuzz_stop(struct zusd *zd)
{
	struct zusd_fuzz *f = zd->fuzz;

	if (!f)
		return;
	__atomic_store_n(&f->stop, true, __ATOMIC_RELAXED);
	if (f->reporter_started)
		pthread_join(f->reporter, NULL);
	if (f->ioctler_started)
		pthread_join(f->ioctler, NULL);
	f->reporter_started = f->ioctler_started = false;
}

void zusd_fuzz_report(struct zusd *zd)
{
	struct zusd_fuzz *f = zd->fuzz;

	if (!f)
		return;
	zusd_fuzz_stop(zd);
	/* the ZTs' re-answer timers go with the process */
	print_stats(f, "final", true);
	zd->fuzz = NULL;
	free(f);
}
