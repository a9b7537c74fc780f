#!/bin/bash
# vm: --pmem 32M --cpus 2 --timeout 300
# SPDX-License-Identifier: BSD-3-Clause
# Reaping (kernel/zuf/inode.c): the EVICT of every unlinked inode goes
# through a worker, batched, so that unlink and rmdir cost one trip, and
# the space it frees never looks missing.  zusd holds every EVICT before
# its plugin sees it (--late-op before:EVICT) so that the EVICTs are still
# pending when:
#  - unlink of files with blocks and rmdir return (one trip each: they
#    return long before one held EVICT per inode could have been answered);
#  - the device was filled to ENOSPC and rm -rf'ed: the same amount
#    written again at once, a fallocate and a mmap write fault succeed (the
#    op that got ENOSPC waits for the reaper and is sent once more);
#  - df right after rm shows the space back;
#  - zusd is killed -9: a fresh mount frees the orphans, fsck is clean;
#    a re-attaching zusd gets the pending EVICTs instead.
# A burst of unlinks takes fewer EVICT ops than inodes (batches).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm

# 2 s: longer than rm -rf of a full device takes on a loaded host
HELD="-d --late-op before:EVICT:2000000"
ZUSD_LOG=/tmp/zusd-reap.log

ms() { echo $(($(date +%s%N) / 1000000)); }
free_blocks() { stat -f -c %f "$MNT"; }

# EVICT ops and inodes they carried in $ZUSD_LOG: "OPS INODES"
evict_counts() {
	awk '/ EVICT -> / { ops++ }
	     /: evict [0-9]+ inodes/ { for (i = 1; i <= NF; i++)
			if ($i == "evict") { extra += $(i + 1) - 1 } }
	     END { print ops + 0, ops + extra }' "$ZUSD_LOG"
}

# fill DIR: files of 4 MiB until ENOSPC; prints the bytes written
fill() {
	local d=$1 i=0 total=0 sz
	mkdir -p "$d" || fail "mkdir $d"
	while :; do
		i=$((i + 1))
		dd if=/dev/zero of="$d/f$i" bs=1M count=4 2>/dev/null
		sz=$(stat -c %s "$d/f$i")
		total=$((total + sz))
		((sz == 4 << 20)) || break
		((i < 100)) || fail "device never filled"
	done
	echo "$total"
}

# ---- one trip per unlink and rmdir (EVICTs held 1 s: 12 s if each
# unlink waited for its own; the host may be loaded, the guest is TCG)
ZUSD_ARGS="-d --late-op before:EVICT:1000000"
: >"$ZUSD_LOG"
zpmfs_up
d=$MNT/trips
mkdir "$d" || fail "mkdir"
for i in 1 2 3 4 5 6; do
	dd if=/dev/zero of="$d/f$i" bs=64k count=2 2>/dev/null || fail "write f$i"
	mkdir "$d/d$i" || fail "mkdir d$i"
done
sync
read -r ev0 _ < <(evict_counts)
un0=$(grep -c ' UNLINK -> 0' "$ZUSD_LOG")
t0=$(ms)
rm -f "$d"/f* || fail "rm"
rmdir "$d"/d* || fail "rmdir"
t=$(($(ms) - t0))
un=$(($(grep -c ' UNLINK -> 0' "$ZUSD_LOG") - un0))
echo "6 unlinks of files with blocks + 6 rmdirs: $un UNLINKs in $t ms (EVICT held 1000 ms)"
[ "$un" = 12 ] || fail "$un UNLINK ops for 12 names"
((t < 6000)) ||
	fail "unlink/rmdir waited for the EVICTs ($t ms): $(tail -40 "$ZUSD_LOG")"
free_blocks >/dev/null	# statfs waits for the reaper
read -r ev n < <(evict_counts)
echo "after statfs: $((ev - ev0)) EVICT ops"
((ev > ev0)) || fail "no EVICT sent for the unlinked inodes"
rmdir "$d" || fail "rmdir trips"

# ---- a burst of unlinks: batched EVICTs
d=$MNT/burst
mkdir "$d" && for i in $(seq 1 300); do : >"$d/e$i"; done || fail "burst setup"
read -r ev0 in0 < <(evict_counts)
rm -rf "$d" || fail "rm burst"
free_blocks >/dev/null
read -r ev in < <(evict_counts)
echo "burst of 301 unlinked inodes: $((ev - ev0)) EVICT ops carried $((in - in0)) inodes"
((in - in0 >= 301)) || fail "only $((in - in0)) inodes evicted for 301"
((ev - ev0 < 100)) || fail "$((ev - ev0)) EVICT ops for 301 inodes: not batched"

# ---- df right after rm -rf of a full device: the space is back
f0=$(free_blocks)
fill "$MNT/fill" >/dev/null
rm -rf "$MNT/fill"
f1=$(free_blocks)
echo "free blocks: $f0 before filling, $f1 right after rm -rf"
[ "$f1" = "$f0" ] || fail "df right after rm -rf: $f1 free blocks, $f0 before"
zpmfs_stop
ZUSD_ARGS=$HELD
zpmfs_up

# ---- full device: rm -rf, then the same amount again at once
total=$(fill "$MNT/fill")
echo "filled with $total bytes"
rm -rf "$MNT/fill" || fail "rm -rf fill"
dd if=/dev/zero of="$MNT/again" bs=1M count=$((total >> 20)) 2>/dev/null ||
	fail "writing $total bytes again right after rm -rf: $(stat -c %s "$MNT/again") written"
rm -f "$MNT/again"
# fallocate right after rm on a full device
fill "$MNT/fill" >/dev/null
rm -rf "$MNT/fill"
fallocate -l 8M "$MNT/fa" || fail "fallocate right after rm -rf on a full device"
rm -f "$MNT/fa"
# a mmap write fault (GET_BLOCKS from the fault) right after rm
fill "$MNT/fill" >/dev/null
truncate -s 8M "$MNT/fill/hole" || fail "truncate"
rm -f "$MNT/fill"/f*
python3 - "$MNT/fill/hole" <<'PY' || fail "mmap write fault right after rm on a full device"
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 8 << 20)
for off in range(0, 8 << 20, 4096):
    m[off] = 0x5a
m.flush()
PY
rm -rf "$MNT/fill"
check_dmesg_clean || fail "kernel log after the ENOSPC checks"

# ---- kill -9 with EVICTs pending: the next mount frees the orphans
f0=$(free_blocks)
for i in 1 2 3 4; do
	dd if=/dev/zero of="$MNT/big$i" bs=1M count=4 2>/dev/null || fail "big$i"
done
mkdir "$MNT/dir" && for i in 1 2 3; do echo x >"$MNT/dir/s$i"; done
sync
rm -rf "$MNT"/big* "$MNT/dir"
kill -KILL "$ZUSD_PID"
wait "$ZUSD_PID" 2>/dev/null
ZUSD_PID=
umount "$MNT" || fail "umount after kill -9"
ZUSD_ARGS=-d zpmfs_start_zusd
mount -t zpmfs /dev/pmem0 "$MNT" || fail "mount after kill -9"
f1=$(free_blocks)
echo "free blocks: $f0 before, $f1 after kill -9 and a fresh mount"
[ "$f1" = "$f0" ] || fail "space not back after the crash: $f1 free, $f0 before"
grep -q 'freed [0-9]* orphan' "$ZUSD_LOG" || fail "no orphan freed at mount"
zpmfs_down
zpmfs_fsck "after kill -9 with reaped inodes"
check_dmesg_clean || fail "kernel log after the crash"

# ---- kill -9 and re-attach: the pending EVICTs go to the new server
zpmfs_stop
ZUSD_ARGS=$HELD zpmfs_up
: >"$MNT/keep"	# the root's first directory block stays
f0=$(free_blocks)
for i in 1 2 3; do
	dd if=/dev/zero of="$MNT/big$i" bs=1M count=4 2>/dev/null || fail "big$i"
done
sync
rm -f "$MNT"/big*
kill -KILL "$ZUSD_PID"
wait "$ZUSD_PID" 2>/dev/null
before=$(grep -c 're-attached zpmfs' "$ZUSD_LOG")
"$TOP/build/bin/zusd" -f -d -p "$TOP/build/plugins/zpmfs.so" >>"$ZUSD_LOG" 2>&1 &
ZUSD_PID=$!
for ((i = 0; i < 200; i++)); do
	(($(grep -c 're-attached zpmfs' "$ZUSD_LOG") > before)) && break
	sleep 0.05
done
(($(grep -c 're-attached zpmfs' "$ZUSD_LOG") > before)) || fail "zusd did not re-attach"
f1=$(free_blocks)
echo "free blocks: $f0 before, $f1 after kill -9 and a re-attach"
[ "$f1" = "$f0" ] || fail "pending EVICTs lost at the re-attach: $f1 free, $f0 before"
zpmfs_down
zpmfs_fsck "after a re-attach with reaped inodes"
zpmfs_stop
pass
