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
require_vm
[ -x "$TOP/build/bin/zstress" ] || skip "zstress not built"
ZUSD_LOG=/tmp/zusd-takeover.log

zpmfs_up
rm -f /tmp/stop /tmp/writer.*
python3 - "$MNT/held" >/tmp/writer.out 2>&1 <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
i, worst = 0, 0.0
while not os.path.exists("/tmp/stop"):
    t = time.monotonic()
    os.pwrite(fd, (b"%08d" % i) * 512, (i % 256) * 4096)
    os.fsync(fd)
    worst = max(worst, time.monotonic() - t)
    i += 1
    open("/tmp/writer.n", "w").write(str(i))
for b in range(min(i, 256)):
    last = max(n for n in range(i) if n % 256 == b)
    if os.pread(fd, 4096, b * 4096) != (b"%08d" % last) * 512:
        sys.exit("block %d lost its last write %d" % (b, last))
print("writes %d stall %.0f ms" % (i, worst * 1000))
PY
writer=$!
mkdir "$MNT/st" || fail "mkdir st"
"$TOP/build/bin/zstress" -q -p 3 -d 16 -w 60 -s 64 "$MNT/st" >/tmp/zstress.out 2>&1 &
zs=$!
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
touch /tmp/stop
wait $zs || fail "zstress saw errors across the takeover: $(tail -5 /tmp/zstress.out)"
wait $writer || fail "held-open writer: $(cat /tmp/writer.out)"
echo "writer $(cat /tmp/writer.out)"
echo "stall: takeover $(sed -n 's/.*stall \([0-9]*\) ms/\1/p' /tmp/writer.out) ms"
zpmfs_stop
zpmfs_fsck "after two takeovers under load"
check_dmesg_clean || fail "kernel log"
pass
