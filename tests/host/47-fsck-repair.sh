#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# fsck.zpmfs -n/-p/-y on damaged images: what each mode repairs, exit
# codes as e2fsck's, progress with -C; then the crash explorer with
# --fsck-first: every crash image is repaired by fsck.zpmfs -p (journal
# rollback included) before it is mounted, and must then pass the oracle.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
MKFS=$BUILD/bin/mkfs.zpmfs
FSCK=$BUILD/bin/fsck.zpmfs

make -s -C "$TOP/fs/zpmfs" >/dev/null && make -s -C "$TOP/tests/crash" >/dev/null ||
	{ echo "FAIL: build"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*"; rc=1; }
img=$tmp/img

# a little-endian u64 of the superblock (block 1) at byte offset $1
sb64() { od -An -t u8 -j $((4096 + $1)) -N 8 "$img" | tr -d ' '; }
# write the 4-byte little-endian value $2 at byte offset $1
put32() {
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($2 & 255)) \
		$((($2 >> 8) & 255)) $((($2 >> 16) & 255)) $((($2 >> 24) & 255)))" |
		dd of="$img" bs=1 seek="$1" conv=notrunc status=none
}
expect() {	# expect RC ARGS...: fsck.zpmfs ARGS must exit RC
	local want=$1 got
	shift
	"$FSCK" "$@" "$img" >"$tmp/out" 2>&1
	got=$?
	[ "$got" = "$want" ] || { fail "fsck.zpmfs $* exit $got, want $want"; cat "$tmp/out"; }
}

"$MKFS" -q -s 8M -i 256 "$img" || fail mkfs
itable=$(( $(sb64 120) * 4096 ))
bitmap=$(( $(sb64 136) * 4096 ))
total=$(sb64 96)
ino() { echo $((itable + ($1 - 1) * 256)); }	# byte offset of inode $1

expect 0 -n
expect 0 -p
expect 8 -n -p

# a leaked block (the last one marked used): -n 1, -p repairs it
last=$((total - 1))
printf "\\x$(printf %02x $((1 << (last % 8))))" |
	dd of="$img" bs=1 seek=$((bitmap + last / 8)) conv=notrunc status=none
expect 1 -n
grep -q "unreachable" "$tmp/out" || fail "leak not reported"
expect 1 -p
expect 0 -n

# the root's link count: an error -n leaves (4), -p fixes (1)
put32 $(( $(ino 1) + 4 )) 7
expect 4 -n
expect 1 -p
expect 0 -n

# an orphan (nlink 0, no name): -p frees it
put32 "$(ino 5)" $((0100644))
expect 1 -n
expect 1 -p
expect 0 -n

# a lost inode (nlink 1, no name): -p must leave it (4), -y frees it (1)
put32 "$(ino 6)" $((0100644))
put32 $(( $(ino 6) + 4 )) 1
expect 1 -n
expect 4 -p
expect 1 -y
expect 0 -n

# progress with -C
"$FSCK" -C -n "$img" 2>&1 | grep -q "inodes 100%" || fail "no progress with -C"
# a mounted image is refused (when something here has a mount to show)
src=$(awk '$1 ~ /^\// { print $1; exit }' /proc/mounts)
if [ -n "$src" ] && [ -e "$src" ]; then
	"$FSCK" -n "$src" 2>&1 | grep -q "is mounted: refusing" ||
		fail "mounted $src not refused"
fi

# crash images repaired by fsck -p before their mount
shm=$tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && shm=$(mktemp -d /dev/shm/crash.XXXXXX)
out=$("$BUILD/tests/crash/zpmfs_crash" --mkfs "$MKFS" --tmpdir "$shm" \
	--fsck-first --mixes 2 2>&1) || { echo "$out" | grep -A6 VIOLATION | head -40; fail "explorer --fsck-first"; }
[ "$shm" != "$tmp" ] && rm -rf "$shm"
echo "$out" | tail -2
[ $rc = 0 ] && echo PASS
exit $rc
