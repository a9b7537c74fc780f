/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz.h - the ABI fuzzer's internals (fuzz.c, fuzz_op.c, fuzz_mount.c).
 *
 * Every decision about an answer is a pure function of (seed, channel,
 * seq, op): fz_rng_for() derives a fresh generator from them, so the log
 * line "seed S chan C seq Q" names a mutation that the same seed makes
 * again for the same op on the same channel position, whatever else ran.
 */
#ifndef _ZUS_FUZZ_H
#define _ZUS_FUZZ_H

#include <stdint.h>

#include "zusd.h"

/* mount ops are counted after the ZT op codes, in one table */
#define FZ_MOUNT_BASE	ZUFS_OP_MAX_OPT
#define FZ_NSLOTS	(FZ_MOUNT_BASE + ZUFS_M_BREAK + 1)
#define FZ_RING		64	/* recently answered (sb, ino) pairs */

struct fz_rng {
	uint64_t s;
};

/* splitmix64: every output of a counter is well mixed */
static inline uint64_t fz_next(struct fz_rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static inline uint64_t fz_below(struct fz_rng *r, uint64_t n)
{
	return n ? fz_next(r) % n : 0;
}

struct fz_ino {
	uint64_t	sb;	/* zus_sb_handle */
	uint64_t	ino;
};

struct zusd_fuzz {
	struct zusd_fuzz_conf conf;
	struct zusd	*zd;
	uint64_t	start_ns;
	/* counters: relaxed atomics, several ZTs add to them */
	uint64_t	answers[FZ_NSLOTS];
	uint64_t	mutated[FZ_NSLOTS];
	uint64_t	hits[FZ_NSLOTS][FZ_NCLASSES];
	uint64_t	ioctls, ioctl_ok;
	/* inode numbers other answers carried: "already live", "of another
	 * mount"; torn pairs are harmless, they only pick a lie */
	struct fz_ino	ring[FZ_RING];
	uint32_t	ring_pos;
	/* background threads: the reporter and the ioctl fuzzer */
	pthread_t	reporter, ioctler;
	bool		reporter_started, ioctler_started;
	bool		stop;
};

extern const char *const fz_class_names[FZ_NCLASSES];

struct fz_rng fz_rng_for(const struct zusd_fuzz *f, uint64_t chan,
			 uint64_t seq, uint64_t op);
/* pick one enabled class of @allowed (bit mask), -1 if none */
int fz_pick_class(const struct zusd_fuzz *f, struct fz_rng *r,
		  uint32_t allowed);
void fz_count(struct zusd_fuzz *f, unsigned int slot, int cls);
void fz_note_ino(struct zusd_fuzz *f, uint64_t sb, uint64_t ino);
/* a live ino of the same mount (other != 0: of another mount), or 0 */
uint64_t fz_ring_ino(struct zusd_fuzz *f, struct fz_rng *r, uint64_t sb,
		     bool other);
int32_t fz_errno(struct fz_rng *r, int32_t cur);
uint64_t fz_len(struct fz_rng *r, uint64_t cur, uint64_t max);
void fz_log(struct zusd_fuzz *f, const char *where, uint64_t chan,
	    uint64_t seq, const char *op, const char *what);
/* timing classes */
void fz_sleep_ms(uint64_t ms);
void fz_never(struct zusd_fuzz *f);
void fz_die(struct zusd_fuzz *f, void *area, size_t len, struct fz_rng *r)
	__attribute__((noreturn));
void fz_twice(struct zusd_zt *zt, uint64_t seq);

/* fuzz_op.c: the mutation of one class on a ZT answer; NULL if it did
 * not apply to this answer */
const char *fz_mutate_op(struct zusd_zt *zt, struct fz_rng *r, int cls);
/* which classes can touch an answer of this op */
uint32_t fz_op_classes(uint32_t op);
const char *fz_mutate_attr(struct fz_rng *r, struct zufs_attr *a,
			   char *buf, size_t len);

/* fuzz_mount.c */
int fz_ioctl_start(struct zusd_fuzz *f);

#endif /* _ZUS_FUZZ_H */
