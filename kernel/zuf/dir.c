// SPDX-License-Identifier: GPL-2.0
/*
 * dir.c - directory listing.  "." and ".." are ours (positions 0 and 1);
 * the server fills a large buffer with records from a stable cookie on,
 * and every record is checked before any of them reaches the caller.
 *
 * Readdirplus: a listing from the start, or one after lookups in the
 * directory went to the server, asks for every entry's attributes too
 * (ZUFS_READDIR_PLUS) and makes the dentries and inodes of the entries
 * the dcache lacks, so that ls -l or a find that stats costs no LOOKUP
 * per entry.  Listings of names only (a later chunk of a find) do not.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include "zuf_vfs.h"

/*
 * The first round trip uses a page (most directories fit); a directory
 * that needs more gets many entries per round trip, so that 100 000
 * entries list quickly.
 */
#define ZUF_READDIR_FIRST	PAGE_SIZE
#define ZUF_READDIR_BUF		(256 * 1024)

static bool zuf_dtype_valid(u8 type)
{
	switch (type) {
	case DT_UNKNOWN:
	case DT_FIFO:
	case DT_CHR:
	case DT_DIR:
	case DT_BLK:
	case DT_REG:
	case DT_LNK:
	case DT_SOCK:
	case DT_WHT:
		return true;
	}
	return false;
}

static u32 zuf_dirent_size(const struct zufs_dirent *de, bool plus)
{
	return plus ? ZUFS_DIRENT_PLUS_SIZE(de->name_len) :
		      ZUFS_DIRENT_SIZE(de->name_len);
}

static const struct zufs_attr *zuf_dirent_attr(const struct zufs_dirent *de)
{
	return (const void *)de + ZUFS_DIRENT_SIZE(de->name_len);
}

static const char *zuf_dirent_problem(struct zuf_sb_info *sbi,
				      const struct zufs_dirent *de, u32 room,
				      u64 pos, bool plus)
{
	const char *why;

	if (room < sizeof(*de))
		return "truncated record";
	/* the length first: the record's size depends on it */
	if (!de->name_len || de->name_len > ZUFS_NAME_MAX)
		return "bad name length";
	if (zuf_dirent_size(de, plus) > room)
		return "record past the data";
	if (plus && zuf_dirent_attr(de)->ino &&
	    zuf_dirent_attr(de)->ino != de->ino)
		return "attributes of another inode";
	why = zuf_name_problem(de->name, de->name_len);
	if (why)
		return why;
	if (!de->ino || de->ino > sbi->max_ino)
		return "inode number out of range";
	if (!zuf_dtype_valid(de->type))
		return "bad type";
	if (de->next_pos <= pos || de->next_pos > LLONG_MAX)
		return "position does not advance";
	return NULL;
}

/* Validate a whole answer before emitting anything from it */
static int zuf_check_dirents(struct zuf_sb_info *sbi, const void *buf,
			     u32 len, u32 count, u64 pos, bool plus)
{
	const struct zufs_dirent *de;
	const char *why = NULL;
	u32 off = 0, n = 0;

	while (off < len) {
		de = buf + off;
		why = zuf_dirent_problem(sbi, de, len - off, pos, plus);
		if (why)
			break;
		pos = de->next_pos;
		off += zuf_dirent_size(de, plus);
		n++;
	}
	if (!why && n != count)
		why = "record count mismatch";
	if (!why)
		return 0;
	zuf_bad_answer(sbi, "readdir: %s (record %u at byte %u of %u)", why,
		       n, off, len);
	return -EIO;
}

/*
 * Make the dentry and inode of an entry the dcache lacks, as a lookup
 * would.  Best effort: whatever fails here, a lookup does later.  True
 * when the name has a positive dentry now.
 */
static bool zuf_prefill(struct dentry *parent, const struct zufs_dirent *de,
			u64 version)
{
	DECLARE_WAIT_QUEUE_HEAD_ONSTACK(wq);
	const struct zufs_attr *attr = zuf_dirent_attr(de);
	struct qstr name = QSTR_INIT(de->name, de->name_len);
	struct super_block *sb = parent->d_sb;
	struct dentry *dentry, *alias;
	struct inode *inode;
	bool positive = false;

	if (!attr->ino)
		return false;
	name.hash = full_name_hash(parent, name.name, name.len);
	dentry = d_lookup(parent, &name);
	if (!dentry) {
		dentry = d_alloc_parallel(parent, &name, &wq);
		if (IS_ERR(dentry))
			return false;
	}
	if (!d_in_lookup(dentry)) {
		/* known already, or someone looked it up meanwhile */
		positive = d_really_is_positive(dentry);
		goto out_put;
	}
	inode = zuf_iget_checked(sb, attr, version);
	if (IS_ERR(inode)) {
		d_lookup_done(dentry);
		goto out_put;
	}
	zuf_d_fresh(dentry);		/* the server vouched for it now */
	alias = d_splice_alias(inode, dentry);
	d_lookup_done(dentry);
	positive = !IS_ERR(alias);
	if (!IS_ERR_OR_NULL(alias))
		dput(alias);
out_put:
	dput(dentry);
	return positive;
}

struct zuf_listing {
	struct file	*file;
	struct dir_context *ctx;
	bool		plus;
	bool		whole;		/* from the start, every name prefilled */
	bool		eof;		/* ...to the end */
	u64		version;	/* of the dir, before the question */
};

/* Returns true when the caller's buffer is full */
static bool zuf_emit_dirents(struct zuf_listing *l, const void *buf, u32 len)
{
	const struct zufs_dirent *de;
	u32 off = 0;

	while (off < len) {
		de = buf + off;
		if (l->plus &&
		    !zuf_prefill(l->file->f_path.dentry, de, l->version))
			l->whole = false;
		if (!dir_emit(l->ctx, de->name, de->name_len, de->ino,
			      de->type))
			return true;
		l->ctx->pos = de->next_pos;
		off += zuf_dirent_size(de, l->plus);
	}
	return false;
}

static int zuf_readdir_once(struct inode *dir, struct zuf_listing *l,
			    void *buf, u32 size, bool *more)
{
	struct dir_context *ctx = l->ctx;
	struct zuf_sb_info *sbi = ZSBI(dir);
	struct zufs_op_readdir op = {};
	struct zuf_dispatch zd = { .op = &op.hdr, .op_size = sizeof(op),
				   .out_buf = buf, .out_max = size };
	int err;

	op.hdr.op = ZUFS_OP_READDIR;
	op.hdr.flags = l->plus ? ZUFS_READDIR_PLUS : 0;
	op.ino = dir->i_ino;
	op.pos = ctx->pos;
	l->version = zuf_attr_version(dir);
	err = zufc_dispatch(sbi, &zd);
	if (err)
		return err;
	err = zuf_check_dirents(sbi, buf, zd.out_len, op.count, ctx->pos,
				l->plus);
	if (err)
		return err;
	*more = !zuf_emit_dirents(l, buf, zd.out_len);
	l->eof = op.eof && *more;
	/* no records and no eof would make us ask the same thing forever */
	if (op.eof || !op.count)
		*more = false;
	return 0;
}

/*
 * A listing's state from one getdents call to the next, packed into the
 * open file's private_data (no allocation; getdents calls on one file are
 * serialized by its f_pos lock, and any seek starts over):
 */
#define ZUF_LIST_PLUS		1UL	/* readdirplus to the end */
#define ZUF_LIST_WHOLE		2UL	/* from the start, every name prefilled */
#define ZUF_LIST_LOST_SHIFT	32	/* the dir's names_lost at the start */

/*
 * A listing from the start carries the attributes (and may find the
 * directory complete), and so does the rest of it; one from elsewhere
 * only after lookups there went to the server.
 */
static unsigned long zuf_listing_start(struct file *file,
				       struct dir_context *ctx)
{
	unsigned long st = (unsigned long)file->private_data;
	struct inode *dir = file_inode(file);
	bool looked_up = test_and_clear_bit(ZUF_I_DIR_LOOKED_UP,
					    &ZUI(dir)->state);

	if (ctx->pos == ZUFS_DIR_POS_FIRST) {
		u32 lost = atomic_read(&ZUI(dir)->names_lost);

		st = ZUF_LIST_PLUS;
		if (zuf_local_names(dir) && !zuf_dir_complete(dir))
			st |= ZUF_LIST_WHOLE |
			      (unsigned long)lost << ZUF_LIST_LOST_SHIFT;
		/* before the answer whose names it vouches for */
		smp_rmb();
	} else if (!(st & ZUF_LIST_PLUS)) {
		st = looked_up ? ZUF_LIST_PLUS : 0;
	}
	return st;
}

static void zuf_listing_end(struct file *file, struct zuf_listing *l,
			    unsigned long st, int err)
{
	if (err || !l->whole)
		st &= ~ZUF_LIST_WHOLE;
	if (!err && l->eof) {
		if (st & ZUF_LIST_WHOLE)
			zuf_dir_listed(file_inode(file),
				       st >> ZUF_LIST_LOST_SHIFT);
		st = 0;
	}
	file->private_data = (void *)st;
}

static int zuf_iterate(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct zuf_listing l = { .file = file, .ctx = ctx };
	u32 size = ZUF_READDIR_FIRST;
	unsigned long st;
	bool more = true;
	void *buf;
	int err = 0;

	if (!dir_emit_dots(file, ctx))
		return 0;
	st = zuf_listing_start(file, ctx);
	l.plus = st & ZUF_LIST_PLUS;
	l.whole = st & ZUF_LIST_WHOLE;
	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	err = zuf_readdir_once(dir, &l, buf, size, &more);
	if (!err && more) {
		kfree(buf);
		size = ZUF_READDIR_BUF;
		buf = kvmalloc(size, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
	}
	while (more && !err) {
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		err = zuf_readdir_once(dir, &l, buf, size, &more);
	}
	kvfree(buf);
	zuf_listing_end(file, &l, st, err);
	return err;
}

/* Cookies are opaque: any position may be sought to */
static loff_t zuf_dir_llseek(struct file *file, loff_t offset, int whence)
{
	/* a listing resumed elsewhere skipped names: start over */
	file->private_data = NULL;
	return generic_file_llseek_size(file, offset, whence, LLONG_MAX,
					i_size_read(file_inode(file)));
}

const struct file_operations zuf_dir_operations = {
	.llseek		= zuf_dir_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= zuf_iterate,
	.fsync		= zuf_fsync,
	.unlocked_ioctl	= zuf_ioctl,
};
