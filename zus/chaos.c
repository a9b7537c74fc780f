// SPDX-License-Identifier: BSD-3-Clause
/*
 * chaos.c - a lying server, on purpose.  With --chaos SEED[:PERMILLE],
 * after the plugin answered, one field of the answer in the channel buffer
 * is corrupted with that probability.  The kernel must catch every lie
 * (an error for the caller, a log line), never crash, hang or trust it.
 * Each ZT has its own RNG seeded from SEED and its CPU: reproducible.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zusd.h"

/*
 * SEED[:PERMILLE] at the start of @arg (PERMILLE keeps *permille when
 * absent); *end points past it.  Shared by --chaos and --fuzz.
 */
int zusd_parse_seed(const char *arg, uint64_t *seed, unsigned long *permille,
		    const char **end)
{
	char *e;

	errno = 0;
	*seed = strtoull(arg, &e, 0);
	if (errno || e == arg)
		return -EINVAL;
	if (*e == ':') {
		*permille = strtoul(e + 1, &e, 10);
		if (errno || *permille > 1000)
			return -EINVAL;
	}
	*end = e;
	return 0;
}

int zusd_chaos_parse(const char *arg, struct zusd_chaos *ch)
{
	unsigned long pm = 50;
	const char *end;

	if (zusd_parse_seed(arg, &ch->seed, &pm, &end) || *end)
		return -EINVAL;
	ch->permille = pm;
	ch->on = true;
	return 0;
}

/* xorshift64*: small, fast, good enough to pick fields */
static uint64_t rnd(struct zusd_zt *zt)
{
	uint64_t x = zt->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	zt->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

void zusd_chaos_seed(struct zusd_zt *zt)
{
	zt->rng = (zt->zd->opts.chaos.seed ^ 0x9E3779B97F4A7C15ULL) *
		  (2 * (uint64_t)zt->id + 1) | 1;
}

/* Corrupt one field of an attribute answer */
static const char *bad_attr(struct zusd_zt *zt, struct zufs_attr *a)
{
	switch (rnd(zt) % 6) {
	case 0:
		a->ino = rnd(zt) & 1 ? 0 : rnd(zt);
		return "attr.ino";
	case 1:
		a->mode = (a->mode & 07777) | (rnd(zt) & 1 ? 0 : 0170000);
		return "attr.mode type";
	case 2:
		a->mtime_nsec = 1000000000U + (rnd(zt) % 1000);
		return "attr.mtime_nsec";
	case 3:
		a->nlink = rnd(zt) & 1 ? 0 : 0xffffffffU;
		return "attr.nlink";
	case 4:
		a->size = rnd(zt) | (1ULL << 63);
		return "attr.size";
	default:
		a->atime_nsec = 0xffffffffU;
		return "attr.atime_nsec";
	}
}

static const char *bad_readdir(struct zusd_zt *zt, struct zufs_op_hdr *hdr)
{
	struct zufs_op_readdir *op = (void *)hdr;
	struct zufs_dirent *de = (void *)((char *)zt->map + ZUFS_OP_AREA_SIZE);

	switch (rnd(zt) % 4) {
	case 0:
		if (hdr->data_out >= sizeof(*de)) {
			de->name_len = rnd(zt) & 1 ? 0 : 0xffff;
			return "dirent.name_len";
		}
		/* fall through */
	case 1:
		if (hdr->data_out >= sizeof(*de)) {
			de->next_pos = rnd(zt) & 1 ? 0 : 1;
			return "dirent.next_pos";
		}
		/* fall through */
	case 2:
		op->count = op->count + 1 + rnd(zt) % 100000;
		return "readdir.count";
	default:
		hdr->data_out = hdr->data_max + 1 + rnd(zt) % 4096;
		return "readdir.data_out";
	}
}

static const char *bad_extent(struct zusd_zt *zt, struct zufs_op_hdr *hdr)
{
	struct zufs_op_get_blocks *op = (void *)hdr;
	struct zufs_extent *e;

	if (!op->count || op->count > op->ext_max) {
		op->count = op->ext_max + 1 + rnd(zt) % 100;
		return "get_blocks.count";
	}
	e = &op->ext[rnd(zt) % op->count];
	switch (rnd(zt) % 6) {
	case 0:
		e->pmem_off = (1ULL << 50) + (rnd(zt) & ~4095ULL);
		return "extent.pmem_off past the device";
	case 1:
		e->pmem_off |= 1 + rnd(zt) % 4095;
		return "extent.pmem_off unaligned";
	case 2:
		e->length = rnd(zt) & 1 ? 0 : e->length + 1;
		return "extent.length";
	case 3:
		e->offset += 4096 * (1 + rnd(zt) % 8);
		return "extent.offset (gap)";
	case 4:
		e->flags = (uint32_t)rnd(zt);
		return "extent.flags";
	default:
		op->count = op->ext_max + 1;
		return "get_blocks.count";
	}
}

static const char *bad_specific(struct zusd_zt *zt, struct zufs_op_hdr *hdr)
{
	const struct zusd_op_desc *d = zusd_op_desc(hdr->op);
	struct zufs_op_xattr *xop = (void *)hdr;
	struct zufs_op_io *iop = (void *)hdr;
	struct zufs_op_new_inode *nop = (void *)hdr;

	switch (hdr->op) {
	case ZUFS_OP_NEW_INODE:
		if (rnd(zt) % 3 == 0) {
			nop->result = rnd(zt) & 1 ? ZUFS_NEW_EXISTED :
				      (uint32_t)rnd(zt) | 2;
			return "new_inode.result";
		}
		break;
	case ZUFS_OP_READ:
	case ZUFS_OP_WRITE:
		if (rnd(zt) & 1) {
			iop->done = iop->length + 1 + rnd(zt) % 4096;
			return "io.done > length";
		}
		break;
	case ZUFS_OP_READDIR:
		return bad_readdir(zt, hdr);
	case ZUFS_OP_GET_BLOCKS:
		if (rnd(zt) & 1)
			return bad_extent(zt, hdr);
		break;
	case ZUFS_OP_READLINK:
		hdr->data_out = hdr->data_max + 1 + rnd(zt) % 100;
		return "readlink length";
	case ZUFS_OP_GETXATTR:
	case ZUFS_OP_LISTXATTR:
		xop->size = hdr->data_max + 1 + rnd(zt) % 100000;
		return "xattr size";
	}
	if (d && d->nattrs)
		return bad_attr(zt, (struct zufs_attr *)((char *)hdr +
				d->attrs[rnd(zt) % d->nattrs]));
	return NULL;
}

void zusd_chaos_answer(struct zusd_zt *zt)
{
	struct zufs_op_hdr *hdr = zt->map;
	const char *what = NULL;

	if (rnd(zt) % 1000 >= zt->zd->opts.chaos.permille)
		return;
	switch (rnd(zt) % 4) {
	case 0:
		hdr->err = rnd(zt) & 1 ? 1 + (int)(rnd(zt) % 1000) :
			   -4096 - (int)(rnd(zt) % 100000);
		what = "err";
		break;
	case 1:
		hdr->data_out = hdr->data_max + 1 + rnd(zt) % 65536;
		what = "data_out > data_max";
		break;
	default:
		if (hdr->err == 0)
			what = bad_specific(zt, hdr);
		if (!what) {
			hdr->err = 4096;
			what = "err";
		}
		break;
	}
	zusd_dbg(zt->zd, "chaos: cpu %d seq %" PRIu64 " %s: corrupted %s",
		 zt->id, (uint64_t)hdr->seq, zusd_op_name(hdr->op), what);
}
