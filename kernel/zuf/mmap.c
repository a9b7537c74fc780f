// SPDX-License-Identifier: GPL-2.0
/*
 * mmap.c - memory mappings.
 *
 * pmem plugins: DAX.  A fault asks for the block through the same iomap
 * path as read/write (allocating on a shared write fault) and maps the
 * pmem page itself into the process.  dax_iomap_fault() handles the
 * MAP_PRIVATE copy (vmf->cow_page) and SIGBUS past EOF.  Faults hold
 * map_sem for read, so a truncate or punch (map_sem for write, then
 * unmap) never races a fault that maps a block being freed.
 *
 * Other plugins: the page cache, filled and written back through
 * READ/WRITE ops; read()/write() keep it coherent (write back before a
 * read, invalidate after a write).
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/uio.h>
#include <linux/bvec.h>
#include <linux/writeback.h>
#include "zuf_vfs.h"

static vm_fault_t zuf_dax_fault(struct vm_fault *vmf)
{
	struct file *file = vmf->vma->vm_file;
	struct inode *inode = file_inode(file);
	bool write = (vmf->flags & FAULT_FLAG_WRITE) &&
		     (vmf->vma->vm_flags & VM_SHARED);
	vm_fault_t ret;

	if (write) {
		sb_start_pagefault(inode->i_sb);
		file_update_time(file);
	}
	down_read(&ZUII(inode)->map_sem);
	ret = dax_iomap_fault(vmf, PE_SIZE_PTE, NULL, NULL, &zuf_iomap_ops);
	up_read(&ZUII(inode)->map_sem);
	if (write)
		sb_end_pagefault(inode->i_sb);
	return ret;
}

static const struct vm_operations_struct zuf_dax_vm_ops = {
	.fault		= zuf_dax_fault,
	.page_mkwrite	= zuf_dax_fault,
	.pfn_mkwrite	= zuf_dax_fault,
};

int zuf_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct inode *inode = file_inode(file);

	if (!IS_DAX(inode))
		return generic_file_mmap(file, vma);
	file_accessed(file);
	vma->vm_ops = &zuf_dax_vm_ops;
	vma->vm_flags |= VM_MIXEDMAP;
	return 0;
}

/* ------------------------------------------------------------------ */
/* page cache for plugins without pmem (mmap only)                     */
/* ------------------------------------------------------------------ */

static int zuf_io_page(struct inode *inode, struct page *page, loff_t pos,
		       u32 len, bool write)
{
	struct bio_vec bv = { .bv_page = page, .bv_len = len, .bv_offset = 0 };
	struct zufs_op_io op = {};
	struct zuf_dispatch zd = { .op = &op.hdr, .op_size = sizeof(op) };
	struct iov_iter iter;
	int err;

	iov_iter_bvec(&iter, write ? ITER_SOURCE : ITER_DEST, &bv, 1, len);
	op.hdr.op = write ? ZUFS_OP_WRITE : ZUFS_OP_READ;
	op.ino = inode->i_ino;
	op.offset = pos;
	op.length = len;
	if (write) {
		zd.in_iter = &iter;
		zd.in_len = len;
	} else {
		zd.out_iter = &iter;
		zd.out_max = len;
	}
	err = zufc_dispatch(ZSBI(inode), &zd);
	if (err)
		return err;
	if (write)
		return op.done == len ? 0 : -EIO;
	if (zd.out_len > len)
		return -EIO;
	if (zd.out_len < PAGE_SIZE)
		zero_user_segment(page, zd.out_len, PAGE_SIZE);
	return 0;
}

static int zuf_read_folio(struct file *file, struct folio *folio)
{
	struct page *page = &folio->page;
	struct inode *inode = page->mapping->host;
	int err;

	err = zuf_io_page(inode, page, page_offset(page), PAGE_SIZE, false);
	if (!err)
		SetPageUptodate(page);
	unlock_page(page);
	return err;
}

static int zuf_writepage(struct page *page, struct writeback_control *wbc)
{
	struct inode *inode = page->mapping->host;
	loff_t size = i_size_read(inode);
	loff_t pos = page_offset(page);
	u32 len;
	int err = 0;

	set_page_writeback(page);
	unlock_page(page);
	if (pos < size) {
		len = min_t(loff_t, PAGE_SIZE, size - pos);
		err = zuf_io_page(inode, page, pos, len, true);
		if (err)
			mapping_set_error(page->mapping, err);
	}
	end_page_writeback(page);
	return err;
}

const struct address_space_operations zuf_nodev_aops = {
	.read_folio	= zuf_read_folio,
	.writepage	= zuf_writepage,
	.dirty_folio	= filemap_dirty_folio,
	.direct_IO	= noop_direct_IO,
};
