#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The example plugin (examples/ramfs, type zramfs) the way a user gets it
# running: zufs installed (PREFIX under build/), the example built out of
# tree against it with pkg-config and installed into pkg-config's
# plugindir, then mounted by the *installed* zus-fuse with no -p (its
# default plugin directory is the installed one), the POSIX suite and
# zfsx on it.  About 30 s.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
T=$BUILD/test-install/51
PFX=$T/prefix
unset MAKEFLAGS MAKELEVEL MFLAGS ZUS_PLUGINS

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (allow_other, permission tests)"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
rm -rf "$T"
mkdir -p "$T"

# shellcheck source=tests/host/fuse-lib.bash
. "$TOP/tests/host/fuse-lib.bash"
# PREFIX is compiled into build/lib/libzus (the installed plugin dir):
# rebuild it for the default PREFIX when done
restore() {
	cleanup
	make -s -C "$TOP/zus" >/dev/null 2>&1
	rm -rf "$T"
}
trap restore EXIT

make -s -C "$TOP" install PREFIX="$PFX" >"$T/install.log" 2>&1 ||
	{ tail -20 "$T/install.log"; fail "make install PREFIX=$PFX"; }
export PKG_CONFIG_PATH=$PFX/lib/pkgconfig
make -s -C "$TOP/examples/ramfs" O="$T/ex" install >"$T/ex.log" 2>&1 ||
	{ cat "$T/ex.log"; fail "example plugin build/install"; }
[ -f "$PFX/lib/zufs/plugins/zramfs.so" ] || fail "zramfs.so not in $PFX/lib/zufs/plugins"

BIN=$PFX/sbin
"$BIN/zus-fuse" --help 2>&1 | grep -q "Options of -t zramfs" ||
	fail "installed zus-fuse does not find the installed plugins by default"

mkdir "$mnt" "$tmp/mnt2"
out=$("$BIN/zus-fuse" -f -t zramfs -o bogus none "$mnt" 2>&1) && fail "unknown option taken"
echo "$out" | grep -q "unknown option 'bogus'" || fail "unknown-option message: $out"
mount_fuse -t zramfs -o size=256m none "$mnt" || fail "mount zramfs"
[ "$(stat -f -c '%S %b' "$mnt")" = "4096 65536" ] ||
	fail "statfs does not show size=256m: $(stat -f -c '%S %b' "$mnt")"
grep -q " $mnt fuse.zramfs " /proc/mounts || fail "not a fuse.zramfs mount"
"$BIN/zus-fuse" -t zramfs none "$tmp/mnt2" || fail "second mount"

"$BUILD/bin/posix-test" -n 2000 -m "$tmp/mnt2" "$mnt" >"$T/posix.log" 2>&1
grep -v '^ok ' "$T/posix.log"
tail -1 "$T/posix.log" | grep -Eq '^[0-9]+ passed, 0 failed' || fail "posix-test on zramfs"
fusermount3 -u "$tmp/mnt2" || fail "unmount the second mount"

"$BUILD/bin/zfsx" -N 20000 -S 1 "$mnt/fsx" >"$T/fsx.log" 2>&1 ||
	{ tail -30 "$T/fsx.log"; fail "zfsx on zramfs"; }
tail -1 "$T/fsx.log"

# a tree with every kind of object, then it is gone with the mount
mkdir -p "$mnt/d/e"
head -c 1M /dev/urandom >"$T/ref"
cp "$T/ref" "$mnt/d/e/f"
ln -s e/f "$mnt/d/l"
ln "$mnt/d/e/f" "$mnt/d/h"
mv "$mnt/d/e" "$mnt/d/g"
cmp -s "$T/ref" "$mnt/d/l" && fail "symlink should dangle after the rename"
cmp -s "$T/ref" "$mnt/d/h" || fail "hard link data"
[ "$(stat -c %h "$mnt/d/h")" = 2 ] || fail "link count"
umount_fuse || fail "unmount (zus-fuse exit status)"
mount_fuse -t zramfs none "$mnt" || fail "remount"
[ -z "$(ls -A "$mnt")" ] || fail "a new zramfs mount is not empty"
umount_fuse || fail "second unmount"

rm "$PFX/lib/zufs/plugins/zramfs.so"
make -s -C "$TOP" uninstall PREFIX="$PFX" >"$T/uninstall.log" 2>&1 || fail "make uninstall"
left=$(find "$PFX" ! -type d)
[ -z "$left" ] || fail "left after uninstall: $left"
echo PASS
