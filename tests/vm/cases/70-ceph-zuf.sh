#!/bin/bash
# vm: --cpus 2 --mem 6G --timeout 1500
# SPDX-License-Identifier: BSD-3-Clause
# zceph through zuf.ko: a one-OSD throwaway Ceph cluster on the guest's own
# loopback (the guest has no network), HEALTH_OK, then
# `mount -t zceph -o conf=...` and the posix suite's namei, rw, symlink,
# xattr, link and dir groups with the data in the ZT window; a second
# mount of the same CephFS reads what the first wrote.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
[ "${ZUFS_TEST_CEPH:-0}" = 1 ] ||
	skip "a cluster in the guest takes ~12 min: ZUFS_TEST_CEPH=1 (make test-ceph)"
PLUGIN=$TOP/build/plugins/zceph.so
[ -f "$PLUGIN" ] || skip "zceph.so not built (libcephfs-dev)"
command -v ceph-osd >/dev/null || skip "Ceph daemons not installed (scripts/deps.sh --ceph)"
MNT=/mnt/zceph
MNT2=/mnt/zceph2

t0=$SECONDS
export CEPH_WAIT=600 CEPH_CMD_TIMEOUT=300
conf=$("$TOP/scripts/ceph-cluster.sh" start /tmp/cluster --osds 1 --memstore) || {
	tail -n 20 /tmp/cluster/log/*.log 2>/dev/null | tail -n 60
	fail "the cluster did not start in the guest after $((SECONDS - t0)) s"
}
echo "guest cluster HEALTH_OK after $((SECONDS - t0)) s"

zufs_load
awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf
"$TOP/build/bin/zusd" -f -p "$PLUGIN" >/tmp/zusd.log 2>&1 &
pid=$!
wait_registered zceph || fail "zusd did not register: $(cat /tmp/zusd.log)"
mkdir -p "$MNT" "$MNT2"
mount -t zceph -o "conf=$conf" none "$MNT" || fail "mount zceph: $(tail -3 /tmp/zusd.log)"
mount -t zceph -o "conf=$conf,name=admin" none "$MNT2" || fail "second mount: $(tail -3 /tmp/zusd.log)"

out=$("$TOP/build/bin/posix-test" -o namei,rw,symlink,xattr,link,dir "$MNT" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -v '^ok '
printf '%s\n' "$out" | tail -1 | grep -Eq '^[0-9]+ passed, 0 failed' || rc=1

head -c 4M /dev/urandom >/tmp/ref
cp /tmp/ref "$MNT/data" && sync "$MNT/data" || fail "write through zuf"
cmp /tmp/ref "$MNT2/data" || fail "the second mount reads other data"
rm "$MNT2/data"
umount "$MNT2" || fail "umount the second mount"
umount "$MNT" || fail "umount"
kill "$pid"
wait "$pid" 2>/dev/null
grep -E "window|data area" /tmp/zusd.log | tail -3
"$TOP/scripts/ceph-cluster.sh" stop /tmp/cluster
[ $rc -eq 0 ] || fail "posix-test on zceph"
check_dmesg_clean || fail "kernel log"
pass
