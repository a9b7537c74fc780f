#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# make install / make uninstall into a DESTDIR under build/: the FHS tree
# README.md ("Installing") documents, a real libzus.so.1 that the
# installed programs use, a zufs.pc that relocates with --define-prefix
# and builds the example plugin (examples/ramfs) out of tree, mkfs -t /
# fsck -t finding the zpmfs tools, man pages that render without
# warnings, and an uninstall that leaves no file behind.  About 10 s.
# It leaves the staged tree, with the example installed into it, in
# build/test-install/stage: vm/64-example-plugin installs that in its guest.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
T=$BUILD/test-install/50
STAGE=$BUILD/test-install/stage
P=$STAGE/usr/local
unset MAKEFLAGS MAKELEVEL MFLAGS
rm -rf "$T" "$STAGE"
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

make -s -C "$TOP" install DESTDIR="$STAGE" >"$T/install.log" 2>&1 ||
	{ tail -20 "$T/install.log"; fail "make install"; }

# the documented layout, exactly: nothing missing, nothing extra
(cd "$STAGE" && find . ! -type d | sort) >"$T/got"
sed 's/^ *//' >"$T/want" <<'LIST'
./usr/local/include/zufs/zufs_api.h
./usr/local/include/zufs/zus.h
./usr/local/lib/libzus.so
./usr/local/lib/libzus.so.1
./usr/local/lib/libzus.so.1.0.0
./usr/local/lib/pkgconfig/zufs.pc
./usr/local/lib/systemd/system/zusd.service
./usr/local/lib/zufs/plugins/zpassthrough.so
./usr/local/lib/zufs/plugins/zpmfs.so
./usr/local/sbin/fsck.zpmfs
./usr/local/sbin/mkfs.zpmfs
./usr/local/sbin/zpmfs-grow
./usr/local/sbin/zus-fuse
./usr/local/sbin/zusctl
./usr/local/sbin/zusd
./usr/local/share/man/man7/zufs.7
./usr/local/share/man/man8/fsck.zpmfs.8
./usr/local/share/man/man8/mkfs.zpmfs.8
./usr/local/share/man/man8/zpmfs-grow.8
./usr/local/share/man/man8/zus-fuse.8
./usr/local/share/man/man8/zusctl.8
./usr/local/share/man/man8/zusd.8
LIST
diff -u "$T/want" "$T/got" || fail "installed tree differs from the documented one"

# libzus: versioned, and what the installed programs load
[ "$(readlink "$P/lib/libzus.so")" = libzus.so.1 ] || fail "libzus.so link"
[ "$(readlink "$P/lib/libzus.so.1")" = libzus.so.1.0.0 ] || fail "libzus.so.1 link"
readelf -d "$P/lib/libzus.so.1.0.0" | grep -q 'SONAME.*\[libzus.so.1\]' ||
	fail "libzus soname"
for b in zusd zus-fuse; do
	ldd "$P/sbin/$b" | grep -q "libzus.so.1 => $P/sbin/../lib/libzus.so.1" ||
		fail "$b does not use the installed libzus: $(ldd "$P/sbin/$b" | grep zus)"
done
# only the loader's and the logger's API is exported
nm -D --defined-only "$P/lib/libzus.so.1" | awk '$2 == "T" { print $3 }' |
	grep -v '^zus_\(plugins\|log\|vlog\|debug\)_' &&
	fail "libzus exports more than zus_plugins_*, zus_log_*, zus_debug_*"
# the unit runs the installed zusd
grep -qx "ExecStart=/usr/local/sbin/zusd --foreground" \
	"$P/lib/systemd/system/zusd.service" || fail "zusd.service: ExecStart"
# the installed zus-fuse runs and loads plugins (here: given with -p)
"$P/sbin/zus-fuse" -p "$P/lib/zufs/plugins" --help 2>&1 | grep -q "Options of -t zpmfs" ||
	fail "installed zus-fuse does not list the installed plugins"

# pkg-config: relocated into the DESTDIR, and the example built with it
# (echo: word splitting drops the blank pkg-config ends its output with)
# shellcheck disable=SC2046,SC2005
pc() { echo $(PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --define-prefix "$@"); }
[ "$(pc --cflags zufs)" = "-I$P/include/zufs" ] || fail "cflags: $(pc --cflags zufs)"
[ "$(pc --libs zufs)" = "-L$P/lib -lzus" ] || fail "libs: $(pc --libs zufs)"
[ "$(pc --variable=plugindir zufs)" = "$P/lib/zufs/plugins" ] || fail "plugindir"
[ "$(pc --variable=zus_api_version zufs)" = \
  "$(sed -n 's/^#define ZUS_API_VERSION[[:space:]]*//p' "$TOP/zus/include/zus.h")" ] ||
	fail "zus_api_version"
# a program against the installed library, as a host other than zusd would
cat >"$T/host.c" <<'CEOF'
#include <stdio.h>
#include <zus.h>
int main(int argc, char **argv)
{
	struct zus_plugin_set *set;
	char msg[256];

	if (argc < 2 || zus_plugins_load(&set, (const char *const *)&argv[1], 1,
					 msg, sizeof(msg))) {
		fprintf(stderr, "%s\n", msg);
		return 1;
	}
	printf("%s\n", zus_plugins_get(set, 0)->info.name);
	zus_plugins_free(set);
	return 0;
}
CEOF
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$T/host" "$T/host.c" $(pc --cflags --libs zufs) ||
	fail "a host program against the installed libzus"
PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG="pkg-config --define-prefix" \
	make -s -C "$TOP/examples/ramfs" O="$T/ex" >"$T/ex.log" 2>&1 ||
	{ cat "$T/ex.log"; fail "example plugin out of tree"; }
grep -q -- "-I$P/include/zufs" <(PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG="pkg-config --define-prefix" \
	make -n -B -C "$TOP/examples/ramfs" O="$T/ex") || fail "example not built against the DESTDIR headers"
exp=$(nm -D --defined-only "$T/ex/zramfs.so" | awk '$2 ~ /[A-Z]/ { print $3 }')
[ "$exp" = zus_plugin_types ] || fail "example exports more than zus_plugin_types: $exp"
[ "$(LD_LIBRARY_PATH=$P/lib "$T/host" "$T/ex/zramfs.so")" = zramfs ] ||
	fail "installed libzus does not load the example"
# example's install goes to pkg-config's plugindir
PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG="pkg-config --define-prefix" \
	make -s -C "$TOP/examples/ramfs" O="$T/ex" install >>"$T/ex.log" 2>&1 ||
	fail "example install"
[ -f "$P/lib/zufs/plugins/zramfs.so" ] || fail "example not in plugindir"

# mkfs -t / fsck -t find the tools in sbin
img=$T/zp.img
PATH=$P/sbin:$PATH mkfs -t zpmfs -q -s 16M "$img" || fail "mkfs -t zpmfs"
PATH=$P/sbin:$PATH fsck -t zpmfs "$img" >"$T/fsck.log" 2>&1 ||
	{ cat "$T/fsck.log"; fail "fsck -t zpmfs"; }

# man pages: render, no warnings
for m in "$P"/share/man/man?/*; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$m" 2>&1 >/dev/null)
	[ -z "$w" ] || fail "man -l $m: $w"
	w=$(groff -ww -z -man "$m" 2>&1)
	[ -z "$w" ] || fail "groff -ww $m: $w"
	if command -v mandoc >/dev/null; then
		w=$(mandoc -T lint -W warning "$m" 2>&1)
		[ -z "$w" ] || fail "mandoc -T lint $m: $w"
	fi
done

# uninstall a copy (the stage stays for vm/64-example-plugin)
cp -a "$STAGE" "$T/un"
rm "$T/un/usr/local/lib/zufs/plugins/zramfs.so"
make -s -C "$TOP" uninstall DESTDIR="$T/un" >"$T/uninstall.log" 2>&1 ||
	{ tail -20 "$T/uninstall.log"; fail "make uninstall"; }
left=$(cd "$T/un" && find . ! -type d)
[ -z "$left" ] || fail "left after uninstall: $left"
for d in usr/local/lib/zufs usr/local/include/zufs; do
	[ ! -e "$T/un/$d" ] || fail "uninstall left $d"
done
echo PASS
