#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --timeout 120
# Only an administrator may create server files in zuf-root.
. "$(dirname "$0")/../lib.sh"
require_vm
[ -n "${ZUFS_KO:-}" ] && { insmod "$ZUFS_KO" || fail "insmod $ZUFS_KO"; }
zufs_load
mountpoint -q /sys/fs/zuf || mount -t zuf zuf /sys/fs/zuf || fail "mount zuf-root"

probe='
import errno, os, sys
try:
    os.close(os.open("/sys/fs/zuf", os.O_TMPFILE | os.O_RDWR, 0o600))
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
'
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups python3 -c "$probe")
[ "$out" = EPERM ] || fail "unprivileged O_TMPFILE: got $out, want EPERM"
out=$(python3 -c "$probe")
[ "$out" = ok ] || fail "root O_TMPFILE: got $out"
# root without CAP_SYS_ADMIN is refused too
out=$(setpriv --inh-caps=-all --bounding-set=-sys_admin python3 -c "$probe")
[ "$out" = EPERM ] || fail "root without CAP_SYS_ADMIN: got $out, want EPERM"
# a server file passed to a process without CAP_SYS_ADMIN cannot be mapped
. "$TOP/tests/vm/bin/zpmfs-env.sh"
zvfs_cc zcapmap
out=$("$ZBIN/zcapmap") || fail "zcapmap: $out"
grep -q "mmap as admin: ok" <<<"$out" || fail "zcapmap: $out"
grep -q "mmap without CAP_SYS_ADMIN: EPERM" <<<"$out" ||
	fail "mmap of a channel without CAP_SYS_ADMIN: $out"
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
