// SPDX-License-Identifier: BSD-3-Clause
/*
 * node.c - zpassthrough's table of known inodes: number -> O_PATH fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "passthrough.h"

static size_t bucket_of(uint64_t ino)
{
	return (ino * 0x9E3779B97F4A7C15ULL >> 32) & (PT_BUCKETS - 1);
}

void pt_proc_path(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* Caller holds sb->lock */
static uint64_t foreign_num(struct zus_sb *sb, dev_t dev, ino_t ino)
{
	struct pt_foreign *f;

	for (f = sb->foreign; f; f = f->next)
		if (f->dev == dev && f->ino == ino)
			return f->num;
	f = malloc(sizeof(*f));
	if (!f)
		return 0;
	f->dev = dev;
	f->ino = ino;
	f->num = PT_FOREIGN_BIT | ++sb->next_foreign;
	f->next = sb->foreign;
	sb->foreign = f;
	return f->num;
}

/* Our inode number for a backing inode; 0 (never valid) on ENOMEM */
uint64_t pt_ino_of(struct zus_sb *sb, dev_t dev, ino_t ino)
{
	uint64_t num;

	if (dev == sb->root_dev && !(ino & PT_FOREIGN_BIT))
		return ino;
	pthread_mutex_lock(&sb->lock);
	num = foreign_num(sb, dev, ino);
	pthread_mutex_unlock(&sb->lock);
	return num;
}

static void node_free(struct pt_node *n)
{
	if (n->dfd >= 0)
		close(n->dfd);
	pt_cookies_free(n->cookies);
	if (n->rfd >= 0)
		close(n->rfd);
	if (n->wfd >= 0)
		close(n->wfd);
	close(n->fd);
	pthread_mutex_destroy(&n->fd_lock);
	free(n);
}

/* Caller holds sb->lock */
static struct pt_node *find_locked(struct zus_sb *sb, uint64_t ino)
{
	struct pt_node *n;

	for (n = sb->buckets[bucket_of(ino)]; n; n = n->next)
		if (n->ino == ino)
			return n;
	return NULL;
}

static void unhash_locked(struct zus_sb *sb, struct pt_node *n)
{
	struct pt_node **pp = &sb->buckets[bucket_of(n->ino)];

	while (*pp != n)
		pp = &(*pp)->next;
	*pp = n->next;
	n->hashed = false;
}

static void fifo_del_locked(struct zus_sb *sb, struct pt_node *n)
{
	if (n->fifo_prev)
		n->fifo_prev->fifo_next = n->fifo_next;
	else
		sb->fifo_head = n->fifo_next;
	if (n->fifo_next)
		n->fifo_next->fifo_prev = n->fifo_prev;
	else
		sb->fifo_tail = n->fifo_prev;
	n->fifo_prev = n->fifo_next = NULL;
	n->evicted = false;
	sb->fifo_len--;
}

static void fifo_add_locked(struct zus_sb *sb, struct pt_node *n)
{
	n->evicted = true;
	n->fifo_next = NULL;
	n->fifo_prev = sb->fifo_tail;
	if (sb->fifo_tail)
		sb->fifo_tail->fifo_next = n;
	else
		sb->fifo_head = n;
	sb->fifo_tail = n;
	sb->fifo_len++;
}

/* Take a reference on a known inode; NULL when the number is unknown */
struct pt_node *pt_node_get(struct zus_sb *sb, uint64_t ino)
{
	struct pt_node *n;

	pthread_mutex_lock(&sb->lock);
	n = find_locked(sb, ino);
	if (n) {
		n->refs++;
		if (n->evicted)
			fifo_del_locked(sb, n);
	}
	pthread_mutex_unlock(&sb->lock);
	/* a number the server before us handed out (re-attach) */
	if (!n && sb->reattached && pt_node_revive(sb, ino, &n))
		n = NULL;
	return n;
}

void pt_node_put(struct zus_sb *sb, struct pt_node *n)
{
	bool last;

	if (!n)
		return;
	pthread_mutex_lock(&sb->lock);
	last = !--n->refs;
	pthread_mutex_unlock(&sb->lock);
	if (last)
		node_free(n);
}

/*
 * Make fd (an O_PATH fd of backing inode dev/ino) known.  Takes fd over:
 * closes it when the inode is known already.  Returns with a reference.
 */
int pt_node_install(struct zus_sb *sb, int fd, dev_t dev, ino_t ino,
		    mode_t mode, struct pt_node **np)
{
	uint64_t num = pt_ino_of(sb, dev, ino);
	struct pt_node *n, *old;

	if (!num) {
		close(fd);
		return -ENOMEM;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		close(fd);
		return -ENOMEM;
	}
	n->ino = num;
	n->bdev = dev;
	n->bino = ino;
	n->type = mode & S_IFMT;
	n->fd = fd;
	n->rfd = n->wfd = n->dfd = -1;
	n->refs = 2;	/* the table's and the caller's */
	pthread_mutex_init(&n->fd_lock, NULL);

	pthread_mutex_lock(&sb->lock);
	old = find_locked(sb, num);
	if (old) {
		old->refs++;
		if (old->evicted)
			fifo_del_locked(sb, old);
		pthread_mutex_unlock(&sb->lock);
		node_free(n);
		*np = old;
		return 0;
	}
	n->hashed = true;
	n->next = sb->buckets[bucket_of(num)];
	sb->buckets[bucket_of(num)] = n;
	pthread_mutex_unlock(&sb->lock);
	*np = n;
	return 0;
}

static bool node_unlinked(struct pt_node *n)
{
	struct stat st;

	return !fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) &&
	       st.st_nlink == 0;
}

/*
 * The transport forgot ino.  An unlinked inode is closed at once (so the
 * backing fs frees it); others wait on the FIFO, see PT_EVICTED_MAX.
 */
void pt_node_evict(struct zus_sb *sb, uint64_t ino)
{
	struct pt_node *n, *drop = NULL;
	bool unlinked;

	n = pt_node_get(sb, ino);
	if (!n || n == sb->root) {
		pt_node_put(sb, n);
		return;
	}
	unlinked = node_unlinked(n);
	pthread_mutex_lock(&sb->lock);
	if (n->hashed && !n->evicted) {
		if (unlinked) {
			unhash_locked(sb, n);
			n->refs--;	/* the table's; ours is still held */
		} else {
			fifo_add_locked(sb, n);
		}
	}
	if (sb->fifo_len > PT_EVICTED_MAX) {
		drop = sb->fifo_head;
		fifo_del_locked(sb, drop);
		unhash_locked(sb, drop);
		/* the table's reference moves to us, dropped below */
	}
	pthread_mutex_unlock(&sb->lock);
	pt_node_put(sb, drop);
	pt_node_put(sb, n);
}

static int open_lazy(int *slot, struct pt_node *n, int flags)
{
	char path[64];
	int fd;

	pthread_mutex_lock(&n->fd_lock);
	if (*slot < 0) {
		pt_proc_path(path, sizeof(path), n->fd);
		fd = open(path, flags | O_CLOEXEC | O_NONBLOCK);
		*slot = fd < 0 ? -errno : fd;
	}
	fd = *slot;
	if (fd < 0)
		*slot = -1;	/* retry next time: the error may pass */
	pthread_mutex_unlock(&n->fd_lock);
	return fd;
}

/* A readable fd of a regular file or directory, or -errno */
int pt_node_rfd(struct pt_node *n)
{
	if (n->type != S_IFREG && n->type != S_IFDIR)
		return -EINVAL;
	return open_lazy(&n->rfd, n, O_RDONLY);
}

/* A read-write fd of a regular file, or -errno */
int pt_node_wfd(struct pt_node *n)
{
	if (n->type == S_IFDIR)
		return -EISDIR;
	if (n->type != S_IFREG)
		return -EINVAL;
	return open_lazy(&n->wfd, n, O_RDWR);
}

int pt_node_table_init(struct zus_sb *sb)
{
	return -pthread_mutex_init(&sb->lock, NULL);
}

void pt_node_table_destroy(struct zus_sb *sb)
{
	struct pt_foreign *f;
	struct pt_node *n;
	size_t i;

	for (i = 0; i < PT_BUCKETS; i++) {
		while ((n = sb->buckets[i])) {
			sb->buckets[i] = n->next;
			node_free(n);
		}
	}
	while ((f = sb->foreign)) {
		sb->foreign = f->next;
		free(f);
	}
	pthread_mutex_destroy(&sb->lock);
}
