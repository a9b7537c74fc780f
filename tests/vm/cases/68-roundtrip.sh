#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 300
# SPDX-License-Identifier: BSD-3-Clause
# The bare round trip (ZUFS_IOC_NULL_OP, bench/rtbench) and polling:
#  - a NULL op from any user, on the caller's channel and on a named one,
#    with every step of the trip stamped; bad arguments are EINVAL;
#  - -o spin=USEC is checked, shown and changed by remount; zusd --spin
#    is checked; polling callers and ZTs still see a server killed under
#    them: their ops fail, nothing hangs, umount works;
#  - zusd --lanes: an op blocked in the plugin does not hold its CPU's
#    other callers.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm

RT=$TOP/build/bin/rtbench
[ -x "$RT" ] || skip "rtbench not built"

# rt_ok WHAT ARGS...: one rtbench run that must complete round trips on
# the channels it asked for
rt_ok() {
	local what=$1 out
	shift
	out=$(timeout 60 "$RT" -T 0.5 "$@" 2>&1) || fail "$what: rtbench: $out"
	echo "$what: $out"
	grep -q '^rt mode=zufs .* ops=[1-9]' <<<"$out" || fail "$what: no trips: $out"
	! grep -q 'another channel' <<<"$out" || fail "$what: wrong channel: $out"
	RT_OUT=$out
}

# nullioctl.py FILE CHANNEL FLAGS: ZUFS_IOC_NULL_OP's errno name, or OK and
# the channel used
cat >/tmp/nullioctl.py <<'PY'
import errno, fcntl, os, struct, sys
# _IOWR(0xB9, 10, struct zufs_ioc_null): 88 bytes
req = (3 << 30) | (88 << 16) | (0xB9 << 8) | 10
buf = bytearray(struct.pack("<IIII9Q", int(sys.argv[2]), int(sys.argv[3]),
                            0, 0, *([0] * 9)))
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    fcntl.ioctl(fd, req, buf)
    print("OK", struct.unpack_from("<I", buf, 8)[0])
except OSError as e:
    print(errno.errorcode[e.errno])
PY
chmod 644 /tmp/nullioctl.py

zpmfs_up ""
echo x >"$MNT/f" || fail "create"
rt_ok "same CPU, stamped" -b zufs "$MNT/f"
bd=$(grep '^breakdown ' <<<"$RT_OUT") || fail "no breakdown line"
for step in claim fill_wake zt_wakeup to_server server answer_in \
	caller_wakeup copy_check syscall; do
	grep -q " $step=[0-9]" <<<"$bd" || fail "breakdown has no $step: $bd"
done
rt_ok "cross CPU" -p cross zufs "$MNT/f"
rt_ok "2 callers" -t 2 zufs "$MNT/f"
# any user may ask; a channel that does not exist or an unknown flag: EINVAL
chmod 644 "$MNT/f"
r=$(su -s /bin/sh nobody -c "python3 /tmp/nullioctl.py $MNT/f 1 1")
[ "$r" = "OK 1" ] || fail "NULL op as nobody on channel 1: $r"
r=$(python3 /tmp/nullioctl.py "$MNT/f" 4096 0)
[ "$r" = EINVAL ] || fail "NULL op on channel 4096: $r, want EINVAL"
r=$(python3 /tmp/nullioctl.py "$MNT/f" 4294967295 2)
[ "$r" = EINVAL ] || fail "NULL op with flag 2: $r, want EINVAL"

# the mount knob
! mount -o remount,spin=1001 "$MNT" 2>/dev/null || fail "spin=1001 accepted"
mount -o remount,spin=50 "$MNT" || fail "remount spin=50"
grep " $MNT " /proc/mounts | grep -q 'spin=50' || fail "spin=50 not shown: $(grep " $MNT " /proc/mounts)"
mount -o remount,spin=0 "$MNT" || fail "remount spin=0"
! grep " $MNT " /proc/mounts | grep -q 'spin=' || fail "spin=0 still shown"
zpmfs_stop

# the server knob
! "$TOP/build/bin/zusd" -f --spin 1001 2>/dev/null || fail "zusd --spin 1001 accepted"

# polling on both sides, then the server dies under polling callers
ZUSD_ARGS="--spin 200" zpmfs_up "spin=200,reattach_timeout=0"
echo x >"$MNT/f" || fail "create (spinning)"
rt_ok "spinning, same CPU" zufs "$MNT/f"
rt_ok "spinning, cross CPU" -p cross -b zufs "$MNT/f"
rt_ok "spinning, 2 callers" -t 2 zufs "$MNT/f"
timeout 60 "$RT" -t 2 -T 30 zufs "$MNT/f" >/tmp/rt-kill.out 2>&1 &
rpid=$!
sleep 1
kill -9 "$ZUSD_PID"
wait "$ZUSD_PID" 2>/dev/null
ZUSD_PID=
wait "$rpid"
rc=$?
[ $rc -eq 1 ] || fail "rtbench across the server's death: exit $rc, want 1 (an op failed): $(cat /tmp/rt-kill.out)"
grep -q 'Input/output error' /tmp/rt-kill.out ||
	fail "rtbench across the server's death: $(cat /tmp/rt-kill.out)"
umount "$MNT" || fail "umount after the server died"

# lanes: every CPU's first channel is held by a read the server sits on
# (--io-delay); a NULL op then waits for one to free, unless zusd runs
# --lanes 2 and it takes a second lane of its CPU at once
LANE_MNT=/mnt/lanes
lane_wait() {
	local lanes=$1 pid r c readers=()
	mkdir -p "$LANE_MNT" /tmp/lanes-back
	"$TOP/build/bin/zusd" -f --lanes "$lanes" --io-delay 3000000 \
		-p "$TOP/build/plugins/zpassthrough.so" >/tmp/zusd-lanes.log 2>&1 &
	pid=$!
	wait_registered zpassthrough || fail "zusd --lanes $lanes: $(cat /tmp/zusd-lanes.log)"
	# names trusted for an hour: the NULL op's open must not look "f"
	# up again (d_revalidate) behind the blocked reads before it starts
	mount -t zpassthrough -o backing=/tmp/lanes-back,ttl=3600000 none "$LANE_MNT" ||
		fail "mount zpassthrough"
	: >"$LANE_MNT/f"
	for c in $(seq 0 $(($(nproc) - 1))); do
		taskset -c "$c" dd if="$LANE_MNT/f" of=/dev/null bs=4k count=1 \
			iflag=direct status=none &
		readers+=($!)
	done
	sleep 0.5
	r=$(python3 - "$LANE_MNT/f" <<'PY'
import fcntl, os, struct, sys, time
req = (3 << 30) | (88 << 16) | (0xB9 << 8) | 10
buf = bytearray(struct.pack("<IIII9Q", 0xffffffff, 0, 0, 0, *([0] * 9)))
fd = os.open(sys.argv[1], os.O_RDONLY)
t = time.monotonic()
fcntl.ioctl(fd, req, buf)
print("%.2f" % (time.monotonic() - t))
PY
)
	wait "${readers[@]}" 2>/dev/null
	umount "$LANE_MNT" || fail "umount lanes"
	kill "$pid"
	wait "$pid" 2>/dev/null
	[ "$(grep -c 'ops served' /tmp/zusd-lanes.log)" = $(($(nproc) * lanes)) ] ||
		fail "zusd --lanes $lanes did not run $(($(nproc) * lanes)) ZTs: $(grep 'ops served' /tmp/zusd-lanes.log)"
	echo "lanes=$lanes: NULL op behind $(nproc) blocked reads took $r s"
	LANE_SECS=$r
}
! "$TOP/build/bin/zusd" -f --lanes 5 2>/dev/null || fail "zusd --lanes 5 accepted"
lane_wait 1
awk -v t="$LANE_SECS" 'BEGIN { exit !(t >= 1.5) }' ||
	fail "one lane: the NULL op did not wait for a blocked channel ($LANE_SECS s)"
lane_wait 2
awk -v t="$LANE_SECS" 'BEGIN { exit !(t < 1.0) }' ||
	fail "two lanes: the NULL op waited $LANE_SECS s behind blocked reads"
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
