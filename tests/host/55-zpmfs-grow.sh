#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# zpmfs-grow on image files: a 2-member set with data grows by a third
# member; a crash after each of the grow's ordered writes (--crash-after)
# leaves a state fsck.zpmfs -n reports, that no mount takes, and that
# fsck.zpmfs -p (or running zpmfs-grow again) turns into the old set or
# the new one, fsck clean, the data byte-identical.  Then new data spills
# onto the new member, a member table left from before the grow is
# rewritten, and every refusal: no room, beyond --max-size, too small,
# a device of another set, a mounted member, an unclean filesystem.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
BIN=$BUILD/bin
MKFS=$BIN/mkfs.zpmfs
FSCK=$BIN/fsck.zpmfs
GROW=$BIN/zpmfs-grow

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (FUSE mounts)"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
for d in fs/zpmfs fuse; do
	make -s -C "$TOP/$d" >/dev/null || { echo "FAIL: build $d"; exit 1; }
done

# shellcheck source=tests/host/fuse-lib.bash
. "$TOP/tests/host/fuse-lib.bash"
mkdir "$mnt"
cd "$tmp" || exit 1
a=$tmp/a b=$tmp/b c=$tmp/c

# expect RC CMD...: CMD must exit RC (its output in $tmp/out)
expect() {
	local want=$1 got
	shift
	"$@" >"$tmp/out" 2>&1
	got=$?
	[ "$got" = "$want" ] || { cat "$tmp/out"; fail "$* exit $got, want $want"; }
}
said() { grep -q "$1" "$tmp/out" || { cat "$tmp/out"; fail "no '$1' in: $2"; }; }
# mount the set DEVS... (colon list) and compare every file with its sum
check_data() {
	mount_fuse -t zpmfs -o "devs=$1" "${1%%:*}" "$mnt" || fail "mount $1 ($2)"
	(cd "$mnt" && sha1sum -c --quiet "$tmp/sums") || fail "data differs: $2"
	umount_fuse || fail "umount $1 ($2)"
}
table_gone() { [ "$(od -An -tx8 -N8 "$1" | tr -d ' ')" = 0000000000000000 ]; }

# a set of two 8 MiB members (room: 4 x 16 MiB) with data on both
expect 0 "$MKFS" -s 8M "$a" "$b"
said "room to grow (zpmfs-grow) to 64 MiB" "mkfs summary"
mount_fuse -t zpmfs -o "devs=$a:$b" "$a" "$mnt" || fail "mount the set"
mkdir "$mnt/d"
head -c 9M /dev/urandom >"$mnt/d/big"
for i in $(seq 20); do echo "small $i" >"$mnt/d/s$i"; done
ln -s d/big "$mnt/link"
(cd "$mnt" && sha1sum d/big d/s* link) >"$tmp/sums"
umount_fuse || fail "umount"
expect 0 "$FSCK" "$a" "$b"
cp "$a" a0; cp "$b" b0

# six ordered writes: room, c's table, b's, a's, super copy, primary
for n in 1 2 3 4 5 6; do
	cp a0 "$a"; cp b0 "$b"; rm -f "$c"; truncate -s 8M "$c"
	expect 3 "$GROW" --crash-after $n "$a" "$b" "$c"
	if [ $n = 1 ]; then
		expect 0 "$FSCK" -n "$a" "$b"
	elif [ $n -lt 6 ]; then
		expect 4 "$FSCK" -n "$a" "$b" "$c"
		said "unfinished zpmfs-grow" "fsck -n after step $n"
		# neither the bridge (tables disagree) nor the plugin (the
		# superblock does not cover the set) mounts half a grow
		expect 1 timeout 20 "$BIN/zus-fuse" -f -t zpmfs -o "devs=$a:$b:$c" "$a" "$mnt"
		[ $n -lt 4 ] && said "disagrees" "mount after step $n"
		[ $n -ge 4 ] && said "unfinished zpmfs-grow" "mount after step $n"
		expect 1 "$FSCK" -p "$a" "$b" "$c"
		table_gone "$c" || fail "step $n: the new member's table survived the undo"
		cmp -n 1024 <(tail -c +4097 "$a") <(tail -c +8193 "$a") ||
			fail "step $n: superblock copy differs from the primary"
	fi
	if [ $n = 6 ]; then
		expect 0 "$FSCK" -n "$a" "$b" "$c"
		check_data "$a:$b:$c" "after the commit"
	else
		expect 0 "$FSCK" -n "$a" "$b"
		check_data "$a:$b" "after a crash at step $n"
	fi
done

# a crash, then the same command again: it undoes and grows
cp a0 "$a"; cp b0 "$b"; rm -f "$c"; truncate -s 8M "$c"
expect 3 "$GROW" --crash-after 4 "$a" "$b" "$c"
expect 0 "$GROW" "$a" "$b" "$c"
said "joined the set as member 2" "grow after a crash"
expect 0 "$GROW" "$a" "$b" "$c"
said "member 2 of the set already" "grow again"
expect 0 "$FSCK" -n "$a" "$b" "$c"
check_data "$a:$b:$c" "after the grow"

# new data must land on the new member: more than a and b hold
mount_fuse -t zpmfs -o "devs=$a:$b:$c" "$c" "$mnt" || fail "mount the grown set"
head -c 10M /dev/urandom >"$mnt/spill" || fail "no room on the new member"
(cd "$mnt" && sha1sum spill) >>"$tmp/sums"
umount_fuse || fail "umount"
expect 0 "$FSCK" -n "$a" "$b" "$c"
check_data "$c:$b:$a" "after the spill"

# b's table from before the grow: fsck reports it, -p rewrites it
dd if=b0 of="$b" bs=4096 count=1 conv=notrunc status=none
expect 4 "$FSCK" -n "$a" "$b" "$c"
said "from before zpmfs-grow" "old table"
expect 1 "$FSCK" -p "$a" "$b" "$c"
expect 0 "$FSCK" -n "$a" "$b" "$c"

# refusals
truncate -s 48M d1
expect 1 "$GROW" "$a" "$b" "$c" d1
said "exceeds its room of 64 MiB" "beyond the default room"
expect 0 "$MKFS" -q -s 8M -m 0 x
truncate -s 8M d2
expect 1 "$GROW" x d2
said "no room to grow" "an image without room"
expect 0 "$MKFS" -q -f -s 8M -m 12M x
expect 1 "$GROW" x d2
said "exceeds its room of 12 MiB" "beyond --max-size"
expect 0 "$GROW" -s 4M x d2
truncate -s 128K tiny
expect 1 "$GROW" "$a" "$b" "$c" tiny
said "too small" "a tiny device"
expect 0 "$MKFS" -q -s 8M y
expect 1 "$GROW" "$a" "$b" "$c" y
said "already belongs to a zufs set" "a member of another set"
expect 1 "$GROW" "$a" "$b" "$c" "$b"
said "named twice" "a member twice"
expect 0 "$MKFS" -q -f -s 8196K -m 0 x
truncate -s 8M d3
expect 1 "$GROW" x d3
said "not a multiple of 256 KiB" "an unaligned last member"
mount_fuse -t zpmfs -o "devs=$a:$b:$c" "$a" "$mnt" || fail "mount"
expect 1 "$GROW" "$a" "$b" "$c" d3
said "is mounted" "a mounted set"
expect 1 "$GROW" "$c" "$b" "$a" d3
said "in use" "a mounted set, by another member"
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
fusermount3 -u "$mnt" 2>/dev/null
expect 1 "$GROW" "$a" "$b" "$c" d3
said "not unmounted cleanly" "an unclean filesystem"
echo "PASS: grow, 6 crash points, spill, old table, refusals"
