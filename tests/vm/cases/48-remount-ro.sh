#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 240
# SPDX-License-Identifier: BSD-3-Clause
# zpmfs -o errors=remount-ro: once it finds corruption it refuses changes,
# and so must the kernel, also for overwrites it would serve from its
# cached block maps without asking the server (those used to go on
# succeeding).  A block pointer of one file is corrupted on the device
# behind the mounted filesystem; reading that file trips zpmfs, which
# tells the kernel (ZUFS_IOC_SB_RDONLY).  A cached overwrite of another,
# already open file must then fail with EROFS.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm

zpmfs_up errors=remount-ro
dd if=/dev/urandom of="$MNT/a" bs=64k count=4 conv=fsync status=none ||
	fail "writing a"
dd if=/dev/zero of="$MNT/a" bs=4k count=1 conv=notrunc,fsync status=none ||
	fail "overwriting a (its map is now cached)"
echo hello >"$MNT/b" && sync || fail "writing b"
ino=$(stat -c %i "$MNT/b")
exec 7<>"$MNT/a" || fail "open a"
echo 2 >/proc/sys/vm/drop_caches	# b's inode and block map leave the kernel

# b's inode: map_root at byte 96 of inode (ino - 1) of the inode table
python3 - /dev/pmem0 "$ino" <<'PY' || fail "corrupting b's block map"
import mmap, os, struct, sys
dev, ino = sys.argv[1], int(sys.argv[2])
fd = os.open(dev, os.O_RDWR | os.O_DIRECT | os.O_SYNC)
buf = mmap.mmap(-1, 4096)
os.preadv(fd, [buf], 4096)                        # the superblock
itable_start, = struct.unpack_from("<Q", buf, 120)
off = itable_start * 4096 + (ino - 1) * 256
blk = off & ~4095
os.preadv(fd, [buf], blk)
struct.pack_into("<Q", buf, (off - blk) + 96, 0x7fffffffff)
os.pwritev(fd, [buf], blk)
PY
cat "$MNT/b" >/dev/null 2>&1	# zpmfs finds the bad pointer
grep -q "now read-only" "$ZUSD_LOG" || fail "zpmfs did not notice: $(tail -3 "$ZUSD_LOG")"
out=$(python3 -c '
import os, errno
try:
    os.pwrite(7, b"x" * 4096, 8192)
    print("write succeeded")
except OSError as e:
    print(errno.errorcode[e.errno])')
[ "$out" = EROFS ] || fail "cached overwrite after zpmfs went read-only: $out, want EROFS"
touch "$MNT/c" 2>/dev/null && fail "creating a file on the read-only mount worked"
grep -q " $MNT .*\bro\b" /proc/mounts || fail "the mount does not show ro: $(grep " $MNT " /proc/mounts)"
dmesg | grep -q "read-only now" || fail "no kernel log line"
exec 7>&-
zpmfs_stop
check_dmesg_clean || fail "kernel log"
pass
