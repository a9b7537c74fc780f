#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Name the installed kernels zufs can build for and boot (headers in
# /lib/modules/RELEASE/build and /boot/vmlinuz-RELEASE), oldest first.
#   scripts/kver.sh --all     every such kernel release, one per line
#   scripts/kver.sh VER       the newest release that VER names: a full
#                             release (6.12.111+deb12-amd64) or its start
#                             cut at a version boundary (6.12, 6.1, 6.1.0)
# Exit 1 (with a message) when no installed kernel matches VER.
set -euo pipefail

installed() {
	local d r
	for d in /lib/modules/*/build; do
		[ -e "$d" ] || continue
		r=$(basename "$(dirname "$d")")
		[ -r "/boot/vmlinuz-$r" ] && echo "$r"
	done | sort -V
}

case ${1:-} in
--all) installed ;;
-h | --help | '') sed -n '3,9s/^# \{0,1\}//p' "$0"; [ -n "${1:-}" ] ;;
*)
	ver=$1
	# "6.1" must not name 6.12: the prefix ends at a version boundary
	match=$(installed | awk -v v="$ver" 'index($0, v) == 1 &&
		(length($0) == length(v) || substr($0, length(v) + 1, 1) ~ /[.+-]/)' | tail -n1)
	if [ -z "$match" ]; then
		echo "scripts/kver.sh: no installed kernel matches '$ver' (installed: $(installed | tr '\n' ' ')); 'make deps ZUFS_KERNELS="$ver"' installs it" >&2
		exit 1
	fi
	echo "$match"
	;;
esac
