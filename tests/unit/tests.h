/* SPDX-License-Identifier: BSD-3-Clause */
/* tests.h - the zpmfs unit tests (t_basic.c, t_ns.c, t_data.c, t_big.c) */
#ifndef _UNIT_TESTS_H
#define _UNIT_TESTS_H

#define ROOT	1

/* fresh image of size (and inodes) mounted rw; returns 0 or fails */
int fresh(const char *size, const char *inodes);

void t_mount(void);
void t_namespace(void);
void t_dirs(void);
void t_data(void);
void t_get_blocks(void);
void t_symlink(void);
void t_link(void);
void t_rename(void);
void t_xattr(void);
void t_fallocate(void);
void t_clone(void);
void t_tmpfile(void);
void t_persist(void);
void t_corrupt(void);
void t_fsck(void);
void t_bigdir(void);
void t_enospc(void);
void t_threads(void);
void t_crash(void);
void t_stress(void);
void t_zero(void);
void t_leak(void);
void t_leak_shift(void);
void t_reflink(void);
void t_reflink_random(void);

#endif
