// SPDX-License-Identifier: GPL-2.0
/*
 * zt.c - the per-CPU ZT channels and zufc_dispatch().
 *
 * Each server thread (ZT) owns one channel: a buffer shared with the
 * server (op area + data area) and a small state machine.  A CPU has one
 * to ZUFS_MAX_LANES channels (lanes).  A caller takes the first idle lane
 * of the CPU it runs on; if all are busy it takes any idle channel, or
 * waits.  The fast path takes only the channel's own spinlock.
 *
 * Old-IO ops bring the caller's pages along: the ZT maps them into its
 * window (a VM_PFNMAP mapping of the channel file) when it picks the op up
 * and zaps them when it answers, both from its own context, so page tables
 * of the server are only ever changed by the server's own threads.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>
#include <linux/cred.h>
#include <linux/timekeeping.h>
#include <linux/topology.h>
#include <linux/sched/mm.h>

#include "zuf_core.h"

/*
 * Channel states.  Allowed transitions (who makes them):
 *
 *   FREE      -> FILLING    caller claims the channel
 *   FILLING   -> POSTED     caller wrote its request
 *   FILLING   -> FREE       caller found the server dead
 *   POSTED    -> SERVING    ZT picked it up (WAIT_OP returns)
 *   POSTED    -> FREE       caller killed / server dead before pick-up
 *   SERVING   -> ANSWERED   ZT answered (next WAIT_OP)
 *   SERVING   -> ABANDONED  caller killed / server dead while served
 *   ANSWERED  -> FREE       caller copied the answer out
 *   ABANDONED -> FREE       ZT's late answer arrived: dropped
 *   FREE, POSTED, ABANDONED, BROKEN -> BROKEN
 *                          the ZT saw the server dead: BREAK is written
 *                          to the buffer (never while a caller owns it:
 *                          FILLING, SERVING or ANSWERED)
 *
 * Server death: callers in FILLING/POSTED/SERVING wake and give the
 * channel up as above; the buffer is only read back in ANSWERED, and
 * then copied out before any check, so a lying or dying server can never
 * change what the kernel already validated.  zufc_dispatch() then waits
 * for the sb to re-attach and sends the op again (flagged RESENT if it was
 * SERVING), or fails it with -EIO (see "Server restart" in zufs_api.h).
 *
 * Polling (-o spin=USEC on the caller's side, zusd --spin USEC on the
 * ZT's): a ZT that answered polls for its next op for its spin time
 * before it sleeps (zt_polling is set meanwhile), and a caller whose
 * mount spins hands its op to a channel whose ZT polls on another CPU,
 * then polls for the answer before it sleeps.  Both stop polling at once
 * when their CPU is wanted (need_resched) or a signal is pending, and
 * sleep as before: polling only saves wake-ups, it never replaces a wait,
 * so a server that never answers still meets the killable sleep.
 *
 * Window pages (win_*): the caller stores its page list in FILLING.  The
 * caller keeps its references and releases them after the op, unless it
 * abandons a SERVING op: then the channel owns them, and the ZT releases
 * them once it has zapped its window (ABANDONED -> FREE), or the channel's
 * free does when the ZT never came back (the window's PTEs went with the
 * server's mm before the channel file, and so the channel, could go).
 */
enum zuf_chan_state {
	ZC_FREE,
	ZC_FILLING,
	ZC_POSTED,
	ZC_SERVING,
	ZC_ANSWERED,
	ZC_ABANDONED,
	ZC_BROKEN,
};

struct zuf_channel {
	struct zuf_server	*srv;		/* immutable */
	u32			cpu;		/* immutable */
	int			node;		/* immutable: of the buffer */
	spinlock_t		lock;
	enum zuf_chan_state	state;		/* @lock */
	u64			seq;		/* @lock: ops posted */
	wait_queue_head_t	zt_wq;		/* the ZT waits for POSTED */
	wait_queue_head_t	caller_wq;	/* the caller waits for ANSWERED */
	/* the buffer: written by the state's owner only (see above) */
	struct page		**pages;	/* immutable */
	u32			nr_pages;	/* immutable */
	void			*vaddr;		/* immutable: vmap of pages */

	/* the window: set by its mmap, cleared by its vma's close */
	unsigned long		win_start;	/* server address, 0: none */
	/* the op's window pages: see "Window pages" above */
	struct page		*win_pages[ZUFS_WINDOW_PAGES];
	u32			win_nr;
	bool			win_writable;	/* the server writes them */
	bool			win_dirty;	/* mark dirty on release */
	bool			win_failed;	/* the ZT could not map them */
	/* ZT private: what is mapped in the window right now */
	u32			win_mapped;
	struct mm_struct	*win_mapped_mm;
	atomic_t		zt_inside;	/* a thread is in WAIT_OP */
	u32			zt_spin_ns;	/* immutable: INIT_THREAD */
	bool			zt_polling;	/* the ZT polls for POSTED */
	/* ZUFS_IOC_NULL_OP: the ZT's stamps, written in SERVING */
	bool			stamp;		/* FILLING: stamp this op */
	u64			t_pick;
	u64			t_answer;
};

static inline struct zufs_op_hdr *zuf_chan_op(struct zuf_channel *chan)
{
	return chan->vaddr;
}

static inline void *zuf_chan_data(struct zuf_channel *chan)
{
	return chan->vaddr + ZUFS_OP_AREA_SIZE;
}

/* ------------------------------------------------------------------ */
/* channel life                                                        */
/* ------------------------------------------------------------------ */

static void zuf_chan_free_pages(struct zuf_channel *chan)
{
	u32 i;

	for (i = 0; i < chan->nr_pages; i++)
		if (chan->pages[i])
			__free_page(chan->pages[i]);
	kvfree(chan->pages);
}

void zuf_win_put_pages(struct page **pages, u32 nr, bool dirty)
{
	u32 i;

	for (i = 0; i < nr; i++) {
		if (dirty)
			set_page_dirty_lock(pages[i]);
		put_page(pages[i]);
	}
}

void zuf_chan_free(struct zuf_channel *chan)
{
	/* an abandoned op whose ZT never answered */
	zuf_win_put_pages(chan->win_pages, chan->win_nr, chan->win_dirty);
	/* its ZT died serving: the mm's PTEs went with its window */
	if (chan->win_mapped_mm)
		mmdrop(chan->win_mapped_mm);
	if (chan->vaddr)
		vunmap(chan->vaddr);
	zuf_chan_free_pages(chan);
	kvfree(chan);
}

static struct zuf_channel *zuf_chan_alloc(struct zuf_server *srv, u32 cpu)
{
	struct zuf_channel *chan;
	u32 i;

	chan = kvzalloc_node(sizeof(*chan), GFP_KERNEL, cpu_to_node(cpu));
	if (!chan)
		return NULL;
	chan->srv = srv;
	chan->cpu = cpu;
	chan->node = cpu_to_node(cpu);
	spin_lock_init(&chan->lock);
	init_waitqueue_head(&chan->zt_wq);
	init_waitqueue_head(&chan->caller_wq);
	chan->nr_pages = ZUFS_CHAN_MAP_SIZE >> PAGE_SHIFT;
	chan->pages = kvcalloc(chan->nr_pages, sizeof(*chan->pages),
			       GFP_KERNEL);
	if (!chan->pages)
		goto out_free_chan;
	for (i = 0; i < chan->nr_pages; i++) {
		chan->pages[i] = alloc_pages_node(chan->node,
						  GFP_KERNEL | __GFP_ZERO, 0);
		if (!chan->pages[i])
			goto out_free_pages;
	}
	chan->vaddr = vmap(chan->pages, chan->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!chan->vaddr)
		goto out_free_pages;
	return chan;

out_free_pages:
	zuf_chan_free_pages(chan);
out_free_chan:
	kvfree(chan);
	return NULL;
}

static u32 zuf_chan_index(u32 cpu, u32 lane)
{
	return lane * nr_cpu_ids + cpu;
}

struct zuf_channel *zuf_chan_create(struct zuf_server *srv, u32 cpu,
				    u32 lane, u32 spin_us)
{
	struct zuf_channel *chan;
	u32 idx;

	if (cpu >= nr_cpu_ids || !cpu_possible(cpu) || lane >= ZUFS_MAX_LANES)
		return ERR_PTR(-EINVAL);
	idx = zuf_chan_index(cpu, lane);
	if (READ_ONCE(srv->chans[idx]))
		return ERR_PTR(-EBUSY);
	chan = zuf_chan_alloc(srv, cpu);
	if (!chan)
		return ERR_PTR(-ENOMEM);
	chan->zt_spin_ns = min_t(u32, spin_us, ZUFS_SPIN_MAX_US) *
			   NSEC_PER_USEC;
	/* publish: dispatchers read chans[] without a lock */
	if (cmpxchg_release(&srv->chans[idx], NULL, chan)) {
		zuf_chan_free(chan);
		return ERR_PTR(-EBUSY);
	}
	return chan;
}

int zuf_chan_numa_node(struct zuf_channel *chan)
{
	return chan->node;
}

/* ------------------------------------------------------------------ */
/* the window                                                          */
/* ------------------------------------------------------------------ */

/* Only pages the kernel put there exist: anything else is the server's bug */
static vm_fault_t zuf_win_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

/*
 * A store into a read-only window page (a WRITE's source: the caller's
 * pages, the zero page, page cache under writeback) must never make its
 * PTE writable, as 6.1's wp_pfn_shared() would without this hook.  The
 * writable pages of a READ are mapped writable from the start, so every
 * write fault here is the server's bug.
 */
static vm_fault_t zuf_win_pfn_mkwrite(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static int zuf_win_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

static int zuf_win_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

/* A write's pages are mapped read-only: mprotect must not open them up */
static int zuf_win_mprotect(struct vm_area_struct *vma, unsigned long start,
			    unsigned long end, unsigned long newflags)
{
	return -EACCES;
}

static void zuf_win_close(struct vm_area_struct *vma)
{
	struct zuf_channel *chan = vma->vm_private_data;

	/* the PTEs are gone already: only forget where the window was */
	spin_lock(&chan->lock);
	/* one window per channel (EBUSY), never split or copied: this one */
	if (chan->win_start == vma->vm_start)
		WRITE_ONCE(chan->win_start, 0);
	spin_unlock(&chan->lock);
}

static const struct vm_operations_struct zuf_win_vm_ops = {
	.fault		= zuf_win_fault,
	.pfn_mkwrite	= zuf_win_pfn_mkwrite,
	.may_split	= zuf_win_may_split,
	.mremap		= zuf_win_mremap,
	.mprotect	= zuf_win_mprotect,
	.close		= zuf_win_close,
};

static int zuf_win_mmap(struct zuf_channel *chan, struct vm_area_struct *vma)
{
	int err = 0;

	if (vma->vm_end - vma->vm_start != ZUFS_WINDOW_SIZE ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	spin_lock(&chan->lock);
	if (chan->win_start) {
		err = -EBUSY;
	} else {
		WRITE_ONCE(chan->win_start, vma->vm_start);
	}
	spin_unlock(&chan->lock);
	if (err)
		return err;
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_DONTCOPY);
	vma->vm_private_data = chan;
	vma->vm_ops = &zuf_win_vm_ops;
	return 0;
}

int zuf_chan_mmap(struct zuf_channel *chan, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff == ZUFS_WINDOW_MMAP_OFFSET >> PAGE_SHIFT)
		return zuf_win_mmap(chan, vma);
	if (vma->vm_end - vma->vm_start > ZUFS_CHAN_MAP_SIZE)
		return -EINVAL;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return vm_map_pages(vma, chan->pages, chan->nr_pages);
}

/* The channel's window in @mm, if it is there; mmap_lock held */
static struct vm_area_struct *zuf_win_vma(struct zuf_channel *chan,
					  struct mm_struct *mm)
{
	unsigned long start = READ_ONCE(chan->win_start);
	struct vm_area_struct *vma;

	if (!start)
		return NULL;
	vma = vma_lookup(mm, start);
	if (!vma || vma->vm_ops != &zuf_win_vm_ops ||
	    vma->vm_private_data != chan || vma->vm_start != start ||
	    vma->vm_end - vma->vm_start != ZUFS_WINDOW_SIZE)
		return NULL;
	return vma;
}

/* ZT context: map the op's pages at the start of the window */
static int zuf_win_map(struct zuf_channel *chan)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	pgprot_t prot;
	int err = 0;
	u32 i;

	if (!mm)
		return -EFAULT;
	mmap_read_lock(mm);
	vma = zuf_win_vma(chan, mm);
	if (!vma) {
		err = -EFAULT;
		goto out;
	}
	/*
	 * Not vma->vm_page_prot: pfn_mkwrite makes that write-protected.
	 * A window mmapped without PROT_WRITE stays read-only either way.
	 */
	prot = vm_get_page_prot(chan->win_writable ? vma->vm_flags :
				vma->vm_flags & ~(VM_WRITE | VM_MAYWRITE));
	mmgrab(mm);
	chan->win_mapped_mm = mm;
	for (i = 0; i < chan->win_nr; i++) {
		vm_fault_t ret;

		ret = vmf_insert_pfn_prot(vma, vma->vm_start + i * PAGE_SIZE,
					  page_to_pfn(chan->win_pages[i]),
					  prot);
		if (ret != VM_FAULT_NOPAGE) {
			err = -ENOMEM;
			break;
		}
		chan->win_mapped = i + 1;
	}
out:
	mmap_read_unlock(mm);
	return err;
}

/*
 * ZT context: unmap what zuf_win_map() mapped.  A thread of another mm
 * cannot reach those PTEs, so it may not answer the op (-EPERM).
 */
static int zuf_win_unmap(struct zuf_channel *chan)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;

	if (!chan->win_mapped_mm)
		return 0;
	if (mm != chan->win_mapped_mm)
		return -EPERM;
	if (chan->win_mapped) {
		mmap_read_lock(mm);
		vma = zuf_win_vma(chan, mm);
		/* no window any more: its munmap zapped the PTEs */
		if (vma)
			zap_vma_ptes(vma, vma->vm_start,
				(unsigned long)chan->win_mapped << PAGE_SHIFT);
		mmap_read_unlock(mm);
	}
	chan->win_mapped = 0;
	chan->win_mapped_mm = NULL;
	mmdrop(mm);
	return 0;
}

void zuf_chans_wake_all(struct zuf_server *srv)
{
	u32 i;

	for (i = 0; i < srv->nr_chans; i++) {
		struct zuf_channel *chan = READ_ONCE(srv->chans[i]);

		if (!chan)
			continue;
		wake_up_all(&chan->zt_wq);
		wake_up_all(&chan->caller_wq);
	}
	wake_up_all(&srv->chan_free_wq);
}

/* ------------------------------------------------------------------ */
/* the server's side: ZUFS_IOC_WAIT_OP                                 */
/* ------------------------------------------------------------------ */

/*
 * A dead server breaks out, but never while a caller owns the buffer
 * (FILLING, or ANSWERED and copying out): it frees it quickly.
 */
static bool zuf_chan_may_break(enum zuf_chan_state st)
{
	return st != ZC_FILLING && st != ZC_ANSWERED && st != ZC_SERVING;
}

static bool zuf_chan_zt_ready(struct zuf_channel *chan)
{
	enum zuf_chan_state st = READ_ONCE(chan->state);

	if (st == ZC_POSTED)
		return true;
	return zuf_srv_dead(chan->srv) && zuf_chan_may_break(st);
}

static void zuf_chan_set_free(struct zuf_channel *chan)
{
	chan->state = ZC_FREE;
	if (wq_has_sleeper(&chan->srv->chan_free_wq))
		wake_up(&chan->srv->chan_free_wq);
	/* its ZT may have slept through the death while we owned it */
	if (zuf_srv_dead(chan->srv))
		wake_up(&chan->zt_wq);
}

/* Called with the window unmapped */
static void zuf_chan_answer(struct zuf_channel *chan)
{
	spin_lock(&chan->lock);
	if (chan->state == ZC_SERVING) {
		if (chan->stamp)
			chan->t_answer = ktime_get_ns();
		chan->state = ZC_ANSWERED;
		wake_up(&chan->caller_wq);
	} else if (chan->state == ZC_ABANDONED) {
		/* nobody but us moves an ABANDONED channel */
		spin_unlock(&chan->lock);
		zuf_win_put_pages(chan->win_pages, chan->win_nr,
				  chan->win_dirty);
		chan->win_nr = 0;
		spin_lock(&chan->lock);
		zuf_chan_set_free(chan);
	}
	spin_unlock(&chan->lock);
}

/* Take the next op; false when there is none (yet) */
static bool zuf_chan_pick(struct zuf_channel *chan)
{
	bool got = false;

	spin_lock(&chan->lock);
	if (chan->state == ZC_POSTED && !zuf_srv_dead(chan->srv)) {
		chan->state = ZC_SERVING;
		if (chan->stamp)
			chan->t_pick = ktime_get_ns();
		got = true;
	} else if (zuf_srv_dead(chan->srv) &&
		   zuf_chan_may_break(chan->state)) {
		/* the ZT must leave its loop */
		chan->state = ZC_BROKEN;
		memset(zuf_chan_op(chan), 0, sizeof(struct zufs_op_hdr));
		zuf_chan_op(chan)->op = ZUFS_OP_BREAK;
		zuf_chan_op(chan)->cpu = chan->cpu;
		spin_unlock(&chan->lock);
		return true;
	}
	spin_unlock(&chan->lock);
	if (!got || !chan->win_nr)
		return got;
	if (!zuf_win_map(chan))
		return true;
	/* the server never sees this op: the caller gets -EIO */
	chan->win_failed = true;
	zuf_win_unmap(chan);
	zuf_chan_answer(chan);
	return false;
}

/*
 * Poll until @done(@chan) or @spin_ns pass; false when the CPU is wanted
 * or a signal is pending first (then the caller sleeps as usual).
 */
static bool zuf_chan_poll(struct zuf_channel *chan,
			  bool (*done)(struct zuf_channel *chan), u32 spin_ns)
{
	u64 end = ktime_get_ns() + spin_ns;

	do {
		if (done(chan))
			return true;
		if (need_resched() || signal_pending(current))
			return false;
		cpu_relax();
	} while (ktime_get_ns() < end);
	return done(chan);
}

/* The ZT polls for its next op before it sleeps; true: there is one */
static bool zuf_chan_zt_poll(struct zuf_channel *chan)
{
	bool got;

	if (!chan->zt_spin_ns)
		return false;
	WRITE_ONCE(chan->zt_polling, true);
	got = zuf_chan_poll(chan, zuf_chan_zt_ready, chan->zt_spin_ns);
	WRITE_ONCE(chan->zt_polling, false);
	return got;
}

static int zuf_chan_serve(struct zuf_channel *chan)
{
	int err;

	err = zuf_win_unmap(chan);
	if (err)
		return err;
	zuf_chan_answer(chan);
	for (;;) {
		if (!zuf_chan_zt_poll(chan) &&
		    wait_event_interruptible(chan->zt_wq,
					     zuf_chan_zt_ready(chan)))
			return -EINTR;
		if (zuf_chan_pick(chan))
			return 0;
	}
}

/*
 * Answer the op in service (if any), then wait for the next one.  One
 * thread at a time serves a channel: the window is that thread's.
 */
int zuf_chan_wait_op(struct zuf_channel *chan)
{
	int err;

	if (atomic_cmpxchg(&chan->zt_inside, 0, 1))
		return -EBUSY;
	err = zuf_chan_serve(chan);
	atomic_set(&chan->zt_inside, 0);
	return err;
}

/* ------------------------------------------------------------------ */
/* the caller's side: zufc_dispatch()                                  */
/* ------------------------------------------------------------------ */

static bool zuf_chan_try_claim(struct zuf_channel *chan)
{
	bool ok = false;

	if (!chan || READ_ONCE(chan->state) != ZC_FREE)
		return false;
	spin_lock(&chan->lock);
	if (chan->state == ZC_FREE) {
		chan->state = ZC_FILLING;
		ok = true;
	}
	spin_unlock(&chan->lock);
	return ok;
}

static struct zuf_channel *zuf_chan_claim_any(struct zuf_server *srv,
					      u32 first)
{
	u32 i;

	for (i = 0; i < srv->nr_chans; i++) {
		struct zuf_channel *chan;

		chan = READ_ONCE(srv->chans[(first + i) % srv->nr_chans]);
		if (zuf_chan_try_claim(chan))
			return chan;
	}
	return NULL;
}

static bool zuf_srv_has_chans(struct zuf_server *srv)
{
	u32 i;

	for (i = 0; i < srv->nr_chans; i++)
		if (READ_ONCE(srv->chans[i]))
			return true;
	return false;
}

/*
 * A spinning caller's first choice: an idle channel whose ZT polls on
 * another CPU, so that neither side sleeps nor wakes the other.
 */
static struct zuf_channel *zuf_chan_claim_polling(struct zuf_server *srv,
						  u32 cpu)
{
	u32 i;

	for (i = 1; i < srv->nr_chans; i++) {
		struct zuf_channel *chan;

		chan = READ_ONCE(srv->chans[(cpu + i) % srv->nr_chans]);
		if (chan && chan->cpu != cpu && READ_ONCE(chan->zt_polling) &&
		    zuf_chan_try_claim(chan))
			return chan;
	}
	return NULL;
}

/* The first idle lane of @cpu */
static struct zuf_channel *zuf_chan_claim_lane(struct zuf_server *srv,
					       u32 cpu)
{
	u32 lane;

	if (cpu >= nr_cpu_ids)
		return NULL;
	for (lane = 0; lane < ZUFS_MAX_LANES; lane++) {
		struct zuf_channel *chan;

		chan = READ_ONCE(srv->chans[zuf_chan_index(cpu, lane)]);
		if (zuf_chan_try_claim(chan))
			return chan;
	}
	return NULL;
}

/*
 * Take an idle lane of the wanted CPU (@want = CPU + 1, 0: the caller's
 * CPU; a spinning caller prefers a polling ZT on another CPU), else any
 * idle channel, else wait.
 */
static struct zuf_channel *zuf_chan_get(struct zuf_server *srv, u32 want,
					bool spin)
{
	u32 cpu = want ? want - 1 : raw_smp_processor_id();
	struct zuf_channel *chan;
	int err;

	if (spin && !want) {
		chan = zuf_chan_claim_polling(srv, cpu);
		if (chan)
			return chan;
	}
	chan = zuf_chan_claim_lane(srv, cpu);
	if (chan)
		return chan;
	if (!zuf_srv_has_chans(srv))
		return ERR_PTR(-EIO);
	err = wait_event_killable(srv->chan_free_wq,
				  (chan = zuf_chan_claim_any(srv, cpu)) ||
				  zuf_srv_dead(srv));
	if (err)
		return ERR_PTR(-EINTR);
	if (!chan)
		return ERR_PTR(-EIO);
	return chan;
}

static int zuf_chan_fill(struct zuf_sb_info *sbi, struct zuf_channel *chan,
			 struct zuf_dispatch *zd)
{
	struct zufs_op_hdr *hdr = zd->op;
	u32 in_size = zd->op_in_size ?: zd->op_size;
	struct timespec64 now;
	void *data = zuf_chan_data(chan);

	if (zd->op_size < sizeof(*hdr) || zd->op_size > ZUFS_OP_AREA_SIZE ||
	    in_size < sizeof(*hdr) || in_size > zd->op_size ||
	    zd->in_len > ZUFS_DATA_AREA_SIZE ||
	    zd->out_max > ZUFS_DATA_AREA_SIZE ||
	    zd->win_nr > ZUFS_WINDOW_PAGES)
		return -EINVAL;
	if (zd->win_nr && !READ_ONCE(chan->win_start)) {
		zuf_bad_answer(sbi, "channel %u has no window mapped",
			       chan->cpu);
		return -EIO;
	}

	ktime_get_coarse_real_ts64(&now);
	/* stamp what the VFS would: truncated to the sb's granularity */
	if (sbi->sb->s_root)
		now = timestamp_truncate(now, d_inode(sbi->sb->s_root));
	hdr->sb_handle = sbi->zus_sb_handle;
	hdr->err = 0;
	hdr->data_in = zd->in_len;
	hdr->data_max = zd->out_max;
	hdr->data_out = 0;
	hdr->uid = from_kuid(&init_user_ns, current_fsuid());
	hdr->gid = from_kgid(&init_user_ns, current_fsgid());
	hdr->now_sec = now.tv_sec;
	hdr->now_nsec = now.tv_nsec;
	hdr->cpu = chan->cpu;
	hdr->seq = ++chan->seq;		/* FILLING: we own the channel */
	chan->stamp = zd->stamps != NULL;
	chan->t_pick = 0;
	chan->t_answer = 0;

	if (zd->in_len && zd->in_iter) {
		if (copy_from_iter(data, zd->in_len, zd->in_iter) !=
		    zd->in_len)
			return -EFAULT;
	} else if (zd->in_len) {
		memcpy(data, zd->in_buf, zd->in_len);
	}
	memcpy(chan->win_pages, zd->win_pages,
	       zd->win_nr * sizeof(*zd->win_pages));
	chan->win_nr = zd->win_nr;
	chan->win_writable = zd->win_writable;
	chan->win_dirty = zd->win_dirty;
	chan->win_failed = false;
	memcpy(zuf_chan_op(chan), hdr, in_size);
	return 0;
}

/*
 * The server failed @op with ENOSPC.  Read once: the buffer is the
 * server's too, and only this answer's errno is taken from it.
 */
static bool zuf_chan_enospc(struct zuf_channel *chan, u32 op)
{
	struct zufs_op_hdr *hdr = zuf_chan_op(chan);

	return READ_ONCE(hdr->op) == op && READ_ONCE(hdr->err) == -ENOSPC;
}

/* Copy the answer out of the buffer (ANSWERED: we own it), then check it */
static int zuf_chan_take_answer(struct zuf_sb_info *sbi,
				struct zuf_channel *chan,
				struct zuf_dispatch *zd)
{
	struct zufs_op_hdr *hdr = zd->op;
	u32 op = hdr->op, data_max = zd->out_max;
	void *data = zuf_chan_data(chan);
	u32 out;

	if (zd->keep_enospc && zuf_chan_enospc(chan, op))
		return zuf_answer_errno(sbi, op, -ENOSPC);
	memcpy(hdr, zuf_chan_op(chan), zd->op_size);
	if (hdr->op != op) {
		zuf_bad_answer(sbi, "op %s came back as %u",
			       zuf_op_name(op), hdr->op);
		hdr->op = op;
		return -EIO;
	}
	hdr->op = op;
	if (hdr->err)
		return zuf_answer_errno(sbi, op, hdr->err);
	out = hdr->data_out;
	if (out > data_max) {
		zuf_bad_answer(sbi, "op %s: data_out %u > data_max %u",
			       zuf_op_name(op), out, data_max);
		return -EIO;
	}
	zd->out_len = 0;
	if (out && zd->out_iter) {
		zd->out_len = copy_to_iter(data, out, zd->out_iter);
		if (zd->out_len != out)
			return -EFAULT;
	} else if (out && zd->out_buf) {
		memcpy(zd->out_buf, data, out);
		zd->out_len = out;
	}
	return 0;
}

static bool zuf_chan_answered(struct zuf_channel *chan)
{
	return READ_ONCE(chan->state) == ZC_ANSWERED ||
	       zuf_srv_dead(chan->srv);
}

DEFINE_SRCU(zuf_srv_srcu);

/* What became of an op sent to one server */
enum zuf_sent {
	ZUF_SENT,	/* answered, or failed for its own reasons */
	ZUF_UNSENT,	/* the server died before it saw the op */
	ZUF_LOST,	/* the server died serving it: maybe done */
};

/* The sb's server is alive (inside zuf_srv_srcu) */
static bool zuf_sb_attached(struct zuf_sb_info *sbi)
{
	int idx = srcu_read_lock(&zuf_srv_srcu);
	bool ok = !zuf_srv_dead(smp_load_acquire(&sbi->srv));

	srcu_read_unlock(&zuf_srv_srcu, idx);
	return ok;
}

/*
 * Wait until a detached sb is attached again: 0, or -EIO when the type
 * cannot re-attach, the sb is going away, or reattach_timeout (counted
 * from the server's death) passes; -EINTR when killed.
 */
static int zuf_sb_wait_attached(struct zuf_sb_info *sbi, bool nowait)
{
	unsigned long deadline;
	long left;
	int idx;

	idx = srcu_read_lock(&zuf_srv_srcu);
	deadline = READ_ONCE(smp_load_acquire(&sbi->srv)->died_at);
	srcu_read_unlock(&zuf_srv_srcu, idx);
	if (zuf_sb_attached(sbi))
		return 0;
	if (nowait || !sbi->reattach_timeout || READ_ONCE(sbi->dying) ||
	    !(sbi->zft->info.flags & ZUFS_FST_REATTACH))
		return -EIO;
	left = (long)(deadline + sbi->reattach_timeout - jiffies);
	if (left <= 0)
		return -EIO;
	left = wait_event_killable_timeout(sbi->attach_wq,
					   zuf_sb_attached(sbi) ||
					   READ_ONCE(sbi->dying), left);
	if (left < 0)
		return -EINTR;
	return zuf_sb_attached(sbi) ? 0 : -EIO;
}

bool zuf_sb_detached(struct zuf_sb_info *sbi)
{
	return !zuf_sb_attached(sbi);
}

bool zuf_sb_srv_dead(struct zuf_sb_info *sbi)
{
	return zuf_sb_wait_attached(sbi, false) != 0;
}

/* Put the request data back for a resend (zuf_chan_fill() consumed it) */
static void zuf_unfill(struct zuf_dispatch *zd)
{
	if (zd->in_len && zd->in_iter)
		iov_iter_revert(zd->in_iter, zd->in_len);
}

/*
 * A caller polls for its answer only when its mount spins and the ZT runs
 * on another CPU: on its own CPU the ZT could not run while it polled.
 */
static bool zuf_caller_poll(struct zuf_sb_info *sbi, struct zuf_channel *chan)
{
	u32 spin_ns = READ_ONCE(sbi->spin_ns);

	if (!spin_ns || chan->cpu == raw_smp_processor_id())
		return false;
	return zuf_chan_poll(chan, zuf_chan_answered, spin_ns);
}

/* ANSWERED, owned by the caller: the ZT's stamps are stable */
static void zuf_take_stamps(struct zuf_channel *chan, struct zuf_dispatch *zd)
{
	if (likely(!zd->stamps))
		return;
	zd->stamps[ZUFS_NULL_T_PICKED] = chan->t_pick;
	zd->stamps[ZUFS_NULL_T_ANSWERED] = chan->t_answer;
	zuf_stamp(zd, ZUFS_NULL_T_DONE);
}

/* One attempt on @srv; *how says whether a resend may be due */
static int zuf_dispatch_srv(struct zuf_server *srv, struct zuf_sb_info *sbi,
			    struct zuf_dispatch *zd, enum zuf_sent *how)
{
	struct zuf_channel *chan;
	int err, werr;

	*how = ZUF_UNSENT;
	if (zuf_srv_dead(srv))
		return -EIO;
	*how = ZUF_SENT;
	/*
	 * The server's own threads never wait for the server: a ZT that
	 * evicts an inode in reclaim or writes back into its own mount
	 * could be waiting for itself.
	 */
	if (unlikely(task_tgid(current) == srv->tgid)) {
		zuf_bad_answer(sbi, "the server itself uses its mount (op %s)",
			       zuf_op_name(zd->op->op));
		return -EDEADLK;
	}
	chan = zuf_chan_get(srv, zd->chan_want, READ_ONCE(sbi->spin_ns));
	if (IS_ERR(chan)) {
		if (PTR_ERR(chan) == -EIO && zuf_srv_dead(srv))
			*how = ZUF_UNSENT;
		return PTR_ERR(chan);
	}
	zd->chan_used = chan->cpu;
	zuf_stamp(zd, ZUFS_NULL_T_CLAIMED);

	err = zuf_chan_fill(sbi, chan, zd);
	spin_lock(&chan->lock);
	if (err || zuf_srv_dead(srv)) {
		chan->win_nr = 0;
		zuf_chan_set_free(chan);
		spin_unlock(&chan->lock);
		if (!err) {
			wake_up(&chan->zt_wq);	/* it may wait to break */
			zuf_unfill(zd);
			*how = ZUF_UNSENT;
		}
		return err ?: -EIO;
	}
	chan->state = ZC_POSTED;
	spin_unlock(&chan->lock);
	wake_up(&chan->zt_wq);
	zuf_stamp(zd, ZUFS_NULL_T_POSTED);

	werr = 0;
	if (!zuf_caller_poll(sbi, chan))
		werr = wait_event_killable(chan->caller_wq,
					   zuf_chan_answered(chan));
	zuf_stamp(zd, ZUFS_NULL_T_WOKEN);

	spin_lock(&chan->lock);
	switch (chan->state) {
	case ZC_ANSWERED:
		spin_unlock(&chan->lock);
		err = zuf_chan_take_answer(sbi, chan, zd);
		zuf_take_stamps(chan, zd);
		if (!err && chan->win_failed) {
			zuf_bad_answer(sbi, "channel %u: window not mapped",
				       chan->cpu);
			err = -EIO;
		}
		spin_lock(&chan->lock);
		chan->win_nr = 0;
		zuf_chan_set_free(chan);
		break;
	case ZC_POSTED:
		chan->win_nr = 0;
		zuf_chan_set_free(chan);
		err = werr ? -EINTR : -EIO;
		if (!werr)
			*how = ZUF_UNSENT;
		break;
	case ZC_SERVING:
		/* the server may still use our pages: they are the ZT's now */
		zd->win_kept = chan->win_nr != 0;
		chan->state = ZC_ABANDONED;
		err = werr ? -EINTR : -EIO;
		if (!werr)
			*how = ZUF_LOST;
		break;
	default:	/* BROKEN: the server died before it took the op */
		chan->win_nr = 0;
		err = -EIO;
		*how = ZUF_UNSENT;
		break;
	}
	spin_unlock(&chan->lock);
	if (*how != ZUF_SENT)
		zuf_unfill(zd);
	return err;
}

/*
 * Window pages of an op lost with its server stay the dead channel's
 * (win_kept).  On a type that can re-attach the caller holds a spare
 * reference to each, so that the op can be resent: the spares become the
 * caller's.
 */
static bool zuf_win_spares_get(struct zuf_sb_info *sbi,
			       struct zuf_dispatch *zd)
{
	u32 i;

	if (!zd->win_nr || !(sbi->zft->info.flags & ZUFS_FST_REATTACH))
		return false;
	for (i = 0; i < zd->win_nr; i++)
		get_page(zd->win_pages[i]);
	return true;
}

/*
 * Space the reaper has not given back yet (inode.c, "Reaping") must never
 * look missing: an op other than the reaper's own EVICT that the server
 * fails with ENOSPC while EVICTs are pending waits for them and is sent
 * once more.  Its first answer left the request intact (keep_enospc), and
 * the wait happens with no channel and no srcu held; the reaper takes no
 * lock a caller could hold (inode, mapping or mmap locks), and fails fast
 * at umount or waits no longer than any op for a dead server.
 */
static bool zuf_reap_may_retry(struct zufs_op_hdr *op)
{
	return op->op != ZUFS_OP_EVICT && op->op != ZUFS_OP_NULL;
}

static bool zuf_reap_retry(struct zuf_sb_info *sbi, struct zuf_dispatch *zd,
			   int err)
{
	if (err != -ENOSPC || !zd->keep_enospc)
		return false;
	zd->keep_enospc = false;
	if (!zuf_reap_flush(sbi))
		return false;
	zuf_unfill(zd);
	return true;
}

int zufc_dispatch(struct zuf_sb_info *sbi, struct zuf_dispatch *zd)
{
	bool spares = zuf_win_spares_get(sbi, zd);
	u32 flags = zd->op->flags;
	enum zuf_sent how;
	int err, idx;

	zd->keep_enospc = zuf_reap_may_retry(zd->op);
	for (;;) {
		idx = srcu_read_lock(&zuf_srv_srcu);
		err = zuf_dispatch_srv(smp_load_acquire(&sbi->srv), sbi, zd,
				       &how);
		srcu_read_unlock(&zuf_srv_srcu, idx);
		if (how == ZUF_SENT && zuf_reap_retry(sbi, zd, err))
			continue;
		if (how == ZUF_SENT)
			break;
		if (how == ZUF_LOST && zd->win_kept) {
			if (!spares)
				break;	/* -EIO: no pages left to resend */
			spares = false;
			zd->win_kept = false;
		}
		/* the new server must check whether the lost one happened */
		if (how == ZUF_LOST)
			zd->op->flags = flags | ZUFS_OPF_RESENT;
		err = zuf_sb_wait_attached(sbi, zd->nowait);
		if (err)
			break;
	}
	if (spares)
		zuf_win_put_pages(zd->win_pages, zd->win_nr, false);
	zd->op->flags = flags;
	return err;
}
