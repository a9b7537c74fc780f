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
#include <linux/pfn_t.h>
#include <linux/writeback.h>
#include "zuf_vfs.h"

/*
 * order 0 maps one page; PMD_ORDER asks for a 2 MiB mapping, which the
 * DAX code makes only when the answer is one extent covering the whole
 * aligned 2 MiB on 2 MiB-aligned pmem, and otherwise falls back to pages.
 */
static vm_fault_t zuf_dax_fault_order(struct vm_fault *vmf, unsigned int order)
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
	ret = dax_iomap_fault(vmf, order, NULL, NULL, &zuf_iomap_ops);
	up_read(&ZUII(inode)->map_sem);
	if (write)
		sb_end_pagefault(inode->i_sb);
	return ret;
}

static vm_fault_t zuf_dax_fault(struct vm_fault *vmf)
{
	return zuf_dax_fault_order(vmf, 0);
}

/*
 * A 2 MiB mapping needs struct pages behind every member (a devmap pfn):
 * the DAX code ties each of its 512 pages to the file.
 */
static bool zuf_huge_ok(struct inode *inode)
{
	struct zuf_pmem *pmem = ZSBI(inode)->pmem;
	u32 i;

	if (!IS_ENABLED(CONFIG_FS_DAX_PMD) || !pmem || !pmem->ndevs)
		return false;
	for (i = 0; i < pmem->ndevs; i++)
		if (!pfn_t_devmap(pmem->devs[i].pfn))
			return false;
	return true;
}

static vm_fault_t zuf_dax_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);

	if (order != PMD_ORDER || !zuf_huge_ok(inode))
		return VM_FAULT_FALLBACK;
	return zuf_dax_fault_order(vmf, order);
}

#if !ZUF_HAVE_DAX_FAULT_ORDER
static vm_fault_t zuf_dax_huge_fault_pe(struct vm_fault *vmf,
					enum page_entry_size pe_size)
{
	return zuf_dax_huge_fault(vmf, pe_size == PE_SIZE_PMD ? PMD_ORDER :
				  pe_size == PE_SIZE_PUD ? PUD_ORDER : 0);
}
#endif

static const struct vm_operations_struct zuf_dax_vm_ops = {
	.fault		= zuf_dax_fault,
	.huge_fault	= ZUF_DAX_HUGE_FAULT,
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

	u32 i;

	if (!IS_DAX(inode) || !zuf_fst(inode, ZUFS_FST_SYNC_META) ||
	    !sbi->pmem || !sbi->pmem->ndevs)
		return false;
	/* a file's blocks may sit on any member of a set */
	for (i = 0; i < sbi->pmem->ndevs; i++)
		if (!dax_synchronous(sbi->pmem->devs[i].dax_dev))
			return false;
	return true;
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
	vm_flags_set(vma, VM_MIXEDMAP);
	return 0;
}

/* ------------------------------------------------------------------ */
/* page cache for plugins without pmem (mmap only)                     */
/* ------------------------------------------------------------------ */

/* Pages of one READ/WRITE: at most ZUFS_IO_MAX bytes */
#define ZUF_IO_MAX_PAGES	(ZUFS_IO_MAX >> PAGE_SHIFT)

/*
 * READ @nr locked page-cache pages from @pos in one op, then finish them:
 * up to date (zeros past a short answer: EOF) unless it failed, unlocked.
 */
static ssize_t zuf_read_pages(struct inode *inode, loff_t pos,
			      struct page **pages, u32 nr)
{
	ssize_t done = zuf_io_pages(inode, false, pos, pages, nr,
				    nr << PAGE_SHIFT);
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
	return done;
}

static int zuf_read_folio(struct file *file, struct folio *folio)
{
	struct page *page = &folio->page;
	ssize_t n;

	n = zuf_read_pages(page->mapping->host, page_offset(page), &page, 1);
	return n < 0 ? n : 0;
}

/* A readahead batch (256 KiB) on the stack; ra windows are usually 128 KiB */
#define ZUF_RA_BATCH		64

/* Readahead: a batch per READ, the pages in the window */
static void zuf_readahead(struct readahead_control *rac)
{
	struct inode *inode = rac->mapping->host;
	struct page *pages[ZUF_RA_BATCH];
	loff_t pos = readahead_pos(rac);
	u32 nr, i;

	do {
		for (nr = 0; nr < ZUF_RA_BATCH; nr++) {
			pages[nr] = readahead_page(rac);
			if (!pages[nr])
				break;
		}
		if (!nr)
			return;
		zuf_read_pages(inode, pos, pages, nr);
		for (i = 0; i < nr; i++)
			put_page(pages[i]);
		pos += (loff_t)nr << PAGE_SHIFT;
	} while (nr == ZUF_RA_BATCH);
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

/*
 * WRITE @len bytes of @nr pages under writeback from @pos in one op, then
 * end their writeback (an error goes to the mapping).  0 or -errno.
 */
static int zuf_write_pages(struct inode *inode, loff_t pos,
			   struct page **pages, u32 nr, u32 len)
{
	ssize_t n = zuf_io_pages(inode, true, pos, pages, nr, len);
	u32 i;

	if (n >= 0 && n != len)
		n = -EIO;
	for (i = 0; i < nr; i++) {
		if (n < 0)
			mapping_set_error(pages[i]->mapping, n);
		end_page_writeback(pages[i]);
	}
	return n < 0 ? n : 0;
}

static void zuf_wb_flush(struct zuf_wb_batch *b)
{
	int err;

	if (!b->nr)
		return;
	err = zuf_write_pages(b->inode, b->pos, b->pages, b->nr, b->len);
	if (err && !b->err)
		b->err = err;
	b->nr = 0;
	b->len = 0;
}

/* write_cache_pages() callback: @folio is locked, its dirty bit cleared */
static int zuf_wb_folio(struct folio *folio, struct writeback_control *wbc,
			void *data)
{
	struct zuf_wb_batch *b = data;
	loff_t size = i_size_read(b->inode);
	loff_t pos = folio_pos(folio);
	u32 len;

	if (b->nr && (pos != b->pos + b->len || b->nr == ZUF_IO_MAX_PAGES ||
		      b->len & ~PAGE_MASK))
		zuf_wb_flush(b);
	folio_start_writeback(folio);
	folio_unlock(folio);
	if (pos >= size) {	/* truncated meanwhile: nothing to write */
		folio_end_writeback(folio);
		return 0;
	}
	/* the mapping has no large folios: one folio is one page */
	len = min_t(loff_t, PAGE_SIZE, size - pos);
	if (!b->nr)
		b->pos = pos;
	b->pages[b->nr++] = folio_page(folio, 0);
	b->len += len;
	return 0;
}

#if !ZUF_HAVE_WRITEPAGE_FOLIO
static int zuf_wb_page(struct page *page, struct writeback_control *wbc,
		       void *data)
{
	return zuf_wb_folio(page_folio(page), wbc, data);
}
#define zuf_wb_folio	zuf_wb_page
#endif

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
	err = write_cache_pages(mapping, wbc, zuf_wb_folio, b);
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

	set_page_writeback(page);
	unlock_page(page);
	if (pos >= size) {	/* truncated meanwhile: nothing to write */
		end_page_writeback(page);
		return 0;
	}
	return zuf_write_pages(inode, pos, &page, 1,
			       min_t(loff_t, PAGE_SIZE, size - pos));
}

const struct address_space_operations zuf_nodev_aops = {
	.read_folio	= zuf_read_folio,
	.readahead	= zuf_readahead,
	.writepage	= zuf_writepage,
	.writepages	= zuf_writepages,
	.dirty_folio	= filemap_dirty_folio,
	.direct_IO	= noop_direct_IO,
};
