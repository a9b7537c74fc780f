// SPDX-License-Identifier: BSD-3-Clause
/*
 * dispatch.c - decode the op in a ZT's channel, call the plugin, encode
 * the answer.  One table, indexed by enum zufs_op, names every op and
 * holds its handler; debug output and chaos mode use the same table.
 *
 * The kernel is trusted here, but names and lengths are still checked:
 * a plugin must never see a name without its NUL or a length past the
 * data area.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "zusd.h"

#define OPS(sb)	((sb)->type->ops)

/* Validate a name from the kernel and NUL-terminate it in place */
static int name_ok(struct zufs_name *n)
{
	if (n->len == 0 || n->len > ZUFS_NAME_MAX)
		return -EINVAL;
	n->name[n->len] = 0;
	return 0;
}

uint64_t zusd_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/*
 * The bare round trip.  For ZUFS_IOC_NULL_OP's breakdown it answers when
 * WAIT_OP returned to us (zt_main stamped it) and, just before the next
 * WAIT_OP, when we are about to answer (zusd_null_stamp_out()).
 */
static int do_null(struct zusd_zt *zt, struct zusd_sb *sb,
		   struct zufs_op_hdr *hdr, void *data,
		   const struct zus_ctx *ctx)
{
	uint64_t *t = data;

	(void)sb; (void)ctx;
	if (hdr->data_max < 2 * sizeof(*t))
		return 0;
	t[0] = zt->null_in;
	t[1] = 0;
	hdr->data_out = 2 * sizeof(*t);
	return 0;
}

static int do_statfs(struct zusd_zt *zt, struct zusd_sb *sb,
		     struct zufs_op_hdr *hdr, void *data,
		     const struct zus_ctx *ctx)
{
	struct zufs_op_statfs *op = (void *)hdr;

	(void)zt; (void)data; (void)ctx;
	memset(&op->st, 0, sizeof(op->st));
	return OPS(sb)->statfs(sb->psb, &op->st);
}

static int do_sync_fs(struct zusd_zt *zt, struct zusd_sb *sb,
		      struct zufs_op_hdr *hdr, void *data,
		      const struct zus_ctx *ctx)
{
	(void)zt; (void)data; (void)ctx;
	if (!OPS(sb)->sync_fs)
		return 0;
	return OPS(sb)->sync_fs(sb->psb, hdr->flags & 1);
}

static int do_lookup(struct zusd_zt *zt, struct zusd_sb *sb,
		     struct zufs_op_hdr *hdr, void *data,
		     const struct zus_ctx *ctx)
{
	struct zufs_op_lookup *op = (void *)hdr;

	(void)zt; (void)data;
	if (name_ok(&op->name))
		return -EINVAL;
	return OPS(sb)->lookup(sb->psb, ctx, op->dir_ino, op->name.name,
			       op->name.len, &op->attr);
}

static int do_getattr(struct zusd_zt *zt, struct zusd_sb *sb,
		      struct zufs_op_hdr *hdr, void *data,
		      const struct zus_ctx *ctx)
{
	struct zufs_op_getattr *op = (void *)hdr;

	(void)zt; (void)data;
	return OPS(sb)->getattr(sb->psb, ctx, op->ino, &op->attr);
}

static int do_setattr(struct zusd_zt *zt, struct zusd_sb *sb,
		      struct zufs_op_hdr *hdr, void *data,
		      const struct zus_ctx *ctx)
{
	struct zufs_op_setattr *op = (void *)hdr;

	(void)zt; (void)data;
	return OPS(sb)->setattr(sb->psb, ctx, op->ino, op->mask, &op->set,
				&op->attr);
}

/*
 * ZUFS_NEW_OPEN: the name already there is answered, not replaced.  1 if
 * so (*errp is the answer), 0 to go on and create it.
 */
static int new_inode_existing(struct zusd_sb *sb,
			      struct zufs_op_new_inode *op,
			      const struct zus_ctx *ctx, int *errp)
{
	int err = OPS(sb)->lookup(sb->psb, ctx, op->dir_ino, op->name.name,
				  op->name.len, &op->attr);

	if (err == -ENOENT)
		return 0;
	*errp = err;
	if (!err) {
		op->result = ZUFS_NEW_EXISTED;
		*errp = OPS(sb)->getattr(sb->psb, ctx, op->dir_ino,
					 &op->dir_attr);
	}
	return 1;
}

static int new_inode_open(struct zusd_sb *sb, struct zufs_op_new_inode *op,
			  const struct zus_ctx *ctx)
{
	/* the kernel's stamp, which a resend compares with the birth time */
	struct zus_ctx birth = *ctx;
	int err;

	if ((op->mode & S_IFMT) != S_IFREG || op->birth_nsec >= 1000000000)
		return -EINVAL;
	if (new_inode_existing(sb, op, ctx, &err))
		return err;
	birth.now.tv_sec = op->birth_sec;
	birth.now.tv_nsec = op->birth_nsec;
	err = OPS(sb)->create(sb->psb, &birth, op->dir_ino, op->name.name,
			      op->name.len, op->mode, op->rdev, op->uid,
			      op->gid, op->iflags, NULL, 0, false, &op->attr,
			      &op->dir_attr);
	/* another client of a shared filesystem made it meanwhile */
	if (err == -EEXIST && new_inode_existing(sb, op, ctx, &err))
		return err;
	return err;
}

static int do_new_inode(struct zusd_zt *zt, struct zusd_sb *sb,
			struct zufs_op_hdr *hdr, void *data,
			const struct zus_ctx *ctx)
{
	struct zufs_op_new_inode *op = (void *)hdr;
	bool tmpfile = hdr->flags & ZUFS_NEW_TMPFILE;
	const char *symlink = NULL;
	size_t symlen = 0;

	(void)zt;
	op->result = 0;
	if (!tmpfile && name_ok(&op->name))
		return -EINVAL;
	if (hdr->flags & ZUFS_NEW_OPEN)
		return tmpfile ? -EINVAL : new_inode_open(sb, op, ctx);
	if ((op->mode & S_IFMT) == S_IFLNK) {
		if (!hdr->data_in || hdr->data_in > ZUFS_SYMLINK_MAX)
			return -EINVAL;
		symlink = data;
		symlen = hdr->data_in;
	}
	return OPS(sb)->create(sb->psb, ctx, op->dir_ino,
			       tmpfile ? NULL : op->name.name,
			       tmpfile ? 0 : op->name.len, op->mode, op->rdev,
			       op->uid, op->gid, op->iflags, symlink, symlen,
			       tmpfile, &op->attr, &op->dir_attr);
}

static int do_link(struct zusd_zt *zt, struct zusd_sb *sb,
		   struct zufs_op_hdr *hdr, void *data,
		   const struct zus_ctx *ctx)
{
	struct zufs_op_link *op = (void *)hdr;

	(void)zt; (void)data;
	if (name_ok(&op->name))
		return -EINVAL;
	return OPS(sb)->link(sb->psb, ctx, op->ino, op->dir_ino,
			     op->name.name, op->name.len, &op->attr,
			     &op->dir_attr);
}

static int do_unlink(struct zusd_zt *zt, struct zusd_sb *sb,
		     struct zufs_op_hdr *hdr, void *data,
		     const struct zus_ctx *ctx)
{
	struct zufs_op_unlink *op = (void *)hdr;

	(void)zt; (void)data;
	if (name_ok(&op->name))
		return -EINVAL;
	return OPS(sb)->unlink(sb->psb, ctx, op->dir_ino, op->name.name,
			       op->name.len, hdr->flags & ZUFS_UNLINK_DIR,
			       &op->attr, &op->dir_attr);
}

static int do_rename(struct zusd_zt *zt, struct zusd_sb *sb,
		     struct zufs_op_hdr *hdr, void *data,
		     const struct zus_ctx *ctx)
{
	struct zufs_op_rename *op = (void *)hdr;
	struct zus_rename_out out;
	int err;

	(void)zt; (void)data;
	if (name_ok(&op->old_name) || name_ok(&op->new_name))
		return -EINVAL;
	memset(&out, 0, sizeof(out));
	err = OPS(sb)->rename(sb->psb, ctx, op->old_dir_ino,
			      op->old_name.name, op->old_name.len,
			      op->new_dir_ino, op->new_name.name,
			      op->new_name.len, hdr->flags, &out);
	op->attr = out.attr;
	op->target_attr = out.target_attr;
	op->old_dir_attr = out.old_dir_attr;
	op->new_dir_attr = out.new_dir_attr;
	op->whiteout_attr = out.whiteout_attr;
	return err;
}

/* readdir: records packed into the data area */
struct dir_buf {
	char		*p;
	uint32_t	used;
	uint32_t	max;
	uint32_t	count;
};

static int fill_dirent(void *buf, const char *name, size_t len, uint64_t ino,
		       unsigned int dtype, uint64_t next_pos)
{
	struct dir_buf *db = buf;
	struct zufs_dirent *de;
	uint32_t sz;

	if (len == 0 || len > ZUFS_NAME_MAX)
		return 0;	/* skip what the kernel would refuse */
	sz = ZUFS_DIRENT_SIZE(len);
	if (db->used + sz > db->max)
		return 1;
	de = (struct zufs_dirent *)(db->p + db->used);
	memset(de, 0, sz);
	de->ino = ino;
	de->next_pos = next_pos;
	de->name_len = len;
	de->type = dtype;
	memcpy(de->name, name, len);
	db->used += sz;
	db->count++;
	return 0;
}

/*
 * ZUFS_READDIR_PLUS: give each of the plugin's records in @plain its
 * attributes, into @data (up to @max bytes).  Done after the plugin's
 * readdir returned, never from inside it (its getattr may take locks its
 * readdir holds).  Returns the records that fit; *used their bytes.
 */
static uint32_t add_attrs(struct zusd_sb *sb, const struct zus_ctx *ctx,
			  const uint8_t *plain, uint32_t count, uint8_t *data,
			  uint32_t max, uint32_t *used)
{
	uint32_t i, in = 0, out = 0;

	for (i = 0; i < count; i++) {
		const struct zufs_dirent *de = (const void *)(plain + in);
		uint32_t sz = ZUFS_DIRENT_SIZE(de->name_len);
		struct zufs_attr *attr;

		if (out + ZUFS_DIRENT_PLUS_SIZE(de->name_len) > max)
			break;
		memcpy(data + out, de, sz);
		attr = (void *)(data + out + sz);
		if (OPS(sb)->getattr(sb->psb, ctx, de->ino, attr) ||
		    attr->ino != de->ino)
			memset(attr, 0, sizeof(*attr));
		in += sz;
		out += sz + sizeof(*attr);
	}
	*used = out;
	return i;
}

/* Attributes take room: a plain record of a short name is ~1/4 of one */
#define PLUS_PLAIN_SHARE	4

static int do_readdir(struct zusd_zt *zt, struct zusd_sb *sb,
		      struct zufs_op_hdr *hdr, void *data,
		      const struct zus_ctx *ctx)
{
	struct zufs_op_readdir *op = (void *)hdr;
	bool plus = hdr->flags & ZUFS_READDIR_PLUS;
	uint32_t max = hdr->data_max > ZUFS_DATA_AREA_SIZE ?
		       ZUFS_DATA_AREA_SIZE : hdr->data_max;
	struct dir_buf db = { .p = data, .max = max };
	bool eof = false;
	int err;

	(void)zt;
	if (plus) {
		db.max = max / PLUS_PLAIN_SHARE;
		db.p = malloc(db.max ?: 1);
		if (!db.p)
			return -ENOMEM;
	}
	err = OPS(sb)->readdir(sb->psb, ctx, op->ino, op->pos, fill_dirent,
			       &db, &eof);
	if (plus && !err) {
		uint32_t n = add_attrs(sb, ctx, (const uint8_t *)db.p,
				       db.count, data, max, &db.used);

		/* what did not fit is read again from the last position */
		if (n < db.count)
			eof = false;
		db.count = n;
	}
	if (plus)
		free(db.p);
	op->count = db.count;
	op->eof = eof;
	hdr->data_out = err ? 0 : db.used;
	return err;
}

static int do_readlink(struct zusd_zt *zt, struct zusd_sb *sb,
		       struct zufs_op_hdr *hdr, void *data,
		       const struct zus_ctx *ctx)
{
	struct zufs_op_readlink *op = (void *)hdr;
	size_t max = hdr->data_max > ZUFS_DATA_AREA_SIZE ?
		     ZUFS_DATA_AREA_SIZE : hdr->data_max;
	ssize_t n;

	(void)zt;
	n = OPS(sb)->readlink(sb->psb, ctx, op->ino, data, max);
	if (n < 0)
		return n;
	hdr->data_out = n;
	return 0;
}

/* A batch (zufs_api.h): every number checked before any is evicted */
static int do_evict(struct zusd_zt *zt, struct zusd_sb *sb,
		    struct zufs_op_hdr *hdr, void *data,
		    const struct zus_ctx *ctx)
{
	struct zufs_op_evict *op = (void *)hdr;
	uint64_t inos[ZUFS_EVICT_BATCH];
	uint32_t i, nr;
	int err, first = 0;

	if (hdr->data_in % sizeof(inos[0]) ||
	    hdr->data_in > (ZUFS_EVICT_BATCH - 1) * sizeof(inos[0]))
		return -EINVAL;
	nr = 1 + hdr->data_in / sizeof(inos[0]);
	inos[0] = op->ino;
	memcpy(inos + 1, data, hdr->data_in);
	for (i = 0; i < nr; i++)
		if (!inos[i])
			return -EINVAL;
	if (nr > 1)
		zusd_dbg(zt->zd, "ch %d seq %llu: evict %u inodes", zt->id,
			 (unsigned long long)hdr->seq, nr);
	for (i = 0; i < nr; i++) {
		err = OPS(sb)->evict(sb->psb, ctx, inos[i]);
		if (err && !first)
			first = err;
	}
	return first;
}

static int do_get_blocks(struct zusd_zt *zt, struct zusd_sb *sb,
			 struct zufs_op_hdr *hdr, void *data,
			 const struct zus_ctx *ctx)
{
	struct zufs_op_get_blocks *op = (void *)hdr;
	int n;

	(void)data;
	op->count = 0;
	/* the kernel sends only the "in" part: the rest is an older op's */
	memset(&op->attr, 0, sizeof(op->attr));
	if (!op->ext_max || op->ext_max > ZUFS_MAX_EXTENTS)
		return -EINVAL;
	if (!OPS(sb)->get_blocks)
		return -EOPNOTSUPP;
	n = OPS(sb)->get_blocks(sb->psb, ctx, op->ino, op->offset,
				op->length,
				hdr->flags & (ZUFS_GB_WRITE | ZUFS_GB_MAP),
				op->size_after, op->ext, op->ext_max,
				&op->attr);
	if (n < 0)
		return n;
	op->count = n;
	if (zt->zd->opts.storm_ms)
		zusd_storm_note(zt, sb->sb_id, op->ino);
	return 0;
}

/*
 * Testing (--window-spy): look at, and for a READ scribble on, every byte
 * of the window pages outside the op's own bytes, as a hostile plugin
 * would.  The kernel must lend nothing there but zeros of its own.
 */
static void window_spy(struct zusd_zt *zt, const struct zufs_op_io *op)
{
	unsigned char *w = zt->window;
	uint64_t end = op->win_offset + op->length;
	uint64_t span = (end + 4095) & ~(uint64_t)4095;
	bool read = op->hdr.op == ZUFS_OP_READ;
	uint64_t i, seen = 0;

	for (i = 0; i < span; i++) {
		if (i == op->win_offset)
			i = end;
		if (i >= span)
			break;
		seen += w[i] != 0;
		if (read)
			w[i] = 0x55;
	}
	if (seen)
		zusd_err(zt->zd, "window spy: channel %d seq %llu %s: %llu bytes of the caller's outside the op",
			 zt->id, (unsigned long long)op->hdr.seq,
			 read ? "READ" : "WRITE", (unsigned long long)seen);
}

/*
 * Where an old-IO op's data is: the caller's own pages in the window, or
 * (for kernel memory the kernel could not map) the data area.
 */
static void *io_buffer(struct zusd_zt *zt, const struct zufs_op_io *op,
		       void *data, uint32_t data_room)
{
	if (zt->zd->opts.io_delay_us)
		usleep(zt->zd->opts.io_delay_us);
	if (op->hdr.flags & ZUFS_IO_WINDOW) {
		if (!zt->window || op->win_offset >= 4096 ||
		    op->length > ZUFS_IO_MAX)
			return NULL;
		zt->io_window++;
		if (zt->zd->opts.window_spy)
			window_spy(zt, op);
		return (char *)zt->window + op->win_offset;
	}
	if (op->length > data_room || op->length > ZUFS_DATA_AREA_SIZE)
		return NULL;
	zt->io_copied++;
	return data;
}

static int do_read(struct zusd_zt *zt, struct zusd_sb *sb,
		   struct zufs_op_hdr *hdr, void *data,
		   const struct zus_ctx *ctx)
{
	struct zufs_op_io *op = (void *)hdr;
	void *buf = io_buffer(zt, op, data, hdr->data_max);
	ssize_t n;

	if (!OPS(sb)->read)
		return -EOPNOTSUPP;
	if (!buf)
		return -EINVAL;
	n = OPS(sb)->read(sb->psb, ctx, op->ino, buf, op->length, op->offset);
	if (n < 0)
		return n;
	op->done = n;
	if (buf == data)
		hdr->data_out = n;
	return 0;
}

static int do_write(struct zusd_zt *zt, struct zusd_sb *sb,
		    struct zufs_op_hdr *hdr, void *data,
		    const struct zus_ctx *ctx)
{
	struct zufs_op_io *op = (void *)hdr;
	void *buf = io_buffer(zt, op, data, hdr->data_in);
	ssize_t n;

	if (!OPS(sb)->write)
		return -EOPNOTSUPP;
	if (!buf)
		return -EINVAL;
	n = OPS(sb)->write(sb->psb, ctx, op->ino, buf, op->length, op->offset,
			   &op->attr);
	if (n < 0)
		return n;
	op->done = n;
	return 0;
}

static int do_fsync(struct zusd_zt *zt, struct zusd_sb *sb,
		    struct zufs_op_hdr *hdr, void *data,
		    const struct zus_ctx *ctx)
{
	struct zufs_op_fsync *op = (void *)hdr;

	(void)zt; (void)data;
	if (!OPS(sb)->fsync)
		return 0;
	return OPS(sb)->fsync(sb->psb, ctx, op->ino, op->offset, op->length,
			      hdr->flags & ZUFS_FSYNC_DATAONLY);
}

static int do_fallocate(struct zusd_zt *zt, struct zusd_sb *sb,
			struct zufs_op_hdr *hdr, void *data,
			const struct zus_ctx *ctx)
{
	struct zufs_op_fallocate *op = (void *)hdr;

	(void)zt; (void)data;
	if (!OPS(sb)->fallocate)
		return -EOPNOTSUPP;
	return OPS(sb)->fallocate(sb->psb, ctx, op->ino, op->mode,
				  op->offset, op->length, &op->attr);
}

static int do_seek(struct zusd_zt *zt, struct zusd_sb *sb,
		   struct zufs_op_hdr *hdr, void *data,
		   const struct zus_ctx *ctx)
{
	struct zufs_op_seek *op = (void *)hdr;
	uint64_t result = 0;
	int err;

	(void)zt; (void)data;
	if (!OPS(sb)->seek)
		return -EOPNOTSUPP;
	err = OPS(sb)->seek(sb->psb, ctx, op->ino, op->offset, op->whence,
			    &result);
	op->result = result;
	return err;
}

static int do_clone(struct zusd_zt *zt, struct zusd_sb *sb,
		    struct zufs_op_hdr *hdr, void *data,
		    const struct zus_ctx *ctx)
{
	struct zufs_op_clone *op = (void *)hdr;

	uint64_t done = 0;
	int err;

	(void)zt; (void)data;
	op->done = 0;
	if (!OPS(sb)->clone)
		return -EOPNOTSUPP;
	err = OPS(sb)->clone(sb->psb, ctx, op->src_ino, op->src_offset,
			     op->dst_ino, op->dst_offset, op->length,
			     hdr->flags, &done, &op->attr);
	op->done = done;
	return err;
}

static int do_getxattr(struct zusd_zt *zt, struct zusd_sb *sb,
		       struct zufs_op_hdr *hdr, void *data,
		       const struct zus_ctx *ctx)
{
	struct zufs_op_xattr *op = (void *)hdr;
	size_t max = hdr->data_max > ZUFS_XATTR_SIZE_MAX ?
		     ZUFS_XATTR_SIZE_MAX : hdr->data_max;
	ssize_t n;

	(void)zt;
	if (!OPS(sb)->getxattr)
		return -EOPNOTSUPP;
	if (name_ok(&op->name))
		return -EINVAL;
	n = OPS(sb)->getxattr(sb->psb, ctx, op->ino, op->name.name,
			      max ? data : NULL, max);
	if (n < 0)
		return n;
	op->size = n;
	hdr->data_out = max ? n : 0;
	return 0;
}

static int do_setxattr(struct zusd_zt *zt, struct zusd_sb *sb,
		       struct zufs_op_hdr *hdr, void *data,
		       const struct zus_ctx *ctx)
{
	struct zufs_op_xattr *op = (void *)hdr;
	bool remove = op->flags & ZUFS_XATTR_REMOVE;

	(void)zt;
	if (!OPS(sb)->setxattr)
		return -EOPNOTSUPP;
	if (name_ok(&op->name) || hdr->data_in > ZUFS_XATTR_SIZE_MAX)
		return -EINVAL;
	return OPS(sb)->setxattr(sb->psb, ctx, op->ino, op->name.name,
				 remove ? NULL : data,
				 remove ? 0 : hdr->data_in,
				 op->flags & 3, &op->attr);
}

static int do_listxattr(struct zusd_zt *zt, struct zusd_sb *sb,
			struct zufs_op_hdr *hdr, void *data,
			const struct zus_ctx *ctx)
{
	struct zufs_op_xattr *op = (void *)hdr;
	size_t max = hdr->data_max > ZUFS_DATA_AREA_SIZE ?
		     ZUFS_DATA_AREA_SIZE : hdr->data_max;
	ssize_t n;

	(void)zt;
	if (!OPS(sb)->listxattr)
		return -EOPNOTSUPP;
	n = OPS(sb)->listxattr(sb->psb, ctx, op->ino, max ? data : NULL, max);
	if (n < 0)
		return n;
	op->size = n;
	hdr->data_out = max ? n : 0;
	return 0;
}

#define A(type, field)	offsetof(type, field)

static const struct zusd_op_desc zusd_ops[ZUFS_OP_MAX_OPT] = {
	[ZUFS_OP_NULL]	= { "NULL", do_null, sizeof(struct zufs_op_hdr) },
	[ZUFS_OP_BREAK]	= { "BREAK", NULL, sizeof(struct zufs_op_hdr) },
	[ZUFS_OP_STATFS] = { "STATFS", do_statfs,
			     sizeof(struct zufs_op_statfs) },
	[ZUFS_OP_SYNC_FS] = { "SYNC_FS", do_sync_fs,
			      sizeof(struct zufs_op_sync_fs) },
	[ZUFS_OP_LOOKUP] = { "LOOKUP", do_lookup,
			     sizeof(struct zufs_op_lookup),
			     { A(struct zufs_op_lookup, attr) }, 1 },
	[ZUFS_OP_GETATTR] = { "GETATTR", do_getattr,
			      sizeof(struct zufs_op_getattr),
			      { A(struct zufs_op_getattr, attr) }, 1 },
	[ZUFS_OP_SETATTR] = { "SETATTR", do_setattr,
			      sizeof(struct zufs_op_setattr),
			      { A(struct zufs_op_setattr, attr) }, 1 },
	[ZUFS_OP_NEW_INODE] = { "NEW_INODE", do_new_inode,
				sizeof(struct zufs_op_new_inode),
				{ A(struct zufs_op_new_inode, attr),
				  A(struct zufs_op_new_inode, dir_attr) }, 2 },
	[ZUFS_OP_LINK] = { "LINK", do_link, sizeof(struct zufs_op_link),
			   { A(struct zufs_op_link, attr),
			     A(struct zufs_op_link, dir_attr) }, 2 },
	[ZUFS_OP_UNLINK] = { "UNLINK", do_unlink,
			     sizeof(struct zufs_op_unlink),
			     { A(struct zufs_op_unlink, attr),
			       A(struct zufs_op_unlink, dir_attr) }, 2 },
	[ZUFS_OP_RENAME] = { "RENAME", do_rename,
			     sizeof(struct zufs_op_rename),
			     { A(struct zufs_op_rename, attr),
			       A(struct zufs_op_rename, target_attr),
			       A(struct zufs_op_rename, old_dir_attr),
			       A(struct zufs_op_rename, new_dir_attr),
			       A(struct zufs_op_rename, whiteout_attr) }, 5 },
	[ZUFS_OP_READDIR] = { "READDIR", do_readdir,
			      sizeof(struct zufs_op_readdir) },
	[ZUFS_OP_READLINK] = { "READLINK", do_readlink,
			       sizeof(struct zufs_op_readlink) },
	[ZUFS_OP_EVICT] = { "EVICT", do_evict, sizeof(struct zufs_op_evict) },
	[ZUFS_OP_GET_BLOCKS] = { "GET_BLOCKS", do_get_blocks,
				 sizeof(struct zufs_op_get_blocks) +
				 ZUFS_MAX_EXTENTS * sizeof(struct zufs_extent),
				 { A(struct zufs_op_get_blocks, attr) }, 1 },
	[ZUFS_OP_READ] = { "READ", do_read, sizeof(struct zufs_op_io) },
	[ZUFS_OP_WRITE] = { "WRITE", do_write, sizeof(struct zufs_op_io),
			    { A(struct zufs_op_io, attr) }, 1 },
	[ZUFS_OP_FSYNC] = { "FSYNC", do_fsync, sizeof(struct zufs_op_fsync) },
	[ZUFS_OP_FALLOCATE] = { "FALLOCATE", do_fallocate,
				sizeof(struct zufs_op_fallocate),
				{ A(struct zufs_op_fallocate, attr) }, 1 },
	[ZUFS_OP_SEEK] = { "SEEK", do_seek, sizeof(struct zufs_op_seek) },
	[ZUFS_OP_CLONE] = { "CLONE", do_clone, sizeof(struct zufs_op_clone),
			    { A(struct zufs_op_clone, attr) }, 1 },
	[ZUFS_OP_GETXATTR] = { "GETXATTR", do_getxattr,
			       sizeof(struct zufs_op_xattr) },
	[ZUFS_OP_SETXATTR] = { "SETXATTR", do_setxattr,
			       sizeof(struct zufs_op_xattr),
			       { A(struct zufs_op_xattr, attr) }, 1 },
	[ZUFS_OP_LISTXATTR] = { "LISTXATTR", do_listxattr,
				sizeof(struct zufs_op_xattr) },
};

/* each op's debug class (zus.h, enum zus_dbg_class): zusctl debug */
static const uint8_t zusd_op_class[ZUFS_OP_MAX_OPT] = {
	[ZUFS_OP_STATFS] = ZUS_DBG_MOUNT,	[ZUFS_OP_SYNC_FS] = ZUS_DBG_MOUNT,
	[ZUFS_OP_LOOKUP] = ZUS_DBG_NAMEI,	[ZUFS_OP_NEW_INODE] = ZUS_DBG_NAMEI,
	[ZUFS_OP_LINK] = ZUS_DBG_NAMEI,		[ZUFS_OP_UNLINK] = ZUS_DBG_NAMEI,
	[ZUFS_OP_RENAME] = ZUS_DBG_NAMEI,	[ZUFS_OP_READLINK] = ZUS_DBG_NAMEI,
	[ZUFS_OP_EVICT] = ZUS_DBG_NAMEI,	[ZUFS_OP_READDIR] = ZUS_DBG_DIR,
	[ZUFS_OP_GETATTR] = ZUS_DBG_ATTR,	[ZUFS_OP_SETATTR] = ZUS_DBG_ATTR,
	[ZUFS_OP_GET_BLOCKS] = ZUS_DBG_IO,	[ZUFS_OP_READ] = ZUS_DBG_IO,
	[ZUFS_OP_WRITE] = ZUS_DBG_IO,		[ZUFS_OP_FSYNC] = ZUS_DBG_IO,
	[ZUFS_OP_FALLOCATE] = ZUS_DBG_IO,	[ZUFS_OP_SEEK] = ZUS_DBG_IO,
	[ZUFS_OP_CLONE] = ZUS_DBG_IO,		[ZUFS_OP_GETXATTR] = ZUS_DBG_XATTR,
	[ZUFS_OP_SETXATTR] = ZUS_DBG_XATTR,	[ZUFS_OP_LISTXATTR] = ZUS_DBG_XATTR,
};

static bool debug_op_on(struct zusd_zt *zt, struct zusd_sb *sb,
			struct zufs_op_hdr *hdr)
{
	const char *type = sb ? sb->type->info.name : NULL;

	if (hdr->op >= ZUFS_OP_MAX_OPT || hdr->op == ZUFS_OP_NULL)
		return false;
	return zus_debug_on(type, zusd_op_class[hdr->op]) || zt->zd->opts.debug;
}

/*
 * One line per op of a class switched on for its type (or -d), with the
 * time the server took (start_ns 0: the op never reached a handler):
 * what profiles a slow workload (which ops, how many, where the time
 * goes) without a rebuild.
 */
static void debug_op(struct zusd_zt *zt, struct zusd_sb *sb,
		     struct zufs_op_hdr *hdr, int err, uint64_t start_ns)
{
	unsigned long long us = 0;

	if (start_ns)
		us = (zusd_mono_ns() - start_ns) / 1000;
	zus_log_at(sb ? sb->type->info.name : NULL, ZUS_LOG_DEBUG,
		   "ch %d seq %llu %s -> %d (%llu us)", zt->id,
		   (unsigned long long)hdr->seq, zusd_op_name(hdr->op), err, us);
}

const struct zusd_op_desc *zusd_op_desc(uint32_t op)
{
	if (op >= ZUFS_OP_MAX_OPT || !zusd_ops[op].name)
		return NULL;
	return &zusd_ops[op];
}

const char *zusd_op_name(uint32_t op)
{
	const struct zusd_op_desc *d = zusd_op_desc(op);

	return d ? d->name : "?";
}

void zusd_dispatch(struct zusd_zt *zt)
{
	struct zufs_op_hdr *hdr = zt->map;
	void *data = (char *)zt->map + ZUFS_OP_AREA_SIZE;
	const struct zusd_op_desc *d = zusd_op_desc(hdr->op);
	struct zus_ctx ctx = {
		.uid = hdr->uid,
		.gid = hdr->gid,
		.now = { .tv_sec = hdr->now_sec, .tv_nsec = hdr->now_nsec },
		.cpu = zt->cpu,
		.numa_node = zt->numa_node,
	};
	struct zusd_sb *sb = NULL;
	uint64_t start_ns = 0;
	int err;

	hdr->data_out = 0;
	if (!d || !d->handler) {
		err = -ENOSYS;
		goto out;
	}
	if (hdr->op != ZUFS_OP_NULL) {
		sb = zusd_sb_of(hdr->sb_handle);
		if (!sb) {
			err = -EINVAL;
			goto out;
		}
	}
	if (debug_op_on(zt, sb, hdr))
		start_ns = zusd_mono_ns();
	if (hdr->flags & ZUFS_OPF_RESENT) {
		hdr->flags &= ~ZUFS_OPF_RESENT;
		zusd_dbg(zt->zd, "ch %d seq %llu %s: resent", zt->id,
			 (unsigned long long)hdr->seq, zusd_op_name(hdr->op));
		if (zusd_resent(sb, hdr, data, &ctx, &err))
			goto out;
	}
	if (zt->zd->opts.late_op == (int)hdr->op && zt->zd->opts.late_before)
		usleep(zt->zd->opts.late_us);
	err = zusd_zt_call(zt, d->handler, sb, hdr, data, &ctx);
	if (zt->zd->opts.late_op == (int)hdr->op && !zt->zd->opts.late_before)
		usleep(zt->zd->opts.late_us);
out:
	if (err > 0 || err < -4095)
		err = -EIO;	/* a plugin bug must not look like success */
	hdr->err = err;
	if (err)
		hdr->data_out = 0;
	if (debug_op_on(zt, sb, hdr))
		debug_op(zt, sb, hdr, err, start_ns);
	if (zt->zd->opts.chaos.on)
		zusd_chaos_answer(zt);
	if (zt->zd->fuzz)
		zusd_fuzz_answer(zt);
}
