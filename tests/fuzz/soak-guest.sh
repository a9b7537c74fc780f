#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The fuzzer's soak, inside the VM (tests/fuzz/soak.sh boots it): the
# workloads of tests/vm/cases/59-fuzz.sh on zpmfs and zpassthrough under
# zusd --fuzz for FZ_MINUTES, in rounds of FZ_ROUND seconds; a server that
# died (class die) is restarted with the next seed.  zusd's stats lines
# (answers/s, op codes and classes hit) stream to stdout, and its per-op
# table every tenth report and at the end.
. "$(dirname "$0")/../vm/lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
SEED=${FZ_SEED:-1}
PM=${FZ_PERMILLE:-150}
CLASSES=${FZ_CLASSES:-default}
MINUTES=${FZ_MINUTES:-10}
ROUND=${FZ_ROUND:-60}
REPORT=${FZ_REPORT:-10}
. "$TOP/tests/fuzz/lib.sh"

zufs_load
grep -q ' /sys/fs/zuf ' /proc/mounts || mount -t zuf zuf /sys/fs/zuf || fail "zuf-root"
BASE=$(zuf_slabs)
end=$((SECONDS + MINUTES * 60))
seed=$SEED
while ((SECONDS < end)); do
	if ! kill -0 "$ZPID" 2>/dev/null; then
		umount_all
		start_zusd "$seed" "$PM,$CLASSES" "quiet,table,report=$REPORT"
		tail -n +1 -f "$LOGS/zusd.$N" --pid="$ZPID" |
			grep --line-buffered -E 'fuzz: (stats|op |final|died)' &
		seed=$((seed + 1))
		mount_all soft
	fi
	s=$((end - SECONDS < ROUND ? end - SECONDS : ROUND))
	((s > 0)) || break
	workloads "$ZP" "$s"
	workloads "$PT" "$s"
	churn
	reap
	check_dmesg_clean || fail "kernel log (seeds $SEED..$seed)"
done
umount_all
kill -0 "$ZPID" 2>/dev/null && stop_zusd
sleep 0.5
echo "soak: $(answers) answers in $MINUTES min over $N servers (seeds $SEED..$((seed - 1)))"
check_dmesg_clean || fail "kernel log (seeds $SEED..$seed)"
AFTER=$(zuf_slabs)
[ "$AFTER" = "$BASE" ] || fail "zuf slab caches: baseline '$BASE', now '$AFTER'"
zufs_unload
check_dmesg_clean || fail "kernel log after rmmod"
pass
