#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/inside.sh: the part of `make bench` that runs inside the test VM
# (bench/run boots it).  Sets up every target in turn, runs fio and metabench
# against it and leaves the raw results in OUT (a --rw share of the host):
#   OUT/fio/TARGET.OP.jJ.json   fio's JSON output, one per point
#   OUT/runs.tsv                target op jobs status file|reason (manifest)
#   OUT/meta.tsv                target phase threads ops_per_s mean_us p99_us cpu_us
#   OUT/cpu.tsv                 fio/JSON busy_ticks: all CPUs' busy time over
#                               that fio run (/proc/stat, 1/100 s)
#   OUT/copy.tsv                zufs/passthrough-copyN op jobs status file, one
#                               line per point of each copy_max round, in order
#   OUT/logs/                   daemon and setup logs
# bench/report.py turns them into the table and the plots.  A target whose
# pieces are missing or fail is recorded as n/a with the reason; nothing here
# aborts the whole run.
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$TOP/build/bin
PLUGINS=$TOP/build/plugins

usage() {
	cat <<'USAGE'
usage: bench/inside.sh --out DIR [--runtime S] [--jobs LIST] [--fsize SIZE]
                       [--meta-files N] [--pairs N] [--only LIST] [--pmem-base N]

Runs inside the bench VM (see bench/run, which passes these options).
  --out DIR         where results go (must exist, writable)
  --runtime S       seconds per fio point (default 5)
  --jobs LIST       comma-separated fio numjobs values (default: 1..nproc)
  --fsize SIZE      fio file size for overwrite/read points (default 128M)
  --meta-files N    files per thread for metabench (default 2000)
  --pairs N         zufs/zpmfs 1-job/2-job randwrite pairs for the scaling
                    target (default 5; 0: none)
  --only LIST       comma-separated targets to run (default: all), among
                    raw-pmem ext4-dax tmpfs fuse-null fuse-bridge/zpmfs
                    fuse-bridge/passthrough zufs/zpmfs zufs/zpmfs-spin
                    zufs/zpmfs-nomapcache zufs/passthrough
                    zufs/passthrough-copy roundtrip
  --host            run the host-side rows (no VM: fuse-null and the FUSE
                    bridge on an image file in /dev/shm); --out as above
USAGE
}

OUT=
RUNTIME=5
JOBS=
FSIZE=128M
META_FILES=2000
PAIRS=5
ONLY=
HOST_MODE=0
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift ;;
	--runtime) RUNTIME=$2; shift ;;
	--jobs) JOBS=$2; shift ;;
	--fsize) FSIZE=$2; shift ;;
	--meta-files) META_FILES=$2; shift ;;
	--pairs) PAIRS=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--host) HOST_MODE=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "inside.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[ -n "$OUT" ] && [ -d "$OUT" ] || { echo "inside.sh: --out DIR required" >&2; exit 2; }
[ -n "$JOBS" ] || JOBS=$(seq -s, 1 "$(nproc)")
JOBS=${JOBS//,/ }
mkdir -p "$OUT/fio" "$OUT/logs"
# allocating writes: this much in total per point, split between the jobs
ALLOC_TOTAL_MB=384
MNT_BASE=/mnt/bench
[ $HOST_MODE = 1 ] && MNT_BASE=/tmp/zufs-bench.$$

say() { echo "bench: $*" >&2; }

# manifest lines; the reason may hold spaces, never tabs or newlines.
# MANIFEST: the file, runs.tsv unless a target keeps its points apart
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$OUT/${MANIFEST:-runs.tsv}"; }

# busy_ticks: the busy time of all CPUs so far, in /proc/stat's 1/100 s
# (everything but idle and iowait, as bench/cpustat.h counts it)
busy_ticks() {
	local _cpu u n s _idle _io irq sirq steal _rest
	read -r _cpu u n s _idle _io irq sirq steal _rest </proc/stat
	echo $((u + n + s + irq + sirq + steal))
}
target_na() {
	local t=$1
	shift
	say "$t: n/a: $*"
	record "$t" '*' '*' n/a "$(echo "$*" | tr '\t\n' '  ')"
}

selected() {
	[ -z "$ONLY" ] && return 0
	case ",$ONLY," in *",$1,"*) return 0 ;; esac
	return 1
}

# pmem_of TARGET: print the target's own /dev/pmemN (bench/run gives the VM
# one device per pmem target, always in this order, so a target keeps its
# device whatever subset --only selects)
pmem_of() {
	local n
	case $1 in
	raw-pmem) n=0 ;;
	ext4-dax) n=1 ;;
	fuse-bridge/zpmfs) n=2 ;;
	# the polling row reuses zpmfs's device after zpmfs released it:
	# the same (pretouched) memory, and no sixth GiB of guest RAM
	zufs/zpmfs | zufs/zpmfs-spin) n=3 ;;
	zufs/zpmfs-nomapcache) n=4 ;;
	*) return 1 ;;
	esac
	[ -b /dev/pmem$n ] || return 1
	echo /dev/pmem$n
}

# zus_fuse_args: the FUSE bridge's options to stay in the foreground and to
# find our plugins, for those of them its --help says it has
zus_fuse_args() {
	local help
	help=$("$BIN/zus-fuse" --help 2>&1)
	grep -qE '(^|[[:space:]])-f\b' <<<"$help" && echo -f
	grep -qE '(^|[[:space:]])-p\b' <<<"$help" && echo -p "$PLUGINS"
}

size_mb() {
	local s=$1
	case $s in
	*G) echo $((${s%G} * 1024)) ;;
	*M) echo "${s%M}" ;;
	*) echo $((s / 1048576)) ;;
	esac
}

# wait_mounted DIR PID LOG: wait for a FUSE daemon to mount DIR
wait_mounted() {
	local dir=$1 pid=$2 i
	for ((i = 0; i < 100; i++)); do
		mountpoint -q "$dir" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start_daemon NAME DIR CMD...: run a FUSE daemon in the foreground mode in
# the background, wait for its mount; DAEMON_PID is set
start_daemon() {
	local name=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	"$@" >"$OUT/logs/$name.log" 2>&1 &
	DAEMON_PID=$!
	if ! wait_mounted "$dir" $DAEMON_PID; then
		kill $DAEMON_PID 2>/dev/null
		wait $DAEMON_PID 2>/dev/null
		return 1
	fi
}

stop_daemon() {
	local dir=$1 pid=$2 i
	umount "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

log_tail() { tail -n 3 "$OUT/logs/$1.log" 2>/dev/null | tr '\n' ' '; }

# fio_point TARGET OP JOBS JSON FIO-ARGS...: one measured point
fio_point() {
	local t=$1 op=$2 j=$3 json=$4 key b0 rc
	shift 4
	local res="$OUT/fio/$json"
	b0=$(busy_ticks)
	# a point that hangs must not eat the whole VM timeout
	timeout -k 10 $((RUNTIME * 3 + 120)) fio --name=bench --bs=4k --sync=1 \
		--ioengine=psync --numjobs="$j" --group_reporting \
		--output-format=json --output="$res" "$@" \
		>>"$OUT/logs/fio.log" 2>&1
	rc=$?
	# what the point cost the whole guest: fio, zusd (polling or not),
	# the kernel; fio's start-up is in it too, alike for every target
	printf 'fio/%s\t%s\n' "$json" $(($(busy_ticks) - b0)) >>"$OUT/cpu.tsv"
	if [ $rc = 0 ] && [ -s "$res" ]; then
		record "$t" "$op" "$j" ok "fio/$json"
		key="write"
		[ "$op" = randread ] && key="read"
		say "$t $op j=$j: $(jq -r ".jobs[0].$key | \"\(.iops|floor) IOPS, \(.lat_ns.mean/1000|floor) us\"" "$res" 2>/dev/null)"
	else
		record "$t" "$op" "$j" n/a "fio failed: $(tail -n 2 "$OUT/logs/fio.log" | tr '\t\n' '  ')"
		say "$t $op j=$j: fio failed"
	fi
}

# io_rows TARGET FILE DIRECT ALLOC_DIR: randwrite (overwrite) and randread of
# FILE, then, when ALLOC_DIR is given, allocating sequential writes to fresh
# files in it (one per job, removed before and after each point).
io_rows() {
	local t=$1 file=$2 direct=$3 adir=${4:-} j tag=${1//\//_}
	local fsz_mb asz

	fsz_mb=$(size_mb "$FSIZE")
	warmup "$file" "$direct"
	for j in $JOBS; do
		fio_point "$t" randwrite "$j" "$tag.randwrite.j$j.json" \
			--filename="$file" --rw=randwrite --direct="$direct" \
			--size="${fsz_mb}M" --runtime="$RUNTIME" --time_based
	done
	for j in $JOBS; do
		fio_point "$t" randread "$j" "$tag.randread.j$j.json" \
			--filename="$file" --rw=randread --direct="$direct" \
			--size="${fsz_mb}M" --runtime="$RUNTIME" --time_based
	done
	[ -n "$adir" ] || return 0
	for j in $JOBS; do
		asz=$((ALLOC_TOTAL_MB / j))
		rm -f "$adir"/alloc.* "$adir"/bench
		# not time_based: every write must allocate, so the point
		# ends at the runtime or when the files are written.  From
		# inside the directory, not --directory: in the guest, fio
		# 3.33 with --directory ignored filename_format and gave
		# every job the one file "bench", so with 2 jobs each wrote
		# blocks the other had just allocated, and the 1-job file
		# (never removed) was overwritten in place: the old 2-job
		# row measured overwrites (bench/README.md, write-alloc).
		(cd "$adir" && fio_point "$t" write-alloc "$j" \
			"$tag.write-alloc.j$j.json" \
			--filename_format='alloc.$jobnum' \
			--rw=write --fallocate=none --direct="$direct" \
			--size="${asz}M" --runtime="$RUNTIME")
		alloc_files_check "$t" "$adir" "$j"
		rm -f "$adir"/alloc.* "$adir"/bench
	done
}

# warmup FILE DIRECT: an unrecorded second first, as raw pmem gets: the
# first points after the prefill would otherwise pay for warming caches
# (the map cache, the guest's page tables) that every later point finds warm
warmup() {
	fio --name=warmup --filename="$1" --rw=randwrite --bs=4k \
		--direct="$2" --sync=1 --ioengine=psync \
		--size="$(size_mb "$FSIZE")M" --runtime=1 --time_based \
		>/dev/null 2>&1
}

# alloc_files_check TARGET DIR JOBS: each job had a file of its own
alloc_files_check() {
	local n
	n=$(find "$2" -maxdepth 1 -name 'alloc.*' | wc -l)
	[ "$n" = "$3" ] && return 0
	say "$1 write-alloc j=$3: $n alloc.* files, want $3: the point did not measure allocating writes"
	# the point fio_point just recorded, if it said ok: n/a instead
	sed -i "\$s|^\(.*\twrite-alloc\t$3\t\)ok\t.*|\1n/a\t$n files for $3 jobs: not allocating writes|" \
		"$OUT/runs.tsv"
}

# prefill FILE: write the overwrite/read file once in big chunks so the
# measured randwrite overwrites blocks that are already allocated
prefill() {
	local file=$1 t0=$SECONDS rc
	shift
	dd if=/dev/zero of="$file" bs=1M count="$(size_mb "$FSIZE")" \
		conv=fsync status=none "$@" 2>>"$OUT/logs/prefill.log"
	rc=$?
	say "prefill $file: $((SECONDS - t0)) s"
	return $rc
}

# pretouch DEV: write the whole pmem device once before a filesystem goes
# on it.  qemu backs guest pmem lazily: the first store to each page costs
# a host page fault (~350 us under TCG), which real pmem never pays; without
# this the allocating-write rows would measure qemu, not the filesystems.
pretouch() {
	local dev=$1 t0=$SECONDS
	# a device that two targets share in turn is touched once
	case " $TOUCHED " in *" $dev "*) return 0 ;; esac
	TOUCHED="$TOUCHED $dev"
	dd if=/dev/zero of="$dev" bs=1M oflag=direct status=none \
		2>>"$OUT/logs/prefill.log"
	say "pretouch $dev: $((SECONDS - t0)) s"
}

# fuse_ready: the VM's kernel has FUSE as a module nobody loaded yet
fuse_ready() {
	[ -e /dev/fuse ] || modprobe fuse 2>/dev/null
	[ -e /dev/fuse ]
}

meta_rows() {
	local t=$1 dir=$2 j line phase threads ops mean p99 cpu
	for j in $JOBS; do
		# -T: on a slow target create/stat stop early (fewer files)
		if ! timeout -k 10 900 "$BIN/metabench" -n "$META_FILES" -t "$j" \
			-T "$RUNTIME" "$dir" \
			>"$OUT/logs/meta.out" 2>>"$OUT/logs/meta.log"; then
			printf '%s\t*\t%s\tn/a\t%s\n' "$t" "$j" \
				"metabench failed: $(tail -n 1 "$OUT/logs/meta.log")" >>"$OUT/meta.tsv"
			say "$t metabench t=$j failed"
			continue
		fi
		while read -r line; do
			set -- $line
			phase=$1 threads=${2#threads=} ops=${5#ops_per_s=}
			mean=${6#mean_us=} p99=${7#p99_us=} cpu=${8#cpu_us=}
			printf '%s\t%s\t%s\tok\t%s\t%s\t%s\t%s\n' "$t" "$phase" \
				"$threads" "$ops" "$mean" "$p99" "$cpu" >>"$OUT/meta.tsv"
			say "$t $phase t=$threads: $ops ops/s, $mean us"
		done <"$OUT/logs/meta.out"
	done
}

# --- in-kernel references -------------------------------------------------

t_raw_pmem() {
	local t=raw-pmem dev
	dev=$(pmem_of $t) || { target_na $t "no pmem device for it"; return; }
	# touch the range once, as the filesystems' prefill does for theirs:
	# qemu backs guest pmem lazily and first touches are slow
	prefill "$dev" oflag=direct
	# (io_rows' warm-up also pays for the first fio of a fresh guest:
	# loading fio over 9p and the like)
	io_rows $t "$dev" 1
}

# t_raw_recheck: raw pmem overwrite once more at the end; against the first
# raw-pmem rows it shows how much the (shared) host drifted meanwhile
t_raw_recheck() {
	local t=raw-pmem-recheck dev j
	dev=$(pmem_of raw-pmem) || return 0
	for j in $JOBS; do
		fio_point $t randwrite "$j" "$t.randwrite.j$j.json" \
			--filename="$dev" --rw=randwrite --direct=1 \
			--size="$(size_mb "$FSIZE")M" --runtime="$RUNTIME" --time_based
	done
}

t_ext4_dax() {
	local t=ext4-dax dev m=$MNT_BASE/ext4
	dev=$(pmem_of $t) || { target_na $t "no pmem device for it"; return; }
	pretouch "$dev"
	modprobe ext4 2>/dev/null
	mkdir -p $m
	if ! mkfs.ext4 -q -F -b 4096 "$dev" >"$OUT/logs/ext4.log" 2>&1 ||
	   ! mount -t ext4 -o dax "$dev" $m >>"$OUT/logs/ext4.log" 2>&1; then
		target_na $t "mkfs/mount -o dax failed: $(log_tail ext4)"
		return
	fi
	if prefill $m/file; then
		io_rows $t $m/file 1 $m
	else
		target_na $t "prefill failed"
	fi
	meta_rows $t $m
	umount $m
}

t_tmpfs() {
	local t=tmpfs m=$MNT_BASE/tmpfs
	mkdir -p $m
	mount -t tmpfs -o size=2G tmpfs $m || { target_na $t "mount failed"; return; }
	# tmpfs has no O_DIRECT on 6.1: buffered O_SYNC, as in design.md
	prefill $m/file && io_rows $t $m/file 0 $m
	meta_rows $t $m
	umount $m
}

# --- FUSE ---------------------------------------------------------------

t_fuse_null() {
	local t=fuse-null m=$MNT_BASE/null
	fuse_ready || { target_na $t "no /dev/fuse (modprobe fuse failed)"; return; }
	[ -x "$BIN/fuse-nullfs" ] || { target_na $t "$BIN/fuse-nullfs not built"; return; }
	if ! start_daemon fuse-null $m "$BIN/fuse-nullfs" -f \
		-o max_write=1048576 -o size=1G $m; then
		target_na $t "fuse-nullfs did not mount: $(log_tail fuse-null)"
		return
	fi
	io_rows $t $m/data 1
	stop_daemon $m $DAEMON_PID
}

t_fb_zpmfs() {
	local t=fuse-bridge/zpmfs dev=${1:-} m=$MNT_BASE/fz
	fuse_ready || { target_na $t "no /dev/fuse (modprobe fuse failed)"; return; }
	for f in zus-fuse mkfs.zpmfs; do
		[ -x "$BIN/$f" ] || { target_na $t "$BIN/$f not built"; return; }
	done
	if [ -z "$dev" ]; then
		dev=$(pmem_of $t) || { target_na $t "no pmem device for it"; return; }
		pretouch "$dev"
	fi
	if ! "$BIN/mkfs.zpmfs" -f "$dev" >"$OUT/logs/fb-zpmfs.mkfs.log" 2>&1; then
		target_na $t "mkfs.zpmfs failed: $(log_tail fb-zpmfs.mkfs)"
		return
	fi
	# shellcheck disable=SC2046
	if ! start_daemon fb-zpmfs $m "$BIN/zus-fuse" $(zus_fuse_args) \
		-t zpmfs "$dev" $m; then
		target_na $t "zus-fuse did not mount: $(log_tail fb-zpmfs)"
		return
	fi
	if prefill $m/file; then
		io_rows $t $m/file 1 $m
	else
		target_na $t "prefill failed: $(tail -n 1 "$OUT/logs/prefill.log")"
	fi
	meta_rows $t $m
	stop_daemon $m $DAEMON_PID
}

t_fb_passthrough() {
	local t=fuse-bridge/passthrough m=$MNT_BASE/fp b=/tmp/bench-fp
	fuse_ready || { target_na $t "no /dev/fuse (modprobe fuse failed)"; return; }
	[ -x "$BIN/zus-fuse" ] || { target_na $t "$BIN/zus-fuse not built"; return; }
	mkdir -p $b
	# shellcheck disable=SC2046
	if ! start_daemon fb-passthrough $m "$BIN/zus-fuse" $(zus_fuse_args) \
		-t zpassthrough -o backing=$b none $m; then
		target_na $t "zus-fuse did not mount: $(log_tail fb-passthrough)"
		return
	fi
	if prefill $m/file; then
		io_rows $t $m/file 1 $m
	else
		target_na $t "prefill failed: $(tail -n 1 "$OUT/logs/prefill.log")"
	fi
	meta_rows $t $m
	stop_daemon $m $DAEMON_PID
	rm -rf $b
}

# --- zufs ---------------------------------------------------------------

ZUSD_PID=
ZUSD_SPIN=
ZUFS_ERR=
TOUCHED=

# zufs_up [SPIN_US]: load zuf.ko and start zusd (with --spin SPIN_US when
# given), once per SPIN_US: a zusd that polls otherwise is replaced;
# ZUFS_ERR says why it could not
zufs_up() {
	local spin=${1:-}
	[ -n "$ZUSD_PID" ] && [ "$ZUSD_SPIN" = "$spin" ] && return 0
	zufs_down
	[ -n "$ZUFS_ERR" ] && return 1
	if [ ! -f "$TOP/kernel/zuf/zuf.ko" ]; then
		ZUFS_ERR="kernel/zuf/zuf.ko not built"
	elif [ ! -x "$BIN/zusd" ]; then
		ZUFS_ERR="$BIN/zusd not built"
	elif ! grep -q '^zuf ' /proc/modules &&
	     ! insmod "$TOP/kernel/zuf/zuf.ko" >"$OUT/logs/insmod.log" 2>&1; then
		ZUFS_ERR="insmod zuf.ko failed: $(log_tail insmod)"
	fi
	[ -z "$ZUFS_ERR" ] || return 1
	local log=zusd${spin:+-spin$spin}
	if zusd_start "$OUT/logs/$log.log" "$spin" zpmfs; then
		ZUSD_PID=$ZUSD_STARTED
		ZUSD_SPIN=$spin
		return 0
	fi
	ZUFS_ERR="zusd did not register zpmfs: $(log_tail "$log")"
	kill "$ZUSD_STARTED" 2>/dev/null
	return 1
}

# zusd_start LOG SPIN_US TYPE: a zusd of our own (with --spin SPIN_US when
# not empty), its pid in ZUSD_STARTED; fails unless it registers TYPE
zusd_start() {
	local log=$1 spin=$2 type=$3 i
	# the last server's types go with it: do not mistake them for ours
	for ((i = 0; i < 50; i++)); do
		grep -qw "$type" /proc/filesystems || break
		sleep 0.1
	done
	"$BIN/zusd" -f -p "$PLUGINS" ${spin:+--spin "$spin"} >"$log" 2>&1 &
	ZUSD_STARTED=$!
	# zusd registers its filesystem types once its plugins are loaded
	for ((i = 0; i < 100; i++)); do
		grep -qw "$type" /proc/filesystems && return 0
		kill -0 "$ZUSD_STARTED" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

zufs_down() {
	[ -n "$ZUSD_PID" ] || return 0
	kill $ZUSD_PID 2>/dev/null
	wait $ZUSD_PID 2>/dev/null
	ZUSD_PID=
}

# t_zufs_zpmfs NAME MOUNT-OPTS [SPIN_US]: SPIN_US polls on both sides
# (zusd --spin, -o spin=)
t_zufs_zpmfs() {
	local t=$1 opts=$2 spin=${3:-} dev m=$MNT_BASE/${1##*/} tag=${1##*/}
	dev=$(pmem_of "$t") || { target_na "$t" "no pmem device for it"; return; }
	pretouch "$dev"
	zufs_up "$spin" || { target_na "$t" "$ZUFS_ERR"; return; }
	[ -n "$spin" ] && opts=${opts:+$opts,}spin=$spin
	[ -x "$BIN/mkfs.zpmfs" ] || { target_na "$t" "$BIN/mkfs.zpmfs not built"; return; }
	mkdir -p "$m"
	if ! "$BIN/mkfs.zpmfs" -f "$dev" >"$OUT/logs/$tag.mkfs.log" 2>&1; then
		target_na "$t" "mkfs.zpmfs failed"
		return
	fi
	if ! mount -t zpmfs ${opts:+-o $opts} "$dev" "$m" >"$OUT/logs/$tag.mount.log" 2>&1; then
		target_na "$t" "mount -t zpmfs ${opts:+-o $opts} failed: $(log_tail "$tag.mount")"
		return
	fi
	if prefill "$m/file"; then
		io_rows "$t" "$m/file" 1 "$m"
		[ "$t" = zufs/zpmfs ] && scaling_pairs "$t" "$m/file"
	else
		target_na "$t" "prefill failed: $(tail -n 1 "$OUT/logs/prefill.log")"
	fi
	# nomapcache changes no metadata op: its metabench would repeat zpmfs's
	[ "$t" = zufs/zpmfs-nomapcache ] || meta_rows "$t" "$m"
	umount "$m" || say "$t: umount failed"
}

# scaling_pairs TARGET FILE: randwrite with 1 job then 2 jobs, back to back,
# PAIRS times.  Each pair's ratio is measured under nearly the same host
# load; the report judges "2 jobs >= 1.8x 1 job" on their median, which a
# drifting shared host moves much less than two points minutes apart.
scaling_pairs() {
	local t=$1 file=$2 r j json
	case " $JOBS " in *" 1 "*) ;; *) return 0 ;; esac
	case " $JOBS " in *" 2 "*) ;; *) return 0 ;; esac
	for ((r = 1; r <= PAIRS; r++)); do
		for j in 1 2; do
			json="${t//\//_}.pair$r.j$j.json"
			if timeout -k 10 $((RUNTIME * 3 + 120)) fio --name=bench \
				--bs=4k --sync=1 --ioengine=psync --numjobs=$j \
				--group_reporting --output-format=json \
				--output="$OUT/fio/$json" --filename="$file" \
				--rw=randwrite --direct=1 --size="$(size_mb "$FSIZE")M" \
				--runtime="$RUNTIME" --time_based \
				>>"$OUT/logs/fio.log" 2>&1; then
				printf '%s\t%s\t%s\tfio/%s\n' "$t" $r $j "$json" \
					>>"$OUT/pairs.tsv"
			fi
		done
		say "$t scaling pair $r done"
	done
}

t_zufs_passthrough() {
	local t=zufs/passthrough m=$MNT_BASE/pt b=/tmp/bench-pt
	zufs_up "" || { target_na $t "$ZUFS_ERR"; return; }
	mkdir -p $m $b
	if ! mount -t zpassthrough -o backing=$b none $m >"$OUT/logs/pt.mount.log" 2>&1; then
		target_na $t "mount -t zpassthrough failed: $(log_tail pt.mount)"
		return
	fi
	if prefill $m/file; then
		io_rows $t $m/file 1 $m
	else
		target_na $t "prefill failed: $(tail -n 1 "$OUT/logs/prefill.log")"
	fi
	meta_rows $t $m
	umount $m || say "$t: umount failed"
	rm -rf $b
}

# copy_max values the copy rounds compare: 0 lends the caller's pages to
# the ZT's window; the others copy I/O up to that size through the data area
COPY_SIZES="0 4096 16384"

# set_copy_max MNT BACKING BYTES: MNT mounted afresh over BACKING with that
# copy_max.  Not by remount: mount(8) hands the remount the mount's
# backing= again, and zpassthrough, which has no remount op, refuses any
# plugin option there (zusd: "remount with options not supported")
set_copy_max() {
	local m=$1 b=$2 cm=$3 shown
	umount "$m" &&
		mount -t zpassthrough -o backing="$b",copy_max="$cm" none "$m" \
			>>"$OUT/logs/ptc.mount.log" 2>&1 || return 1
	# /proc/mounts shows copy_max unless it is the default
	shown=$(awk -v m="$m" '$2 == m' /proc/mounts |
		sed -n 's/.*copy_max=\([0-9]*\).*/\1/p')
	[ -z "$shown" ] || [ "$shown" = "$cm" ]
}

# t_zufs_pt_copy: zufs/passthrough's randwrite and randread with each of
# COPY_SIZES, interleaved, PAIRS rounds over one backing file: a drifting
# host load moves the values of a round alike, so the report compares them
# round by round (OUT/copy.tsv)
t_zufs_pt_copy() {
	local t=zufs/passthrough-copy m=$MNT_BASE/ptc b=/tmp/bench-ptc r cm op j
	local fsz_mb
	zufs_up "" || { target_na $t "$ZUFS_ERR"; return; }
	mkdir -p $m $b
	if ! mount -t zpassthrough -o backing=$b none $m >"$OUT/logs/ptc.mount.log" 2>&1; then
		target_na $t "mount -t zpassthrough failed: $(log_tail ptc.mount)"
		return
	fi
	fsz_mb=$(size_mb "$FSIZE")
	if prefill $m/file; then
		warmup $m/file 1
		for ((r = 1; r <= PAIRS; r++)); do
			for cm in $COPY_SIZES; do
				if ! set_copy_max $m $b "$cm"; then
					target_na "$t$cm" "copy_max=$cm: mount failed: $(log_tail ptc.mount)"
					continue
				fi
				for op in randwrite randread; do
					for j in $JOBS; do
						MANIFEST=copy.tsv fio_point "$t$cm" $op "$j" \
							"${t//\//_}$cm.$op.j$j.r$r.json" \
							--filename=$m/file --rw=$op --direct=1 \
							--size="${fsz_mb}M" --runtime="$RUNTIME" \
							--time_based
					done
				done
			done
			say "$t round $r done"
		done
	else
		target_na $t "prefill failed: $(tail -n 1 "$OUT/logs/prefill.log")"
	fi
	umount $m || say "$t: umount failed"
	rm -rf $b
}

# --- round trip ---------------------------------------------------------

# Polling time of the spinning zufs rows (zusd --spin, mount -o spin=)
RT_SPIN_US=50
# seconds per round-trip point: enough for ~10^4 trips even under TCG
RT_SECS=$((RUNTIME < 2 ? RUNTIME : 2))

# rt_rows VARIANT RTBENCH-ARGS...: rtbench at 1 and NCPU callers, peer on
# the same and on the next CPU; lines to OUT/rt.tsv, breakdowns to
# OUT/rt-breakdown.txt
rt_rows() {
	local v=$1 n threads place line out
	shift
	n=$(nproc)
	for threads in 1 $n; do
		for place in same cross; do
			[ "$place" = cross ] && [ "$n" -lt 2 ] && continue
			rt_point "$v" "$threads" "$place" "$@"
		done
		[ "$n" = 1 ] && break
	done
}

# rt_point VARIANT THREADS PLACE MODE [FILE]
rt_point() {
	local v=$1 threads=$2 place=$3 mode=$4 file=${5:-} line pargs
	pargs=(-p "$place")
	# FUSE's daemon sits on CPU 0 (taskset): place the callers instead
	if [ "$mode" = fuse ]; then
		pargs=(-P 0)
		[ "$place" = cross ] && pargs=(-P 1)
	fi
	out=$(timeout -k 5 $((RT_SECS * 4 + 30)) "$BIN/rtbench" -t "$threads" \
		-T "$RT_SECS" "${pargs[@]}" "$mode" ${file:+"$file"} \
		2>>"$OUT/logs/rtbench.log")
	line=$(grep '^rt mode=' <<<"$out")
	if [ -z "$line" ]; then
		printf '%s\t%s\t%s\tn/a\t%s\n' "$v" "$threads" "$place" \
			"rtbench failed: $(tail -n 1 "$OUT/logs/rtbench.log")" >>"$OUT/rt.tsv"
		say "roundtrip $v t=$threads $place: failed"
		return
	fi
	printf '%s\t%s\t%s\tok\t%s\n' "$v" "$threads" "$place" "$line" >>"$OUT/rt.tsv"
	say "roundtrip $v t=$threads $place: $line"
	[ "$mode" = zufs ] || return 0
	# the same trip stamped at every step: where the time goes
	out=$(timeout -k 5 $((RT_SECS * 4 + 30)) "$BIN/rtbench" -b -t "$threads" \
		-T "$RT_SECS" "${pargs[@]}" "$mode" "$file" 2>>"$OUT/logs/rtbench.log")
	grep '^breakdown ' <<<"$out" | sed "s/^breakdown /breakdown variant=$v /" \
		>>"$OUT/rt-breakdown.txt"
}

# rt_pairs VARIANT PLACE FILE: PAIRS back-to-back (futex, zufs) pairs of
# 1-caller points, 0.5 s each, to OUT/rt-pairs.tsv: a drifting host load
# moves both halves of a pair alike, so the ratio targets are judged on
# the pairs' median ratio rather than on two rows minutes apart
rt_pairs() {
	local v=$1 place=$2 file=$3 r f z
	for ((r = 1; r <= PAIRS; r++)); do
		f=$(timeout -k 5 30 "$BIN/rtbench" -T 0.5 -p "$place" futex \
			2>>"$OUT/logs/rtbench.log" | sed -n 's/^rt .* us=\([0-9.]*\) .*/\1/p')
		z=$(timeout -k 5 30 "$BIN/rtbench" -T 0.5 -p "$place" zufs "$file" \
			2>>"$OUT/logs/rtbench.log" | sed -n 's/^rt .* us=\([0-9.]*\) .*/\1/p')
		[ -n "$f" ] && [ -n "$z" ] &&
			printf '%s\t%s\t%s\t%s\t%s\n' "$v" "$place" $r "$f" "$z" \
				>>"$OUT/rt-pairs.tsv"
	done
}

# rt_zufs VARIANT SPIN_US: a zusd of our own (with --spin SPIN_US when not
# 0) and a zpassthrough mount (-o spin=SPIN_US): the NULL op never reaches
# the plugin, so the plugin does not matter
rt_zufs() {
	local v=$1 spin=$2 m=$MNT_BASE/rt b=/tmp/bench-rt pid
	mkdir -p $m $b
	# a zusd that did not register shows as the mount's failure below
	zusd_start "$OUT/logs/zusd-$v.log" "$spin" zpassthrough
	pid=$ZUSD_STARTED
	if ! mount -t zpassthrough -o backing=$b${spin:+,spin=$spin} none $m \
		>"$OUT/logs/rt-$v.mount.log" 2>&1; then
		printf '%s\t*\t*\tn/a\t%s\n' "$v" \
			"mount failed: $(log_tail "rt-$v.mount")" >>"$OUT/rt.tsv"
	else
		touch $m/null
		rt_rows "$v" zufs $m/null
		# sleeping: against the same-CPU floor; polling pays off across CPUs
		rt_pairs "$v" "$([ -n "$spin" ] && echo cross || echo same)" $m/null
		umount $m || say "roundtrip: umount $m failed"
	fi
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	rm -rf $b
}

t_roundtrip() {
	local m=$MNT_BASE/rtnull
	: >"$OUT/rt-breakdown.txt"
	rt_rows futex futex
	if fuse_ready && [ -x "$BIN/fuse-nullfs" ] &&
	   start_daemon rt-fuse-null $m taskset -c 0 "$BIN/fuse-nullfs" -f \
		-o size=1G $m; then
		rt_rows fuse-null fuse $m/data
		stop_daemon $m $DAEMON_PID
	else
		printf 'fuse-null\t*\t*\tn/a\tfuse-nullfs did not mount\n' >>"$OUT/rt.tsv"
	fi
	zufs_down
	if [ ! -f "$TOP/kernel/zuf/zuf.ko" ] || [ ! -x "$BIN/zusd" ]; then
		printf 'zufs\t*\t*\tn/a\tzuf.ko or zusd not built\n' >>"$OUT/rt.tsv"
		return
	fi
	grep -q '^zuf ' /proc/modules || insmod "$TOP/kernel/zuf/zuf.ko" ||
		{ printf 'zufs\t*\t*\tn/a\tinsmod failed\n' >>"$OUT/rt.tsv"; return; }
	rt_zufs zufs ""
	rt_zufs "zufs-spin$RT_SPIN_US" $RT_SPIN_US
}

# --- host mode ----------------------------------------------------------

host_rows() {
	local img=/dev/shm/zufs-bench.$$.img
	run fuse-null t_fuse_null
	if selected fuse-bridge/zpmfs; then
		truncate -s 1G $img
		run fuse-bridge/zpmfs t_fb_zpmfs $img
		rm -f $img
	fi
	run fuse-bridge/passthrough t_fb_passthrough
	rm -rf "$MNT_BASE"
}

# run TARGET FUNCTION ARGS...: one target, if selected, timed (the time goes
# to OUT/times.tsv: where a slow run spends it)
run() {
	local t=$1 t0=$SECONDS
	shift
	selected "$t" || return 0
	"$@"
	printf '%s\t%s\n' "$t" $((SECONDS - t0)) >>"$OUT/times.tsv"
}

main() {
	: >"$OUT/runs.tsv"
	: >"$OUT/meta.tsv"
	: >"$OUT/times.tsv"
	: >"$OUT/pairs.tsv"
	: >"$OUT/rt.tsv"
	: >"$OUT/rt-pairs.tsv"
	: >"$OUT/cpu.tsv"
	: >"$OUT/copy.tsv"
	{
		echo "jobs=$JOBS runtime=$RUNTIME fsize=$FSIZE meta_files=$META_FILES"
		echo "kernel=$(uname -r) cpus=$(nproc) host_mode=$HOST_MODE"
		fio --version
	} >"$OUT/env.txt"
	if [ $HOST_MODE = 1 ]; then
		host_rows
		return 0
	fi
	# Each pmem target takes the next device in this order; the zufs
	# targets come last so that a kernel problem there loses nothing else.
	run raw-pmem t_raw_pmem
	run ext4-dax t_ext4_dax
	run tmpfs t_tmpfs
	run fuse-null t_fuse_null
	run fuse-bridge/zpmfs t_fb_zpmfs
	run fuse-bridge/passthrough t_fb_passthrough
	run zufs/zpmfs t_zufs_zpmfs zufs/zpmfs ""
	# right after zpmfs, on its device: the same fio jobs with polling
	run zufs/zpmfs-spin t_zufs_zpmfs zufs/zpmfs-spin "" "$RT_SPIN_US"
	run zufs/zpmfs-nomapcache t_zufs_zpmfs zufs/zpmfs-nomapcache nomapcache
	run zufs/passthrough t_zufs_passthrough
	run zufs/passthrough-copy t_zufs_pt_copy
	zufs_down
	run roundtrip t_roundtrip
	run raw-pmem t_raw_recheck
	say "done"
}

main
