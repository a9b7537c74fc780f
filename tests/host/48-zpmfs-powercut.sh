#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Power cuts on a persistent qemu nvdimm: each boot runs a seeded workload
# (tests/crash/powercut.py) that logs, to a host directory, what every op
# may touch before it starts and what it acknowledged when it returned;
# the host kills qemu at a random moment.  The next boot runs fsck.zpmfs
# -n (only what a crash leaves: exit <= 1), mounts (journal replay),
# checks every acknowledged fact of every earlier round, unmounts, needs
# fsck.zpmfs clean, and goes on with the next round.
#   POWERCUT_ROUNDS=N   power cuts (default 2; each is a VM boot)
#   POWERCUT_SEED=N     seed of the workloads and of the cut moments (1)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -e kernel/zuf/zuf.ko ] || { echo "SKIP: kernel/zuf/zuf.ko not built"; exit 77; }
rounds=${POWERCUT_ROUNDS:-2}
seed=${POWERCUT_SEED:-1}
mkdir -p build/tmp
work=$(mktemp -d "$PWD/build/tmp/powercut-XXXXXX")
img=$work/pmem.img
acks=$work/acks
mkdir -p "$acks"
vm=
cleanup() {
	[ -n "$vm" ] && kill "$vm" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# what each boot does first: zuf, zusd, and (after a cut) fsck + check
guest() {	# guest ROUND MODE
	cat <<EOS
set -e
insmod kernel/zuf/zuf.ko
build/bin/zusd -p build/plugins/zpmfs.so
for i in \$(seq 100); do grep -qw zpmfs /proc/filesystems && break; sleep 0.1; done
mkdir -p /mnt/z
if [ $1 = 0 ]; then
	build/bin/mkfs.zpmfs -q -f -L powercut /dev/pmem0
else
	rc=0; build/bin/fsck.zpmfs -n /dev/pmem0 > $acks/fsck-before.$1 2>&1 || rc=\$?
	[ \$rc -le 1 ] || { cat $acks/fsck-before.$1; echo "fsck after the cut: \$rc"; exit 1; }
	mount -t zpmfs /dev/pmem0 /mnt/z
	python3 tests/crash/powercut.py check /mnt/z $acks $1
	umount /mnt/z
	build/bin/fsck.zpmfs -n /dev/pmem0 || { echo "fsck after replay + umount"; exit 1; }
	echo "boot $1: verified"
fi
[ $2 = check ] && exit 0
mount -t zpmfs /dev/pmem0 /mnt/z
exec python3 tests/crash/powercut.py run /mnt/z $acks $1 $seed
EOS
}

# the qemu below pid $1 (tests/vm/run runs it as a child or grandchild)
qemu_of() {
	local p c
	for p in $(pgrep -P "$1"); do
		c=$(cat "/proc/$p/comm" 2>/dev/null || true)
		case $c in qemu*) echo "$p"; return ;; esac
		qemu_of "$p"
	done
}

RANDOM=$seed
for ((r = 0; r < rounds; r++)); do
	tests/vm/run --timeout 300 --pmem-file "$img:256M" --rw "$acks" \
		-- bash -c "$(guest $r run)" >"$work/boot.$r" 2>&1 &
	vm=$!
	for ((t = 0; t < 2400; t++)); do
		[ -e "$acks/started.$r" ] && break
		kill -0 "$vm" 2>/dev/null || { cat "$work/boot.$r"; fail "boot $r ended before its workload"; }
		sleep 0.1
	done
	[ -e "$acks/started.$r" ] || fail "boot $r: workload never started"
	cut=$((10 + RANDOM % 60))	# tenths of a second
	sleep "$((cut / 10)).$((cut % 10))"
	q=$(qemu_of "$vm")
	[ -n "$q" ] || fail "boot $r: no qemu to kill"
	kill -KILL "$q"
	wait "$vm" 2>/dev/null || true
	vm=
	grep -h "round\|verified" "$work/boot.$r" || true
	[ $r = 0 ] || grep -q "boot $r: verified" "$work/boot.$r" ||
		{ cat "$work/boot.$r"; fail "boot $r: check after the cut"; }
	echo "cut $r after ${cut}00 ms: $(grep -c '^A' "$acks/acks.$r") ops acknowledged"
done
tests/vm/run --timeout 300 --pmem-file "$img" --rw "$acks" \
	-- bash -c "$(guest $rounds check)" >"$work/boot.$rounds" 2>&1 ||
	{ cat "$work/boot.$rounds"; fail "final boot"; }
grep -h "round\|verified" "$work/boot.$rounds"
echo PASS
