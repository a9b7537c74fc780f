#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# zceph through the FUSE bridge, natively on the host, against a real
# cluster: the POSIX suite (EXDEV against a second mount of the same
# CephFS), the zfsx exerciser, zstress, then umount, remount and compare.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BUILD:-$TOP/build}/bin

# shellcheck source=tests/ceph/lib.bash
. "$TOP/tests/ceph/lib.bash"
ceph_setup
mkdir "$mnt" "$tmp/mnt2"
opts=conf=$ceph_conf

# the plugin's mount errors name what is wrong
out=$("$BIN/zus-fuse" -f -t zceph -o "conf=$tmp/nope.conf" none "$mnt" 2>&1) &&
	fail "mounted with a missing ceph.conf"
echo "$out" | grep -q "$tmp/nope.conf" || fail "missing-conf message: $out"
out=$("$BIN/zus-fuse" -f -t zceph -o "$opts,bogus" none "$mnt" 2>&1) && fail "unknown option taken"
echo "$out" | grep -q "unknown option 'bogus'" || fail "unknown-option message: $out"
out=$("$BIN/zus-fuse" -f -t zceph -o "$opts,fs=nosuchfs" none "$mnt" 2>&1) && fail "mounted a missing fs"
echo "$out" | grep -q "nosuchfs" || fail "missing-fs message: $out"

mount_fuse -t zceph -o "$opts" none "$mnt" || fail "mount"
"$BIN/zus-fuse" -t zceph -o "$opts" none "$tmp/mnt2" || fail "second mount"
"$BIN/posix-test" -n 2000 -x "$CEPH_POSIX_EXCLUDE" -m "$tmp/mnt2" "$mnt" >"$tmp/posix.log" 2>&1
prc=$?
grep -v '^ok ' "$tmp/posix.log"
tail -1 "$tmp/posix.log" | grep -Eq '^[0-9]+ passed, 0 failed' || prc=1
[ $prc = 0 ] || fail "posix-test"
fusermount3 -u "$tmp/mnt2" || fail "unmount the second mount"

# CephFS has no allocating fallocate nor zero range: -F -Z.  5000 ops: about
# 2 min on a 3-OSD cluster here (43 ops/s at load 14)
"$BIN/zfsx" -F -Z -N "${ZFSX_OPS:-5000}" -S "${ZFSX_SEED:-1}" "$mnt/fsx" >"$tmp/fsx.log" 2>&1 ||
	{ tail -30 "$tmp/fsx.log"; fail "zfsx"; }
tail -1 "$tmp/fsx.log"

mkdir "$mnt/stress"
"$BIN/zstress" -q -p 4 -d 20 -s 1 -w 60 "$mnt/stress" >"$tmp/zstress.log" 2>&1 ||
	{ tail -40 "$tmp/zstress.log"; fail "zstress"; }
grep -E '^zstress: (done after|[0-9]+ failures)' "$tmp/zstress.log"
rm -rf "$mnt/stress" || fail "removing the stress tree"

# what a umount flushed is there after a remount
head -c 3M /dev/urandom >"$tmp/ref"
mkdir -p "$mnt/keep/sub"
cp "$tmp/ref" "$mnt/keep/sub/data"
ln -s sub/data "$mnt/keep/link"
umount_fuse || fail "unmount (zus-fuse exit status)"
mount_fuse -t zceph -o "$opts" none "$mnt" || fail "remount"
cmp -s "$tmp/ref" "$mnt/keep/sub/data" || fail "data changed over remount"
[ "$(readlink "$mnt/keep/link")" = sub/data ] || fail "symlink lost"
rm -rf "$mnt/keep" "$mnt/fsx"
umount_fuse || fail "final unmount"
echo "PASS"
