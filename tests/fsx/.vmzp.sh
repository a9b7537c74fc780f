#!/bin/bash
. /work/main/tests/vm/lib.sh
. "$TOP/tests/vm/bin/zpmfs-env.sh"
require_vm
zpmfs_up ""
echo "== persistent"
build/bin/zfsx -q -N 22862 -S 1 "$MNT/f" > /tmp/o.log 2>&1; echo rc=$?
grep -v "^ " /tmp/o.log | head; grep -A3 mismatch /tmp/o.log; tail -5 /tmp/o.log
dmesg | tail -5
zpmfs_down
zpmfs_up ""
echo "== -M"
build/bin/zfsx -q -M -N 22862 -S 1 "$MNT/f" > /tmp/o.log 2>&1; echo rc=$?
grep -v "^ " /tmp/o.log | head; grep -A3 mismatch /tmp/o.log
zpmfs_stop
