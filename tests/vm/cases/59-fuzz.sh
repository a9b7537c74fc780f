#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 1200
# SPDX-License-Identifier: BSD-3-Clause
# The ABI fuzzer (zusd --fuzz): zpmfs and zpassthrough served by one zusd
# that mutates a share of its answers (errnos, lengths, attributes, inode
# numbers, extents, dirents, names, headers, late and repeated answers,
# mount answers, bad ioctls) while posix-test, zfsx and zstress run on
# both.  The server is killed mid-run and restarted; a last round holds
# answers forever and dies mid-answer.  Pass: no BUG/WARNING/Oops, every
# workload dies when killed (nothing stays in D state), umount works, rmmod zuf
# works, zuf's slab caches are back to their baseline, and the fuzzer
# answered at least ZFUZZ_MIN_ANSWERS (100 000) times.
#   ZFUZZ_SEED (1), ZFUZZ_PERMILLE (100), ZFUZZ_SECS (40: round 1 and the
#   first slice of round 2, which goes on in 20 s slices up to
#   ZFUZZ_MAX_SECS (480: a host busy with other VMs) until the count is
#   reached), ZFUZZ_MIN_ANSWERS.
#   A failure names its seed and the server's last mutations ("fuzz: seed S
#   answer chan C seq Q OP: class: what"); tests/fuzz/README.md.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
SEED=${ZFUZZ_SEED:-1}
PM=${ZFUZZ_PERMILLE:-100}
SECS=${ZFUZZ_SECS:-40}
MIN=${ZFUZZ_MIN_ANSWERS:-100000}
B=$TOP/build/bin
for p in zusd mkfs.zpmfs posix-test zfsx zstress; do
	[ -x "$B/$p" ] || skip "$p not built"
done
[ -f "$TOP/build/plugins/zpmfs.so" ] && [ -f "$TOP/build/plugins/zpassthrough.so" ] ||
	skip "plugins not built"
[ -b /dev/pmem0 ] || skip "no /dev/pmem0"
. "$TOP/tests/fuzz/lib.sh"

zufs_load
grep -q ' /sys/fs/zuf ' /proc/mounts || mount -t zuf zuf /sys/fs/zuf || fail "zuf-root"
BASE=$(zuf_slabs)
echo "slab baseline: ${BASE//$'\n'/, }"

T0=$SECONDS
# round 1: fuzz, then kill -9 the server under the workloads
start_zusd "$SEED" "$PM,-hold"
mount_all
workloads "$ZP" $((SECS + 5))
workloads "$PT" $((SECS + 5))
churn
sleep $((SECS - 10))
kill -9 "$ZPID"
wait "$ZPID" 2>/dev/null
echo "round 1: zusd killed after ${SECS}s, $(answers) answers so far"
reap
umount_all
check_dmesg_clean || fz_fail "kernel log, round 1 (seed $SEED)"

# round 2: a new server, another seed, until the answers reach $MIN (at
# most ZFUZZ_MAX_SECS), stopped cleanly
start_zusd $((SEED + 1)) "$PM,-hold"
mount_all
end=$((SECONDS + ${ZFUZZ_MAX_SECS:-480}))
while (($(answers) < MIN && SECONDS < end)); do
	workloads "$ZP" "$SECS"
	workloads "$PT" "$SECS"
	churn
	reap
	check_dmesg_clean || fz_fail "kernel log, round 2 (seed $((SEED + 1)))"
	SECS=20
done
umount_all
stop_zusd
grep 'fuzz: final' "$LOGS/zusd.$N"
check_dmesg_clean || fz_fail "kernel log, round 2 (seed $((SEED + 1)))"

# round 3: answers held forever or cut by the server's death: every
# caller must be killable, and a dead server must leave umount working
start_zusd $((SEED + 2)) "30,never,die,hold,twice,errno"
mount_all soft
workloads "$ZP" 15
workloads "$PT" 15
reap
kill -0 "$ZPID" 2>/dev/null && echo "round 3: zusd alive after 15 s" ||
	echo "round 3: zusd died mid-answer: $(grep -c 'die mid-answer' "$LOGS/zusd.$N") time(s)"
kill -TERM "$ZPID" 2>/dev/null
timeout 60 tail --pid="$ZPID" -f /dev/null || { kill -9 "$ZPID"; fail "zusd did not stop in round 3"; }
wait "$ZPID" 2>/dev/null
umount_all

TOTAL=$(answers)
echo "fuzzed answers: $TOTAL in $((SECONDS - T0)) s over $N servers"
grep -h -E 'fuzz: (final|op )' "$LOGS/zusd.2" | sed 's/^zusd: fuzz: /  /'
check_dmesg_clean || fail "kernel log (seed $SEED)"
AFTER=$(zuf_slabs)
[ "$AFTER" = "$BASE" ] || fail "zuf slab caches: baseline '$BASE', now '$AFTER'"
zufs_unload
check_dmesg_clean || fail "kernel log after rmmod"
[ "$TOTAL" -ge "$MIN" ] || fail "only $TOTAL fuzzed answers (want $MIN)"
pass "$TOTAL answers"
