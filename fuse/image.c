// SPDX-License-Identifier: BSD-3-Clause
/*
 * image.c - zus-fuse: map the file or block device standing in for pmem
 * and check the zufs device table in its first block; or the members of
 * a device set (-o devs=), one after the other in table order, as zuf.ko
 * lays out a set's t1 range (include/zufs_api.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cpuid.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "image.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE	0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC		0x80000
#endif

/* CRC-32 as zlib's crc32(): reflected, poly 0xEDB88320, ~0 in and out */
static uint32_t crc32_ieee(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = ~0U;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320U & -(crc & 1));
	}
	return ~crc;
}

/* Why t (read from a device of size bytes) cannot be used, or NULL */
static const char *table_invalid(const struct zufs_dev_table *t,
				 const char *type, uint64_t size, int *err)
{
	struct zufs_dev_table copy = *t;
	uint64_t total = 0;
	unsigned int i;

	*err = -EINVAL;
	if (t->magic != ZUFS_DEV_TABLE_MAGIC)
		return "no zufs device table (run mkfs first)";
	copy.csum = 0;
	if (crc32_ieee(&copy, sizeof(copy)) != t->csum) {
		*err = -EUCLEAN;
		return "device table checksum mismatch";
	}
	if (t->version != ZUFS_DEV_TABLE_VERSION)
		return "device table version unknown";
	if (strncmp(t->fs_type, type, ZUFS_FS_NAME_MAX))
		return "formatted for another filesystem type";
	if (t->t2_count) {
		*err = -EOPNOTSUPP;
		return "block (t2) members are not supported by zus-fuse";
	}
	if (!t->t1_count || t->t1_count > ZUFS_MAX_DEVS ||
	    t->dev_index >= t->t1_count)
		return "device table: bad member counts";
	for (i = 0; i < t->t1_count; i++)
		if (t->devs[i].blocks < 2 ||
		    __builtin_add_overflow(total, t->devs[i].blocks, &total) ||
		    total > UINT64_MAX / ZUFS_PMEM_BLOCK)
			return "device table: bad member size";
	if (t->devs[t->dev_index].blocks > size / ZUFS_PMEM_BLOCK)
		return "device table gives this member more bytes than it has";
	return NULL;
}

/* t and c describe one set (they differ in dev_index and csum only) */
static bool same_set(const struct zufs_dev_table *t,
		     const struct zufs_dev_table *c)
{
	struct zufs_dev_table a = *t, b = *c;

	a.csum = b.csum = 0;
	a.dev_index = b.dev_index = 0;
	return !memcmp(&a, &b, sizeof(a));
}

static int source_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) ? -errno : 0;
	return -ENODEV;
}

/* DAX first: then CPU cache flushes are what make writes durable */
static void *map_source(void *at, int fd, uint64_t size, int prot, bool *dax)
{
	void *p;

	p = mmap(at, size, prot, MAP_SHARED_VALIDATE | MAP_SYNC | MAP_FIXED,
		 fd, 0);
	*dax = p != MAP_FAILED;
	if (p == MAP_FAILED)
		p = mmap(at, size, prot, MAP_SHARED | MAP_FIXED, fd, 0);
	return p;
}

static bool cpu_has_clflushopt(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return b & (1U << 23);
}

/* Open path and read its table; a message naming path on error */
static int open_member(const char *path, const char *type, bool rdonly,
		       int *fdp, struct zufs_dev_table *t, char *msg,
		       size_t mlen)
{
	uint64_t size = 0;
	const char *why;
	int fd, err;

	fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(msg, mlen, "%s: %s", path, strerror(errno));
		return err;
	}
	err = source_size(fd, &size);
	if (err || size < 2 * ZUFS_PMEM_BLOCK) {
		snprintf(msg, mlen, "%s: not a file or block device of 8 KiB or more",
			 path);
		close(fd);
		return err ? err : -EINVAL;
	}
	/* what O_EXCL is for a block device: the zpmfs tools test it */
	if (flock(fd, (rdonly ? LOCK_SH : LOCK_EX) | LOCK_NB) &&
	    errno == EWOULDBLOCK) {
		snprintf(msg, mlen, "%s: in use (by another zus-fuse or a zpmfs tool)",
			 path);
		close(fd);
		return -EBUSY;
	}
	if (pread(fd, t, sizeof(*t), ZUFS_DEV_TABLE_OFFSET) != sizeof(*t))
		memset(t, 0, sizeof(*t));
	why = table_invalid(t, type, size, &err);
	if (why) {
		snprintf(msg, mlen, "%s: %s", path, why);
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

struct members {
	const char *path[ZUFS_MAX_DEVS];
	int fd[ZUFS_MAX_DEVS];
	struct zufs_dev_table set;	/* SOURCE's table */
};

/* path is one of the set: put it at its index, or say why not */
static int add_member(struct members *ms, const char *path, const char *type,
		      bool rdonly, char *msg, size_t mlen)
{
	struct zufs_dev_table t;
	int fd, err;

	err = open_member(path, type, rdonly, &fd, &t, msg, mlen);
	if (err)
		return err;
	err = -EINVAL;
	if (memcmp(t.set_uuid, ms->set.set_uuid, sizeof(t.set_uuid)))
		snprintf(msg, mlen, "%s belongs to another set than %s",
			 path, ms->path[ms->set.dev_index]);
	else if (!same_set(&t, &ms->set))
		snprintf(msg, mlen, "%s: its device table disagrees with %s's (members or sizes differ)",
			 path, ms->path[ms->set.dev_index]);
	else if (ms->path[t.dev_index])
		snprintf(msg, mlen, "%s and %s both claim member %u",
			 ms->path[t.dev_index], path, t.dev_index);
	else
		err = 0;
	if (err) {
		close(fd);
		return err;
	}
	ms->path[t.dev_index] = path;
	ms->fd[t.dev_index] = fd;
	return 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat x, y;

	return !stat(a, &x) && !stat(b, &y) && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino && x.st_rdev == y.st_rdev;
}

/*
 * SOURCE, then the members devs= lists (colon separated, SOURCE may be
 * among them), each at its index; every member of the set must be there.
 */
static int open_members(struct members *ms, const char *source, char *devs,
			const char *type, bool rdonly, char *msg, size_t mlen)
{
	unsigned int i, n;
	char *p, *save = NULL;
	int fd, err;

	err = open_member(source, type, rdonly, &fd, &ms->set, msg, mlen);
	if (err)
		return err;
	ms->path[ms->set.dev_index] = source;
	ms->fd[ms->set.dev_index] = fd;
	for (p = devs ? strtok_r(devs, ":", &save) : NULL; p && !err;
	     p = strtok_r(NULL, ":", &save))
		if (!same_file(p, source))
			err = add_member(ms, p, type, rdonly, msg, mlen);
	n = ms->set.t1_count;
	for (i = 0; i < n && !err; i++) {
		if (ms->path[i])
			continue;
		snprintf(msg, mlen, "member %u of the set of %u (%llu bytes) is %s",
			 i, n, (unsigned long long)ms->set.devs[i].blocks *
			 ZUFS_PMEM_BLOCK, devs ? "not in -o devs=" :
			 "not given: name every member with -o devs=PATH:PATH...");
		err = -ENODEV;
	}
	return err;
}

/* Each member at its place in one range, as zuf lays out the t1 space */
static int map_members(struct zf_bridge *br, const struct members *ms,
		       int prot, char *msg, size_t mlen)
{
	const struct zufs_dev_table *t = &ms->set;
	uint64_t off = 0, len;
	unsigned int i;
	bool dax;
	char *base;

	for (i = 0; i < t->t1_count; i++)
		off += t->devs[i].blocks * ZUFS_PMEM_BLOCK;
	base = mmap(NULL, off, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		snprintf(msg, mlen, "reserving %llu bytes: %s",
			 (unsigned long long)off, strerror(errno));
		return -ENOMEM;
	}
	br->pmem = base;
	br->pmem_size = off;
	br->dax = true;
	for (i = 0, off = 0; i < t->t1_count; i++, off += len) {
		len = t->devs[i].blocks * ZUFS_PMEM_BLOCK;
		if (map_source(base + off, ms->fd[i], len, prot, &dax) ==
		    MAP_FAILED) {
			snprintf(msg, mlen, "%s: mmap: %s", ms->path[i],
				 strerror(errno));
			return -errno;
		}
		br->dax &= dax;
		br->devs[i].offset = off;
		br->devs[i].size = len;
		br->devs[i].numa_node = -1;
	}
	return 0;
}

int zf_image_open(struct zf_bridge *br, const char *source, const char *devs,
		  const char *type, bool rdonly, char *msg, size_t mlen)
{
	struct members ms = { 0 };
	char *list = NULL;
	unsigned int i;
	int err = -ENOMEM;

	if (devs) {
		list = strdup(devs);
		if (!list) {
			snprintf(msg, mlen, "out of memory");
			return err;
		}
	}
	err = open_members(&ms, source, list, type, rdonly, msg, mlen);
	free(list);
	if (!err)
		err = map_members(br, &ms, PROT_READ | (rdonly ? 0 : PROT_WRITE),
				  msg, mlen);
	for (i = 0; i < ZUFS_MAX_DEVS; i++) {
		if (!ms.path[i])
			continue;
		if (err)
			close(ms.fd[i]);
		else
			br->src_fds[br->nsrc++] = ms.fd[i];
	}
	if (err) {
		if (br->pmem)
			munmap(br->pmem, br->pmem_size);
		br->pmem = NULL;
		return err;
	}
	br->clflushopt = cpu_has_clflushopt();
	return 0;
}

void zf_image_close(struct zf_bridge *br)
{
	unsigned int i;

	if (!br->pmem)
		return;
	zf_pmem_msync(br);
	for (i = 0; i < br->nsrc; i++) {
		fsync(br->src_fds[i]);
		close(br->src_fds[i]);
	}
	munmap(br->pmem, br->pmem_size);
	br->nsrc = 0;
	br->pmem = NULL;
}
