// SPDX-License-Identifier: BSD-3-Clause
/*
 * zpmfs-grow - add a member to a zpmfs set, offline.
 *
 * The new member goes last, so no block of the old set moves: the set's
 * range just gets longer, and the bitmap and refcount table already have
 * room for it (mkfs.zpmfs --max-size).  The writes are ordered so that a
 * crash leaves the old set or the new one (growset.c; README.md, "Growing
 * a set"), and the primary superblock's total_blocks is the commit point.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devset.h"
#include "zpmfs_format.h"

#define TOOL	"zpmfs-grow"

struct grow {
	struct zp_devset set;
	const char *new_path;
	struct zp_member *nm;		/* the new device */
	struct zp_member *old[ZUFS_MAX_DEVS];	/* by member index */
	struct zufs_dev_table t;	/* the set's table before the grow */
	struct zpmfs_super sb;
	uint64_t size;			/* -s: bytes of the new device */
	uint64_t new_blocks;
	bool force, quiet, dry_run;
	long crash_after;		/* test hook: stop dead after N steps */
	long steps;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: zpmfs-grow [-f] [-n] [-q] [-s SIZE] MEMBER... NEW-DEVICE\n"
		"Add NEW-DEVICE (a pmem block device or an image file) as the last\n"
		"member of the zpmfs set MEMBER belongs to, offline: no member may be\n"
		"mounted.  Members not named are looked for among /dev/pmem* by set\n"
		"uuid (image files must all be named).  The data stays where it is;\n"
		"the set gets NEW-DEVICE's blocks.  The set can grow as far as the\n"
		"room mkfs.zpmfs reserved (--max-size; it prints it).\n\n"
		"  -s, --size SIZE  use SIZE bytes of NEW-DEVICE (K/M/G/T; default all)\n"
		"  -f, --force      overwrite another filesystem found on NEW-DEVICE\n"
		"  -n, --dry-run    check everything, write nothing\n"
		"  -q, --quiet      print nothing but errors\n"
		"  -h, --help       this help\n"
		"      --crash-after N  (tests) stop dead after N of the ordered writes\n"
		"A grow that was interrupted (crash, power loss) is finished or undone\n"
		"first, as the superblock says; fsck.zpmfs -p does the same.  Running\n"
		"the same command again after a crash is safe.\n"
		"Exit: 0 grown (or NEW-DEVICE already a member), 1 refused or failed,\n"
		"2 usage.\n");
}

static int parse_args(int argc, char **argv, struct grow *g)
{
	static const struct option lopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "crash-after", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:fnqh", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (zp_parse_size(optarg, &g->size) || !g->size) {
				fprintf(stderr, TOOL ": bad size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'f': g->force = true; break;
		case 'n': g->dry_run = true; break;
		case 'q': g->quiet = true; break;
		case 'C': g->crash_after = atol(optarg); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > ZUFS_MAX_DEVS + 1) {
		usage(stderr);
		return 2;
	}
	g->new_path = argv[argc - 1];
	return 0;
}

/* Open every device named; the new one last */
static int open_all(struct grow *g, char **paths, int n)
{
	int i, flags = g->dry_run ? O_RDONLY : O_RDWR;

	for (i = 0; i < n; i++) {
		if (zp_path_mounted(paths[i])) {
			fprintf(stderr, TOOL ": %s is mounted: unmount the set first\n",
				paths[i]);
			return -1;
		}
		if (zp_devset_add(&g->set, paths[i], flags))
			return -1;
	}
	return 0;
}

static struct zp_member *member_named(struct zp_devset *s, const char *path)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->m[i].path == path)
			return &s->m[i];
	return NULL;
}

/* NEW-DEVICE must be free for the set: 1 if it is a member already */
static int check_new(struct grow *g)
{
	const struct zufs_dev_table *t = &g->nm->table;
	const char *fs;

	if (!g->nm->bad) {
		if (!memcmp(t->set_uuid, g->t.set_uuid, 16) &&
		    zp_table_same_set(t, &g->t))
			return 1;
		fprintf(stderr, TOOL ": %s already belongs to a zufs set (member %u of %u, %.16s): refusing; it must not be a member of any set\n",
			g->new_path, t->dev_index, t->t1_count, t->fs_type);
		return -1;
	}
	fs = zp_existing_fs(g->nm->fd);
	if (fs && !g->force) {
		fprintf(stderr, TOOL ": %s contains %s; use -f to overwrite it\n",
			g->new_path, fs);
		return -1;
	}
	return 0;
}

/* The old members, each once, at their index; refuse an incomplete set */
static int order_old(struct grow *g)
{
	struct zp_devset *s = &g->set;
	unsigned int i, n = g->t.t1_count;

	for (i = 0; i < s->n; i++) {
		struct zp_member *m = &s->m[i];

		if (m == g->nm)
			continue;
		if (m->bad) {
			fprintf(stderr, TOOL ": %s: %s (fsck.zpmfs -p repairs a damaged member table)\n",
				m->path, m->bad);
			return -1;
		}
		if (memcmp(m->table.set_uuid, g->t.set_uuid, 16) ||
		    !zp_table_same_set(&m->table, &g->t)) {
			fprintf(stderr, TOOL ": %s is not a member of the set %s belongs to\n",
				m->path, g->old[0] ? g->old[0]->path : s->m[0].path);
			return -1;
		}
		if (g->old[m->table.dev_index]) {
			fprintf(stderr, TOOL ": %s and %s both claim member %u\n",
				g->old[m->table.dev_index]->path, m->path,
				m->table.dev_index);
			return -1;
		}
		g->old[m->table.dev_index] = m;
	}
	for (i = 0; i < n; i++) {
		if (!g->old[i]) {
			fprintf(stderr, TOOL ": set incomplete: member %u of %u (%lu blocks) not found; name every member\n",
				i, n, (unsigned long)g->t.devs[i].blocks);
			return -1;
		}
	}
	return 0;
}

/* The set's table from the first old member, the others found by uuid */
static int find_set(struct grow *g)
{
	struct zp_devset *s = &g->set;
	unsigned int i;

	g->nm = member_named(s, g->new_path);
	for (i = 0; i < s->n && (&s->m[i] == g->nm || s->m[i].bad); i++)
		;
	if (i == s->n) {
		fprintf(stderr, TOOL ": %s: %s\n", s->m[0].path,
			s->m[0].bad ? s->m[0].bad : "not a zpmfs set member");
		return -1;
	}
	g->t = s->m[i].table;
	if (g->t.t1_count + 1u > s->n &&
	    zp_devset_find(s, &g->t, g->dry_run ? O_RDONLY : O_RDWR))
		zp_devset_read_tables(s);
	return 0;
}

/* The filesystem is whole, clean, and has room for the new blocks */
static int check_super(struct grow *g)
{
	struct zp_member *z = g->old[0], *last = g->old[g->t.t1_count - 1];
	uint64_t last_blocks = g->t.devs[g->t.t1_count - 1].blocks;
	uint64_t total = zp_table_member_start(&g->t, g->t.t1_count);
	uint64_t room, want;
	struct zpmfs_sb_state st;

	if (zp_super_read(z->fd, ZPMFS_SB_BLOCK, &g->sb) ||
	    g->sb.version != ZPMFS_FORMAT_VERSION ||
	    (g->sb.features & ~ZPMFS_FEATURES)) {
		fprintf(stderr, TOOL ": %s: no valid zpmfs superblock of a version this tool knows (fsck.zpmfs first)\n",
			z->path);
		return -1;
	}
	if (pread(z->fd, &st, sizeof(st), ZPMFS_SB_BLOCK * ZPMFS_BLOCK +
		  ZPMFS_STATE_OFFSET) != sizeof(st) ||
	    !(st.flags & ZPMFS_STATE_CLEAN)) {
		fprintf(stderr, TOOL ": %s: the filesystem was not unmounted cleanly: mount and unmount it first\n",
			z->path);
		return -1;
	}
	if (g->sb.total_blocks != total) {
		fprintf(stderr, TOOL ": %s: the superblock has %lu blocks, the device tables %lu: run fsck.zpmfs first\n",
			z->path, (unsigned long)g->sb.total_blocks,
			(unsigned long)total);
		return -1;
	}
	if (g->t.t1_count >= ZUFS_MAX_DEVS) {
		fprintf(stderr, TOOL ": the set has %d members already, the most a set can have\n",
			ZUFS_MAX_DEVS);
		return -1;
	}
	if (last_blocks % ZP_MEMBER_ALIGN) {
		fprintf(stderr, TOOL ": %s: the last member's %lu blocks are not a multiple of 256 KiB, so no member can follow it (made by an older mkfs.zpmfs or with --max-size 0)\n",
			last->path, (unsigned long)last_blocks);
		return -1;
	}
	room = zp_super_room(&g->sb);
	want = total + g->new_blocks;
	if (want > room) {
		fprintf(stderr, TOOL ": %s: growing the set to %lu MiB exceeds its room of %lu MiB (the bitmap and refcount table mkfs.zpmfs sized; --max-size makes more)%s\n",
			g->new_path, (unsigned long)(want * ZPMFS_BLOCK >> 20),
			(unsigned long)(room * ZPMFS_BLOCK >> 20),
			room < total + ZP_MEMBER_ALIGN ?
			": this filesystem has no room to grow" : "");
		return -1;
	}
	return 0;
}

static int size_new(struct grow *g)
{
	uint64_t bytes = g->size ? g->size : g->nm->dev_size;

	if (bytes > g->nm->dev_size) {
		fprintf(stderr, TOOL ": %s: -s %lu is larger than the device (%lu bytes)\n",
			g->new_path, (unsigned long)bytes,
			(unsigned long)g->nm->dev_size);
		return -1;
	}
	g->new_blocks = bytes / ZPMFS_BLOCK;
	if (g->new_blocks < ZP_MEMBER_ALIGN) {
		fprintf(stderr, TOOL ": %s: %lu bytes is too small for a set member (minimum 256 KiB)\n",
			g->new_path, (unsigned long)bytes);
		return -1;
	}
	return 0;
}

/* One of the ordered writes done; the test hook stops dead here */
static void step(struct grow *g)
{
	if (g->crash_after && ++g->steps >= g->crash_after) {
		fprintf(stderr, TOOL ": --crash-after %ld: stopping\n",
			g->crash_after);
		_exit(3);
	}
}

/* The new blocks free in the bitmap (but the new member's table block),
 * their reference counts 0 */
static int prepare_room(struct grow *g)
{
	uint64_t first = g->sb.total_blocks, n = g->new_blocks, i;
	uint64_t bytes = (n + 7) / 8, rc_off, rc_len;
	unsigned char *bm = calloc(bytes, 1);
	int ret;

	if (!bm) {
		fprintf(stderr, TOOL ": out of memory\n");
		return -1;
	}
	/* the last byte's bits past the new end stay in use */
	for (i = n; i < bytes * 8; i++)
		bm[i / 8] |= 1U << (i % 8);
	bm[0] |= 1;
	ret = zp_write_sync(&g->set, g->old[0], bm, bytes,
			    g->sb.bitmap_start * ZPMFS_BLOCK + first / 8);
	free(bm);
	if (ret || !(g->sb.features & ZPMFS_FEAT_REFLINK))
		return ret;
	rc_off = g->sb.refcount_start * ZPMFS_BLOCK + first * sizeof(uint32_t);
	rc_len = n * sizeof(uint32_t);
	for (i = 0; i < rc_len && !ret; i += ZPMFS_BLOCK * 16) {
		static const char zeros[ZPMFS_BLOCK * 16];
		uint64_t len = rc_len - i < sizeof(zeros) ? rc_len - i :
			       sizeof(zeros);

		ret = zp_write_sync(&g->set, g->old[0], zeros, len, rc_off + i);
	}
	return ret;
}

/* The new member: its table first, then its block 1 and 2 zeroed so no
 * superblock of a former life is found there */
static int write_new_member(struct grow *g, struct zufs_dev_table *nt)
{
	static const char zeros[3 * ZPMFS_BLOCK];
	unsigned int n = g->t.t1_count;

	*nt = g->t;
	nt->t1_count = n + 1;
	zp_make_uuid(nt->devs[n].uuid);
	nt->devs[n].blocks = g->new_blocks;
	nt->devs[n].node = g->nm->node + 1;
	nt->dev_index = n;
	nt->csum = zp_table_csum(nt);
	if (zp_write_sync(&g->set, g->nm, zeros, sizeof(zeros), 0))
		return -1;
	return zp_write_sync(&g->set, g->nm, nt, sizeof(*nt),
			     ZUFS_DEV_TABLE_OFFSET);
}

static int write_super(struct grow *g, unsigned int block)
{
	struct zpmfs_super s = g->sb;

	s.total_blocks += g->new_blocks;
	s.csum = 0;
	s.csum = zpmfs_crc32(0, &s, sizeof(s));
	return zp_write_sync(&g->set, g->old[0], &s, sizeof(s),
			     (uint64_t)block * ZPMFS_BLOCK);
}

/* The ordered writes; growset.c undoes or finishes any prefix of them */
static int grow(struct grow *g)
{
	struct zufs_dev_table nt;
	unsigned int i;

	if (prepare_room(g))
		return -1;
	step(g);
	if (write_new_member(g, &nt))
		return -1;
	step(g);
	for (i = g->t.t1_count; i-- > 0;) {
		nt.dev_index = i;
		nt.csum = zp_table_csum(&nt);
		if (zp_write_sync(&g->set, g->old[i], &nt, sizeof(nt),
				  ZUFS_DEV_TABLE_OFFSET))
			return -1;
		step(g);
	}
	if (write_super(g, ZPMFS_SB_COPY_BLOCK))
		return -1;
	step(g);
	/* the commit point */
	if (write_super(g, ZPMFS_SB_BLOCK))
		return -1;
	step(g);
	return 0;
}

static int run(struct grow *g, char **paths, int n)
{
	int ret;

	if (open_all(g, paths, n))
		return 1;
	ret = zp_grow_settle(&g->set, g->dry_run ? O_RDONLY : O_RDWR);
	if (ret < 0 || (ret > 0 && g->dry_run))
		return 1;
	if (find_set(g))
		return 1;
	ret = check_new(g);
	if (ret > 0) {
		if (!g->quiet)
			printf("%s is member %u of the set already: nothing to do\n",
			       g->new_path, g->nm->table.dev_index);
		return 0;
	}
	if (ret || order_old(g) || size_new(g) || check_super(g))
		return 1;
	if (g->dry_run) {
		if (!g->quiet)
			printf("%s can join the set as member %u (%lu blocks): dry run, nothing written\n",
			       g->new_path, g->t.t1_count,
			       (unsigned long)g->new_blocks);
		return 0;
	}
	if (grow(g))
		return 1;
	if (!g->quiet)
		printf("%s joined the set as member %u: %lu MiB in %u members (was %lu MiB)\n",
		       g->new_path, g->t.t1_count,
		       (unsigned long)((g->sb.total_blocks + g->new_blocks) *
				       ZPMFS_BLOCK >> 20),
		       g->t.t1_count + 1,
		       (unsigned long)(g->sb.total_blocks * ZPMFS_BLOCK >> 20));
	return 0;
}

int main(int argc, char **argv)
{
	struct grow g = { .set.tool = TOOL };
	int ret;

	ret = parse_args(argc, argv, &g);
	if (ret)
		return ret;
	ret = run(&g, argv + optind, argc - optind);
	zp_devset_close(&g.set);
	return ret;
}
