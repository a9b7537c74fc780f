// SPDX-License-Identifier: GPL-2.0
/*
 * pmem.c - the pmem of a mounted device set: mapping it in the kernel,
 * lending it to the server (GRAB_PMEM + mmap of a pmem file), and taking
 * it back when the superblock goes away.  md.c finds and opens the
 * members of a device set; here each one is mapped.
 *
 * The server's view is a fault-driven VM_MIXEDMAP mapping; revoking it
 * (sb teardown) zaps every such mapping, and later faults get SIGBUS, so
 * a server can never touch a device the kernel has released.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/pfn_t.h>
#include <linux/dax.h>
#include <linux/blkdev.h>

#include "zuf_core.h"

/* One pmem file of the server, bound to one superblock's pmem */
struct zuf_pmem_file {
	struct zuf_pmem_core	*core;		/* ref held */
	struct address_space	*mapping;	/* of the pmem file's inode */
	struct list_head	list;		/* core->files, @revoke_sem */
};

static inline struct zuf_pmem_core *ZPC(struct zuf_pmem *pmem)
{
	return container_of(pmem, struct zuf_pmem_core, pmem);
}

static void zuf_pmem_core_release(struct kref *kref)
{
	kfree(container_of(kref, struct zuf_pmem_core, ref));
}

struct zuf_pmem_dev *zuf_pmem_dev_of(struct zuf_sb_info *sbi, u64 off,
				     u64 len)
{
	struct zuf_pmem *pmem = sbi->pmem;
	u32 i;

	if (!pmem || off + len < off || off + len > pmem->size)
		return NULL;
	for (i = 0; i < pmem->ndevs; i++) {
		struct zuf_pmem_dev *pd = &pmem->devs[i];

		if (off >= pd->offset && off + len <= pd->offset + pd->size)
			return pd;
	}
	return NULL;
}

bool zuf_pmem_on_table(struct zuf_sb_info *sbi, u64 off, u64 len)
{
	struct zuf_pmem_dev *pd = zuf_pmem_dev_of(sbi, off, len);

	/* the table lives in each member's first block */
	return !pd || off - pd->offset < ZUFS_PMEM_BLOCK;
}

int zuf_pmem_flush(struct zuf_sb_info *sbi)
{
	struct zuf_pmem *pmem = sbi->pmem;
	int err = 0;
	u32 i;

	wmb();	/* our non-temporal stores, before the device's flush */
	for (i = 0; pmem && i < pmem->ndevs; i++)
		err = blkdev_issue_flush(pmem->devs[i].bdev) ?: err;
	return err;
}

/* ------------------------------------------------------------------ */
/* kernel side                                                         */
/* ------------------------------------------------------------------ */

/* Map the whole of @bdev linearly into @pd; quiet unless @loud */
int zuf_pmem_map_dev(struct super_block *sb, struct zuf_pmem_dev *pd,
		     struct block_device *bdev, bool loud)
{
	u64 start_off = 0;
	long pages, avail;

	pd->size = bdev_nr_bytes(bdev) & ~((u64)ZUFS_PMEM_BLOCK - 1);
	pd->numa_node = dev_to_node(&bdev->bd_device);
	pd->dax_dev = fs_dax_get_by_bdev(bdev, &start_off, NULL, NULL);
	if (!pd->dax_dev) {
		if (loud)
			pr_err("zuf: %s: %pg does not support DAX (is it pmem in fsdax mode?)\n",
			       sb->s_id, bdev);
		return -EINVAL;
	}
	if (start_off || !pd->size) {
		if (loud)
			pr_err("zuf: %s: %pg: partitions and empty devices are not supported\n",
			       sb->s_id, bdev);
		goto out_put_dax;
	}
	pages = pd->size >> PAGE_SHIFT;
	avail = dax_direct_access(pd->dax_dev, 0, pages, DAX_ACCESS,
				  &pd->kaddr, &pd->pfn);
	if (avail < pages) {
		if (loud)
			pr_err("zuf: %s: %pg: dax maps %ld of %ld pages linearly\n",
			       sb->s_id, bdev, avail, pages);
		goto out_put_dax;
	}
	pd->bdev = bdev;
	return 0;

out_put_dax:
	fs_put_dax(pd->dax_dev, NULL);
	pd->dax_dev = NULL;
	return -EINVAL;
}

void zuf_pmem_unmap_dev(struct zuf_pmem_dev *pd)
{
	if (pd->dax_dev)
		fs_put_dax(pd->dax_dev, NULL);
	pd->dax_dev = NULL;
	pd->kaddr = NULL;
	pd->bdev = NULL;
}

/* Open the mounted device's set (md.c) and make it the sb's pmem */
int zuf_pmem_open(struct zuf_sb_info *sbi, const char *devs)
{
	struct zuf_pmem_core *core;
	int err;

	core = kzalloc(sizeof(*core), GFP_KERNEL);
	if (!core)
		return -ENOMEM;
	kref_init(&core->ref);
	init_rwsem(&core->revoke_sem);
	INIT_LIST_HEAD(&core->files);
	err = zuf_md_assemble(sbi, &core->pmem, devs);
	if (err) {
		kfree(core);
		return err;
	}
	sbi->pmem = &core->pmem;
	return 0;
}

/* Take the pmem back from the server, then release the devices */
void zuf_pmem_close(struct zuf_sb_info *sbi)
{
	struct zuf_pmem_core *core;
	struct zuf_pmem_file *pf;

	if (!sbi->pmem)
		return;
	core = ZPC(sbi->pmem);
	down_write(&core->revoke_sem);
	core->revoked = true;
	list_for_each_entry(pf, &core->files, list)
		unmap_mapping_range(pf->mapping, 0, 0, 1);
	up_write(&core->revoke_sem);

	zuf_md_release(&core->pmem);
	sbi->pmem = NULL;
	kref_put(&core->ref, zuf_pmem_core_release);
}

/* ------------------------------------------------------------------ */
/* server side: pmem files                                             */
/* ------------------------------------------------------------------ */

/*
 * A fault maps the whole aligned 2 MiB stretch around the faulting page
 * (within the vma and the device).  The server touches freshly allocated
 * blocks on the hot path (zeroing them before they are mapped); taking a
 * trap per 4 KiB page there would cost more than the work itself.
 */
#define ZUF_PMEM_FAULT_AROUND	(PMD_SIZE >> PAGE_SHIFT)

/* The pfn of page @pgoff of the t1 range, which @pd holds */
static pfn_t zuf_pmem_pfn(const struct zuf_pmem_dev *pd, unsigned long pgoff)
{
	return __pfn_to_pfn_t(pfn_t_to_pfn(pd->pfn) + pgoff -
			      (pd->offset >> PAGE_SHIFT),
			      pd->pfn.val & PFN_FLAGS_MASK);
}

static void zuf_pmem_map_around(struct vm_fault *vmf, struct zuf_pmem_dev *pd)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long dev_first = pd->offset >> PAGE_SHIFT;
	unsigned long dev_end = (pd->offset + pd->size) >> PAGE_SHIFT;
	unsigned long lead = vmf->pgoff & (ZUF_PMEM_FAULT_AROUND - 1);
	unsigned long first, count, addr, i;

	lead = min(lead, (vmf->address - vma->vm_start) >> PAGE_SHIFT);
	lead = min(lead, vmf->pgoff - dev_first);
	first = vmf->pgoff - lead;
	addr = vmf->address - (lead << PAGE_SHIFT);
	count = min(ZUF_PMEM_FAULT_AROUND, (vma->vm_end - addr) >> PAGE_SHIFT);
	count = min(count, dev_end - first);

	for (i = 0; i < count; i++, addr += PAGE_SIZE) {
		if (addr == vmf->address)
			continue;
		/* a present page answers NOPAGE too; anything else (no
		 * memory for a page table) is left to that page's own fault */
		if (vmf_insert_mixed(vma, addr, zuf_pmem_pfn(pd, first + i)) !=
		    VM_FAULT_NOPAGE)
			break;
	}
}

static vm_fault_t zuf_pmem_fault(struct vm_fault *vmf)
{
	struct zuf_pmem_file *pf = vmf->vma->vm_private_data;
	struct zuf_pmem_core *core = pf->core;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	struct zuf_pmem_dev *pd = NULL;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	u32 i;

	down_read(&core->revoke_sem);
	if (core->revoked)
		goto out_unlock;
	for (i = 0; i < core->pmem.ndevs; i++) {
		struct zuf_pmem_dev *d = &core->pmem.devs[i];

		if (off >= d->offset && off < d->offset + d->size)
			pd = d;
	}
	if (pd) {
		ret = vmf_insert_mixed(vmf->vma, vmf->address,
				       zuf_pmem_pfn(pd, vmf->pgoff));
		if (ret == VM_FAULT_NOPAGE)
			zuf_pmem_map_around(vmf, pd);
	}
out_unlock:
	up_read(&core->revoke_sem);
	return ret;
}

static const struct vm_operations_struct zuf_pmem_vm_ops = {
	.fault		= zuf_pmem_fault,
};

int zuf_pmem_mmap(struct zuf_pmem_file *pf, struct vm_area_struct *vma)
{
	u64 start, end;

	/* a huge offset must not wrap around into the device */
	if (vma->vm_pgoff > (U64_MAX >> PAGE_SHIFT) ||
	    check_add_overflow((u64)vma->vm_pgoff << PAGE_SHIFT,
			       (u64)(vma->vm_end - vma->vm_start), &end))
		return -EINVAL;
	start = (u64)vma->vm_pgoff << PAGE_SHIFT;
	if (start >= pf->core->pmem.size || end > pf->core->pmem.size)
		return -EINVAL;
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &zuf_pmem_vm_ops;
	vma->vm_private_data = pf;
	return 0;
}

struct zuf_pmem_file *zuf_pmem_grab(struct zuf_server *srv, struct file *file,
				    struct zufs_ioc_pmem *ioc)
{
	struct zuf_pmem_core *core;
	struct zuf_pmem_file *pf;
	struct zuf_sb_info *sbi;
	u32 i;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return ERR_PTR(-ENOMEM);
	if (ioc->sb_id > INT_MAX)
		goto out_noent;
	spin_lock(&srv->pmem_lock);
	sbi = idr_find(&srv->pmem_idr, ioc->sb_id);
	core = sbi && sbi->pmem ? ZPC(sbi->pmem) : NULL;
	if (core)
		kref_get(&core->ref);
	spin_unlock(&srv->pmem_lock);
	if (!core)
		goto out_noent;

	pf->core = core;
	pf->mapping = file_inode(file)->i_mapping;
	down_write(&core->revoke_sem);
	list_add(&pf->list, &core->files);
	up_write(&core->revoke_sem);

	ioc->size = core->pmem.size;
	ioc->ndevs = core->pmem.ndevs;
	ioc->block_size = ZUFS_PMEM_BLOCK;
	memset(ioc->devs, 0, sizeof(ioc->devs));
	for (i = 0; i < core->pmem.ndevs; i++) {
		ioc->devs[i].offset = core->pmem.devs[i].offset;
		ioc->devs[i].size = core->pmem.devs[i].size;
		ioc->devs[i].numa_node = core->pmem.devs[i].numa_node;
	}
	return pf;

out_noent:
	kfree(pf);
	return ERR_PTR(-ENOENT);
}

void zuf_pmem_file_release(struct zuf_pmem_file *pf)
{
	struct zuf_pmem_core *core = pf->core;

	down_write(&core->revoke_sem);
	list_del(&pf->list);
	up_write(&core->revoke_sem);
	kref_put(&core->ref, zuf_pmem_core_release);
	kfree(pf);
}

/*
 * sb_id registration, so GRAB_PMEM can find a mount's pmem and INVALIDATE
 * its superblock.  The entry goes before the sbi does.
 */
int zuf_pmem_publish(struct zuf_server *srv, struct zuf_sb_info *sbi)
{
	int id;

	idr_preload(GFP_KERNEL);
	spin_lock(&srv->pmem_lock);
	id = idr_alloc_cyclic(&srv->pmem_idr, sbi, 1, INT_MAX, GFP_NOWAIT);
	spin_unlock(&srv->pmem_lock);
	idr_preload_end();
	if (id < 0)
		return id;
	sbi->sb_id = id;
	return 0;
}

void zuf_pmem_unpublish(struct zuf_server *srv, struct zuf_sb_info *sbi)
{
	if (!sbi->sb_id)
		return;
	spin_lock(&srv->pmem_lock);
	idr_remove(&srv->pmem_idr, sbi->sb_id);
	spin_unlock(&srv->pmem_lock);
	sbi->sb_id = 0;
}

/* An active reference on the live superblock of mount @sb_id, or NULL */
struct super_block *zuf_sb_get_by_id(struct zuf_server *srv, u64 sb_id)
{
	struct super_block *sb = NULL;
	struct zuf_sb_info *sbi;

	if (!sb_id || sb_id > INT_MAX)
		return NULL;
	spin_lock(&srv->pmem_lock);
	sbi = idr_find(&srv->pmem_idr, sb_id);
	if (sbi && atomic_inc_not_zero(&sbi->sb->s_active))
		sb = sbi->sb;
	spin_unlock(&srv->pmem_lock);
	if (sb && !(READ_ONCE(sb->s_flags) & SB_BORN)) {
		deactivate_super(sb);	/* still mounting */
		sb = NULL;
	}
	return sb;
}

/* Zap every user mapping of @sb's files: they fault again, and fail */
static void zuf_sb_unmap_all(struct super_block *sb)
{
	struct inode *inode, *prev = NULL;

	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		spin_lock(&inode->i_lock);
		if ((inode->i_state & (I_FREEING | I_WILL_FREE | I_NEW)) ||
		    !mapping_mapped(inode->i_mapping)) {
			spin_unlock(&inode->i_lock);
			continue;
		}
		__iget(inode);
		spin_unlock(&inode->i_lock);
		spin_unlock(&sb->s_inode_list_lock);
		iput(prev);
		unmap_mapping_range(inode->i_mapping, 0, 0, 1);
		prev = inode;
		cond_resched();
		spin_lock(&sb->s_inode_list_lock);
	}
	spin_unlock(&sb->s_inode_list_lock);
	iput(prev);
}

/*
 * The server died: mmap stores into pmem (or pages) of its mounts must stop
 * like every other write.  Each mapping faults again, and a fault now
 * fails (SIGBUS) as the server cannot answer it.
 */
void zuf_srv_unmap_all(struct zuf_server *srv)
{
	struct super_block *sb;
	u64 id = 1;

	for (;;) {
		struct zuf_sb_info *sbi;
		int next = id;

		sb = NULL;
		spin_lock(&srv->pmem_lock);
		sbi = idr_get_next(&srv->pmem_idr, &next);
		if (sbi && atomic_inc_not_zero(&sbi->sb->s_active))
			sb = sbi->sb;
		spin_unlock(&srv->pmem_lock);
		if (!sbi)
			break;
		id = (u64)next + 1;
		if (!sb)
			continue;
		zuf_sb_unmap_all(sb);
		deactivate_super(sb);
	}
}
