#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# zus-fuse unmounts cleanly on SIGTERM and SIGINT, in the foreground and
# as a daemon, and what was written before the signal is there after a
# remount (the plugin's umount ran).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
BIN=$BUILD/bin

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (allow_other)"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
for d in fs/zpmfs fs/passthrough fuse; do
	[ -f "$TOP/$d/Makefile" ] && make -s -C "$TOP/$d" >/dev/null
done
for b in zus-fuse mkfs.zpmfs; do
	[ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
done

tmp=$(mktemp -d)
mnt=$tmp/mnt
pid=
cleanup() {
	mountpoint -q "$mnt" && fusermount3 -u "$mnt"
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

wait_mounted() {
	for _ in $(seq 100); do
		mountpoint -q "$mnt" && return 0
		sleep 0.1
	done
	return 1
}

# Background jobs of a script start with SIGINT ignored, and libfuse
# (rightly) leaves an ignored signal alone: give them the default back.
ZF=(env --default-signal=INT "$BIN/zus-fuse")

# signal the foreground zus-fuse (our child); it must exit 0, unmounted
signal_fg() {
	local sig=$1 rc
	shift
	"${ZF[@]}" -f "$@" "$mnt" &
	pid=$!
	wait_mounted || fail "mount for $sig"
	echo "before $sig" >"$mnt/f-$sig"
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	pid=
	[ $rc = 0 ] || fail "exit status $rc after $sig"
	mountpoint -q "$mnt" && fail "still mounted after $sig"
	grep -q " $mnt " /proc/mounts && fail "in /proc/mounts after $sig"
	return 0
}

# the daemon is no child of ours: find it by its mount point
daemon_pid() {
	pgrep -f -x -- "$BIN/zus-fuse .* $mnt" | head -1
}

signal_daemon() {
	local sig=$1 dpid
	shift
	"${ZF[@]}" "$@" "$mnt" || fail "daemon mount exit status"
	mountpoint -q "$mnt" || fail "daemon returned before the mount was up"
	dpid=$(daemon_pid)
	[ -n "$dpid" ] || fail "daemon process not found"
	echo "daemon $sig" >"$mnt/d-$sig"
	kill -s "$sig" "$dpid"
	for _ in $(seq 100); do
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$dpid" 2>/dev/null && fail "daemon still running after $sig"
	mountpoint -q "$mnt" && fail "still mounted after daemon $sig"
	return 0
}

mkdir "$mnt" "$tmp/back"
"$BIN/mkfs.zpmfs" -q -s 64M "$tmp/img" || fail "mkfs.zpmfs"
zpm=(-t zpmfs "$tmp/img")
pt=(-t zpassthrough -o "backing=$tmp/back" none)

signal_fg TERM "${zpm[@]}"
signal_fg INT "${zpm[@]}"
signal_daemon TERM "${zpm[@]}"
signal_fg TERM "${pt[@]}"
signal_daemon INT "${pt[@]}"

# busy mount: an open file does not keep SIGTERM from unmounting
"$BIN/zus-fuse" -f "${zpm[@]}" "$mnt" &
pid=$!
wait_mounted || fail "mount (busy)"
exec 3>"$mnt/busy"
echo busy >&3
kill -TERM "$pid"
wait "$pid" || fail "exit status with a busy mount"
pid=
exec 3>&-
mountpoint -q "$mnt" && fail "busy mount not detached"

# everything written before the signals is there
"$BIN/zus-fuse" -f "${zpm[@]}" "$mnt" &
pid=$!
wait_mounted || fail "remount"
for s in TERM INT; do
	[ "$(cat "$mnt/f-$s")" = "before $s" ] || fail "zpmfs lost f-$s"
done
[ "$(cat "$mnt/d-TERM")" = "daemon TERM" ] || fail "zpmfs lost d-TERM"
[ "$(cat "$mnt/busy")" = busy ] || fail "zpmfs lost the busy file"
fusermount3 -u "$mnt"
wait "$pid" || fail "exit status after fusermount3 -u"
pid=
[ "$(cat "$tmp/back/d-INT")" = "daemon INT" ] || fail "passthrough lost d-INT"
echo PASS
