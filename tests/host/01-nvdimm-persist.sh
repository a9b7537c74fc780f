#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# --pmem-file: a qemu nvdimm gets an fsdax namespace on first use and keeps
# what one boot wrote for the next boot.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/tmp
img=$(mktemp -u "$PWD/build/tmp/nvdimm-XXXXXX.img")
trap 'rm -f "$img"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
token="zufs-$$-$RANDOM-$(date +%s)"

echo "== boot 1: create $img, write the token"
tests/vm/run --timeout 300 --pmem-file "$img:256M" --env TOKEN="$token" -- bash -c '
	set -e
	[ "$(cat /sys/block/pmem0/queue/dax)" = 1 ] || { echo "pmem0 has no dax"; exit 1; }
	ndctl list -N | grep -q "\"mode\":\"fsdax\"" || { echo "no fsdax namespace"; exit 1; }
	printf "%s\n" "$TOKEN" | dd of=/dev/pmem0 bs=4096 seek=100 conv=sync oflag=direct status=none
	echo "written"' || fail "boot 1 failed"
[ "$(stat -c %s "$img")" = $((256 << 20)) ] || fail "$img has the wrong size"

echo "== boot 2: read it back"
out=$(tests/vm/run --timeout 300 --pmem-file "$img" -- bash -c '
	set -e
	[ "$(cat /sys/block/pmem0/queue/dax)" = 1 ] || { echo "pmem0 has no dax"; exit 1; }
	dd if=/dev/pmem0 bs=4096 skip=100 count=1 iflag=direct status=none | head -n 1') ||
	fail "boot 2 failed"
[ "$out" = "$token" ] || fail "read back '$out', want '$token'"
echo PASS
