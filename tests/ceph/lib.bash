# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the zceph tests (tests/ceph/*.sh, tests/host/70-ceph-smoke.sh)
# after setting TOP and BIN: sources tests/host/fuse-lib.bash (tmp, mnt,
# fail, mount_fuse, ...), and ceph_setup [OSDS] checks what the test needs
# and gives it a cluster (ceph_conf), stopped on exit with the mounts.
# Also the posix-test exclusions CephFS's own semantics need (shared.bash).
#
# ZCEPH_CONF=FILE uses a running cluster (its client.admin keyring must be
# found by FILE, as scripts/ceph-cluster.sh writes it); otherwise a
# throwaway one is started in $tmp/cluster and stopped by ceph_cleanup.

# shellcheck source=tests/host/fuse-lib.bash
. "$TOP/tests/host/fuse-lib.bash"

ceph_need() {
	local b
	for b in ceph-mon ceph-mgr ceph-osd ceph-mds; do
		command -v "$b" >/dev/null || {
			echo "SKIP: $b not installed (scripts/deps.sh --ceph)"
			exit 77
		}
	done
	[ -f "$TOP/build/plugins/zceph.so" ] ||
		{ echo "FAIL: build/plugins/zceph.so not built (libcephfs-dev?)"; exit 1; }
}

ceph_started=
ceph_cluster() {
	if [ -n "${ZCEPH_CONF:-}" ]; then
		ceph_conf=$ZCEPH_CONF
		"$TOP/scripts/ceph-cluster.sh" wait "$(dirname "$ceph_conf")" >/dev/null ||
			{ echo "FAIL: the cluster of $ceph_conf is not HEALTH_OK"; exit 1; }
		return 0
	fi
	local t0=$SECONDS
	ceph_conf=$("$TOP/scripts/ceph-cluster.sh" start "$tmp/cluster" ${CEPH_OSDS:+--osds $CEPH_OSDS}) ||
		{ echo "FAIL: the test cluster did not start"; exit 1; }
	ceph_started=1
	echo "cluster HEALTH_OK after $((SECONDS - t0)) s"
}

ceph_setup() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
	[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
	ceph_need
	trap ceph_exit EXIT
	CEPH_OSDS=${1:-${CEPH_OSDS:-}} ceph_cluster
}

# the mounts (libcephfs's umount needs the cluster), then the cluster, then
# fuse-lib's cleanup (which removes $tmp, the cluster's directory)
ceph_exit() {
	mountpoint -q "$tmp/mnt2" && fusermount3 -u "$tmp/mnt2"
	mountpoint -q "$mnt" && fusermount3 -u "$mnt"
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	ceph_cleanup
	cleanup
}

ceph_cleanup() {
	[ -n "$ceph_started" ] && "$TOP/scripts/ceph-cluster.sh" stop "$tmp/cluster"
	ceph_started=
}

# CEPH_POSIX_EXCLUDE, within, same, absent: shared with vm/70-ceph-zuf
# shellcheck source=tests/ceph/shared.bash
. "$TOP/tests/ceph/shared.bash"
