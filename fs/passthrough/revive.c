// SPDX-License-Identifier: BSD-3-Clause
/*
 * revive.c - after a re-attach (ZUS_MOUNT_REATTACH: the server before us
 * died), the kernel still uses inode numbers this process never handed
 * out.  Ours are the backing inodes' own numbers, so an unknown one is
 * found again by walking the backing tree (breadth first, not crossing
 * into other filesystems) for the entry with that number, and opened as
 * if a lookup had found it.  A walk per unknown number: recovery only,
 * each number is known again after its first use.  Not found again: an
 * inode that was unlinked while open, and "foreign" numbers (inodes of
 * other filesystems mounted inside the backing tree), which were handed
 * out in order by the dead server: those answer ESTALE.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "passthrough.h"

/* A queue of O_PATH directory fds still to search */
struct dirq {
	int	*fds;
	size_t	head, tail, cap;
};

static int dirq_push(struct dirq *q, int fd)
{
	if (q->tail == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 64;
		int *fds = realloc(q->fds, cap * sizeof(*fds));

		if (!fds) {
			close(fd);
			return -ENOMEM;
		}
		q->fds = fds;
		q->cap = cap;
	}
	q->fds[q->tail++] = fd;
	return 0;
}

static void dirq_free(struct dirq *q)
{
	while (q->head < q->tail)
		close(q->fds[q->head++]);
	free(q->fds);
}

/*
 * Search directory dfd (consumed) for ino; subdirectories of the same
 * filesystem go on the queue.  Returns an O_PATH fd of the inode, -ENOENT
 * when it is not in this directory, or another -errno.
 */
static int search_dir(struct zus_sb *sb, int dfd, uint64_t ino,
		      struct dirq *q)
{
	int rfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int found = -ENOENT;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (rfd < 0 || !(d = fdopendir(rfd))) {
		if (rfd >= 0)
			close(rfd);
		close(dfd);
		return -ENOENT;	/* gone or unreadable: not here */
	}
	while (found == -ENOENT && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    st.st_dev != sb->root_dev)
			continue;
		if (st.st_ino == ino) {
			found = openat(dfd, de->d_name,
				       O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (found < 0)
				found = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dfd, de->d_name,
					 O_PATH | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);

			if (sub >= 0 && dirq_push(q, sub))
				found = -ENOMEM;
		}
	}
	closedir(d);
	close(dfd);
	return found;
}

int pt_node_revive(struct zus_sb *sb, uint64_t ino, struct pt_node **np)
{
	struct dirq q = { 0 };
	int fd = -ENOENT;
	struct stat st;

	if (!sb->reattached || (ino & PT_FOREIGN_BIT))
		return -ESTALE;
	fd = fcntl(sb->root_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || dirq_push(&q, fd))
		return -ENOMEM;
	fd = -ENOENT;
	while (fd == -ENOENT && q.head < q.tail)
		fd = search_dir(sb, q.fds[q.head++], ino, &q);
	dirq_free(&q);
	if (fd == -ENOENT)
		return -ESTALE;
	if (fd < 0)
		return fd;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		close(fd);
		return -ESTALE;
	}
	return pt_node_install(sb, fd, st.st_dev, st.st_ino, st.st_mode, np);
}
