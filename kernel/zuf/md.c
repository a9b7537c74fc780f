// SPDX-License-Identifier: GPL-2.0
/*
 * md.c - the multi-device table at byte 0 of every member device.
 *
 * The table comes straight off the device, so it is garbage until proven
 * otherwise: every field is checked before anything uses it.
 */
#include <linux/crc32.h>
#include <linux/string.h>

#include <linux/uaccess.h>

#include "zuf_core.h"

/* zlib's crc32() over the table with csum taken as 0 */
static u32 zuf_md_csum(const struct zufs_dev_table *t)
{
	struct zufs_dev_table tmp = *t;

	tmp.csum = 0;
	return crc32_le(~0U, (const u8 *)&tmp, sizeof(tmp)) ^ ~0U;
}

static int zuf_md_check_members(struct super_block *sb,
				const struct zufs_dev_table *t, u64 dev_size)
{
	u32 n = (u32)t->t1_count + t->t2_count;

	if (n == 0 || n > ZUFS_MAX_DEVS || t->dev_index >= n) {
		pr_err("zuf: %s: device table: bad member counts (t1 %u, t2 %u, index %u)\n",
		       sb->s_id, t->t1_count, t->t2_count, t->dev_index);
		return -EINVAL;
	}
	if (t->t1_count != 1 || t->t2_count != 0) {
		pr_err("zuf: %s: device set of %u pmem + %u block members: multi-device sets are not supported yet\n",
		       sb->s_id, t->t1_count, t->t2_count);
		return -EOPNOTSUPP;
	}
	if (t->devs[0].blocks < 2 ||
	    t->devs[0].blocks > dev_size / ZUFS_PMEM_BLOCK) {
		pr_err("zuf: %s: device table: member of %llu blocks, device has %llu\n",
		       sb->s_id, (unsigned long long)t->devs[0].blocks,
		       (unsigned long long)(dev_size / ZUFS_PMEM_BLOCK));
		return -EINVAL;
	}
	return 0;
}

int zuf_md_check(struct super_block *sb, const void *kaddr, u64 dev_size,
		 const char *fs_type, struct zufs_dev_table *out)
{
	struct zufs_dev_table *t = out;

	if (dev_size < ZUFS_PMEM_BLOCK) {
		pr_err("zuf: %s: device too small\n", sb->s_id);
		return -EINVAL;
	}
	/* a poisoned pmem line fails the mount, not the machine */
	if (copy_mc_to_kernel(t, kaddr + ZUFS_DEV_TABLE_OFFSET, sizeof(*t))) {
		pr_err("zuf: %s: media error reading the device table\n",
		       sb->s_id);
		return -EIO;
	}
	if (t->magic != ZUFS_DEV_TABLE_MAGIC) {
		pr_err("zuf: %s: no zufs device table on %s\n", sb->s_id,
		       sb->s_id);
		return -EINVAL;
	}
	if (t->version != ZUFS_DEV_TABLE_VERSION) {
		pr_err("zuf: %s: device table version %u, expected %u\n",
		       sb->s_id, t->version, ZUFS_DEV_TABLE_VERSION);
		return -EINVAL;
	}
	if (zuf_md_csum(t) != t->csum) {
		pr_err("zuf: %s: device table checksum mismatch\n", sb->s_id);
		return -EINVAL;
	}
	if (strnlen(t->fs_type, sizeof(t->fs_type)) == sizeof(t->fs_type) ||
	    strcmp(t->fs_type, fs_type)) {
		pr_err("zuf: %s: device holds '%.*s', not '%s'\n", sb->s_id,
		       (int)strnlen(t->fs_type, sizeof(t->fs_type)),
		       t->fs_type, fs_type);
		return -EINVAL;
	}
	if (t->block_size != ZUFS_PMEM_BLOCK) {
		pr_err("zuf: %s: device table block size %u, expected %u\n",
		       sb->s_id, t->block_size, ZUFS_PMEM_BLOCK);
		return -EINVAL;
	}
	return zuf_md_check_members(sb, t, dev_size);
}
