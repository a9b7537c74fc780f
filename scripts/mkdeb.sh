#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the Debian packages (zufs-dkms, zufs-tools, zufs-dev) from this
# tree with dpkg-buildpackage, then check them with lintian (errors fail).
#   scripts/mkdeb.sh [OUTDIR]     default build/deb; the .debs land there
# The source is the tree's files as git knows them (committed or not,
# untracked ones too, ignored ones not), copied to OUTDIR/zufs-VERSION.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in
-h | --help) sed -n '3,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac
OUT=$(mkdir -p "${1:-$TOP/build/deb}" && cd "${1:-$TOP/build/deb}" && pwd)
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")
CHVER=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
if [ "$CHVER" != "$VERSION" ]; then
	echo "mkdeb: debian/changelog says $CHVER, dkms.conf $VERSION: make them equal" >&2
	exit 1
fi

SRC=$OUT/zufs-$VERSION
rm -rf "$SRC" "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo
mkdir -p "$SRC"
(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	cpio -0 -pdm --quiet "$SRC")

echo "mkdeb: dpkg-buildpackage in ${SRC#$TOP/}"
(cd "$SRC" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 || {
	tail -n 40 "$OUT/build.log" >&2
	echo "mkdeb: dpkg-buildpackage failed; log: $OUT/build.log" >&2
	exit 1
}
CHANGES=$(ls "$OUT"/zufs_"$VERSION"_*.changes)
echo "mkdeb: lintian $(basename "$CHANGES")"
if ! lintian --fail-on error "$CHANGES" >"$OUT/lintian.log" 2>&1; then
	cat "$OUT/lintian.log" >&2
	echo "mkdeb: lintian found errors" >&2
	exit 1
fi
echo "mkdeb: lintian: no errors ($(grep -c "^[WIP]:" "$OUT/lintian.log" || true) warning/info lines: $OUT/lintian.log)"
ls -1 "$OUT"/*.deb
