// SPDX-License-Identifier: BSD-3-Clause
/*
 * image.c - zus-fuse: map the file or block device standing in for pmem
 * and check the zufs device table in its first block.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cpuid.h>
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

static int check_table(const struct zufs_dev_table *t, const char *type,
		       uint64_t size, uint64_t *pmem_size, char *msg,
		       size_t mlen)
{
	struct zufs_dev_table copy = *t;

	if (t->magic != ZUFS_DEV_TABLE_MAGIC) {
		snprintf(msg, mlen, "no zufs device table (run mkfs first)");
		return -EINVAL;
	}
	copy.csum = 0;
	if (crc32_ieee(&copy, sizeof(copy)) != t->csum) {
		snprintf(msg, mlen, "device table checksum mismatch");
		return -EUCLEAN;
	}
	if (t->version != ZUFS_DEV_TABLE_VERSION) {
		snprintf(msg, mlen, "device table version %u, expected %u",
			 t->version, ZUFS_DEV_TABLE_VERSION);
		return -EINVAL;
	}
	if (strncmp(t->fs_type, type, ZUFS_FS_NAME_MAX)) {
		snprintf(msg, mlen, "formatted as '%.*s', not '%s'",
			 ZUFS_FS_NAME_MAX, t->fs_type, type);
		return -EINVAL;
	}
	if (t->t1_count != 1 || t->t2_count != 0 || t->dev_index != 0) {
		snprintf(msg, mlen, "multi-device sets are not supported by zus-fuse");
		return -EOPNOTSUPP;
	}
	*pmem_size = t->devs[0].blocks * ZUFS_PMEM_BLOCK;
	if (*pmem_size > size || *pmem_size < 2 * ZUFS_PMEM_BLOCK) {
		snprintf(msg, mlen, "device table says %llu bytes, device has %llu",
			 (unsigned long long)*pmem_size,
			 (unsigned long long)size);
		return -EINVAL;
	}
	return 0;
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
static void *map_source(int fd, uint64_t size, int prot, bool *dax)
{
	void *p;

	p = mmap(NULL, size, prot, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	*dax = p != MAP_FAILED;
	if (p == MAP_FAILED)
		p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
	return p;
}

static bool cpu_has_clflushopt(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return b & (1U << 23);
}

int zf_image_open(struct zf_bridge *br, const char *path, const char *type,
		  bool rdonly, char *msg, size_t mlen)
{
	int prot = PROT_READ | (rdonly ? 0 : PROT_WRITE);
	uint64_t size = 0, psize;
	int fd, err;

	fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(msg, mlen, "%s", strerror(errno));
		return err;
	}
	err = source_size(fd, &size);
	if (err || size < 2 * ZUFS_PMEM_BLOCK) {
		snprintf(msg, mlen, "not a file or block device of 8 KiB or more");
		err = err ? err : -EINVAL;
		goto out_close;
	}
	br->pmem = map_source(fd, size, prot, &br->dax);
	if (br->pmem == MAP_FAILED) {
		err = -errno;
		snprintf(msg, mlen, "mmap: %s", strerror(errno));
		goto out_close;
	}
	err = check_table((const struct zufs_dev_table *)br->pmem, type, size,
			  &psize, msg, mlen);
	if (err)
		goto out_unmap;
	br->src_fd = fd;
	br->map_size = size;
	br->pmem_size = psize;
	br->clflushopt = cpu_has_clflushopt();
	return 0;

out_unmap:
	munmap(br->pmem, size);
	br->pmem = NULL;
out_close:
	close(fd);
	return err;
}

void zf_image_close(struct zf_bridge *br)
{
	if (!br->pmem)
		return;
	zf_pmem_msync(br);
	fsync(br->src_fd);
	munmap(br->pmem, br->map_size);
	close(br->src_fd);
	br->pmem = NULL;
}
