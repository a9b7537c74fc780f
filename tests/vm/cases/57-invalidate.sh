#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 900
# SPDX-License-Identifier: BSD-3-Clause
# Server-initiated invalidation (ZUFS_IOC_INVALIDATE): zusd's invalidation
# storm makes the kernel forget, every few ms, the block maps of the inodes
# it just mapped, while the data exerciser (persistent mmap), the mmap
# checks and the map-cache race test run.  Nothing may change for them;
# cached overwrites must start asking the server again (the maps really
# went), and the kernel log must stay clean.  Then a hostile server's
# ZUFS_IOC_INVALIDATE_NAME (bad names, absent mounts, a bad pointer) fails
# with the documented errors (the names' own effect: tests/ceph, vm/70).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
zvfs_cc zcache
zvfs_cc zmmap

# overwrites of mapped blocks: GET_BLOCKS seen in the debug log
overwrite_gb() {
	local f=$MNT/rt before
	dd if=/dev/zero of="$f" bs=1M count=1 2>/dev/null
	before=$(grep -c GET_BLOCKS "$ZUSD_LOG")
	for ((i = 0; i < 8; i++)); do
		dd if=/dev/zero of="$f" bs=4k count=32 seek=$((i * 32)) \
			conv=notrunc 2>/dev/null
		sleep 0.05
	done
	echo $(($(grep -c GET_BLOCKS "$ZUSD_LOG") - before))
	rm -f "$f"
}

ZUSD_ARGS="--invalidate-storm 5"
zpmfs_up
"$TOP/build/bin/zfsx" -q -N "${ZFSX_OPS:-30000}" -S 7 "$MNT/fx" ||
	fail "zfsx under an invalidation storm"
"$ZBIN/zmmap" "$MNT" >/tmp/zmmap.out || { cat /tmp/zmmap.out; fail "zmmap"; }
tail -1 /tmp/zmmap.out
"$ZBIN/zcache" -t 20 "$MNT" || fail "zcache under an invalidation storm"
zpmfs_stop
zpmfs_fsck "after zfsx, zmmap and zcache under the storm"
grep "invalidate storm" "$ZUSD_LOG"
n=$(sed -n 's/.*invalidate storm: \([0-9]*\) invalidations.*/\1/p' "$ZUSD_LOG")
[ "${n:-0}" -ge 100 ] || fail "only ${n:-0} invalidations reached the kernel"
grep -q "invalidate storm: ino" "$ZUSD_LOG" && fail "an invalidation failed"
check_dmesg_clean || fail "kernel log under the storm"

# the maps really go: cached overwrites ask the server again under a storm
ZUSD_ARGS="-d --invalidate-storm 20"
zpmfs_up
n=$(overwrite_gb)
echo "overwrites under the storm: $n GET_BLOCKS"
[ "$n" -ge 2 ] || fail "the storm did not drop any cached map ($n GET_BLOCKS)"
zpmfs_stop
check_dmesg_clean || fail "kernel log"

gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$TOP/include" \
	-o "$ZBIN/zinvname" "$TOP/tests/vm/bin/zinvname.c" || fail "cannot build zinvname"
"$ZBIN/zinvname" /sys/fs/zuf || fail "ZUFS_IOC_INVALIDATE_NAME took a bad request"
check_dmesg_clean || fail "kernel log after bad name invalidations"
pass
