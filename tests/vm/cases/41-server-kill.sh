#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --pmem 256M --timeout 400
# kill -9 of zusd under load: blocked and new calls fail with EIO within a
# second, umount works, the module unloads; a new zusd mounts the same
# device and finds the data that was fsynced before the kill.
. "$(dirname "$0")/../lib.sh"
require_vm
ZUSD=$TOP/build/bin/zusd
PLUGIN=$TOP/build/plugins/zpmfs.so
MKFS=$TOP/build/bin/mkfs.zpmfs
DEV=/dev/pmem0
MNT=/mnt/zp
[ -x "$ZUSD" ] || fail "$ZUSD not built"
[ -f "$PLUGIN" ] && [ -x "$MKFS" ] || skip "zpmfs not built yet"
load() {
	if [ -n "${ZUFS_KO:-}" ]; then insmod "$ZUFS_KO" || fail "insmod"; fi
	zufs_load
}
load
"$ZUSD" -p "$PLUGIN" --pidfile /run/zusd.pid || fail "zusd did not start"
pid=$(cat /run/zusd.pid)
"$MKFS" -f -q $DEV || fail "mkfs"
mkdir -p $MNT
mount -t zpmfs $DEV $MNT || fail "mount"

head -c 1M /dev/urandom >/run/ref
dd if=/run/ref of=$MNT/keep bs=64k conv=fsync status=none || fail "write keep"
mkdir $MNT/d && sync -f $MNT || fail "mkdir/sync"

# the load: file operations until the first failure
(
	i=0
	while echo $i >$MNT/d/f$((i % 50)) && stat $MNT/keep >/dev/null &&
	      ls $MNT/d >/dev/null && rm -f $MNT/d/f$(((i + 25) % 50)); do
		i=$((i + 1))
	done
	echo "stopped after $i" >/run/load.done
) 2>/run/load.err &
load_pid=$!
sleep 3
[ -e /run/load.done ] && fail "load stopped early: $(cat /run/load.err)"

kill -9 "$pid"
t0=$(date +%s%N)
for ((i = 0; i < 40; i++)); do
	[ -e /run/load.done ] && break
	sleep 0.05
done
t1=$(date +%s%N)
[ -e /run/load.done ] || { kill $load_pid; fail "load still running 2 s after kill -9"; }
echo "load $(cat /run/load.done), $(((t1 - t0) / 1000000)) ms after kill -9"
grep -q "Input/output error" /run/load.err || fail "load error: $(cat /run/load.err)"

t0=$(date +%s%N)
err=$(stat $MNT/keep 2>&1) && fail "stat after kill succeeded"
t1=$(date +%s%N)
echo "$err" | grep -q "Input/output error" || fail "stat: $err"
(((t1 - t0) < 1000000000)) || fail "new call took $(((t1 - t0) / 1000000)) ms"
err=$(touch $MNT/new 2>&1) && fail "create after kill succeeded"
echo "$err" | grep -q "Input/output error" || fail "create: $err"
wait $load_pid

umount $MNT || fail "umount after server death"
grep -qw zpmfs /proc/filesystems && fail "zpmfs registered after umount"
zufs_unload
check_dmesg_clean || fail "kernel log"

# a new server on the same device
load
"$ZUSD" -p "$PLUGIN" --pidfile /run/zusd.pid || fail "zusd restart"
mount -t zpmfs $DEV $MNT || fail "mount after restart"
cmp $MNT/keep /run/ref || fail "fsynced data lost"
[ -d $MNT/d ] || fail "synced directory lost"
umount $MNT || fail "umount 2"
kill -TERM "$(cat /run/zusd.pid)"
sleep 1
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
