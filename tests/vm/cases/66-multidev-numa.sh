#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --numa 2 --cpus 2 --pmem 48M,48M --timeout 600
# NUMA placement over a set with one pmem per node: two writers, each
# pinned to a CPU of its own node, write at the same time; at least 95 %
# of each one's blocks must land on the member of its node.  Then a
# writer on node 1 fills its member and spills onto node 0's (fallback
# to the nearest node with space), and everything reads back.
# Long: runs with ZUFS_TEST_MULTIDEV=1 (make test-multidev).
. "$(dirname "$0")/../lib.sh"
require_vm
[ "${ZUFS_TEST_MULTIDEV:-0}" = 1 ] ||
	skip "minutes under TCG: make test-multidev (ZUFS_TEST_MULTIDEV=1) runs it"
ZUSD=$TOP/build/bin/zusd
PLUGIN=$TOP/build/plugins/zpmfs.so
MKFS=$TOP/build/bin/mkfs.zpmfs
MEMBERS=$TOP/tests/vm/bin/zmembers.py
MNT=/mnt/zp
[ -x "$ZUSD" ] && [ -f "$PLUGIN" ] && [ -x "$MKFS" ] || fail "not built"
n0=$(cat /sys/block/pmem0/device/numa_node)
n1=$(cat /sys/block/pmem1/device/numa_node)
c0=$(cat /sys/devices/system/node/node0/cpulist)
c1=$(cat /sys/devices/system/node/node1/cpulist)
echo "pmem0 on node $n0, pmem1 on node $n1; node 0 CPUs $c0, node 1 CPUs $c1"
[ "$n0" = 0 ] && [ "$n1" = 1 ] || fail "want one pmem per node"
c0=${c0%%[-,]*}
c1=${c1%%[-,]*}
zufs_load
"$ZUSD" -p "$PLUGIN" --pidfile /run/zusd.pid || fail "zusd did not start"
mkdir -p $MNT
"$MKFS" -f -q -i 2048 /dev/pmem0 /dev/pmem1 || fail "mkfs"
mount -t zpmfs /dev/pmem0 $MNT || fail "mount: $(dmesg | tail -3)"

# share CPU FILE: percent of FILE's blocks on the member of CPU's node
share() {
	python3 "$MEMBERS" --node-of-cpu "$1" --member-nodes "$n0,$n1" \
		/dev/pmem0 "$2" | tee -a /tmp/shares |
		sed -n 's/.* local=\([0-9.]*\).*/\1/p'
}

echo "== two writers, one per node, at the same time"
for j in 0 1; do
	cpu=$([ $j = 0 ] && echo "$c0" || echo "$c1")
	taskset -c "$cpu" bash -c "for f in 1 2 3 4; do
		head -c \$((4 << 20)) /dev/urandom >$MNT/job$j.\$f || exit 1
	done" &
done
wait || fail "a writer failed"
sync
for j in 0 1; do
	cpu=$([ $j = 0 ] && echo "$c0" || echo "$c1")
	for f in 1 2 3 4; do
		s=$(share "$cpu" $MNT/job$j.$f)
		python3 -c "import sys; sys.exit(float('$s') < 95)" ||
			fail "job $j file $f: only $s % of its blocks on its node"
	done
done
cat /tmp/shares

echo "== node 1's member full: its writer spills onto node 0's"
taskset -c "$c1" head -c $((40 << 20)) /dev/urandom >/tmp/spill
taskset -c "$c1" cp /tmp/spill $MNT/spill || fail "spill write"
sync
line=$(python3 "$MEMBERS" /dev/pmem0 $MNT/spill)
echo "   $line"
m0=$(echo "$line" | sed -n 's/.* m0=\([0-9]*\).*/\1/p')
m1=$(echo "$line" | sed -n 's/.* m1=\([0-9]*\).*/\1/p')
[ "${m1:-0}" -gt 0 ] && [ "${m0:-0}" -gt 0 ] ||
	fail "40 MiB from node 1 did not fill pmem1 and spill to pmem0: $line"
# node 1's member is (nearly) full: the local share is what it had room for
umount $MNT || fail "umount"
mount -t zpmfs /dev/pmem1 $MNT || fail "mount by pmem1"
cmp /tmp/spill $MNT/spill || fail "spill reads back wrong"
umount $MNT || fail "umount 2"
"$TOP/build/bin/fsck.zpmfs" /dev/pmem0 /dev/pmem1 || fail "fsck"

kill -TERM "$(cat /run/zusd.pid)"
sleep 1
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
