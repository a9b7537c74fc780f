#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 600
# SPDX-License-Identifier: BSD-3-Clause
# Killing at every step (issue 11).
#  A. The mounter (mount, umount, mount -o remount) is killed while zusd
#     holds its request (--mount-delay: SERVING) and around the answer.
#  B. ... while its request is posted and not picked up: zusd's mount
#     thread is held alone (zstop, ptrace), not the whole server.
#  After each: no oops, zusd alive, zusd's live mounts equal the kernel's
#  (no mount left behind in the server), the kernel's ro/rw is what the
#  server enforces, and the next mount/umount works.
#  D. zusd killed (SIGKILL) in each ZT state under load: during a held
#     READ/WRITE (--io-delay: SERVING), and at random times under zstress
#     (FILLING, POSTED, ANSWERED): every syscall returns, umount works, a
#     new zusd mounts again.
#  C. Two more mount-role files at once (zmount2) while mounting: no oops,
#     no hang; a request they take fails, nothing else; zusd serves on and
#     keeps no mount the kernel dropped.  rmmod at the end.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
ZUSD=$TOP/build/bin/zusd
PLUGINS=$TOP/build/plugins
[ -b /dev/pmem0 ] || skip "no /dev/pmem0"
[ -f "$PLUGINS/zpmfs.so" ] && [ -f "$PLUGINS/zpassthrough.so" ] ||
	skip "plugins not built"
zvfs_cc zstop
gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -pthread \
	-I"$TOP/include" -o "$ZBIN/zmount2" "$TOP/tests/vm/bin/zmount2.c" ||
	fail "cannot build zmount2"

LOG=/tmp/zusd-kill.log
DELAY_MS=600
"$TOP/build/bin/mkfs.zpmfs" -q -f /dev/pmem0 || fail "mkfs"
mkdir -p "$MNT"
zufs_load
awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf

start_zusd() {
	"$ZUSD" -f "$@" -p "$PLUGINS" >>"$LOG" 2>&1 &
	pid=$!
	wait_registered zpmfs || fail "zusd did not start: $(tail -5 "$LOG")"
}
stop_zusd() {
	kill "$pid"
	wait "$pid"
	local rc=$?
	[ $rc -eq 0 ] || fail "zusd exited with $rc: $(tail -5 "$LOG")"
	grep -q "still mounted" "$LOG" && fail "zusd stopped with a mount left: $(grep 'live' "$LOG" | tail -3)"
}
alive() {
	kill -0 "$pid" 2>/dev/null || fail "zusd died ($1): $(tail -5 "$LOG")"
}
mounted() {
	grep -q " $MNT " /proc/mounts
}
# zusd's count of live mounts, from its last mount/umount line
server_live() {
	local n
	n=$(sed -n 's/.*, \([0-9]*\) live$/\1/p' "$LOG" | tail -1)
	echo "${n:-0}"
}
# the server and the kernel agree: as many mounts, the same ro/rw
agree() {
	local want=0 i
	mounted && want=1
	for ((i = 0; i < 50; i++)); do	# the mount thread may still be busy
		[ "$(server_live)" = "$want" ] && break
		sleep 0.1
	done
	[ "$(server_live)" = "$want" ] ||
		fail "$1: the kernel has $want mount(s), zusd $(server_live): $(tail -4 "$LOG")"
	if mounted; then
		if grep " $MNT " /proc/mounts | grep -qw ro; then
			echo x 2>/dev/null >"$MNT/probe" && fail "$1: wrote to a ro mount"
		else
			echo x >"$MNT/probe" || fail "$1: rw mount refuses writes"
		fi
	fi
	alive "$1"
	check_dmesg_clean || fail "$1: kernel log"
}
# the mounter of OP, as a command line (no shell function: killing the
# subshell that runs one would leave the real mounter running)
cmd_of() {
	case $1 in
	mount) CMD=(mount -t zpmfs /dev/pmem0 "$MNT") ;;
	umount) CMD=(umount "$MNT") ;;
	remount) CMD=(mount -o remount,ro "$MNT") ;;
	esac
}
m_mount() { mount -t zpmfs /dev/pmem0 "$MNT"; }
# run OP's mounter, SIGKILL it after MS ms, wait for it
kill_after() {
	local ms=$1 p
	cmd_of "$2"
	"${CMD[@]}" 2>/dev/null &
	p=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL $p 2>/dev/null
	wait $p 2>/dev/null
}

# ---- A. SERVING and after the answer
t0=$SECONDS
start_zusd --mount-delay $DELAY_MS"000"
for op in mount umount remount; do
	# before the syscall, held by the server, around and after the answer
	for ms in 100 400 750; do
		case $op in
		mount) ! mounted || umount "$MNT" || fail "umount" ;;
		*) mounted || m_mount || fail "mount before $op" ;;
		esac
		if mounted && grep " $MNT " /proc/mounts | grep -qw ro; then
			mount -o remount,rw "$MNT" || fail "remount rw"
		fi
		kill_after $ms $op
		sleep 0.7	# the held request is done by now
		agree "$op killed after $ms ms"
	done
done
mounted && { umount "$MNT" || fail "umount after A"; }
agree "after A"
stop_zusd
echo "A: mounter killed at 9 points around a held request: $((SECONDS - t0)) s"

# ---- B. POSTED: the mount thread is held, the request waits for it
t0=$SECONDS
start_zusd
mtid=$(grep -l zusd-mount /proc/$pid/task/*/comm | cut -d/ -f5)
[ -n "$mtid" ] || fail "no zusd-mount thread"
for op in mount umount remount; do
	case $op in
	mount) ! mounted || umount "$MNT" || fail "umount" ;;
	*) mounted || m_mount || fail "mount before $op" ;;
	esac
	# held 4 s: under a loaded TCG host starting the mounter takes a while
	"$ZBIN/zstop" "$mtid" 4000 >/tmp/zstop.out &
	stopper=$!
	for ((i = 0; i < 50; i++)); do
		grep -q stopped /tmp/zstop.out && break
		sleep 0.05
	done
	grep -q stopped /tmp/zstop.out || fail "could not hold the mount thread"
	cmd_of $op
	"${CMD[@]}" 2>/tmp/mounter.err &
	p=$!
	sleep 0.5
	kill -0 $p 2>/dev/null ||
		echo "B: $op ended before it was killed: $(cat /tmp/mounter.err)"
	kill -KILL $p 2>/dev/null
	t=$SECONDS
	wait $p 2>/dev/null
	# a posted mount or remount is withdrawn at once; an umount is not
	# withdrawn (the superblock goes away after it): it waits for the thread
	[ $op = umount ] || ((SECONDS - t < 2)) || fail "killed $op waited for the held thread"
	wait $stopper
	sleep 0.3
	agree "$op killed while posted"
	[ $op = remount ] && { grep " $MNT " /proc/mounts | grep -qw rw || fail "the withdrawn remount was applied"; }
done
mounted && { umount "$MNT" || fail "umount after B"; }
agree "after B"
stop_zusd
echo "B: mounter killed while posted: $((SECONDS - t0)) s"

# ---- D. zusd killed under load, on zpassthrough (old-IO, the window)
t0=$SECONDS
BACK=/tmp/kill-back
mkdir -p "$BACK"
pt_up() {
	start_zusd "$@"
	wait_registered zpassthrough || fail "no zpassthrough"
	# the EIO path: no waiting for a new server (63-restart tests that)
	mount -t zpassthrough -o backing="$BACK",reattach_timeout=0 none "$MNT" ||
		fail "mount zpassthrough"
}
# every process of the load must end by itself once the server is gone
load_ends() {
	local i p
	for ((i = 0; i < 300; i++)); do
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && { sleep 0.1; continue 2; }
		done
		return 0
	done
	ps -o pid,stat,wchan:30,args -p "$*" >&2
	fail "$1: application syscalls did not return after zusd's death"
}
after_kill() {
	wait "$pid" 2>/dev/null
	umount "$MNT" || fail "umount after zusd's death ($1)"
	check_dmesg_clean || fail "kernel log after zusd's death ($1)"
}

# SERVING: every READ/WRITE held 1 s in the server
pt_up --io-delay 1000000
dd if=/dev/zero of="$MNT/held" bs=64k count=8 status=none 2>/dev/null &
w=$!
cat "$MNT/held" >/dev/null 2>&1 &
r=$!
sleep 1.5
kill -KILL "$pid"
for ((i = 0; i < 100; i++)); do
	sleep 0.1
	kill -0 $w 2>/dev/null || kill -0 $r 2>/dev/null || break
done
kill -0 $w 2>/dev/null && fail "a write held by the server outlived it by 10 s"
kill -0 $r 2>/dev/null && fail "a read held by the server outlived it by 10 s"
after_kill "held I/O"

# FILLING / POSTED / ANSWERED: kill at random times under zstress
for ((k = 0; k < 3; k++)); do
	pt_up
	"$TOP/build/bin/zstress" -q -p 4 -d 6 -w 30 -s $k "$MNT" >/tmp/zstress.out 2>&1 &
	zs=$!
	ms=$((300 + RANDOM % 2500))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -KILL "$pid"
	load_ends "zstress $k (zusd killed after $ms ms)" $zs
	wait $zs
	rc=$?
	[ $rc -eq 3 ] && fail "zstress watchdog: a syscall hung: $(tail -5 /tmp/zstress.out)"
	after_kill "zstress $k"
	echo "D: zusd killed after $ms ms of zstress; zstress exit $rc"
done
# a new server after all that
pt_up
echo fine >"$MNT/after" && grep -q fine "$MNT/after" || fail "zpassthrough after the kills"
umount "$MNT" || fail "last umount"
stop_zusd
echo "D: $((SECONDS - t0)) s"

# ---- C. two more mount-role files, mounts in between
t0=$SECONDS
start_zusd
"$ZBIN/zmount2" /sys/fs/zuf 6 >/tmp/zmount2.out 2>&1 &
z2=$!
sleep 0.5
ok=0
for ((i = 0; i < 6; i++)); do
	if m_mount 2>/dev/null; then
		ok=$((ok + 1))
		umount "$MNT" || fail "umount with zmount2 around"
	fi
done
wait $z2 || fail "zmount2: $(cat /tmp/zmount2.out)"
cat /tmp/zmount2.out
echo "C: $ok of 6 mounts succeeded beside two more mount-role files"
check_dmesg_clean || fail "kernel log after zmount2"
alive "two more mount-role files"
agree "after two more mount-role files"
m_mount || fail "mount after zmount2 (zusd: $(tail -3 "$LOG"); $(dmesg | grep zuf: | tail -3))"
umount "$MNT" || fail "umount after zmount2"
agree "after C"
stop_zusd
echo "C: $((SECONDS - t0)) s"

zufs_unload
check_dmesg_clean || fail "kernel log"
pass
