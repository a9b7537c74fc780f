#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 300
# SPDX-License-Identifier: BSD-3-Clause
# DAX mmap on zpmfs: coherence with read()/write(), MAP_PRIVATE, SIGBUS
# past EOF, truncate and punch under a mapping, fork (tests/vm/bin/zmmap.c),
# with and without the kernel's map cache.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
zvfs_cc zmmap

for opts in "" nomapcache; do
	zpmfs_up "$opts"
	"$ZBIN/zmmap" "$MNT" || fail "zmmap ${opts:+(-o $opts)}"
	zpmfs_down
	check_dmesg_clean || fail "kernel log after zmmap $opts"
done
zpmfs_stop
pass
