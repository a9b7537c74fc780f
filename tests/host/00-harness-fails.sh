#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/run must report failures: the command's exit status, a dirty
# kernel log (WARNING), a guest kernel panic, a timeout (and the hang report
# the guest writes before it), a boot that never reaches the command.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== tests/vm/run -- false"
rc=0
tests/vm/run --timeout 300 -- false || rc=$?
[ "$rc" = 1 ] || fail "'tests/vm/run -- false' exited $rc, want 1"

echo "== a WARNING in the kernel log, stdout/stderr streams"
rc=0
tests/vm/run --timeout 300 --log "$tmp/console.log" -- \
	sh -c 'echo to-stdout; echo to-stderr >&2; echo "WARNING: CPU: 0 PID: 1 at fake" > /dev/kmsg' \
	>"$tmp/out" 2>"$tmp/err" || rc=$?
cat "$tmp/out" "$tmp/err"
[ "$rc" = 123 ] || fail "a WARNING in dmesg gave exit status $rc, want 123"
[ "$(cat "$tmp/out")" = to-stdout ] || fail "stdout not passed through"
grep -qx to-stderr "$tmp/err" || fail "stderr not passed through"
grep -q "console log: $tmp/console.log" "$tmp/err" || fail "console log path not named"
grep -q 'WARNING: CPU: 0 PID: 1 at fake' "$tmp/console.log" || fail "console log lacks the warning"

echo "== a guest kernel panic"
rc=0
tests/vm/run --timeout 300 -- sh -c 'echo c > /proc/sysrq-trigger; sleep 60' || rc=$?
[ "$rc" = 125 ] || fail "a guest panic gave exit status $rc, want 125"

echo "== a timeout, with the guest's hang report before it"
rc=0
start=$SECONDS
tests/vm/run --timeout 30 -- sleep 600 2>"$tmp/err" || rc=$?
cat "$tmp/err"
[ "$rc" = 124 ] || fail "a timeout gave exit status $rc, want 124"
((SECONDS - start < 90)) || fail "the timeout took $((SECONDS - start))s"
grep -q '^=== hang report' "$tmp/err" || fail "no hang report before the timeout"
grep -q '^=== end of hang report' "$tmp/err" || fail "the hang report did not finish"
echo "== a guest that does not start the command in time is booted once more"
rc=0
ZUFS_VM_BOOT_WAIT=2 tests/vm/run --timeout 60 -- true 2>"$tmp/err" || rc=$?
cat "$tmp/err"
[ "$rc" = 124 ] || fail "a stalled boot gave exit status $rc, want 124"
grep -q 'booting again' "$tmp/err" || fail "no second boot announced"
grep -q 'in two boots' "$tmp/err" || fail "the second stalled boot not reported"
echo PASS
