#!/bin/bash
# vm: --pmem 256M --cpus 4 --timeout 400
# SPDX-License-Identifier: BSD-3-Clause
# No stale block mapping is ever used: punch/truncate race write(), read()
# and mmap stores on other CPUs while a neighbour file keeps reusing the
# freed blocks (tests/vm/bin/zcache.c); plus sequential checks: write after
# punch, read after truncate-then-extend, overwrite after the server moved
# blocks.  And no stale name: in a directory the kernel made (complete,
# ZUFS_FST_LOCAL_NAMES) creates and renames send no LOOKUP, yet once its
# names leave the dcache, or a whiteout takes a name, every name is found.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
zvfs_cc zcache

seq_checks() {
	local f=$MNT/seq g=$MNT/seq2
	# write after punch must not land in blocks given to another file
	dd if=/dev/zero bs=4096 count=64 2>/dev/null | tr '\0' 'a' >"$f"
	fallocate -p -o 0 -l $((64 * 4096)) "$f" || fail "punch"
	dd if=/dev/zero bs=4096 count=64 2>/dev/null | tr '\0' 'b' >"$g"
	dd if=/dev/zero bs=4096 count=64 2>/dev/null | tr '\0' 'c' |
		dd of="$f" conv=notrunc 2>/dev/null
	[ "$(tr -d 'b' <"$g" | wc -c)" = 0 ] || fail "write after punch hit another file"
	[ "$(tr -d 'c' <"$f" | wc -c)" = 0 ] || fail "write after punch lost"
	# read after truncate-then-extend sees zeros, not old bytes
	printf 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' >"$f"
	truncate -s 4 "$f"
	truncate -s 36 "$f"
	[ "$(od -An -c "$f" | tr -d ' \n')" = "xxxx$(printf '\\0%.0s' $(seq 32))" ] ||
		fail "truncate then extend shows stale bytes: $(od -c "$f")"
	# zero range and collapse (if supported) drop the cached map
	dd if=/dev/zero bs=4096 count=8 2>/dev/null | tr '\0' 'd' >"$f"
	if fallocate -z -o 4096 -l 4096 "$f" 2>/dev/null; then
		[ "$(dd if="$f" bs=4096 skip=1 count=1 2>/dev/null | tr -d '\0' | wc -c)" = 0 ] ||
			fail "zero range not zero"
	fi
	rm -f "$f" "$g"
}

# GET_BLOCKS round trips of 256 4 KiB overwrites of mapped blocks
count_gb() {
	local f=$MNT/rt before
	dd if=/dev/zero of="$f" bs=1M count=1 2>/dev/null
	sync
	before=$(grep -c GET_BLOCKS "$ZUSD_LOG")
	dd if=/dev/zero of="$f" bs=4k count=256 conv=notrunc 2>/dev/null
	echo $(($(grep -c GET_BLOCKS "$ZUSD_LOG") - before))
	rm -f "$f"
}

for opts in "" nomapcache; do
	zpmfs_up "$opts"
	seq_checks
	"$ZBIN/zcache" -t 30 "$MNT" || fail "zcache ${opts:+(-o $opts)}"
	zpmfs_down
	check_dmesg_clean || fail "kernel log after zcache $opts"
done
zpmfs_stop

# mtime of writes that hit the map cache (no server round trip) must
# reach the server: on fsync, and on eviction at the latest
times_check() {
	local f=$MNT/times g=$MNT/times2 t1 t2
	dd if=/dev/zero of="$f" bs=64k count=1 2>/dev/null
	dd if=/dev/zero of="$g" bs=64k count=1 2>/dev/null
	sleep 1.1
	dd if=/dev/zero of="$f" bs=4k count=1 conv=notrunc,fsync 2>/dev/null
	dd if=/dev/zero of="$g" bs=4k count=1 conv=notrunc 2>/dev/null
	t1="$(stat -c %y "$f") $(stat -c %y "$g")"
	umount "$MNT" || fail "umount"
	mount -t zpmfs /dev/pmem0 "$MNT" || fail "remount"
	t2="$(stat -c %y "$f") $(stat -c %y "$g")"
	[ "$t1" = "$t2" ] || fail "mtime lost across remount: '$t1' -> '$t2'"
}
zpmfs_up
times_check
zpmfs_stop

lookups() {
	grep -c ' LOOKUP ' "$ZUSD_LOG"
}

# renameat2(RENAME_WHITEOUT) of $1 to $2 (same directory)
whiteout_rename() {
	python3 - "$1" "$2" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
# renameat2(AT_FDCWD, old, AT_FDCWD, new, RENAME_WHITEOUT)
if libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 4):
    sys.exit(os.strerror(ctypes.get_errno()))
PY
}

complete_dir_checks() {
	local d=$MNT/cdir before n i
	mkdir "$d" || fail "mkdir"
	before=$(lookups)
	for i in $(seq 1 20); do : >"$d/f$i" || fail "create f$i"; done
	mv "$d/f1" "$d/g1" || fail "rename"
	ln "$d/f2" "$d/h2" || fail "link"
	mkdir "$d/sub" && : >"$d/sub/x" || fail "mkdir/create in sub"
	n=$(($(lookups) - before))
	echo "creates, rename, link in a new directory: $n LOOKUPs"
	[ "$n" = 0 ] || fail "$n LOOKUPs in a directory the kernel made"
	# a name that is not there is still not there, without asking
	[ ! -e "$d/nosuch" ] || fail "phantom name"
	# positive names leave the dcache while the directory stays: every
	# name must still be found (asked for), none answered negative
	exec 7<"$d"
	sync
	echo 2 >/proc/sys/vm/drop_caches
	before=$(lookups)
	for i in $(seq 3 20); do
		[ -e "$d/f$i" ] || fail "f$i lost after its dentry was pruned"
	done
	[ -e "$d/g1" ] && [ -e "$d/h2" ] && [ -e "$d/sub/x" ] ||
		fail "renamed/linked/nested name lost after pruning"
	( set -o noclobber; : >"$d/f5" ) 2>/dev/null &&
		fail "O_EXCL create of an existing name succeeded after pruning"
	n=$(($(lookups) - before))
	[ "$n" -ge 18 ] || fail "only $n LOOKUPs after pruning: names answered from a stale cache"
	exec 7<&-
	# a whiteout takes the old name behind the kernel's back
	mkdir "$d/w" && : >"$d/w/a" || fail "mkdir w"
	if whiteout_rename "$d/w/a" "$d/w/b"; then
		[ "$(stat -c %F "$d/w/a" 2>&1)" = "character special file" ] ||
			fail "whiteout not found: $(stat -c %F "$d/w/a" 2>&1)"
	else
		echo "RENAME_WHITEOUT not supported here: skipped"
	fi
	ls -la "$d" >/dev/null || fail "ls"
	rm -rf "$d" || fail "rm -rf"
}

# readdirplus: ls -l of a directory the dcache does not know asks no
# LOOKUP per entry, and what it shows is right
plus_checks() {
	local d=$MNT/plus before n i
	mkdir "$d" && for i in $(seq 1 60); do echo "$i" >"$d/p$i"; done
	ln -s p1 "$d/link" && mkdir "$d/sub" || fail "plus setup"
	ls -l "$d" >/tmp/ls-before || fail "ls -l"
	zpmfs_down
	mount -t zpmfs /dev/pmem0 "$MNT" || fail "remount"
	before=$(lookups)
	ls -l "$d" >/tmp/ls-after || fail "ls -l after remount"
	n=$(($(lookups) - before))
	echo "ls -l of 62 entries after a remount: $n LOOKUPs"
	[ "$n" -le 2 ] || fail "ls -l asked $n LOOKUPs (no readdirplus?)"
	diff /tmp/ls-before /tmp/ls-after || fail "ls -l differs after remount"
	[ "$(cat "$d/p17")" = 17 ] && [ "$(readlink "$d/link")" = p1 ] ||
		fail "prefilled entries read wrong"
	# that whole listing gave every name a dentry: the directory is
	# complete, new names need no LOOKUP...
	before=$(lookups)
	[ ! -e "$d/nosuch" ] || fail "phantom name after a listing"
	mkdir "$d/new" && ln -s p2 "$d/newlink" && mknod "$d/fifo" p ||
		fail "new names after a listing"
	n=$(($(lookups) - before))
	echo "stat of a missing name, mkdir, symlink, mknod after ls: $n LOOKUPs"
	[ "$n" = 0 ] || fail "$n LOOKUPs in a directory listed whole"
	# ...until its names leave the dcache: then each is asked for again
	exec 7<"$d"
	echo 2 >/proc/sys/vm/drop_caches
	before=$(lookups)
	for i in $(seq 1 60); do
		[ -e "$d/p$i" ] || fail "p$i lost after its dentry was pruned"
	done
	[ -d "$d/new" ] && [ -p "$d/fifo" ] || fail "new names lost after pruning"
	n=$(($(lookups) - before))
	[ "$n" -ge 55 ] || fail "only $n LOOKUPs after pruning a listed directory"
	exec 7<&-
	rm -rf "$d" || fail "rm -rf plus"
}

# a listing that takes several getdents calls stays readdirplus to its
# end, and one that went from the start to the end makes the directory
# complete as a single call does
big_list_checks() {
	local d=$MNT/big before n
	mkdir "$d" || fail "mkdir big"
	python3 -c "import sys
for i in range(1500):
    open('%s/%s-%04d' % (sys.argv[1], 'x' * 40, i), 'w').close()" "$d" ||
		fail "big setup"
	zpmfs_down
	mount -t zpmfs /dev/pmem0 "$MNT" || fail "remount"
	before=$(lookups)
	n=$(ls -l "$d" | grep -c 'x-[0-9][0-9][0-9][0-9]$')
	[ "$n" = 1500 ] || fail "ls -l of the big directory shows $n of 1500"
	n=$(($(lookups) - before))
	echo "ls -l of 1500 entries (several getdents calls) after a remount: $n LOOKUPs"
	[ "$n" -le 2 ] || fail "ls -l of a big directory asked $n LOOKUPs"
	before=$(lookups)
	[ ! -e "$d/nosuch" ] && mkdir "$d/new" || fail "new name after a long listing"
	n=$(($(lookups) - before))
	[ "$n" = 0 ] || fail "$n LOOKUPs after listing a big directory whole"
	rm -rf "$d" || fail "rm -rf big"
}

# open(O_CREAT) of a name the dcache lacks asks no LOOKUP first
# (atomic_open, ZUFS_NEW_OPEN): a new name is created and opened by one
# NEW_INODE, an existing one is opened as a lookup would have found it
open_checks() {
	local d=$MNT/open before n
	mkdir "$d" && echo old >"$d/exists" && mkdir "$d/adir" &&
		ln -s exists "$d/sym" && ln -s newtarget "$d/dangling" &&
		chmod 1777 "$d" || fail "open setup"
	zpmfs_down
	mount -t zpmfs /dev/pmem0 "$MNT" || fail "remount"
	before=$(lookups)
	python3 - "$d" <<'PY' || fail "open(O_CREAT) semantics"
import errno, os, stat, sys
d = sys.argv[1]
os.umask(0o022)
def expect(err, path, flags, mode=0o666):
    try:
        os.close(os.open(path, flags, mode))
    except OSError as e:
        assert e.errno == err, (path, e)
        return
    raise AssertionError("%s: no %s" % (path, errno.errorcode[err]))
for i in range(20):
    fd = os.open("%s/n%d" % (d, i), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    os.write(fd, b"%d" % i)
    os.close(fd)
assert stat.S_IMODE(os.stat(d + "/n0").st_mode) == 0o644, "umask"
# the file there is opened, not replaced, and O_EXCL fails on it
fd = os.open(d + "/exists", os.O_CREAT | os.O_RDWR)
assert os.read(fd, 10) == b"old\n", "existing file replaced"
os.close(fd)
expect(errno.EEXIST, d + "/exists", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
expect(errno.EISDIR, d + "/adir", os.O_CREAT | os.O_WRONLY)
expect(errno.EEXIST, d + "/sym", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
fd = os.open(d + "/sym", os.O_CREAT | os.O_RDONLY)
assert os.read(fd, 10) == b"old\n", "symlink not followed"
os.close(fd)
os.close(os.open(d + "/dangling", os.O_CREAT | os.O_WRONLY, 0o600))
assert os.path.isfile(d + "/newtarget"), "O_CREAT through a dangling symlink"
# permissions: a file this open created opens for writing whatever its
# mode; one that was there is checked
if os.fork() == 0:
    try:
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)
        fd = os.open(d + "/mine", os.O_CREAT | os.O_RDWR, 0o444)
        os.write(fd, b"y")
        os.close(fd)
        expect(errno.EACCES, d + "/mine", os.O_CREAT | os.O_RDWR)
        expect(errno.EACCES, d + "/exists", os.O_CREAT | os.O_WRONLY)
        st = os.stat(d + "/mine")
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (65534, 0o444), st
        os._exit(0)
    except BaseException as e:
        print("as nobody:", repr(e), file=sys.stderr)
        os._exit(1)
_, status = os.wait()
assert status == 0, "permission checks"
PY
	n=$(($(lookups) - before))
	echo "open(O_CREAT) of 27 names after a remount: $n LOOKUPs"
	[ "$n" -le 1 ] || fail "open(O_CREAT) asked $n LOOKUPs (1 for the directory)"
	[ "$(cat "$d/n7")" = 7 ] || fail "created file reads wrong"
	rm -rf "$d" || fail "rm -rf open"
}

# inodes evicted so far: one per EVICT op, plus the extra ones of batches
# (zusd -d says "evict N inodes" for those)
evicted() {
	awk '/ EVICT -> / { n++ }
	     /: evict [0-9]+ inodes/ { for (i = 1; i <= NF; i++)
			if ($i == "evict") { n += $(i + 1) - 1 } }
	     END { print n + 0 }' "$ZUSD_LOG"
}

# unlinked files are evicted by a worker (reaping): none is lost to
# statfs, a full inode table or umount
reap_checks() {
	local d=$MNT/reap before after ev i
	mkdir "$d" || fail "mkdir reap"
	before=$(stat -f -c %d "$MNT")
	ev=$(evicted)
	for i in $(seq 1 300); do : >"$d/e$i"; done
	echo data >"$d/full"
	rm -f "$d"/e* "$d/full" || fail "rm"
	after=$(stat -f -c %d "$MNT")
	[ "$after" = "$before" ] ||
		fail "free inodes $before before, $after right after the unlinks"
	ev=$(($(evicted) - ev))
	[ "$ev" -ge 301 ] || fail "only $ev inodes evicted for 301 unlinked files"
	# unlinked while open: evicted at the last close, not before
	exec 8>"$d/open"
	rm "$d/open"
	echo more >&8 || fail "write to an open unlinked file"
	exec 8>&-
	for i in $(seq 1 100); do : >"$d/u$i"; done
	rm -f "$d"/u*
	rmdir "$d" || fail "rmdir"
}

# the map cache makes overwrites server-free; nomapcache asks every time
ZUSD_ARGS=-d
zpmfs_up
complete_dir_checks
plus_checks
big_list_checks
open_checks
reap_checks
# pending EVICTs are sent before the server lets go of the mount
zpmfs_down
zpmfs_fsck "after unlinks and an immediate umount"
mount -t zpmfs /dev/pmem0 "$MNT" || fail "mount again"
n=$(count_gb)
echo "overwrites with the map cache: $n GET_BLOCKS"
[ "$n" -le 2 ] || fail "overwrite of mapped blocks asked the server $n times"
zpmfs_down
zpmfs_up nomapcache
n=$(count_gb)
echo "overwrites with nomapcache: $n GET_BLOCKS"
[ "$n" -ge 256 ] || fail "nomapcache: only $n GET_BLOCKS for 256 writes (log broken?)"
zpmfs_stop
pass
