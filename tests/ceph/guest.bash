# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the zceph VM cases (tests/vm/cases/7[0-3]-ceph-*.sh) after
# tests/vm/lib.sh, tests/vm/bin/zpmfs-env.sh and tests/ceph/shared.bash:
# a throwaway cluster on the guest's own loopback, zuf.ko, zusd with the
# zceph plugin and its mounts.
#
#   zceph_guest_cluster [ARGS]   scripts/ceph-cluster.sh start /tmp/cluster
#                                ARGS (e.g. --osds 1 --memstore); sets conf
#   zceph_start_zusd             zusd -f -p zceph.so in the background (pid)
#   zceph_guest_up MNT...        the cluster's first mount on each MNT
#                                (the first as the default client, the
#                                others as client.admin), zusd started
#   zceph_guest_down MNT...      umount them (in reverse), stop zusd, stop
#                                the cluster, check the kernel log
#   lap WHAT                     "WHAT: N s" since the previous lap
#
# Skips unless ZUFS_TEST_CEPH=1 (make test-ceph), zceph.so is built and
# the Ceph daemons are installed.

PLUGIN=$TOP/build/plugins/zceph.so
BIN=$TOP/build/bin
ZUSD_LOG=/tmp/zusd.log
pid=
t=$SECONDS

[ "${ZUFS_TEST_CEPH:-0}" = 1 ] ||
	skip "a cluster in the guest takes minutes: ZUFS_TEST_CEPH=1 (make test-ceph)"
[ -f "$PLUGIN" ] || skip "zceph.so not built (libcephfs-dev)"
command -v ceph-osd >/dev/null || skip "Ceph daemons not installed (scripts/deps.sh --ceph)"

lap() { echo "$1: $((SECONDS - t)) s"; t=$SECONDS; }

zceph_start_zusd() {
	"$BIN/zusd" -f -p "$PLUGIN" >>"$ZUSD_LOG" 2>&1 &
	pid=$!
}

# a TCG guest runs mon, mgr, OSDs and MDS on two emulated CPUs: minutes
zceph_guest_cluster() {
	conf=$(CEPH_WAIT=900 CEPH_CMD_TIMEOUT=300 CEPH_VERBOSE=1 \
		"$TOP/scripts/ceph-cluster.sh" start /tmp/cluster "$@") || {
		tail -n 20 /tmp/cluster/log/*.log 2>/dev/null | tail -n 60
		fail "the cluster did not start in the guest after $((SECONDS - t)) s"
	}
	lap "guest cluster HEALTH_OK"
}

zceph_guest_up() {
	local m opts=
	zufs_load
	mkdir -p /sys/fs/zuf
	awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf
	zceph_start_zusd
	wait_registered zceph || fail "zusd did not register: $(cat "$ZUSD_LOG")"
	# a re-attach reconnects to the cluster: far more than the 30 s
	# default under TCG
	for m in "$@"; do
		mkdir -p "$m"
		mount -t zceph -o "conf=$conf$opts,reattach_timeout=600" none "$m" ||
			fail "mount zceph on $m: $(tail -3 "$ZUSD_LOG")"
		opts=,name=admin
	done
	grep zceph /proc/mounts
	lap "$# mount(s)"
}

zceph_guest_down() {
	local i
	for ((i = $#; i > 0; i--)); do
		umount "${!i}" || fail "umount ${!i}"
	done
	kill "$pid"
	wait "$pid" 2>/dev/null
	grep -iE "reclaim|re-attach" "$ZUSD_LOG" | tail -4
	"$TOP/scripts/ceph-cluster.sh" stop /tmp/cluster
	check_dmesg_clean || fail "kernel log"
}
