#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The scripted session of `make demo`; runs as root inside the VM.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/bin
mnt=/mnt/zufs-demo

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
run() {
	local arg line='$'
	for arg in "$@"; do
		case $arg in
		*[[:space:]\'\"\>\<\|\&\;]*) line+=" \"$arg\"" ;;
		*) line+=" $arg" ;;
		esac
	done
	printf '%s\n' "$line"
	"$@"
}

say "load the kernel module and start the user-mode server"
run insmod "$top/kernel/zuf/zuf.ko"
run "$bin/zusd" --plugin "$top/build/plugins"
for _ in $(seq 50); do
	grep -qw zpmfs /proc/filesystems && break
	sleep 0.1
done
run grep -w 'zuf\|zpmfs' /proc/filesystems

say "make a filesystem on the emulated pmem and mount it"
run "$bin/mkfs.zpmfs" -f -L demo /dev/pmem0
run mkdir -p "$mnt"
run mount -t zpmfs /dev/pmem0 "$mnt"
run grep zpmfs /proc/mounts

say "use it"
run mkdir "$mnt/docs"
run sh -c "echo 'hello from user space' > $mnt/docs/hello.txt"
run dd if=/dev/urandom of="$mnt/docs/blob" bs=64k count=16 status=none
run ln -s hello.txt "$mnt/docs/link"
run mv "$mnt/docs/hello.txt" "$mnt/docs/greeting.txt"
run ls -la "$mnt/docs"
run stat "$mnt/docs/greeting.txt"
run df -h "$mnt"
sum=$(md5sum < "$mnt/docs/blob")
run md5sum "$mnt/docs/blob"

say "umount, mount again: the data is still there"
run umount "$mnt"
run mount -t zpmfs /dev/pmem0 "$mnt"
run cat "$mnt/docs/greeting.txt"
run md5sum "$mnt/docs/blob"
[ "$(md5sum < "$mnt/docs/blob")" = "$sum" ] || { echo "demo: data changed!"; exit 1; }
run readlink "$mnt/docs/link"

say "clean up"
run umount "$mnt"
run pkill -TERM -x zusd
for _ in $(seq 50); do
	pgrep -x zusd >/dev/null || break
	sleep 0.1
done
run umount /sys/fs/zuf
run rmmod zuf
echo
echo "demo finished: zufs works"
