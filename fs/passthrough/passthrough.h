/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * passthrough.h - internals of the zpassthrough plugin.
 *
 * zpassthrough mirrors a host directory (-o backing=DIR).  Each inode the
 * transport knows is a node holding an O_PATH fd on the backing inode, so
 * every operation is an *at() call relative to that fd: renames of
 * directories above a node do not invalidate it, unlike a path table.
 *
 * Inode numbers are the backing st_ino for inodes on the backing
 * directory's device (stable across evict and remount, and what find/du
 * expect); inodes on other devices mounted below it get numbers with the
 * top bit set, allocated on first sight and kept in a (dev, ino) table.
 */
#ifndef _ZPT_PASSTHROUGH_H
#define _ZPT_PASSTHROUGH_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#include "zus.h"

#define PT_BUCKETS	4096	/* node table hash chains, power of two */
#define PT_FOREIGN_BIT	(1ULL << 63)
/*
 * Nodes evicted with nlink > 0 stay open on a short FIFO.  An operation
 * racing with evict (a lookup answered just before the transport dropped
 * the inode) then still finds its inode instead of failing with ESTALE.
 */
#define PT_EVICTED_MAX	256

/*
 * struct pt_node - one backing inode the transport knows.
 * @refs: one for the table, one per operation in flight; fds are closed
 * when it drops to 0.  @rfd/@wfd: data fds opened on first use.
 * @dfd/@dpos: a directory stream kept open between readdir calls, so a
 * listing that continues where the last one stopped keeps the backing
 * fs's cursor (tmpfs positions are ordinals that shift on unlink).
 * One lock (sb->lock) guards the table fields; fd_lock the lazy fds.
 */
struct pt_node {
	uint64_t	ino;
	dev_t		bdev;
	ino_t		bino;
	mode_t		type;		/* S_IFMT bits, never change */
	int		fd;		/* O_PATH (or the O_TMPFILE fd) */
	unsigned int	refs;		/* sb->lock */
	bool		hashed;		/* sb->lock: in the table */
	bool		evicted;	/* sb->lock: on the evicted FIFO */
	struct pt_node	*next;		/* sb->lock: hash chain */
	struct pt_node	*fifo_prev;	/* sb->lock: evicted FIFO */
	struct pt_node	*fifo_next;
	pthread_mutex_t	fd_lock;
	int		rfd;		/* fd_lock: O_RDONLY, -1 until needed */
	int		wfd;		/* fd_lock: O_RDWR, -1 until needed */
	int		dfd;		/* fd_lock: readdir stream, or -1 */
	uint64_t	dpos;		/* fd_lock: position dfd stands at */
	struct pt_cookies *cookies;	/* fd_lock: see dir.c */
};

struct pt_foreign {
	dev_t		dev;
	ino_t		ino;
	uint64_t	num;
	struct pt_foreign *next;
};

struct zus_sb {
	char		backing[ZUFS_OPTIONS_MAX - 16];
	int		root_fd;	/* O_PATH of the backing dir */
	int		sync_fd;	/* O_RDONLY of it, for syncfs */
	dev_t		root_dev;
	uint64_t	root_ino;
	struct pt_node	*root;
	/*
	 * One lock for the table: each operation takes it twice, briefly,
	 * and never across a system call.
	 */
	pthread_mutex_t	lock;
	struct pt_node	*buckets[PT_BUCKETS];	/* lock */
	struct pt_node	*fifo_head, *fifo_tail;	/* lock */
	unsigned int	fifo_len;		/* lock */
	struct pt_foreign *foreign;		/* lock */
	uint64_t	next_foreign;		/* lock */
	bool		reattached;	/* mounted over a dead server's mount */
};

/* node.c */
int pt_node_table_init(struct zus_sb *sb);
void pt_node_table_destroy(struct zus_sb *sb);
uint64_t pt_ino_of(struct zus_sb *sb, dev_t dev, ino_t ino);
struct pt_node *pt_node_get(struct zus_sb *sb, uint64_t ino);
void pt_node_put(struct zus_sb *sb, struct pt_node *n);
int pt_node_install(struct zus_sb *sb, int fd, dev_t dev, ino_t ino,
		    mode_t mode, struct pt_node **np);
void pt_node_evict(struct zus_sb *sb, uint64_t ino);
/* revive.c: find an inode of a dead server's mount again (-ESTALE: no) */
int pt_node_revive(struct zus_sb *sb, uint64_t ino, struct pt_node **np);
int pt_node_rfd(struct pt_node *n);
int pt_node_wfd(struct pt_node *n);
void pt_proc_path(char *buf, size_t len, int fd);

/* dir.c */
void pt_cookies_free(struct pt_cookies *c);

/* attr.c */
int pt_stat_fd(struct zus_sb *sb, int fd, struct zufs_attr *attr);
int pt_stat_ino(struct zus_sb *sb, uint64_t ino, struct zufs_attr *attr);
int pt_name(char *buf, const char *name, size_t len);

/* ops tables, in their files */
int pt_lookup(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, struct zufs_attr *attr);
int pt_getattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       struct zufs_attr *attr);
int pt_setattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	       uint32_t mask, const struct zufs_attr *set,
	       struct zufs_attr *attr);
int pt_create(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, uint32_t mode, uint32_t rdev,
	      uint32_t uid, uint32_t gid, uint32_t iflags,
	      const char *symlink, size_t symlen, bool tmpfile,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr);
int pt_link(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t dir, const char *name, size_t len,
	    struct zufs_attr *attr, struct zufs_attr *dir_attr);
int pt_unlink(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	      const char *name, size_t len, bool is_dir,
	      struct zufs_attr *attr, struct zufs_attr *dir_attr);
int pt_rename(struct zus_sb *sb, const struct zus_ctx *ctx,
	      uint64_t old_dir, const char *old_name, size_t old_len,
	      uint64_t new_dir, const char *new_name, size_t new_len,
	      uint32_t flags, struct zus_rename_out *out);
int pt_readdir(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t dir,
	       uint64_t pos, zus_filldir_t fill, void *buf, bool *eof);
ssize_t pt_readlink(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, char *buf, size_t size);
int pt_evict(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino);

ssize_t pt_read(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		void *buf, size_t len, uint64_t offset);
ssize_t pt_write(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 const void *buf, size_t len, uint64_t offset,
		 struct zufs_attr *attr);
int pt_fsync(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	     uint64_t offset, uint64_t length, bool datasync);
/* caps.c: ZUFS_CAP_* the backing directory's filesystem implements */
uint64_t pt_probe_caps(int dirfd);

int pt_fallocate(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		 uint32_t mode, uint64_t offset, uint64_t length,
		 struct zufs_attr *attr);
int pt_seek(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
	    uint64_t offset, int whence, uint64_t *result);
int pt_clone(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t src_ino,
	     uint64_t src_off, uint64_t dst_ino, uint64_t dst_off,
	     uint64_t length, uint32_t flags, uint64_t *done,
	     struct zufs_attr *attr);
ssize_t pt_getxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		    uint64_t ino, const char *name, void *value, size_t size);
int pt_setxattr(struct zus_sb *sb, const struct zus_ctx *ctx, uint64_t ino,
		const char *name, const void *value, size_t size, int flags,
		struct zufs_attr *attr);
ssize_t pt_listxattr(struct zus_sb *sb, const struct zus_ctx *ctx,
		     uint64_t ino, char *list, size_t size);

#endif /* _ZPT_PASSTHROUGH_H */
