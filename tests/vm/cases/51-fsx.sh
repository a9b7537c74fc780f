#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 2400
# SPDX-License-Identifier: BSD-3-Clause
# The file exerciser (tests/fsx) on zpmfs with and without the map cache:
# random reads, writes, mmap, truncate, fallocate, checked against a
# shadow copy.  fsck.zpmfs must find each image clean afterwards.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
FSX=$TOP/build/bin/zfsx
[ -x "$FSX" ] || skip "zfsx not built"
# about 6 minutes per 100 000 ops under TCG: one seed per mode
N=${ZFSX_OPS:-100000}
SEED=${ZFSX_SEED:-1}

for opts in "" nomapcache; do
	zpmfs_up "$opts"
	"$FSX" -N "$N" -S "$SEED" "$MNT/f" >/tmp/zfsx.log 2>&1 || {
		tail -40 /tmp/zfsx.log
		fail "zfsx -S $SEED ${opts:+(-o $opts)}"
	}
	tail -1 /tmp/zfsx.log
	zpmfs_down
	zpmfs_fsck "after zfsx${opts:+ -o $opts}"
	check_dmesg_clean || fail "kernel log after zfsx $opts"
done
zpmfs_stop
pass
