#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 420
# SPDX-License-Identifier: BSD-3-Clause
# Server restart (issue 12): a zpmfs mount survives kill -9 of zusd.
#  A. Under load (zstress, a held-open file written and fsynced in a loop,
#     stores through a DAX mapping): kill -9, the same zusd command line
#     again: no application sees an error, every acknowledged byte is
#     there, fsck is clean.  The longest write+fsync the writer saw is the
#     stall ("stall:" line, also for bench/restart-stall.sh).
#  B. An op of each non-idempotent class done by the server whose answer
#     is held (--late-op) when zusd dies is resent and verified: the
#     application gets exactly the result of what happened (once).  An op
#     a stopped server never picked up (POSTED) is sent to the new one.
#  C. No new server: a call waits reattach_timeout (5 s), then EIO, later calls
#     fail at once, umount of a detached mount does not wait; a server
#     that comes after the timeout still re-attaches.
#  D. zusd killed again while it re-attaches (--mount-delay): the next
#     one re-attaches, the application waiting meanwhile sees no error.
#  E. The same as A on zpassthrough (old-IO: ops in flight resend the
#     caller's pages; the new server finds inodes again by number).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
. "$TOP/tests/vm/bin/restart-load.sh"
require_vm
[ -x "$TOP/build/bin/zstress" ] || skip "zstress not built"
ZUSD_LOG=/tmp/zusd-restart.log

# kill -9 zusd and wait until it is gone
kill9() {
	kill -KILL "$ZUSD_PID"
	wait "$ZUSD_PID" 2>/dev/null
	ZUSD_PID=
}
# start zusd again (the plugin of type $FS); wait until it re-attached
FS=zpmfs
restart() {
	local before
	before=$(grep -c "re-attached $FS" "$ZUSD_LOG" 2>/dev/null)
	# shellcheck disable=SC2086
	# (not holding the test's fds into the mount: 8<&-)
	"$TOP/build/bin/zusd" -f ${ZUSD_ARGS:-} \
		-p "$TOP/build/plugins/$FS.so" >>"$ZUSD_LOG" 2>&1 8<&- &
	ZUSD_PID=$!
	for ((i = 0; i < 200; i++)); do
		(($(grep -c "re-attached $FS" "$ZUSD_LOG") > before)) && return 0
		kill -0 "$ZUSD_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "zusd did not re-attach: $(tail -5 "$ZUSD_LOG"); $(dmesg | grep zuf: | tail -3)"
}

# ---- A. kill -9 under load
: >"$ZUSD_LOG"
zpmfs_up
dd if=/dev/urandom of=/tmp/ref bs=64k count=16 status=none
cp /tmp/ref "$MNT/keep" && sync -f "$MNT" || fail "write keep"
rm -f /tmp/mapper.*
load_start "$MNT" 14
# stores through a shared mapping: they fault again after the death
python3 - "$MNT/mapped" >/tmp/mapper.out 2>&1 <<'PY' &
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
os.ftruncate(fd, 1 << 20)
m = mmap.mmap(fd, 1 << 20)
i = 0
while not os.path.exists("/tmp/stop"):
    m[(i % 256) * 4096:(i % 256) * 4096 + 8] = b"%08d" % i
    i += 1
m.flush()
for p in range(min(i, 256)):
    last = max(n for n in range(max(0, i - 256), i) if n % 256 == p)
    if m[p * 4096:p * 4096 + 8] != b"%08d" % last:
        sys.exit("page %d: %r, want %d" % (p, m[p * 4096:p * 4096 + 8], last))
print("stores %d" % i)
PY
mapper=$!
sleep 4
n0=$(cat /tmp/writer.n)
kill9
restart
sleep 3
load_stop kill-and-restart
wait $mapper || fail "mapper (exit $?): $(cat /tmp/mapper.out)"
(($(cat /tmp/writer.n) > n0)) || fail "the writer did not go on after the restart"
cmp "$MNT/keep" /tmp/ref || fail "synced data lost"
echo "A: mapper $(cat /tmp/mapper.out)"
zpmfs_down
zpmfs_fsck "after kill -9 and restart under load"
mount -t zpmfs /dev/pmem0 "$MNT" || fail "mount after A"

# ---- B. each non-idempotent class, done and held when zusd dies
# class OP  setup  python-action  check
held_class() {
	local op=$1 setup=$2 action=$3 check=$4 expect=${5:-ok}
	kill9
	ZUSD_ARGS="--late-op $op:3000000" restart
	ZUSD_ARGS=
	(cd "$MNT" && eval "$setup") || fail "$op: setup"
	rm -f /tmp/held.out
	(cd "$MNT" && python3 -c "import os
try:
    $action
    print('ok')
except OSError as e:
    print('errno', e.errno, e)" >/tmp/held.out 2>&1) &
	local app=$!
	sleep 1.5
	[ -s /tmp/held.out ] && fail "$op: not held by the server: $(cat /tmp/held.out)"
	kill9
	restart
	wait $app
	grep -q "^$expect" /tmp/held.out || fail "$op in flight across the restart: $(cat /tmp/held.out)"
	(cd "$MNT" && eval "$check") || fail "$op: wrong result after the restart"
	echo "B: $op in flight: ok"
}
# c1 is not in the dcache: the open creates it in one trip (ZUFS_NEW_OPEN),
# and the resent op must know the dead server's file for its own...
held_class NEW_INODE "" "os.close(os.open('c1', os.O_CREAT | os.O_EXCL | os.O_WRONLY))" "[ -f c1 ]"
# ...while a file that was there before stays somebody else's
held_class NEW_INODE "echo e >e1 && sync && echo 2 >/proc/sys/vm/drop_caches" \
	"os.close(os.open('e1', os.O_CREAT | os.O_EXCL | os.O_WRONLY))" \
	"[ \"\$(cat e1)\" = e ]" "errno 17"
held_class NEW_INODE "" "os.mkdir('d1')" "[ -d d1 ]"
held_class UNLINK "touch u1" "os.unlink('u1')" "[ ! -e u1 ]"
held_class UNLINK "mkdir r1" "os.rmdir('r1')" "[ ! -e r1 ]"
held_class RENAME "echo x >m1" "os.rename('m1', 'm2')" "[ ! -e m1 ] && [ \"\$(cat m2)\" = x ]"
held_class LINK "echo y >l1" "os.link('l1', 'l2')" "[ \"\$(stat -c %h l1)\" = 2 ]"
held_class SETXATTR "touch x1" "os.setxattr('x1', 'user.a', b'v', os.XATTR_CREATE)" \
	"python3 -c \"import os; assert os.getxattr('x1', 'user.a') == b'v'\""
held_class SETXATTR "touch x2 && python3 -c \"import os; os.setxattr('x2', 'user.b', b'w')\"" \
	"os.removexattr('x2', 'user.b')" \
	"python3 -c \"import os; assert os.listxattr('x2') == []\""
held_class SETATTR "echo 12345 >t1" "os.truncate('t1', 2)" "[ \"\$(stat -c %s t1)\" = 2 ]"
held_class GET_BLOCKS "" "fd = os.open('g1', os.O_CREAT | os.O_WRONLY); os.pwrite(fd, b'z' * 8192, 0); os.close(fd)" \
	"[ \"\$(stat -c %s g1)\" = 8192 ] && [ \"\$(tr -d z <g1 | wc -c)\" = 0 ]"
held_class FALLOCATE "touch a1" "fd = os.open('a1', os.O_WRONLY); os.posix_fallocate(fd, 0, 65536); os.close(fd)" \
	"[ \"\$(stat -c %s a1)\" = 65536 ]"
# POSTED: a stopped server never picks the op up before it is killed
kill -STOP "$ZUSD_PID"
(cd "$MNT" && python3 -c "import os; os.mkdir('p1'); print('ok')" >/tmp/held.out 2>&1) &
app=$!
sleep 1
kill9
restart
wait $app
grep -qx ok /tmp/held.out && [ -d "$MNT/p1" ] ||
	fail "an op posted to a stopped server, across the restart: $(cat /tmp/held.out)"
echo "B: mkdir posted to a stopped server: ok"
zpmfs_down
zpmfs_fsck "after the held ops"

# ---- C. no new server within reattach_timeout
mount -t zpmfs -o reattach_timeout=5 /dev/pmem0 "$MNT" || fail "mount C"
grep " $MNT " /proc/mounts | grep -q reattach_timeout=5 || fail "option not shown"
kill9
out=$(timeout 30 python3 - "$MNT" <<'PY'
import errno, os, sys, time
def call():
    t = time.monotonic()
    try:
        os.listdir(sys.argv[1] + "/d1")
        r = "ok"
    except OSError as e:
        r = errno.errorcode[e.errno]
    return r, time.monotonic() - t
a, ta = call()
b, tb = call()
print("%s %.1f %s %.1f" % (a, ta, b, tb))
PY
)
read -r a ta b tb <<<"$out"
echo "C: first call $a after $ta s, next $b after $tb s"
[ "$a" = EIO ] && [ "$b" = EIO ] || fail "calls after the timeout: $out"
awk -v t="$ta" 'BEGIN { exit !(t >= 1.5 && t < 8) }' || fail "first call waited $ta s, want up to 5"
awk -v t="$tb" 'BEGIN { exit !(t < 1) }' || fail "later call waited $tb s"
restart
ls "$MNT/d1" >/dev/null || fail "re-attach after the timeout"
df "$MNT" >/dev/null || fail "statfs"
kill9
df "$MNT" >/dev/null || fail "statfs of a detached mount (the last answer)"
t0=${EPOCHREALTIME/./}
umount "$MNT" || fail "umount of a detached mount"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
echo "C: umount of a detached mount: $ms ms"
((ms < 1500)) || fail "umount of a detached mount waited $ms ms"
grep -qw zpmfs /proc/filesystems && fail "zpmfs still registered with no mount and no server"
check_dmesg_clean || fail "kernel log after C"

# ---- D. a second crash during the re-attach
zpmfs_start_zusd
mount -t zpmfs /dev/pmem0 "$MNT" || fail "mount D"
kill9
(ls "$MNT/d1" >/dev/null && echo ok || echo fail) >/tmp/waiter.out 2>&1 &
w=$!
"$TOP/build/bin/zusd" -f --mount-delay before:3000000 \
	-p "$TOP/build/plugins/zpmfs.so" >>"$ZUSD_LOG" 2>&1 &
ZUSD_PID=$!
sleep 1.5
kill9
restart
wait $w
grep -qx ok /tmp/waiter.out || fail "waiter across two crashes: $(cat /tmp/waiter.out)"
echo "D: a crash during re-attach, then a good restart: ok"
zpmfs_stop
zpmfs_fsck "at the end"
check_dmesg_clean || fail "kernel log"

# ---- E. zpassthrough: kill -9 under load, inodes found again by number
FS=zpassthrough
BACK=/tmp/pt-back
rm -rf "$BACK" && mkdir -p "$BACK" || fail "backing dir"
zufs_load
awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf
"$TOP/build/bin/zusd" -f -p "$TOP/build/plugins/zpassthrough.so" >>"$ZUSD_LOG" 2>&1 &
ZUSD_PID=$!
wait_registered zpassthrough || fail "zusd did not register zpassthrough"
mount -t zpassthrough -o backing="$BACK" none "$MNT" || fail "mount zpassthrough"
mkdir -p "$MNT/a/b/c" && echo deep >"$MNT/a/b/c/f" || fail "tree"
exec 8<"$MNT/a/b/c/f" || fail "open deep"
# no zstress here: it unlinks files it holds open, and zpassthrough cannot
# find an unlinked file again after a restart (ESTALE; README, "Restart
# and live upgrade")
load_start "$MNT" 10 nozstress
sleep 3
n0=$(cat /tmp/writer.n)
kill9
restart
sleep 3
load_stop zpassthrough-kill-and-restart
(($(cat /tmp/writer.n) > n0)) || fail "zpassthrough: the writer did not go on"
[ "$(cat <&8)" = deep ] || fail "a file held open across the restart"
exec 8<&-
echo "E: zpassthrough across kill -9 and restart: ok"
umount "$MNT" || fail "umount zpassthrough"
kill "$ZUSD_PID"
wait "$ZUSD_PID"
check_dmesg_clean || fail "kernel log"
pass
