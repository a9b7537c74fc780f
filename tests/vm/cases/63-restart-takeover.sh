#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 300
# SPDX-License-Identifier: BSD-3-Clause
# Live upgrade (issue 12): `zusd --takeover` replaces the running zusd
# under load (zstress, a held-open file written and fsynced in a loop):
# the old one exits cleanly, the mount moves to the new one, no
# application sees an error, acknowledged data is all there, fsck is
# clean.  The longest write+fsync the writer saw is the stall ("stall:"
# line).  Twice, so that a taken-over server is taken over again.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
. "$TOP/tests/vm/bin/restart-load.sh"
require_vm
[ -x "$TOP/build/bin/zstress" ] || skip "zstress not built"
ZUSD_LOG=/tmp/zusd-takeover.log

zpmfs_up
load_start "$MNT" 16
sleep 3
for round in 1 2; do
	old=$ZUSD_PID
	log=/tmp/zusd-new$round.log
	"$TOP/build/bin/zusd" -f --takeover -p "$TOP/build/plugins/zpmfs.so" >"$log" 2>&1 &
	ZUSD_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -q "re-attached zpmfs" "$log" && break
		kill -0 "$ZUSD_PID" 2>/dev/null || fail "new zusd exited: $(cat "$log")"
		sleep 0.05
	done
	grep -q "re-attached zpmfs" "$log" || {
		grep . /proc/"$old"/task/*/wchan /proc/"$old"/task/*/comm >&2
		fail "no re-attach: $(tail -5 "$log"); old: $(tail -5 "$ZUSD_LOG"); $(dmesg | grep zuf: | tail -3)"
	}
	wait "$old"
	rc=$?
	[ $rc -eq 0 ] || fail "the old zusd exited with $rc"
	echo "takeover $round: old zusd exited cleanly"
	sleep 3
done
load_stop takeover
zpmfs_stop
zpmfs_fsck "after two takeovers under load"
check_dmesg_clean || fail "kernel log"
pass
