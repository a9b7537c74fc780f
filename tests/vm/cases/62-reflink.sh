#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 300
# SPDX-License-Identifier: BSD-3-Clause
# Reflink on zpmfs through zuf: posix-test's reflink group with skips as
# failures (copy-on-write after FICLONE/FIDEDUPERANGE/copy_file_range by
# buffered write, O_DIRECT, MAP_SHARED stores from before and after the
# clone, MAP_PRIVATE; UNSHARE_RANGE; st_blocks and free space; clones to
# and past EOF), with and without the kernel's map cache; cp --reflink of
# a file then overwritten on both sides; fsck.zpmfs clean after each.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
PT=$TOP/build/bin/posix-test
[ -x "$PT" ] || skip "posix-test not built"

for opts in "" nomapcache; do
	zpmfs_up "$opts"
	"$PT" -R -o 'reflink,caps,copy' "$MNT" >/tmp/pt.log 2>&1 ||
		{ cat /tmp/pt.log; fail "posix-test reflink ${opts:+(-o $opts)}"; }
	tail -1 /tmp/pt.log

	# cp --reflink=always, then both sides overwritten in place
	head -c 8M /dev/urandom >"$MNT/a" || fail "write a"
	cp --reflink=always "$MNT/a" "$MNT/b" || fail "cp --reflink=always"
	cmp "$MNT/a" "$MNT/b" || fail "clone differs"
	cp "$MNT/a" /tmp/want_a && cp "$MNT/a" /tmp/want_b || fail "copies"
	zero4k() {	# FILE BLOCK COUNT [dd flags]
		dd if=/dev/zero of="$1" bs=4k seek="$2" count="$3" \
			conv=notrunc status=none ${4:+oflag=$4}
	}
	zero4k "$MNT/b" 100 3 || fail "overwrite b"
	zero4k /tmp/want_b 100 3
	zero4k "$MNT/a" 1000 1 direct || fail "O_DIRECT overwrite a"
	zero4k /tmp/want_a 1000 1
	cmp "$MNT/a" /tmp/want_a || fail "a is not a + its own write"
	cmp "$MNT/b" /tmp/want_b || fail "b is not a + its own write"
	zpmfs_down
	zpmfs_fsck "after reflink tests ${opts:+(-o $opts)}"
	check_dmesg_clean || fail "kernel log after reflink tests $opts"
done
zpmfs_stop
pass
