#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The restart bench row: the longest stall (one write+fsync of a held-open
# file under zstress and fio) an application saw across kill -9 + restart of
# zusd and across `zusd --takeover`.  Runs the two VM tests that measure it
# (tests/vm/cases/63-restart*.sh, one VM at a time) and prints their
# "stall:" lines as a table; also written to build/bench/restart-stall.txt.
# Under TCG the restart stall is mostly the new zusd's start-up.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$TOP/build/bench/restart-stall.txt
LOGDIR=$TOP/build/bench/restart-stall
mkdir -p "$LOGDIR"
case ${1:-} in -h|--help) sed -n 3,8p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
{
	printf '%-28s %s\n' "event" "longest stall"
	for t in 63-restart 63-restart-takeover; do
		"$TOP/tests/vm/run" --pmem 256M --cpus 2 --timeout 420 \
			--log "$LOGDIR/$t.console.log" -- \
			"$TOP/tests/vm/cases/$t.sh" >"$LOGDIR/$t.log" 2>&1 ||
			{ echo "$t failed: see $LOGDIR/$t.log" >&2; exit 1; }
		sed -n 's/^stall: \(.*\) \([0-9]*\) ms$/\1 \2/p' "$LOGDIR/$t.log" |
			while read -r what ms; do
				printf '%-28s %s ms\n' "$what" "$ms"
			done
	done
} | tee "$OUT"
