# SPDX-License-Identifier: BSD-3-Clause
# Helpers of the ABI fuzzer's guest scripts (tests/vm/cases/59-fuzz.sh,
# tests/fuzz/soak-guest.sh).  Source after tests/vm/lib.sh and
# tests/vm/bin/zpmfs-env.sh; set SEED first.  One zusd serves zpmfs (on
# /dev/pmem0, -o nomapcache: every I/O asks the server) at $ZP and
# zpassthrough (over a tmpfs directory) at $PT.
#
#   zuf_slabs                 "cache objects" of zuf's slab caches
#   start_zusd SEED SPEC [X]  zusd --fuzz SEED:SPEC[,X] in the background
#   mount_all / umount_all    both mounts (a mutated answer may refuse a
#                             mount: up to 20 tries)
#   workloads DIR SECS        posix-test, zfsx, zstress loops and dd
#                             hammers, SIGKILLed as a group after SECS
#   churn                     mount, remount, statfs, umount answers
#   reap                      wait for them; fail if one survived SIGKILL
#                             or a task stays in D state for 10 s
#   stop_zusd                 SIGTERM and wait; answers: sum of the counts
B=$TOP/build/bin
ZP=${ZP:-/mnt/fz-pm} PT=${PT:-/mnt/fz-pt} M3=${M3:-/mnt/fz-m3}
BACK=${BACK:-/tmp/fz-back}
LOGS=${LOGS:-/tmp/fz}
mkdir -p "$ZP" "$PT" "$BACK" "$LOGS"

# zuf's slab caches (kmem_cache_create in kernel/zuf): "name objects" lines,
# after the per-CPU slabs were flushed so that the counts are exact
zuf_slabs() {
	local c
	for c in /sys/kernel/slab/zuf_*; do
		[ -e "$c" ] || continue
		echo 1 >"$c/shrink" 2>/dev/null
		echo "${c##*/} $(cut -d' ' -f1 "$c/objects")"
	done
}

ZPID= N=0
# start_zusd SEED SPEC [TOKENS]: a zusd serving both plugins, its log in
# $LOGS/zusd.N; TOKENS (default report=2) are more --fuzz tokens
start_zusd() {
	N=$((N + 1))
	# ahead of the workloads on its CPUs, as a real server would be:
	# round trips, not the scheduler, set the pace
	nice -n -10 "$B/zusd" -f -p "$TOP/build/plugins" --fuzz "$1:$2,${3:-report=2}" \
		>"$LOGS/zusd.$N" 2>&1 &
	ZPID=$!
	wait_registered zpmfs && wait_registered zpassthrough ||
		fail "zusd --fuzz $1:$2 did not register: $(tail -5 "$LOGS/zusd.$N")"
	echo "zusd #$N: --fuzz $1:$2 (pid $ZPID)"
}

# mounts may be refused by a mutated answer: a few tries each; with
# "soft", a server that died (class die) is no failure
mount_all() {
	local i
	for ((i = 0; i < 20; i++)); do
		"$B/mkfs.zpmfs" -q -f /dev/pmem0 || fail "mkfs.zpmfs"
		timeout -s KILL 30 mount -t zpmfs -o nomapcache /dev/pmem0 "$ZP" && break
		kill -0 "$ZPID" 2>/dev/null || break
	done
	for ((i = 0; i < 20; i++)); do
		kill -0 "$ZPID" 2>/dev/null || break
		timeout -s KILL 30 mount -t zpassthrough -o backing="$BACK" none "$PT" && break
	done
	[ "${1:-}" = soft ] && return 0
	grep -q " $ZP " /proc/mounts || fz_fail "zpmfs never mounted (seed $SEED)"
	grep -q " $PT " /proc/mounts || fz_fail "zpassthrough never mounted (seed $SEED)"
}

umount_all() {
	local m
	for m in "$ZP" "$PT" "$M3"; do
		grep -q " $m " /proc/mounts || continue
		timeout -s KILL 60 umount "$m" || fz_fail "umount $m (seed $SEED)"
	done
}

# workloads DIR SECS: posix-test, zfsx and zstress in a loop, each under a
# watchdog that SIGKILLs the whole group after SECS
WPIDS=()
workloads() {
	local d=$1 s=$2 h
	mkdir -p "$d/px" "$d/st" 2>/dev/null
	timeout -s KILL "$s" bash -c "while :; do '$B/posix-test' -t 20 '$d/px'; done" \
		>>"$LOGS/posix.log" 2>&1 &
	WPIDS+=($!)
	timeout -s KILL "$s" bash -c "s=$SEED; while :; do '$B/zfsx' -q -N 2000 -S \$((s++)) '$d/fx'; done" \
		>>"$LOGS/zfsx.log" 2>&1 &
	WPIDS+=($!)
	timeout -s KILL "$s" "$B/zstress" -q -p 3 -d "$s" -s "$SEED" -w 3600 "$d/st" \
		>>"$LOGS/zstress.log" 2>&1 &
	WPIDS+=($!)
	# the hammer: one answer per 512-byte read or write (zpmfs without
	# the map cache asks for blocks every time, passthrough reads into
	# the caller's pages), going on past the errors the lies cause
	for h in 1 2; do
		timeout -s KILL "$s" bash -c "dd if=/dev/zero of='$d/hammer$h' bs=64k count=16
			while :; do
				dd if='$d/hammer$h' of=/dev/null bs=512 conv=noerror
				dd if=/dev/zero of='$d/hammer$h' bs=512 count=512 conv=notrunc,noerror
			done" >/dev/null 2>&1 &
		WPIDS+=($!)
	done
}

# mount ops to fuzz: remount rw (an EROFS lie made a mount read-only), a
# third mount mounted, statfs'ed, remounted ro and unmounted a few times
churn() {
	local m i
	for m in "$ZP" "$PT"; do
		grep -q " $m " /proc/mounts &&
			timeout -s KILL 30 mount -o remount,rw "$m" 2>/dev/null
	done
	mkdir -p "$M3"
	for ((i = 0; i < 4; i++)); do
		kill -0 "$ZPID" 2>/dev/null || return 0
		timeout -s KILL 30 mount -t zpassthrough -o backing="$BACK" none "$M3" \
			2>/dev/null || continue
		timeout -s KILL 10 df "$M3" >/dev/null 2>&1
		timeout -s KILL 30 mount -o remount,ro "$M3" 2>/dev/null
		timeout -s KILL 60 umount "$M3" || fz_fail "umount $M3 (seed $SEED)"
	done
	return 0
}

# every workload must be gone: SIGKILL'ed callers of held answers included
reap() {
	local p i
	for p in "${WPIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	WPIDS=()
	for ((i = 0; i < 300; i++)); do
		pgrep -f "$B/(posix-test|zfsx|zstress)" >/dev/null || break
		sleep 0.1
	done
	if pgrep -f "$B/(posix-test|zfsx|zstress)" >/dev/null; then
		ps -eo pid,stat,wchan:32,args | grep -E "$B/(posix-test|zfsx|zstress)" >&2
		for p in $(pgrep -f "$B/(posix-test|zfsx|zstress)"); do
			echo "== $p" >&2; cat /proc/$p/stack >&2
		done
		fz_fail "workloads survived SIGKILL (seed $SEED)"
	fi
	d_state_stuck && return 0
	fz_fail "tasks stuck in D state (seed $SEED)"
}

# user tasks in D state now: "pid wchan args" lines
d_tasks() {
	ps -eo stat=,pid=,wchan:32=,args= | awk '$1 ~ /^D/ && $4 !~ /^\[/ {
		$1 = ""; print substr($0, 2) }'
}

# D is also a killable wait (TASK_KILLABLE): a dd that was SIGKILLed mid-
# read still closes its file, which waits for an answer the fuzzer may
# send up to 50 ms late.  A hang is a task in D in every sample for 10 s.
d_state_stuck() {
	local first now stuck i p
	first=$(d_tasks)
	[ -z "$first" ] && return 0
	echo "reap: in D state now:" && sed 's/^/  /' <<<"$first"
	stuck=$(awk '{print $1}' <<<"$first")
	for ((i = 0; i < 100; i++)); do
		sleep 0.1
		now=$(d_tasks | awk '{print $1}')
		stuck=$(grep -Fxf <(echo "$now") <<<"$stuck")
		[ -z "$stuck" ] && { echo "reap: none left in D after $i samples"; return 0; }
	done
	for p in $stuck; do
		echo "== $p stuck in D for 10 s: $(tr '\0' ' ' </proc/$p/cmdline)" >&2
		cat /proc/$p/stack >&2
	done
	return 1
}

stop_zusd() {
	kill -TERM "$ZPID" 2>/dev/null
	timeout 60 tail --pid="$ZPID" -f /dev/null || fail "zusd did not stop"
	wait "$ZPID" 2>/dev/null
}

# fz_fail MSG: fail, showing the current server's last mutations
fz_fail() {
	echo "last answer and mount mutations of zusd #$N (log $LOGS/zusd.$N):" >&2
	grep -E 'fuzz: seed [0-9]+ (answer|mount) ' "$LOGS/zusd.$N" | tail -20 >&2
	echo "its last extent mutations:" >&2
	grep -E 'fuzz: seed .*GET_BLOCKS: extent' "$LOGS/zusd.$N" | tail -8 >&2
	fail "$@"
}

answers() {	# the last count of each zusd's log, summed
	local f n sum=0
	for f in "$LOGS"/zusd.*; do
		n=$(grep -E 'fuzz: (stats|final|died) ' "$f" | tail -1 |
			grep -o 'answers=[0-9]*' | cut -d= -f2)
		sum=$((sum + ${n:-0}))
	done
	echo $sum
}

