#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# zpmfs crash consistency on the host: the crash-state explorer
# (tests/crash) runs every metadata op alone and seeded random mixes with
# every store, flush and fence recorded, and checks every crash image it
# builds (mount with journal replay, oracle, fsck.zpmfs).  Needs at least
# 10 000 images, zero violations, nothing left unflushed or unfenced, and
# first its self-test: planted bugs (an unflushed store, an unfenced flush,
# an unpersisted link count) must be caught.
#   CRASH_LONG=1   more seeds, longer mixes, more subsets (`make crash-long`)
#   CRASH_SEED=N   the seed (default 1)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
BIN=$BUILD/tests/crash/zpmfs_crash

make -s -C "$TOP/fs/zpmfs" >/dev/null && make -s -C "$TOP/tests/crash" >/dev/null ||
	{ echo "FAIL: build"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crash.XXXXXX")
# the crash image is rewritten for every check: keep it in memory if we can
shm=$tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && shm=$(mktemp -d /dev/shm/crash.XXXXXX)
trap 'rm -rf "$tmp" "$shm"' EXIT
seed=${CRASH_SEED:-1}
if [ "${CRASH_LONG:-0}" = 1 ]; then
	args=(--mixes 40 --mix-ops 80 --singles 64 --randoms 16)
	min=100000
else
	args=(--mixes 8 --mix-ops 40)
	min=10000
fi
rc=0
out=$tmp/out
"$BIN" --mkfs "$BUILD/bin/mkfs.zpmfs" \
	--tmpdir "$shm" --seed "$seed" --self-test "${args[@]}" >"$out" 2>&1 || rc=1
# the self-test's own findings come first and are expected
grep -q "self-test passed" "$out" || { echo "FAIL: the explorer's self-test"; rc=1; }
sed '1,/self-test/d' "$out" | grep -E '^(VIOLATION|FLAG|      )' | head -60
tail -1 "$out"
images=$(sed -n 's/.* fence points, \([0-9]*\) crash images.*/\1/p' "$out")
[ -n "$images" ] || { echo "FAIL: no summary"; tail -20 "$out"; exit 1; }
if [ "$images" -lt "$min" ]; then
	echo "FAIL: only $images crash images (want >= $min)"
	rc=1
fi
[ $rc = 0 ] && echo PASS
exit $rc
