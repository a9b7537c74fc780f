// SPDX-License-Identifier: BSD-3-Clause
/*
 * crc32.c - CRC-32 as zlib computes it (IEEE 802.3, reflected, polynomial
 * 0xEDB88320, initial and final xor ~0).  Bitwise with a nibble table: the
 * superblock and device table are checked once per mount, so speed does
 * not matter and a 16-entry table stays obviously right.
 */
#include <stddef.h>
#include <stdint.h>

#include "zpmfs_format.h"

static const uint32_t nibble_tab[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
	0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t zpmfs_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ nibble_tab[crc & 15];
		crc = (crc >> 4) ^ nibble_tab[crc & 15];
	}
	return ~crc;
}
