// SPDX-License-Identifier: BSD-3-Clause
/*
 * data.c - the pages of a zramfs regular file: a sorted array of the
 * RF_BLOCK pages that were written, so that a file truncated to a
 * terabyte costs nothing until someone writes into it (holes read as
 * zeros, like on any Linux filesystem).  Only pages count against size=.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ramfs.h"

/* index of the first page at or after index */
static size_t lower_bound(const struct rf_inode *ip, uint64_t index)
{
	return rf_first_at(ip->pages, ip->npages, sizeof(*ip->pages),
			   offsetof(struct rf_page, index), index);
}

static int insert(struct rf_inode *ip, size_t at, uint64_t index, char *data)
{
	struct rf_page *p;
	size_t cap;

	if (ip->npages == ip->pages_cap) {
		cap = ip->pages_cap ? ip->pages_cap * 2 : 4;
		p = realloc(ip->pages, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		ip->pages = p;
		ip->pages_cap = cap;
	}
	p = &ip->pages[at];
	memmove(p + 1, p, (ip->npages - at) * sizeof(*p));
	*p = (struct rf_page){ .index = index, .data = data };
	ip->npages++;
	ip->attr.blocks = ip->npages * (RF_BLOCK / 512);
	return 0;
}

/* the page at index; NULL for a hole (alloc: a new zeroed page, or *err) */
char *rf_page(struct zus_sb *sb, struct rf_inode *ip, uint64_t index,
	      bool alloc, int *err)
{
	size_t at = lower_bound(ip, index);
	char *data;

	if (at < ip->npages && ip->pages[at].index == index)
		return ip->pages[at].data;
	if (!alloc)
		return NULL;
	*err = rf_charge(sb, RF_BLOCK);
	if (*err)
		return NULL;
	data = calloc(1, RF_BLOCK);
	*err = data ? insert(ip, at, index, data) : -ENOMEM;
	if (*err) {
		free(data);
		rf_uncharge(sb, RF_BLOCK);
		return NULL;
	}
	return data;
}

/* drop pages from array position at on */
static void drop_from(struct zus_sb *sb, struct rf_inode *ip, size_t at)
{
	while (ip->npages > at) {
		free(ip->pages[--ip->npages].data);
		rf_uncharge(sb, RF_BLOCK);
	}
	ip->attr.blocks = ip->npages * (RF_BLOCK / 512);
}

void rf_free_pages(struct zus_sb *sb, struct rf_inode *ip)
{
	drop_from(sb, ip, 0);
	free(ip->pages);
	ip->pages = NULL;
	ip->pages_cap = 0;
}

/*
 * Set the size.  Shrinking frees the pages past it and zeroes the tail of
 * the page it ends in, so that growing again reads back zeros.
 */
int rf_resize(struct zus_sb *sb, struct rf_inode *ip, uint64_t size)
{
	uint64_t first_gone = (size + RF_BLOCK - 1) / RF_BLOCK;
	char *tail;

	if (size > RF_MAX_FILE)
		return -EFBIG;
	if (size < ip->attr.size) {
		drop_from(sb, ip, lower_bound(ip, first_gone));
		tail = size % RF_BLOCK ?
			rf_page(sb, ip, size / RF_BLOCK, false, NULL) : NULL;
		if (tail)
			memset(tail + size % RF_BLOCK, 0,
			       RF_BLOCK - size % RF_BLOCK);
	}
	ip->attr.size = size;
	return 0;
}
