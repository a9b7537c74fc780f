#!/bin/bash
# vm: --pmem 512M --cpus 2 --mem 3G --timeout 1200
# SPDX-License-Identifier: BSD-3-Clause
# stress-ng's filesystem stressors on zpmfs, as an outside suite runs
# them: each for a few seconds with --verify, then umount and fsck.zpmfs
# must find the image clean (no error, no leaked block: its fallocate
# stressor found deferred frees leaking past the 64th run) and the kernel
# log clean.  A stressor failing or its verification failing fails the
# test; "out of resources" (ENOSPC on purpose: 1 GiB fallocates on a
# 512 MiB device) and "not implemented" do not.
#   ZUFS_STRESS_NG=all: the 46 stressors of the filesystem class (10 min
#   under TCG), not the eight that allocate, free and rename most;
#   ZUFS_STRESS_NG="s1 s2": those.  ZUFS_STRESS_NG_SECS (3, 6 with all)
#   per stressor.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
command -v stress-ng >/dev/null || skip "stress-ng not installed (make deps)"
FSCK=$TOP/build/bin/fsck.zpmfs
[ -x "$FSCK" ] || skip "fsck.zpmfs not built"
if [ "${ZUFS_STRESS_NG:-}" = all ]; then
	SECS=${ZUFS_STRESS_NG_SECS:-6}
	# binderfs and bind-mount stress mounts, not a filesystem
	LIST=$(stress-ng --class 'filesystem?' 2>&1 | sed 's/.*stressors: //' |
		tr ' ' '\n' | grep -vx -e binderfs -e bind-mount)
else
	SECS=${ZUFS_STRESS_NG_SECS:-3}
	LIST=${ZUFS_STRESS_NG:-fallocate fpunch hdd dir rename link xattr filename}
fi

zpmfs_up
failed=()
for s in $LIST; do
	t0=$SECONDS
	(cd "$MNT" && stress-ng --temp-path "$MNT" --"$s" 1 --timeout "$SECS" \
		--verify --metrics-brief) >/tmp/stress-ng.log 2>&1
	rc=$?
	ops=$(awk -v s="$s" '$4 == s { print $5; exit }' /tmp/stress-ng.log)
	# 3: out of resources, 4: not implemented here
	if [ "$rc" != 0 ] && [ "$rc" != 3 ] && [ "$rc" != 4 ]; then
		tail -20 /tmp/stress-ng.log
		failed+=("$s (exit $rc)")
	fi
	zpmfs_down
	"$FSCK" /dev/pmem0 >/tmp/fsck.log 2>&1
	frc=$?
	if [ "$frc" != 0 ]; then
		cat /tmp/fsck.log
		failed+=("$s (fsck exit $frc)")
		"$TOP/build/bin/mkfs.zpmfs" -q -f /dev/pmem0 || fail "mkfs.zpmfs"
	fi
	mount -t zpmfs /dev/pmem0 "$MNT" || fail "mount after $s"
	echo "$s: exit $rc, ${ops:-?} bogo ops, $((SECONDS - t0)) s, fsck exit $frc"
	check_dmesg_clean || fail "kernel log after stress-ng --$s"
done
zpmfs_stop
((${#failed[@]} == 0)) || fail "stress-ng: ${failed[*]}"
pass "$(wc -w <<<"$LIST") stressors, ${SECS} s each"
