#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# zpmfs over a set of two image files through the FUSE bridge (-o devs=):
# the POSIX suite (no slow tests; not large_file, which wants more room:
# the 40 MiB file below spans both members instead), data across a
# remount by the other member, fsck of the set; the set is the files'
# sum; every assembly refusal names the file: a member missing, one of
# another set, two files claiming one member, tables that disagree, no
# table; and a mapped file is locked against the zpmfs tools.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
BIN=$BUILD/bin

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (allow_other, permission tests)"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
for d in fs/zpmfs fuse tests/posix; do
	make -s -C "$TOP/$d" >/dev/null || { echo "FAIL: build $d"; exit 1; }
done

# shellcheck source=tests/host/fuse-lib.bash
. "$TOP/tests/host/fuse-lib.bash"
mkdir "$mnt"
a=$tmp/a b=$tmp/b

# refuse RC WHAT DEVS SOURCE: zus-fuse must fail saying WHAT
refuse() {
	timeout 20 "$BIN/zus-fuse" -f -t zpmfs -o "devs=$2" "$3" "$mnt" \
		>"$tmp/out" 2>&1 && fail "mounted: $1"
	grep -q "$1" "$tmp/out" || { cat "$tmp/out"; fail "no '$1'"; }
}

"$BIN/mkfs.zpmfs" -q -s 32M "$a" "$b" || fail "mkfs.zpmfs of the set"
mount_fuse -t zpmfs -o "devs=$a:$b" "$a" "$mnt" || fail "mount the set"
size=$(($(stat -f -c '%b * %S' "$mnt")))
((size > 48 << 20)) || fail "the set is not both files: $size bytes"
"$BIN/posix-test" -x large_file "$mnt" >"$tmp/posix.log" 2>&1
grep -v '^ok ' "$tmp/posix.log"
tail -1 "$tmp/posix.log" | grep -Eq '^[0-9]+ passed, 0 failed' || fail "posix-test"
# more than one member holds: the second one is used
head -c 40M /dev/urandom >"$mnt/big" || fail "writing over both members"
sum=$(sha1sum <"$mnt/big")
umount_fuse || fail "umount"
"$BIN/fsck.zpmfs" "$a" "$b" >"$tmp/fsck.log" 2>&1 ||
	{ cat "$tmp/fsck.log"; fail "fsck.zpmfs of the set"; }
mount_fuse -t zpmfs -o "devs=$a" "$b" "$mnt" || fail "mount by the other member"
[ "$(sha1sum <"$mnt/big")" = "$sum" ] || fail "data changed over remount"
# a mapped image is the bridge's: the tools must not write it meanwhile
"$BIN/fsck.zpmfs" "$a" "$b" >"$tmp/out" 2>&1 && fail "fsck of a mapped set"
grep -q "in use" "$tmp/out" || { cat "$tmp/out"; fail "fsck: no 'in use'"; }
"$BIN/mkfs.zpmfs" -f -q "$a" >"$tmp/out" 2>&1 && fail "mkfs over a mapped member"
grep -q "in use" "$tmp/out" || { cat "$tmp/out"; fail "mkfs: no 'in use'"; }
umount_fuse || fail "umount"

# refusals, each naming the file
refuse "member 1 of the set of 2" "" "$a"
"$BIN/mkfs.zpmfs" -q -s 32M "$tmp/o1" "$tmp/o2" || fail "mkfs of another set"
refuse "$tmp/o2 belongs to another set than $a" "$a:$tmp/o2" "$a"
cp "$a" "$tmp/a2"
refuse "both claim member 0" "$a:$tmp/a2:$b" "$a"
# b's table as if it came from a set whose members differ
truncate -s 8M "$tmp/c"
"$BIN/zpmfs-grow" -q --crash-after 3 "$a" "$b" "$tmp/c"
refuse "$a: its device table disagrees" "$a:$b:$tmp/c" "$tmp/c"
truncate -s 8M "$tmp/o3"
refuse "$tmp/o3: no zufs device table" "$a:$tmp/o3" "$a"
echo PASS
