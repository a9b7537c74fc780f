#!/bin/bash
# vm: --pmem 64M --cpus 2 --timeout 300
# SPDX-License-Identifier: BSD-3-Clause
# Names and attributes with a TTL (zufs_ioc_mount.entry_ttl_ms/attr_ttl_ms):
# zpassthrough's backing tree changes behind the server's back (a rename,
# a new name where a lookup failed, a chmod, a growing file, a removal),
# and the mount shows each change once its TTL (-o ttl=MS) has passed,
# while a mount that trusts its cache for an hour still shows the old view.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
BACK=/mnt/zvfs-ext4
passthrough_start "$BACK"
pid=$PT_PID
B=$BACK/back

mount -t zpassthrough -o backing="$B",ttl=abc none "$MNT" 2>/dev/null &&
	fail "ttl=abc accepted"
mount -t zpassthrough -o backing="$B",ttl=3600001 none "$MNT" 2>/dev/null &&
	fail "ttl past an hour accepted"

# the same changes behind the mount's back, seen through a mount with $1
outside_changes() {
	local ttl=$1
	rm -rf "${B:?}"/*
	mount -t zpassthrough -o backing="$B",ttl=$ttl none "$MNT" ||
		fail "mount ttl=$ttl: $(tail -3 /tmp/zusd.log)"
	grep " $MNT " /proc/mounts | grep -q "ttl=$ttl" || fail "ttl=$ttl not in /proc/mounts"
	echo a >"$MNT/f" && mkdir "$MNT/sub" && echo x >"$MNT/gone" ||
		fail "setup ttl=$ttl"
	# cached: a name, a failed lookup, attributes
	[ -e "$MNT/f" ] && [ ! -e "$MNT/later" ] && [ -e "$MNT/gone" ] &&
		[ "$(stat -c %a:%s "$MNT/f")" = 644:2 ] || fail "first look ttl=$ttl"
	mv "$B/f" "$B/g"
	echo new >"$B/later"
	rm "$B/gone"
	chmod 600 "$B/g"
	echo more >>"$B/g"
	mv "$B/sub" "$B/sub2"
	sleep 1
	view=
	for n in f g later gone sub sub2; do
		[ -e "$MNT/$n" ] && view="$view $n"
	done
	view="$view $(stat -c %a:%s "$MNT/g" 2>/dev/null)"
	echo "ttl=$ttl: after 1 s the mount shows:$view"
	umount "$MNT" || fail "umount ttl=$ttl"
}

outside_changes 200
[ "$view" = " g later sub2 600:7" ] ||
	fail "ttl=200: the outside changes are not all seen: '$view'"
# the control: trusted for an hour, the old view stays
outside_changes 3600000
case $view in
" f g gone sub sub2 "*) ;;
*) fail "ttl=3600000: expected the cached view, got '$view'" ;;
esac

kill "$pid"
wait "$pid" 2>/dev/null
umount "$BACK"
check_dmesg_clean || fail "kernel log"
pass
