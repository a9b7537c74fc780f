#!/bin/bash
# vm: --cpus 2 --timeout 240
# SPDX-License-Identifier: BSD-3-Clause
# The window lends the server only the bytes an op covers.  zusd
# --window-spy reads every byte of the window pages outside each READ and
# WRITE, and for a READ (whose pages are writable) overwrites them, as a
# hostile plugin would.  An application does unaligned reads and writes
# from buffers surrounded by a known pattern: the server must see none of
# it (the kernel used to map the application's whole pages, exposing the
# neighbouring bytes and letting a READ overwrite them), and the pattern
# must survive.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
PT=$TOP/build/plugins/zpassthrough.so
[ -f "$PT" ] || skip "zpassthrough.so not built"

zufs_load
mkdir -p /sys/fs/zuf /tmp/back /mnt/pt
awk '$3 == "zuf"' /proc/mounts | grep -q . || mount -t zuf zuf /sys/fs/zuf
"$TOP/build/bin/zusd" -f --window-spy -p "$PT" >/tmp/zusd.log 2>&1 &
pid=$!
wait_registered zpassthrough || fail "zusd: $(cat /tmp/zusd.log)"
mount -t zpassthrough -o backing=/tmp/back none /mnt/pt ||
	fail "mount: $(tail -3 /tmp/zusd.log)"

python3 - /mnt/pt/f <<'PY' || fail "the application's neighbouring bytes changed"
import mmap, os, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, bytes(range(256)) * 64, 0)         # 16 KiB of data
bad = 0
for off, length in ((100, 5000), (1, 4095 + 4096), (4000, 4096), (3000, 9000)):
    buf = mmap.mmap(-1, 4 * 4096)
    buf.write(b"\xaa" * len(buf))
    view = memoryview(buf)
    n = os.preadv(fd, [view[off:off + length]], 0)
    got = bytes(view[off:off + n])
    if got != (bytes(range(256)) * 64)[:n]:
        print(f"READ {off}+{length}: wrong data"); bad += 1
    outside = bytes(view[:off]) + bytes(view[off + length:])
    if outside != b"\xaa" * len(outside):
        print(f"READ {off}+{length}: bytes around the buffer changed"); bad += 1
    n = os.pwritev(fd, [view[off:off + length]], 0)
    if n != length:
        print(f"WRITE {off}+{length}: {n} bytes"); bad += 1
    os.pwrite(fd, bytes(range(256)) * 64, 0)
sys.exit(1 if bad else 0)
PY
umount /mnt/pt || fail "umount"
kill "$pid"; wait "$pid"
if grep -q "window spy" /tmp/zusd.log; then
	grep "window spy" /tmp/zusd.log | head -5
	fail "the server saw the application's bytes outside its ops"
fi
grep -q "I/O in the window" /tmp/zusd.log || fail "no window stats from zusd"
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
