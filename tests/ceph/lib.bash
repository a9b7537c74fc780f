# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the zceph tests (tests/host/7*-ceph*.sh): a cluster to test
# against, and the posix-test exclusions CephFS's own semantics need.
# Needs TOP and tmp; defines ceph_conf.
#
# ZCEPH_CONF=FILE uses a running cluster (its client.admin keyring must be
# found by FILE, as scripts/ceph-cluster.sh writes it); otherwise a
# throwaway one is started in $tmp/cluster and stopped by ceph_cleanup.

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

ceph_cleanup() {
	[ -n "$ceph_started" ] && "$TOP/scripts/ceph-cluster.sh" stop "$tmp/cluster"
	ceph_started=
}

# posix-test cases whose expectations CephFS's semantics break (also with
# its kernel client): free space (statfs) comes from the monitors' PG
# statistics, seconds late; st_blocks is the size rounded up, so a punched
# hole does not lower it
CEPH_POSIX_EXCLUDE='statvfs_space,unlink_open_space,falloc_punch'
