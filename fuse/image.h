/* SPDX-License-Identifier: BSD-3-Clause */
/* image.h - zus-fuse: the file or block device standing in for pmem */
#ifndef _ZUS_FUSE_IMAGE_H
#define _ZUS_FUSE_IMAGE_H

#include "bridge.h"

/*
 * Map source, or the set it is a member of: devs (NULL: none) lists the
 * members, colon separated.  msg says why not, naming the member.
 */
int zf_image_open(struct zf_bridge *br, const char *source, const char *devs,
		  const char *type, bool rdonly, char *msg, size_t mlen);
void zf_image_close(struct zf_bridge *br);

#endif /* _ZUS_FUSE_IMAGE_H */
