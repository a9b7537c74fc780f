#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 240
# SPDX-License-Identifier: BSD-3-Clause
# An answer that only reports attributes must never roll back a change
# made after it was computed.  A LOOKUP of a second name of a file is held
# (zusd --late-op) while the file is appended to through the first name;
# the late answer still carries the old size.  The kernel used to apply
# it: the size went back, and the next O_APPEND write overwrote the data
# the first append had written.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm

check_contents() {
	local want=$1 got
	got=$(tr -s abc <"$MNT/a")
	[ "$got" = "$want" ] || fail "$2: contents $got, want $want"
}

for opts in "" nomapcache; do
	ZUSD_ARGS="--late-op LOOKUP:1500000" zpmfs_up "$opts"
	head -c 4096 /dev/zero | tr '\0' a >"$MNT/a" || fail "create"
	ln "$MNT/a" "$MNT/b" || fail "link"
	exec 7>>"$MNT/a" || fail "open O_APPEND"
	sync
	echo 2 >/proc/sys/vm/drop_caches	# forget the dentry of b
	stat -c %s "$MNT/b" >/tmp/stat.out &
	spid=$!
	# wait until stat sleeps in the kernel: its LOOKUP is with the server
	for ((i = 0; i < 100; i++)); do
		[ "$(awk '{ print $3 }' /proc/$spid/stat 2>/dev/null)" = D ] && break
		sleep 0.02
	done
	head -c 4096 /dev/zero | tr '\0' b >&7 || fail "first append"
	wait "$spid" || fail "stat b"
	size=$(stat -c %s "$MNT/a")
	[ "$size" = 8192 ] || fail "[$opts] size after the late lookup: $size, want 8192"
	head -c 4096 /dev/zero | tr '\0' c >&7 || fail "second append"
	exec 7>&-
	size=$(stat -c %s "$MNT/a")
	[ "$size" = 12288 ] || fail "[$opts] size after two appends: $size, want 12288"
	check_contents abc "[$opts]"
	zpmfs_stop
done
check_dmesg_clean || fail "kernel log"
pass
