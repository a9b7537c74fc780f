#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install (Debian 12) every package zufs needs to build and test, only the
# missing ones.  Fast when all are present (one dpkg-query).
#   scripts/deps.sh          install what is missing (root), else list it
#   scripts/deps.sh --check  only report; exit 1 when something is missing
set -euo pipefail

PKGS=(
	# build
	build-essential gcc make git pkg-config binutils libfuse3-dev
	# kernel module: headers; the test VM boots the matching image
	linux-image-amd64 linux-headers-amd64 kmod
	# test VM (tests/vm/run)
	qemu-system-x86 busybox-static cpio xz-utils util-linux procps coreutils
	# guest-side tools (pmem namespaces, FUSE, filesystems, benchmarks,
	# hang reports)
	ndctl fuse3 e2fsprogs xfsprogs fio gnuplot-nox strace gdb
	# test and report scripts (tests/vm/cases, bench/report.py)
	python3
)

check_only=0
case ${1:-} in
--check) check_only=1 ;;
-h | --help) sed -n '3,6s/^# \{0,1\}//p' "$0"; exit 0 ;;
'') ;;
*) echo "scripts/deps.sh: unknown option '$1'" >&2; exit 2 ;;
esac

installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PKGS[@]}" 2>/dev/null | awk '$2 ~ /^ii/ { print $1 }' || true)
missing=()
for p in "${PKGS[@]}"; do
	grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
echo "deps: missing: ${missing[*]}"
if ((check_only)); then
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root: install them with" >&2
	echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"

installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PKGS[@]}" 2>/dev/null | awk '$2 ~ /^ii/ { print $1 }' || true)
still=()
for p in "${PKGS[@]}"; do
	grep -qx -- "$p" <<<"$installed" || still+=("$p")
done
if ((${#still[@]} > 0)); then
	echo "deps: still missing after apt-get install: ${still[*]}" >&2
	exit 1
fi
echo "deps: installed ${missing[*]}"
