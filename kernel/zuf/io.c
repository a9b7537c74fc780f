// SPDX-License-Identifier: GPL-2.0
/*
 * io.c - old-IO read/write, for plugins without pmem (ZUFS_FST_NODEV).
 *
 * READ/WRITE hand the caller's own pages to the server, mapped into the
 * serving ZT's window (zt.c): writable for a READ, read-only for a WRITE
 * (enforced by the PTEs).  The server may only ever see bytes the op
 * covers: a page the I/O covers only in part (an unaligned head or tail)
 * is replaced in the window by a bounce page holding just the covered
 * bytes, copied back into the caller's page after a READ.  Memory that
 * is not the caller's user memory (kernel buffers in a bvec or kvec:
 * loop devices, slab, pipes) and I/O under a page never reach the window:
 * they travel through the channel's data area.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/highmem.h>
#include <linux/pagemap.h>
#include "zuf_vfs.h"

/*
 * A caller's page the I/O covers only in part: the window gets @bounce,
 * holding the covered bytes [@off, @off + @len) of @orig and zeros around.
 */
struct zuf_io_bounce {
	struct page	*orig;		/* the caller's page, our reference */
	struct page	*bounce;	/* in the window instead */
	u32		idx;		/* in the window */
	u32		off;
	u32		len;
};

/* The old-IO window of one op: pinned pages and at most two bounces */
struct zuf_io_win {
	struct zuf_io_bounce	b[2];
	u32			nr_bounce;
	u32			start;		/* of the buffer in page 0 */
};

/*
 * Only the caller's user memory, only a page's worth or more, and only
 * more than the mount's copy_max
 */
static bool zuf_io_can_window(struct inode *inode, struct iov_iter *iter,
			      u64 len)
{
	return user_backed_iter(iter) && len >= PAGE_SIZE &&
	       len > READ_ONCE(ZSBI(inode)->copy_max);
}

static int zuf_io_bounce_add(struct zuf_dispatch *zd, struct zuf_io_win *w,
			     u32 idx, u32 off, u32 len, bool write)
{
	struct zuf_io_bounce *b = &w->b[w->nr_bounce];
	struct page *page;

	page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!page)
		return -ENOMEM;
	if (write)
		memcpy_page(page, off, zd->win_pages[idx], off, len);
	b->orig = zd->win_pages[idx];
	b->bounce = page;
	b->idx = idx;
	b->off = off;
	b->len = len;
	zd->win_pages[idx] = page;
	w->nr_bounce++;
	return 0;
}

/* Put back the caller's pages a bounce stood in for; a READ's bytes too */
static void zuf_io_bounce_end(struct zuf_io_win *w, bool copy_back,
			      u64 done)
{
	u32 i;

	for (i = 0; i < w->nr_bounce; i++) {
		struct zuf_io_bounce *b = &w->b[i];
		/* bytes of the buffer before this page's covered part */
		u64 before = b->idx ? (u64)b->idx * PAGE_SIZE - w->start : 0;

		if (copy_back && done > before) {
			u32 n = min_t(u64, b->len, done - before);

			memcpy_page(b->orig, b->off, b->bounce, b->off, n);
			set_page_dirty_lock(b->orig);
		}
		put_page(b->orig);
	}
	w->nr_bounce = 0;
}

static int zuf_io_window(struct zuf_dispatch *zd, struct zuf_io_win *w,
			 struct zufs_op_io *op, struct iov_iter *iter,
			 bool write)
{
	size_t start;
	ssize_t got;
	u32 nr, end;
	int err;

	got = iov_iter_get_pages_alloc2(iter, &zd->win_pages, op->length,
					&start);
	if (got <= 0)
		return got ? got : -EFAULT;
	nr = DIV_ROUND_UP(start + got, PAGE_SIZE);
	zd->win_nr = nr;
	w->start = start;
	w->nr_bounce = 0;
	end = (start + got) & ~PAGE_MASK;	/* in the last page; 0: whole */
	if (start || (nr == 1 && end)) {
		err = zuf_io_bounce_add(zd, w, 0, start,
				min_t(u64, got, PAGE_SIZE - start), write);
		if (err)
			goto out_put;
	}
	if (nr > 1 && end) {
		err = zuf_io_bounce_add(zd, w, nr - 1, 0, end, write);
		if (err)
			goto out_put;
	}
	op->hdr.flags |= ZUFS_IO_WINDOW;
	op->win_offset = start;
	op->length = got;
	zd->win_writable = !write;
	/* what the server wrote into user memory must not be lost */
	zd->win_dirty = !write;
	return 0;

out_put:
	zuf_io_bounce_end(w, false, 0);
	zuf_win_put_pages(zd->win_pages, nr, false);
	iov_iter_revert(iter, got);
	zd->win_nr = 0;
	return err;
}

static void zuf_io_op_init(struct zufs_op_io *op, struct inode *inode,
			   bool write, loff_t pos, u64 len)
{
	op->hdr.op = write ? ZUFS_OP_WRITE : ZUFS_OP_READ;
	op->ino = inode->i_ino;
	op->offset = pos;
	op->length = len;
}

/*
 * Send an old-IO op set up in @zd and check the answer.  Returns the bytes
 * done or -errno.  The window pages stay the caller's to release (unless
 * zd->win_kept: an abandoned op left them to the channel).
 */
static ssize_t zuf_io_send(struct inode *inode, struct zufs_op_io *op,
			   struct zuf_dispatch *zd)
{
	bool write = op->hdr.op == ZUFS_OP_WRITE;
	u64 asked = op->length;
	ssize_t done;
	int err;

	err = zufc_dispatch(ZSBI(inode), zd);
	/* the answer came back over the whole op: the length is ours */
	op->length = asked;
	if (err)
		return err;
	/* a read through the data area: what was copied out */
	done = write || zd->win_nr ? op->done : zd->out_len;
	if (op->done > asked || done > asked) {
		zuf_bad_answer(ZSBI(inode), "%s ino %lu: %llu bytes for %llu",
			       write ? "write" : "read", inode->i_ino,
			       op->done, asked);
		return -EIO;
	}
	return done;
}

static void zuf_io_put_window(struct zuf_dispatch *zd)
{
	if (zd->win_nr && !zd->win_kept)
		zuf_win_put_pages(zd->win_pages, zd->win_nr, zd->win_dirty);
}

/*
 * One READ or WRITE of @len bytes at @pos between the server and @nr
 * page-cache pages (file order, the first one at @pos), all in the window.
 * The caller holds the pages locked or under writeback; the window gets
 * references of its own.  Returns the bytes done (<= @len) or -errno.
 */
ssize_t zuf_io_pages(struct inode *inode, bool write, loff_t pos,
		     struct page **pages, u32 nr, u32 len)
{
	struct zufs_op_io op = {};
	struct zuf_dispatch zd = { .op = &op.hdr, .op_size = sizeof(op),
				   .win_pages = pages, .win_nr = nr,
				   .win_writable = !write };
	u32 i;

	if (!nr || nr >= ZUFS_WINDOW_PAGES || len > (u64)nr << PAGE_SHIFT)
		return -EINVAL;
	zuf_io_op_init(&op, inode, write, pos, len);
	op.hdr.flags = ZUFS_IO_WINDOW;
	ssize_t done;

	for (i = 0; i < nr; i++)
		get_page(pages[i]);
	done = zuf_io_send(inode, &op, &zd);
	zuf_io_put_window(&zd);
	return done;
}

/*
 * One READ or WRITE of at most op->length (<= ZUFS_IO_MAX) bytes at
 * op->offset, between the server and @iter.  op->length comes back as what
 * was asked of the server (the window takes one stretch of contiguous
 * memory); returns the bytes done (<= op->length), with @iter advanced by
 * exactly that, or -errno (the caller stops; @iter's state is undefined).
 */
ssize_t zuf_io_dispatch(struct inode *inode, struct zufs_op_io *op,
			struct iov_iter *iter)
{
	bool write = op->hdr.op == ZUFS_OP_WRITE;
	struct zuf_dispatch zd = { .op = &op->hdr, .op_size = sizeof(*op) };
	struct zuf_io_win w = {};
	ssize_t done;
	int err;

	if (zuf_io_can_window(inode, iter, op->length)) {
		err = zuf_io_window(&zd, &w, op, iter, write);
		if (err)
			return err;
	} else if (write) {
		zd.in_iter = iter;
		zd.in_len = op->length;
	} else {
		zd.out_iter = iter;
		zd.out_max = op->length;
	}
	done = zuf_io_send(inode, op, &zd);
	/* abandoned: the server may still write the bounces, not ours */
	zuf_io_bounce_end(&w, !write && !zd.win_kept && done > 0,
			  done > 0 ? done : 0);
	zuf_io_put_window(&zd);
	kvfree(zd.win_pages);
	/* a read through the data area advanced @iter by what it copied */
	if (done >= 0 && (write || zd.win_nr))
		iov_iter_revert(iter, op->length - done);
	return done;
}

static ssize_t zuf_io_read_one(struct inode *inode, loff_t pos, size_t len,
			       struct iov_iter *to, bool *short_read)
{
	struct zufs_op_io op = {};
	ssize_t n;

	zuf_io_op_init(&op, inode, false, pos, len);
	n = zuf_io_dispatch(inode, &op, to);
	*short_read = n >= 0 && n < op.length;
	return n;
}

ssize_t zuf_io_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t done = 0, n = 0;
	bool short_read = false;

	inode_lock_shared(inode);
	/* dirty mmapped pages must reach the server before we read there */
	if (inode->i_mapping->nrpages) {
		n = filemap_write_and_wait_range(inode->i_mapping, iocb->ki_pos,
				iocb->ki_pos + iov_iter_count(to) - 1);
		if (n)
			goto out_unlock;
	}
	while (iov_iter_count(to) && !short_read) {
		size_t len = min_t(size_t, iov_iter_count(to), ZUFS_IO_MAX);

		n = zuf_io_read_one(inode, iocb->ki_pos, len, to, &short_read);
		if (n <= 0)
			break;
		iocb->ki_pos += n;
		done += n;
	}
out_unlock:
	inode_unlock_shared(inode);
	file_accessed(iocb->ki_filp);
	return done ? done : n;
}

static ssize_t zuf_io_write_one(struct inode *inode, loff_t pos, size_t len,
				struct iov_iter *from, bool *short_write)
{
	struct zufs_op_io op = {};
	ssize_t n;
	int err;

	zuf_io_op_init(&op, inode, true, pos, len);
	n = zuf_io_dispatch(inode, &op, from);
	if (n < 0)
		return n;
	*short_write = n < op.length;
	err = zuf_check_inode_attr(inode, &op.attr);
	if (err) {
		iov_iter_revert(from, n);
		return err;
	}
	zuf_update_inode(inode, &op.attr);
	return n;
}

ssize_t zuf_io_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	bool short_write = false;
	ssize_t done = 0, n;

	inode_lock(inode);
	n = generic_write_checks(iocb, from);
	if (n <= 0)
		goto out_unlock;
	n = file_remove_privs(iocb->ki_filp);
	if (n)
		goto out_unlock;
	/* older dirty mmapped bytes must not land after ours */
	if (inode->i_mapping->nrpages) {
		n = filemap_write_and_wait_range(inode->i_mapping, iocb->ki_pos,
				iocb->ki_pos + iov_iter_count(from) - 1);
		if (n)
			goto out_unlock;
	}
	while (iov_iter_count(from) && !short_write) {
		size_t len = min_t(size_t, iov_iter_count(from), ZUFS_IO_MAX);

		n = zuf_io_write_one(inode, iocb->ki_pos, len, from,
				     &short_write);
		if (n <= 0)
			break;
		iocb->ki_pos += n;
		done += n;
	}
	/* a mmap of this file reads through the page cache: refresh it */
	if (done && inode->i_mapping->nrpages)
		invalidate_inode_pages2_range(inode->i_mapping,
				(iocb->ki_pos - done) >> PAGE_SHIFT,
				(iocb->ki_pos - 1) >> PAGE_SHIFT);

out_unlock:
	inode_unlock(inode);
	if (done > 0)
		return generic_write_sync(iocb, done);
	return n;
}
