#!/bin/bash
# vm: --cpus 2 --mem 6G --timeout 3000
# SPDX-License-Identifier: BSD-3-Clause
# The rest of posix-test through zuf.ko on zceph (make test-ceph): every
# group vm/70 does not run (at, readdir with readdir_big, attr, time, rw,
# special, sync, space, falloc, copy, caps, tmpfile, mmap, reflink) plus
# namei's many_lookups, against a one-OSD (memstore) cluster on the
# guest's loopback, EXDEV against a second mount; with vm/70's groups
# that is the whole suite.  The exclusions are the bridge run's
# (tests/ceph/shared.bash says why); posix-test prints why it skips what
# CephFS lacks.  One posix-test run per group, each timed.  Every create
# and unlink is an MDS round trip of tens of ms in the emulated guest:
# on a busy host, ZUFS_CEPH_SCALE=25 runs the tests that fill a directory
# with thousands of entries (the readdir group, many_lookups) with that
# percent of them (posix-test -S: at least 50 entries each, the same
# checks; default 100, all of them: 9.3 min on a quiet host);
# readdir_big has ZUFS_CEPH_BIG (default 500) entries (README "zceph"
# has the times).
# ZUFS_CEPH_PROFILE=1: zusd logs every op (zusctl debug zceph +all) and
# each group prints its ops (count, server time) and the MDS's request
# count and mean reply latency: where a slow group's time goes.
# ZUFS_CEPH_GROUPS="g1 g2": only those groups (or tests).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
. "$TOP/tests/ceph/shared.bash"
require_vm
. "$TOP/tests/ceph/guest.bash"
MNT=/mnt/zceph
MNT2=/mnt/zceph2
GROUPS_73=${ZUFS_CEPH_GROUPS:-at readdir attr time rw special sync space falloc copy caps tmpfile mmap reflink many_lookups}
PROFILE=${ZUFS_CEPH_PROFILE:-0}

# the MDS's "requests answered, mean reply latency" counters
mds_reply() {
	ceph --admin-daemon /tmp/cluster/run/mds.a.asok perf dump mds 2>/dev/null |
		python3 -c 'import json, sys
l = json.load(sys.stdin)["mds"]["reply_latency"]
print(l["avgcount"], l["sum"])'
}

# ops zusd logged since line $1 of its log: count and server time per op
op_profile() {
	tail -n +"$1" "$ZUSD_LOG" | awk '
	/zceph: ch [0-9]+ seq [0-9]+ [A-Z_]+ -> / {
		n[$6]++; us[$6] += substr($9, 2); tn++; tus += substr($9, 2)
	}
	END {
		for (o in n)
			printf "  %-11s %7d ops %9.1f ms server time, %7.0f us mean\n",
			       o, n[o], us[o] / 1000, us[o] / n[o]
		printf "  %-11s %7d ops %9.1f ms server time\n", "all", tn, tus / 1000
	}'
}

zceph_guest_cluster --osds 1 --memstore
zceph_guest_up "$MNT" "$MNT2"
if [ "$PROFILE" = 1 ]; then
	"$BIN/zusctl" debug zceph +all || fail "zusctl debug"
fi

failed=
for g in $GROUPS_73; do
	line=$(($(wc -l <"$ZUSD_LOG") + 1))
	[ "$PROFILE" = 1 ] && read -r r0 l0 < <(mds_reply)
	s=$(date +%s%N)
	"$BIN/posix-test" -o "$g" -n "${ZUFS_CEPH_BIG:-500}" \
		-S "${ZUFS_CEPH_SCALE:-100}" -x "$CEPH_POSIX_EXCLUDE" -m "$MNT2" "$MNT" \
		>/tmp/posix.$g.log 2>&1
	rc=$?
	grep -v '^ok ' /tmp/posix.$g.log
	tail -1 /tmp/posix.$g.log | grep -Eq '^[0-9]+ passed, 0 failed' || rc=1
	echo "group $g: $((($(date +%s%N) - s) / 1000000)) ms"
	if [ "$PROFILE" = 1 ]; then
		op_profile "$line"
		read -r r1 l1 < <(mds_reply)
		awk -v n=$((r1 - r0)) -v a="$l0" -v b="$l1" 'BEGIN {
			printf "  MDS: %d requests, mean reply latency %.2f ms\n",
			       n, n ? (b - a) * 1000 / n : 0 }'
	fi
	[ $rc = 0 ] || failed="$failed $g"
done
[ -z "$failed" ] || fail "posix-test on zceph through zuf:$failed"
lap "posix-test"

zceph_guest_down "$MNT" "$MNT2"
pass
