#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 900
# SPDX-License-Identifier: BSD-3-Clause
# A lying server: zusd --chaos corrupts a share of its answers (sizes,
# inode numbers, extents, dirents, lengths, error codes).  Workloads may
# fail; the kernel must reject every bad answer without a BUG, WARNING or
# Oops, never loop, and unmount cleanly.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
[ -x "$TOP/build/bin/posix-test" ] || skip "posix-test not built"
zvfs_cc zcache
zvfs_cc zmmap

ZUSD_ARGS="--chaos ${ZCHAOS:-7:20}"
zpmfs_up
timeout 400 "$TOP/build/bin/posix-test" -t 60 "$MNT" 2>&1 | tail -1
timeout 60 "$ZBIN/zcache" -t 10 "$MNT" 2>&1 | tail -1
timeout 60 "$ZBIN/zmmap" "$MNT" 2>&1 | tail -1
[ -x "$TOP/build/bin/zfsx" ] &&
	timeout 200 "$TOP/build/bin/zfsx" -q -N 3000 -S 3 "$MNT/fx" 2>&1 | tail -1
echo "bad answers rejected: $(dmesg | grep -c 'bad answer from server')"
check_dmesg_clean || fail "kernel log under a lying server"
zpmfs_stop
check_dmesg_clean || fail "kernel log after unmount"
# the plugin itself was never lied to: nothing may leak
zpmfs_fsck_after_remount "after the chaos run"
zpmfs_stop
pass
