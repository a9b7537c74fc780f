#!/bin/bash
. /work/main/tests/vm/lib.sh
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
zpmfs_up ""
for b in "build/bin/zfsx"; do
	echo "== zpmfs $b"
	/usr/bin/time -f "%e s" $b -q -s -t 180 -S 1 "$MNT/f" 2>&1 | tail -14
done
zpmfs_stop
