#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 1200
# SPDX-License-Identifier: BSD-3-Clause
# The old-IO path (no pmem): zpassthrough through zuf.ko mirrors an ext4
# directory (ext4 gives the stable readdir cookies the plugin passes on).
# READ/WRITE with the caller's pages in the ZT's window, mmap through the
# page cache (readahead and writeback a batch of pages per op).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
PLUGIN=$TOP/build/plugins/zpassthrough.so
[ -f "$PLUGIN" ] || skip "zpassthrough.so not built"
[ -x "$TOP/build/bin/posix-test" ] || skip "posix-test not built"
[ -b /dev/pmem0 ] || skip "no /dev/pmem0 (run with --pmem)"
zvfs_cc zmmap

BACK=/mnt/zvfs-ext4
modprobe ext4 || skip "no ext4 module"
mkfs.ext4 -q -F -b 4096 /dev/pmem0 || fail "mkfs.ext4"
mkdir -p "$BACK" "$MNT"
mount -t ext4 /dev/pmem0 "$BACK" || fail "mount ext4"
mkdir -p "$BACK/back"

zufs_load
awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf
"$TOP/build/bin/zusd" -f -p "$PLUGIN" >/tmp/zusd.log 2>&1 &
pid=$!
wait_registered zpassthrough || fail "zusd did not register: $(cat /tmp/zusd.log)"
mount -t zpassthrough -o backing="$BACK/back" none "$MNT" ||
	fail "mount zpassthrough: $(tail -3 /tmp/zusd.log)"

"$ZBIN/zmmap" "$MNT" || fail "zmmap on zpassthrough"
out=$("$TOP/build/bin/posix-test" "$MNT" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -v '^ok '
# the data exerciser on the old-IO path (no map cache exists here):
# 100 000 ops, ~700 ops/s under TCG on a quiet host; ZFSX_OPS changes it
if [ $rc -eq 0 ] && [ -x "$TOP/build/bin/zfsx" ]; then
	"$TOP/build/bin/zfsx" -q -N "${ZFSX_OPS:-100000}" -S "${ZFSX_SEED:-1}" \
		"$MNT/fsx" >/tmp/zfsx.log 2>&1 || { tail -40 /tmp/zfsx.log; rc=1; }
	tail -1 /tmp/zfsx.log
fi
umount "$MNT" || fail "umount"
kill "$pid"
wait "$pid" 2>/dev/null
umount "$BACK"
[ $rc -eq 0 ] || fail "posix-test or zfsx on zpassthrough"
check_dmesg_clean || fail "kernel log"
pass
