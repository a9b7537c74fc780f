#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Guest side of bench/ceph/run: one cluster, four clients of its CephFS,
# the same fio and metabench points on each, a table in $BENCH_OUT.
# With --host the same on the host: $BENCH_ROWS, all under $BENCH_TMP.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/vm/lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
O=$BENCH_OUT RT=${BENCH_RUNTIME:-5} SZ=${BENCH_SIZE:-64M} NF=${BENCH_FILES:-300}
B=$TOP/build/bin

T=${BENCH_TMP:-/tmp}
t0=$SECONDS
conf=$("$TOP/scripts/ceph-cluster.sh" start "$T/cluster" --osds 1 --memstore) ||
	{ echo "bench: the cluster did not start" >&2; exit 1; }
echo "cluster HEALTH_OK after $((SECONDS - t0)) s" | tee "$O/cluster.txt"
port=$(sed -n 's/^mon host = \[v2:127.0.0.1:\([0-9]*\),.*/\1/p' "$conf")
key=$(sed -n 's/^[[:space:]]*key = //p' "$T/cluster/admin.keyring")

M=${BENCH_TMP:-/mnt}
declare -A MP=([zceph-zuf]=$M/b-zuf [zceph-bridge]=$M/b-bridge
	[ceph-fuse]=$M/b-cfuse [kernel-ceph]=$M/b-kc)
read -ra ROWS <<<"${BENCH_ROWS:-zceph-zuf zceph-bridge ceph-fuse kernel-ceph}"
zusd_pid=
mkdir -p "${MP[@]}"

mount_row() {
	case $1 in
	zceph-zuf)
		zufs_load
		awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf
		"$B/zusd" -f -p "$TOP/build/plugins/zceph.so" >/tmp/zusd.log 2>&1 &
		zusd_pid=$!
		wait_registered zceph &&
			mount -t zceph -o "conf=$conf" none "${MP[$1]}" ;;
	zceph-bridge)
		{ grep -qw fuse /proc/filesystems || modprobe fuse; } &&
			"$B/zus-fuse" -t zceph -o "conf=$conf" none "${MP[$1]}" ;;
	ceph-fuse)
		{ grep -qw fuse /proc/filesystems || modprobe fuse; } &&
			ceph-fuse -c "$conf" --id admin "${MP[$1]}" >"$T/ceph-fuse.log" 2>&1 ;;
	kernel-ceph)
		modprobe ceph &&
			mount -t ceph "127.0.0.1:$((port + 1)):/" "${MP[$1]}" \
				-o "name=admin,secret=$key" ;;
	esac
}

# fio point: NAME RW BS; buffered I/O, writes end with an fsync
point() {
	local row=$1 name=$2 rw=$3 bs=$4 dir=$5
	fio --name="$name" --directory="$dir" --filename=bench.dat --rw="$rw" \
		--bs="$bs" --size="$SZ" --runtime="$RT" --time_based \
		--ioengine=psync --end_fsync=1 --output-format=json \
		>"$O/$row.$name.json" 2>"$O/$row.$name.err" || return 1
	python3 - "$O/$row.$name.json" "$rw" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
side = "read" if "read" in sys.argv[2] else "write"
print("%.1f" % (j[side]["bw_bytes"] / 1048576.0))
PY
}

printf '| row | 4k write MiB/s | 4k read MiB/s | 1M write MiB/s | 1M read MiB/s | create/s | stat/s | unlink/s |\n|---|---|---|---|---|---|---|---|\n' >"$O/results.md"
for row in "${ROWS[@]}"; do
	dir=${MP[$row]}
	if ! mount_row "$row"; then
		echo "| $row | n/a (mount failed) |||||||" >>"$O/results.md"
		continue
	fi
	d=$dir/bench-$row
	mkdir -p "$d"
	w4=$(point "$row" w4k randwrite 4k "$d") || w4=n/a
	r4=$(point "$row" r4k randread 4k "$d") || r4=n/a
	w1=$(point "$row" w1m write 1M "$d") || w1=n/a
	r1=$(point "$row" r1m read 1M "$d") || r1=n/a
	"$B/metabench" -n "$NF" "$d" >"$O/$row.meta" 2>&1
	m() { awk -v p="$1" '$1 == p { for (i = 2; i <= NF; i++) if (sub(/^ops_per_s=/, "", $i)) print $i }' "$O/$row.meta"; }
	echo "| $row | $w4 | $r4 | $w1 | $r1 | $(m create) | $(m stat) | $(m unlink) |" >>"$O/results.md"
	rm -rf "$d"
	umount "$dir" || umount -l "$dir"
	echo "bench: $row done"
done
[ -n "$zusd_pid" ] && kill "$zusd_pid"
"$TOP/scripts/ceph-cluster.sh" stop "$T/cluster"
if [ -n "${BENCH_TMP:-}" ]; then rm -f "$T/ceph-fuse.log"; rmdir "${MP[@]}" "$BENCH_TMP"; fi
cat "$O/results.md"
