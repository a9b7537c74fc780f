#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --pmem 16M,16M --timeout 300
# zpmfs-grow with zuf.ko: a zpmfs on one pmem with data grows by a second
# pmem (refused while mounted); the set mounts by either member (found by
# set uuid) and by -o devs=, the data is byte-identical, new writes spill
# onto the new member (fiemap), fsck finds the set clean; a member table
# left from before the grow makes the kernel refuse the set until
# fsck.zpmfs -p finishes the grow.
. "$(dirname "$0")/../lib.sh"
require_vm
ZUSD=$TOP/build/bin/zusd
PLUGIN=$TOP/build/plugins/zpmfs.so
MKFS=$TOP/build/bin/mkfs.zpmfs
FSCK=$TOP/build/bin/fsck.zpmfs
GROW=$TOP/build/bin/zpmfs-grow
MEMBERS=$TOP/tests/vm/bin/zmembers.py
MNT=/mnt/zp
A=/dev/pmem0 B=/dev/pmem1
[ -x "$ZUSD" ] && [ -f "$PLUGIN" ] && [ -x "$GROW" ] || fail "not built"
[ -b $A ] && [ -b $B ] || fail "no $A and $B"
zufs_load
"$ZUSD" -p "$PLUGIN" --pidfile /run/zusd.pid || fail "zusd did not start"
mkdir -p $MNT

check_sums() {
	(cd $MNT && sha1sum -c --quiet /tmp/sums) || fail "data differs: $1"
}

echo "== a zpmfs on $A with data"
"$MKFS" -f $A >/tmp/mkfs.out || fail "mkfs $A"
grep -q "room to grow (zpmfs-grow) to 64 MiB" /tmp/mkfs.out ||
	fail "mkfs: $(cat /tmp/mkfs.out)"
mount -t zpmfs $A $MNT || fail "mount $A: $(dmesg | tail -3)"
mkdir $MNT/d
head -c $((8 << 20)) /dev/urandom >$MNT/d/big || fail "write 8 MiB"
for i in $(seq 20); do echo "file $i" >$MNT/d/f$i; done
ln -s d/big $MNT/link
(cd $MNT && sha1sum d/big d/f* link) >/tmp/sums
out=$("$GROW" $A $B 2>&1) && fail "grew a mounted filesystem"
echo "$out" | grep -Eq "is mounted|in use" || fail "grow while mounted: $out"
umount $MNT || fail "umount"
dd if=$A of=/tmp/table0 bs=4096 count=1 status=none

echo "== grow by $B"
"$GROW" $A $B || fail "zpmfs-grow $A $B"
"$FSCK" $A $B || fail "fsck of the grown set"

echo "== mount by the new member: $A found by set uuid"
mount -t zpmfs $B $MNT || fail "mount by $B: $(dmesg | tail -3)"
grep " $MNT " /proc/mounts | grep -q "devs=$A:$B" ||
	fail "/proc/mounts: $(grep " $MNT " /proc/mounts)"
size=$(df -k --output=size $MNT | tail -1)
[ "$size" -gt 28000 ] || fail "df shows $size KiB, not the set's ~32 MiB"
check_sums "mount by $B after the grow"
# 10 MiB more do not fit the first member's 16 MiB
head -c $((10 << 20)) /dev/urandom >$MNT/more || fail "write 10 MiB more"
sync
line=$(python3 "$MEMBERS" $A $MNT/more) || fail "zmembers"
echo "   $line"
m1=$(echo "$line" | sed -n 's/.* m1=\([0-9]*\).*/\1/p')
[ "${m1:-0}" -gt 0 ] || fail "nothing spilled onto the new member: $line"
(cd $MNT && sha1sum more) >>/tmp/sums
umount $MNT || fail "umount"
"$FSCK" $B >/dev/null || fail "fsck naming the new member (the other found)"

echo "== mount by the old member with -o devs="
mount -t zpmfs -o devs=$A:$B $A $MNT || fail "mount -o devs=: $(dmesg | tail -3)"
check_sums "mount -o devs="
umount $MNT || fail "umount"

echo "== $A's table from before the grow: refused, then fsck -p"
dd if=/tmp/table0 of=$A bs=4096 count=1 conv=notrunc status=none
sync
dmesg -C
mount -t zpmfs $B $MNT 2>/dev/null && fail "mounted a set whose tables disagree"
dmesg | grep -q "disagrees" || fail "no 'disagrees' in dmesg: $(dmesg | tail -3)"
check_dmesg_clean || fail "kernel log after the refused mount"
"$FSCK" $A $B >/dev/null 2>&1
[ $? = 4 ] || fail "fsck -n of the old table: not 4"
"$FSCK" -p $A $B >/dev/null 2>&1
[ $? = 1 ] || fail "fsck -p of the old table: not 1"
"$FSCK" $A $B || fail "fsck after -p"
mount -t zpmfs $A $MNT || fail "mount after fsck -p: $(dmesg | tail -3)"
check_sums "after fsck -p"
umount $MNT || fail "umount"

kill -TERM "$(cat /run/zusd.pid)"
sleep 1
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
