# SPDX-License-Identifier: BSD-3-Clause
# Sourced by tests/ceph/lib.bash and tests/vm/cases/70-ceph-zuf.sh (after
# their own fail()): what the bridge and the zuf runs share.
#
# posix-test cases whose expectations CephFS breaks (also with its kernel
# client): free space (statfs) comes from the monitors' PG statistics,
# seconds late; st_blocks is the size rounded up, so a punched hole does
# not lower it.  And two where libcephfs 16's cached directory attributes
# lag what its MDS did (the plugin answers what libcephfs says; README
# "zceph"): the source parent of a directory renamed elsewhere keeps its
# old subdirectory count (nlink) for this client, and a directory's mtime
# set by utimes just before a mkdir in it stays the old one (cause not
# established).
CEPH_POSIX_EXCLUDE='statvfs_space,unlink_open_space,falloc_punch,rename_cross_dir,dir_times'

# within WHAT CMD...: until CMD succeeds, at most $CEPH_WITHIN_S seconds
# (default 10); prints how long it took, or fails the test
within() {
	local what=$1 t0 i
	shift
	t0=$(date +%s%N)
	for ((i = 0; i < ${CEPH_WITHIN_S:-10} * 20; i++)); do
		if "$@" 2>/dev/null; then
			echo "$what: seen after $((($(date +%s%N) - t0) / 1000000)) ms"
			return 0
		fi
		sleep 0.05
	done
	fail "$what: not seen in ${CEPH_WITHIN_S:-10} s"
}
same() { [ "$(cat "$1")" = "$2" ]; }
absent() { ! stat "$1" >/dev/null 2>&1; }
