/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bridge.h - zus-fuse: a zusFS plugin driven by libfuse3's low-level API.
 *
 * What FUSE needs and the plugin API does not have lives here: lookup
 * counts and FORGET (-> the plugin's evict), the root's fixed node id,
 * readdirplus, attribute timeouts, and for pmem plugins the data path
 * (get_blocks + memcpy against the mapped image).
 */
#ifndef _ZUS_FUSE_BRIDGE_H
#define _ZUS_FUSE_BRIDGE_H

#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "zus.h"

#define ZF_NODE_BUCKETS	4096	/* power of two */
#define ZF_TIMEOUT	3600.0	/* s, for a TTL of 0: we are the only writer */
#define ZF_MAX_WRITE	(1U << 20)
#define ZF_ZERO_SIZE	(1U << 20)

struct zf_node {
	uint64_t	ino;		/* the plugin's inode number */
	uint64_t	nlookup;	/* FUSE lookups not yet forgotten */
	uint64_t	parent;		/* directories: for "..", else 0 */
	struct zf_node	*next;
};

struct zf_bridge {
	const struct zus_fs_type *type;
	const struct zus_fs_ops	*ops;
	struct zus_sb		*sb;
	uint64_t		root_ino;
	uint32_t		block_size;
	uint64_t		caps;		/* ZUFS_CAP_* from the mount */
	double			entry_timeout;	/* s, from the mount's TTLs */
	double			attr_timeout;
	bool			pmem_io;	/* data via get_blocks */
	bool			writeback;
	bool			debug;
	bool			dax;		/* MAP_SYNC: flush+fence persists */
	bool			clflushopt;	/* else clflush */
	/* the session while mounted (atomic: the plugin's threads read it) */
	struct fuse_session	*se;

	/* the image (pmem plugins) */
	int			src_fds[ZUFS_MAX_DEVS];	/* by member */
	unsigned int		nsrc;
	struct zufs_pmem_dev	devs[ZUFS_MAX_DEVS];	/* in the range */
	char			*pmem;
	uint64_t		pmem_size;	/* the t1 range: the tables' size */
	const char		*zeros;		/* ZF_ZERO_SIZE read-only zeros */

	/*
	 * Lookup counts.  A node reaching 0 is evicted under evict_lock
	 * held for writing, while every operation that can hand the kernel
	 * a new reference holds it for reading from the plugin call until
	 * the count is raised: so the plugin never forgets an inode the
	 * kernel has just been given.
	 */
	pthread_rwlock_t	evict_lock;
	pthread_mutex_t		nodes_lock;
	struct zf_node		*nodes[ZF_NODE_BUCKETS];	/* nodes_lock */
};

static inline struct zf_bridge *zf_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* FUSE's root is node id 1: swap it with the plugin's root number */
static inline uint64_t zf_ino(const struct zf_bridge *b, fuse_ino_t nodeid)
{
	if (nodeid == FUSE_ROOT_ID)
		return b->root_ino;
	if (nodeid == b->root_ino)
		return FUSE_ROOT_ID;
	return nodeid;
}

static inline fuse_ino_t zf_nodeid(const struct zf_bridge *b, uint64_t ino)
{
	return zf_ino(b, ino);	/* the swap is its own inverse */
}

/* nodes.c */
void zf_nodes_init(struct zf_bridge *b);
void zf_node_ref(struct zf_bridge *b, uint64_t ino, uint64_t parent);
void zf_node_set_parent(struct zf_bridge *b, uint64_t ino, uint64_t parent);
uint64_t zf_node_parent(struct zf_bridge *b, uint64_t ino);
void zf_node_forget(struct zf_bridge *b, uint64_t ino, uint64_t n);
void zf_nodes_evict_all(struct zf_bridge *b);

/* ops.c */
void zf_ctx(fuse_req_t req, struct zus_ctx *ctx);
void zf_attr_to_stat(const struct zf_bridge *b, const struct zufs_attr *a,
		     struct stat *st);
extern const struct fuse_lowlevel_ops zf_ops;

/* io.c */
void zf_read(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
	     struct fuse_file_info *fi);
void zf_write(fuse_req_t req, fuse_ino_t nodeid, const char *buf,
	      size_t size, off_t off, struct fuse_file_info *fi);
void zf_fsync(fuse_req_t req, fuse_ino_t nodeid, int datasync,
	      struct fuse_file_info *fi);
void zf_fallocate(fuse_req_t req, fuse_ino_t nodeid, int mode, off_t off,
		  off_t len, struct fuse_file_info *fi);
void zf_lseek(fuse_req_t req, fuse_ino_t nodeid, off_t off, int whence,
	      struct fuse_file_info *fi);
void zf_copy_file_range(fuse_req_t req, fuse_ino_t in, off_t off_in,
			struct fuse_file_info *fi_in, fuse_ino_t out,
			off_t off_out, struct fuse_file_info *fi_out,
			size_t len, int flags);
void zf_pmem_persist(const struct zf_bridge *b, const void *p, size_t len);
int zf_pmem_msync(const struct zf_bridge *b);

/* main.c, serve.c */
void zf_daemon_ready(int fd, bool quiet);
int zf_serve(const struct zus_fs_type *type, const char *source,
	     const char *devs, const char *mnt, const char *plugopts, bool rdonly,
	     bool debug, bool writeback, unsigned int threads, int ready_fd);

/*
 * Every error reply goes through here.  The FUSE kernel refuses a reply
 * with an errno outside 1..511 and leaves the application waiting for
 * good; numbers no syscall returns would reach it as "Unknown error", and
 * a plugin's EFAULT would blame the caller's buffer.  Those (and positive
 * values from a buggy plugin, arriving here negated) become EIO.
 */
static inline int zf_reply_err(fuse_req_t req, int err)
{
	if (err < 0 || err > EHWPOISON || err == EFAULT)
		err = EIO;
	return fuse_reply_err(req, err);
}

#endif /* _ZUS_FUSE_BRIDGE_H */
