#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install (Debian 12) every package zufs needs to build and test, only the
# missing ones.  Fast when all are present (one dpkg-query).
#   scripts/deps.sh          install what is missing (root), else list it
#   scripts/deps.sh --check  only report; exit 1 when something is missing
#   scripts/deps.sh --deb    also what `make deb` needs (dpkg-buildpackage,
#                            debhelper, dh-dkms, lintian)
#   scripts/deps.sh --ceph   also the Ceph daemons the zceph tests start
#                            (ZUFS_CEPH=1 does the same; make test-ceph)
# Kernels: every series in $ZUFS_KERNELS (default "6.1 6.12"), image and
# headers: 6.1 is bookworm's own, a newer one comes from bookworm-backports
# (the suite is added to apt's sources once, in zufs-backports.sources).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
KERNELS=${ZUFS_KERNELS:-6.1 6.12}
BACKPORTS=/etc/apt/sources.list.d/zufs-backports.sources

PKGS=(
	# build
	build-essential gcc make git pkg-config binutils libfuse3-dev
	# kernel module (the kernels themselves: KERNELS below); pahole makes
	# the BTF of modules for kernels that want it (6.12)
	kmod dwarves
	# test VM (tests/vm/run)
	qemu-system-x86 busybox-static cpio xz-utils util-linux procps coreutils
	# guest-side tools (pmem namespaces, FUSE, filesystems, benchmarks,
	# hang reports)
	ndctl fuse3 e2fsprogs xfsprogs fio gnuplot-nox strace gdb stress-ng
	# test and report scripts (tests/vm/cases, bench/report.py)
	python3
	# the zceph plugin's library and headers (fs/ceph)
	libcephfs-dev
)
# a throwaway cluster for the zceph tests and bench (scripts/ceph-cluster.sh,
# whose monitor commands go through python3-rados;
# about 57 MB of .debs, 226 MB installed): only when asked
CEPH_PKGS=(ceph-mon ceph-mgr ceph-osd ceph-mds ceph-fuse ceph-common python3-rados)

# bookworm's own series: its metapackages; others: from backports, below
for k in $KERNELS; do
	[ "$k" = 6.1 ] && PKGS+=(linux-image-amd64 linux-headers-amd64)
done

# the kernel series of $KERNELS that are not installed (image + headers)
missing_kernels() {
	local k
	for k in $KERNELS; do
		"$TOP/scripts/kver.sh" "$k" >/dev/null 2>&1 || echo "$k"
	done
}

# newest linux-headers-K.*+deb12-amd64 that apt knows, as "K.N+deb12-amd64"
backports_release() {
	apt-cache pkgnames "linux-headers-$1." 2>/dev/null |
		sed -n "s/^linux-headers-\($1\.[0-9]*+deb12-amd64\)\$/\1/p" | sort -V | tail -n1
}

install_backports_kernel() {
	local k=$1 rel
	if [ ! -e "$BACKPORTS" ]; then
		printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' \
			'Suites: bookworm-backports' 'Components: main' \
			'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$BACKPORTS"
		echo "deps: added bookworm-backports to apt's sources ($BACKPORTS)"
	fi
	rel=$(backports_release "$k")
	if [ -z "$rel" ]; then
		apt-get update
		rel=$(backports_release "$k")
	fi
	[ -n "$rel" ] || { echo "deps: no linux-headers-$k.*+deb12-amd64 in apt's sources" >&2; exit 1; }
	echo "deps: installing Linux $rel from bookworm-backports"
	apt-get install -y --no-install-recommends "linux-image-$rel" "linux-headers-$rel"
}

install_kernels() {
	local k
	for k in $(missing_kernels); do
		[ "$k" = 6.1 ] && continue	# the metapackages in PKGS
		install_backports_kernel "$k"
	done
	k=$(missing_kernels | tr '\n' ' ')
	[ -z "$k" ] || { echo "deps: kernel(s) still missing: $k" >&2; exit 1; }
}

check_only=0
for arg in "$@"; do
	case $arg in
	--check) check_only=1 ;;
	--deb) PKGS+=(dpkg-dev debhelper dh-dkms dkms lintian fakeroot) ;;
	--ceph) ZUFS_CEPH=1 ;;
	-h | --help) sed -n '3,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "scripts/deps.sh: unknown option '$arg'" >&2; exit 2 ;;
	esac
done
[ "${ZUFS_CEPH:-0}" = 1 ] && PKGS+=("${CEPH_PKGS[@]}")

installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PKGS[@]}" 2>/dev/null | awk '$2 ~ /^ii/ { print $1 }' || true)
missing=()
for p in "${PKGS[@]}"; do
	grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done

kmissing=$(missing_kernels | grep -vx 6.1 | tr '\n' ' ' || true)
if ((${#missing[@]} == 0)) && [ -z "$kmissing" ]; then
	echo "deps: all ${#PKGS[@]} packages present, kernels: $("$TOP/scripts/kver.sh" --all | tr '\n' ' ')"
	exit 0
fi
echo "deps: missing: ${missing[*]} ${kmissing:+kernel(s) $kmissing}"
if ((check_only)); then
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root: install them with" >&2
	((${#missing[@]} == 0)) || echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
	[ -z "$kmissing" ] || echo "  sudo ZUFS_KERNELS='$kmissing' scripts/deps.sh" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ((${#missing[@]} > 0)); then
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
install_kernels

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
