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
	int		names_lost;	/* the dir's, before the listing */
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

/* From the start, or after lookups there went to the server */
static bool zuf_readdir_plus(struct inode *dir, struct dir_context *ctx)
{
	bool looked_up = test_and_clear_bit(ZUF_I_DIR_LOOKED_UP,
					    &ZUI(dir)->state);

	return ctx->pos == ZUFS_DIR_POS_FIRST || looked_up;
}

static int zuf_iterate(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct zuf_listing l = { .file = file, .ctx = ctx };
	u32 size = ZUF_READDIR_FIRST;
	bool more = true;
	void *buf;
	int err = 0;

	if (!dir_emit_dots(file, ctx))
		return 0;
	l.plus = zuf_readdir_plus(dir, ctx);
	/* a listing of it all in one go may find the directory complete */
	l.whole = l.plus && ctx->pos == ZUFS_DIR_POS_FIRST &&
		  zuf_local_names(dir) && !zuf_dir_complete(dir);
	l.names_lost = atomic_read(&ZUI(dir)->names_lost);
	smp_rmb();
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
	if (!err && l.whole && l.eof)
		zuf_dir_listed(dir, l.names_lost);
	return err;
}

/* Cookies are opaque: any position may be sought to */
static loff_t zuf_dir_llseek(struct file *file, loff_t offset, int whence)
{
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
