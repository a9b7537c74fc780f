#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The plugin loader (zus/plugin.c): good plugins load, and every kind of
# bad plugin is refused with a message naming the file and the reason.
# Builds throw-away plugins from one source with -D switches.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
CC=${CC:-cc}
CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -fPIC -I$TOP/include -I$TOP/zus/include"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
fail() { echo "FAIL: $*"; rc=1; }

cat >"$tmp/fake.c" <<'CEOF'
#include "zus.h"
static int f_mount(const struct zus_mount_info *mi, struct zus_sb **sbp,
		   struct zus_mount_out *out)
{ (void)mi; (void)sbp; (void)out; return -1; }
static void f_umount(struct zus_sb *sb) { (void)sb; }
#define STUB(n) static int n(void) { return 0; }
STUB(s1) STUB(s2) STUB(s3) STUB(s4) STUB(s5) STUB(s6) STUB(s7) STUB(s8)
STUB(s9) STUB(s10) STUB(s11) STUB(s12) STUB(s13)
#define F(x) ((void *)x)
static const struct zus_fs_ops ops = {
	.mount = f_mount, .umount = f_umount, .statfs = F(s1),
	.lookup = F(s2), .getattr = F(s3), .setattr = F(s4), .create = F(s5),
	.link = F(s6), .unlink = F(s7), .rename = F(s8), .readdir = F(s9),
#ifndef NO_READLINK
	.readlink = F(s10),
#endif
	.evict = F(s11),
#ifdef PMEM
	.get_blocks = F(s12),
#else
	.read = F(s12), .write = F(s13),
#endif
};
#ifndef NAME
#define NAME "fake"
#endif
#ifndef VERSION
#define VERSION ZUS_API_VERSION
#endif
static const struct zus_fs_type t = {
	.api_version = VERSION,
	.info = { .name = NAME,
#if defined(PMEM) || defined(PMEM_FLAG_ONLY)
		  .flags = ZUFS_FST_PMEM,
#endif
	},
	.ops = &ops, .usage = "  none\n",
};
#ifndef NO_SYMBOL
const struct zus_fs_type *const zus_plugin_types[] = { &t, NULL };
#endif
CEOF

cat >"$tmp/driver.c" <<'CEOF'
#include <stdio.h>
#include <string.h>
#include "zus.h"
/* driver PATH...: load, print "ok N name..." or "err ERRNO MSG" */
int main(int argc, char **argv)
{
	struct zus_plugin_set *set;
	char msg[512];
	size_t i;
	int err;

	err = zus_plugins_load(&set, (const char *const *)argv + 1, argc - 1,
			       msg, sizeof(msg));
	if (err) {
		printf("err %d %s\n", err, msg);
		return 1;
	}
	printf("ok %zu", zus_plugins_count(set));
	for (i = 0; i < zus_plugins_count(set); i++)
		printf(" %s", zus_plugins_get(set, i)->info.name);
	printf("%s\n", zus_plugins_find(set, "nope") ? " BAD-FIND" : "");
	zus_plugins_free(set);
	return 0;
}
CEOF

plugin() {	# plugin FILE [-DFLAGS...]
	local out=$1
	shift
	$CC $CFLAGS -Wno-unused -shared -o "$tmp/$out" "$tmp/fake.c" "$@" ||
		fail "build $out"
}
$CC $CFLAGS -o "$tmp/driver" "$tmp/driver.c" "$TOP/zus/plugin.c" -ldl ||
	{ echo "FAIL: build driver"; exit 1; }

mkdir "$tmp/good" "$tmp/bad"
plugin good/b.so -DNAME='"beta_2"'
plugin good/a.so -DNAME='"alpha"' -DPMEM
plugin bad/nosym.so -DNO_SYMBOL
plugin bad/ver.so -DVERSION=99
# the oldest API still loaded (5 only added calls a plugin may make)
plugin old.so -DVERSION=4
plugin bad/upper.so -DNAME='"Bad"'
plugin bad/empty.so -DNAME='""'
plugin bad/long.so -DNAME='"abcdefghijklmnop"'
plugin bad/noop.so -DNO_READLINK
plugin bad/nogb.so -DNAME='"nogb"' -DPMEM_FLAG_ONLY
echo junk >"$tmp/bad/junk.so"

# expect WHAT ARGS...: WHAT is a regexp the driver's output must match
expect() {
	local want=$1 out
	shift
	out=$("$tmp/driver" "$@" 2>&1)
	echo "$out" | grep -Eq -- "$want" || fail "$*: got '$out', want /$want/"
}

expect '^ok 2 alpha beta_2$' "$tmp/good"	# a directory, sorted
expect '^ok 1 beta_2$' "$tmp/good/b.so"
expect '^ok 0$'
expect 'nosym.so: missing symbol zus_plugin_types' "$tmp/bad/nosym.so"
api=$(awk '/define ZUS_API_OLDEST/ { o = $3 } /define ZUS_API_VERSION/ { v = $3 } END { print o ".." v }' "$TOP/zus/include/zus.h")
expect "ver.so: API version 99, expected $api" "$tmp/bad/ver.so"
expect '^ok 1 fake$' "$tmp/old.so"
expect 'upper.so: invalid fs type name' "$tmp/bad/upper.so"
expect 'empty.so: invalid fs type name' "$tmp/bad/empty.so"
expect 'long.so: invalid fs type name' "$tmp/bad/long.so"
expect 'noop.so: type fake: missing required op readlink' "$tmp/bad/noop.so"
expect 'junk.so: ' "$tmp/bad/junk.so"
expect 'nothere.so: No such file' "$tmp/nothere.so"
expect 'b.so: duplicate fs type beta_2' "$tmp/good" "$tmp/good/b.so"
expect 'nogb.so: type nogb: missing required op get_blocks' "$tmp/bad/nogb.so"

# the real plugins load together
if [ -d "$BUILD/plugins" ]; then
	expect '^ok [0-9]+ ' "$BUILD/plugins"
fi
[ $rc = 0 ] && echo PASS
exit $rc
