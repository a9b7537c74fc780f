#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 300
# SPDX-License-Identifier: BSD-3-Clause
# An umount killed (SIGKILL) while the server has not answered it yet is
# still carried out: the kernel takes the superblock's pmem back right
# after, so an abandoned umount would leave the server with a mount whose
# pmem is gone (and zusd would die of SIGBUS when it touched it).  The
# server stopped (SIGSTOP) holds the umount until SIGCONT.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm

zpmfs_up verbose
dd if=/dev/zero of="$MNT/f" bs=1M count=8 conv=fsync status=none ||
	fail "writing a file"
kill -STOP "$ZUSD_PID"
# umount2() itself, lazily: umount(8) would stat the mount point first and
# be killed there.  The superblock goes away in the syscall's task work:
# sync (given up on the kill), eviction, then the server's umount.
python3 -c 'import ctypes, sys
if ctypes.CDLL(None, use_errno=True).umount2(sys.argv[1].encode(), 2):
	sys.exit("umount2: " + str(ctypes.get_errno()))' "$MNT" &
upid=$!
for ((i = 0; i < 200; i++)); do
	grep -q " $MNT " /proc/mounts || break
	sleep 0.1
done
grep -q " $MNT " /proc/mounts && fail "umount2(MNT_DETACH) did not detach"
sleep 1		# now in the task work, waiting for the stopped server
kill -0 "$upid" 2>/dev/null || fail "umount finished with the server stopped"
kill -KILL "$upid"
sleep 1
kill -CONT "$ZUSD_PID"
wait "$upid"
kill -0 "$ZUSD_PID" 2>/dev/null || fail "zusd died: $(tail -5 "$ZUSD_LOG")"
wait_for_log() {
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q "$1" "$ZUSD_LOG" && return 0
		sleep 0.1
	done
	return 1
}
wait_for_log "unmounted" || fail "the server never unmounted: $(tail -5 "$ZUSD_LOG")"
dmesg | grep -q "server umount failed" && fail "the kernel gave up the umount request"

# the server goes on serving, and stops cleanly
zpmfs_up verbose
echo again >"$MNT/g" || fail "write after the killed umount"
zpmfs_down
kill "$ZUSD_PID"
wait "$ZUSD_PID"
rc=$?
ZUSD_PID=
[ $rc -eq 0 ] || fail "zusd exited with $rc: $(tail -5 "$ZUSD_LOG")"
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
