#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# zpmfs on the host: the plugin's unit tests (tests/unit) and mkfs.zpmfs
# behaviour.  No VM, no FUSE.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
MKFS=$BUILD/bin/mkfs.zpmfs
FSCK=$BUILD/bin/fsck.zpmfs
UNIT=$BUILD/tests/unit/zpmfs_test

make -s -C "$TOP/fs/zpmfs" >/dev/null && make -s -C "$TOP/tests/unit" >/dev/null ||
	{ echo "FAIL: build"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*"; rc=1; }

# mkfs.zpmfs
"$MKFS" --help | grep -q '^usage: mkfs.zpmfs' || fail "mkfs --help"
"$MKFS" -q -s 8M "$tmp/img" || fail "mkfs on a new file"
[ "$(stat -c %s "$tmp/img")" = 8388608 ] || fail "image size"
out=$("$MKFS" -q "$tmp/img" 2>&1) && fail "mkfs overwrote without -f"
echo "$out" | grep -q "$tmp/img" || fail "refusal does not name the device: $out"
"$MKFS" -f -L lbl -i 1000 "$tmp/img" | grep -q "label 'lbl'" ||
	fail "mkfs -f summary"
dd if=/dev/zero of="$tmp/ext" bs=1M count=4 status=none
printf '\x53\xef' | dd of="$tmp/ext" bs=1 seek=1080 conv=notrunc status=none
"$MKFS" -q "$tmp/ext" 2>&1 | grep -q ext2 || fail "ext signature not refused"
"$MKFS" -q -s 100K "$tmp/small" 2>/dev/null && fail "tiny image accepted"
"$MKFS" -q -s 1X "$tmp/x" 2>/dev/null && fail "bad size accepted"

# fsck.zpmfs
"$FSCK" --help | grep -q '^usage: fsck.zpmfs' || fail "fsck --help"
"$FSCK" "$tmp/img" >/dev/null || fail "fsck of a fresh image"
"$FSCK" "$tmp/ext" >/dev/null 2>&1; [ $? = 8 ] || fail "fsck of ext: not 8"

# the unit tests
TMPDIR=$tmp "$UNIT" || rc=1
[ $rc = 0 ] && echo PASS
exit $rc
