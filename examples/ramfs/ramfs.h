/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ramfs.h - zramfs, the example zusFS plugin: a filesystem in the
 * server's memory (gone at umount), small enough to read in one sitting.
 * See docs/writing-a-plugin.md for the walk through it.
 *
 * One mutex per mount serializes every operation: the transports call a
 * plugin from many threads at once, and this is the simplest locking that
 * is correct.  A real filesystem locks finer.
 */
#ifndef ZRAMFS_H
#define ZRAMFS_H

#include <pthread.h>
#include <zus.h>		/* found through `pkg-config --cflags zufs` */

struct rf_dirent {
	char		*name;
	size_t		len;
	uint64_t	ino;
	uint64_t	pos;	/* readdir cookie: stable while the entry lives */
};

struct rf_xattr {
	struct rf_xattr	*next;
	char		*name;
	void		*value;
	size_t		size;
};

/* one RF_BLOCK of a regular file; a page not in the array is a hole */
struct rf_page {
	uint64_t	index;	/* offset / RF_BLOCK */
	char		*data;
};

struct rf_inode {
	struct zufs_attr attr;	/* what getattr answers, kept current */
	uint64_t	parent;	/* directories: for rename's link counts */
	union {
		struct {			/* S_IFREG: sparse, by page */
			struct rf_page *pages;	/* sorted by index */
			size_t	npages, pages_cap;
		};
		char	*target;		/* S_IFLNK, attr.size bytes */
		struct {			/* S_IFDIR */
			struct rf_dirent *ents;	/* in pos order */
			size_t	nents, ents_cap;
			uint64_t next_pos;
		};
	};
	struct rf_xattr	*xattrs;
};

struct zus_sb {
	pthread_mutex_t	lock;
	struct rf_inode	**inodes;	/* indexed by ino; NULL: free */
	uint64_t	ninodes;	/* slots in inodes[] */
	uint64_t	next_ino;
	uint64_t	max_bytes;	/* size= option: data + names + xattrs */
	uint64_t	used_bytes;
};

#define RF_ROOT_INO	1
#define RF_MAX_INO	(1ULL << 32)
#define RF_BLOCK	4096
#define RF_MAX_FILE	(1ULL << 44)	/* 16 TiB, sparse */

/* node.c: the inode table and accounting */
struct rf_inode *rf_get(struct zus_sb *sb, uint64_t ino);
int rf_get_dir(struct zus_sb *sb, uint64_t ino, struct rf_inode **dp);
size_t rf_first_at(const void *base, size_t n, size_t size, size_t key_off,
		   uint64_t key);
int rf_new(struct zus_sb *sb, const struct zus_ctx *ctx, uint32_t mode,
	   uint32_t rdev, uint32_t uid, uint32_t gid, struct rf_inode **ip);
void rf_free(struct zus_sb *sb, struct rf_inode *ip);
int rf_charge(struct zus_sb *sb, size_t bytes);
void rf_uncharge(struct zus_sb *sb, size_t bytes);
void rf_touch(struct rf_inode *ip, const struct zus_ctx *ctx, bool mtime);

/* data.c: the pages of regular files */
char *rf_page(struct zus_sb *sb, struct rf_inode *ip, uint64_t index,
	      bool alloc, int *err);
int rf_resize(struct zus_sb *sb, struct rf_inode *ip, uint64_t size);
void rf_free_pages(struct zus_sb *sb, struct rf_inode *ip);

/* dir.c: names (-ENAMETOOLONG past ZUFS_NAME_MAX) */
struct rf_dirent *rf_find(struct rf_inode *dir, const char *name, size_t len);
int rf_add(struct zus_sb *sb, struct rf_inode *dir, const char *name,
	   size_t len, uint64_t ino);
void rf_remove(struct zus_sb *sb, struct rf_inode *dir, struct rf_dirent *de);

/* the operations, one file per kind */
int rf_lookup(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, struct zufs_attr *attr);
int rf_create(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, uint32_t mode, uint32_t rdev,
	      uint32_t uid, uint32_t gid, uint32_t iflags,
	      const char *symlink, size_t symlen, bool tmpfile,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr);
int rf_link(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t dir, const char *name, size_t len,
	    struct zufs_attr *attr, struct zufs_attr *dir_attr);
int rf_unlink(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, bool is_dir,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr);
int rf_readdir(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	       uint64_t pos, zus_filldir_t fill, void *buf, bool *eof);
int rf_rename(struct zus_sb *sb, const struct zus_ctx *ctx,
	      uint64_t old_dir, const char *old_name, size_t old_len,
	      uint64_t new_dir, const char *new_name, size_t new_len,
	      uint32_t flags, struct zus_rename_out *out);
int rf_getattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       struct zufs_attr *attr);
int rf_setattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       uint32_t mask, const struct zufs_attr *set,
	       struct zufs_attr *attr);
int rf_evict(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino);
ssize_t rf_readlink(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, char *buf, size_t size);
ssize_t rf_read(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		void *buf, size_t len, uint64_t offset);
ssize_t rf_write(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 const void *buf, size_t len, uint64_t offset,
		 struct zufs_attr *attr);
ssize_t rf_getxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, const char *name, void *value, size_t size);
int rf_setxattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		const char *name, const void *value, size_t size, int flags,
		struct zufs_attr *attr);
ssize_t rf_listxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, char *list, size_t size);

#endif /* ZRAMFS_H */
