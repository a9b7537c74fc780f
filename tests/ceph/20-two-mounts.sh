#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Two clients of one CephFS (two zus-fuse mounts, two libcephfs clients):
# what one writes the other sees, through the MDS's cap revocations that
# the plugin passes to the transport's invalidate service, and names one
# removes or renames that the other had looked up (the invalidate_name
# service: the bridge's entries otherwise live 1 h).  Each change must
# show within 10 s; the lag is printed.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BUILD:-$TOP/build}/bin

# shellcheck source=tests/ceph/lib.bash
. "$TOP/tests/ceph/lib.bash"
ceph_setup
a=$mnt b=$tmp/mnt2
mkdir "$a" "$b"
mount_fuse -t zceph -o "conf=$ceph_conf" none "$a" || fail "mount A"
"$BIN/zus-fuse" -t zceph -o "conf=$ceph_conf" none "$b" || fail "mount B"
d=two.$$
mkdir "$a/$d" || fail "mkdir"

size_is() { [ "$(stat -c %s "$1")" = "$2" ]; }

echo one >"$a/$d/f"
within "a new file of A in B" same "$b/$d/f" one
cat "$b/$d/f" >/dev/null	# B caches the data now
echo two >"$a/$d/f"
within "A's overwrite in B" same "$b/$d/f" two
printf 'three\n' >>"$b/$d/f"
within "B's append in A (data)" same "$a/$d/f" "$(printf 'two\nthree')"
within "B's append in A (size)" size_is "$a/$d/f" 10
head -c 1M /dev/urandom >"$tmp/ref"
cp "$tmp/ref" "$a/$d/big"
within "1 MiB of A in B" cmp -s "$tmp/ref" "$b/$d/big"
mkdir "$b/$d/sub"
within "B's mkdir in A" test -d "$a/$d/sub"
echo gone >"$a/$d/gone"
echo old >"$a/$d/old"
within "A's names in B" same "$b/$d/old" old
stat "$b/$d/gone" >/dev/null || fail "B: stat gone"
rm "$a/$d/gone"
within "A's unlink in B" absent "$b/$d/gone"
mv "$a/$d/old" "$a/$d/new"
within "A's rename in B (new name)" same "$b/$d/new" old
rm -rf "$a/$d"
fusermount3 -u "$b" || fail "unmount B"
umount_fuse || fail "unmount A"
echo "PASS"
