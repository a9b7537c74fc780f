// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_op.c - the ABI fuzzer's mutations of ZT answers, one function per
 * class, each knowing the answer structs of include/zufs_api.h.  They
 * run after the plugin answered, in the channel buffer, so the server's
 * own state stays true and only what the kernel is told is a lie.
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <linux/fs.h>

#include "fuzz.h"

#define WHAT(...)	(snprintf(fz_what, sizeof(fz_what), __VA_ARGS__), fz_what)

static __thread char fz_what[128];
/* the last good attributes this ZT answered: the "stale" ones */
static __thread struct zufs_attr fz_stale;
static __thread bool fz_have_stale;

uint32_t fz_op_classes(uint32_t op)
{
	const struct zusd_op_desc *d = zusd_op_desc(op);
	uint32_t c = 1U << FZ_ERRNO | 1U << FZ_LENGTH | 1U << FZ_HEADER;

	if (d && d->nattrs)
		c |= 1U << FZ_ATTR | 1U << FZ_INO;
	switch (op) {
	case ZUFS_OP_READDIR:
		c |= 1U << FZ_DIRENT | 1U << FZ_INO;
		break;
	case ZUFS_OP_GET_BLOCKS:
		c |= 1U << FZ_EXTENT;
		break;
	case ZUFS_OP_READLINK:
	case ZUFS_OP_GETXATTR:
	case ZUFS_OP_LISTXATTR:
		c |= 1U << FZ_NAME;
		break;
	}
	return c;
}

static struct zufs_attr *pick_attr(struct zufs_op_hdr *hdr, struct fz_rng *r,
				   int *idx)
{
	const struct zusd_op_desc *d = zusd_op_desc(hdr->op);

	if (!d || !d->nattrs)
		return NULL;
	*idx = fz_below(r, d->nattrs);
	return (struct zufs_attr *)((char *)hdr + d->attrs[*idx]);
}

/* Stale and contradictory attributes (also used on the mount's root) */
const char *fz_mutate_attr(struct fz_rng *r, struct zufs_attr *a,
			   char *buf, size_t len)
{
	static const uint32_t types[] = {
		0, S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO,
		S_IFSOCK, 0170000, 0110000,
	};
	uint64_t v;

	switch (fz_below(r, 14)) {
	case 0:
		a->size = fz_len(r, a->size, (1ULL << 63) - 1);
		snprintf(buf, len, "size %llu", a->size);
		break;
	case 1:
		a->size = 0;
		snprintf(buf, len, "size 0 (shrunk)");
		break;
	case 2:
		a->mode = (a->mode & 07777) |
			  types[fz_below(r, sizeof(types) / sizeof(types[0]))];
		snprintf(buf, len, "mode 0%o", a->mode);
		break;
	case 3:
		a->mode = (a->mode & S_IFMT) | (uint32_t)fz_next(r);
		snprintf(buf, len, "mode bits 0%o", a->mode);
		break;
	case 4:
		a->nlink = (uint32_t)fz_len(r, a->nlink, UINT32_MAX);
		snprintf(buf, len, "nlink %u", a->nlink);
		break;
	case 5:
		v = 1000000000U + fz_below(r, 3000000000U);
		switch (fz_below(r, 4)) {
		case 0: a->atime_nsec = v; break;
		case 1: a->mtime_nsec = v; break;
		case 2: a->ctime_nsec = v; break;
		default: a->btime_nsec = v; break;
		}
		snprintf(buf, len, "a time's nsec %llu", (unsigned long long)v);
		break;
	case 6: {
		static const int64_t secs[] = { INT64_MIN, INT64_MAX, -1,
						1LL << 40, -(1LL << 40) };

		v = secs[fz_below(r, 5)];
		a->mtime_sec = v;
		if (fz_below(r, 2))
			a->ctime_sec = v;
		snprintf(buf, len, "mtime sec %lld", (long long)v);
		break;
	}
	case 7:
		a->blocks = fz_len(r, a->blocks, a->size / 512 + 1);
		snprintf(buf, len, "blocks %llu", a->blocks);
		break;
	case 8:
		a->uid = fz_below(r, 2) ? UINT32_MAX : (uint32_t)fz_next(r);
		a->gid = fz_below(r, 2) ? UINT32_MAX : a->gid;
		snprintf(buf, len, "uid %u gid %u", a->uid, a->gid);
		break;
	case 9:
		a->flags = fz_below(r, 2) ? (uint32_t)fz_next(r) :
			   (uint32_t)fz_next(r) & (FS_IMMUTABLE_FL |
			   FS_APPEND_FL | FS_NOATIME_FL | FS_SYNC_FL |
			   FS_DIRSYNC_FL);
		snprintf(buf, len, "flags 0x%x", a->flags);
		break;
	case 10:
		a->rdev = (uint32_t)fz_next(r);
		snprintf(buf, len, "rdev 0x%x", a->rdev);
		break;
	case 11:
		a->generation = fz_next(r);
		snprintf(buf, len, "generation changed");
		break;
	case 12:
		if (fz_have_stale) {
			*a = fz_stale;
			snprintf(buf, len, "stale attr of ino %llu",
				 a->ino);
			break;
		}
		/* fall through */
	default:
		/* a directory of size 1 with one link, or a file with 2^32-1 */
		if ((a->mode & S_IFMT) == S_IFDIR) {
			a->nlink = 1;
			a->size = 1;
		} else {
			a->nlink = UINT32_MAX;
			a->blocks = UINT64_MAX;
		}
		snprintf(buf, len, "contradictory nlink %u size %llu",
			 a->nlink, a->size);
		break;
	}
	return buf;
}

static const char *mut_attr(struct zusd_zt *zt, struct fz_rng *r)
{
	struct zufs_op_hdr *hdr = zt->map;
	char buf[96];
	struct zufs_attr *a;
	int idx;

	if (hdr->err)
		return NULL;	/* the kernel ignores attrs of a failure */
	a = pick_attr(hdr, r, &idx);
	if (!a)
		return NULL;
	if (fz_below(r, 3) == 0 && zusd_op_desc(hdr->op)->nattrs > 1) {
		/* two attrs in one answer that cannot both be true */
		struct zufs_attr *b = (struct zufs_attr *)((char *)hdr +
			zusd_op_desc(hdr->op)->attrs[(idx + 1) %
			zusd_op_desc(hdr->op)->nattrs]);

		b->ino = a->ino;
		return WHAT("attr[%d] ino = attr[%d] ino %llu",
			    (idx + 1) % zusd_op_desc(hdr->op)->nattrs, idx,
			    a->ino);
	}
	fz_mutate_attr(r, a, buf, sizeof(buf));
	return WHAT("attr[%d] %s", idx, buf);
}

/* Inode numbers: 0, root, live, another mount's, past max, huge */
static uint64_t bad_ino(struct zusd_zt *zt, struct fz_rng *r, uint64_t cur,
			const char **why)
{
	struct zufs_op_hdr *hdr = zt->map;
	struct zusd_sb *sb = zusd_sb_of(hdr->sb_handle);
	uint64_t v;

	switch (fz_below(r, 7)) {
	case 0:
		*why = "0";
		return 0;
	case 1:
		*why = "root";
		return sb && sb->root_ino ? sb->root_ino : 1;
	case 2:
		*why = "live";
		v = fz_ring_ino(zt->zd->fuzz, r, hdr->sb_handle, false);
		return v && v != cur ? v : cur + 1;
	case 3:
		*why = "another mount's";
		v = fz_ring_ino(zt->zd->fuzz, r, hdr->sb_handle, true);
		return v ? v : cur ^ 1;
	case 4:
		*why = "huge";
		return UINT64_MAX - fz_below(r, 2);
	case 5:
		*why = "2^63";
		return 1ULL << 63;
	default:
		*why = "+1";
		return cur + 1;
	}
}

static struct zufs_dirent *nth_dirent(struct zusd_zt *zt, uint32_t n,
				      uint32_t *off)
{
	struct zufs_op_hdr *hdr = zt->map;
	char *data = (char *)zt->map + ZUFS_OP_AREA_SIZE;
	uint32_t o = 0, i;

	for (i = 0; ; i++) {
		struct zufs_dirent *de = (void *)(data + o);

		if (o + sizeof(*de) > hdr->data_out ||
		    o + ZUFS_DIRENT_SIZE(de->name_len) > hdr->data_out)
			return NULL;
		if (i == n) {
			*off = o;
			return de;
		}
		o += ZUFS_DIRENT_SIZE(de->name_len);
	}
}

static const char *mut_ino(struct zusd_zt *zt, struct fz_rng *r)
{
	struct zufs_op_hdr *hdr = zt->map;
	struct zufs_op_readdir *rd = (void *)hdr;
	const char *why;
	struct zufs_attr *a;
	uint32_t off;
	int idx;

	if (hdr->err)
		return NULL;
	if (hdr->op == ZUFS_OP_READDIR) {
		struct zufs_dirent *de;

		if (!rd->count)
			return NULL;
		de = nth_dirent(zt, fz_below(r, rd->count), &off);
		if (!de)
			return NULL;
		de->ino = bad_ino(zt, r, de->ino, &why);
		return WHAT("dirent@%u ino %s %llu", off, why, de->ino);
	}
	a = pick_attr(hdr, r, &idx);
	if (!a)
		return NULL;
	a->ino = bad_ino(zt, r, a->ino, &why);
	return WHAT("attr[%d] ino %s %llu", idx, why, a->ino);
}

static const char *mut_length(struct zusd_zt *zt, struct fz_rng *r)
{
	struct zufs_op_hdr *hdr = zt->map;
	struct zufs_op_io *io = (void *)hdr;
	struct zufs_op_readdir *rd = (void *)hdr;
	struct zufs_op_get_blocks *gb = (void *)hdr;
	struct zufs_op_xattr *xa = (void *)hdr;
	struct zufs_op_clone *cl = (void *)hdr;
	struct zufs_op_seek *sk = (void *)hdr;
	struct zufs_op_statfs *st = (void *)hdr;

	if (fz_below(r, 3) == 0) {
		hdr->data_out = fz_len(r, hdr->data_out, hdr->data_max);
		return WHAT("data_out %u (max %u)", hdr->data_out,
			    hdr->data_max);
	}
	switch (hdr->op) {
	case ZUFS_OP_READ:
	case ZUFS_OP_WRITE:
		io->done = fz_len(r, io->done, io->length);
		return WHAT("done %llu of %llu", io->done,
			    io->length);
	case ZUFS_OP_READDIR:
		if (fz_below(r, 4) == 0) {
			rd->eof = !rd->eof;
			return WHAT("eof %u with count %u", rd->eof,
				    rd->count);
		}
		rd->count = fz_len(r, rd->count, rd->count);
		return WHAT("readdir count %u", rd->count);
	case ZUFS_OP_GET_BLOCKS:
		gb->count = fz_len(r, gb->count, gb->ext_max);
		return WHAT("extent count %u", gb->count);
	case ZUFS_OP_GETXATTR:
	case ZUFS_OP_LISTXATTR:
		xa->size = fz_len(r, xa->size, fz_below(r, 2) ?
				  hdr->data_max : ZUFS_XATTR_SIZE_MAX);
		return WHAT("xattr size %u (data_out %u max %u)", xa->size,
			    hdr->data_out, hdr->data_max);
	case ZUFS_OP_CLONE:
		cl->done = fz_len(r, cl->done, cl->length);
		return WHAT("clone done %llu of %llu", cl->done,
			    cl->length);
	case ZUFS_OP_SEEK:
		sk->result = fz_len(r, sk->result, sk->offset);
		return WHAT("seek result %llu from %llu",
			    sk->result, sk->offset);
	case ZUFS_OP_STATFS:
		switch (fz_below(r, 4)) {
		case 0:
			st->st.bsize = fz_len(r, st->st.bsize, 4096);
			return WHAT("statfs bsize %u", st->st.bsize);
		case 1:
			st->st.bfree = st->st.blocks + 1 + fz_below(r, 100);
			return WHAT("statfs bfree %llu > blocks",
				    st->st.bfree);
		case 2:
			st->st.namelen = fz_len(r, st->st.namelen, 255);
			return WHAT("statfs namelen %u", st->st.namelen);
		default:
			st->st.ffree = st->st.files + 1;
			st->st.bavail = UINT64_MAX;
			return WHAT("statfs ffree > files, bavail 2^64-1");
		}
	}
	hdr->data_out = fz_len(r, hdr->data_out, hdr->data_max);
	return WHAT("data_out %u (max %u)", hdr->data_out, hdr->data_max);
}

/* GET_BLOCKS: extents out of range, misaligned, overlapping, on block 0 */
static const char *mut_extent(struct zusd_zt *zt, struct fz_rng *r)
{
	struct zufs_op_get_blocks *gb = zt->map;
	struct zusd_sb *sb = zusd_sb_of(gb->hdr.sb_handle);
	uint64_t end = sb ? sb->pmem_size : 1ULL << 30;
	struct zufs_extent *e;
	uint32_t i;

	if (gb->hdr.err || !gb->count || gb->count > gb->ext_max)
		return NULL;
	i = fz_below(r, gb->count);
	e = &gb->ext[i];
	switch (fz_below(r, 12)) {
	case 0:
		e->pmem_off = end;
		return WHAT("ext[%u] pmem_off = end of pmem %llu", i,
			    (unsigned long long)end);
	case 1:
		e->pmem_off = end - 4096;
		e->length += 4096;
		return WHAT("ext[%u] straddles the end of pmem", i);
	case 2:
		e->pmem_off = UINT64_MAX - 4095;
		return WHAT("ext[%u] pmem_off 2^64-4096 (overflows)", i);
	case 3:
		e->pmem_off = 0;
		e->flags &= ~ZUFS_EXT_HOLE;
		return WHAT("ext[%u] points at the device table", i);
	case 4:
		e->pmem_off |= 1 + fz_below(r, 4095);
		return WHAT("ext[%u] pmem_off misaligned", i);
	case 5:
		e->offset |= 1 + fz_below(r, 4095);
		return WHAT("ext[%u] offset misaligned", i);
	case 6:
		e->length = fz_below(r, 2) ? 0 : e->length + 1 +
			    fz_below(r, 4095);
		return WHAT("ext[%u] length %llu", i, e->length);
	case 7:
		e->offset = UINT64_MAX - 4095;
		e->length = 8192;
		return WHAT("ext[%u] offset + length overflows", i);
	case 8:
		if (i > 0) {
			e->offset = gb->ext[i - 1].offset;
			return WHAT("ext[%u] overlaps ext[%u]", i, i - 1);
		}
		e->offset += 4096 * (1 + fz_below(r, 8));
		return WHAT("ext[0] starts past the asked offset");
	case 9:
		if (i > 0) {
			e->pmem_off = gb->ext[i - 1].pmem_off;
			return WHAT("ext[%u] same pmem as ext[%u]", i, i - 1);
		}
		e->length = UINT64_MAX - 4095;
		return WHAT("ext[0] length 2^64-4096");
	case 10:
		e->flags = fz_below(r, 2) ? (uint32_t)fz_next(r) :
			   e->flags ^ ZUFS_EXT_HOLE;
		return WHAT("ext[%u] flags 0x%x (%s)", i, e->flags,
			    gb->hdr.flags & ZUFS_GB_WRITE ? "write" : "read");
	default:
		e->pmem_off += (uint64_t)(1 + fz_below(r, 1U << 20)) << 12;
		return WHAT("ext[%u] pmem_off moved to %llu", i,
			    e->pmem_off);
	}
}

static void put_name(char *p, uint16_t len, struct fz_rng *r)
{
	uint16_t i;

	for (i = 0; i < len; i++)
		p[i] = 'a' + fz_below(r, 26);
}

/* Malformed readdir records: lengths, names, positions, counts */
static const char *mut_dirent(struct zusd_zt *zt, struct fz_rng *r)
{
	struct zufs_op_readdir *rd = zt->map;
	struct zufs_op_hdr *hdr = &rd->hdr;
	char *data = (char *)zt->map + ZUFS_OP_AREA_SIZE;
	struct zufs_dirent *de;
	uint32_t off, n, k;

	if (hdr->err)
		return NULL;
	if (!rd->count || !(de = nth_dirent(zt, fz_below(r, rd->count),
					    &off))) {
		/* nothing to spoil: invent one record at the end */
		uint16_t len = 1 + fz_below(r, 300);

		off = hdr->data_out;
		if (off + ZUFS_DIRENT_SIZE(len) > hdr->data_max)
			return NULL;
		de = (void *)(data + off);
		memset(de, 0, sizeof(*de));
		de->ino = fz_next(r);
		de->next_pos = rd->pos + 1;
		de->name_len = len;
		de->type = fz_below(r, 16);
		put_name(de->name, len, r);
		hdr->data_out = off + ZUFS_DIRENT_SIZE(len);
		rd->count++;
		return WHAT("invented dirent name_len %u ino %llu", len,
			    de->ino);
	}
	n = de->name_len;
	switch (fz_below(r, 13)) {
	case 0:
		de->name_len = fz_below(r, 2) ? 0 : 0xffff;
		return WHAT("dirent@%u name_len %u", off, de->name_len);
	case 1:
		de->name_len = ZUFS_NAME_MAX + 1;
		return WHAT("dirent@%u name_len 256", off);
	case 2:
		de->name[fz_below(r, n)] = '/';
		return WHAT("dirent@%u name with '/'", off);
	case 3:
		de->name[fz_below(r, n)] = 0;
		return WHAT("dirent@%u name with NUL", off);
	case 4:
		/* a longer name leaves its tail as a bogus next record */
		k = 1 + fz_below(r, 2);
		memcpy(de->name, "..", k);
		de->name_len = k;
		return WHAT("dirent@%u name \"%.*s\"", off, (int)k, "..");
	case 5:
		de->next_pos = fz_below(r, 2) ? 0 : 1;
		return WHAT("dirent@%u next_pos %llu", off, de->next_pos);
	case 6:
		de->next_pos = rd->pos;
		return WHAT("dirent@%u next_pos = pos %llu (a loop)",
			    off, rd->pos);
	case 7:
		de->next_pos = fz_below(r, 2) ? UINT64_MAX : 1ULL << 63;
		return WHAT("dirent@%u next_pos %llu", off, de->next_pos);
	case 8:
		de->type = fz_below(r, 2) ? 255 : fz_below(r, 16);
		return WHAT("dirent@%u type %u", off, de->type);
	case 9:
		hdr->data_out = off + sizeof(*de) + fz_below(r, n);
		return WHAT("data_out %u cuts dirent@%u", hdr->data_out, off);
	case 10:
		hdr->data_out += 1 + fz_below(r, 7);
		if (hdr->data_out > hdr->data_max)
			hdr->data_out = hdr->data_max;
		return WHAT("data_out %u not a record boundary",
			    hdr->data_out);
	case 11:
		rd->count = fz_below(r, 2) ? 0 : rd->count + 1;
		return WHAT("count %u for data_out %u", rd->count,
			    hdr->data_out);
	default:
		if (off == 0)
			de->next_pos = rd->pos ? rd->pos - 1 : 0;
		else
			de->next_pos = ((struct zufs_dirent *)data)->next_pos;
		return WHAT("dirent@%u next_pos %llu goes back", off,
			    de->next_pos);
	}
}

/* Readlink targets and xattr values/lists */
static const char *mut_name(struct zusd_zt *zt, struct fz_rng *r)
{
	struct zufs_op_hdr *hdr = zt->map;
	struct zufs_op_xattr *xa = (void *)hdr;
	char *data = (char *)zt->map + ZUFS_OP_AREA_SIZE;
	uint32_t n = hdr->data_out, max = hdr->data_max;

	if (hdr->err)
		return NULL;
	switch (hdr->op) {
	case ZUFS_OP_READLINK:
		switch (fz_below(r, 5)) {
		case 0:
			hdr->data_out = 0;
			return WHAT("empty symlink target");
		case 1:
			if (!n)
				return NULL;
			data[fz_below(r, n)] = 0;
			return WHAT("NUL inside the target");
		case 2:
			n = max < ZUFS_SYMLINK_MAX + 1 ? max :
			    ZUFS_SYMLINK_MAX + fz_below(r, 2);
			memset(data, fz_below(r, 2) ? '/' : 'x', n);
			hdr->data_out = n;
			return WHAT("target of %u bytes", n);
		case 3:
			if (!n)
				return NULL;
			memset(data, 0xff, n);
			return WHAT("target of 0xff bytes");
		default:
			hdr->data_out = n + 1 <= max ? n + 1 : n;
			data[n] = '/';
			return WHAT("target one byte longer");
		}
	case ZUFS_OP_GETXATTR:
		if (!max) {
			xa->size = fz_len(r, xa->size, ZUFS_XATTR_SIZE_MAX);
			return WHAT("xattr size probe %u", xa->size);
		}
		xa->size = n + 1 + fz_below(r, 16);
		return WHAT("xattr size %u for data_out %u", xa->size, n);
	default:	/* LISTXATTR */
		if (!max || !n) {
			xa->size = fz_len(r, xa->size, ZUFS_XATTR_SIZE_MAX);
			return WHAT("xattr list size %u", xa->size);
		}
		switch (fz_below(r, 4)) {
		case 0:
			data[n - 1] = 'x';
			return WHAT("list without its last NUL");
		case 1:
			memset(data, 0, n);
			return WHAT("list of empty names");
		case 2:
			n = max < 300 ? max : 300;
			memset(data, 'u', n);
			hdr->data_out = n;
			xa->size = n;
			return WHAT("one %u-byte name without NUL", n);
		default:
			data[fz_below(r, n)] = 0;
			return WHAT("NUL inserted into a name");
		}
	}
}

static const char *mut_header(struct zusd_zt *zt, struct fz_rng *r)
{
	struct zufs_op_hdr *hdr = zt->map;

	switch (fz_below(r, 6)) {
	case 0:
		hdr->op = fz_below(r, 2) ? hdr->op + 1 : ZUFS_OP_BREAK;
		return WHAT("op %u", hdr->op);
	case 1:
		hdr->op = fz_below(r, 2) ? UINT32_MAX : ZUFS_OP_MAX_OPT;
		return WHAT("op %u", hdr->op);
	case 2:
		hdr->seq = fz_below(r, 2) ? hdr->seq + 1 : 0;
		return WHAT("seq %llu", hdr->seq);
	case 3:
		hdr->cpu = fz_below(r, 2) ? hdr->cpu + 1 : UINT32_MAX;
		return WHAT("cpu %u", hdr->cpu);
	case 4:
		hdr->sb_handle = fz_below(r, 2) ? 0 : ~hdr->sb_handle;
		return WHAT("sb_handle 0x%llx", hdr->sb_handle);
	default:
		hdr->flags = fz_next(r);
		hdr->data_in = fz_next(r);
		return WHAT("flags 0x%x data_in %u", hdr->flags, hdr->data_in);
	}
}

const char *fz_mutate_op(struct zusd_zt *zt, struct fz_rng *r, int cls)
{
	struct zufs_op_hdr *hdr = zt->map;
	const struct zusd_op_desc *d = zusd_op_desc(hdr->op);
	const char *what = NULL;

	/* remember a true answer: a later one may be given it, stale */
	if (!hdr->err && d && d->nattrs) {
		fz_stale = *(struct zufs_attr *)((char *)hdr + d->attrs[0]);
		fz_have_stale = true;
	}
	switch (cls) {
	case FZ_ERRNO: {
		int32_t old = hdr->err;

		hdr->err = fz_errno(r, old);
		what = WHAT("err %d -> %d", old, hdr->err);
		break;
	}
	case FZ_LENGTH:
		what = mut_length(zt, r);
		break;
	case FZ_ATTR:
		what = mut_attr(zt, r);
		break;
	case FZ_INO:
		what = mut_ino(zt, r);
		break;
	case FZ_EXTENT:
		what = hdr->op == ZUFS_OP_GET_BLOCKS ? mut_extent(zt, r) : NULL;
		break;
	case FZ_DIRENT:
		what = hdr->op == ZUFS_OP_READDIR ? mut_dirent(zt, r) : NULL;
		break;
	case FZ_NAME:
		what = mut_name(zt, r);
		break;
	case FZ_HEADER:
		what = mut_header(zt, r);
		break;
	}
	return what;
}
