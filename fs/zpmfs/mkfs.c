// SPDX-License-Identifier: BSD-3-Clause
/*
 * mkfs.zpmfs - make a zpmfs filesystem on a pmem device or an image file.
 *
 * Writes the zufs device table (block 0), the superblock and its copy, an
 * empty log area, the inode table with the root directory, and the block
 * bitmap.  Refuses to overwrite anything it recognises without -f.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zpmfs_format.h"
#include "pmem.h"

#define MIN_BLOCKS	64	/* 256 KiB */
#define BYTES_PER_INODE	8192
#define SMALL_DEV_INODES	131072
#define ZP_DIV_UP_(a, b)	(((a) + (b) - 1) / (b))

struct mkfs_opts {
	const char *dev;
	const char *label;
	uint64_t size;
	uint64_t inodes;
	bool force;
	bool quiet;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mkfs.zpmfs [-f] [-s SIZE] [-i INODES] [-L LABEL] [-q] DEVICE-OR-FILE\n"
		"Make a zpmfs filesystem on a pmem block device or an image file.\n\n"
		"  -f, --force        overwrite an existing filesystem\n"
		"  -s, --size SIZE    size (K/M/G/T suffixes); a file is created or\n"
		"                     extended to it; default: the whole device\n"
		"  -i, --inodes N     number of inodes (default: one per %d KiB, but\n"
		"                     one per 2 KiB up to 131072 inodes)\n"
		"  -L, --label LABEL  volume label (up to 63 bytes)\n"
		"  -q, --quiet        print nothing but errors\n"
		"  -h, --help         this help\n", BYTES_PER_INODE / 1024);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	case 't': case 'T': v <<= 40; end++; break;
	default: break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct mkfs_opts *o)
{
	static const struct option lopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "inodes", required_argument, NULL, 'i' },
		{ "label", required_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "fs:i:L:qh", lopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->force = true; break;
		case 'q': o->quiet = true; break;
		case 'L': o->label = optarg; break;
		case 's':
			if (parse_size(optarg, &o->size)) {
				fprintf(stderr, "mkfs.zpmfs: bad size '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'i':
			if (parse_size(optarg, &o->inodes) || !o->inodes) {
				fprintf(stderr, "mkfs.zpmfs: bad inode count '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	o->dev = argv[optind];
	if (o->label && strlen(o->label) > 63) {
		fprintf(stderr, "mkfs.zpmfs: label longer than 63 bytes\n");
		return 2;
	}
	return 0;
}

/* Open the target and find its size (creating/extending a file) */
static int open_target(const struct mkfs_opts *o, uint64_t *size)
{
	struct stat st;
	int fd = open(o->dev, O_RDWR | O_CREAT, 0644);

	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "mkfs.zpmfs: %s: %s\n", o->dev, strerror(errno));
		return -1;
	}
	if (S_ISBLK(st.st_mode)) {
		/* O_EXCL on a block device: EBUSY while it is mounted */
		close(fd);
		fd = open(o->dev, O_RDWR | O_EXCL);
		if (fd < 0) {
			fprintf(stderr, "mkfs.zpmfs: %s: %s\n", o->dev,
				errno == EBUSY ? "in use (mounted?)" :
				strerror(errno));
			return -1;
		}
		if (ioctl(fd, BLKGETSIZE64, size)) {
			fprintf(stderr, "mkfs.zpmfs: %s: BLKGETSIZE64: %s\n",
				o->dev, strerror(errno));
			goto out_close;
		}
		if (o->size > *size) {
			fprintf(stderr, "mkfs.zpmfs: %s: -s %lu is larger than the device (%lu bytes)\n",
				o->dev, (unsigned long)o->size,
				(unsigned long)*size);
			goto out_close;
		}
		if (o->size)
			*size = o->size;
		return fd;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "mkfs.zpmfs: %s: not a block device or file\n",
			o->dev);
		goto out_close;
	}
	*size = o->size ? o->size : (uint64_t)st.st_size;
	if ((uint64_t)st.st_size < *size && ftruncate(fd, *size)) {
		fprintf(stderr, "mkfs.zpmfs: %s: cannot extend to %lu bytes: %s\n",
			o->dev, (unsigned long)*size, strerror(errno));
		goto out_close;
	}
	return fd;
out_close:
	close(fd);
	return -1;
}

/* Name of a filesystem found on the target, or NULL */
static const char *existing_fs(int fd)
{
	static const struct {
		off_t off;
		const char *magic;
		size_t len;
		const char *name;
	} sigs[] = {
		{ 0, "UZFSDEVT", 8, "a zufs device set" },
		{ 4096, "ZZPMFS1", 7, "zpmfs" },
		{ 1080, "\x53\xef", 2, "ext2/3/4" },
		{ 0, "XFSB", 4, "xfs" },
		{ 0x10040, "_BHRfS_M", 8, "btrfs" },
		{ 3, "NTFS    ", 8, "ntfs" },
		{ 0x52, "FAT32   ", 8, "vfat" },
		{ 4086, "SWAPSPACE2", 10, "swap" },
	};
	char buf[16];
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (pread(fd, buf, sigs[i].len, sigs[i].off) !=
		    (ssize_t)sigs[i].len)
			continue;
		if (!memcmp(buf, sigs[i].magic, sigs[i].len))
			return sigs[i].name;
	}
	return NULL;
}

struct layout {
	uint64_t blocks, inodes, itable_start, itable_blocks;
	uint64_t bitmap_start, bitmap_blocks, data_start;
	uint64_t rc_start, rc_blocks;	/* refcount table (reflink) */
};

static int plan(const struct mkfs_opts *o, uint64_t size, struct layout *l)
{
	l->blocks = size / ZPMFS_BLOCK;
	if (l->blocks < MIN_BLOCKS) {
		fprintf(stderr, "mkfs.zpmfs: %s: %lu bytes is too small (minimum %d KiB)\n",
			o->dev, (unsigned long)size, MIN_BLOCKS * 4);
		return -1;
	}
	/* Small devices are test devices: give them room for a directory of
	 * 100 000 files (a 256 MiB device gets 131072 inodes). */
	l->inodes = size / BYTES_PER_INODE;
	if (l->inodes < size / 2048 && l->inodes < SMALL_DEV_INODES)
		l->inodes = size / 2048 < SMALL_DEV_INODES ? size / 2048 :
			    SMALL_DEV_INODES;
	if (o->inodes)
		l->inodes = o->inodes;
	if (l->inodes < 16)
		l->inodes = 16;
	l->itable_start = ZPMFS_LOG_START + ZPMFS_LOG_BLOCKS;
	l->itable_blocks = ZP_DIV_UP_(l->inodes, ZPMFS_INODES_PER_BLOCK);
	l->inodes = l->itable_blocks * ZPMFS_INODES_PER_BLOCK;
	l->bitmap_start = l->itable_start + l->itable_blocks;
	l->bitmap_blocks = ZP_DIV_UP_(l->blocks, ZPMFS_BLOCK * 8);
	l->rc_start = l->bitmap_start + l->bitmap_blocks;
	l->rc_blocks = ZP_DIV_UP_(l->blocks, ZPMFS_BLOCK / sizeof(uint32_t));
	l->data_start = l->rc_start + l->rc_blocks;
	if (l->data_start + 8 > l->blocks) {
		fprintf(stderr, "mkfs.zpmfs: %s: %lu inodes do not fit in %lu bytes\n",
			o->dev, (unsigned long)l->inodes, (unsigned long)size);
		return -1;
	}
	return 0;
}

static void progress(const struct mkfs_opts *o, const char *what,
		     uint64_t done, uint64_t total)
{
	if (o->quiet || !isatty(STDOUT_FILENO))
		return;
	printf("\r%s: %3lu%%", what, (unsigned long)(done * 100 / total));
	if (done == total)
		printf("\n");
	fflush(stdout);
}

/* Zero [start, start + n) blocks, with progress for big devices */
static void zero_blocks(const struct mkfs_opts *o, char *base, uint64_t start,
			uint64_t n, const char *what)
{
	const uint64_t step = 16384;	/* 64 MiB */
	uint64_t i;

	for (i = 0; i < n; i += step) {
		uint64_t c = n - i < step ? n - i : step;

		pmem_memset_persist(base + (start + i) * ZPMFS_BLOCK, 0,
				    c * ZPMFS_BLOCK);
		if (n > step)
			progress(o, what, i + c, n);
	}
}

static void write_dev_table(char *base, const struct layout *l,
			    const uint8_t *set_uuid, const uint8_t *dev_uuid)
{
	struct zufs_dev_table dt;

	memset(&dt, 0, sizeof(dt));
	dt.magic = ZUFS_DEV_TABLE_MAGIC;
	dt.version = ZUFS_DEV_TABLE_VERSION;
	memcpy(dt.set_uuid, set_uuid, 16);
	strcpy(dt.fs_type, ZPMFS_NAME);
	dt.dev_index = 0;
	dt.t1_count = 1;
	dt.t2_count = 0;
	dt.block_size = ZUFS_PMEM_BLOCK;
	memcpy(dt.devs[0].uuid, dev_uuid, 16);
	dt.devs[0].blocks = l->blocks;
	dt.csum = zpmfs_crc32(0, &dt, sizeof(dt));
	memset(base, 0, ZPMFS_BLOCK);
	pmem_memcpy_persist(base + ZUFS_DEV_TABLE_OFFSET, &dt, sizeof(dt));
}

static void write_root(char *base, const struct layout *l)
{
	struct zpmfs_inode *root = (struct zpmfs_inode *)
		(base + l->itable_start * ZPMFS_BLOCK);
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	memset(root, 0, sizeof(*root));
	root->mode = S_IFDIR | 0755;
	root->nlink = 2;
	root->uid = getuid();
	root->gid = getgid();
	root->generation = 1;
	root->atime = root->mtime = root->ctime = root->btime = now.tv_sec;
	root->atime_ns = root->mtime_ns = root->ctime_ns = root->btime_ns =
		now.tv_nsec;
	root->parent = ZPMFS_ROOT_INO;
	pmem_persist(root, sizeof(*root));
}

static void write_bitmap(char *base, const struct layout *l)
{
	uint64_t *bm = (uint64_t *)(base + l->bitmap_start * ZPMFS_BLOCK);
	uint64_t b;

	/* metadata blocks are in use; so is everything past the end, so
	 * the allocator never looks beyond the device */
	for (b = 0; b < l->data_start; b++)
		bm[b / 64] |= 1ULL << (b % 64);
	for (b = l->blocks; b < l->bitmap_blocks * ZPMFS_BLOCK * 8; b++)
		bm[b / 64] |= 1ULL << (b % 64);
	pmem_persist(bm, l->bitmap_blocks * ZPMFS_BLOCK);
}

static void write_super(char *base, const struct mkfs_opts *o,
			const struct layout *l, const uint8_t *uuid)
{
	struct zpmfs_super s;
	struct zpmfs_sb_state st;

	memset(&s, 0, sizeof(s));
	s.magic = ZPMFS_SB_MAGIC;
	s.version = ZPMFS_FORMAT_VERSION;
	memcpy(s.uuid, uuid, 16);
	if (o->label)
		strncpy(s.label, o->label, sizeof(s.label) - 1);
	s.total_blocks = l->blocks;
	s.block_size = ZPMFS_BLOCK;
	s.inode_size = ZPMFS_INODE_SIZE;
	s.inode_count = l->inodes;
	s.itable_start = l->itable_start;
	s.itable_blocks = l->itable_blocks;
	s.bitmap_start = l->bitmap_start;
	s.bitmap_blocks = l->bitmap_blocks;
	s.data_start = l->data_start;
	/* the table is zeroed with the metadata area: every block exclusive */
	s.features = ZPMFS_FEAT_REFLINK;
	s.refcount_start = l->rc_start;
	s.refcount_blocks = l->rc_blocks;
	s.log_start = ZPMFS_LOG_START;
	s.log_blocks = ZPMFS_LOG_BLOCKS;
	s.root_ino = ZPMFS_ROOT_INO;
	s.mkfs_time = time(NULL);
	s.csum = zpmfs_crc32(0, &s, sizeof(s));
	memset(&st, 0, sizeof(st));
	st.flags = ZPMFS_STATE_CLEAN;
	st.csum = zpmfs_crc32(0, &st, sizeof(st));
	pmem_memcpy_persist(base + ZPMFS_SB_COPY_BLOCK * ZPMFS_BLOCK, &s,
			    sizeof(s));
	pmem_memcpy_persist(base + ZPMFS_SB_COPY_BLOCK * ZPMFS_BLOCK +
			    ZPMFS_STATE_OFFSET, &st, sizeof(st));
	/* The primary last: until it is written the device is not zpmfs */
	pmem_memcpy_persist(base + ZPMFS_SB_BLOCK * ZPMFS_BLOCK +
			    ZPMFS_STATE_OFFSET, &st, sizeof(st));
	pmem_memcpy_persist(base + ZPMFS_SB_BLOCK * ZPMFS_BLOCK, &s, sizeof(s));
}

static void print_summary(const struct mkfs_opts *o, const struct layout *l,
			  const uint8_t *u)
{
	if (o->quiet)
		return;
	printf("zpmfs on %s: %lu bytes, %lu blocks of %d, %lu inodes, %lu data blocks\n",
	       o->dev, (unsigned long)(l->blocks * ZPMFS_BLOCK),
	       (unsigned long)l->blocks, ZPMFS_BLOCK,
	       (unsigned long)l->inodes,
	       (unsigned long)(l->blocks - l->data_start));
	printf("uuid %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x label '%s'\n",
	       u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
	       u[10], u[11], u[12], u[13], u[14], u[15],
	       o->label ? o->label : "");
}

static void make_uuid(uint8_t *u)
{
	if (getrandom(u, 16, 0) != 16) {
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

		memcpy(u, &t, 8);
		memcpy(u + 8, &t, 8);
	}
	u[6] = (u[6] & 0x0f) | 0x40;	/* RFC 4122 version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;
}

int main(int argc, char **argv)
{
	struct mkfs_opts o = { 0 };
	uint8_t set_uuid[16], dev_uuid[16];
	struct layout l;
	const char *fs;
	uint64_t size;
	char *base;
	int fd, ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	fd = open_target(&o, &size);
	if (fd < 0)
		return 1;
	fs = existing_fs(fd);
	if (fs && !o.force) {
		fprintf(stderr, "mkfs.zpmfs: %s contains %s; use -f to overwrite it\n",
			o.dev, fs);
		return 1;
	}
	if (plan(&o, size, &l))
		return 1;
	base = mmap(NULL, l.blocks * ZPMFS_BLOCK, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		fprintf(stderr, "mkfs.zpmfs: %s: mmap: %s\n", o.dev,
			strerror(errno));
		return 1;
	}
	make_uuid(set_uuid);
	make_uuid(dev_uuid);
	/* Kill the old identity first, so a crash mid-mkfs leaves nothing
	 * that looks mountable. */
	zero_blocks(&o, base, 0, ZPMFS_SB_COPY_BLOCK + 1, "superblocks");
	zero_blocks(&o, base, ZPMFS_LOG_START, l.data_start - ZPMFS_LOG_START,
		    "inode table");
	write_root(base, &l);
	write_bitmap(base, &l);
	write_dev_table(base, &l, set_uuid, dev_uuid);
	write_super(base, &o, &l, set_uuid);
	if (msync(base, l.blocks * ZPMFS_BLOCK, MS_SYNC) || fsync(fd)) {
		fprintf(stderr, "mkfs.zpmfs: %s: sync: %s\n", o.dev,
			strerror(errno));
		return 1;
	}
	munmap(base, l.blocks * ZPMFS_BLOCK);
	close(fd);
	print_summary(&o, &l, set_uuid);
	return 0;
}
