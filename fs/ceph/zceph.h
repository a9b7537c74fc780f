/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zceph.h - internals of the zceph plugin: a CephFS client over libcephfs.
 *
 * zufs inode numbers are CephFS's own (the root is 1), so any client of
 * the same CephFS, and a remount, name an inode alike.  Each inode the
 * transport knows is a node holding one libcephfs reference on its Inode
 * (taken by the lookup or create that found it, dropped at evict) and,
 * once data is read or written, one Fh opened O_RDWR with the mount's own
 * credentials: zufs has no open/release, and the kernel has already
 * checked the caller's permissions (client_permissions is off).
 */
#ifndef _ZCEPH_H
#define _ZCEPH_H

#include <pthread.h>
#include <stdint.h>

#include <cephfs/libcephfs.h>

#define ZUS_PLUGIN_NAME	"zceph"
#include "zus.h"

#define ZC_BUCKETS	4096	/* node table hash chains, power of two */

/*
 * struct zc_node - one CephFS inode the transport knows.
 * @refs: one for the table while hashed, one per operation in flight;
 * the Inode reference and the Fh are released when it drops to 0.
 */
struct zc_node {
	uint64_t	ino;
	struct Inode	*in;
	unsigned int	refs;		/* sb->lock */
	bool		hashed;		/* sb->lock */
	struct zc_node	*next;		/* sb->lock: hash chain */
	pthread_mutex_t	fh_lock;
	struct Fh	*fh;		/* fh_lock: NULL until data is used */
};

struct zus_sb {
	struct ceph_mount_info *cm;
	UserPerm	*perms;		/* the mount's own (root) */
	char		conf[256];
	char		name[64];
	char		fs[64];
	char		root_path[256];
	char		uuid[64];	/* the client's, see zc_uuid() */
	unsigned long	ttl_ms;		/* -o ttl=: names/attrs in the kernel */
	uint64_t	root_ino;
	void		*host;		/* the transport's, for invalidate */
	int		(*invalidate)(void *host, uint64_t ino,
				      uint64_t offset, uint64_t length);
	int		(*invalidate_name)(void *host, uint64_t dir,
					   const char *name, size_t len);
	/* one lock for the table, never held across a libcephfs call */
	pthread_mutex_t	lock;
	struct zc_node	*buckets[ZC_BUCKETS];	/* lock */
	/* libcephfs's invalidate callbacks against umount */
	pthread_rwlock_t cb_lock;
	bool		closing;	/* cb_lock */
	/* serializes renames, so NOREPLACE's check and the rename are one */
	pthread_mutex_t	rename_lock;
};

/* node.c */
int zc_node_get(struct zus_sb *sb, uint64_t ino, struct zc_node **np);
void zc_node_put(struct zus_sb *sb, struct zc_node *n);
struct zc_node *zc_node_install(struct zus_sb *sb, struct Inode *in,
				uint64_t ino);
void zc_node_evict(struct zus_sb *sb, uint64_t ino);
void zc_node_table_destroy(struct zus_sb *sb);
int zc_node_fh(struct zus_sb *sb, struct zc_node *n, struct Fh **fhp);

/* attr.c */
#define ZC_STATX_WANT	(CEPH_STATX_BASIC_STATS | CEPH_STATX_BTIME | \
			 CEPH_STATX_VERSION)
dev_t zc_decode_dev(uint32_t dev);	/* from zufs_attr.rdev */
void zc_fill_attr(const struct ceph_statx *stx, struct zufs_attr *attr);
int zc_getattr_in(struct zus_sb *sb, struct Inode *in,
		  struct zufs_attr *attr);
void zc_getattr_cached(struct zus_sb *sb, struct Inode *in,
		       struct zufs_attr *attr);
int zc_getattr_after(struct zus_sb *sb, struct Inode *in,
		     const struct zufs_attr *before, struct zufs_attr *attr);
int zc_attr_ino(struct zus_sb *sb, uint64_t ino, struct zufs_attr *attr);
int zc_name(char *buf, const char *name, size_t len);
int zc_getattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       struct zufs_attr *attr);
int zc_setattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       uint32_t mask, const struct zufs_attr *set,
	       struct zufs_attr *attr);

/* namei.c */
int zc_lookup(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, struct zufs_attr *attr);
int zc_create(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, uint32_t mode, uint32_t rdev,
	      uint32_t uid, uint32_t gid, uint32_t iflags,
	      const char *symlink, size_t symlen, bool tmpfile,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr);
int zc_link(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t dir, const char *name, size_t len,
	    struct zufs_attr *attr, struct zufs_attr *dir_attr);
int zc_unlink(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, bool is_dir,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr);
int zc_rename(struct zus_sb *sb, const struct zus_ctx *ctx,
	      uint64_t old_dir, const char *old_name, size_t old_len,
	      uint64_t new_dir, const char *new_name, size_t new_len,
	      uint32_t flags, struct zus_rename_out *out);
ssize_t zc_readlink(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, char *buf, size_t size);
int zc_evict(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino);

/* dir.c */
int zc_readdir(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	       uint64_t pos, zus_filldir_t fill, void *buf, bool *eof);

/* file.c */
ssize_t zc_read(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		void *buf, size_t len, uint64_t offset);
ssize_t zc_write(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 const void *buf, size_t len, uint64_t offset,
		 struct zufs_attr *attr);
int zc_fsync(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	     uint64_t offset, uint64_t length, bool datasync);
int zc_fallocate(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 uint32_t mode, uint64_t offset, uint64_t length,
		 struct zufs_attr *attr);
int zc_seek(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t offset, int whence, uint64_t *result);

/* xattr.c */
ssize_t zc_getxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, const char *name, void *value, size_t size);
int zc_setxattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		const char *name, const void *value, size_t size, int flags,
		struct zufs_attr *attr);
ssize_t zc_listxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, char *list, size_t size);

#endif /* _ZCEPH_H */
