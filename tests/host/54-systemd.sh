#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The Debian packages as users install them, in a guest booted with
# systemd (tests/vm/systemd-guest.sh says what it checks): dpkg -i, DKMS
# builds zuf.ko, zusd.service, an fstab zpmfs mount, restart and crash
# with the mount alive, the journal and zusctl, dpkg -P.
# Minutes under TCG (systemd's boot and the DKMS build), so `make test`
# skips it at once; `make test-systemd` builds the .debs and runs it
# (ZUFS_TEST_SYSTEMD=1).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
DEB=${ZUFS_DEB_DIR:-$TOP/build/deb}
if [ "${ZUFS_TEST_SYSTEMD:-0}" != 1 ]; then
	echo "SKIP: minutes under TCG: make test-systemd runs it"
	exit 77
fi
for p in zufs-dkms_*_all zufs-tools_*_amd64 zufs-dev_*_amd64; do
	compgen -G "$DEB/$p.deb" >/dev/null ||
		{ echo "FAIL: no $DEB/$p.deb: run make deb (make test-systemd does)"; exit 1; }
done
exec "$TOP/tests/vm/run" --systemd --pmem 256M --mem 2G --timeout 2400 \
	--env "ZUFS_DEB_DIR=$DEB" -- "$TOP/tests/vm/systemd-guest.sh"
