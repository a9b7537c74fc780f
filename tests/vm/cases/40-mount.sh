#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --pmem 256M --timeout 300
# Mount zpmfs end to end: df, /proc/mounts, remount ro/rw, umount; then the
# ways a mount must fail cleanly: unknown option, a device that is not
# zufs, a corrupt table (random bytes, bad csum), another fs type, a
# member size the device does not have, a device without DAX (sets:
# 65-multidev).
. "$(dirname "$0")/../lib.sh"
require_vm
ZUSD=$TOP/build/bin/zusd
PLUGIN=$TOP/build/plugins/zpmfs.so
MKFS=$TOP/build/bin/mkfs.zpmfs
DEV=/dev/pmem0
MNT=/mnt/zp
[ -x "$ZUSD" ] || fail "$ZUSD not built"
[ -f "$PLUGIN" ] && [ -x "$MKFS" ] || skip "zpmfs not built yet"
[ -b $DEV ] || fail "no $DEV"
[ -n "${ZUFS_KO:-}" ] && { insmod "$ZUFS_KO" || fail "insmod $ZUFS_KO"; }
zufs_load
"$ZUSD" -p "$PLUGIN" --pidfile /run/zusd.pid || fail "zusd did not start"
mkdir -p $MNT

# try_mount OPTIONS: prints the errno name of mount(2), or "ok"
try_mount() {
	python3 - "$1" <<'PY'
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(b"/dev/pmem0", b"/mnt/zp", b"zpmfs", 0, sys.argv[1].encode())
print("ok" if r == 0 else errno.errorcode[ctypes.get_errno()])
PY
}

# table_edit PYTHON-STATEMENTS: edit the device table (bytearray t) and
# store it with a correct zlib crc32, as a careful liar would
table_edit() {
	python3 - "$1" <<'PY'
import struct, sys, zlib
with open("/dev/pmem0", "r+b") as f:
    t = bytearray(f.read(512))
    exec(sys.argv[1])
    t[12:16] = b"\0\0\0\0"
    t[12:16] = struct.pack("<I", zlib.crc32(bytes(t)) & 0xffffffff)
    f.seek(0); f.write(t)
PY
}

expect_fail() { # ERRNO DMESG-TEXT OPTIONS
	local got
	# python/dd wrote the device through its page cache; zuf reads the
	# table through DAX, straight from pmem
	sync
	dmesg -C
	got=$(try_mount "$3")
	[ "$got" = "$1" ] || fail "mount ${3:+-o $3 }: got $got, want $1"
	dmesg | grep -qF "$2" || fail "no '$2' in dmesg: $(dmesg | tail -5)"
	check_dmesg_clean || fail "kernel log after failing mount"
}

"$MKFS" -f -q $DEV || fail "mkfs"
table_edit "pass"	# our crc32 must equal what the kernel computes
mount -t zpmfs $DEV $MNT || fail "mount"
df $MNT | grep -q $MNT || fail "df"
grep " $MNT zpmfs rw" /proc/mounts | grep -q "errors=continue" ||
	fail "/proc/mounts: $(grep $MNT /proc/mounts)"
stat -f -c %T $MNT >/dev/null || fail "statfs"
echo hello >$MNT/f || fail "write"
[ "$(cat $MNT/f)" = hello ] || fail "read back"

mount -o remount,ro $MNT || fail "remount ro"
grep " $MNT zpmfs ro" /proc/mounts >/dev/null || fail "not ro in /proc/mounts"
err=$( (echo x >$MNT/g) 2>&1) && fail "write on ro mount succeeded"
echo "$err" | grep -q "Read-only file system" || fail "ro write: $err"
mount -o remount,rw $MNT || fail "remount rw"
echo x >$MNT/g || fail "write after remount rw"
mount -o remount,nomapcache $MNT || fail "remount nomapcache"
grep " $MNT " /proc/mounts | grep -q nomapcache || fail "nomapcache not shown"
umount $MNT || fail "umount"

expect_fail EINVAL "zuf: pmem0: mount: unknown option 'foo'" foo
mount -t zpmfs $DEV $MNT || fail "mount after a failed mount"
[ "$(cat $MNT/f)" = hello ] || fail "data after remount"
umount $MNT || fail "umount 2"

table_edit "t[32:48] = b'otherfs'.ljust(16, b'\0')"
expect_fail EINVAL "device table belongs to another filesystem type on pmem0" ""
# a second member of no size
table_edit "t[32:48] = b'zpmfs'.ljust(16, b'\0'); t[50:52] = b'\x02\x00'"
expect_fail EINVAL "device table: bad member size on pmem0" ""
table_edit "t[50:52] = b'\x01\x00'; t[64+16:64+24] = (1 << 40).to_bytes(8, 'little')"
expect_fail EINVAL "more blocks than the device has on pmem0" ""
"$MKFS" -f -q $DEV || fail "mkfs 2"
printf '\xa5' | dd of=$DEV bs=1 seek=13 conv=notrunc status=none
expect_fail EINVAL "checksum mismatch" ""
for i in 1 2 3; do
	dd if=/dev/urandom of=$DEV bs=512 count=1 conv=notrunc status=none
	expect_fail EINVAL "no zufs device table on pmem0" ""
	# garbage that has the magic
	printf 'UZFSDEVT' | dd of=$DEV bs=1 conv=notrunc status=none
	expect_fail EINVAL "zuf: pmem0: device table" ""
done
dd if=/dev/zero of=$DEV bs=1M count=4 status=none
expect_fail EINVAL "no zufs device table on pmem0" ""

# a device without DAX
truncate -s 64M /run/img && "$MKFS" -f -q /run/img || fail "mkfs img"
if loop=$(losetup -f --show /run/img 2>/dev/null); then
	dmesg -C
	mount -t zpmfs "$loop" $MNT 2>/dev/null && fail "mounted a loop device"
	dmesg | grep -q "does not support DAX" || fail "no DAX message"
	losetup -d "$loop"
fi

kill -TERM "$(cat /run/zusd.pid)"
sleep 1
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
