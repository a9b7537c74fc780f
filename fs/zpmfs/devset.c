// SPDX-License-Identifier: BSD-3-Clause
/*
 * devset.c - the device table and device sets in user space (devset.h).
 *
 * The kernel (kernel/zuf/md.c) checks the same things when it mounts a
 * set; this is the parser the plugin, mkfs.zpmfs, fsck.zpmfs and
 * zpmfs-grow share.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "devset.h"
#include "zpmfs_format.h"

uint32_t zp_table_csum(const struct zufs_dev_table *t)
{
	struct zufs_dev_table c = *t;

	c.csum = 0;
	return zpmfs_crc32(0, &c, sizeof(c));
}

const char *zp_table_invalid(const struct zufs_dev_table *t, uint64_t dev_size)
{
	uint32_t n = (uint32_t)t->t1_count + t->t2_count, i;
	uint64_t total = 0;

	if (t->magic != ZUFS_DEV_TABLE_MAGIC)
		return "no zufs device table";
	if (t->version != ZUFS_DEV_TABLE_VERSION)
		return "device table version unknown";
	if (zp_table_csum(t) != t->csum)
		return "device table checksum mismatch";
	if (strncmp(t->fs_type, ZPMFS_NAME, sizeof(t->fs_type)))
		return "device table belongs to another filesystem type";
	if (t->block_size != ZUFS_PMEM_BLOCK)
		return "device table block size is not 4096";
	if (n == 0 || n > ZUFS_MAX_DEVS || t->dev_index >= n)
		return "device table: bad member counts";
	if (t->t2_count)
		return "device table: block (t2) members are not supported";
	for (i = 0; i < n; i++) {
		if (t->devs[i].blocks < 2 ||
		    __builtin_add_overflow(total, t->devs[i].blocks, &total))
			return "device table: bad member size";
		if (i + 1 < n && t->devs[i].blocks % ZP_MEMBER_ALIGN)
			return "device table: member size is not a multiple of 256 KiB";
	}
	if (t->devs[t->dev_index].blocks > dev_size / ZUFS_PMEM_BLOCK)
		return "device table gives this member more blocks than the device has";
	return NULL;
}

bool zp_table_same_set(const struct zufs_dev_table *t,
		       const struct zufs_dev_table *c)
{
	struct zufs_dev_table a = *t, b = *c;

	a.csum = b.csum = 0;
	a.dev_index = b.dev_index = 0;
	return !memcmp(&a, &b, sizeof(a));
}

uint64_t zp_table_member_start(const struct zufs_dev_table *t, unsigned int i)
{
	uint64_t b = 0;
	unsigned int j;

	for (j = 0; j < i && j < ZUFS_MAX_DEVS; j++)
		b += t->devs[j].blocks;
	return b;
}

/* NUMA node of a block device (its namespace's), -1 for files */
static int dev_node(const struct stat *st)
{
	char p[96];
	int node = -1;
	FILE *f;

	if (!S_ISBLK(st->st_mode))
		return -1;
	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/device/numa_node",
		 major(st->st_rdev), minor(st->st_rdev));
	f = fopen(p, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &node) != 1)
		node = -1;
	fclose(f);
	return node;
}

int zp_devset_add(struct zp_devset *s, const char *path, int flags)
{
	struct zp_member *m = &s->m[s->n];
	struct stat st;
	unsigned int i;

	if (s->n >= ZUFS_MAX_DEVS) {
		fprintf(stderr, "%s: %s: a set has at most %d members\n",
			s->tool, path, ZUFS_MAX_DEVS);
		return -1;
	}
	memset(m, 0, sizeof(*m));
	m->path = path;
	if (stat(path, &st)) {
		fprintf(stderr, "%s: %s: %s\n", s->tool, path, strerror(errno));
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		struct stat o;

		if (!fstat(s->m[i].fd, &o) && o.st_dev == st.st_dev &&
		    o.st_ino == st.st_ino && o.st_rdev == st.st_rdev) {
			fprintf(stderr, "%s: %s is named twice (as %s too)\n",
				s->tool, path, s->m[i].path);
			return -1;
		}
	}
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: %s: not a block device or file\n",
			s->tool, path);
		return -1;
	}
	/* O_EXCL on a block device: EBUSY while a filesystem holds it */
	m->fd = open(path, flags | (S_ISBLK(st.st_mode) ? O_EXCL : 0));
	if (m->fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", s->tool, path,
			errno == EBUSY ? "in use (mounted?)" : strerror(errno));
		return -1;
	}
	/* an image file has no O_EXCL: zus-fuse holds a lock on it instead */
	if (S_ISREG(st.st_mode) &&
	    flock(m->fd, ((flags & O_ACCMODE) == O_RDONLY ? LOCK_SH : LOCK_EX) |
		  LOCK_NB)) {
		fprintf(stderr, "%s: %s: %s\n", s->tool, path,
			errno == EWOULDBLOCK ? "in use (mounted by zus-fuse?)" :
			strerror(errno));
		close(m->fd);
		return -1;
	}
	m->dev_size = st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(m->fd, BLKGETSIZE64, &m->dev_size)) {
		fprintf(stderr, "%s: %s: BLKGETSIZE64: %s\n", s->tool, path,
			strerror(errno));
		close(m->fd);
		return -1;
	}
	m->node = dev_node(&st);
	s->n++;
	return 0;
}

void zp_devset_read_tables(struct zp_devset *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		struct zp_member *m = &s->m[i];

		memset(&m->table, 0, sizeof(m->table));
		if (pread(m->fd, &m->table, sizeof(m->table),
			  ZUFS_DEV_TABLE_OFFSET) != sizeof(m->table))
			m->bad = "cannot read the device table";
		else
			m->bad = zp_table_invalid(&m->table, m->dev_size);
	}
}

/* Is the device at path one of the set's open members already? */
static bool open_already(const struct zp_devset *s, const char *path)
{
	struct stat st, o;
	unsigned int i;

	if (stat(path, &st))
		return true;
	for (i = 0; i < s->n; i++)
		if (!fstat(s->m[i].fd, &o) && o.st_rdev == st.st_rdev &&
		    S_ISBLK(o.st_mode))
			return true;
	return false;
}

/* Does the device at path hold a member table of t's set? */
static bool holds_member(const char *path, const struct zufs_dev_table *t)
{
	struct zufs_dev_table c;
	int fd = open(path, O_RDONLY);
	bool yes;

	if (fd < 0)
		return false;
	yes = pread(fd, &c, sizeof(c), ZUFS_DEV_TABLE_OFFSET) == sizeof(c) &&
	      c.magic == ZUFS_DEV_TABLE_MAGIC &&
	      !memcmp(c.set_uuid, t->set_uuid, sizeof(c.set_uuid));
	close(fd);
	return yes;
}

int zp_devset_find(struct zp_devset *s, const struct zufs_dev_table *t,
		   int flags)
{
	glob_t g;
	size_t i;
	int added = 0;

	if (glob("/dev/pmem*", 0, NULL, &g))
		return 0;
	for (i = 0; i < g.gl_pathc && s->n < ZUFS_MAX_DEVS; i++) {
		const char *p = g.gl_pathv[i];

		/* whole devices only: pmem0, not pmem0p1 or pmem0.1 */
		if (strpbrk(p + strlen("/dev/pmem"), "p.s") ||
		    open_already(s, p) || !holds_member(p, t))
			continue;
		/* the path must outlive the glob */
		p = strdup(p);
		if (p && !zp_devset_add(s, p, flags))
			added++;
	}
	globfree(&g);
	return added;
}

int zp_devset_map(struct zp_devset *s, bool writable)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	uint64_t off = 0;
	unsigned int i;
	char *base;

	s->size = 0;
	for (i = 0; i < s->n; i++)
		s->size += s->m[i].blocks * ZUFS_PMEM_BLOCK;
	/* reserve the whole range, then put each member in its place */
	base = mmap(NULL, s->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (base == MAP_FAILED) {
		fprintf(stderr, "%s: cannot reserve %lu bytes of address space: %s\n",
			s->tool, (unsigned long)s->size, strerror(errno));
		return -1;
	}
	for (i = 0; i < s->n; i++) {
		uint64_t len = s->m[i].blocks * ZUFS_PMEM_BLOCK;

		if (mmap(base + off, len, prot, MAP_SHARED | MAP_FIXED,
			 s->m[i].fd, 0) == MAP_FAILED) {
			fprintf(stderr, "%s: %s: mmap: %s\n", s->tool,
				s->m[i].path, strerror(errno));
			munmap(base, s->size);
			return -1;
		}
		off += len;
	}
	s->base = base;
	return 0;
}

int zp_devset_sync(struct zp_devset *s)
{
	uint64_t off = 0;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < s->n; i++) {
		uint64_t len = s->m[i].blocks * ZUFS_PMEM_BLOCK;

		if ((s->base && msync(s->base + off, len, MS_SYNC)) ||
		    fsync(s->m[i].fd)) {
			fprintf(stderr, "%s: %s: sync: %s\n", s->tool,
				s->m[i].path, strerror(errno));
			ret = -1;
		}
		off += len;
	}
	return ret;
}

void zp_devset_close(struct zp_devset *s)
{
	unsigned int i;

	if (s->base)
		munmap(s->base, s->size);
	s->base = NULL;
	for (i = 0; i < s->n; i++)
		close(s->m[i].fd);
	s->n = 0;
}

void zp_devset_drop_left(struct zp_devset *s)
{
	unsigned int i, j;

	for (i = j = 0; i < s->n; i++) {
		if (s->m[i].left)
			close(s->m[i].fd);
		else
			s->m[j++] = s->m[i];
	}
	s->n = j;
}

/* Name of a filesystem found on the target, or NULL */
const char *zp_existing_fs(int fd)
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


void zp_make_uuid(uint8_t *u)
{
	if (getrandom(u, 16, 0) != 16) {
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

		memcpy(u, &t, 8);
		memcpy(u + 8, &t, 8);
	}
	u[6] = (u[6] & 0x0f) | 0x40;	/* RFC 4122 version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;
}

/* Is dev (or the file it names) the source of a mount? */
bool zp_path_mounted(const char *dev)
{
	char want[PATH_MAX], src[PATH_MAX], line[3 * PATH_MAX], *sp;
	bool found = false;
	FILE *m;

	if (!realpath(dev, want))
		return false;
	m = fopen("/proc/mounts", "r");
	if (!m)
		return false;
	while (!found && fgets(line, sizeof(line), m)) {
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		found = realpath(line, src) && !strcmp(src, want);
	}
	fclose(m);
	return found;
}

int zp_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: break;
	}
	end += !!shift;
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || (shift && v > (~0ULL >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}
