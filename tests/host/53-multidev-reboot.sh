#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A zpmfs over a set of two persistent qemu nvdimms, one per NUMA node,
# survives a reboot: boot 1 makes the set, writes a file bigger than one
# member (so it lives on both) and an fsynced one, and powers off WITHOUT
# unmounting; boot 2 mounts the set by its second member, checks every
# byte, and runs fsck.zpmfs over the set.  Long (two boots): runs with
# ZUFS_TEST_MULTIDEV=1 (make test-multidev), else skips.
set -euo pipefail
if [ "${ZUFS_TEST_MULTIDEV:-0}" != 1 ]; then
	echo "SKIP: two VM boots: make test-multidev (ZUFS_TEST_MULTIDEV=1) runs it"
	exit 77
fi
cd "$(dirname "$0")/../.."
mkdir -p build/tmp
img=$(mktemp -u "$PWD/build/tmp/zpmfs-md-reboot-XXXXXX")
trap 'rm -f "$img".0 "$img".1' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
vm=(tests/vm/run --timeout 400 --numa 2 --cpus 2)

up='
	set -e
	insmod kernel/zuf/zuf.ko
	build/bin/zusd -p build/plugins/zpmfs.so
	for i in $(seq 100); do grep -qw zpmfs /proc/filesystems && break; sleep 0.1; done
	mkdir -p /mnt/z
	echo "pmem0 node $(cat /sys/block/pmem0/device/numa_node), pmem1 node $(cat /sys/block/pmem1/device/numa_node)"
'

echo "== boot 1: mkfs over two nvdimms, write, fsync, power off without umount"
"${vm[@]}" --pmem-file "$img.0:64M" --pmem-file "$img.1:64M" -- bash -c "$up"'
	build/bin/mkfs.zpmfs -q -f -i 2048 /dev/pmem0 /dev/pmem1
	mount -t zpmfs /dev/pmem0 /mnt/z
	seq 1 500000 > /mnt/z/numbers	# ~3 MiB
	dd if=/dev/zero bs=1M count=80 status=none | tr "\0" "z" > /mnt/z/zz
	python3 tests/vm/bin/zmembers.py /dev/pmem0 /mnt/z/zz
	python3 -c "
import os
fd = os.open(\"/mnt/z/synced\", os.O_CREAT | os.O_WRONLY, 0o640)
os.write(fd, b\"durable after fsync\\n\" * 1000)
os.fsync(fd)
"
	sync
	echo "boot 1 done"' || fail "boot 1"

echo "== boot 2: mount by the other member, verify, fsck the set"
"${vm[@]}" --pmem-file "$img.0" --pmem-file "$img.1" -- bash -c "$up"'
	mount -t zpmfs /dev/pmem1 /mnt/z
	grep " /mnt/z " /proc/mounts
	[ "$(seq 1 500000 | md5sum)" = "$(md5sum < /mnt/z/numbers)" ] || { echo "numbers differ"; exit 1; }
	[ "$(stat -c %s /mnt/z/zz)" = $((80 << 20)) ] || { echo "zz size"; exit 1; }
	[ "$(tr -d z < /mnt/z/zz | wc -c)" = 0 ] || { echo "zz content"; exit 1; }
	[ "$(grep -c "durable after fsync" /mnt/z/synced)" = 1000 ] || { echo "synced content"; exit 1; }
	umount /mnt/z
	build/bin/fsck.zpmfs /dev/pmem0 /dev/pmem1
	echo "boot 2 verified"' || fail "boot 2"
echo PASS
