#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm: --timeout 120
# A server with another ABI version is refused, and both sides say which
# versions they have; a normal server works afterwards.
. "$(dirname "$0")/../lib.sh"
require_vm
ZUSD=$TOP/build/bin/zusd
[ -x "$ZUSD" ] || fail "$ZUSD not built"
[ -n "${ZUFS_KO:-}" ] && { insmod "$ZUFS_KO" || fail "insmod $ZUFS_KO"; }
zufs_load
mkdir -p /run/noplugins
# the kernel's version, as the header both halves compile says
KVER=$(awk '/define ZUFS_MAJOR_VERSION/ { maj = $3 }
	    /define ZUFS_MINOR_VERSION/ { min = $3 }
	    END { print maj "." min }' "$TOP/include/zufs_api.h")

# -f: a server that was (wrongly) accepted would run until the timeout
timeout 30 "$ZUSD" -f -p /run/noplugins --abi-version 0.9 2>/run/zusd.err
rc=$?
[ $rc = 124 ] && fail "zusd --abi-version 0.9 was accepted (still running)"
[ $rc = 0 ] && fail "zusd --abi-version 0.9 exited 0"
grep -q "ABI version mismatch: server 0.9, kernel $KVER" /run/zusd.err ||
	fail "zusd message: $(cat /run/zusd.err)"
dmesg | grep -q "server ABI 0.9, kernel ABI $KVER" || fail "no version line in dmesg"

"$ZUSD" -p /run/noplugins --pidfile /run/zusd.pid || fail "normal zusd refused"
kill -TERM "$(cat /run/zusd.pid)"
sleep 1
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
