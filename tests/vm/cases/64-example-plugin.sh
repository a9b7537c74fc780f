#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 300
# SPDX-License-Identifier: BSD-3-Clause
# zufs installed like a real filesystem, in the guest: `make install` to
# /usr/local with the example plugin (examples/ramfs, type zramfs) built
# out of tree against the installed headers with pkg-config and installed
# into the plugin directory; the installed zusd started with no -p (it
# must find all three types there); then zramfs and, made by `mkfs -t
# zpmfs`, zpmfs mounted through zuf.ko, a quick POSIX subset on zramfs.
. "$(dirname "$0")/../lib.sh"
require_vm
[ -b /dev/pmem0 ] || skip "no /dev/pmem0 (run with --pmem)"
unset MAKEFLAGS MAKELEVEL MFLAGS ZUS_PLUGINS
PFX=/usr/local
PD=$PFX/lib/zufs/plugins
STAGE=$TOP/build/test-install/stage

# host/50-install stages `make install` DESTDIR=build/test-install/stage
# with the example built against it and installed into it.  Use that when
# it holds what the build tree holds now (make and gcc under TCG take a
# minute); else make the same here.
fresh_stage() {
	local f
	[ -f "$STAGE$PD/zramfs.so" ] || return 1
	cmp -s "$TOP/build/bin/zusd" "$STAGE$PFX/sbin/zusd" || return 1
	cmp -s "$TOP/build/lib/libzus.so.1.0.0" "$STAGE$PFX/lib/libzus.so.1.0.0" || return 1
	for f in zpmfs zpassthrough; do
		cmp -s "$TOP/build/plugins/$f.so" "$STAGE$PD/$f.so" || return 1
	done
	for f in "$TOP"/examples/ramfs/*.[ch] "$TOP"/zus/include/zus.h \
		 "$TOP"/include/zufs_api.h; do
		[ "$f" -ot "$STAGE$PD/zramfs.so" ] || return 1
	done
}
if ! fresh_stage; then
	echo "# no fresh stage from host/50-install: installing here"
	STAGE=/tmp/stage
	# -o user: built on the host already
	make -s -C "$TOP" -o user install DESTDIR=$STAGE >/tmp/install.log 2>&1 ||
		{ tail -20 /tmp/install.log; fail "make install"; }
	# -O0: gcc under TCG is slow; this is about how it builds
	PKG_CONFIG_PATH=$STAGE$PFX/lib/pkgconfig PKG_CONFIG="pkg-config --define-prefix" \
		make -s -C "$TOP/examples/ramfs" O=/tmp/ex CFLAGS=-O0 install \
		>/tmp/ex.log 2>&1 || { cat /tmp/ex.log; fail "example plugin"; }
fi
# the package goes in (the guest's root is an overlay: gone with it)
cp -a "$STAGE$PFX/." $PFX/ || fail "copy the staged install to $PFX"
for f in $PFX/sbin/zusd $PD/zpmfs.so $PD/zramfs.so; do
	[ -e "$f" ] || fail "staged install incomplete: no $f"
done
echo "# installed: ${SECONDS}s"

zufs_load
mkdir -p /sys/fs/zuf /mnt/zr /mnt/zp
awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf ||
	fail "mount zuf-root"
PATH=$PFX/sbin:$PATH
[ "$(command -v zusd)" = $PFX/sbin/zusd ] || fail "zusd not the installed one"
zusd -f >/tmp/zusd.log 2>&1 &
pid=$!
for t in zramfs zpmfs zpassthrough; do
	for _ in $(seq 100); do
		grep -qw "$t" /proc/filesystems && break
		sleep 0.1
	done
	grep -qw "$t" /proc/filesystems ||
		fail "installed zusd did not register $t: $(cat /tmp/zusd.log)"
done

# zramfs: options reach the plugin, a bad one is refused by it
mount -t zramfs -o bogus none /mnt/zr 2>/dev/null && fail "unknown option taken"
dmesg | grep -q "unknown option 'bogus'" || fail "no kernel log line for the bad option"
mount -t zramfs -o size=256m none /mnt/zr || fail "mount zramfs: $(dmesg | tail -3)"
grep -q " /mnt/zr zramfs rw,.*size=268435456" /proc/mounts ||
	fail "mount options: $(grep /mnt/zr /proc/mounts)"
[ "$(stat -f -c '%S %b' /mnt/zr)" = "4096 65536" ] ||
	fail "statfs: $(stat -f -c '%S %b' /mnt/zr)"
# a quick subset of the POSIX suite (host/51-example-fuse runs it all)
"$TOP/build/bin/posix-test" -o rename,link,symlink,xattr,dir_nlink,rmdir_notempty \
	-o rw_sizes,rw_hole,pread_pwrite,truncate_down_up,readdir_modify,tmpfile /mnt/zr >/tmp/posix.log 2>&1
grep -v '^ok ' /tmp/posix.log
tail -1 /tmp/posix.log | grep -Eq '^[1-9][0-9]* passed, 0 failed' ||
	fail "posix-test on zramfs through zuf"
echo "# posix-test: ${SECONDS}s"
head -c 3M /dev/urandom >/tmp/ref
cp /tmp/ref /mnt/zr/f
echo 3 >/proc/sys/vm/drop_caches
cmp -s /tmp/ref /mnt/zr/f || fail "data through zuf"
umount /mnt/zr || fail "umount zramfs"

# the installed zpmfs tools as mkfs -t / fsck -t run them
mkfs -t zpmfs -q -f /dev/pmem0 || fail "mkfs -t zpmfs"
mount -t zpmfs /dev/pmem0 /mnt/zp || fail "mount zpmfs: $(dmesg | tail -3)"
cp /tmp/ref /mnt/zp/f || fail "write to zpmfs"
umount /mnt/zp || fail "umount zpmfs"
fsck -t zpmfs /dev/pmem0 >/tmp/fsck.log 2>&1 || { cat /tmp/fsck.log; fail "fsck -t zpmfs"; }

kill "$pid"
wait "$pid"
check_dmesg_clean || fail "kernel log"
pass
