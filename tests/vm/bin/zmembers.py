#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""zmembers.py DEV FILE... - on which member of a zufs device set each
file's blocks are.

Reads the device table of DEV (any member of the set) for the members'
sizes, and each file's extents with FS_IOC_FIEMAP (zuf reports places in
the set's t1 range: members one after the other in table order).  Prints
one line per file: "FILE total=N m0=A m1=B ..." (blocks of 4096 bytes),
and with --node-of-cpu C the share of the blocks on the member(s) of that
CPU's NUMA node: "local=PCT".
"""
import argparse
import fcntl
import os
import struct
import sys

FS_IOC_FIEMAP = 0xC020660B
EXTENTS = 512
BLOCK = 4096


def members(dev):
    with open(dev, "rb") as f:
        t = f.read(512)
    if t[:8] != b"UZFSDEVT":
        sys.exit(f"zmembers: {dev}: no zufs device table")
    t1 = struct.unpack_from("<H", t, 50)[0]
    sizes = [struct.unpack_from("<Q", t, 64 + 32 * i + 16)[0]
             for i in range(t1)]
    starts, off = [], 0
    for s in sizes:
        starts.append(off)
        off += s
    return starts, sizes


def extents(path):
    """(physical, length) in bytes of every extent of path"""
    out, start = [], 0
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            hdr = struct.pack("=QQLLLL", start, 2**64 - 1 - start, 1, 0,
                              EXTENTS, 0)
            buf = bytearray(hdr + bytes(56 * EXTENTS))
            fcntl.ioctl(fd, FS_IOC_FIEMAP, buf)
            n = struct.unpack_from("=L", buf, 20)[0]
            last = False
            for i in range(n):
                lo, ph, ln, _, _, fl = struct.unpack_from(
                    "=QQQQQL", buf, 32 + 56 * i)
                out.append((ph, ln))
                start = lo + ln
                last = bool(fl & 1)
            if n == 0 or last:
                return out
    finally:
        os.close(fd)


def cpu_node(cpu):
    for n in os.listdir("/sys/devices/system/node"):
        if n.startswith("node") and os.path.exists(
                f"/sys/devices/system/node/{n}/cpu{cpu}"):
            return int(n[4:])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dev")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--node-of-cpu", type=int,
                    help="also print the share on this CPU's node")
    ap.add_argument("--member-nodes",
                    help="comma separated NUMA node of each member")
    a = ap.parse_args()
    starts, sizes = members(a.dev)
    nodes = ([int(x) for x in a.member_nodes.split(",")]
             if a.member_nodes else None)
    want = cpu_node(a.node_of_cpu) if a.node_of_cpu is not None else None
    for path in a.files:
        per = [0] * len(sizes)
        for ph, ln in extents(path):
            b, end = ph // BLOCK, (ph + ln) // BLOCK
            for i, (s, z) in enumerate(zip(starts, sizes)):
                lo, hi = max(b, s), min(end, s + z)
                if hi > lo:
                    per[i] += hi - lo
        total = sum(per)
        line = f"{path} total={total} " + " ".join(
            f"m{i}={n}" for i, n in enumerate(per))
        if want is not None and nodes:
            local = sum(n for i, n in enumerate(per) if nodes[i] == want)
            pct = 100.0 * local / total if total else 0.0
            line += f" node={want} local={pct:.1f}"
        print(line)


if __name__ == "__main__":
    main()
