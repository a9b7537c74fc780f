// SPDX-License-Identifier: BSD-3-Clause
/*
 * mkfs.zpmfs - make a zpmfs filesystem on a pmem device or an image file.
 *
 * Writes the zufs device table (block 0 of every member), the superblock
 * and its copy, an empty log area, the inode table with the root
 * directory, and the block bitmap.  Refuses to overwrite anything it
 * recognises without -f.  Given several devices, makes one filesystem
 * over the set: the members one after the other form its block range,
 * the metadata lives on the first, and each member's first block holds
 * its copy of the set's table (devset.h).
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zpmfs_format.h"
#include "devset.h"
#include "pmem.h"

#define MIN_BLOCKS	64	/* 256 KiB */
#define BYTES_PER_INODE	8192
#define SMALL_DEV_INODES	131072
#define ZP_DIV_UP_(a, b)	(((a) + (b) - 1) / (b))
/* Default room for zpmfs-grow: a set may grow to this many times its size
 * (the refcount table, 0.1 % of the room, is the cost) */
#define GROW_FACTOR	4

struct mkfs_opts {
	const char *dev;	/* the first member, for messages */
	char **devs;
	unsigned int ndevs;
	const char *label;
	uint64_t size;
	uint64_t max_size;	/* room for zpmfs-grow; 0: the default */
	bool max_given;
	uint64_t inodes;
	bool force;
	bool quiet;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mkfs.zpmfs [-f] [-s SIZE] [-m SIZE] [-i INODES] [-L LABEL] [-q]\n"
		"                  DEVICE-OR-FILE...\n"
		"Make a zpmfs filesystem on a pmem block device or an image file, or\n"
		"one over a set of up to %d of them (mount it by any member).\n\n"
		"  -f, --force        overwrite an existing filesystem\n"
		"  -s, --size SIZE    size of each member (K/M/G/T suffixes); a file is\n"
		"                     created or extended to it; default: the whole device\n"
		"  -m, --max-size SIZE  reserve bitmap and refcount room for zpmfs-grow\n"
		"                     to grow the set up to SIZE in all (default: %d times\n"
		"                     its size, less if the first member cannot hold it;\n"
		"                     0: no room beyond the size)\n"
		"  -i, --inodes N     number of inodes (default: one per %d KiB, but\n"
		"                     one per 2 KiB up to 131072 inodes)\n"
		"  -L, --label LABEL  volume label (up to 63 bytes)\n"
		"  -q, --quiet        print nothing but errors\n"
		"  -h, --help         this help\n"
		"Members of a set but the last use a multiple of 256 KiB; the metadata\n"
		"(inode table, bitmaps) lives on the first member.  The last member is\n"
		"rounded down to 256 KiB too when the set has room to grow.\n",
		ZUFS_MAX_DEVS, GROW_FACTOR, BYTES_PER_INODE / 1024);
}

static int parse_args(int argc, char **argv, struct mkfs_opts *o)
{
	static const struct option lopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "inodes", required_argument, NULL, 'i' },
		{ "label", required_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "fs:m:i:L:qh", lopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->force = true; break;
		case 'q': o->quiet = true; break;
		case 'L': o->label = optarg; break;
		case 's':
			if (zp_parse_size(optarg, &o->size)) {
				fprintf(stderr, "mkfs.zpmfs: bad size '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'm':
			if (zp_parse_size(optarg, &o->max_size)) {
				fprintf(stderr, "mkfs.zpmfs: bad maximum size '%s'\n",
					optarg);
				return 2;
			}
			o->max_given = true;
			break;
		case 'i':
			if (zp_parse_size(optarg, &o->inodes) || !o->inodes) {
				fprintf(stderr, "mkfs.zpmfs: bad inode count '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc || argc - optind > ZUFS_MAX_DEVS) {
		usage(stderr);
		return 2;
	}
	o->dev = argv[optind];
	o->devs = argv + optind;
	o->ndevs = argc - optind;
	if (o->label && strlen(o->label) > 63) {
		fprintf(stderr, "mkfs.zpmfs: label longer than 63 bytes\n");
		return 2;
	}
	return 0;
}

/* A file member is created or extended to -s first */
static int prepare_file(const struct mkfs_opts *o, const char *path)
{
	struct stat st;
	int fd;

	if (!stat(path, &st) && !S_ISREG(st.st_mode))
		return 0;
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "mkfs.zpmfs: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((uint64_t)st.st_size < o->size && ftruncate(fd, o->size)) {
		fprintf(stderr, "mkfs.zpmfs: %s: cannot extend to %lu bytes: %s\n",
			path, (unsigned long)o->size, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Open every member and decide how many blocks of each the set uses: -s
 * or the whole device, and all but the last a multiple of ZP_MEMBER_ALIGN.
 */
static int open_targets(const struct mkfs_opts *o, struct zp_devset *set)
{
	unsigned int i;

	for (i = 0; i < o->ndevs; i++) {
		struct zp_member *m = &set->m[i];

		if (prepare_file(o, o->devs[i]) ||
		    zp_devset_add(set, o->devs[i], O_RDWR))
			return -1;
		if (o->size > m->dev_size) {
			fprintf(stderr, "mkfs.zpmfs: %s: -s %lu is larger than the device (%lu bytes)\n",
				m->path, (unsigned long)o->size,
				(unsigned long)m->dev_size);
			return -1;
		}
		m->blocks = (o->size ? o->size : m->dev_size) / ZPMFS_BLOCK;
		/* a member that another may follow (zpmfs-grow) is aligned */
		if (i + 1 < o->ndevs || !o->max_given || o->max_size)
			m->blocks -= m->blocks % ZP_MEMBER_ALIGN;
		if (o->ndevs > 1 && m->blocks < ZP_MEMBER_ALIGN) {
			fprintf(stderr, "mkfs.zpmfs: %s: %lu bytes is too small for a set member (minimum 256 KiB)\n",
				m->path, (unsigned long)m->dev_size);
			return -1;
		}
	}
	return 0;
}

struct layout {
	uint64_t blocks, room, inodes, itable_start, itable_blocks;
	uint64_t bitmap_start, bitmap_blocks, data_start;
	uint64_t rc_start, rc_blocks;	/* refcount table (reflink) */
};

/* Bitmap and refcount table sized for room blocks, and where data starts */
static void place_tables(struct layout *l, uint64_t room)
{
	l->bitmap_blocks = ZP_DIV_UP_(room, ZPMFS_BLOCK * 8);
	l->rc_start = l->bitmap_start + l->bitmap_blocks;
	l->rc_blocks = ZP_DIV_UP_(room, ZPMFS_BLOCK / sizeof(uint32_t));
	l->data_start = l->rc_start + l->rc_blocks;
	/* what the rounding up leaves is room too */
	l->room = l->bitmap_blocks * ZPMFS_BLOCK * 8;
	if (l->rc_blocks * (ZPMFS_BLOCK / sizeof(uint32_t)) < l->room)
		l->room = l->rc_blocks * (ZPMFS_BLOCK / sizeof(uint32_t));
}

/*
 * Room for zpmfs-grow: --max-size as given, else GROW_FACTOR times the
 * size while the tables leave the first member half of its blocks.
 */
static int plan_room(const struct mkfs_opts *o, uint64_t first_blocks,
		     struct layout *l)
{
	uint64_t room = o->max_size / ZPMFS_BLOCK;

	if (o->max_given) {
		if (room && room < l->blocks) {
			fprintf(stderr, "mkfs.zpmfs: %s: --max-size %lu is smaller than the filesystem (%lu bytes)\n",
				o->dev, (unsigned long)o->max_size,
				(unsigned long)(l->blocks * ZPMFS_BLOCK));
			return -1;
		}
		place_tables(l, room > l->blocks ? room : l->blocks);
		if (room && l->data_start + 8 > first_blocks) {
			fprintf(stderr, "mkfs.zpmfs: %s: the room for --max-size %lu (%lu metadata blocks) does not fit on the first member (%lu blocks)\n",
				o->dev, (unsigned long)o->max_size,
				(unsigned long)l->data_start,
				(unsigned long)first_blocks);
			return -1;
		}
		return 0;
	}
	for (room = l->blocks * GROW_FACTOR; room > l->blocks; room /= 2) {
		place_tables(l, room);
		if (l->data_start <= first_blocks / 2)
			return 0;
	}
	place_tables(l, l->blocks);
	return 0;
}

static int plan(const struct mkfs_opts *o, uint64_t first_blocks,
		uint64_t size, struct layout *l)
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
	if (plan_room(o, first_blocks, l))
		return -1;
	if (l->data_start + 8 > l->blocks) {
		fprintf(stderr, "mkfs.zpmfs: %s: %lu inodes do not fit in %lu bytes\n",
			o->dev, (unsigned long)l->inodes, (unsigned long)size);
		return -1;
	}
	if (l->data_start + 8 > first_blocks) {
		fprintf(stderr, "mkfs.zpmfs: %s: the metadata (%lu blocks) does not fit on the first member (%lu blocks): name a bigger device first\n",
			o->dev, (unsigned long)l->data_start,
			(unsigned long)first_blocks);
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

/* The same table on every member, but for its own index */
static void write_dev_tables(const struct zp_devset *set,
			     const uint8_t *set_uuid)
{
	struct zufs_dev_table dt;
	unsigned int i;

	memset(&dt, 0, sizeof(dt));
	dt.magic = ZUFS_DEV_TABLE_MAGIC;
	dt.version = ZUFS_DEV_TABLE_VERSION;
	memcpy(dt.set_uuid, set_uuid, 16);
	strcpy(dt.fs_type, ZPMFS_NAME);
	dt.t1_count = set->n;
	dt.t2_count = 0;
	dt.block_size = ZUFS_PMEM_BLOCK;
	for (i = 0; i < set->n; i++) {
		zp_make_uuid(dt.devs[i].uuid);
		dt.devs[i].blocks = set->m[i].blocks;
		dt.devs[i].node = set->m[i].node + 1;
	}
	for (i = 0; i < set->n; i++) {
		char *b = set->base + zp_table_member_start(&dt, i) *
			  ZPMFS_BLOCK;

		dt.dev_index = i;
		dt.csum = zp_table_csum(&dt);
		memset(b, 0, ZPMFS_BLOCK);
		pmem_memcpy_persist(b + ZUFS_DEV_TABLE_OFFSET, &dt, sizeof(dt));
	}
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

static void write_bitmap(const struct zp_devset *set, const struct layout *l)
{
	uint64_t *bm = (uint64_t *)(set->base + l->bitmap_start * ZPMFS_BLOCK);
	uint64_t b = 0;
	unsigned int i;

	/* each later member's table block is never the allocator's */
	for (i = 1; i < set->n; i++) {
		b += set->m[i - 1].blocks;
		bm[b / 64] |= 1ULL << (b % 64);
	}
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

static void print_summary(const struct mkfs_opts *o, const struct zp_devset *set,
			  const struct layout *l, const uint8_t *u)
{
	unsigned int i;

	if (o->quiet)
		return;
	for (i = 0; set->n > 1 && i < set->n; i++)
		printf("member %u: %s, %lu blocks, NUMA node %d\n", i,
		       set->m[i].path, (unsigned long)set->m[i].blocks,
		       set->m[i].node);
	printf("zpmfs on %s%s: %lu bytes, %lu blocks of %d, %lu inodes, %lu data blocks\n",
	       o->dev, set->n > 1 ? " and the set above" : "",
	       (unsigned long)(l->blocks * ZPMFS_BLOCK),
	       (unsigned long)l->blocks, ZPMFS_BLOCK,
	       (unsigned long)l->inodes,
	       (unsigned long)(l->blocks - l->data_start));
	if (l->room > l->blocks)
		printf("room to grow (zpmfs-grow) to %lu MiB\n",
		       (unsigned long)(l->room * ZPMFS_BLOCK >> 20));
	printf("uuid %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x label '%s'\n",
	       u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
	       u[10], u[11], u[12], u[13], u[14], u[15],
	       o->label ? o->label : "");
}

/* Refuse to overwrite a filesystem on any member, without -f */
static int check_existing(const struct mkfs_opts *o, const struct zp_devset *set)
{
	unsigned int i;

	for (i = 0; i < set->n; i++) {
		const char *fs = zp_existing_fs(set->m[i].fd);

		if (fs && !o->force) {
			fprintf(stderr, "mkfs.zpmfs: %s contains %s; use -f to overwrite it\n",
				set->m[i].path, fs);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct zp_devset set = { .tool = "mkfs.zpmfs" };
	struct mkfs_opts o = { 0 };
	uint8_t set_uuid[16];
	struct layout l;
	uint64_t size = 0;
	unsigned int i;
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	if (open_targets(&o, &set) || check_existing(&o, &set))
		return 1;
	for (i = 0; i < set.n; i++)
		size += set.m[i].blocks * ZPMFS_BLOCK;
	if (plan(&o, set.m[0].blocks, size, &l) || zp_devset_map(&set, true))
		return 1;
	zp_make_uuid(set_uuid);
	/* Kill the old identity first, so a crash mid-mkfs leaves nothing
	 * that looks mountable. */
	zero_blocks(&o, set.base, 0, ZPMFS_SB_COPY_BLOCK + 1, "superblocks");
	zero_blocks(&o, set.base, ZPMFS_LOG_START,
		    l.data_start - ZPMFS_LOG_START, "inode table");
	write_root(set.base, &l);
	write_bitmap(&set, &l);
	write_dev_tables(&set, set_uuid);
	write_super(set.base, &o, &l, set_uuid);
	if (zp_devset_sync(&set))
		return 1;
	print_summary(&o, &set, &l, set_uuid);
	zp_devset_close(&set);
	return 0;
}
