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
[ -x "$TOP/build/bin/posix-test" ] || skip "posix-test not built"
zvfs_cc zmmap

BACK=/mnt/zvfs-ext4
passthrough_start "$BACK"
pid=$PT_PID
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
