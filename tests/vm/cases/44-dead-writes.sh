#!/bin/bash
# vm: --pmem 256M --cpus 2 --timeout 240
# SPDX-License-Identifier: BSD-3-Clause
# Writes stop with the server.  An overwrite of blocks whose map the kernel
# has cached never asks the server, so it used to go on succeeding after
# zusd died (kill -9), straight into pmem the dead server can no longer
# account for, and so did stores through mappings made before.  Now every
# write fails with EIO once the server is dead, cached or not, mappings are
# zapped and fault again (SIGBUS), and new reads fail; umount works.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm

# the EIO path: no waiting for a new server (63-restart* test that)
zpmfs_up reattach_timeout=0
dd if=/dev/urandom of="$MNT/f" bs=64k count=16 conv=fsync status=none ||
	fail "writing the file"
# overwrite once: the map is now cached in the kernel
dd if=/dev/zero of="$MNT/f" bs=4k count=1 conv=notrunc,fsync status=none ||
	fail "first overwrite"
exec 7<>"$MNT/f" || fail "open"
# a mapping written before the server dies must not take stores after
python3 - "$MNT/f" >/tmp/mapper.out 2>&1 <<'PY' &
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 65536)
m[0:4] = b"live"
open("/tmp/mapped", "w").close()
while not os.path.exists("/tmp/dead"):
    time.sleep(0.05)
m[4096:4100] = b"dead"      # SIGBUS now, or it worked
print("store after death succeeded", flush=True)
PY
mapper=$!
wait_for /tmp/mapped 20 || fail "mapper did not start: $(cat /tmp/mapper.out)"
kill -KILL "$ZUSD_PID"
wait "$ZUSD_PID" 2>/dev/null
ZUSD_PID=
sleep 0.5
touch /tmp/dead
wait "$mapper"
rc=$?
grep -q "succeeded" /tmp/mapper.out &&
	fail "a store through a mapping made before the server died went through"
[ $rc -eq 135 ] || fail "mapper: exit $rc, want death by SIGBUS: $(cat /tmp/mapper.out)"

# an overwrite inside the file, through the still open fd: cache hit
out=$(python3 - 2>&1 <<'PY'
import os, errno
fd = 7
try:
    os.pwrite(fd, b"x" * 4096, 8192)
    print("write succeeded")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
)
[ "$out" = EIO ] || fail "cached overwrite after the server died: $out, want EIO"
out=$(python3 - 2>&1 <<'PY'
import os, errno, mmap
try:
    m = mmap.mmap(7, 65536)
    m[0:4] = b"abcd"
    print("store succeeded")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
)
case $out in
*"store succeeded"*) fail "mmap store after the server died succeeded" ;;
esac
exec 7>&-
# umount works, the module goes
umount "$MNT" || fail "umount after the server died"
zufs_unload
check_dmesg_clean || fail "kernel log"
pass
