#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# zpassthrough through the FUSE bridge, natively on the host: the POSIX
# suite, the zfsx exerciser and zstress over a temp dir, then remount and compare
# what the mount shows with the backing directory.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
BIN=$BUILD/bin

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (allow_other, permission tests)"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
for d in fs/passthrough fuse tests/posix tests/fsx; do
	[ -f "$TOP/$d/Makefile" ] && make -s -C "$TOP/$d" >/dev/null
done
for b in zus-fuse posix-test; do
	[ -x "$BIN/$b" ] || { echo "FAIL: $BIN/$b not built"; exit 1; }
done

# shellcheck source=tests/host/fuse-lib.bash
. "$TOP/tests/host/fuse-lib.bash"

mkdir "$mnt" "$tmp/back"
opts=backing=$tmp/back
# the plugin's mount errors, as the brief words them
out=$("$BIN/zus-fuse" -f -t zpassthrough none "$mnt" 2>&1) && fail "mounted without backing"
echo "$out" | grep -q "missing option backing=DIR" || fail "no-backing message: $out"
out=$("$BIN/zus-fuse" -f -t zpassthrough -o backing=$tmp/nope none "$mnt" 2>&1) && fail "mounted a missing dir"
echo "$out" | grep -q "backing $tmp/nope: No such file or directory" || fail "missing-dir message: $out"
out=$("$BIN/zus-fuse" -f -t zpassthrough -o $opts,bogus none "$mnt" 2>&1) && fail "unknown option taken"
echo "$out" | grep -q "unknown option 'bogus'" || fail "unknown-option message: $out"

mount_fuse -t zpassthrough -o "$opts" none "$mnt" || fail "mount"

# a second mount of the same kind, for the EXDEV tests (a daemon)
mkdir "$tmp/mnt2"
mkdir "$tmp/back2"
"$BIN/zus-fuse" -t zpassthrough -o "backing=$tmp/back2" none "$tmp/mnt2" ||
	fail "second mount"
# no -s here: ENOSPC would mean filling the host disk.  -n 10000: every
# inode the kernel caches holds an O_PATH fd in zpassthrough, and this
# container caps RLIMIT_NOFILE at 20000 (even for root).
"$BIN/posix-test" -n 10000 -m "$tmp/mnt2" "$mnt" >"$tmp/posix.log" 2>&1
prc=$?
grep -v '^ok ' "$tmp/posix.log"
tail -1 "$tmp/posix.log" | grep -Eq '^[0-9]+ passed, 0 failed' || prc=1
[ $prc = 0 ] || fail "posix-test"
fusermount3 -u "$tmp/mnt2" || fail "unmount the second mount"

if [ -x "$BIN/zfsx" ]; then
	"$BIN/zfsx" -N 100000 "$mnt/fsx" >"$tmp/fsx.log" 2>&1 ||
		{ tail -30 "$tmp/fsx.log"; fail "zfsx"; }
	tail -1 "$tmp/fsx.log"
else
	echo "note: $BIN/zfsx not built, exerciser part not run"
fi

# concurrent processes on shared names, each checking a private file
if [ -x "$BIN/zstress" ]; then
	mkdir "$mnt/stress"
	"$BIN/zstress" -q -p 4 -d 20 -s 1 -w 120 "$mnt/stress" >"$tmp/zstress.log" 2>&1 ||
		{ tail -40 "$tmp/zstress.log"; fail "zstress"; }
	grep -E '^zstress: (done after|[0-9]+ failures)' "$tmp/zstress.log"
	rm -rf "$mnt/stress" || fail "removing the stress tree"
else
	echo "note: $BIN/zstress not built, stress part not run"
fi

# persistence across unmount/remount
head -c 3M /dev/urandom >"$tmp/ref"
mkdir -p "$mnt/keep/sub"
cp "$tmp/ref" "$mnt/keep/sub/data"
ln -s sub/data "$mnt/keep/link"
sum=$(sha256sum <"$mnt/keep/sub/data")
umount_fuse || fail "unmount (zus-fuse exit status)"
cmp -s "$tmp/ref" "$tmp/back/keep/sub/data" || fail "backing file differs"
mount_fuse -t zpassthrough -o "$opts" none "$mnt" || fail "remount"
[ "$(sha256sum <"$mnt/keep/sub/data")" = "$sum" ] || fail "data changed over remount"
[ "$(readlink "$mnt/keep/link")" = sub/data ] || fail "symlink lost"
cmp -s "$tmp/ref" "$mnt/keep/link" || fail "data through the symlink"
# a directory renamed while its inode is known keeps working (O_PATH fds)
exec 3<"$mnt/keep/sub/data"
mv "$mnt/keep" "$mnt/kept"
cmp -s "$tmp/ref" /dev/fd/3 || fail "open file after renaming its directory"
exec 3<&-
cmp -s "$tmp/ref" "$mnt/kept/sub/data" || fail "renamed directory"
[ -f "$tmp/back/kept/sub/data" ] || fail "rename not in the backing dir"
umount_fuse || fail "second unmount"
echo PASS
