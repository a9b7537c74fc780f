// SPDX-License-Identifier: BSD-3-Clause
/*
 * node.c - the table of inodes the transport knows: inode number ->
 * libcephfs Inode (one reference each) and its lazily opened Fh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "zceph.h"

static unsigned int bucket_of(uint64_t ino)
{
	return (ino ^ (ino >> 29)) & (ZC_BUCKETS - 1);
}

static struct zc_node *find_locked(struct zus_sb *sb, uint64_t ino)
{
	struct zc_node *n;

	for (n = sb->buckets[bucket_of(ino)]; n; n = n->next)
		if (n->ino == ino)
			return n;
	return NULL;
}

static void unhash_locked(struct zus_sb *sb, struct zc_node *n)
{
	struct zc_node **pp = &sb->buckets[bucket_of(n->ino)];

	while (*pp != n)
		pp = &(*pp)->next;
	*pp = n->next;
	n->hashed = false;
	n->refs--;
}

static void node_free(struct zus_sb *sb, struct zc_node *n)
{
	if (n->fh)
		ceph_ll_close(sb->cm, n->fh);
	ceph_ll_put(sb->cm, n->in);
	pthread_mutex_destroy(&n->fh_lock);
	free(n);
}

/*
 * Take in (and its reference) into the table, or drop it for the node
 * already there.  Returns the node with one reference for the caller, or
 * NULL (in released) when out of memory.
 */
struct zc_node *zc_node_install(struct zus_sb *sb, struct Inode *in,
				uint64_t ino)
{
	struct zc_node *n, *fresh = calloc(1, sizeof(*fresh));

	pthread_mutex_lock(&sb->lock);
	n = find_locked(sb, ino);
	if (n) {
		n->refs++;
		pthread_mutex_unlock(&sb->lock);
		ceph_ll_put(sb->cm, in);
		free(fresh);
		return n;
	}
	if (!fresh) {
		pthread_mutex_unlock(&sb->lock);
		ceph_ll_put(sb->cm, in);
		return NULL;
	}
	fresh->ino = ino;
	fresh->in = in;
	fresh->refs = 2;	/* the table's and the caller's */
	fresh->hashed = true;
	pthread_mutex_init(&fresh->fh_lock, NULL);
	fresh->next = sb->buckets[bucket_of(ino)];
	sb->buckets[bucket_of(ino)] = fresh;
	pthread_mutex_unlock(&sb->lock);
	return fresh;
}

/*
 * The node of ino.  One the transport knows but this table does not (a
 * new server, a race with evict) is found again by number through the
 * MDS.
 */
int zc_node_get(struct zus_sb *sb, uint64_t ino, struct zc_node **np)
{
	struct inodeno_t vino = { .val = ino };
	struct Inode *in;
	struct zc_node *n;
	int err;

	pthread_mutex_lock(&sb->lock);
	n = find_locked(sb, ino);
	if (n)
		n->refs++;
	pthread_mutex_unlock(&sb->lock);
	if (n) {
		*np = n;
		return 0;
	}
	err = ceph_ll_lookup_inode(sb->cm, vino, &in);
	if (err)
		return err == -ENOENT ? -ESTALE : err;
	n = zc_node_install(sb, in, ino);
	if (!n)
		return -ENOMEM;
	*np = n;
	return 0;
}

void zc_node_put(struct zus_sb *sb, struct zc_node *n)
{
	bool last;

	pthread_mutex_lock(&sb->lock);
	last = --n->refs == 0;
	pthread_mutex_unlock(&sb->lock);
	if (last)
		node_free(sb, n);
}

void zc_node_evict(struct zus_sb *sb, uint64_t ino)
{
	struct zc_node *n;
	bool last = false;

	pthread_mutex_lock(&sb->lock);
	n = find_locked(sb, ino);
	if (n && ino != sb->root_ino) {
		unhash_locked(sb, n);
		last = n->refs == 0;
	}
	pthread_mutex_unlock(&sb->lock);
	if (last)
		node_free(sb, n);
}

void zc_node_table_destroy(struct zus_sb *sb)
{
	struct zc_node *n, *next;
	unsigned int i;

	for (i = 0; i < ZC_BUCKETS; i++) {
		for (n = sb->buckets[i]; n; n = next) {
			next = n->next;
			node_free(sb, n);
		}
		sb->buckets[i] = NULL;
	}
}

/* the node's Fh, opened on first use with the mount's credentials */
int zc_node_fh(struct zus_sb *sb, struct zc_node *n, struct Fh **fhp)
{
	int err = 0;

	pthread_mutex_lock(&n->fh_lock);
	if (!n->fh)
		err = ceph_ll_open(sb->cm, n->in, O_RDWR, &n->fh, sb->perms);
	*fhp = n->fh;
	pthread_mutex_unlock(&n->fh_lock);
	return err;
}
