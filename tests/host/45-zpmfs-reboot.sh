#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# zpmfs data and namespace survive a reboot on a persistent qemu nvdimm:
# boot 1 makes the filesystem, writes files and a tree, fsyncs one file
# and powers off WITHOUT unmounting (like a crash after fsync returned);
# boot 2 mounts, checks every byte and the tree, runs fsck.zpmfs.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/tmp
img=$(mktemp -u "$PWD/build/tmp/zpmfs-reboot-XXXXXX.img")
trap 'rm -f "$img"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

up='
	set -e
	insmod kernel/zuf/zuf.ko
	build/bin/zusd -p build/plugins/zpmfs.so
	for i in $(seq 100); do grep -qw zpmfs /proc/filesystems && break; sleep 0.1; done
	mkdir -p /mnt/z
'

echo "== boot 1: mkfs, write, fsync, power off without umount"
tests/vm/run --timeout 300 --pmem-file "$img:256M" -- bash -c "$up"'
	build/bin/mkfs.zpmfs -q -f -L reboot /dev/pmem0
	mount -t zpmfs /dev/pmem0 /mnt/z
	mkdir -p /mnt/z/a/b/c
	seq 1 20000 > /mnt/z/a/b/c/numbers
	ln -s c/numbers /mnt/z/a/b/link
	dd if=/dev/zero bs=1M count=8 status=none | tr "\0" "z" > /mnt/z/a/zz
	python3 -c "
import os
fd = os.open(\"/mnt/z/synced\", os.O_CREAT | os.O_WRONLY, 0o640)
os.write(fd, b\"durable after fsync\\n\" * 1000)
os.fsync(fd)
"
	sync
	md5sum /mnt/z/a/b/c/numbers /mnt/z/a/zz /mnt/z/synced | tee /tmp/sums
	echo "boot 1 done"' || fail "boot 1"

echo "== boot 2: mount, verify, fsck"
tests/vm/run --timeout 300 --pmem-file "$img" -- bash -c "$up"'
	mount -t zpmfs /dev/pmem0 /mnt/z
	[ "$(readlink /mnt/z/a/b/link)" = c/numbers ] || { echo "symlink lost"; exit 1; }
	[ "$(seq 1 20000 | md5sum)" = "$(md5sum < /mnt/z/a/b/link)" ] || { echo "numbers differ"; exit 1; }
	[ "$(stat -c %s /mnt/z/a/zz)" = $((8 << 20)) ] || { echo "zz size"; exit 1; }
	[ "$(tr -d z < /mnt/z/a/zz | wc -c)" = 0 ] || { echo "zz content"; exit 1; }
	[ "$(stat -c %a /mnt/z/synced)" = 640 ] || { echo "synced mode"; exit 1; }
	[ "$(grep -c "durable after fsync" /mnt/z/synced)" = 1000 ] || { echo "synced content"; exit 1; }
	umount /mnt/z
	build/bin/fsck.zpmfs /dev/pmem0
	echo "boot 2 verified"' || fail "boot 2"
echo PASS
