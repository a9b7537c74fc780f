#!/bin/bash
# vm: --cpus 2 --mem 6G --timeout 2400
# SPDX-License-Identifier: BSD-3-Clause
# zceph through zuf.ko: a one-OSD (memstore) throwaway Ceph cluster on the
# guest's own loopback (the guest has no network), HEALTH_OK, then two
# `mount -t zceph` of the same CephFS (two libcephfs clients in one zusd):
#  - the posix suite's namespace groups (namei, link, symlink, xattr, dir,
#    rename, perm) with the bridge run's exclusions (tests/ceph), EXDEV
#    against the second mount; the other groups are vm/73's (the whole
#    suite in one case would take most of an hour under TCG: every op is
#    a round trip to a mon, MDS and OSD emulated in the same guest);
#  - names one mount removes or renames leave the other's dentry cache
#    (the invalidate_name service), data one writes the other reads;
#  - zfsx and zstress (shorter than on zpmfs: every op is an MDS or OSD
#    round trip in an emulated CPU);
#  - zusd killed (-9) under a writer and started again: the mounts
#    re-attach (a new CephFS session reclaims the dead one's), the writer
#    sees no error and every byte it fsynced is there.
# Each step prints its duration.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
. "$TOP/tests/ceph/shared.bash"
require_vm
. "$TOP/tests/ceph/guest.bash"
MNT=/mnt/zceph
MNT2=/mnt/zceph2
CEPH_WITHIN_S=20

zceph_guest_cluster --osds 1 --memstore
zceph_guest_up "$MNT" "$MNT2"

"$BIN/posix-test" -o namei,link,symlink,xattr,dir,rename,perm \
	-x "$CEPH_POSIX_EXCLUDE,many_lookups" -m "$MNT2" "$MNT" >/tmp/posix.log 2>&1
rc=$?
grep -v '^ok ' /tmp/posix.log
tail -1 /tmp/posix.log | grep -Eq '^[0-9]+ passed, 0 failed' || rc=1
[ $rc = 0 ] || fail "posix-test on zceph"
lap "posix-test"

# the other mount's names and data
d=$MNT/two
mkdir "$d" || fail "mkdir"
echo gone >"$d/gone"
echo old >"$d/old"
within "names of one mount in the other" same "$MNT2/two/old" old
stat "$MNT2/two/gone" >/dev/null || fail "stat in the second mount"
rm "$d/gone"
within "an unlink in the other mount" absent "$MNT2/two/gone"
mv "$d/old" "$d/new"
within "a rename in the other mount (new name)" same "$MNT2/two/new" old
head -c 4M /dev/urandom >/tmp/ref
cp /tmp/ref "$d/data" && sync "$d/data" || fail "write through zuf"
within "4 MiB of one mount in the other" cmp -s /tmp/ref "$MNT2/two/data"
rm -rf "$d"
lap "two mounts see each other"

# CephFS has no allocating fallocate nor zero range: -F -Z
"$BIN/zfsx" -F -Z -N "${ZFSX_OPS:-1000}" -S 1 "$MNT/fsx" >/tmp/zfsx.log 2>&1 ||
	{ tail -30 /tmp/zfsx.log; fail "zfsx"; }
tail -1 /tmp/zfsx.log
rm -f "$MNT/fsx"
lap "zfsx"
mkdir "$MNT/stress"
"$BIN/zstress" -q -p 4 -d 10 -s 1 -w 120 "$MNT/stress" >/tmp/zstress.log 2>&1 ||
	{ tail -40 /tmp/zstress.log; fail "zstress"; }
grep -E '^zstress: (done after|[0-9]+ failures)' /tmp/zstress.log
rm -rf "$MNT/stress" || fail "removing the stress tree"
lap "zstress"

# zusd -9 under a writer that fsyncs each block, then started again
head -c 4M /dev/urandom >/tmp/ref8
(
	for i in $(seq 0 31); do
		dd if=/tmp/ref8 of="$MNT/w" bs=128k skip="$i" seek="$i" count=1 \
			conv=notrunc,fsync status=none || exit 1
	done
) &
writer=$!
sleep 2
kill -KILL "$pid"
wait "$pid" 2>/dev/null
zceph_start_zusd
wait "$writer" || fail "the writer saw an error across the zusd restart"
grep -q "re-attached zceph" "$ZUSD_LOG" || fail "no re-attach: $(tail -5 "$ZUSD_LOG")"
cmp /tmp/ref8 "$MNT/w" || fail "data written across the restart differs"
cmp /tmp/ref8 "$MNT2/w" || fail "the second mount reads other data after the restart"
rm "$MNT/w"
lap "zusd kill -9 and restart under a writer"

zceph_guest_down "$MNT" "$MNT2"
pass
