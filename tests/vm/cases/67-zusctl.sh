#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --pmem 256M --timeout 300
# zusd's service side without systemd: the sd_notify datagram (READY=1
# only once zpmfs is registered, STOPPING=1 at SIGTERM), level prefixes
# on a journal stream ($JOURNAL_STREAM), and the runtime debug switch:
# `zusctl debug zpmfs +namei` makes zusd log the namei ops of zpmfs and
# nothing else, -namei stops it, all without a restart; bad requests are
# refused with a reason.  (host/54-systemd does the same under systemd.)
. "$(dirname "$0")/../lib.sh"
require_vm
ZUSD=$TOP/build/bin/zusd
ZUSCTL=$TOP/build/bin/zusctl
PLUGINS=$TOP/build/plugins
MKFS=$TOP/build/bin/mkfs.zpmfs
DEV=/dev/pmem0
MNT=/mnt/zp
LOG=/run/zusd.log
[ -x "$ZUSD" ] && [ -x "$ZUSCTL" ] || fail "zusd/zusctl not built"
[ -b $DEV ] || fail "no $DEV"
zufs_load

# a notify socket that records each datagram with whether zpmfs was
# registered when it came
python3 - /run/notify.sock /run/notify.got <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2] + ".tmp", "w") as f:
    for _ in range(2):
        msg = s.recv(4096).decode()
        reg = any(l.split()[-1] == "zpmfs" for l in open("/proc/filesystems"))
        f.write(" ".join(msg.split()) + " registered=%d\n" % reg)
        f.flush()
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
PY
wait_for /run/notify.sock 20 || fail "notify listener did not start"

# stderr is "the journal stream": JOURNAL_STREAM names its dev:ino
: >$LOG
JOURNAL_STREAM=$(stat -c '%d:%i' $LOG) NOTIFY_SOCKET=/run/notify.sock \
	"$ZUSD" -f -p "$PLUGINS" 2>>$LOG &
zpid=$!
for _ in $(seq 200); do
	grep -q "READY=1" /run/notify.got.tmp 2>/dev/null && break
	sleep 0.1
done
grep -qx "READY=1 STATUS=serving registered=1" /run/notify.got.tmp ||
	fail "READY=1 not sent after registration: $(cat /run/notify.got.tmp 2>/dev/null)"
grep -q '^<6>zusd: serving ' $LOG || fail "no level prefix on the journal stream: $(head -3 $LOG)"

"$MKFS" -f -q $DEV || fail "mkfs"
mkdir -p $MNT
mount -t zpmfs $DEV $MNT || fail "mount"
"$ZUSCTL" status | grep -q "types:.*zpmfs" || fail "zusctl status: $("$ZUSCTL" status 2>&1)"
"$ZUSCTL" debug | grep -qx "zpmfs: (none)" || fail "debug on before asked: $("$ZUSCTL" debug 2>&1)"

# off: no per-op lines
touch $MNT/a && stat $MNT/a >/dev/null && echo x >$MNT/a || fail "ops on $MNT"
grep -q "seq .* -> " $LOG && fail "debug lines without debug: $(grep -m3 'seq' $LOG)"

# +namei: namei ops of zpmfs, not io
out=$("$ZUSCTL" debug zpmfs +namei) || fail "zusctl debug zpmfs +namei: $out"
[ "$out" = "zpmfs: +namei" ] || fail "zusctl answered: $out"
touch $MNT/b && echo y >$MNT/b && sync $MNT/b || fail "ops on $MNT"
grep -q '^<7>zpmfs: ch [0-9]* seq [0-9]* NEW_INODE -> 0 ([0-9]* us)$' $LOG ||
	fail "no NEW_INODE debug line: $(grep -m5 seq $LOG)"
grep -qE '<7>zpmfs: .* (WRITE|GET_BLOCKS|FSYNC) ->' $LOG &&
	fail "io ops logged with only namei on: $(grep -m3 -E 'GET_BLOCKS|FSYNC' $LOG)"

# -namei: quiet again, while zusd and the mount go on
"$ZUSCTL" debug zpmfs -namei >/dev/null || fail "zusctl debug zpmfs -namei"
n=$(grep -c ' seq ' $LOG)
touch $MNT/c && rm $MNT/a || fail "ops on $MNT"
[ "$(grep -c ' seq ' $LOG)" = "$n" ] || fail "debug lines after -namei"

# refused requests, with a reason and exit status 1
"$ZUSCTL" debug nosuchfs +io 2>/run/e1 && fail "unknown type accepted"
grep -q "no filesystem type 'nosuchfs'" /run/e1 || fail "unknown type: $(cat /run/e1)"
"$ZUSCTL" debug zpmfs +bogus 2>/run/e2 && fail "unknown class accepted"
grep -q "unknown debug class '+bogus'" /run/e2 || fail "unknown class: $(cat /run/e2)"
"$ZUSCTL" --control /run/nothing status 2>/dev/null && fail "zusctl without a zusd succeeded"
# only root: the socket is 0600
[ "$(stat -c %a /run/zusd/control)" = 600 ] || fail "control socket mode $(stat -c %a /run/zusd/control)"
"$ZUSCTL" debug all +io >/dev/null && "$ZUSCTL" debug | grep -q "zpassthrough: +io" ||
	fail "debug all: $("$ZUSCTL" debug 2>&1)"

umount $MNT || fail "umount"
kill -TERM $zpid
wait $zpid || fail "zusd exit status $?"
wait_for /run/notify.got 10 || fail "no second datagram"
grep -qx "STOPPING=1 registered=1" /run/notify.got || fail "STOPPING=1: $(cat /run/notify.got)"
[ ! -e /run/zusd/control ] || fail "control socket left after exit"
check_dmesg_clean || fail "kernel log"
pass
