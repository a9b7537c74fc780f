#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --pmem 256M --timeout 600
# A lying server (zusd --chaos): operations may fail, but the kernel must
# not oops, warn or hang, and umount must work; fsck.zpmfs finds the image
# clean.
. "$(dirname "$0")/../lib.sh"
require_vm
ZUSD=$TOP/build/bin/zusd
PLUGIN=$TOP/build/plugins/zpmfs.so
MKFS=$TOP/build/bin/mkfs.zpmfs
DEV=/dev/pmem0
MNT=/mnt/zp
SEEDS=${ZUFS_CHAOS_SEEDS:-"1 2 3"}
[ -x "$ZUSD" ] || fail "$ZUSD not built"
[ -f "$PLUGIN" ] && [ -x "$MKFS" ] || skip "zpmfs not built yet"
[ -n "${ZUFS_KO:-}" ] && { insmod "$ZUFS_KO" || fail "insmod $ZUFS_KO"; }
zufs_load
mkdir -p $MNT

workload() {
	local i
	for ((i = 0; i < ${ZUFS_CHAOS_ROUNDS:-10}; i++)); do
		mkdir -p $MNT/d$((i % 3))
		echo "data $i" >$MNT/d$((i % 3))/f$((i % 7))
		stat $MNT/d$((i % 3))/f$((i % 7))
		ls -la $MNT/d$((i % 3))
		cat $MNT/d$((i % 3))/f$((i % 7))
		dd if=/dev/zero of=$MNT/big bs=64k count=4 seek=$((i % 5)) conv=notrunc
		dd if=$MNT/big of=/dev/null bs=64k
		ln -s target$i $MNT/l$((i % 4)); readlink $MNT/l$((i % 4))
		mv $MNT/d$((i % 3))/f$((i % 7)) $MNT/d$(((i + 1) % 3))/g$((i % 5))
		rm -f $MNT/d$(((i + 2) % 3))/g$((i % 5)) $MNT/l$(((i + 2) % 4))
		df $MNT
	done
}

for seed in $SEEDS; do
	"$MKFS" -f -q $DEV || fail "mkfs"
	"$ZUSD" -p "$PLUGIN" --pidfile /run/zusd.pid --chaos "$seed:100" ||
		fail "zusd --chaos $seed"
	mount -t zpmfs $DEV $MNT || fail "mount (seed $seed)"
	timeout 300 bash -c "$(declare -f workload); MNT=$MNT ZUFS_CHAOS_ROUNDS=${ZUFS_CHAOS_ROUNDS:-10} workload" \
		>/dev/null 2>/run/chaos.err
	rc=$?
	[ $rc = 124 ] && fail "workload hung (seed $seed)"
	echo "seed $seed: $(wc -l </run/chaos.err) failed commands," \
	     "$(dmesg | grep -c 'bad answer from server') bad answers logged"
	check_dmesg_clean || fail "kernel log (seed $seed)"
	umount $MNT || fail "umount (seed $seed)"
	pid=$(cat /run/zusd.pid)
	kill -TERM "$pid"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	# the kernel was lied to, the plugin was not: nothing may leak
	"$TOP/build/bin/fsck.zpmfs" $DEV >/run/fsck.log 2>&1 ||
		{ cat /run/fsck.log; fail "fsck.zpmfs after seed $seed: exit $?"; }
done
dmesg | grep -q 'bad answer from server' || fail "chaos caught nothing"
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
