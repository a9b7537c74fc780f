#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Faults under load through the FUSE bridge: an OSD killed (SIGKILL)
# while a writer writes and fsyncs, then started again; the MDS
# restarted while a creator makes and stats files.  I/O may stall, but
# nothing may fail, and every byte written is read back afterwards.
# Needs a cluster of >= 2 OSDs (tests/ceph/run starts 3, size 2).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BUILD:-$TOP/build}/bin
CC=$TOP/scripts/ceph-cluster.sh

# shellcheck source=tests/ceph/lib.bash
. "$TOP/tests/ceph/lib.bash"
ceph_setup 3
cdir=$(dirname "$ceph_conf")
ls -d "$cdir"/osd.1 >/dev/null 2>&1 || { echo "SKIP: needs >= 2 OSDs"; exit 77; }
mkdir "$mnt"
mount_fuse -t zceph -o "conf=$ceph_conf" none "$mnt" || fail "mount"
d=$mnt/faults.$$
mkdir "$d" || fail "mkdir"

# 40 x 1 MiB records, each fsynced; the longest record is printed
head -c 40M /dev/urandom >"$tmp/ref"
writer() {
	local i s e max=0
	for ((i = 0; i < 40; i++)); do
		s=$(date +%s%N)
		dd if="$tmp/ref" of="$d/data" bs=1M skip=$i seek=$i count=1 \
			conv=notrunc,fsync status=none || return 1
		e=$((($(date +%s%N) - s) / 1000000))
		((e > max)) && max=$e
	done
	echo "writer: longest 1 MiB write+fsync $max ms"
}
writer >"$tmp/writer.log" 2>&1 &
wpid=$!
sleep 2
"$CC" kill-osd "$cdir" 1 || fail "kill osd.1"
echo "osd.1 killed"
wait "$wpid" || { cat "$tmp/writer.log"; fail "the writer failed with an OSD down"; }
cat "$tmp/writer.log"
cmp "$tmp/ref" "$d/data" || fail "data differs after the OSD kill"
"$CC" start-osd "$cdir" 1 || fail "start osd.1 again"

creator() {
	local i
	for ((i = 0; i < 200; i++)); do
		echo "$i" >"$d/n$i" && stat "$d/n$i" >/dev/null || return 1
	done
}
creator >"$tmp/creator.log" 2>&1 &
cpid=$!
sleep 1
s=$SECONDS
CEPH_WAIT=300 "$CC" restart-mds "$cdir" >/dev/null || fail "restart the MDS"
echo "MDS restarted, active again after $((SECONDS - s)) s"
wait "$cpid" || { cat "$tmp/creator.log"; fail "the creator failed across the MDS restart"; }
for i in 0 100 199; do
	[ "$(cat "$d/n$i")" = "$i" ] || fail "n$i lost across the MDS restart"
done
[ "$(ls "$d" | wc -l)" = 201 ] || fail "$(ls "$d" | wc -l) names, want 201"
rm -rf "$d"
umount_fuse || fail "unmount"
CEPH_WAIT=300 "$CC" wait "$cdir" >/dev/null || fail "not HEALTH_OK at the end"
echo "PASS"
