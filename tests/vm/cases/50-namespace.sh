#!/bin/bash
# vm: --pmem 512M --cpus 2 --timeout 900
# SPDX-License-Identifier: BSD-3-Clause
# The POSIX conformance suite (tests/posix) on zpmfs through zuf.ko: with
# the kernel's map cache and with -o nomapcache, plus a 100 000-entry
# directory listing.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
[ -x "$TOP/build/bin/posix-test" ] || skip "posix-test not built"

run_suite() {
	local opts=$1 out
	shift
	zpmfs_up "$opts"
	out=$("$TOP/build/bin/posix-test" "$@" "$MNT" 2>&1)
	local rc=$?
	printf '%s\n' "$out" | grep -v '^ok '
	zpmfs_down
	[ $rc -eq 0 ] || fail "posix-test ${opts:+(-o $opts) }failed"
	check_dmesg_clean || fail "kernel log after posix-test ${opts}"
}

run_suite "" -s
run_suite nomapcache
run_suite "" -o readdir_big -n 100000
zpmfs_stop
pass
