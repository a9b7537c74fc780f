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
 * Other plugins: the page cache, filled (readahead: a batch per op) and
 * written back (contiguous dirty pages: one op) through READ/WRITE ops
 * that put the page-cache pages themselves in the ZT's window;
 * read()/write() keep it coherent (write back before a read, invalidate
 * after a write).
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/dax.h>
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

/*
 * MAP_SYNC promises that a write fault returns only once the metadata
 * that makes the page reachable is durable.  GET_BLOCKS of a plugin with
 * ZUFS_FST_SYNC_META answers with its allocation already durable, so every
 * fault is synchronous as it stands; other plugins cannot promise it.
 */
static bool zuf_map_sync_ok(struct inode *inode)
{
	struct zuf_sb_info *sbi = ZSBI(inode);

	return IS_DAX(inode) && zuf_fst(inode, ZUFS_FST_SYNC_META) &&
	       sbi->pmem && sbi->pmem->ndevs &&
	       dax_synchronous(sbi->pmem->devs[0].dax_dev);
}

int zuf_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct inode *inode = file_inode(file);

	if ((vma->vm_flags & VM_SYNC) && !zuf_map_sync_ok(inode))
		return -EOPNOTSUPP;
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

/* Pages of one READ/WRITE: at most ZUFS_IO_MAX bytes */
#define ZUF_IO_MAX_PAGES	(ZUFS_IO_MAX >> PAGE_SHIFT)

/* After a READ of @done bytes into @nr pages from @pos: finish them */
static void zuf_read_pages_done(struct inode *inode, struct page **pages,
				u32 nr, ssize_t done)
{
	u32 i;

	for (i = 0; i < nr; i++) {
		struct page *page = pages[i];
		ssize_t in_page = done - ((ssize_t)i << PAGE_SHIFT);

		if (done >= 0) {
			/* short: EOF, the rest of the page reads as zeros */
			if (in_page < (ssize_t)PAGE_SIZE)
				zero_user_segment(page, max_t(ssize_t, in_page, 0),
						  PAGE_SIZE);
			SetPageUptodate(page);
		}
		unlock_page(page);
	}
}

static int zuf_read_folio(struct file *file, struct folio *folio)
{
	struct page *page = &folio->page;
	ssize_t n;

	n = zuf_io_pages(page->mapping->host, false, page_offset(page),
			 &page, 1, PAGE_SIZE);
	zuf_read_pages_done(page->mapping->host, &page, 1, n);
	return n < 0 ? n : 0;
}

/* A readahead batch (256 KiB) on the stack; ra windows are usually 128 KiB */
#define ZUF_RA_BATCH		64

/* Readahead: a batch per READ, the pages in the window */
static void zuf_readahead(struct readahead_control *rac)
{
	struct inode *inode = rac->mapping->host;
	struct page *pages[ZUF_RA_BATCH];
	struct page *page;
	loff_t pos = readahead_pos(rac);
	u32 nr = 0, i;
	ssize_t n;

	while ((page = readahead_page(rac))) {
		pages[nr++] = page;
		if (nr < ZUF_RA_BATCH)
			continue;
		n = zuf_io_pages(inode, false, pos, pages, nr,
				 nr << PAGE_SHIFT);
		zuf_read_pages_done(inode, pages, nr, n);
		for (i = 0; i < nr; i++)
			put_page(pages[i]);
		pos += (loff_t)nr << PAGE_SHIFT;
		nr = 0;
	}
	if (!nr)
		return;
	n = zuf_io_pages(inode, false, pos, pages, nr, nr << PAGE_SHIFT);
	zuf_read_pages_done(inode, pages, nr, n);
	for (i = 0; i < nr; i++)
		put_page(pages[i]);
}

/* Contiguous dirty pages under writeback, written back in one WRITE */
struct zuf_wb_batch {
	struct inode	*inode;
	loff_t		pos;
	u32		len;
	u32		nr;
	int		err;
	struct page	*pages[ZUF_IO_MAX_PAGES];
};

static void zuf_wb_flush(struct zuf_wb_batch *b)
{
	ssize_t n;
	u32 i;

	if (!b->nr)
		return;
	n = zuf_io_pages(b->inode, true, b->pos, b->pages, b->nr, b->len);
	if (n >= 0 && n != b->len)
		n = -EIO;
	for (i = 0; i < b->nr; i++) {
		if (n < 0)
			mapping_set_error(b->pages[i]->mapping, n);
		end_page_writeback(b->pages[i]);
	}
	if (n < 0 && !b->err)
		b->err = n;
	b->nr = 0;
	b->len = 0;
}

/* write_cache_pages() callback: @page is locked, its dirty bit cleared */
static int zuf_wb_page(struct page *page, struct writeback_control *wbc,
		       void *data)
{
	struct zuf_wb_batch *b = data;
	loff_t size = i_size_read(b->inode);
	loff_t pos = page_offset(page);
	u32 len;

	if (b->nr && (pos != b->pos + b->len || b->nr == ZUF_IO_MAX_PAGES ||
		      b->len & ~PAGE_MASK))
		zuf_wb_flush(b);
	set_page_writeback(page);
	unlock_page(page);
	if (pos >= size) {	/* truncated meanwhile: nothing to write */
		end_page_writeback(page);
		return 0;
	}
	len = min_t(loff_t, PAGE_SIZE, size - pos);
	if (!b->nr)
		b->pos = pos;
	b->pages[b->nr++] = page;
	b->len += len;
	return 0;
}

static int zuf_writepages(struct address_space *mapping,
			  struct writeback_control *wbc)
{
	struct zuf_wb_batch *b = kmalloc(sizeof(*b), GFP_NOFS);
	int err;

	if (!b)
		return -ENOMEM;
	b->inode = mapping->host;
	b->nr = 0;
	b->len = 0;
	b->err = 0;
	err = write_cache_pages(mapping, wbc, zuf_wb_page, b);
	zuf_wb_flush(b);
	if (!err)
		err = b->err;
	kfree(b);
	return err;
}

/* Reclaim writes single pages */
static int zuf_writepage(struct page *page, struct writeback_control *wbc)
{
	struct inode *inode = page->mapping->host;
	loff_t size = i_size_read(inode);
	loff_t pos = page_offset(page);
	ssize_t n = 0;
	u32 len;

	set_page_writeback(page);
	unlock_page(page);
	if (pos < size) {
		len = min_t(loff_t, PAGE_SIZE, size - pos);
		n = zuf_io_pages(inode, true, pos, &page, 1, len);
		if (n >= 0 && n != len)
			n = -EIO;
		if (n < 0)
			mapping_set_error(page->mapping, n);
	}
	end_page_writeback(page);
	return n < 0 ? n : 0;
}

const struct address_space_operations zuf_nodev_aops = {
	.read_folio	= zuf_read_folio,
	.readahead	= zuf_readahead,
	.writepage	= zuf_writepage,
	.writepages	= zuf_writepages,
	.dirty_folio	= filemap_dirty_folio,
	.direct_IO	= noop_direct_IO,
};
