// SPDX-License-Identifier: GPL-2.0
/*
 * namei.c - the namespace: lookup, create/mkdir/mknod/symlink/tmpfile,
 * link, unlink/rmdir and rename.  The VFS has already done every
 * permission and sanity check (sticky bits, dir-into-own-subdir, ...);
 * the server applies the change and answers the attributes of every inode
 * it touched, which we check and copy in.
 */
#include <linux/slab.h>
#include <linux/namei.h>
#include <linux/cred.h>
#include "zuf_vfs.h"

static int zuf_name_ok(const struct qstr *q)
{
	return q->len > ZUFS_NAME_MAX ? -ENAMETOOLONG : 0;
}

/* What is wrong with a name the server gave as a directory entry, or NULL */
const char *zuf_name_problem(const char *name, u32 len)
{
	if (!len || len > ZUFS_NAME_MAX)
		return "bad name length";
	if (memchr(name, '/', len) || memchr(name, 0, len))
		return "bad character in name";
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return "dot entry";
	return NULL;
}

/*
 * Complete directories (ZUFS_FST_LOCAL_NAMES).  A directory this kernel
 * made holds no name it has no dentry for, as long as every name added
 * since went through a dentry that is still in the dcache.  Lookups of
 * other names there are negative without a trip.  The mark goes when a
 * positive child leaves the dcache (zuf_d_prune), and whenever a
 * namespace op failed after it was sent: the server may have changed the
 * name all the same.  The inode's state starts clear, so a directory
 * evicted and read again is never complete.
 */
bool zuf_local_names(struct inode *dir)
{
	return zuf_fst(dir, ZUFS_FST_LOCAL_NAMES);
}

static void zuf_dir_set_complete(struct inode *dir)
{
	if (zuf_local_names(dir))
		set_bit(ZUF_I_DIR_COMPLETE, &ZUI(dir)->state);
}

void zuf_dir_uncomplete(struct inode *dir)
{
	/* seen by a listing about to mark it complete (zuf_dir_listed) */
	atomic_inc(&ZUI(dir)->names_lost);
	smp_mb__after_atomic();
	if (test_bit(ZUF_I_DIR_COMPLETE, &ZUI(dir)->state)) {
		clear_bit(ZUF_I_DIR_COMPLETE, &ZUI(dir)->state);
		/* before the dentry leaves the hash (zuf_dir_complete) */
		smp_mb__after_atomic();
	}
}

/*
 * A listing of the whole directory in one go gave every name in it a
 * dentry (readdirplus prefill, under the directory's lock, so no name
 * came or went): it is complete, unless a name was lost since
 * @names_lost was read before the listing.
 */
void zuf_dir_listed(struct inode *dir, int names_lost)
{
	if (!zuf_local_names(dir))
		return;
	set_bit(ZUF_I_DIR_COMPLETE, &ZUI(dir)->state);
	smp_mb__after_atomic();
	if (atomic_read(&ZUI(dir)->names_lost) != names_lost)
		zuf_dir_uncomplete(dir);
}

bool zuf_dir_complete(struct inode *dir)
{
	/* a name whose dentry we did not find is unhashed by now */
	smp_rmb();
	return test_bit(ZUF_I_DIR_COMPLETE, &ZUI(dir)->state) &&
	       zuf_local_names(dir);
}

/* d_lock held: a positive name leaves the dcache, its parent forgets it */
static void zuf_d_prune(struct dentry *dentry)
{
	if (!IS_ROOT(dentry) && d_really_is_positive(dentry))
		zuf_dir_uncomplete(d_inode(dentry->d_parent));
}

const struct dentry_operations zuf_dentry_ops = {
	.d_prune	= zuf_d_prune,
};

/*
 * Names with a TTL (zufs_ioc_mount.entry_ttl_ms: a store others change
 * behind the server's back).  d_time is when the server last vouched for
 * the name, found or not; past the TTL it is looked up again, and a
 * dentry whose answer changed is dropped for a fresh lookup.
 */
int zuf_d_fresh(struct dentry *dentry)
{
	dentry->d_time = jiffies;
	return 1;
}

static int zuf_d_init(struct dentry *dentry)
{
	zuf_d_fresh(dentry);
	return 0;
}

/* LOOKUP dir/name: 0 with @op->attr filled in, -ENOENT, or an error */
static int zuf_send_lookup(struct inode *dir, const struct qstr *name,
			   struct zufs_op_lookup *op)
{
	op->hdr.op = ZUFS_OP_LOOKUP;
	op->dir_ino = dir->i_ino;
	zuf_fill_name(&op->name, name);
	return zufc_dispatch_op(ZSBI(dir), &op->hdr, sizeof(*op));
}

static int zuf_d_recheck(struct inode *dir, struct dentry *dentry,
			 const struct qstr *name)
{
	struct inode *inode = d_inode(dentry), *found;
	struct zufs_op_lookup op = {};
	u64 version = zuf_attr_version(dir);
	int err;

	err = zuf_send_lookup(dir, name, &op);
	if (err == -ENOENT)
		return inode ? 0 : zuf_d_fresh(dentry);
	if (err)
		return err;
	if (!inode || op.attr.ino != inode->i_ino)
		return 0;
	/* the same inode: its attributes are news too */
	found = zuf_iget_checked(dir->i_sb, &op.attr, version);
	if (IS_ERR(found))
		return PTR_ERR(found);
	iput(found);
	return found == inode ? zuf_d_fresh(dentry) : 0;
}

static int zuf_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct zuf_sb_info *sbi = ZSB(dentry->d_sb);
	struct name_snapshot name;
	struct dentry *parent;
	int ret;

	if (time_before(jiffies, dentry->d_time + sbi->entry_ttl))
		return 1;
	if (flags & LOOKUP_RCU)
		return -ECHILD;
	parent = dget_parent(dentry);
	take_dentry_name_snapshot(&name, dentry);
	ret = zuf_d_recheck(d_inode(parent), dentry, &name.name);
	release_dentry_name_snapshot(&name);
	dput(parent);
	return ret;
}

const struct dentry_operations zuf_dentry_ttl_ops = {
	.d_init		= zuf_d_init,
	.d_revalidate	= zuf_d_revalidate,
	.d_prune	= zuf_d_prune,
};

/* Check an answer, then find or make its inode */
struct inode *zuf_iget_checked(struct super_block *sb,
				      const struct zufs_attr *attr,
				      u64 version)
{
	int err = zuf_attr_check(ZSB(sb), attr, 0);

	if (err)
		return ERR_PTR(err);
	return zuf_iget(sb, attr, version);
}

static struct dentry *zuf_lookup(struct inode *dir, struct dentry *dentry,
				 unsigned int flags)
{
	struct zufs_op_lookup op = {};
	struct inode *inode = NULL;
	u64 version;
	int err;

	err = zuf_name_ok(&dentry->d_name);
	if (err)
		return ERR_PTR(err);
	if (zuf_dir_complete(dir))
		return d_splice_alias(NULL, dentry);
	set_bit(ZUF_I_DIR_LOOKED_UP, &ZUI(dir)->state);
	version = zuf_attr_version(dir);
	err = zuf_send_lookup(dir, &dentry->d_name, &op);
	if (err && err != -ENOENT)
		return ERR_PTR(err);
	if (!err) {
		inode = zuf_iget_checked(dir->i_sb, &op.attr, version);
		if (IS_ERR(inode))
			return ERR_CAST(inode);
	}
	zuf_d_fresh(dentry);
	return d_splice_alias(inode, dentry);
}

/* Refresh a directory from an answer about it */
static int zuf_dir_refresh(struct inode *dir, const struct zufs_attr *attr)
{
	int err = zuf_check_inode_attr(dir, attr);

	if (!err)
		zuf_update_inode(dir, attr);
	return err;
}

/*
 * Refresh an inode and its directory from one answer: both are checked
 * before either changes, so a bad answer leaves both as they were.
 */
static int zuf_refresh_pair(struct inode *inode, const struct zufs_attr *attr,
			    struct inode *dir, const struct zufs_attr *dir_attr)
{
	int err = zuf_check_inode_attr(inode, attr);

	if (!err)
		err = zuf_check_inode_attr(dir, dir_attr);
	if (err)
		return err;
	zuf_update_inode(dir, dir_attr);
	zuf_update_inode(inode, attr);
	return 0;
}

/*
 * The owner of a new inode, as inode_init_owner() would choose it.  The
 * VFS already stripped SGID where the caller may not set it.
 */
static void zuf_new_owner(struct inode *dir, umode_t *mode,
			  struct zufs_op_new_inode *op)
{
	kgid_t gid = current_fsgid();

	if (dir->i_mode & S_ISGID) {
		gid = dir->i_gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	}
	op->uid = from_kuid(i_user_ns(dir), current_fsuid());
	op->gid = from_kgid(i_user_ns(dir), gid);
}

/* Flags a new inode inherits from its directory */
static u32 zuf_inherit_flags(struct inode *dir, umode_t mode)
{
	u32 fl = ZUI(dir)->zflags & (FS_SYNC_FL | FS_NOATIME_FL | FS_NODUMP_FL);

	if (S_ISDIR(mode))
		fl |= ZUI(dir)->zflags & FS_DIRSYNC_FL;
	return fl;
}

/*
 * A new inode's number must not be one we already hold: that would make
 * the server's answer alias an existing file.
 */
static struct inode *zuf_iget_new(struct inode *dir,
				  const struct zufs_attr *attr, umode_t mode)
{
	struct zuf_sb_info *sbi = ZSBI(dir);
	struct inode *inode;
	int err;

	err = zuf_attr_check(sbi, attr, 0);
	if (err)
		return ERR_PTR(err);
	if ((attr->mode & S_IFMT) != (mode & S_IFMT)) {
		zuf_bad_answer(sbi, "new inode %llu has type 0%o, asked 0%o",
			       attr->ino, attr->mode & S_IFMT, mode & S_IFMT);
		return ERR_PTR(-EIO);
	}
	inode = ilookup(dir->i_sb, attr->ino);
	if (inode) {
		zuf_bad_answer(sbi, "new inode %llu is already live",
			       attr->ino);
		iput(inode);
		return ERR_PTR(-EIO);
	}
	/* nothing can have changed an inode nobody knew of */
	return zuf_iget(dir->i_sb, attr, U64_MAX);
}

struct zuf_new_args {
	umode_t		mode;
	dev_t		rdev;
	const char	*symname;
	struct file	*tmpfile;	/* O_TMPFILE: no name */
	struct file	*open;		/* atomic_open of a name not looked up */
	bool		existed;	/* ...that found it: @open not created */
};

/*
 * The times of a file an atomic_open creates: unique within the mount, so
 * that a resent op can tell its own file from one that was there before
 * (ZUFS_NEW_OPEN in zufs_api.h).
 */
static void zuf_birth_stamp(struct zuf_sb_info *sbi,
			    struct zufs_op_new_inode *op)
{
	s64 old = atomic64_read(&sbi->last_birth_ns);
	s64 ns;

	do {
		ns = max_t(s64, ktime_get_real_ns(), old + 1);
	} while (!atomic64_try_cmpxchg(&sbi->last_birth_ns, &old, ns));
	op->birth_sec = div_u64_rem(ns, NSEC_PER_SEC, &op->birth_nsec);
}

static int zuf_store_new_acls(struct inode *inode, struct posix_acl *dacl,
			      struct posix_acl *acl)
{
	int err = 0;

	if (dacl)
		err = zuf_acl_store(inode, ACL_TYPE_DEFAULT, dacl);
	if (!err && acl)
		err = zuf_acl_store(inode, ACL_TYPE_ACCESS, acl);
	return err;
}

static int zuf_send_new_inode(struct inode *dir, struct dentry *dentry,
			      struct zuf_new_args *a,
			      struct zufs_op_new_inode *op)
{
	struct zuf_dispatch zd = { .op = &op->hdr, .op_size = sizeof(*op) };

	op->hdr.op = ZUFS_OP_NEW_INODE;
	op->hdr.flags = a->tmpfile ? ZUFS_NEW_TMPFILE : 0;
	if (a->open) {
		op->hdr.flags |= ZUFS_NEW_OPEN;
		zuf_birth_stamp(ZSBI(dir), op);
	}
	op->dir_ino = dir->i_ino;
	zuf_new_owner(dir, &a->mode, op);
	op->mode = a->mode;
	op->rdev = new_encode_dev(a->rdev);
	op->iflags = zuf_inherit_flags(dir, a->mode);
	if (!a->tmpfile)
		zuf_fill_name(&op->name, &dentry->d_name);
	if (a->symname) {
		zd.in_buf = a->symname;
		zd.in_len = strlen(a->symname);
	}
	return zufc_dispatch(ZSBI(dir), &zd);
}

/*
 * ZUFS_NEW_OPEN found the name: the inode there goes into the dcache as a
 * lookup would have put it, and the VFS opens it (or fails O_EXCL).
 */
static int zuf_open_existing(struct inode *dir, struct dentry *dentry,
			     struct zufs_op_new_inode *op, u64 version,
			     struct file *file)
{
	struct inode *inode;
	struct dentry *res;
	int err;

	if (!file || op->result != ZUFS_NEW_EXISTED) {
		zuf_bad_answer(ZSBI(dir), "new inode in dir %lu: result 0x%x",
			       dir->i_ino, op->result);
		return -EIO;
	}
	err = zuf_dir_refresh(dir, &op->dir_attr);
	if (err)
		return err;
	inode = zuf_iget_checked(dir->i_sb, &op->attr, version);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	zuf_d_fresh(dentry);
	res = d_splice_alias(inode, dentry);
	if (IS_ERR(res))
		return PTR_ERR(res);
	return finish_no_open(file, res);
}

static int zuf_new_inode(struct inode *dir, struct dentry *dentry,
			 struct zuf_new_args *a)
{
	struct posix_acl *dacl = NULL, *acl = NULL;
	struct zufs_op_new_inode *op;
	struct inode *inode;
	u64 version;
	int err;

	if (!a->tmpfile) {
		err = zuf_name_ok(&dentry->d_name);
		if (err)
			return err;
	}
	op = kzalloc(sizeof(*op), GFP_KERNEL);
	if (!op)
		return -ENOMEM;
	err = posix_acl_create(dir, &a->mode, &dacl, &acl);
	if (err)
		goto out_free_op;
	version = zuf_attr_version(dir);
	err = zuf_send_new_inode(dir, dentry, a, op);
	if (err)
		goto out_uncomplete;
	if (op->result) {
		a->existed = true;
		err = zuf_open_existing(dir, dentry, op, version, a->open);
		goto out_release_acls;
	}
	inode = zuf_iget_new(dir, &op->attr, a->mode);
	if (IS_ERR(inode)) {
		err = PTR_ERR(inode);
		goto out_uncomplete;
	}
	err = zuf_dir_refresh(dir, &op->dir_attr);
	if (err)
		goto out_put_inode;
	err = zuf_store_new_acls(inode, dacl, acl);
	if (err)
		goto out_put_inode;
	/* empty, and reachable only through the dentry we give it now */
	if (S_ISDIR(a->mode))
		zuf_dir_set_complete(inode);
	zuf_d_fresh(dentry);
	if (a->tmpfile) {
		/* d_tmpfile() drops the one link the VFS expects to find */
		set_nlink(inode, 1);
		d_tmpfile(a->tmpfile, inode);
	} else if (d_in_lookup(dentry)) {
		/* atomic_open: hash it, as the lookup we saved would have */
		d_add(dentry, inode);
	} else {
		d_instantiate(dentry, inode);
	}
	goto out_release_acls;

out_put_inode:
	iput(inode);
out_uncomplete:
	if (!a->tmpfile)
		zuf_dir_uncomplete(dir);
out_release_acls:
	posix_acl_release(dacl);
	posix_acl_release(acl);
out_free_op:
	kfree(op);
	return err;
}

static int zuf_create(struct mnt_idmap *idmap, struct inode *dir,
		      struct dentry *dentry, umode_t mode, bool excl)
{
	struct zuf_new_args a = { .mode = mode };

	return zuf_new_inode(dir, dentry, &a);
}

/*
 * open(2) of a name not in the dcache.  With O_CREAT in a directory whose
 * names we do not all know, one NEW_INODE both looks the name up and
 * creates it if it is free (ZUFS_NEW_OPEN), where a lookup then a create
 * would cost two trips.  Everything else goes the usual way: a lookup,
 * and a create if the name is known to be free.
 */
static int zuf_atomic_open(struct inode *dir, struct dentry *dentry,
			   struct file *file, unsigned int open_flags,
			   umode_t mode)
{
	struct zuf_new_args a = { .mode = mode };
	struct dentry *res = NULL;
	int err;

	if ((open_flags & O_CREAT) && d_in_lookup(dentry) &&
	    !zuf_dir_complete(dir)) {
		set_bit(ZUF_I_DIR_LOOKED_UP, &ZUI(dir)->state);
		a.open = file;
	} else if (d_in_lookup(dentry)) {
		res = zuf_lookup(dir, dentry, 0);
		if (IS_ERR(res))
			return PTR_ERR(res);
		if (res)
			dentry = res;
	}
	if (!(open_flags & O_CREAT) || d_really_is_positive(dentry))
		return finish_no_open(file, res);

	err = zuf_new_inode(dir, dentry, &a);
	if (err || a.existed)
		goto out_dput;
	file->f_mode |= FMODE_CREATED;
	err = finish_open(file, dentry, NULL);
out_dput:
	dput(res);
	return err;
}

static int zuf_mkdir(struct mnt_idmap *idmap, struct inode *dir,
		     struct dentry *dentry, umode_t mode)
{
	struct zuf_new_args a = { .mode = mode | S_IFDIR };

	return zuf_new_inode(dir, dentry, &a);
}

static int zuf_mknod(struct mnt_idmap *idmap, struct inode *dir,
		     struct dentry *dentry, umode_t mode, dev_t rdev)
{
	struct zuf_new_args a = { .mode = mode, .rdev = rdev };

	/* rdev travels as new_encode_dev(): 12-bit major, 20-bit minor */
	if (MAJOR(rdev) >= (1U << 12) || MINOR(rdev) >= (1U << 20))
		return -EINVAL;
	return zuf_new_inode(dir, dentry, &a);
}

static int zuf_symlink(struct mnt_idmap *idmap, struct inode *dir,
		       struct dentry *dentry, const char *symname)
{
	struct zuf_new_args a = { .mode = S_IFLNK | 0777, .symname = symname };
	size_t len = strlen(symname);

	if (len > ZUFS_SYMLINK_MAX)
		return -ENAMETOOLONG;
	return zuf_new_inode(dir, dentry, &a);
}

static int zuf_tmpfile(struct mnt_idmap *idmap, struct inode *dir,
		       struct file *file, umode_t mode)
{
	struct zuf_new_args a = { .mode = mode, .tmpfile = file };
	int err = zuf_new_inode(dir, file->f_path.dentry, &a);

	return finish_open_simple(file, err);
}

static int zuf_link(struct dentry *old_dentry, struct inode *dir,
		    struct dentry *dentry)
{
	struct inode *inode = d_inode(old_dentry);
	struct zufs_op_link op = {};
	int err;

	err = zuf_name_ok(&dentry->d_name);
	if (err)
		return err;
	op.hdr.op = ZUFS_OP_LINK;
	op.ino = inode->i_ino;
	op.dir_ino = dir->i_ino;
	zuf_fill_name(&op.name, &dentry->d_name);
	err = zufc_dispatch_op(ZSBI(dir), &op.hdr, sizeof(op));
	if (!err)
		err = zuf_refresh_pair(inode, &op.attr, dir, &op.dir_attr);
	if (err) {
		zuf_dir_uncomplete(dir);
		return err;
	}
	ihold(inode);
	zuf_d_fresh(dentry);
	d_instantiate(dentry, inode);
	return 0;
}

static int zuf_remove(struct inode *dir, struct dentry *dentry, bool is_dir)
{
	struct inode *inode = d_inode(dentry);
	struct zufs_op_unlink op = {};
	int err;

	op.hdr.op = ZUFS_OP_UNLINK;
	op.hdr.flags = is_dir ? ZUFS_UNLINK_DIR : 0;
	op.dir_ino = dir->i_ino;
	op.ino = inode->i_ino;
	zuf_fill_name(&op.name, &dentry->d_name);
	err = zufc_dispatch_op(ZSBI(dir), &op.hdr, sizeof(op));
	if (err)
		return err;
	err = zuf_refresh_pair(inode, &op.attr, dir, &op.dir_attr);
	if (err)
		return err;
	/* a removed directory is dead whatever count the server keeps */
	if (is_dir)
		clear_nlink(inode);
	return 0;
}

static int zuf_unlink(struct inode *dir, struct dentry *dentry)
{
	return zuf_remove(dir, dentry, false);
}

static int zuf_rmdir(struct inode *dir, struct dentry *dentry)
{
	return zuf_remove(dir, dentry, true);
}

static void zuf_fill_rename(struct zufs_op_rename *op, struct inode *old_dir,
			    struct dentry *old_dentry, struct inode *new_dir,
			    struct dentry *new_dentry, unsigned int flags)
{
	struct inode *target = d_inode(new_dentry);

	op->hdr.op = ZUFS_OP_RENAME;
	op->hdr.flags = flags;
	op->old_dir_ino = old_dir->i_ino;
	op->new_dir_ino = new_dir->i_ino;
	op->ino = d_inode(old_dentry)->i_ino;
	op->target_ino = target ? target->i_ino : 0;
	zuf_fill_name(&op->old_name, &old_dentry->d_name);
	zuf_fill_name(&op->new_name, &new_dentry->d_name);
}

/* Check every answer first, so that a bad one changes nothing */
static int zuf_check_rename(struct zufs_op_rename *op, struct inode *old_dir,
			    struct inode *inode, struct inode *new_dir,
			    struct inode *target)
{
	int err;

	err = zuf_check_inode_attr(inode, &op->attr);
	if (!err && target)
		err = zuf_check_inode_attr(target, &op->target_attr);
	if (!err)
		err = zuf_check_inode_attr(old_dir, &op->old_dir_attr);
	if (!err)
		err = zuf_check_inode_attr(new_dir, &op->new_dir_attr);
	return err;
}

static int zuf_rename(struct mnt_idmap *idmap,
		      struct inode *old_dir, struct dentry *old_dentry,
		      struct inode *new_dir, struct dentry *new_dentry,
		      unsigned int flags)
{
	struct inode *inode = d_inode(old_dentry);
	struct inode *target = d_inode(new_dentry);
	struct zufs_op_rename *op;
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	err = zuf_name_ok(&new_dentry->d_name);
	if (err)
		return err;
	op = kzalloc(sizeof(*op), GFP_KERNEL);
	if (!op)
		return -ENOMEM;
	zuf_fill_rename(op, old_dir, old_dentry, new_dir, new_dentry, flags);
	err = zufc_dispatch_op(ZSBI(old_dir), &op->hdr, sizeof(*op));
	if (!err)
		err = zuf_check_rename(op, old_dir, inode, new_dir, target);
	/* a whiteout takes the old name without a dentry of ours */
	if (err || (flags & RENAME_WHITEOUT))
		zuf_dir_uncomplete(old_dir);
	if (err) {
		zuf_dir_uncomplete(new_dir);
		goto out_free_op;
	}
	zuf_update_inode(inode, &op->attr);
	if (target) {
		zuf_update_inode(target, &op->target_attr);
		/* an overwritten directory is dead */
		if (S_ISDIR(target->i_mode) && !(flags & RENAME_EXCHANGE))
			clear_nlink(target);
	}
	zuf_update_inode(old_dir, &op->old_dir_attr);
	if (new_dir != old_dir)
		zuf_update_inode(new_dir, &op->new_dir_attr);

out_free_op:
	kfree(op);
	return err;
}

const struct inode_operations zuf_dir_inode_operations = {
	.lookup		= zuf_lookup,
	.atomic_open	= zuf_atomic_open,
	.create		= zuf_create,
	.link		= zuf_link,
	.unlink		= zuf_unlink,
	.symlink	= zuf_symlink,
	.mkdir		= zuf_mkdir,
	.rmdir		= zuf_rmdir,
	.mknod		= zuf_mknod,
	.rename		= zuf_rename,
	.tmpfile	= zuf_tmpfile,
	.getattr	= zuf_getattr,
	.setattr	= zuf_setattr,
	.listxattr	= zuf_listxattr,
	ZUF_ACL_IOPS,
	.update_time	= ZUF_UPDATE_TIME,
	.fileattr_get	= zuf_fileattr_get,
	.fileattr_set	= zuf_fileattr_set,
};

/* ------------------------------------------------------------------ */
/* symlinks and special files                                          */
/* ------------------------------------------------------------------ */

static const char *zuf_get_link(struct dentry *dentry, struct inode *inode,
				struct delayed_call *done)
{
	struct zufs_op_readlink op = {};
	struct zuf_dispatch zd = { .op = &op.hdr, .op_size = sizeof(op) };
	char *buf;
	int err;

	/* the target is not cached: RCU walk must not sleep on the server */
	if (!dentry)
		return ERR_PTR(-ECHILD);
	buf = kmalloc(ZUFS_SYMLINK_MAX + 1, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	op.hdr.op = ZUFS_OP_READLINK;
	op.ino = inode->i_ino;
	zd.out_buf = buf;
	zd.out_max = ZUFS_SYMLINK_MAX;
	err = zufc_dispatch(ZSBI(inode), &zd);
	if (err)
		goto out_free_buf;
	err = -EIO;
	if (!zd.out_len || zd.out_len > ZUFS_SYMLINK_MAX ||
	    memchr(buf, 0, zd.out_len)) {
		zuf_bad_answer(ZSBI(inode), "readlink ino %lu: bad target (%u bytes)",
			       inode->i_ino, zd.out_len);
		goto out_free_buf;
	}
	buf[zd.out_len] = 0;
	set_delayed_call(done, kfree_link, buf);
	return buf;

out_free_buf:
	kfree(buf);
	return ERR_PTR(err);
}

const struct inode_operations zuf_symlink_inode_operations = {
	.get_link	= zuf_get_link,
	.getattr	= zuf_getattr,
	.setattr	= zuf_setattr,
	.listxattr	= zuf_listxattr,
	.update_time	= ZUF_UPDATE_TIME,
};

const struct inode_operations zuf_special_inode_operations = {
	.getattr	= zuf_getattr,
	.setattr	= zuf_setattr,
	.listxattr	= zuf_listxattr,
	ZUF_ACL_IOPS,
	.update_time	= ZUF_UPDATE_TIME,
};
