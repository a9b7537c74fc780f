#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# zceph smoke (`make test`): a one-OSD throwaway cluster, HEALTH_OK, the
# plugin through the FUSE bridge: the posix suite's namei, rw, symlink and
# xattr groups, and data written by one mount of the CephFS read by a second
# one after the first unmounted.  The full suites: `make test-ceph`.
# Skips when the Ceph daemons are not installed (scripts/deps.sh --ceph),
# and unless ZUFS_TEST_CEPH=1 (make test-ceph): a cluster start takes
# minutes on this 2-core host, too long for make test's budget.
set -u
if [ "${ZUFS_TEST_CEPH:-0}" != 1 ]; then
	echo "SKIP: the zceph smoke runs with ZUFS_TEST_CEPH=1 (make test-ceph)"
	exit 77
fi
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BUILD:-$TOP/build}/bin

# shellcheck source=tests/ceph/lib.bash
. "$TOP/tests/ceph/lib.bash"
ceph_setup 1
mkdir "$mnt" "$tmp/mnt2"

mount_fuse -t zceph -o "conf=$ceph_conf" none "$mnt" || fail "mount"
"$BIN/posix-test" -o namei,rw,symlink,xattr "$mnt" >"$tmp/posix.log" 2>&1
prc=$?
grep -v '^ok ' "$tmp/posix.log"
tail -1 "$tmp/posix.log" | grep -Eq '^[0-9]+ passed, 0 failed' || prc=1
[ $prc = 0 ] || fail "posix-test"

head -c 1M /dev/urandom >"$tmp/ref"
cp "$tmp/ref" "$mnt/data" || fail "write"
umount_fuse || fail "unmount (zus-fuse exit status)"
"$BIN/zus-fuse" -t zceph -o "conf=$ceph_conf" none "$tmp/mnt2" || fail "second mount"
cmp "$tmp/ref" "$tmp/mnt2/data" || fail "the second mount reads other data"
rm "$tmp/mnt2/data" || fail "unlink"
fusermount3 -u "$tmp/mnt2" || fail "unmount the second mount"
echo "PASS"
