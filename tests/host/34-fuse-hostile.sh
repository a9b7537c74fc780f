#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The FUSE bridge never hands the FUSE kernel an errno it refuses.  The
# hostile plugin (tests/hostile) answers WRITE and READ with -512, -529,
# -4095, -300 and -EFAULT: the application must get EIO every time.  The
# kernel refused the first three and left the application waiting forever;
# the others reached it as "Unknown error 300" and "Bad address".
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
BIN=$BUILD/bin
HOSTILE=$BUILD/tests/hostile/zhostile.so

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (allow_other)"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
[ -x "$BIN/zus-fuse" ] || { echo "FAIL: $BIN/zus-fuse not built"; exit 1; }
[ -f "$HOSTILE" ] || { echo "FAIL: $HOSTILE not built"; exit 1; }
. "$TOP/tests/host/fuse-lib.bash"

mkdir -p "$mnt" "$tmp/back"
echo data >"$tmp/back/f"
for e in -512 -529 -4095 -300 -14; do
	mount_fuse -t zhostile -p "$HOSTILE" \
		-o "backing=$tmp/back,write=errno:$e,read=errno:$e" none "$mnt" ||
		fail "mounting zhostile (errno $e)"
	for what in write read; do
		out=$(timeout -s KILL 20 python3 - "$mnt/f" "$what" 2>&1 <<'PY'
import errno, os, sys
path, what = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDWR)
try:
    if what == "write":
        os.pwrite(fd, b"x" * 4096, 0)
    else:
        os.pread(fd, 4096, 0)
    print("succeeded")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
		)
		rc=$?
		[ $rc -eq 137 ] && fail "$what answered $e: the application hung"
		[ "$out" = EIO ] || fail "$what answered $e: got '$out', want EIO"
	done
	umount_fuse || fail "unmounting zhostile (errno $e)"
done
echo "PASS: forbidden errnos reach the application as EIO through FUSE"
