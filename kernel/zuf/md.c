// SPDX-License-Identifier: GPL-2.0
/*
 * md.c - device sets: the multi-device table at byte 0 of every member,
 * and assembling the set a mount names by one of its members.
 *
 * A table comes straight off a device, so it is garbage until proven
 * otherwise: every field is checked before anything uses it, and every
 * member's table must say the same as the mounted one's.  Members are
 * found through -o devs=PATH:PATH... or, without it, by scanning the DAX
 * block devices for the set's uuid.  Each member is opened exclusively
 * for the life of the superblock; a refusal names the device and member.
 */
#include <linux/crc32.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "zuf_core.h"

/* DAX devices looked at when scanning for the members of a set */
#define ZUF_MD_SCAN_MAX		64

/* zlib's crc32() over the table with csum taken as 0 */
static u32 zuf_md_csum(const struct zufs_dev_table *t)
{
	struct zufs_dev_table tmp = *t;

	tmp.csum = 0;
	return crc32_le(~0U, (const u8 *)&tmp, sizeof(tmp)) ^ ~0U;
}

static const char *zuf_md_bad_members(const struct zufs_dev_table *t,
				      u64 dev_size)
{
	u32 n = (u32)t->t1_count + t->t2_count, i;
	u64 total = 0;

	if (n == 0 || n > ZUFS_MAX_DEVS || t->dev_index >= n)
		return "device table: bad member counts";
	if (t->t2_count)
		return "device table: block (t2) members are not supported";
	for (i = 0; i < n; i++) {
		if (t->devs[i].blocks < 2 ||
		    check_add_overflow(total, t->devs[i].blocks, &total))
			return "device table: bad member size";
	}
	if (total > U64_MAX / ZUFS_PMEM_BLOCK)
		return "device table: bad member size";
	if (t->devs[t->dev_index].blocks > dev_size / ZUFS_PMEM_BLOCK)
		return "device table gives this member more blocks than the device has";
	return NULL;
}

/* Why the table at @kaddr is not a valid one of @fs_type, or NULL */
static const char *zuf_md_invalid(const void *kaddr, u64 dev_size,
				  const char *fs_type,
				  struct zufs_dev_table *t)
{
	if (dev_size < ZUFS_PMEM_BLOCK)
		return "device table: device too small";
	/* a poisoned pmem line fails the mount, not the machine */
	if (copy_mc_to_kernel(t, kaddr + ZUFS_DEV_TABLE_OFFSET, sizeof(*t)))
		return "device table: media error reading it";
	if (t->magic != ZUFS_DEV_TABLE_MAGIC)
		return "no zufs device table";
	if (t->version != ZUFS_DEV_TABLE_VERSION)
		return "device table version unknown";
	if (zuf_md_csum(t) != t->csum)
		return "device table checksum mismatch";
	if (strnlen(t->fs_type, sizeof(t->fs_type)) == sizeof(t->fs_type) ||
	    strcmp(t->fs_type, fs_type))
		return "device table belongs to another filesystem type";
	if (t->block_size != ZUFS_PMEM_BLOCK)
		return "device table block size is not 4096";
	return zuf_md_bad_members(t, dev_size);
}

/* Map @bdev into @pd and read its table into @t; quiet unless @loud */
static int zuf_md_probe(struct zuf_sb_info *sbi, struct zuf_pmem_dev *pd,
			struct block_device *bdev, struct zufs_dev_table *t,
			bool loud)
{
	struct super_block *sb = sbi->sb;
	const char *why;
	int err;

	err = zuf_pmem_map_dev(sb, pd, bdev, loud);
	if (err)
		return err;
	why = zuf_md_invalid(pd->kaddr, pd->size, sbi->zft->name, t);
	if (!why)
		return 0;
	if (loud)
		pr_err("zuf: %s: %s on %pg (mounting type %s)\n", sb->s_id,
		       why, bdev, sbi->zft->name);
	zuf_pmem_unmap_dev(pd);
	return -EINVAL;
}

/* @c (another member's table) describes the same set as @t */
static bool zuf_md_same_tables(const struct zufs_dev_table *t,
			       const struct zufs_dev_table *c)
{
	struct zufs_dev_table a = *t, b = *c;

	a.csum = b.csum = 0;
	a.dev_index = b.dev_index = 0;
	return !memcmp(&a, &b, sizeof(a));
}

/*
 * Open device @dev as a member of the mount's set (exclusively) and put
 * it at its index.  @listed: named by devs=, so anything but a member of
 * this set is an error; a scanned device that is not one is passed by.
 */
static int zuf_md_add(struct zuf_sb_info *sbi, struct zuf_pmem *pmem,
		      dev_t dev, bool listed)
{
	struct zufs_dev_table *t = &pmem->table, *c;
	struct zuf_pmem_dev probe = {}, *pd;
	struct super_block *sb = sbi->sb;
	int err;

	c = kmalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	/* shared and read-only first: a scan must not disturb the others */
	err = zuf_bdev_open(&probe.own, dev, false, NULL);
	if (err) {
		if (listed)
			pr_err("zuf: %s: member %u:%u: cannot open: %d\n",
			       sb->s_id, MAJOR(dev), MINOR(dev), err);
		goto out_free_scanned;
	}
	err = zuf_md_probe(sbi, &probe, probe.own.bdev, c, listed);
	if (err) {
		zuf_bdev_close(&probe.own);
		goto out_free_scanned;
	}
	err = -EINVAL;
	if (memcmp(c->set_uuid, t->set_uuid, sizeof(t->set_uuid))) {
		if (listed)
			pr_err("zuf: %s: %pg belongs to set %pUb, not to set %pUb\n",
			       sb->s_id, probe.bdev, c->set_uuid, t->set_uuid);
		else
			err = 0;
		goto out_unmap;
	}
	if (!zuf_md_same_tables(t, c)) {
		pr_err("zuf: %s: %pg: its device table of set %pUb disagrees with %pg's (members or sizes differ)\n",
		       sb->s_id, probe.bdev, t->set_uuid, sb->s_bdev);
		goto out_unmap;
	}
	pd = &pmem->devs[c->dev_index];
	if (pd->bdev) {
		pr_err("zuf: %s: %pg and %pg both claim member %u of set %pUb\n",
		       sb->s_id, pd->bdev, probe.bdev, c->dev_index,
		       t->set_uuid);
		goto out_unmap;
	}
	zuf_pmem_unmap_dev(&probe);
	zuf_bdev_close(&probe.own);

	/* now for good: nobody else may write it while it is ours */
	err = zuf_bdev_open(&pd->own, dev, !sb_rdonly(sb), sb);
	if (err) {
		pr_err("zuf: %s: member %u of set %pUb (%u:%u) is busy or gone: %d\n",
		       sb->s_id, c->dev_index, t->set_uuid, MAJOR(dev),
		       MINOR(dev), err);
		goto out_free;
	}
	err = zuf_md_probe(sbi, pd, pd->own.bdev, c, true);
	if (!err && (memcmp(c->set_uuid, t->set_uuid, 16) ||
		     !zuf_md_same_tables(t, c) ||
		     &pmem->devs[c->dev_index] != pd)) {
		pr_err("zuf: %s: %pg: device table changed while mounting\n",
		       sb->s_id, pd->own.bdev);
		zuf_pmem_unmap_dev(pd);
		err = -EBUSY;
	}
	if (err)
		zuf_bdev_close(&pd->own);
	goto out_free;

out_unmap:
	zuf_pmem_unmap_dev(&probe);
	zuf_bdev_close(&probe.own);
	goto out_free;
out_free_scanned:
	/* a scanned device we cannot read is simply not one of ours */
	if (!listed)
		err = 0;
out_free:
	kfree(c);
	return err;
}

/* -o devs=PATH:PATH...: exactly these devices (the mounted one may be one) */
static int zuf_md_add_listed(struct zuf_sb_info *sbi, struct zuf_pmem *pmem,
			     const char *devs)
{
	struct super_block *sb = sbi->sb;
	char *copy, *p, *path;
	int err = 0;
	dev_t dev;

	copy = kstrdup(devs, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	p = copy;
	while (!err && (path = strsep(&p, ":"))) {
		if (!*path)
			continue;
		err = lookup_bdev(path, &dev);
		if (err) {
			pr_err("zuf: %s: devs=: %s: not a block device: %d\n",
			       sb->s_id, path, err);
			break;
		}
		if (dev == sb->s_bdev->bd_dev)
			continue;
		err = zuf_md_add(sbi, pmem, dev, true);
	}
	kfree(copy);
	return err;
}

/* DAX block devices other than the mounted one, whole disks only */
static int zuf_md_candidates(struct super_block *sb, dev_t *cand)
{
	struct class_dev_iter iter;
	struct device *dev;
	int n = 0;

	class_dev_iter_init(&iter, sb->s_bdev->bd_device.class, NULL, NULL);
	while (n < ZUF_MD_SCAN_MAX && (dev = class_dev_iter_next(&iter))) {
		struct block_device *bdev = dev_to_bdev(dev);

		if (bdev_is_partition(bdev) || bdev == sb->s_bdev ||
		    !blk_queue_dax(bdev_get_queue(bdev)))
			continue;
		cand[n++] = dev->devt;
	}
	class_dev_iter_exit(&iter);
	return n;
}

static int zuf_md_scan(struct zuf_sb_info *sbi, struct zuf_pmem *pmem)
{
	dev_t *cand;
	int n, i, err = 0;

	cand = kcalloc(ZUF_MD_SCAN_MAX, sizeof(*cand), GFP_KERNEL);
	if (!cand)
		return -ENOMEM;
	n = zuf_md_candidates(sbi->sb, cand);
	for (i = 0; i < n && !err; i++)
		err = zuf_md_add(sbi, pmem, cand[i], false);
	kfree(cand);
	return err;
}

static int zuf_md_check_complete(struct zuf_sb_info *sbi,
				 struct zuf_pmem *pmem, const char *devs)
{
	const struct zufs_dev_table *t = &pmem->table;
	u32 i;

	for (i = 0; i < t->t1_count; i++) {
		if (pmem->devs[i].bdev)
			continue;
		pr_err("zuf: %s: set %pUb is incomplete: member %u of %u (uuid %pUb, %llu blocks) %s\n",
		       sbi->sb->s_id, t->set_uuid, i, t->t1_count,
		       t->devs[i].uuid, (unsigned long long)t->devs[i].blocks,
		       devs ? "is not in devs=" : "was not found");
		return -ENODEV;
	}
	return 0;
}

void zuf_md_release(struct zuf_pmem *pmem)
{
	u32 i;

	for (i = 0; i < ZUFS_MAX_DEVS; i++) {
		zuf_pmem_unmap_dev(&pmem->devs[i]);
		zuf_bdev_close(&pmem->devs[i].own);
		pmem->devs[i].bdev = NULL;
	}
	pmem->ndevs = 0;
}

/*
 * Open the set the mounted device belongs to, in table order, and lay
 * the members out one after the other as the linear t1 range.
 */
int zuf_md_assemble(struct zuf_sb_info *sbi, struct zuf_pmem *pmem,
		    const char *devs)
{
	struct zufs_dev_table *t = &pmem->table;
	struct zuf_pmem_dev first = {};
	u64 off = 0;
	int err;
	u32 i;

	err = zuf_md_probe(sbi, &first, sbi->sb->s_bdev, t, true);
	if (err)
		return err;
	pmem->devs[t->dev_index] = first;
	if (devs && *devs)
		err = zuf_md_add_listed(sbi, pmem, devs);
	else if (t->t1_count > 1)
		err = zuf_md_scan(sbi, pmem);
	if (!err)
		err = zuf_md_check_complete(sbi, pmem, devs);
	if (err) {
		zuf_md_release(pmem);
		return err;
	}
	/* the set may use less of a member than the device has */
	for (i = 0; i < t->t1_count; i++) {
		pmem->devs[i].offset = off;
		pmem->devs[i].size = t->devs[i].blocks * ZUFS_PMEM_BLOCK;
		off += pmem->devs[i].size;
	}
	pmem->ndevs = t->t1_count;
	pmem->size = off;
	if (t->t1_count > 1)
		pr_info("zuf: %s: set %pUb of %u members, %llu MiB\n",
			sbi->sb->s_id, t->set_uuid, t->t1_count,
			(unsigned long long)(off >> 20));
	return 0;
}
