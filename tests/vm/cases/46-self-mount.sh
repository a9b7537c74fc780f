#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 240
# SPDX-License-Identifier: BSD-3-Clause
# The server never waits for itself.  zpassthrough backed by a directory
# of a zpmfs mount of the same zusd: every passthrough op would make the
# serving ZT ask its own server, and with both channels busy serving
# passthrough writers nobody is left to answer (a deadlock the old kernel
# walked into).  Now an op the server process sends to a zufs mount fails
# with EDEADLK in the server (EIO for the application), logged; nothing
# hangs, and everything unmounts.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
PT=$TOP/build/plugins/zpassthrough.so
[ -f "$PT" ] || skip "zpassthrough.so not built"

ZUSD_ARGS="-p $PT" zpmfs_up
wait_registered zpassthrough || fail "zpassthrough not registered"
mkdir -p "$MNT/back" /mnt/pt
echo seed >"$MNT/back/old" || fail "seeding the backing directory"
if mount -t zpassthrough -o backing="$MNT/back" none /mnt/pt 2>/tmp/mnt.err
then
	# two writers, one per channel: each op asks the server again
	pids=()
	for i in 1 2; do
		timeout -s KILL 60 dd if=/dev/zero of=/mnt/pt/f$i bs=64k \
			count=64 conv=fsync status=none 2>/dev/null &
		pids+=($!)
	done
	for i in 0 1; do
		wait "${pids[$i]}"
		[ $? -eq 137 ] && fail "writer $i hung"
	done
	timeout -s KILL 30 cat /mnt/pt/old >/dev/null 2>&1
	[ $? -eq 137 ] && fail "a read hung"
	umount /mnt/pt || fail "umount the passthrough mount"
fi
dmesg | grep -q "the server itself uses its mount" ||
	fail "no log line for the server using its own mount"
zpmfs_stop
check_dmesg_clean || fail "kernel log"
pass
