// SPDX-License-Identifier: GPL-2.0
/*
 * rw.c - the data path.
 *
 * pmem plugins (ZUFS_FST_PMEM): zero copy.  The server only answers which
 * pmem blocks back a file range (GET_BLOCKS, allocating for writes); the
 * kernel copies between the caller's iov_iter and pmem itself through
 * the DAX iomap code (non-temporal stores for writes).  Granted extents
 * are cached per inode, so an overwrite of mapped blocks needs no round
 * trip at all.
 *
 * Map cache rules: only mapped extents are cached (never holes, so an
 * allocation can never hide behind a cached hole, never shared blocks, so
 * no overwrite or fault can reach a block another file also owns).
 * Anything that may move or free blocks (truncate, punch, zero,
 * collapse/insert, clone, evict) drops the affected range under map_sem
 * held for write and the inode lock, before the server is asked; I/O runs
 * under the inode lock and faults under map_sem for read, so nobody can
 * use a dropped extent.
 *
 * Other plugins: io.c.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/dax.h>
#include <linux/pfn_t.h>
#include <linux/pagemap.h>
#include <linux/writeback.h>
#include <linux/wait_bit.h>
#include "zuf_vfs.h"

/* Past this many cached extents an inode starts over (bounds memory) */
#define ZUF_MAX_CACHED_EXT	4096

struct zuf_map_ext {
	struct rb_node	node;
	u64		offset;		/* file offset, bytes */
	u64		length;
	u64		pmem_off;	/* in the t1 range */
};

static struct kmem_cache *zuf_ext_cachep;

/*
 * A cache with a constructor is never merged with another of its size:
 * its object count in /sys/kernel/slab is ours alone, so a leak of
 * cached extents shows there (vm/59-fuzz compares it with a baseline).
 */
static void zuf_map_ext_ctor(void *obj)
{
}

int zuf_map_cache_init(void)
{
	zuf_ext_cachep = kmem_cache_create("zuf_map_ext",
					   sizeof(struct zuf_map_ext),
					   __alignof__(struct zuf_map_ext), 0,
					   zuf_map_ext_ctor);
	return zuf_ext_cachep ? 0 : -ENOMEM;
}

void zuf_map_cache_destroy(void)
{
	kmem_cache_destroy(zuf_ext_cachep);
	zuf_ext_cachep = NULL;
}

static bool zuf_use_mapcache(struct inode *inode)
{
	return !(ZSBI(inode)->flags & ZUF_SB_NO_MAPCACHE);
}

static bool zuf_map_lookup(struct inode *inode, u64 pos,
			   struct zuf_map_ext *out)
{
	struct zuf_inode_info *zii = ZUII(inode);
	struct rb_node *n;
	bool found = false;

	spin_lock(&zii->map_lock);
	n = zii->map_root.rb_node;
	while (n) {
		struct zuf_map_ext *e = rb_entry(n, struct zuf_map_ext, node);

		if (pos < e->offset) {
			n = n->rb_left;
		} else if (pos >= e->offset + e->length) {
			n = n->rb_right;
		} else {
			*out = *e;
			found = true;
			break;
		}
	}
	spin_unlock(&zii->map_lock);
	return found;
}

/* First extent that ends after @start, or NULL */
static struct rb_node *zuf_map_first_after(struct zuf_inode_info *zii,
					   u64 start)
{
	struct rb_node *n = zii->map_root.rb_node, *best = NULL;

	while (n) {
		struct zuf_map_ext *e = rb_entry(n, struct zuf_map_ext, node);

		if (e->offset + e->length > start) {
			best = n;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return best;
}

static void zuf_map_drop_locked(struct inode *inode, u64 start, u64 end)
{
	struct zuf_inode_info *zii = ZUII(inode);
	struct rb_node *n = zuf_map_first_after(zii, start);

	while (n) {
		struct zuf_map_ext *e = rb_entry(n, struct zuf_map_ext, node);
		struct rb_node *next = rb_next(n);

		if (e->offset >= end)
			break;
		rb_erase(n, &zii->map_root);
		kmem_cache_free(zuf_ext_cachep, e);
		ZUI(inode)->nr_ext--;
		n = next;
	}
}

/* Forget every cached extent overlapping [start, end) */
void zuf_map_drop(struct inode *inode, u64 start, u64 end)
{
	struct zuf_inode_info *zii = ZUII(inode);

	spin_lock(&zii->map_lock);
	zuf_map_drop_locked(inode, start, end);
	spin_unlock(&zii->map_lock);
}

void zuf_map_drop_all(struct inode *inode)
{
	zuf_map_drop(inode, 0, U64_MAX);
}

/* [o1, o1 + l1) at pmem p1 runs on into [o2, ...) at p2, on one device */
static bool zuf_map_contig(struct inode *inode, u64 o1, u64 p1, u64 l1,
			   u64 o2, u64 p2, u64 l2)
{
	return o1 + l1 == o2 && p1 + l1 == p2 &&
	       zuf_pmem_dev_of(ZSBI(inode), p1, l1 + l2);
}

/*
 * Grow a cached neighbour over @x when file and pmem are both contiguous,
 * so that appends keep one extent instead of one per block.  Nothing of
 * [x->offset, x->offset + x->length) is cached any more.
 */
static bool zuf_map_merge_locked(struct inode *inode,
				 const struct zufs_extent *x)
{
	struct zuf_inode_info *zii = ZUII(inode);
	struct rb_node *n = zuf_map_first_after(zii, x->offset);
	struct rb_node *p = n ? rb_prev(n) : rb_last(&zii->map_root);
	struct zuf_map_ext *prev = p ? rb_entry(p, struct zuf_map_ext, node) :
				   NULL;
	struct zuf_map_ext *next = n ? rb_entry(n, struct zuf_map_ext, node) :
				   NULL;

	if (prev && zuf_map_contig(inode, prev->offset, prev->pmem_off,
				   prev->length, x->offset, x->pmem_off,
				   x->length)) {
		prev->length += x->length;
		if (next && zuf_map_contig(inode, prev->offset, prev->pmem_off,
					   prev->length, next->offset,
					   next->pmem_off, next->length)) {
			prev->length += next->length;
			rb_erase(n, &zii->map_root);
			kmem_cache_free(zuf_ext_cachep, next);
			ZUI(inode)->nr_ext--;
		}
		return true;
	}
	if (next && zuf_map_contig(inode, x->offset, x->pmem_off, x->length,
				   next->offset, next->pmem_off,
				   next->length)) {
		next->offset = x->offset;
		next->pmem_off = x->pmem_off;
		next->length += x->length;
		return true;
	}
	return false;
}

static void zuf_map_insert(struct inode *inode, const struct zufs_extent *x)
{
	struct zuf_inode_info *zii = ZUII(inode);
	struct rb_node **p, *parent = NULL;
	struct zuf_map_ext *e;

	spin_lock(&zii->map_lock);
	if (ZUI(inode)->nr_ext >= ZUF_MAX_CACHED_EXT)
		zuf_map_drop_locked(inode, 0, U64_MAX);
	zuf_map_drop_locked(inode, x->offset, x->offset + x->length);
	if (zuf_map_merge_locked(inode, x))
		goto out_unlock;
	/* only a cache: without memory the next I/O asks again */
	e = kmem_cache_alloc(zuf_ext_cachep, GFP_NOWAIT | __GFP_NOWARN);
	if (!e)
		goto out_unlock;
	e->offset = x->offset;
	e->length = x->length;
	e->pmem_off = x->pmem_off;
	p = &zii->map_root.rb_node;
	while (*p) {
		struct zuf_map_ext *c = rb_entry(*p, struct zuf_map_ext, node);

		parent = *p;
		p = e->offset < c->offset ? &(*p)->rb_left : &(*p)->rb_right;
	}
	rb_link_node(&e->node, parent, p);
	rb_insert_color(&e->node, &zii->map_root);
	ZUI(inode)->nr_ext++;
out_unlock:
	spin_unlock(&zii->map_lock);
}

static void zuf_wait_dax_page(struct inode *inode)
{
	/* the page's user may need to fault on this file to let go */
	up_write(&ZUII(inode)->map_sem);
	schedule();
	down_write(&ZUII(inode)->map_sem);
}

/*
 * Wait until no DAX page of [start, end] is pinned (e.g. by O_DIRECT I/O
 * of another filesystem into our mapping): its blocks must not be freed
 * under the DMA.  Caller holds map_sem for write.
 */
int zuf_break_layouts(struct inode *inode, loff_t start, loff_t end)
{
	struct page *page;
	int err;

	if (!IS_DAX(inode))
		return 0;
	do {
		page = dax_layout_busy_page_range(inode->i_mapping, start, end);
		if (!page)
			return 0;
		err = ___wait_var_event(&page->_refcount,
					atomic_read(&page->_refcount) == 1,
					TASK_INTERRUPTIBLE, 0, 0,
					zuf_wait_dax_page(inode));
	} while (!err);
	return err;
}

/*
 * Drop user mappings, DAX entries and cached maps of [start, end) (whole
 * pages/blocks around it).  Caller holds the inode lock and map_sem for
 * write, and calls this before asking the server to move blocks.
 */
int zuf_invalidate_range(struct inode *inode, loff_t start, loff_t end)
{
	loff_t s = round_down(start, PAGE_SIZE);
	loff_t e = end >= LLONG_MAX - PAGE_SIZE ? LLONG_MAX :
						  round_up(end, PAGE_SIZE);
	int err;

	if (e <= s)
		return 0;
	err = zuf_break_layouts(inode, s, e - 1);
	if (err)
		return err;
	/* page cache (no pmem): mmapped stores must not be lost */
	if (!IS_DAX(inode) && inode->i_mapping->nrpages) {
		err = filemap_write_and_wait_range(inode->i_mapping, s, e - 1);
		if (err)
			return err;
	}
	unmap_mapping_range(inode->i_mapping, s, e - s, 1);
	truncate_inode_pages_range(inode->i_mapping, s, e - 1);
	zuf_map_drop(inode, round_down(start, ZUFS_PMEM_BLOCK),
		     end >= LLONG_MAX ? U64_MAX : end);
	return 0;
}

/*
 * The server moved blocks on its own: forget [start, end) of @inode as a
 * punch hole would, waiting for I/O and faults that may use the old maps.
 */
int zuf_invalidate_inode(struct inode *inode, loff_t start, loff_t end)
{
	struct zuf_inode_info *zii = ZUII(inode);
	int err;

	if (down_write_killable(&inode->i_rwsem))
		return -EINTR;
	down_write(&zii->map_sem);
	inode_dio_wait(inode);
	err = zuf_invalidate_range(inode, start, end);
	up_write(&zii->map_sem);
	inode_unlock(inode);
	return err;
}

/* ------------------------------------------------------------------ */
/* iomap: GET_BLOCKS                                                   */
/* ------------------------------------------------------------------ */

static int zuf_iomap_set(struct zuf_sb_info *sbi, struct iomap *iomap,
			 u64 offset, u64 length, u64 pmem_off, u32 flags)
{
	struct zuf_pmem_dev *dev;

	iomap->offset = offset;
	iomap->length = length;
	iomap->flags = (flags & ZUFS_EXT_NEW) ? IOMAP_F_NEW : 0;
	if (flags & ZUFS_EXT_SHARED)
		iomap->flags |= IOMAP_F_SHARED;	/* fiemap reports it */
	if (flags & ZUFS_EXT_HOLE) {
		iomap->type = IOMAP_HOLE;
		iomap->addr = IOMAP_NULL_ADDR;
		return 0;
	}
	dev = zuf_pmem_dev_of(sbi, pmem_off, length);
	if (!dev)
		return -EIO;
	iomap->type = IOMAP_MAPPED;
	iomap->addr = pmem_off - dev->offset;
	iomap->dax_dev = dev->dax_dev;
	iomap->bdev = dev->bdev;
	return 0;
}

/* The extents a GET_BLOCKS answer may have (zuf_get_blocks()) */
#define ZUF_GB_EXTENTS	16
static_assert(ZUF_GB_EXTENTS <= ZUFS_MAX_EXTENTS);

/*
 * A shared block may only be read in place: in an answer that will be
 * stored into or mapped it would let one file's write show in another.
 */
static const char *zuf_check_shared(const struct zufs_extent *x, u32 gb_flags)
{
	if (!(x->flags & ZUFS_EXT_SHARED))
		return NULL;
	if (x->flags & (ZUFS_EXT_HOLE | ZUFS_EXT_NEW))
		return "shared hole or new extent";
	if (gb_flags & (ZUFS_GB_WRITE | ZUFS_GB_MAP))
		return "shared extent for a write or a mapping";
	return NULL;
}

static int zuf_check_extents(struct zuf_sb_info *sbi,
			     const struct zufs_op_get_blocks *gb, u64 start,
			     u32 gb_flags)
{
	bool write = gb_flags & ZUFS_GB_WRITE;
	const char *why = NULL;
	u64 expect = start;
	u32 i;

	if (gb->count > ZUF_GB_EXTENTS)
		why = "too many extents";
	for (i = 0; !why && i < gb->count; i++) {
		const struct zufs_extent *x = &gb->ext[i];

		if (x->offset != expect)
			why = "extent does not start where expected";
		else if (!x->length || (x->length & (ZUFS_PMEM_BLOCK - 1)) ||
			 x->offset + x->length < x->offset)
			why = "bad extent length";
		else if (x->flags & ~(ZUFS_EXT_HOLE | ZUFS_EXT_NEW |
				      ZUFS_EXT_SHARED))
			why = "unknown extent flags";
		else if ((x->flags & ZUFS_EXT_HOLE) && write)
			why = "hole in a write mapping";
		else if (!(x->flags & ZUFS_EXT_HOLE) &&
			 ((x->pmem_off & (ZUFS_PMEM_BLOCK - 1)) ||
			  !zuf_pmem_dev_of(sbi, x->pmem_off, x->length)))
			why = "extent outside pmem";
		else if (!(x->flags & ZUFS_EXT_HOLE) &&
			 zuf_pmem_on_table(sbi, x->pmem_off, x->length))
			why = "extent over a device table";
		else
			why = zuf_check_shared(x, gb_flags);
		expect = x->offset + x->length;
	}
	if (!why && write && !gb->count)
		why = "no extent for a write";
	if (!why)
		return 0;
	zuf_bad_answer(sbi, "get_blocks ino %llu @%llu: %s (extent %u of %u)",
		       gb->ino, start, why, i, gb->count);
	return -EIO;
}

static void zuf_cache_extents(struct inode *inode,
			      const struct zufs_op_get_blocks *gb)
{
	u32 i;

	if (!zuf_use_mapcache(inode))
		return;
	for (i = 0; i < gb->count; i++)
		if (!(gb->ext[i].flags & (ZUFS_EXT_HOLE | ZUFS_EXT_SHARED)))
			zuf_map_insert(inode, &gb->ext[i]);
}

/*
 * The DAX code tears down zero-page mappings of holes only for the extent
 * it is handed (ext[0], flagged IOMAP_F_NEW).  The server may allocate
 * more in the same answer; those blocks are later served as plain mapped
 * extents (from the map cache, or from the server, which no longer calls
 * them new), so a read fault's zero page over them would stay mapped and
 * hide what write() puts there.  Drop those pages now, except inside the
 * range a fault asked for: the fault holds that range's DAX entry lock
 * (one page, or a whole 2 MiB), and no zero page can be mapped there.
 */
static void zuf_drop_pages(struct inode *inode, u64 start, u64 end)
{
	invalidate_inode_pages2_range(inode->i_mapping, start >> PAGE_SHIFT,
				      (end - 1) >> PAGE_SHIFT);
}

static void zuf_drop_hole_pages(struct inode *inode,
				const struct zufs_op_get_blocks *gb,
				u64 locked_start, u64 locked_end)
{
	u32 i;

	for (i = 1; i < gb->count; i++) {
		const struct zufs_extent *x = &gb->ext[i];
		u64 start = x->offset, end = x->offset + x->length;

		if (!(x->flags & ZUFS_EXT_NEW))
			continue;
		if (start < locked_end && end > locked_start) {
			if (end > locked_end)
				zuf_drop_pages(inode, locked_end, end);
			end = min(end, locked_start);
		}
		if (start < end)
			zuf_drop_pages(inode, start, end);
	}
}

/*
 * The answer's room: enough extents to fill the map cache ahead of a
 * sequential reader, small enough for the stack (no allocation per trip).
 */
union zuf_gb_op {
	struct zufs_op_get_blocks gb;
	u8 room[sizeof(struct zufs_op_get_blocks) +
		ZUF_GB_EXTENTS * sizeof(struct zufs_extent)];
};

static int zuf_get_blocks(struct inode *inode, loff_t pos, loff_t length,
			  unsigned int flags, struct iomap *iomap)
{
	struct zuf_sb_info *sbi = ZSBI(inode);
	bool write = (flags & IOMAP_WRITE) && !(flags & IOMAP_ZERO);
	u64 start = round_down(pos, ZUFS_PMEM_BLOCK);
	u64 end = round_up(pos + length, ZUFS_PMEM_BLOCK);
	union zuf_gb_op op;
	struct zufs_op_get_blocks *gb = &op.gb;
	struct zuf_dispatch zd = {
		.op = &gb->hdr,
		.op_size = sizeof(op),
		.op_in_size = sizeof(*gb),
	};
	u32 gb_flags;
	u64 version;
	int err;

	memset(gb, 0, sizeof(*gb));
	gb->ext_max = ZUF_GB_EXTENTS;
	gb->hdr.op = ZUFS_OP_GET_BLOCKS;
	gb->hdr.flags = write ? ZUFS_GB_WRITE : 0;
	/*
	 * A fault maps the block into a process (a MAP_PRIVATE copy only
	 * reads it, but a read fault maps it too) and zeroing stores into it
	 * in place: neither may get a shared block.
	 */
	if (flags & (IOMAP_FAULT | IOMAP_ZERO))
		gb->hdr.flags |= ZUFS_GB_MAP;
	gb_flags = gb->hdr.flags;	/* the server may write over it */
	gb->ino = inode->i_ino;
	gb->offset = start;
	gb->length = end - start;
	/* a fault never changes the size; a write() grows it to its end */
	if (write && !(flags & IOMAP_FAULT))
		gb->size_after = pos + length;
	version = zuf_attr_version(inode);
	err = zufc_dispatch(sbi, &zd);
	if (err)
		return err;
	err = zuf_check_extents(sbi, gb, start, gb_flags);
	if (!err)
		err = zuf_check_inode_attr(inode, &gb->attr);
	if (err)
		return err;
	/* only a write() holds the inode lock and may change the size */
	if (gb->size_after)
		zuf_update_inode(inode, &gb->attr);
	else
		zuf_refresh_inode(inode, &gb->attr, version);
	if (flags & IOMAP_FAULT)
		zuf_drop_hole_pages(inode, gb, start, end);
	else
		zuf_drop_hole_pages(inode, gb, 0, 0);
	zuf_cache_extents(inode, gb);
	if (!gb->count)
		return zuf_iomap_set(sbi, iomap, start, end - start, 0,
				     ZUFS_EXT_HOLE);
	return zuf_iomap_set(sbi, iomap, gb->ext[0].offset,
			     gb->ext[0].length, gb->ext[0].pmem_off,
			     gb->ext[0].flags);
}

/*
 * A DAX fault ties each pmem page it maps to (mapping, index) for as long
 * as it is mapped: one page, or the 512 of a 2 MiB mapping.  A block the
 * server also gave to another file, or to another place of this one (a
 * lie, or a cached map it moved without telling), would be tied twice:
 * refuse it instead (the fault gets SIGBUS, or falls back to pages).
 */
static bool zuf_page_tied_elsewhere(struct page *page, struct inode *inode,
				    pgoff_t index)
{
	struct address_space *mapping = READ_ONCE(page->mapping);

	return mapping && (mapping != inode->i_mapping ||
			   READ_ONCE(page->index) != index);
}

static int zuf_fault_page_check(struct inode *inode, struct iomap *iomap,
				loff_t pos, loff_t length)
{
	struct zuf_sb_info *sbi = ZSBI(inode);
	struct zuf_pmem_dev *dev;
	struct page *page;
	u64 off, i, n;

	if (iomap->type != IOMAP_MAPPED)
		return 0;
	/* a shorter answer than a huge fault asks for makes it fall back */
	length = min_t(u64, length, iomap->offset + iomap->length - pos);
	off = iomap->addr + (pos - iomap->offset);
	n = DIV_ROUND_UP(length, PAGE_SIZE);
	dev = zuf_pmem_dev_of(sbi, off, n << PAGE_SHIFT);
	if (!dev || !pfn_t_has_page(dev->pfn))
		return 0;
	page = pfn_to_page(pfn_t_to_pfn(dev->pfn) +
			   ((off - dev->offset) >> PAGE_SHIFT));
	for (i = 0; i < n; i++)
		if (zuf_page_tied_elsewhere(page + i, inode,
					    (pos >> PAGE_SHIFT) + i))
			goto tied;
	return 0;

tied:
	pos += i << PAGE_SHIFT;
	zuf_bad_answer(sbi, "ino %lu @%lld: pmem block %llu is mapped by another file or offset",
		       inode->i_ino, pos, (off >> PAGE_SHIFT) + i);
	zuf_map_drop(inode, round_down(pos, ZUFS_PMEM_BLOCK),
		     round_down(pos, ZUFS_PMEM_BLOCK) + ZUFS_PMEM_BLOCK);
	return -EIO;
}

static int zuf_iomap_find(struct inode *inode, loff_t pos, loff_t length,
			  unsigned int flags, struct iomap *iomap)
{
	bool write = (flags & IOMAP_WRITE) && !(flags & IOMAP_ZERO);
	struct zuf_map_ext e;
	int err;

	/* a cached map must not outlive the server, nor its consent to write */
	err = write ? zuf_may_write(ZSBI(inode)) :
		      zuf_sb_srv_dead(ZSBI(inode)) ? -EIO : 0;
	if (err)
		return err;

	/*
	 * A cached extent serves reads, faults and overwrites inside the
	 * file; a write past EOF goes to the server, which grows the size.
	 */
	if (zuf_use_mapcache(inode) && zuf_map_lookup(inode, pos, &e) &&
	    (!write || (flags & IOMAP_FAULT) ||
	     pos + length <= i_size_read(inode))) {
		/*
		 * From the block of pos on, as the server answers: some
		 * iomap users (6.1's DAX dedupe compare) take the length
		 * as counted from pos.
		 */
		u64 skip = round_down(pos, ZUFS_PMEM_BLOCK) - e.offset;

		return zuf_iomap_set(ZSBI(inode), iomap, e.offset + skip,
				     e.length - skip, e.pmem_off + skip, 0);
	}
	if (flags & IOMAP_NOWAIT)
		return -EAGAIN;
	return zuf_get_blocks(inode, pos, length, flags, iomap);
}

static int zuf_iomap_begin(struct inode *inode, loff_t pos, loff_t length,
			   unsigned int flags, struct iomap *iomap,
			   struct iomap *srcmap)
{
	int err = zuf_iomap_find(inode, pos, length, flags, iomap);

	if (!err && (flags & IOMAP_FAULT))
		err = zuf_fault_page_check(inode, iomap, pos, length);
	return err;
}

const struct iomap_ops zuf_iomap_ops = {
	.iomap_begin	= zuf_iomap_begin,
};

/* ------------------------------------------------------------------ */
/* pmem read/write                                                     */
/* ------------------------------------------------------------------ */

static ssize_t zuf_dax_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t ret;

	if (iocb->ki_flags & IOCB_NOWAIT) {
		if (!inode_trylock_shared(inode))
			return -EAGAIN;
	} else {
		inode_lock_shared(inode);
	}
	ret = dax_iomap_rw(iocb, to, &zuf_iomap_ops);
	inode_unlock_shared(inode);
	file_accessed(iocb->ki_filp);
	return ret;
}

/*
 * GET_BLOCKS for a write grows the size to the write's end before the
 * copy; when the copy falls short, put the size back where the bytes end.
 */
static int zuf_fix_size(struct inode *inode, loff_t old_size, loff_t end)
{
	loff_t want = max(old_size, end);

	if (i_size_read(inode) == want)
		return 0;
	return zuf_set_size(inode, want);
}

static ssize_t zuf_dax_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	loff_t old_size;
	ssize_t ret;
	int err;

	if (iocb->ki_flags & IOCB_NOWAIT) {
		if (!inode_trylock(inode))
			return -EAGAIN;
	} else {
		inode_lock(inode);
	}
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out_unlock;
	ret = file_modified(file);
	if (ret)
		goto out_unlock;
	old_size = i_size_read(inode);
	ret = dax_iomap_rw(iocb, from, &zuf_iomap_ops);
	err = zuf_fix_size(inode, old_size, ret > 0 ? iocb->ki_pos : 0);
	if (err && ret >= 0)
		ret = err;

out_unlock:
	inode_unlock(inode);
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

ssize_t zuf_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	if (!iov_iter_count(to))
		return 0;
	if (IS_DAX(file_inode(iocb->ki_filp)))
		return zuf_dax_read_iter(iocb, to);
	return zuf_io_read_iter(iocb, to);
}

ssize_t zuf_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	if (IS_DAX(file_inode(iocb->ki_filp)))
		return zuf_dax_write_iter(iocb, from);
	return zuf_io_write_iter(iocb, from);
}

/* ------------------------------------------------------------------ */
/* address spaces                                                      */
/* ------------------------------------------------------------------ */

/* msync/fsync: write back CPU caches of pmem dirtied through mmap */
static int zuf_dax_writepages(struct address_space *mapping,
			      struct writeback_control *wbc)
{
	struct zuf_sb_info *sbi = ZSB(mapping->host->i_sb);

	if (!sbi->pmem || !sbi->pmem->ndevs)
		return 0;
	return dax_writeback_mapping_range(mapping, sbi->pmem->devs[0].dax_dev,
					   wbc);
}

const struct address_space_operations zuf_dax_aops = {
	.writepages	= zuf_dax_writepages,
	.direct_IO	= noop_direct_IO,
	.dirty_folio	= noop_dirty_folio,
};
