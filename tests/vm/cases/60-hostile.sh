#!/bin/bash
# vm: --cpus 2 --timeout 300
# SPDX-License-Identifier: BSD-3-Clause
# A hostile plugin (tests/hostile, built here out of tree against zus.h
# only) under zusd: its WRITE stores into the application's pages that the
# kernel lent it read-only, or preads a file into them, and its READ and
# WRITE answer errnos no syscall may return.  The application writes from
# a PROT_READ mmap of a tmpfs file (page-cache pages), from the shared zero
# page and from the heap: each write fails with EIO, the memory and the
# tmpfs file stay intact, zusd survives, says what happened and serves the
# next op.  Forbidden errnos reach the application as EIO.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
ZUSD=$TOP/build/bin/zusd
[ -x "$ZUSD" ] || fail "$ZUSD not built"
zvfs_cc zlend

# the plugin, as its author would build it: public headers and a cc line
PLUGIN=/tmp/zhostile.so
gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -shared -fPIC \
	-I"$TOP/zus/include" -I"$TOP/include" -o "$PLUGIN" \
	"$TOP/tests/hostile/hostile.c" -lpthread || fail "cannot build zhostile"

BACK=/tmp/hostile-back
SRC=/tmp/hostile-src		# /tmp is tmpfs in the guest
LOG=/tmp/zusd-hostile.log
mkdir -p "$BACK" "$MNT"
zufs_load
awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf
"$ZUSD" -f -p "$PLUGIN" >"$LOG" 2>&1 &
pid=$!
wait_registered zhostile || fail "zusd did not register zhostile: $(cat "$LOG")"

bad=0
finding() {
	echo "FINDING: $*" >&2
	bad=1
}
trap '[ $bad = 0 ] || { echo "--- zusd log:"; tail -40 "$LOG"; dmesg | grep zuf: | tail -20; }' EXIT
alive() {
	kill -0 "$pid" 2>/dev/null && return 0
	bad=1
	fail "zusd died $1"
}
# with MODE... as the plugin's options
remount_as() {
	grep -q " $MNT " /proc/mounts && { umount "$MNT" || fail "umount"; }
	mount -t zhostile -o "backing=$BACK${1:+,$1}" none "$MNT" ||
		fail "mount zhostile $1: $(tail -3 "$LOG")"
}
log_has() {
	grep -q -- "$1" "$LOG"
}

# 0. a well-behaved mount: the program's own checks pass
remount_as write=ok
timeout 60 "$ZBIN/zlend" "$MNT/f" "$SRC" ok || fail "zlend on a well-behaved plugin"
alive "serving plain writes"

# the server threads run as IO flushers (PF_MEMALLOC_NOIO, 0x80000 in the
# flags of /proc/PID/task/TID/stat): reclaim never re-enters zufs from them
n=0
for t in /proc/$pid/task/*; do
	case $(cat "$t/comm") in
	zusd-zt* | zusd-mount) ;;
	*) continue ;;
	esac
	n=$((n + 1))
	flags=$(awk '{ print $9 }' "$t/stat")
	((flags & 0x80000)) || finding "$(cat "$t/comm") is no IO flusher (flags $flags)"
done
[ $n -ge 3 ] || finding "only $n named server threads (2 ZTs + the mount thread)"
log_has "PR_SET_IO_FLUSHER refused" && finding "PR_SET_IO_FLUSHER refused"

# 1. a read past the lent pages: nothing is mapped there, SIGBUS
remount_as write=overrun
timeout 60 "$ZBIN/zlend" "$MNT/f" "$SRC" eio || finding "a plugin reading past the lent pages"
alive "after the plugin's read past its pages"
log_has "plugin took SIGBUS at window+0x[0-9a-f]* serving WRITE" ||
	finding "zusd did not report the plugin's SIGBUS: $(tail -3 "$LOG")"

# 2. stores into the read-only window
remount_as write=store
timeout 60 "$ZBIN/zlend" "$MNT/f" "$SRC" eio || finding "a plugin storing into the window"
alive "after the plugin's stores into the window"
[ "$(grep -c "plugin took SIG.* serving WRITE" "$LOG")" -ge 6 ] ||
	finding "zusd did not report the plugin's stores: $(tail -3 "$LOG")"

# 3. a kernel copy into the read-only window: EFAULT for the plugin
remount_as write=pread
timeout 60 "$ZBIN/zlend" "$MNT/f" "$SRC" eio || finding "a plugin pread()ing into the window"
alive "after the plugin's pread into the window"
log_has "WRITE ino [0-9]* (seq [0-9]*) with -14" ||
	finding "zusd did not report the plugin's EFAULT: $(tail -3 "$LOG")"

# 4. forbidden errnos: EIO, never the raw number
remount_as write=ok
timeout 60 "$ZBIN/zlend" "$MNT/f" "$SRC" ok >/dev/null || fail "rewrite of the file"
# (READ's answer is a byte count: a positive one is a short read, not an
# error; WRITE's +5 comes without the inode's attributes the kernel checks)
for e in -512 -529 -4095 5 -14 -1000; do
	remount_as "write=errno:$e,read=errno:$((e > 0 ? -e : e))"
	out=$(timeout 60 "$ZBIN/zlend" "$MNT/g" "$SRC" eio) ||
		finding "write answered $e: $(printf '%s\n' "$out" | grep FAIL)"
	msg=$(timeout 60 cat "$MNT/f" 2>&1 >/dev/null)
	case $msg in
	*"Input/output error"*) ;;
	*) finding "read answered $e gave: ${msg:-success}" ;;
	esac
	alive "after errno $e"
done
log_has "with -512: answered EIO" ||
	finding "zusd did not report the forbidden errno: $(tail -3 "$LOG")"

# 5. the server still serves well, then stops cleanly with its counts
remount_as write=ok
timeout 60 "$ZBIN/zlend" "$MNT/f" "$SRC" ok >/dev/null || finding "plain writes after all that"
umount "$MNT" || fail "umount"
kill "$pid"
wait "$pid"
rc=$?
[ $rc -eq 0 ] || finding "zusd exited with $rc"
grep "plugin faults" "$LOG"
faults=$(sed -n 's/.*, \([0-9]*\) plugin faults.*/\1/p' "$LOG" | awk '{ s += $1 } END { print s + 0 }')
errs=$(sed -n 's/.*, \([0-9]*\) bad plugin errnos.*/\1/p' "$LOG" | awk '{ s += $1 } END { print s + 0 }')
echo "zusd counted $faults plugin faults, $errs bad plugin errnos"
[ "$faults" -ge 6 ] || finding "only $faults faults counted (3 overruns, 3 stores)"
[ "$errs" -ge 12 ] || finding "only $errs bad errnos counted"
zufs_unload
check_dmesg_clean || finding "kernel log"
[ $bad = 0 ] || fail "see the findings above"
pass
