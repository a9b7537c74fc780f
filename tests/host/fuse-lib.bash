# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the FUSE bridge host tests (tests/host/3*.sh): a temp dir with
# the mount point $mnt, cleanup on exit, fail, and the zus-fuse
# mount/unmount helpers. Needs BIN.

tmp=$(mktemp -d)
mnt=$tmp/mnt
pid=
cleanup() {
	mountpoint -q "$tmp/mnt2" && fusermount3 -u "$tmp/mnt2"
	mountpoint -q "$mnt" && fusermount3 -u "$mnt"
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# zus-fuse in the foreground, in the background: $pid is its own
mount_fuse() {
	"$BIN/zus-fuse" -f "$@" 2>>"$tmp/zus-fuse.log" &
	pid=$!
	for _ in $(seq 100); do
		mountpoint -q "$mnt" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/zus-fuse.log"
	return 1
}
umount_fuse() {
	fusermount3 -u "$mnt" || return 1
	wait "$pid"
	local rc=$?
	pid=
	return $rc
}
