#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A throwaway single-host Ceph cluster on loopback, for tests and benches.
#   scripts/ceph-cluster.sh start DIR [--osds N] [--port P] [--memstore]
#       one mon, one mgr, N (1..3, default 3) bluestore OSDs on sparse
#       files (--memstore: in RAM, for a DIR on tmpfs, which has no
#       O_DIRECT before Linux 6.6), one MDS and a CephFS "cephfs", all under DIR (created; must
#       not exist), cephx on, no systemd; waits for HEALTH_OK and an active
#       MDS.  Prints DIR/ceph.conf; the admin key is DIR/admin.keyring.
#   scripts/ceph-cluster.sh stop DIR     stop every daemon, remove DIR
#   scripts/ceph-cluster.sh status DIR   `ceph -s`; exit 0 only on HEALTH_OK
#   scripts/ceph-cluster.sh wait DIR     until HEALTH_OK ($CEPH_WAIT s, 120)
#   scripts/ceph-cluster.sh kill-osd DIR ID / start-osd DIR ID
#   scripts/ceph-cluster.sh restart-mds DIR
#       (fault tests: SIGKILL one OSD, start it again; restart the MDS)
# CEPH_WAIT (s) bounds the wait for health, CEPH_VERBOSE=1 times each
# step of a start on stderr.
# Pools are replicated min(N, 2) times with min_size 1, so with N >= 2 a
# killed OSD stalls I/O until the monitor marks it down (one peer's report
# is enough), never fails it.
# Run as root (the daemons need no other user); needs ceph-mon, ceph-mgr,
# ceph-osd, ceph-mds (scripts/deps.sh --ceph).
set -euo pipefail
trap 'echo "ceph-cluster: failed: $BASH_COMMAND (line $LINENO)" >&2' ERR

usage() { sed -n '3,22s/^# \{0,1\}//p' "$0"; }
die() { echo "ceph-cluster: $*" >&2; exit 1; }

# ceph(8) talks to the mon; $CEPH_CMD_TIMEOUT (s, default 60) bounds one
# call (a TCG guest needs more: its python start alone takes seconds)
cephcmd() { timeout "${CEPH_CMD_TIMEOUT:-60}" ceph -c "$D/ceph.conf" -n client.admin -k "$D/admin.keyring" "$@"; }
# the start's monitor commands through one librados session (see there)
moncmd() { /usr/bin/python3 "$(dirname "$0")/ceph-moncmd.py" "$D/ceph.conf" "$D/admin.keyring" "$@"; }

write_conf() {
	local fsid=$1 port=$2 size=$3 store=$4
	# the first-match rules: per-daemon keyrings in their own sections;
	# no admin socket for clients (every ceph(8) call, every libcephfs
	# mount would otherwise create one in run dir and collide)
	cat >"$D/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$port,v1:127.0.0.1:$((port + 1))]
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
run dir = $D/run
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
admin socket = $D/run/\$name.asok
crash dir = $D/crash
osd crush chooseleaf type = 0
osd pool default size = $size
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd pool default pg num = 16
osd pool default pgp num = 16
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
auth allow insecure global id reclaim = false
mon data avail warn = 1
mon data avail crit = 0
osd heartbeat interval = 1
osd heartbeat grace = 6
mon osd min down reporters = 1
mds beacon interval = 1
ms bind ipv6 = false
[mon]
mon data = $D/mon.\$id
[mgr]
mgr data = $D/mgr.\$id
keyring = $D/mgr.\$id/keyring
mgr initial modules =
# the mgr imports every module it finds, enabled or not: seconds each in
# a TCG guest.  Only the always-on ones (their absence is HEALTH_ERR).
mgr disabled modules = alerts,diskprediction_local,influx,insights,iostat,localpool,mirroring,nfs,osd_perf_query,osd_support,prometheus,restful,selftest,snap_schedule,stats,telegraf,test_orchestrator,zabbix,cephadm,dashboard,k8sevents,rook
[osd]
osd data = $D/osd.\$id
keyring = $D/osd.\$id/keyring
osd objectstore = $store
memstore device bytes = 1073741824
bluestore block create = true
bluestore block size = 4294967296
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mkfs = false
osd memory target = 939524096
bluestore cache autotune = false
bluestore cache size = 134217728
osd recovery sleep hdd = 0
osd recovery sleep = 0
osd op num shards = 2
osd op num threads per shard = 1
[mds]
mds data = $D/mds.\$id
keyring = $D/mds.\$id/keyring
[client.admin]
keyring = $D/admin.keyring
[client]
admin socket =
log file = $D/log/client.log
EOF
}

start_mon() {
	local fsid=$1 port=$2
	ceph-authtool --create-keyring "$D/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
	ceph-authtool --create-keyring "$D/admin.keyring" --gen-key -n client.admin \
		--cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
	ceph-authtool "$D/mon.keyring" --import-keyring "$D/admin.keyring" >/dev/null
	monmaptool --create --fsid "$fsid" \
		--addv a "[v2:127.0.0.1:$port,v1:127.0.0.1:$((port + 1))]" "$D/monmap" >/dev/null
	ceph-mon -c "$D/ceph.conf" --mkfs -i a --monmap "$D/monmap" --keyring "$D/mon.keyring"
	ceph-mon -c "$D/ceph.conf" -i a
}

# every monitor command of a start through one client: keys of the mgr,
# the MDS and N OSDs (ids 0..N-1), the pools and the CephFS
mon_setup() {
	local i uuids=()
	mkdir -p "$D/mgr.x" "$D/mds.a"
	for ((i = 0; i < $1; i++)); do
		mkdir -p "$D/osd.$i"
		ceph-authtool --create-keyring "$D/osd.$i/keyring" --gen-key -n "osd.$i" >/dev/null
		uuids+=("$(cat /proc/sys/kernel/random/uuid)")
		echo "${uuids[i]}" >"$D/osd.$i/uuid"
	done
	moncmd setup "$D" "${uuids[@]}"
}

# the bluestore (or memstore) mkfs and start of OSD $1, in parallel with
# the others (the block file is created sparse in the data dir: no block
# path given)
mkfs_start_osd() {
	local id=$1 uuid=$2
	ceph-osd -c "$D/ceph.conf" -i "$id" --mkfs --osd-uuid "$uuid" 2>>"$D/log/mkfs.$id.log" ||
		die "mkfs of osd.$id failed (see $D/log/mkfs.$id.log)"
	ceph-osd -c "$D/ceph.conf" -i "$id" 2>>"$D/log/mkfs.$id.log"
}

start_osds() {
	local i pids=()
	for ((i = 0; i < $1; i++)); do
		mkfs_start_osd "$i" "$(cat "$D/osd.$i/uuid")" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || die "an OSD did not start"; done
}

# HEALTH_OK, an available mgr and an active MDS, within $1 seconds
wait_healthy() {
	moncmd wait "$1" || {
		cephcmd -s >&2 || true
		die "not HEALTH_OK after $1 s (logs in $D/log)"
	}
}

pid_of() { cat "$D/run/$1.pid" 2>/dev/null || true; }

# SIGTERM, then SIGKILL after 10 s; waits until it is gone
stop_daemon() {
	local pid
	pid=$(pid_of "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# $CEPH_VERBOSE=1: how long each step of a start took, on stderr
step() {
	[ "${CEPH_VERBOSE:-0}" = 1 ] && echo "ceph-cluster: $((SECONDS - t0)) s: $1" >&2
	return 0
}

cmd_start() {
	local t0=$SECONDS
	local osds=3 port=${CEPH_PORT:-0} fsid size store=bluestore
	while (($#)); do
		case $1 in
		--osds) osds=$2; shift 2 ;;
		--port) port=$2; shift 2 ;;
		--memstore) store=memstore; shift ;;
		*) die "unknown option '$1'" ;;
		esac
	done
	[[ $osds =~ ^[1-3]$ ]] || die "--osds must be 1..3"
	for b in ceph-mon ceph-mgr ceph-osd ceph-mds ceph ceph-authtool monmaptool; do
		command -v "$b" >/dev/null || die "$b not installed (scripts/deps.sh --ceph)"
	done
	[ ! -e "$D" ] || die "$D exists: give a new directory"
	# a free pair of ports from the dynamic range unless given
	if [ "$port" = 0 ]; then
		for _ in $(seq 50); do
			port=$((40000 + (RANDOM % 10000) * 2))
			ss -Hltn "sport = :$port or sport = :$((port + 1))" | grep -q . || break
		done
	fi
	mkdir -p "$D"/{run,log,crash}
	fsid=$(cat /proc/sys/kernel/random/uuid)
	size=$((osds < 2 ? osds : 2))
	write_conf "$fsid" "$port" "$size" "$store"
	start_mon "$fsid" "$port"
	step "mon up"
	mon_setup "$osds"
	step "keys, pools, fs"
	ceph-mgr -c "$D/ceph.conf" -i x
	start_osds "$osds"
	step "$osds OSD(s) started"
	ceph-mds -c "$D/ceph.conf" -i a >/dev/null
	wait_healthy "${CEPH_WAIT:-120}"
	step "HEALTH_OK, mgr available, MDS active"
	echo "$D/ceph.conf"
}

cmd_stop() {
	local f name
	[ -f "$D/ceph.conf" ] || die "$D is not a cluster made by this script"
	# clients and the MDS first, OSDs before the monitor: an OSD that
	# outlives its mon waits for it forever on shutdown
	stop_daemon mds.a
	for f in "$D"/run/osd.*.pid; do
		[ -e "$f" ] || continue
		name=${f##*/}
		stop_daemon "${name%.pid}" &
	done
	wait
	stop_daemon mgr.x
	stop_daemon mon.a
	rm -rf "$D"
}

(($# >= 1)) || { usage >&2; exit 2; }
case $1 in -h | --help) usage; exit 0 ;; esac
(($# >= 2)) || { usage >&2; exit 2; }
cmd=$1 D=$(realpath -m "$2")
shift 2
case $cmd in
start) cmd_start "$@" ;;
stop) cmd_stop ;;
wait) wait_healthy "${CEPH_WAIT:-120}" ;;
status) cephcmd -s; [ "$(cephcmd health | cut -d' ' -f1)" = HEALTH_OK ] ;;
kill-osd) kill -9 "$(pid_of "osd.$1")" ;;
start-osd) ceph-osd -c "$D/ceph.conf" -i "$1" 2>>"$D/log/start.osd.$1.log" ;;
restart-mds) stop_daemon mds.a; ceph-mds -c "$D/ceph.conf" -i a
	wait_healthy "${CEPH_WAIT:-120}" ;;
*) usage >&2; exit 2 ;;
esac
