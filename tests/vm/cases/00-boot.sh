#!/usr/bin/env bash
# vm: --pmem 256M --timeout 300
# SPDX-License-Identifier: BSD-3-Clause
# Smoke test of the VM harness: the guest runs the kernel zuf.ko is built
# for, /dev/pmem0 has DAX, the host tree and /dev/fd work.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
require_vm

kver=$(uname -r)
[ "$kver" = "${KVER:-}" ] || fail "guest runs kernel $kver, want '${KVER:-}' (tests/vm/run passes its KVER)"
ko_for=$(modinfo -F vermagic "$TOP/kernel/zuf/zuf.ko" | cut -d' ' -f1)
[ "$ko_for" = "$kver" ] || fail "kernel/zuf/zuf.ko is built for '$ko_for', the guest runs $kver"

wait_for /dev/pmem0 10 || fail "/dev/pmem0 did not appear"
[ -b /dev/pmem0 ] || fail "/dev/pmem0 is not a block device"
dax=$(cat /sys/block/pmem0/queue/dax)
[ "$dax" = 1 ] || fail "/sys/block/pmem0/queue/dax is $dax, want 1"
size=$(($(cat /sys/block/pmem0/size) * 512))
[ "$size" = $((256 << 20)) ] || fail "/dev/pmem0 is $size bytes, want 256 MiB"
[ ! -e /dev/pmem1 ] || fail "unexpected /dev/pmem1"

[ -r "$TOP/tests/vm/lib.sh" ] || fail "host tree not visible at $TOP"
[ "$(pwd)" = "$TOP" ] || fail "cwd is $(pwd), want $TOP (the caller's)"
[ "$(cat <(echo procsub))" = procsub ] || fail "process substitution (/dev/fd) broken"
[ "$(id -u)" = 0 ] || fail "not root"
echo data >/tmp/x && [ "$(cat /tmp/x)" = data ] || fail "/tmp not writable"
check_dmesg_clean || fail "kernel log not clean"
pass "kernel $kver, /dev/pmem0 256 MiB dax=1"
