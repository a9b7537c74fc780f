#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --timeout 180
# zusd starts, handshakes and registers zpmfs; after SIGTERM the type is
# gone from /proc/filesystems and the module unloads.
. "$(dirname "$0")/../lib.sh"
require_vm
ZUSD=$TOP/build/bin/zusd
PLUGIN=$TOP/build/plugins/zpmfs.so
[ -x "$ZUSD" ] || fail "$ZUSD not built"
[ -f "$PLUGIN" ] || skip "$PLUGIN not built yet"
[ -n "${ZUFS_KO:-}" ] && { insmod "$ZUFS_KO" || fail "insmod $ZUFS_KO"; }
zufs_load

"$ZUSD" -p "$PLUGIN" --pidfile /run/zusd.pid || fail "zusd did not start"
pid=$(cat /run/zusd.pid) || fail "no pidfile"
grep -qw zuf /proc/filesystems || fail "zuf not in /proc/filesystems"
grep -qw zpmfs /proc/filesystems || fail "zpmfs not registered"
awk '$3 == "zuf"' /proc/mounts | grep -q /sys/fs/zuf || fail "zuf-root not mounted"
dmesg | grep -q "zuf: server connected, ABI" || fail "no handshake in dmesg"

# a second server on the same zuf-root is refused
"$ZUSD" -f -p "$PLUGIN" 2>/run/second.err && fail "second zusd started"
grep -q "already running" /run/second.err || fail "second zusd: $(cat /run/second.err)"

kill -TERM "$pid"
for ((i = 0; i < 50; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "zusd did not exit on SIGTERM"
grep -qw zpmfs /proc/filesystems && fail "zpmfs still registered after zusd exit"

# a new server registers the same name again
"$ZUSD" -p "$PLUGIN" --pidfile /run/zusd.pid || fail "zusd restart"
grep -qw zpmfs /proc/filesystems || fail "zpmfs not registered after restart"
kill -TERM "$(cat /run/zusd.pid)"
sleep 1
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
