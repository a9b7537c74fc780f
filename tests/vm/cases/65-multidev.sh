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
# A on node 0, B on node 1 make the set, C is the stranger (memmap pmem
# are not split k % N over the nodes: three of them land as 0, 0, 1)
A= B= C=
for d in /dev/pmem0 /dev/pmem1 /dev/pmem2; do
	n=$(cat /sys/block/${d#/dev/}/device/numa_node)
	if [ -z "$A" ] && [ "$n" = 0 ]; then A=$d
	elif [ -z "$B" ] && [ "$n" = 1 ]; then B=$d
	else C=$d
	fi
done
[ -n "$A" ] && [ -n "$B" ] && [ -n "$C" ] ||
	fail "want a pmem on node 0 and one on node 1"
a=${A#/dev/} b=${B#/dev/} c=${C#/dev/}
echo "set: $A (node 0) + $B (node 1); stranger $C"
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

"$MKFS" -f -q -i 2048 $A $B || fail "mkfs of the set"

echo "== mount by the second member: the first is found by set uuid"
mount -t zpmfs $B $MNT || fail "mount by $B: $(dmesg | tail -3)"
dmesg | grep -q "set .* of 2 members" || fail "no set message"
grep " $MNT " /proc/mounts | grep -q "devs=$A:$B" ||
	fail "/proc/mounts: $(grep " $MNT " /proc/mounts)"
size=$(df -k --output=size $MNT | tail -1)
[ "$size" -gt 60000 ] || fail "df shows $size KiB, not the set's ~64 MiB"
blocks=$(stat -f -c %b $MNT)
[ "$blocks" -gt 15000 ] || fail "statfs: $blocks blocks"
echo "   df: $size KiB, statfs: $blocks blocks"

echo "== a writer on each node: its blocks on its node's member"
n0=0 n1=1
for j in 0 1; do
	cpu=$(cut -d, -f1 /sys/devices/system/node/node$j/cpulist | cut -d- -f1)
	taskset -c "$cpu" dd if=/dev/zero of=$MNT/node$j bs=64k count=32 \
		conv=fsync status=none &
done
wait || fail "a pinned writer failed"
for j in 0 1; do
	cpu=$(cut -d, -f1 /sys/devices/system/node/node$j/cpulist | cut -d- -f1)
	line=$(python3 "$MEMBERS" --node-of-cpu "$cpu" --member-nodes "$n0,$n1" \
		$A $MNT/node$j) || fail "zmembers"
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
line=$(python3 "$MEMBERS" $A $MNT/big) || fail "zmembers"
echo "   $line"
m0=$(echo "$line" | sed -n 's/.* m0=\([0-9]*\).*/\1/p')
m1=$(echo "$line" | sed -n 's/.* m1=\([0-9]*\).*/\1/p')
[ "${m0:-0}" -gt 0 ] && [ "${m1:-0}" -gt 0 ] ||
	fail "40 MiB did not spill over both members: $line"
cmp /tmp/big $MNT/big || fail "big reads back wrong"
# both members full: ENOSPC, not a wrap-around
head -c $((30 << 20)) /dev/zero >$MNT/fill 2>/dev/null &&
	fail "wrote 70 MiB into a 64 MiB set"
rm -f $MNT/fill
umount $MNT || fail "umount"
"$FSCK" $A $B || fail "fsck of the set"
"$FSCK" $B >/dev/null || fail "fsck naming one member (the other found)"

echo "== mount with -o devs="
mount -t zpmfs -o devs=$A:$B $A $MNT ||
	fail "mount -o devs="
cmp /tmp/big $MNT/big || fail "big after remount"
[ "$(cat $MNT/small)" = small ] || fail "small after remount"
umount $MNT || fail "umount 2"

echo "== refusals"
expect_refusal "member 0 of 2" -o devs=$B $B
expect_refusal "is not in devs=" -o devs=$B $B
"$MKFS" -f -q $C || fail "mkfs $C alone"
expect_refusal "$c belongs to set" -o devs=$A:$C $A
expect_refusal "$b and $b both claim member 1" \
	-o devs=$B:$B $A
# $C made a copy of member 1: two devices claim it
dd if=$B of=$C bs=4096 count=1 conv=notrunc status=none
expect_refusal "both claim member 1" $A
dd if=/dev/zero of=$C bs=4096 count=1 conv=notrunc status=none
# member 0 gone (its table wiped): the scan does not find it
dd if=$A of=/tmp/table0 bs=4096 count=1 status=none
dd if=/dev/zero of=$A bs=4096 count=1 conv=notrunc status=none
expect_refusal "was not found" $B
dd if=/tmp/table0 of=$A bs=4096 count=1 conv=notrunc status=none
# tables that disagree on a member's size
dd if=$B of=/tmp/table1 bs=4096 count=1 status=none
table_edit $B "t[64+16:64+24] = (1000).to_bytes(8, 'little')"
expect_refusal "$b: its device table of set" $A
dd if=/tmp/table1 of=$B bs=4096 count=1 conv=notrunc status=none
sync

echo "== fsck of a damaged member table"
printf '\xa5' | dd of=$B bs=1 seek=13 conv=notrunc status=none
sync
expect_refusal "was not found" $A
out=$("$FSCK" $A $B 2>&1)
rc=$?
[ $rc = 4 ] || fail "fsck -n of a damaged member table: exit $rc: $out"
echo "$out" | grep -q "member 1 ($B): device table checksum mismatch" ||
	fail "fsck -n: $out"
"$FSCK" -p $A $B >/dev/null 2>&1
rc=$?
[ $rc = 1 ] || fail "fsck -p: exit $rc"
"$FSCK" $A $B || fail "fsck after the repair"

mount -t zpmfs $A $MNT || fail "mount after repair: $(dmesg | tail -3)"
cmp /tmp/big $MNT/big || fail "big after the refusals and repair"
umount $MNT || fail "umount 3"

kill -TERM "$(cat /run/zusd.pid)"
sleep 1
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
