// SPDX-License-Identifier: BSD-3-Clause
/*
 * pmem.c - cache-line write back and fences for persistent memory.
 *
 * The flush instruction is chosen once per process from CPUID: CLWB keeps
 * the line cached (best), CLFLUSHOPT evicts but is weakly ordered, CLFLUSH
 * is always there but serializing.  The choice is a property of the CPU,
 * not of any mount, so a process-wide pthread_once is the honest place.
 */
#include <cpuid.h>
#include <pthread.h>
#include <string.h>
#include <emmintrin.h>

#include "pmem.h"

#define CACHELINE	64
#ifdef ZPMFS_TRACE
/* the crash explorer sees stores by diffing the image: no NT stores */
#define NT_MIN		SIZE_MAX
struct pmem_trace pmem_trace;
#else
#define NT_MIN		256	/* below this, cached stores + flush win */
#endif

enum flush_kind { FLUSH_CLFLUSH, FLUSH_CLFLUSHOPT, FLUSH_CLWB };

static pthread_once_t flush_once = PTHREAD_ONCE_INIT;
static enum flush_kind flush_kind_v = FLUSH_CLFLUSH;

static void flush_detect(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return;
	if (b & (1U << 24))
		flush_kind_v = FLUSH_CLWB;
	else if (b & (1U << 23))
		flush_kind_v = FLUSH_CLFLUSHOPT;
}

static enum flush_kind flush_kind(void)
{
	pthread_once(&flush_once, flush_detect);
	return flush_kind_v;
}

const char *pmem_flush_name(void)
{
	static const char *const names[] = {
		[FLUSH_CLFLUSH] = "clflush",
		[FLUSH_CLFLUSHOPT] = "clflushopt",
		[FLUSH_CLWB] = "clwb",
	};

	return names[flush_kind()];
}

void pmem_flush(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(CACHELINE - 1);
	uintptr_t end = (uintptr_t)p + len;
	enum flush_kind k = flush_kind();

	if (!len)
		return;
#ifdef ZPMFS_TRACE
	if (pmem_trace.flush) {
		pmem_trace.flush(p, len);
		return;
	}
#endif
	for (; a < end; a += CACHELINE) {
		char *l = (char *)a;

		switch (k) {
		case FLUSH_CLWB:
			__asm__ volatile("clwb %0" : "+m"(*l));
			break;
		case FLUSH_CLFLUSHOPT:
			__asm__ volatile("clflushopt %0" : "+m"(*l));
			break;
		default:
			__asm__ volatile("clflush %0" : "+m"(*l));
			break;
		}
	}
}

void pmem_drain(void)
{
#ifdef ZPMFS_TRACE
	if (pmem_trace.fence)
		pmem_trace.fence();
#endif
	__asm__ volatile("sfence" ::: "memory");
}

void pmem_persist(const void *p, size_t len)
{
	pmem_flush(p, len);
	pmem_drain();
}

/* Non-temporal copy of the 16-byte aligned middle; edges go cached */
static void nt_copy(char *dst, const char *src, size_t len)
{
	size_t head = (16 - ((uintptr_t)dst & 15)) & 15;
	size_t n;

	memcpy(dst, src, head);
	pmem_flush(dst, head);
	dst += head;
	src += head;
	len -= head;
	for (n = len / 16; n; n--, dst += 16, src += 16)
		_mm_stream_si128((__m128i *)dst,
				 _mm_loadu_si128((const __m128i *)src));
	len &= 15;
	memcpy(dst, src, len);
	pmem_flush(dst, len);
}

void pmem_memcpy_persist(void *dst, const void *src, size_t len)
{
	if (len < NT_MIN) {
		memcpy(dst, src, len);
		pmem_flush(dst, len);
	} else {
		nt_copy(dst, src, len);
	}
	pmem_drain();
}

void pmem_memset_persist(void *dst, int c, size_t len)
{
	char *d = dst;
	size_t head, n;
	__m128i v;

	if (len < NT_MIN) {
		memset(d, c, len);
		pmem_persist(d, len);
		return;
	}
	head = (16 - ((uintptr_t)d & 15)) & 15;
	memset(d, c, head);
	pmem_flush(d, head);
	d += head;
	len -= head;
	v = _mm_set1_epi8((char)c);
	for (n = len / 16; n; n--, d += 16)
		_mm_stream_si128((__m128i *)d, v);
	len &= 15;
	memset(d, c, len);
	pmem_flush(d, len);
	pmem_drain();
}
