// SPDX-License-Identifier: BSD-3-Clause
/*
 * dir.c - zus-fuse readdir and readdirplus.
 *
 * FUSE offsets are the plugin's positions, except that "." and ".." (which
 * FUSE leaves to the server) sit at offsets 0 and 1, and the plugin's
 * first position is ZUFS_DIR_POS_FIRST == 2: the two ranges meet exactly.
 *
 * readdirplus looks every entry up, which must not happen inside the
 * plugin's readdir (it may hold the directory's lock while it fills):
 * so the names are gathered first and looked up afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bridge.h"

struct zf_dirbuf {
	fuse_req_t	req;
	char		*buf;
	size_t		size;
	size_t		used;
};

static size_t add_plain(struct zf_dirbuf *db, const char *name,
			uint64_t ino, unsigned int dtype, uint64_t next)
{
	struct stat st;
	size_t len;

	memset(&st, 0, sizeof(st));
	st.st_ino = ino;
	st.st_mode = dtype << 12;
	len = fuse_add_direntry(db->req, db->buf + db->used,
				db->size - db->used, name, &st, next);
	if (len > db->size - db->used)
		return 0;
	db->used += len;
	return len;
}

static int fill_plain(void *buf, const char *name, size_t len, uint64_t ino,
		      unsigned int dtype, uint64_t next_pos)
{
	char nm[ZUFS_NAME_MAX + 1];

	if (len > ZUFS_NAME_MAX)
		return 0;	/* a plugin bug: skip the entry */
	memcpy(nm, name, len);
	nm[len] = '\0';
	return !add_plain(buf, nm, ino, dtype, next_pos);
}

/* "." and ".." at offsets 0 and 1; false when the buffer is full */
static bool add_dots(struct zf_bridge *b, struct zf_dirbuf *db, uint64_t ino,
		     off_t off)
{
	if (off < 1 && !add_plain(db, ".", ino, DT_DIR, 1))
		return false;
	if (off < 2 && !add_plain(db, "..", zf_node_parent(b, ino), DT_DIR,
				  ZUFS_DIR_POS_FIRST))
		return false;
	return true;
}

void zf_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	uint64_t ino = zf_ino(b, nodeid);
	struct zf_dirbuf db = { .req = req, .size = size };
	struct zus_ctx ctx;
	bool eof = false;
	int err = 0;

	(void)fi;
	db.buf = malloc(size);
	if (!db.buf) {
		zf_reply_err(req, ENOMEM);
		return;
	}
	zf_ctx(req, &ctx);
	if (add_dots(b, &db, ino, off))
		err = b->ops->readdir(b->sb, &ctx, ino,
				      off < ZUFS_DIR_POS_FIRST ?
				      ZUFS_DIR_POS_FIRST : (uint64_t)off,
				      fill_plain, &db, &eof);
	if (err && !db.used)
		zf_reply_err(req, -err);
	else
		fuse_reply_buf(req, db.buf, db.used);
	free(db.buf);
}

struct zf_plus_ent {
	uint64_t	ino;
	uint64_t	next;
	unsigned int	dtype;
	char		name[ZUFS_NAME_MAX + 1];
};

struct zf_plus {
	fuse_req_t	req;
	size_t		room;		/* bytes the reply may still take */
	struct zf_plus_ent *ents;
	size_t		n, cap;
};

static int gather(void *buf, const char *name, size_t len, uint64_t ino,
		  unsigned int dtype, uint64_t next_pos)
{
	struct zf_plus *p = buf;
	struct zf_plus_ent *e;
	size_t need;

	if (len > ZUFS_NAME_MAX)
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;

		e = realloc(p->ents, cap * sizeof(*e));
		if (!e)
			return 1;
		p->ents = e;
		p->cap = cap;
	}
	e = &p->ents[p->n];
	memcpy(e->name, name, len);
	e->name[len] = '\0';
	need = fuse_add_direntry_plus(p->req, NULL, 0, e->name, NULL, 0);
	if (need > p->room)
		return 1;
	p->room -= need;
	e->ino = ino;
	e->dtype = dtype;
	e->next = next_pos;
	p->n++;
	return 0;
}

/* Look one gathered entry up and add it with its attributes */
static size_t add_plus(struct zf_bridge *b, struct zf_dirbuf *db,
		       const struct zus_ctx *ctx, uint64_t dir,
		       const struct zf_plus_ent *pe, uint64_t *ref_ino)
{
	struct fuse_entry_param e;
	struct zufs_attr a;
	size_t len;
	int err;

	memset(&e, 0, sizeof(e));
	pthread_rwlock_rdlock(&b->evict_lock);
	err = b->ops->lookup(b->sb, ctx, dir, pe->name, strlen(pe->name), &a);
	if (!err) {
		e.ino = zf_nodeid(b, a.ino);
		e.generation = a.generation;
		zf_attr_to_stat(b, &a, &e.attr);
		e.attr_timeout = b->attr_timeout;
		e.entry_timeout = b->entry_timeout;
	} else {
		/* gone meanwhile: a plain entry keeps the offsets going */
		e.attr.st_ino = pe->ino;
		e.attr.st_mode = pe->dtype << 12;
	}
	len = fuse_add_direntry_plus(db->req, db->buf + db->used,
				     db->size - db->used, pe->name, &e,
				     pe->next);
	if (len > db->size - db->used) {
		pthread_rwlock_unlock(&b->evict_lock);
		return 0;
	}
	db->used += len;
	if (!err) {
		zf_node_ref(b, a.ino, S_ISDIR(a.mode) ? dir : 0);
		*ref_ino = a.ino;
	}
	pthread_rwlock_unlock(&b->evict_lock);
	return len;
}

static size_t add_dot_plus(struct zf_dirbuf *db, const char *name,
			   uint64_t ino, off_t next)
{
	struct fuse_entry_param e;
	size_t len;

	/* ino 0: no attributes, the kernel makes no dentry of it */
	memset(&e, 0, sizeof(e));
	e.attr.st_ino = ino;
	e.attr.st_mode = S_IFDIR;
	len = fuse_add_direntry_plus(db->req, db->buf + db->used,
				     db->size - db->used, name, &e, next);
	if (len > db->size - db->used)
		return 0;
	db->used += len;
	return len;
}

static void plus_entries(struct zf_bridge *b, struct zf_dirbuf *db,
			 const struct zus_ctx *ctx, uint64_t dir,
			 struct zf_plus *p)
{
	uint64_t *refs, ref_ino;
	size_t i, nref = 0;

	refs = calloc(p->n ? p->n : 1, sizeof(*refs));
	if (!refs) {
		zf_reply_err(db->req, ENOMEM);
		return;
	}
	for (i = 0; i < p->n; i++) {
		ref_ino = 0;
		if (!add_plus(b, db, ctx, dir, &p->ents[i], &ref_ino))
			break;
		if (ref_ino)
			refs[nref++] = ref_ino;
	}
	if (fuse_reply_buf(db->req, db->buf, db->used)) {
		/* the kernel never saw them: give the references back */
		for (i = 0; i < nref; i++)
			zf_node_forget(b, refs[i], 1);
	}
	free(refs);
}

void zf_readdirplus(fuse_req_t req, fuse_ino_t nodeid, size_t size,
		    off_t off, struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	uint64_t ino = zf_ino(b, nodeid);
	struct zf_dirbuf db = { .req = req, .size = size };
	struct zf_plus p = { .req = req };
	struct zus_ctx ctx;
	bool eof = false;
	int err = 0;

	(void)fi;
	db.buf = malloc(size);
	if (!db.buf) {
		zf_reply_err(req, ENOMEM);
		return;
	}
	zf_ctx(req, &ctx);
	if ((off < 1 && !add_dot_plus(&db, ".", ino, 1)) ||
	    (off < 2 && !add_dot_plus(&db, "..", zf_node_parent(b, ino),
				      ZUFS_DIR_POS_FIRST)))
		goto out_reply;
	p.room = db.size - db.used;
	err = b->ops->readdir(b->sb, &ctx, ino,
			      off < ZUFS_DIR_POS_FIRST ?
			      ZUFS_DIR_POS_FIRST : (uint64_t)off,
			      gather, &p, &eof);
	if (err && !p.n && !db.used) {
		zf_reply_err(req, -err);
		goto out_free;
	}
	plus_entries(b, &db, &ctx, ino, &p);
	goto out_free;

out_reply:
	fuse_reply_buf(req, db.buf, db.used);
out_free:
	free(p.ents);
	free(db.buf);
}

void zf_fsyncdir(fuse_req_t req, fuse_ino_t nodeid, int datasync,
		 struct fuse_file_info *fi)
{
	struct zf_bridge *b = zf_of(req);
	struct zus_ctx ctx;

	(void)fi;
	if (!b->ops->fsync) {
		zf_reply_err(req, 0);
		return;
	}
	zf_ctx(req, &ctx);
	zf_reply_err(req, -b->ops->fsync(b->sb, &ctx, zf_ino(b, nodeid), 0,
					   UINT64_MAX, datasync));
}
