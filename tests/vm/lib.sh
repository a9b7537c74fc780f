# SPDX-License-Identifier: BSD-3-Clause
# Helpers for zufs VM test cases (tests/vm/cases/*.sh).  Source it:
#
#   . "$(dirname "$0")/../lib.sh"
#
# It only defines variables and functions (no `set -e` etc.): the caller
# chooses its shell options.  It is also sourced by tests/vm/run on the host
# (for ZUFS_DMESG_BAD_RE), so it must stay free of side effects.

# Repo root, from this file's location (same path on the host and in the VM).
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export TOP

# Kernel log lines that make a VM run fail (extended regexp, case-sensitive).
ZUFS_DMESG_BAD_RE='\bBUG\b|WARNING:|\bOops\b|general protection|soft lockup|hung task|blocked for more than|Call Trace|Kernel panic|detected stalls|UBSAN:|KASAN:'

# fail MSG...: print "FAIL: MSG" on stderr and exit 1.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# skip MSG...: print "SKIP: MSG" on stderr and exit 77 (counted as skipped).
skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# pass [MSG...]: print "PASS" and exit 0.
pass() {
	echo "PASS${1:+: $*}"
	exit 0
}

# in_vm: true when running inside a tests/vm/run guest.
in_vm() {
	[ "${ZUFS_IN_VM:-}" = 1 ]
}

# require_vm: skip the test when not run by tests/vm/run.
require_vm() {
	in_vm || skip "must run inside the VM (tests/vm/run -- $0)"
}

# wait_for FILE [TIMEOUT_S=10]: wait until FILE exists; returns 1 on timeout.
wait_for() {
	local f=$1 end=$((SECONDS + ${2:-10}))
	until [ -e "$f" ]; do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}

# check_dmesg_clean: return 1 (printing the lines) when the kernel log holds
# a BUG/WARNING/Oops/... line.  tests/vm/run checks this again at the end of
# every run; call it mid-test to fail early.
check_dmesg_clean() {
	local bad
	bad=$(dmesg | grep -E "$ZUFS_DMESG_BAD_RE") || return 0
	echo "kernel log is not clean:" >&2
	printf '%s\n' "$bad" >&2
	return 1
}

# zufs_load [PARAM=VALUE...]: insmod the freshly built zuf.ko, or $ZUFS_KO
# when set (no-op when zuf is already loaded).
zufs_load() {
	local ko=${ZUFS_KO:-$TOP/kernel/zuf/zuf.ko}
	grep -q '^zuf ' /proc/modules && return 0
	[ -f "$ko" ] || fail "$ko not built (run make)"
	insmod "$ko" "$@" || fail "insmod $ko failed"
}

# zufs_unload: unmount every zuf-root (type zuf) and rmmod zuf.
zufs_unload() {
	local mnt
	grep -q '^zuf ' /proc/modules || return 0
	awk '$3 == "zuf" { print $2 }' /proc/mounts | sort -r | while read -r mnt; do
		umount "$mnt" || echo "zufs_unload: umount $mnt failed" >&2
	done
	rmmod zuf || fail "rmmod zuf failed"
}
