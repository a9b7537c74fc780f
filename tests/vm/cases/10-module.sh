#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --timeout 120
# zuf.ko loads and unloads cleanly three times; /sys/fs/zuf exists only
# while it is loaded.  ($ZUFS_KO overrides the module file, for testing.)
. "$(dirname "$0")/../lib.sh"
require_vm
KO=${ZUFS_KO:-$TOP/kernel/zuf/zuf.ko}
[ -f "$KO" ] || fail "$KO not built"
grep -q '^zuf ' /proc/modules && rmmod zuf
for i in 1 2 3; do
	insmod "$KO" || fail "insmod #$i"
	[ -d /sys/fs/zuf ] || fail "/sys/fs/zuf missing while loaded (#$i)"
	grep -qw zuf /proc/filesystems || fail "zuf not in /proc/filesystems"
	mount -t zuf zuf /sys/fs/zuf || fail "mount zuf-root #$i"
	umount /sys/fs/zuf || fail "umount zuf-root #$i"
	rmmod zuf || fail "rmmod #$i"
	[ -e /sys/fs/zuf ] && fail "/sys/fs/zuf still there after rmmod (#$i)"
done
check_dmesg_clean || fail "kernel log"
pass
