/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pmem.h - the only way zpmfs writes persistent memory durably.
 *
 * pmem.c is the one file that knows the CPU instructions (CLWB,
 * CLFLUSHOPT, CLFLUSH, non-temporal stores, SFENCE).  Everything else says
 * what it wants: persist these bytes, copy and persist, zero and persist,
 * order what came before against what comes after.
 */
#ifndef _ZPMFS_PMEM_H
#define _ZPMFS_PMEM_H

#include <stddef.h>
#include <stdint.h>

/* Write back the cache lines of [p, p + len) and fence: durable on return */
void pmem_persist(const void *p, size_t len);
/* Write back without the fence; pmem_drain() orders all of them at once */
void pmem_flush(const void *p, size_t len);
/* The fence: every flush and non-temporal store before it is durable */
void pmem_drain(void);
/* memcpy to pmem (non-temporal for big copies), durable on return */
void pmem_memcpy_persist(void *dst, const void *src, size_t len);
/* memset to pmem, durable on return */
void pmem_memset_persist(void *dst, int c, size_t len);

/* Store 8 bytes in one access and persist them: a commit point */
static inline void pmem_store64(volatile uint64_t *p, uint64_t v)
{
	*p = v;
	pmem_persist((const void *)p, sizeof(*p));
}

#ifdef ZPMFS_TRACE
/*
 * Only in the crash explorer's build (tests/crash): every flush and fence
 * is reported instead of executed, and copies use cached stores (NT stores
 * become stores + flush), so that the explorer can see each store.
 */
struct pmem_trace {
	void (*flush)(const void *p, size_t len);
	void (*fence)(void);
};
extern struct pmem_trace pmem_trace;
#endif

/* Name of the flush instruction in use, for the mount banner */
const char *pmem_flush_name(void);

#endif /* _ZPMFS_PMEM_H */
