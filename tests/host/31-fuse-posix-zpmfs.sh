#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# zpmfs through the FUSE bridge, natively on the host: the POSIX suite,
# the zfsx data exerciser, zstress, then unmount/remount and check what
# persisted; fsck.zpmfs must find each image clean.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
BIN=$BUILD/bin

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (allow_other, permission tests)"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
for d in fs/zpmfs fuse tests/posix tests/fsx; do
	[ -f "$TOP/$d/Makefile" ] && make -s -C "$TOP/$d" >/dev/null
done
for b in zus-fuse mkfs.zpmfs posix-test; do
	[ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
done

# shellcheck source=tests/host/fuse-lib.bash
. "$TOP/tests/host/fuse-lib.bash"

mkdir "$mnt"
"$BIN/mkfs.zpmfs" -q -s 256M "$tmp/img" || fail "mkfs.zpmfs"
mount_fuse -t zpmfs "$tmp/img" "$mnt" || fail "mount"

# a second mount of the same kind, for the EXDEV tests (a daemon)
mkdir "$tmp/mnt2"
"$BIN/mkfs.zpmfs" -q -s 32M "$tmp/img2" || fail "mkfs.zpmfs (second)"
"$BIN/zus-fuse" -t zpmfs "$tmp/img2" "$tmp/mnt2" || fail "second mount"
"$BIN/posix-test" -s -n 20000 -m "$tmp/mnt2" "$mnt" >"$tmp/posix.log" 2>&1
prc=$?
grep -v '^ok ' "$tmp/posix.log"
tail -1 "$tmp/posix.log" | grep -Eq '^[0-9]+ passed, 0 failed' || prc=1
[ $prc = 0 ] || fail "posix-test"
fusermount3 -u "$tmp/mnt2" || fail "unmount the second mount"
# a clean image: no error, no leaked block, no orphan (exit 0)
zpmfs_fsck() {
	local rc
	for _ in $(seq 100); do	# a daemon may still be finishing its umount
		pgrep -f "zus-fuse -t zpmfs $1 " >/dev/null || break
		sleep 0.1
	done
	"$BIN/fsck.zpmfs" "$1" >"$tmp/fsck.log" 2>&1
	rc=$?
	[ $rc = 0 ] || { cat "$tmp/fsck.log"; fail "fsck.zpmfs $2: exit $rc"; }
}
zpmfs_fsck "$tmp/img2" "of the EXDEV mount"

if [ -x "$BIN/zfsx" ]; then
	"$BIN/zfsx" -N 100000 "$mnt/fsx" >"$tmp/fsx.log" 2>&1 ||
		{ tail -30 "$tmp/fsx.log"; fail "zfsx"; }
	tail -1 "$tmp/fsx.log"
else
	echo "note: $BIN/zfsx not built, exerciser part not run"
fi

# concurrent processes on shared names, each checking a private file
if [ -x "$BIN/zstress" ]; then
	mkdir "$mnt/stress"
	"$BIN/zstress" -q -p 4 -d 20 -s 1 -w 120 "$mnt/stress" >"$tmp/zstress.log" 2>&1 ||
		{ tail -40 "$tmp/zstress.log"; fail "zstress"; }
	grep -E '^zstress: (done after|[0-9]+ failures)' "$tmp/zstress.log"
	rm -rf "$mnt/stress" || fail "removing the stress tree"
else
	echo "note: $BIN/zstress not built, stress part not run"
fi

# persistence across unmount/remount
head -c 3M /dev/urandom >"$tmp/ref"
mkdir -p "$mnt/keep/sub"
cp "$tmp/ref" "$mnt/keep/sub/data"
ln -s sub/data "$mnt/keep/link"
sum=$(sha256sum <"$mnt/keep/sub/data")
umount_fuse || fail "unmount (zus-fuse exit status)"
zpmfs_fsck "$tmp/img" "after posix-test, zfsx and zstress"
mount_fuse -t zpmfs "$tmp/img" "$mnt" || fail "remount"
[ "$(sha256sum <"$mnt/keep/sub/data")" = "$sum" ] || fail "data changed over remount"
[ "$(readlink "$mnt/keep/link")" = sub/data ] || fail "symlink lost"
cmp -s "$tmp/ref" "$mnt/keep/link" || fail "data through the symlink"
umount_fuse || fail "second unmount"
zpmfs_fsck "$tmp/img" "after the remount"
echo PASS
