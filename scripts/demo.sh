#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# make demo: boot the test VM and show zufs at work, one command at a time.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

case "${1:-}" in
-h|--help)
	cat <<'USAGE'
usage: scripts/demo.sh [--inside]

Boots the qemu test VM (Debian's Linux 6.1, emulated pmem), loads zuf.ko,
starts zusd, makes a zpmfs filesystem on /dev/pmem0, mounts it and runs a
short scripted session, printing each command and its output.
`make demo` installs what is missing and builds first.
USAGE
	exit 0 ;;
--inside)
	exec "$top/scripts/demo-inside.sh" ;;
esac

exec "$top/tests/vm/run" --cpus 2 --pmem 256M --timeout 600 -- \
	"$top/scripts/demo-inside.sh"
