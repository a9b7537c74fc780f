#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 600
# SPDX-License-Identifier: BSD-3-Clause
# DAX mmap on zpmfs: coherence with read()/write(), MAP_PRIVATE, SIGBUS
# past EOF, truncate and punch under a mapping, fork (tests/vm/bin/zmmap.c),
# with and without the kernel's map cache.  2 MiB (PMD) mappings
# (tests/vm/bin/zhuge.c): the same semantics, and the faults really huge
# where the file's blocks allow it (counted with the fs_dax tracepoint),
# 4 KiB where the address cannot be aligned; then under a server lying
# about extents (zusd --fuzz extent), where only the kernel log matters.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
zvfs_cc zmmap

zvfs_cc zhuge

TRACE=/sys/kernel/tracing
[ -d $TRACE/events ] || mount -t tracefs nodev $TRACE ||
	fail "cannot mount tracefs"
PMD_EVENT=$TRACE/events/fs_dax/dax_pmd_fault_done/enable
[ -f $PMD_EVENT ] || fail "no fs_dax:dax_pmd_fault_done tracepoint"

# zhuge TEST: run it, set HUGE to the number of 2 MiB faults that mapped
huge_run() {
	echo >$TRACE/trace
	echo 1 >$PMD_EVENT
	"$ZBIN/zhuge" "$MNT" "$1"
	local rc=$?
	echo 0 >$PMD_EVENT
	HUGE=$(grep -c 'dax_pmd_fault_done:.* NOPAGE' $TRACE/trace)
	echo "zhuge $1: $HUGE huge faults mapped"
	return $rc
}

for opts in "" nomapcache; do
	zpmfs_up "$opts"
	"$ZBIN/zmmap" "$MNT" || fail "zmmap ${opts:+(-o $opts)}"
	for t in fresh written punch private misaligned; do
		huge_run $t || fail "zhuge $t ${opts:+(-o $opts)}"
		case $t in
		fresh | written)
			[ "$HUGE" -ge 4 ] ||
				fail "zhuge $t: $HUGE of 4 huge faults mapped ${opts:+(-o $opts)}" ;;
		misaligned)
			[ "$HUGE" = 0 ] ||
				fail "zhuge $t: a misaligned mapping got $HUGE huge faults" ;;
		esac
	done
	zpmfs_down
	check_dmesg_clean || fail "kernel log after zmmap $opts"
done
zpmfs_stop

# a liar about extents under huge faults: errors are fine, the log is not
ZUSD_ARGS="--fuzz 7:300,extent,quiet" zpmfs_up ""
for t in fresh written punch; do
	timeout 120 "$ZBIN/zhuge" "$MNT" $t >/dev/null 2>&1
	[ $? != 124 ] || fail "zhuge $t hangs under a lying server"
done
zpmfs_stop
check_dmesg_clean || fail "kernel log after huge faults under a lying server"
pass
