#!/bin/bash
# vm: --pmem 256M,512M --cpus 2 --timeout 900
# SPDX-License-Identifier: BSD-3-Clause
# Honest capabilities (zufs_ioc_mount.caps): what a program probing for a
# feature learns is what a real call then does.  posix-test's caps group
# (a zero-length FICLONERANGE / FIDEDUPERANGE, fsx's probe, must agree with
# a real one; a fallocate mode a mount lacks fails with EOPNOTSUPP and
# changes nothing) on zpmfs, whose offer is fixed, and on zpassthrough over
# tmpfs, ext4 and (when mkfs.xfs is there) XFS with reflink, where zuf must
# offer exactly what the backing directory does.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
PT=$TOP/build/bin/posix-test
PTPLUGIN=$TOP/build/plugins/zpassthrough.so
[ -x "$PT" ] || skip "posix-test not built"
[ -f "$PTPLUGIN" ] || skip "zpassthrough.so not built"
[ -b /dev/pmem1 ] || skip "no /dev/pmem1 (run with --pmem 256M,512M)"

# the "# caps_*: ..." lines of posix-test -v -o caps on $1 (which passes)
caps_of() {
	local out

	out=$("$PT" -v -o caps "$1" 2>&1) ||
		{ printf '%s\n' "$out" >&2; fail "posix-test -o caps on $2"; }
	printf '%s\n' "$out" | grep '^# caps_'
}

zpmfs_up
got=$(caps_of "$MNT" zpmfs) || exit 1
printf '%s\n' "$got" | sed 's/^# /zpmfs: /'
want="# caps_clone: clone yes
# caps_dedupe: dedupe yes
# caps_falloc: fallocate: allocate keep_size punch_hole zero_range zero_range_keep collapse_range insert_range unshare_range unshare_range_keep; not: none"
[ "$got" = "$want" ] || fail "zpmfs offers what it does not implement"
zpmfs_down
zpmfs_fsck "after the caps tests"
zpmfs_stop

"$TOP/build/bin/zusd" -f -p "$PTPLUGIN" >/tmp/zusd-pt.log 2>&1 &
pid=$!
wait_registered zpassthrough || fail "zusd: $(cat /tmp/zusd-pt.log)"

# zpassthrough over $2 (a directory) must offer what $2 itself does
same_as_backing() {
	local want got

	want=$(caps_of "$2" "$1 itself") || exit 1
	mount -t zpassthrough -o backing="$2" none "$MNT" ||
		fail "mount zpassthrough over $1"
	got=$(caps_of "$MNT" "zpassthrough over $1") || exit 1
	umount "$MNT" || fail "umount zpassthrough over $1"
	printf '%s\n' "$got" | sed "s/^# /zpassthrough over $1: /"
	[ "$got" = "$want" ] || {
		printf 'backing:\n%s\n' "$want"
		fail "zpassthrough over $1 offers other than $1"
	}
}

mkdir -p /tmp/back /mnt/back
same_as_backing tmpfs /tmp/back

modprobe ext4 || fail "no ext4 module"
mkfs.ext4 -q -F -b 4096 /dev/pmem1 || fail "mkfs.ext4"
mount -t ext4 /dev/pmem1 /mnt/back || fail "mount ext4"
same_as_backing ext4 /mnt/back
umount /mnt/back

if command -v mkfs.xfs >/dev/null && modprobe xfs; then
	# (XFS wants 300 MB at least: pmem1 is 512M)
	out=$(mkfs.xfs -q -f -m reflink=1 /dev/pmem1 2>&1) ||
		fail "mkfs.xfs: $out"
	mount -t xfs /dev/pmem1 /mnt/back || fail "mount xfs"
	same_as_backing xfs /mnt/back
	umount /mnt/back
else
	echo "note: no mkfs.xfs (xfsprogs): reflink through zpassthrough not tried"
fi

kill "$pid"
wait "$pid" 2>/dev/null
check_dmesg_clean || fail "kernel log"
pass
