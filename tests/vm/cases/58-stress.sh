#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 900
# SPDX-License-Identifier: BSD-3-Clause
# Concurrent stress (tests/stress/zstress): four processes race namespace,
# data, mmap, xattr and space operations over shared names, each checking
# a private file byte for byte.  On zpmfs with and without the map cache,
# then fsck must find the image clean and a fresh mount must read every
# file back; then on zpassthrough (the old-IO path) over tmpfs.  A syscall
# stuck for 120 s fails the test with the worker's kernel stack.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
ZSTRESS=$TOP/build/bin/zstress
[ -x "$ZSTRESS" ] || skip "zstress not built"
SEED=${ZSTRESS_SEED:-1}
SECS=${ZSTRESS_SECS:-40}

# stress DIR SECS LABEL
stress() {
	"$ZSTRESS" -q -p 4 -d "$2" -s "$SEED" -w 120 "$1" >/tmp/zstress.log 2>&1 || {
		tail -60 /tmp/zstress.log
		fail "zstress on $3 (-s $SEED)"
	}
	grep -E '^zstress: (done after|SIGBUS|[0-9]+ failures)' /tmp/zstress.log | sed "s/^zstress:/$3:/"
}

# read back everything a stressed zpmfs holds, after fsck found it clean
check_image() {
	local n
	"$TOP/build/bin/fsck.zpmfs" /dev/pmem0 >/tmp/fsck.log 2>&1 || {
		cat /tmp/fsck.log
		fail "fsck.zpmfs after zstress ($1): exit $?"
	}
	mount -t zpmfs /dev/pmem0 "$MNT" || fail "remount after zstress ($1)"
	n=$(find "$MNT" -type f | wc -l)
	find "$MNT" -type f -exec cat {} + >/dev/null ||
		fail "reading back the files after zstress ($1)"
	ls -lR "$MNT" >/dev/null || fail "listing the tree after zstress ($1)"
	echo "$1: fsck clean, $n files read back"
	zpmfs_down
}

for opts in "" nomapcache; do
	zpmfs_up "$opts"
	stress "$MNT" "$SECS" "zpmfs${opts:+ -o $opts}"
	zpmfs_down
	check_image "zpmfs${opts:+ -o $opts}"
	check_dmesg_clean || fail "kernel log after zstress on zpmfs $opts"
done
zpmfs_stop

PLUGIN=$TOP/build/plugins/zpassthrough.so
if [ -f "$PLUGIN" ]; then
	BACK=/tmp/stress-back
	mkdir -p "$BACK" "$MNT"
	zufs_load
	"$TOP/build/bin/zusd" -f -p "$PLUGIN" >/tmp/zusd-pt.log 2>&1 &
	pid=$!
	wait_registered zpassthrough || fail "zusd did not register zpassthrough"
	mount -t zpassthrough -o backing="$BACK" none "$MNT" ||
		fail "mount zpassthrough: $(tail -3 /tmp/zusd-pt.log)"
	stress "$MNT" 30 zpassthrough
	umount "$MNT" || fail "umount zpassthrough"
	kill "$pid"
	wait "$pid" 2>/dev/null
	check_dmesg_clean || fail "kernel log after zstress on zpassthrough"
fi
pass
