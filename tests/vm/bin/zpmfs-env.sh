# SPDX-License-Identifier: BSD-3-Clause
# Helpers for the VFS tests (tests/vm/cases/5*.sh): bring up zuf.ko, zusd
# and a fresh zpmfs on /dev/pmem0.  Source after tests/vm/lib.sh:
#
#   zpmfs_up [MOUNT-OPTIONS]   load, start zusd (once), mkfs, mount on $MNT
#   zpmfs_down                 unmount $MNT (zusd keeps running)
#   zpmfs_stop                 unmount, stop zusd, unload zuf
#   zpmfs_fsck WHAT            fsck.zpmfs /dev/pmem0 must be clean (exit 0:
#                              no error, no leaked block, no orphan)
#   zpmfs_fsck_after_remount WHAT   the same after one more mount and
#                              umount by a zusd without ZUSD_ARGS (frees
#                              the orphans a lying server's rejected
#                              answers leave, e.g. an O_TMPFILE's)
#   zvfs_cc NAME               build tests/vm/bin/NAME.c into $ZBIN/NAME
#   wait_registered FSTYPE     up to 10 s for zusd to register FSTYPE
#   passthrough_start BACK     ext4 on /dev/pmem0 mounted on BACK (its
#                              backing tree in BACK/back), zuf loaded and
#                              zusd serving zpassthrough.so (pid $PT_PID,
#                              log /tmp/zusd.log)
#
# ZUSD_ARGS (e.g. -d) are passed to zusd; its output is in $ZUSD_LOG.

MNT=${MNT:-/mnt/zpmfs}
ZBIN=${ZBIN:-/tmp/zvfs-bin}
ZUSD_PID=
ZUSD_LOG=${ZUSD_LOG:-/tmp/zusd.log}

zpmfs_up() {
	local opts=${1:-}

	[ -b /dev/pmem0 ] || skip "no /dev/pmem0 (run with --pmem)"
	[ -x "$TOP/build/bin/zusd" ] || skip "zusd not built"
	[ -f "$TOP/build/plugins/zpmfs.so" ] || skip "zpmfs.so not built"
	zufs_load
	mkdir -p /sys/fs/zuf "$MNT"
	if ! awk '$3 == "zuf"' /proc/mounts | grep -q .; then
		mount -t zuf zuf /sys/fs/zuf || fail "mount zuf-root"
	fi
	zpmfs_start_zusd
	"$TOP/build/bin/mkfs.zpmfs" -q -f /dev/pmem0 || fail "mkfs.zpmfs"
	mount -t zpmfs ${opts:+-o "$opts"} /dev/pmem0 "$MNT" ||
		fail "mount -t zpmfs ${opts:+-o $opts}: $(dmesg | tail -5)"
}

zpmfs_start_zusd() {
	[ -n "$ZUSD_PID" ] && return 0
	# shellcheck disable=SC2086
	"$TOP/build/bin/zusd" -f ${ZUSD_ARGS:-} \
		-p "$TOP/build/plugins/zpmfs.so" >"$ZUSD_LOG" 2>&1 &
	ZUSD_PID=$!
	wait_registered zpmfs ||
		fail "zusd did not register zpmfs: $(cat "$ZUSD_LOG")"
}

zpmfs_down() {
	grep -q " $MNT " /proc/mounts || return 0
	umount "$MNT" || fail "umount $MNT"
}

zpmfs_stop() {
	zpmfs_down
	if [ -n "$ZUSD_PID" ]; then
		kill "$ZUSD_PID" 2>/dev/null
		wait "$ZUSD_PID" 2>/dev/null
		ZUSD_PID=
	fi
}

zpmfs_fsck() {
	local out rc

	out=$("$TOP/build/bin/fsck.zpmfs" /dev/pmem0 2>&1)
	rc=$?
	[ $rc -eq 0 ] || { printf '%s\n' "$out"; fail "fsck.zpmfs $1: exit $rc"; }
	echo "fsck.zpmfs $1: clean"
}

zpmfs_fsck_after_remount() {
	zpmfs_stop
	ZUSD_ARGS='' zpmfs_start_zusd
	mount -t zpmfs /dev/pmem0 "$MNT" || fail "remount $1: $(dmesg | tail -3)"
	zpmfs_down
	zpmfs_fsck "$1"
}

wait_registered() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qw "$1" /proc/filesystems && return 0
		sleep 0.1
	done
	return 1
}

zvfs_cc() {
	local name=$1

	mkdir -p "$ZBIN"
	gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -pthread \
		-o "$ZBIN/$name" "$TOP/tests/vm/bin/$name.c" ||
		fail "cannot build $name"
}

passthrough_start() {
	local back=$1

	[ -f "$TOP/build/plugins/zpassthrough.so" ] || skip "zpassthrough.so not built"
	[ -b /dev/pmem0 ] || skip "no /dev/pmem0 (run with --pmem)"
	modprobe ext4 || skip "no ext4 module"
	mkfs.ext4 -q -F -b 4096 /dev/pmem0 || fail "mkfs.ext4"
	mkdir -p "$back" "$MNT"
	mount -t ext4 /dev/pmem0 "$back" || fail "mount ext4"
	mkdir -p "$back/back"
	zufs_load
	awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf
	"$TOP/build/bin/zusd" -f -p "$TOP/build/plugins/zpassthrough.so" \
		>/tmp/zusd.log 2>&1 &
	PT_PID=$!
	wait_registered zpassthrough ||
		fail "zusd did not register: $(cat /tmp/zusd.log)"
}
