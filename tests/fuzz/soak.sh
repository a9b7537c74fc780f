#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Soak the kernel under the ABI fuzzer for as long as asked:
#   tests/fuzz/soak.sh [--minutes N] [--seed S] [--permille P]
#                      [--classes LIST] [--report SECS] [--cpus N]
# boots one VM, runs tests/fuzz/soak-guest.sh in it, and prints zusd's
# answers/s and per-op coverage as it goes.  See tests/fuzz/README.md.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
MIN=10 SEED=1 PM=150 CLASSES=default REPORT=10 CPUS=2
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) MIN=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--permille) PM=$2; shift 2 ;;
	--classes) CLASSES=$2; shift 2 ;;
	--report) REPORT=$2; shift 2 ;;
	--cpus) CPUS=$2; shift 2 ;;
	-h|--help) sed -n 3,7p "$0"; exit 0 ;;
	*) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
case $MIN$SEED$PM$REPORT$CPUS in *[!0-9]*) echo "soak.sh: numbers only" >&2; exit 2 ;; esac
cd "$TOP"
exec tests/vm/run --pmem 256M --cpus "$CPUS" --timeout $((MIN * 60 + 400)) \
	--env FZ_MINUTES="$MIN" --env FZ_SEED="$SEED" --env FZ_PERMILLE="$PM" \
	--env FZ_CLASSES="$CLASSES" --env FZ_REPORT="$REPORT" \
	-- tests/fuzz/soak-guest.sh
