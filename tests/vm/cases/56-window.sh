#!/bin/bash
# vm: --cpus 2 --timeout 900
# SPDX-License-Identifier: BSD-3-Clause
# The old-IO window: zpassthrough (over tmpfs) reads and writes the
# application's own pages, mapped into the serving ZT.  zwin covers odd
# buffers (sizes, alignments, vectors, mappings of zufs files, bad and
# read-only memory, threads) and the kernel-memory paths; zusd's counters
# prove the data went through the window, not the data area.  Then the
# pages' owners go away mid-op: the caller killed while the server holds
# its pages, and the server killed while it holds them; and a lying server.
# The mount's default copy_max (4096) copies 4 KiB I/O instead: the cases
# about the window mount with copy_max=0, and 2c checks the default.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
PLUGIN=$TOP/build/plugins/zpassthrough.so
ZUSD=$TOP/build/bin/zusd
[ -f "$PLUGIN" ] || skip "zpassthrough.so not built"
zvfs_cc zwin

BACK=/tmp/window-back
LOG=/tmp/zusd-window.log
mkdir -p "$BACK" "$MNT"
zufs_load
awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf

# start_zusd [ARGS...]: zusd in the foreground with its log in $LOG
start_zusd() {
	"$ZUSD" -f "$@" -p "$PLUGIN" >"$LOG" 2>&1 &
	pid=$!
	wait_registered zpassthrough ||
		fail "zusd did not register: $(cat "$LOG")"
	# a killed server fails its callers at once (63-restart: re-attach)
	mount -t zpassthrough -o backing="$BACK",reattach_timeout=0${MOPTS:+,$MOPTS} \
		none "$MNT" ||
		fail "mount zpassthrough: $(tail -3 "$LOG")"
}

# stop_zusd: unmount, stop zusd, print its per-channel counters
stop_zusd() {
	umount "$MNT" || fail "umount"
	kill "$pid"
	wait "$pid" 2>/dev/null
	grep "I/O in the window" "$LOG"
}

# sum of one counter over the channels: window | data
io_count() {
	sed -n 's/.*served, \([0-9]*\) I\/O in the window, \([0-9]*\) through.*/\1 \2/p' "$LOG" |
		awk -v col="$1" '{ s += (col == "window" ? $1 : $2) } END { print s + 0 }'
}

# 1. correctness, and where the data went
MOPTS=copy_max=0 start_zusd
"$ZBIN/zwin" "$MNT" || fail "zwin"
stop_zusd
win=$(io_count window)
data=$(io_count data)
echo "old-IO ops: $win in the window, $data through the data area"
# zwin does ~13 000 reads and writes from user memory; sendfile, the exec
# and the copy_file_range fallback use kernel memory, and I/O under a page
# is copied rather than lending a page the op covers only in part: those
# go through the data area (about 850 of them)
[ "$win" -ge 11000 ] || fail "only $win I/O ops used the window"
[ "$data" -lt "$win" ] || fail "$data I/O ops went through the data area"

# 2. plain dd from user memory: every op in the window
MOPTS=copy_max=0 start_zusd
dd if=/dev/urandom of=/tmp/ref bs=1M count=8 status=none
dd if=/tmp/ref of="$MNT/dd" bs=64k status=none || fail "dd write"
dd if="$MNT/dd" of=/tmp/back bs=1M iflag=direct status=none || fail "dd read"
cmp /tmp/ref /tmp/back || fail "dd data differs"
stop_zusd
[ "$(io_count data)" = 0 ] || fail "dd used the data area"

# 2b. -o copy_max=BYTES: I/O up to that size is copied, larger is lent;
# the option is checked, shown, and changed by remount
MOPTS=copy_max=65536 start_zusd
grep " $MNT " /proc/mounts | grep -q 'copy_max=65536' ||
	fail "copy_max not shown: $(grep " $MNT " /proc/mounts)"
mkdir -p /tmp/cm /tmp/cm-back
mount -t zpassthrough -o backing=/tmp/cm-back,copy_max=1048577 none /tmp/cm \
	2>/dev/null && fail "copy_max beyond ZUFS_IO_MAX accepted"
mount -t zpassthrough -o backing=/tmp/cm-back,copy_max=1048576 none /tmp/cm ||
	fail "copy_max=ZUFS_IO_MAX refused"
umount /tmp/cm
dd if=/tmp/ref of="$MNT/cp" bs=4k oflag=direct status=none || fail "dd 4k"
dd if="$MNT/cp" of=/tmp/back bs=64k iflag=direct status=none || fail "dd 64k"
cmp /tmp/ref /tmp/back || fail "copied data differs"
dd if=/tmp/ref of="$MNT/cp" bs=128k status=none || fail "dd 128k"
cmp /tmp/ref "$MNT/cp" || fail "lent data differs"
stop_zusd
echo "copy_max=65536: $(io_count data) through the data area, $(io_count window) in the window"
[ "$(io_count data)" -ge 2176 ] || fail "copy_max: small I/O not copied"
[ "$(io_count window)" -ge 64 ] && [ "$(io_count window)" -lt 100 ] ||
	fail "copy_max: 128 KiB I/O not lent ($(io_count window) window ops)"

# 2c. no copy_max: the default copies 4 KiB direct I/O through the data
# area and lends 8 KiB, and /proc/mounts does not show it
start_zusd
grep " $MNT " /proc/mounts | grep -q 'copy_max=' &&
	fail "the default copy_max is shown: $(grep " $MNT " /proc/mounts)"
dd if=/tmp/ref of="$MNT/def" bs=4k oflag=direct status=none || fail "dd 4k"
dd if="$MNT/def" of=/tmp/back bs=8k iflag=direct status=none || fail "dd 8k"
cmp /tmp/ref /tmp/back || fail "default copy_max: data differs"
stop_zusd
echo "default copy_max: $(io_count data) through the data area, $(io_count window) in the window"
[ "$(io_count data)" -ge 2048 ] || fail "default copy_max: 4 KiB I/O not copied"
[ "$(io_count window)" -ge 1024 ] || fail "default copy_max: 8 KiB I/O not lent"

# 3. the caller is killed while the server has its pages mapped
start_zusd --io-delay 300000
dd if=/tmp/ref of="$MNT/slow" bs=1M status=none || fail "slow write"
dd if="$MNT/slow" of=/dev/null bs=1M status=none &
reader=$!
sleep 1
kill -9 $reader
wait $reader 2>/dev/null
dd if=/dev/zero of="$MNT/slow" bs=1M count=2 conv=notrunc status=none &
writer=$!
sleep 0.5
kill -9 $writer
wait $writer 2>/dev/null
sleep 1		# the late answers release the pages
dd if="$MNT/slow" of=/tmp/back bs=1M skip=2 status=none || fail "read after kills"
cmp <(tail -c +$((2 * 1048576 + 1)) /tmp/ref) /tmp/back ||
	fail "data past the killed writer's range changed"
stop_zusd

# 4. the server is killed while it has a caller's pages mapped
start_zusd --io-delay 2000000
dd if=/dev/zero of="$MNT/dead" bs=1M count=4 status=none &
writer=$!
sleep 1
kill -9 "$pid"
t0=$(date +%s)
wait $writer && fail "a write survived the server's death"
echo "writer failed $(($(date +%s) - t0)) s after the server's death"
wait "$pid" 2>/dev/null
umount "$MNT" || fail "umount after the server's death"
check_dmesg_clean || fail "kernel log after the server's death"

# 5. a lying server (io.done > length among the lies)
MOPTS=copy_max=0 start_zusd --chaos 11:100
timeout 300 "$ZBIN/zwin" "$MNT" 2>&1 | tail -1
stop_zusd
echo "bad answers rejected: $(dmesg | grep -c 'bad answer from server')"

zufs_unload
check_dmesg_clean || fail "kernel log"
pass
