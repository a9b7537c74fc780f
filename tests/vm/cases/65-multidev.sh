#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --numa 2 --cpus 2 --pmem 32M,32M,32M --timeout 600
# A zpmfs over a set of two pmem devices, one per NUMA node: mkfs writes
# the table to both, mount by either member (found by set uuid) or -o
# devs=, df and /proc/mounts show the set, a writer pinned to each node
# gets its blocks from that node's member, a file bigger than one member
# spills onto the other and reads back; every refusal names the device (a member
# missing, a member of another set, two devices claiming one member,
# tables that disagree); fsck checks the set and repairs a damaged
# member table.
. "$(dirname "$0")/../lib.sh"
require_vm
ZUSD=$TOP/build/bin/zusd
PLUGIN=$TOP/build/plugins/zpmfs.so
MKFS=$TOP/build/bin/mkfs.zpmfs
FSCK=$TOP/build/bin/fsck.zpmfs
MEMBERS=$TOP/tests/vm/bin/zmembers.py
MNT=/mnt/zp
[ -x "$ZUSD" ] && [ -f "$PLUGIN" ] && [ -x "$MKFS" ] || fail "not built"
for d in 0 1 2; do [ -b /dev/pmem$d ] || fail "no /dev/pmem$d"; done
zufs_load
"$ZUSD" -p "$PLUGIN" --pidfile /run/zusd.pid || fail "zusd did not start"
mkdir -p $MNT

# expect_refusal DMESG-TEXT MOUNT-ARGS...: the mount fails, the kernel
# says why, and its log stays clean
expect_refusal() {
	local want=$1
	shift
	sync
	dmesg -C
	mount -t zpmfs "$@" $MNT 2>/dev/null && fail "mount $* succeeded"
	dmesg | grep -qF "$want" ||
		fail "mount $*: no '$want' in dmesg: $(dmesg | tail -3)"
	check_dmesg_clean || fail "kernel log after refused mount $*"
}

# table_edit DEV PYTHON: edit DEV's device table (bytearray t), store it
# with a correct crc32, as a careful liar would
table_edit() {
	python3 - "$1" "$2" <<'PY'
import struct, sys, zlib
with open(sys.argv[1], "r+b") as f:
    t = bytearray(f.read(512))
    exec(sys.argv[2])
    t[12:16] = b"\0\0\0\0"
    t[12:16] = struct.pack("<I", zlib.crc32(bytes(t)) & 0xffffffff)
    f.seek(0); f.write(t)
PY
	sync
}

"$MKFS" -f -q -i 2048 /dev/pmem0 /dev/pmem1 || fail "mkfs of the set"

echo "== mount by the second member: the first is found by set uuid"
mount -t zpmfs /dev/pmem1 $MNT || fail "mount by /dev/pmem1: $(dmesg | tail -3)"
dmesg | grep -q "set .* of 2 members" || fail "no set message"
grep " $MNT " /proc/mounts | grep -q "devs=/dev/pmem0:/dev/pmem1" ||
	fail "/proc/mounts: $(grep " $MNT " /proc/mounts)"
size=$(df -k --output=size $MNT | tail -1)
[ "$size" -gt 60000 ] || fail "df shows $size KiB, not the set's ~64 MiB"
blocks=$(stat -f -c %b $MNT)
[ "$blocks" -gt 15000 ] || fail "statfs: $blocks blocks"
echo "   df: $size KiB, statfs: $blocks blocks"

echo "== a writer on each node: its blocks on its node's member"
n0=$(cat /sys/block/pmem0/device/numa_node)
n1=$(cat /sys/block/pmem1/device/numa_node)
[ "$n0" = 0 ] && [ "$n1" = 1 ] || fail "want pmem0 on node 0, pmem1 on node 1"
for j in 0 1; do
	cpu=$(cut -d, -f1 /sys/devices/system/node/node$j/cpulist | cut -d- -f1)
	taskset -c "$cpu" dd if=/dev/zero of=$MNT/node$j bs=64k count=32 \
		conv=fsync status=none &
done
wait || fail "a pinned writer failed"
for j in 0 1; do
	cpu=$(cut -d, -f1 /sys/devices/system/node/node$j/cpulist | cut -d- -f1)
	line=$(python3 "$MEMBERS" --node-of-cpu "$cpu" --member-nodes "$n0,$n1" \
		/dev/pmem0 $MNT/node$j) || fail "zmembers"
	echo "   $line"
	share=$(echo "$line" | sed -n 's/.* local=\([0-9.]*\).*/\1/p')
	python3 -c "import sys; sys.exit(float('$share') < 95)" ||
		fail "writer on node $j: only $share % of its blocks on its node"
done
rm -f $MNT/node0 $MNT/node1

echo "== a file bigger than one member spills onto the other"
head -c $((40 << 20)) /dev/urandom >/tmp/big || fail "random data"
cp /tmp/big $MNT/big || fail "write 40 MiB over the set"
echo small >$MNT/small
sync
line=$(python3 "$MEMBERS" /dev/pmem0 $MNT/big) || fail "zmembers"
echo "   $line"
m0=$(echo "$line" | sed -n 's/.* m0=\([0-9]*\).*/\1/p')
m1=$(echo "$line" | sed -n 's/.* m1=\([0-9]*\).*/\1/p')
[ "${m0:-0}" -gt 0 ] && [ "${m1:-0}" -gt 0 ] ||
	fail "40 MiB did not spill over both members: $line"
cmp /tmp/big $MNT/big || fail "big reads back wrong"
# what is full on pmem0 and pmem1 is full: ENOSPC, not a wrap-around
head -c $((30 << 20)) /dev/zero >$MNT/fill 2>/dev/null &&
	fail "wrote 70 MiB into a 64 MiB set"
rm -f $MNT/fill
umount $MNT || fail "umount"
"$FSCK" /dev/pmem0 /dev/pmem1 || fail "fsck of the set"
"$FSCK" /dev/pmem1 >/dev/null || fail "fsck naming one member (the other found)"

echo "== mount with -o devs="
mount -t zpmfs -o devs=/dev/pmem0:/dev/pmem1 /dev/pmem0 $MNT ||
	fail "mount -o devs="
cmp /tmp/big $MNT/big || fail "big after remount"
[ "$(cat $MNT/small)" = small ] || fail "small after remount"
umount $MNT || fail "umount 2"

echo "== refusals"
expect_refusal "member 0 of 2" -o devs=/dev/pmem1 /dev/pmem1
expect_refusal "is not in devs=" -o devs=/dev/pmem1 /dev/pmem1
"$MKFS" -f -q /dev/pmem2 || fail "mkfs pmem2 alone"
expect_refusal "pmem2 belongs to set" -o devs=/dev/pmem0:/dev/pmem2 /dev/pmem0
expect_refusal "pmem1 and pmem1 both claim member 1" \
	-o devs=/dev/pmem1:/dev/pmem1 /dev/pmem0
# pmem2 made a copy of member 1: two devices claim it
dd if=/dev/pmem1 of=/dev/pmem2 bs=4096 count=1 conv=notrunc status=none
expect_refusal "both claim member 1" /dev/pmem0
dd if=/dev/zero of=/dev/pmem2 bs=4096 count=1 conv=notrunc status=none
# member 0 gone (its table wiped): the scan does not find it
dd if=/dev/pmem0 of=/tmp/table0 bs=4096 count=1 status=none
dd if=/dev/zero of=/dev/pmem0 bs=4096 count=1 conv=notrunc status=none
expect_refusal "was not found" /dev/pmem1
dd if=/tmp/table0 of=/dev/pmem0 bs=4096 count=1 conv=notrunc status=none
# tables that disagree on a member's size
dd if=/dev/pmem1 of=/tmp/table1 bs=4096 count=1 status=none
table_edit /dev/pmem1 "t[64+16:64+24] = (1000).to_bytes(8, 'little')"
expect_refusal "pmem1: its device table of set" /dev/pmem0
dd if=/tmp/table1 of=/dev/pmem1 bs=4096 count=1 conv=notrunc status=none
sync

echo "== fsck of a damaged member table"
printf '\xa5' | dd of=/dev/pmem1 bs=1 seek=13 conv=notrunc status=none
sync
expect_refusal "was not found" /dev/pmem0
out=$("$FSCK" /dev/pmem0 /dev/pmem1 2>&1)
rc=$?
[ $rc = 4 ] || fail "fsck -n of a damaged member table: exit $rc: $out"
echo "$out" | grep -q "member 1 (/dev/pmem1): device table checksum mismatch" ||
	fail "fsck -n: $out"
"$FSCK" -p /dev/pmem0 /dev/pmem1 >/dev/null 2>&1
rc=$?
[ $rc = 1 ] || fail "fsck -p: exit $rc"
"$FSCK" /dev/pmem0 /dev/pmem1 || fail "fsck after the repair"

mount -t zpmfs /dev/pmem0 $MNT || fail "mount after repair: $(dmesg | tail -3)"
cmp /tmp/big $MNT/big || fail "big after the refusals and repair"
umount $MNT || fail "umount 3"

kill -TERM "$(cat /run/zusd.pid)"
sleep 1
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
