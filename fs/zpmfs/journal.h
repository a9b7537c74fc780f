/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * journal.h - atomic metadata updates: a per-op undo log in the log area.
 *
 *	zj_begin(sb, ctx);		with every inode lock of the op held
 *	zj_log(pi, sizeof(*pi));	before changing those bytes
 *	... change them in place, persisting as usual ...
 *	zj_commit();			the op is now durable and whole
 *
 * The op's journal is the calling thread's (an op runs on one thread from
 * begin to commit), so helpers deep down (dir.c, and bmap.c later) call
 * zj_log() without a handle; with no op begun it does nothing, which
 * keeps the data fast path (get_blocks, overwrites) free of it.  Blocks
 * must not be freed between begin and commit unless nothing the undo
 * restores can point at them: free after commit (see README.md).
 */
#ifndef _ZPMFS_JOURNAL_H
#define _ZPMFS_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct zus_sb;
struct zus_ctx;

int zj_init(struct zus_sb *sb);
void zj_fini(struct zus_sb *sb);
/* mount, before anything reads the inodes: roll back unfinished ops */
int zj_replay(struct zus_sb *sb);
/* slots with an op to roll back or an intent to finish (read-only mount) */
unsigned int zj_pending(struct zus_sb *sb);
/* mount, once the allocator is up: finish what committed ops intended */
void zj_replay_intents(struct zus_sb *sb);
void zj_begin(struct zus_sb *sb, const struct zus_ctx *ctx);
void zj_log(const void *p, size_t len);
/* the same without the fence: for several ranges logged up front, the
 * last of them with zj_log() (one fence for all), no store in between */
void zj_log_more(const void *p, size_t len);
/* what of an inode an op may change: all but the spare and inline bytes
 * (a symlink's inline target is only written into a new inode) */
#define ZJ_INODE	offsetof(struct zpmfs_inode, reserved)
/* after the first zj_log: what a crash after the commit must finish */
void zj_intent(uint64_t intent, uint64_t arg0, uint64_t arg1,
	       uint64_t arg2);
/* with an intent, the slot stays the op's until zj_intent_done() */
void zj_commit(void);
/* begin an op (logging the inode) only if none is in flight: the data
 * path calls it when it is about to change the block map, so overwrites
 * of mapped blocks never touch the journal; zj_end_lazy() commits it */
void zj_begin_lazy(struct zus_sb *sb, const struct zus_ctx *ctx,
		   const void *pi);
void zj_end_lazy(void);
/* payload bytes the next record may have (SIZE_MAX: no op in flight) */
size_t zj_room(void);
/* free blocks at the commit (now if no op): the undo may map them again */
void zj_bfree(struct zus_sb *sb, uint64_t start, uint64_t count);
void zj_intent_done(void);

#endif
