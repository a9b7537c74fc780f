// SPDX-License-Identifier: BSD-3-Clause
/*
 * nodes.c - zus-fuse lookup counts: FORGET to zero means the plugin's evict.
 */
#include <stdlib.h>

#include "bridge.h"

static size_t bucket_of(uint64_t ino)
{
	return (ino * 0x9E3779B97F4A7C15ULL >> 40) & (ZF_NODE_BUCKETS - 1);
}

void zf_nodes_init(struct zf_bridge *b)
{
	pthread_rwlockattr_t ra;

	/* writers (evictions) must not starve behind a stream of lookups */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&b->evict_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&b->nodes_lock, NULL);
}

static struct zf_node **find_locked(struct zf_bridge *b, uint64_t ino)
{
	struct zf_node **pp = &b->nodes[bucket_of(ino)];

	while (*pp && (*pp)->ino != ino)
		pp = &(*pp)->next;
	return pp;
}

/*
 * The kernel got one more reference to ino (found in directory parent,
 * or 0 when it is no directory).  Caller holds evict_lock for reading.
 * The root is never counted: FUSE never forgets it.
 */
void zf_node_ref(struct zf_bridge *b, uint64_t ino, uint64_t parent)
{
	struct zf_node **pp, *n;

	if (ino == b->root_ino)
		return;
	pthread_mutex_lock(&b->nodes_lock);
	pp = find_locked(b, ino);
	if (*pp) {
		(*pp)->nlookup++;
		if (parent)
			(*pp)->parent = parent;
	} else {
		n = calloc(1, sizeof(*n));
		if (n) {	/* on ENOMEM it is never evicted: a leak, no harm */
			n->ino = ino;
			n->nlookup = 1;
			n->parent = parent;
			*pp = n;
		}
	}
	pthread_mutex_unlock(&b->nodes_lock);
}

void zf_node_set_parent(struct zf_bridge *b, uint64_t ino, uint64_t parent)
{
	struct zf_node *n;

	pthread_mutex_lock(&b->nodes_lock);
	n = *find_locked(b, ino);
	if (n)
		n->parent = parent;
	pthread_mutex_unlock(&b->nodes_lock);
}

/* The parent directory of directory ino, as last seen; the root's is itself */
uint64_t zf_node_parent(struct zf_bridge *b, uint64_t ino)
{
	struct zf_node *n;
	uint64_t parent = 0;

	pthread_mutex_lock(&b->nodes_lock);
	n = *find_locked(b, ino);
	if (n)
		parent = n->parent;
	pthread_mutex_unlock(&b->nodes_lock);
	return parent ? parent : ino;
}

/* Returns true when ino dropped to 0 and was unhashed */
static bool drop(struct zf_bridge *b, uint64_t ino, uint64_t count,
		 bool unhash)
{
	struct zf_node **pp, *n;
	bool zero = false;

	pthread_mutex_lock(&b->nodes_lock);
	pp = find_locked(b, ino);
	n = *pp;
	if (n) {
		n->nlookup -= count < n->nlookup ? count : n->nlookup;
		zero = !n->nlookup;
		if (zero && unhash)
			*pp = n->next;
	}
	pthread_mutex_unlock(&b->nodes_lock);
	if (zero && unhash)
		free(n);
	return zero;
}

static void evict(struct zf_bridge *b, uint64_t ino)
{
	struct zus_ctx ctx = { .cpu = -1, .numa_node = -1 };

	clock_gettime(CLOCK_REALTIME, &ctx.now);
	b->ops->evict(b->sb, &ctx, ino);
}

void zf_node_forget(struct zf_bridge *b, uint64_t ino, uint64_t count)
{
	if (ino == b->root_ino || !drop(b, ino, count, false))
		return;
	/* re-check under the write lock: a lookup may have raised it */
	pthread_rwlock_wrlock(&b->evict_lock);
	if (drop(b, ino, 0, true))
		evict(b, ino);
	pthread_rwlock_unlock(&b->evict_lock);
}

/* Unmount: the kernel forgets everything at once */
void zf_nodes_evict_all(struct zf_bridge *b)
{
	struct zf_node *n;
	size_t i;

	for (i = 0; i < ZF_NODE_BUCKETS; i++) {
		while ((n = b->nodes[i])) {
			b->nodes[i] = n->next;
			evict(b, n->ino);
			free(n);
		}
	}
}
