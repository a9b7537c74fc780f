# SPDX-License-Identifier: BSD-3-Clause
# The load of the restart tests (tests/vm/cases/63-restart*.sh).  Source
# after tests/vm/lib.sh:
#
#   load_start DIR SECS [nozstress]
#                        start in DIR: a writer of a held-open file (each
#                        4 KiB block gets its write number, each write
#                        fsynced; its longest write+fsync is the stall),
#                        zstress (unless nozstress) and (if installed)
#                        fio, for about SECS
#   load_stop WHAT       stop them; fail on any error they saw or a lost
#                        acknowledged write; print "stall: WHAT N ms"

load_start() {
	local dir=$1 secs=$2

	rm -f /tmp/stop /tmp/writer.*
	python3 - "$dir/held" >/tmp/writer.out 2>&1 <<'PY' &
import os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
i, worst = 0, 0.0
while not os.path.exists("/tmp/stop"):
    t = time.monotonic()
    os.pwrite(fd, (b"%08d" % i) * 512, (i % 256) * 4096)
    os.fsync(fd)
    worst = max(worst, time.monotonic() - t)
    i += 1
    open("/tmp/writer.n", "w").write(str(i))
for b in range(min(i, 256)):
    last = max(n for n in range(i) if n % 256 == b)
    if os.pread(fd, 4096, b * 4096) != (b"%08d" % last) * 512:
        sys.exit("block %d lost its last write %d" % (b, last))
print("writes %d stall %.0f ms" % (i, worst * 1000))
PY
	LOAD_WRITER=$!
	LOAD_ZSTRESS=
	if [ "${3:-}" != nozstress ]; then
		mkdir -p "$dir/st"
		"$TOP/build/bin/zstress" -q -p 3 -d "$secs" -w 60 -s 63 "$dir/st" \
			>/tmp/zstress.out 2>&1 &
		LOAD_ZSTRESS=$!
	fi
	LOAD_FIO=
	if command -v fio >/dev/null; then
		fio --name=restart --directory="$dir" --rw=randwrite --bs=4k \
		    --size=8M --ioengine=psync --fsync=4 --time_based \
		    --runtime="$secs" >/tmp/fio.out 2>&1 &
		LOAD_FIO=$!
	fi
	# python over 9p starts slowly on a busy TCG host
	wait_for /tmp/writer.n 60 || fail "writer did not start: $(cat /tmp/writer.out)"
}

load_stop() {
	touch /tmp/stop
	[ -z "$LOAD_FIO" ] || wait "$LOAD_FIO" ||
		fail "fio saw errors ($1): $(grep -i err /tmp/fio.out | head -5)"
	[ -z "$LOAD_ZSTRESS" ] || wait "$LOAD_ZSTRESS" ||
		fail "zstress saw errors ($1): $(grep -v '^zstress:   ' /tmp/zstress.out | tail -8)"
	wait "$LOAD_WRITER" || fail "held-open writer ($1): $(cat /tmp/writer.out)"
	echo "writer $(cat /tmp/writer.out)"
	echo "stall: $1 $(sed -n 's/.*stall \([0-9]*\) ms/\1/p' /tmp/writer.out) ms"
}
