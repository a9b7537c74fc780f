#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs inside the zufs test VM, in the chroot (host userland), as root.
# tests/vm/run copies it to the writable share /run/zufs-vm together with
# `params` (bash: ZUFS_VM_CWD, ZUFS_VM_CMD=(...), ...).  It prepares the
# guest (shares, pmem), runs the command with its stdout/stderr appended to
# the share's `out`/`err` files (the host streams them as they grow), then
# writes `dmesg` and `rc` into the share.
set -u
IO=/run/zufs-vm

log() { echo "zufs-vm: $*" >/dev/console; }
err() { echo "tests/vm/run (guest): $*" >>$IO/err; }

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export TERM=dumb HOME=/root LANG=C.UTF-8 ZUFS_IN_VM=1
unset LC_ALL
ZUFS_VM_ENV=()
ZUFS_VM_RW=()
ZUFS_VM_PMEM_EXPECT=0
ZUFS_VM_NVDIMM=0
ZUFS_VM_KMOD=()
# shellcheck source=/dev/null
. $IO/params

setup_failed=0

# zuf.ko built for this kernel, at the path the tests load it from
if ((${#ZUFS_VM_KMOD[@]} == 2)); then
	mkdir -p "$(dirname "${ZUFS_VM_KMOD[1]}")" && touch "${ZUFS_VM_KMOD[1]}" 2>/dev/null
	if ! mount --bind "${ZUFS_VM_KMOD[0]}" "${ZUFS_VM_KMOD[1]}"; then
		err "cannot put ${ZUFS_VM_KMOD[0]} at ${ZUFS_VM_KMOD[1]}"
		setup_failed=1
	fi
fi

# Writable host directories, at the same path.
for ((i = 0; i < ${#ZUFS_VM_RW[@]}; i++)); do
	d=${ZUFS_VM_RW[i]}
	mkdir -p "$d" 2>/dev/null
	if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none "zufsrw$i" "$d"; then
		err "cannot mount --rw $d"
		setup_failed=1
	fi
done

count_pmem() {
	local n=0 d
	for d in /sys/block/pmem*; do
		[ -e "$d" ] && n=$((n + 1))
	done
	echo $n
}

wait_pmem() {
	local end=$((SECONDS + 60))
	while ((SECONDS < end)); do
		[ "$(count_pmem)" -ge "$ZUFS_VM_PMEM_EXPECT" ] && return 0
		sleep 0.05
	done
	err "expected $ZUFS_VM_PMEM_EXPECT pmem device(s), found: $(ls /sys/block | grep pmem | tr '\n' ' ')"
	return 1
}

if [ "$ZUFS_VM_PMEM_EXPECT" -gt 0 ]; then
	wait_pmem || setup_failed=1
fi

# qemu nvdimms come up raw (no DAX) until given an fsdax namespace once; the
# namespace info block then lives in the backing file.
if [ "$ZUFS_VM_NVDIMM" -gt 0 ] && [ $setup_failed = 0 ]; then
	raw=$(ndctl list -N -b ACPI.NFIT 2>/dev/null | awk -F'"' '
		/"dev":"namespace/ { dev = $4 }
		/"mode":"raw"/ { print dev }')
	for ns in $raw; do
		log "ndctl create-namespace -f -e $ns -m fsdax"
		if ! ndctl create-namespace -f -e "$ns" -m fsdax >/dev/console 2>&1; then
			err "ndctl create-namespace -f -e $ns -m fsdax failed"
			setup_failed=1
		fi
	done
	[ -n "$raw" ] && { wait_pmem || setup_failed=1; }
fi

for kv in "${ZUFS_VM_ENV[@]}"; do
	export "${kv?}"
done

no_cwd() {
	echo "tests/vm/run: the working directory $ZUFS_VM_CWD is not visible in the guest (the host's /tmp and /run are hidden; see --rw)" >&2
	exit 126
}

# What every blocked task waits on: kernel stacks of the tasks in D state
# and of every thread of a zusd, their user stacks (gdb), and the kernel's
# own blocked-task dump.  A test that hangs then says where, even in CI.
hang_report() {
	local pid tid
	echo "=== hang report: still running after $(cut -d. -f1 /proc/uptime)s of guest uptime"
	ps -eLo pid,tid,stat,wchan:28,comm | awk 'NR == 1 || $3 ~ /^D/ || $5 ~ /zusd|zus-/'
	for pid in $(ps -eo pid=,stat=,comm= | awk '$2 ~ /^D/ || $3 ~ /zusd/ { print $1 }'); do
		for tid in /proc/"$pid"/task/*; do
			echo "--- kernel stack of $(cat "$tid/comm" 2>/dev/null) ${tid##*/}"
			cat "$tid/stack" 2>/dev/null
		done
	done
	for pid in $(pgrep -x zusd); do
		echo "--- user stacks of zusd $pid"
		timeout 60 gdb -p "$pid" -batch -nx -ex 'set pagination off' \
			-ex 'thread apply all bt 12' 2>/dev/null | grep -E '^(Thread|#)'
	done
	echo w >/proc/sysrq-trigger
	echo "=== end of hang report"
}

# Report shortly before the host's timeout kills the guest.
hang_watch() {
	local t=${ZUFS_VM_TIMEOUT:-0} up at
	((t > 0)) || return 0
	up=$(cut -d. -f1 /proc/uptime)
	if ((t >= 300)); then at=$((t - 100 - up)); else at=$((t * 2 / 3 - up)); fi
	((at > 0)) || return 0
	sleep "$at" || return 0
	hang_report >>$IO/hang 2>&1
	cat $IO/hang >>$IO/err
}

if [ $setup_failed = 0 ] && [ "${ZUFS_VM_SHELL:-0}" = 1 ]; then
	# interactive (tests/vm/run --shell): ttyS1 is the caller's terminal
	stty -F /dev/ttyS1 sane rows "${ZUFS_VM_SIZE% *}" cols "${ZUFS_VM_SIZE#* }" 2>/dev/null
	export TERM=$ZUFS_VM_TERM PS1='zufs-vm:\w\$ '
	log "interactive: ${ZUFS_VM_CMD[*]}"
	(
		cd "$ZUFS_VM_CWD" 2>/dev/null || no_cwd
		exec setsid -c -w "${ZUFS_VM_CMD[@]}"
	) </dev/ttyS1 >/dev/ttyS1 2>&1
	rc=$?
elif [ $setup_failed = 0 ]; then
	log "running: ${ZUFS_VM_CMD[*]}"
	cut -d' ' -f1 /proc/uptime >$IO/started
	hang_watch &
	watch_pid=$!
	(
		cd "$ZUFS_VM_CWD" 2>/dev/null || no_cwd
		exec setsid -w "${ZUFS_VM_CMD[@]}"
	) </dev/null >>$IO/out 2>>$IO/err
	rc=$?
	kill "$watch_pid" 2>/dev/null
	log "command exited with $rc"
else
	echo 1 >$IO/setup-failed
	rc=125
fi

dmesg >$IO/dmesg 2>&1
read -r up _ </proc/uptime
echo "$up" >$IO/uptime
echo $rc >$IO/rc
exit 0
