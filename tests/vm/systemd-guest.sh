#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# zufs as users install it (issue 16, item 7), in a guest booted with
# systemd as PID 1 (tests/vm/run --systemd; the root is a throw-away
# overlay, so dpkg -i changes nothing on the host):
#  1. dpkg -i the .debs of `make deb`: DKMS builds zuf.ko for the running
#     kernel in the postinst, the tools' postinst enables and starts
#     zusd.service (Type=notify: modprobe zuf, READY=1 after registration);
#  2. a zpmfs line in /etc/fstab (x-systemd.after=zusd.service) mounts
#     the way boot mounts it: systemd-fstab-generator makes the mount unit
#     (daemon-reload), and with zusd stopped `systemctl start
#     local-fs.target` (what boot starts) starts zusd and then the mount,
#     after zusd's READY.  A real second boot is not possible in one run:
#     the debs live in the overlay, which a reboot discards;
#  3. data written (and fsynced) before `systemctl restart zusd` is there
#     after it, through a file held open across it too, and I/O works; the
#     mount unit was never restarted; a crash (SIGKILL) restarts zusd by
#     Restart=on-failure with the same result;
#  4. logs in the journal with levels, `zusctl debug zpmfs +namei` at debug
#     level, off again with -namei;
#  5. umount, dpkg -P: every file the packages installed is gone, and so
#     are DKMS's module, its tree and the unit's enablement links.
# Run by tests/host/54-systemd.sh (make test-systemd), which boots the VM;
# by hand: tests/vm/run --systemd --pmem 256M -- tests/vm/systemd-guest.sh
. "$(dirname "$0")/lib.sh"
require_vm
DEB=${ZUFS_DEB_DIR:-$TOP/build/deb}
DEV=/dev/pmem0
MNT=/mnt/zp
UNIT=mnt-zp.mount
T=/run/t66
mkdir -p $T
[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is $(cat /proc/1/comm), not systemd (tests/vm/run --systemd)"
debs=("$DEB"/zufs-dkms_*_all.deb "$DEB"/zufs-tools_*.deb "$DEB"/zufs-dev_*.deb)
for d in "${debs[@]}"; do
	[ -f "$d" ] || skip "no $d: run make deb (or make test-systemd)"
done
[ -b $DEV ] || fail "no $DEV"
grep -q '^zuf ' /proc/modules && fail "zuf already loaded before the install"

step() { echo "== $(cut -d' ' -f1 /proc/uptime)s: $*"; }
unit_prop() { systemctl show -P "$2" "$1"; }
# journal lines of zusd at exactly priority $1
journal_at() { journalctl -q --no-pager -u zusd.service -p "$1..$1" -o cat; }

# --- 1. install -----------------------------------------------------------
# DKMS's postinst builds for the running kernel and the newest one with
# headers; the guest sees only the running kernel's (make test-dkms builds
# the others), and man-db's trigger would rebuild the whole index
for b in /lib/modules/*/build; do
	[ "$b" = "/lib/modules/$(uname -r)/build" ] || rm -f "$b"
done
rm -f /var/lib/man-db/auto-update
# The host's root may come from a container image whose policy-rc.d (exit
# 101) forbids package scripts to start services; a real machine has none,
# and the test is that the package starts zusd.service.
rm -f /usr/sbin/policy-rc.d
step "dpkg -i ${debs[*]##*/}"
DEBIAN_FRONTEND=noninteractive dpkg -i "${debs[@]}" >$T/dpkg.log 2>&1 ||
	{ cat $T/dpkg.log; fail "dpkg -i"; }
for p in zufs-dkms zufs-tools zufs-dev; do
	dpkg-query -W -f='${db:Status-Abbrev}' $p | grep -q '^ii' || fail "$p not installed"
	dpkg -L $p >$T/$p.files
done
ko=$(modinfo -n zuf) || fail "modinfo zuf: no module after the install"
case $ko in
*/updates/dkms/zuf.ko*) ;;
*) fail "zuf.ko is $ko, not DKMS's" ;;
esac
dkms status zufs | grep -q "$(uname -r).*installed" || fail "dkms status: $(dkms status zufs)"
step "DKMS built $ko"

systemctl is-enabled zusd.service >/dev/null || fail "zusd.service not enabled by the package"
systemctl is-active zusd.service >/dev/null ||
	{ systemctl status zusd.service --no-pager; fail "zusd.service not started by the package"; }
[ "$(unit_prop zusd.service Type)" = notify ] || fail "zusd.service Type=$(unit_prop zusd.service Type)"
grep -q '^zuf ' /proc/modules || fail "zuf not loaded by the unit"
grep -qw zpmfs /proc/filesystems || fail "zpmfs not registered"
journal_at info | grep -q '^zusd: serving ' || fail "no 'serving' line at level info: $(journalctl -u zusd -o cat --no-pager | tail -5)"
[ "$(readlink -f "$(command -v zusd)")" = /usr/sbin/zusd ] || fail "zusd is not the packaged one"
pkg-config --modversion zufs >/dev/null || fail "pkg-config zufs (zufs-dev)"

# --- 2. fstab, mounted as boot mounts it ----------------------------------
mkfs -t zpmfs -f -q $DEV || fail "mkfs -t zpmfs"
mkdir -p $MNT
echo "$DEV $MNT zpmfs x-systemd.after=zusd.service 0 0" >>/etc/fstab
systemctl daemon-reload || fail "daemon-reload"
unit_prop $UNIT After | grep -qw zusd.service ||
	fail "$UNIT not ordered after zusd.service: $(unit_prop $UNIT After)"
step "stop zusd, then start local-fs.target"
systemctl stop zusd.service || fail "systemctl stop zusd"
grep -qw zpmfs /proc/filesystems && fail "zpmfs still registered with zusd stopped"
systemctl start local-fs.target || fail "start local-fs.target"
systemctl is-active zusd.service $UNIT >/dev/null ||
	{ systemctl status zusd.service $UNIT --no-pager; fail "local-fs.target did not bring up zusd and $UNIT"; }
findmnt -n -o FSTYPE $MNT | grep -qx zpmfs || fail "$MNT is not zpmfs: $(findmnt $MNT)"
ready=$(unit_prop zusd.service ActiveEnterTimestampMonotonic)
mstart=$(unit_prop $UNIT InactiveExitTimestampMonotonic)
((ready > 0 && mstart >= ready)) || fail "$UNIT started at $mstart, before zusd was ready at $ready"

# --- 3. restart and crash with the mount alive ----------------------------
dd if=/dev/urandom of=$T/data bs=64k count=16 status=none
cp $T/data $MNT/before && sync $MNT/before || fail "write before the restart"
sum=$(md5sum <$T/data)
exec 3<$MNT/before
mounted=$(unit_prop $UNIT ActiveEnterTimestampMonotonic)
for how in restart crash; do
	pid=$(unit_prop zusd.service MainPID)
	step "zusd $pid: $how"
	if [ $how = restart ]; then
		systemctl restart zusd.service || fail "systemctl restart zusd"
	else
		kill -KILL "$pid"
		for _ in $(seq 300); do
			np=$(unit_prop zusd.service MainPID)
			[ "$np" != 0 ] && [ "$np" != "$pid" ] &&
				systemctl is-active -q zusd.service && break
			sleep 0.2
		done
	fi
	np=$(unit_prop zusd.service MainPID)
	[ "$np" != 0 ] && [ "$np" != "$pid" ] || fail "$how: zusd not running again (MainPID $np)"
	systemctl is-active -q zusd.service || fail "$how: zusd.service not active"
	findmnt -n $MNT >/dev/null || fail "$how: $MNT gone"
	[ "$(unit_prop $UNIT ActiveEnterTimestampMonotonic)" = "$mounted" ] ||
		fail "$how: $UNIT was restarted"
	[ "$(md5sum <$MNT/before)" = "$sum" ] || fail "$how: data written before differs"
	[ "$(md5sum <&3)" = "$sum" ] || fail "$how: the file held open reads differently"
	exec 3<$MNT/before
	dd if=$T/data of=$MNT/after-$how bs=64k conv=fsync status=none || fail "$how: write after"
	cmp -s $T/data $MNT/after-$how || fail "$how: data written after differs"
done
exec 3<&-
journal_at info | grep -q "re-attached zpmfs" || fail "no re-attach line in the journal"

# --- 4. runtime debug, in the journal --------------------------------------
zusctl debug zpmfs +namei | grep -qx "zpmfs: +namei" || fail "zusctl debug zpmfs +namei"
touch $MNT/dbg || fail "touch"
for _ in $(seq 50); do
	journal_at debug | grep -q '^zpmfs: cpu .* NEW_INODE -> 0' && break
	sleep 0.2
done
journal_at debug | grep -q '^zpmfs: cpu .* NEW_INODE -> 0' ||
	fail "no NEW_INODE line at debug level: $(journal_at debug | tail -3)"
zusctl debug zpmfs -namei | grep -qx "zpmfs: (none)" || fail "zusctl debug zpmfs -namei"

# --- 5. uninstall ----------------------------------------------------------
step "umount, dpkg -P"
sed -i "\\|^$DEV $MNT |d" /etc/fstab
systemctl daemon-reload
umount $MNT 2>/dev/null || systemctl stop $UNIT
findmnt -n $MNT >/dev/null && fail "$MNT still mounted"
DEBIAN_FRONTEND=noninteractive dpkg -P zufs-dev zufs-tools zufs-dkms >$T/purge.log 2>&1 ||
	{ cat $T/purge.log; fail "dpkg -P"; }
systemctl is-active -q zusd.service && fail "zusd.service still running after the purge"
left=$(cat $T/zufs-*.files | while read -r f; do
	[ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done)
[ -z "$left" ] || fail "left after dpkg -P: $left"
for d in /usr/src/zufs-* /var/lib/dkms/zufs /lib/modules/*/updates/dkms/zuf.ko* \
	/etc/systemd/system/*.wants/zusd.service /usr/lib/zufs /usr/include/zufs; do
	[ -e "$d" ] || [ -L "$d" ] && fail "left after dpkg -P: $d"
done
systemctl daemon-reload
[ "$(unit_prop zusd.service LoadState)" = not-found ] || fail "zusd.service still known to systemd"
# the module stays loaded until unloaded: it must unload cleanly
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
