#!/bin/bash
# vm: --cpus 2 --mem 6G --timeout 1800
# SPDX-License-Identifier: BSD-3-Clause
# Ceph faults under load through zuf.ko (make test-ceph): a two-OSD
# (memstore, size 2, min_size 1) cluster on the guest's loopback and two
# `mount -t zceph` of its CephFS in one zusd.
#  - the MDS restarted while a creator makes, writes and stats files on
#    a zuf mount: its ops stall until the new MDS is active and the
#    client's session is back, then complete; no error, every file there;
#  - an OSD killed (SIGKILL) while a writer writes and fsyncs 1 MiB
#    records on a zuf mount: I/O stalls until the monitor marks the OSD
#    down and its PGs go on with the other OSD, then continues; no error,
#    every byte read back through both mounts.
# A killed memstore OSD loses its store, so it is not started again; the
# MDS restart comes first (restart-mds waits for HEALTH_OK).
# Each step prints its duration and the longest stall the load saw.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
. "$TOP/tests/ceph/shared.bash"
require_vm
. "$TOP/tests/ceph/guest.bash"
MNT=/mnt/zceph
MNT2=/mnt/zceph2
CC=$TOP/scripts/ceph-cluster.sh

zceph_guest_cluster --osds 2 --memstore
zceph_guest_up "$MNT" "$MNT2"
d=$MNT/faults
mkdir "$d" || fail "mkdir"

# now - $1 in ms
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# wait_load PID SECONDS WHAT: the load must end, and well: a stall that
# never ends fails with what the cluster and the client said
wait_load() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		"$CC" status /tmp/cluster
		ceph --admin-daemon /tmp/cluster/run/mds.a.asok session ls 2>&1 | head -40
		tail -n 30 /tmp/cluster/log/client.log /tmp/cluster/log/mds.a.log
		tail -n 20 "$ZUSD_LOG"
		fail "$3 still stalled after $2 s"
	fi
	wait "$1"
}

# timed_each N WHAT CMD...: CMD... i for i = 0..N-1, stops at the first
# failure (status 1); prints WHAT and the longest run of CMD in ms
timed_each() {
	local n=$1 what=$2 i s e max=0
	shift 2
	for ((i = 0; i < n; i++)); do
		s=$(date +%s%N)
		"$@" "$i" || return 1
		e=$(ms_since "$s")
		((e > max)) && max=$e
	done
	echo "$what $max ms"
}

create_one() { echo "$1" >"$d/n$1" && stat "$d/n$1" >/dev/null; }
write_one() {
	dd if=/tmp/ref of="$d/data" bs=1M skip="$1" seek="$1" count=1 \
		conv=notrunc,fsync status=none
}

timed_each "${CREATES:-100}" "creator: ${CREATES:-100} files, longest create+write+stat" \
	create_one >/tmp/creator.log 2>&1 &
cpid=$!
sleep 3
kill -0 "$cpid" 2>/dev/null || fail "the creator ended before the MDS restart: more CREATES"
s=$SECONDS
CEPH_WAIT=600 CEPH_CMD_TIMEOUT=300 "$CC" restart-mds /tmp/cluster >/dev/null ||
	fail "restart the MDS"
echo "MDS restarted, active again after $((SECONDS - s)) s"
wait_load "$cpid" "${STALL_MAX:-300}" "the creator" || { cat /tmp/creator.log; fail "the creator saw an error across the MDS restart"; }
cat /tmp/creator.log
# every file's data through this mount; a few through the other (each
# read there takes the file's caps from this client: seconds under TCG)
last=$((${CREATES:-100} - 1))
for ((i = 0; i <= last; i++)); do
	[ "$(cat "$d/n$i")" = "$i" ] || fail "n$i lost across the MDS restart"
done
for i in 0 $((last / 2)) $last; do
	[ "$(cat "$MNT2/faults/n$i")" = "$i" ] || fail "n$i differs in the second mount"
done
n=$(ls "$MNT2/faults" | wc -l)
[ "$n" = "${CREATES:-100}" ] || fail "$n names after the MDS restart, want ${CREATES:-100}"
lap "MDS restart under a creator"

head -c 24M /dev/urandom >/tmp/ref
timed_each 24 "writer: longest 1 MiB write+fsync" write_one >/tmp/writer.log 2>&1 &
wpid=$!
sleep 3
kill -0 "$wpid" 2>/dev/null || fail "the writer ended before the OSD kill"
"$CC" kill-osd /tmp/cluster 1 || fail "kill osd.1"
echo "osd.1 killed"
wait_load "$wpid" "${STALL_MAX:-300}" "the writer" || { cat /tmp/writer.log; fail "the writer saw an error with an OSD killed"; }
cat /tmp/writer.log
cmp /tmp/ref "$d/data" || fail "data differs after the OSD kill"
cmp /tmp/ref "$MNT2/faults/data" || fail "the second mount reads other data after the OSD kill"
rm -rf "$d" || fail "removing the test tree with an OSD down"
lap "OSD kill under a writer"

zceph_guest_down "$MNT" "$MNT2"
pass
