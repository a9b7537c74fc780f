#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/kernels.py: put bench/run results of several kernels side by side.

usage: bench/kernels.py OUT DIR...

Each DIR is a bench/run results directory (results.csv, vm/meta.tsv) of one
kernel, named by its release.  Writes OUT/kernels.csv and OUT/kernels.txt
(also printed): per (target, op, jobs) the IOPS, mean latency and IOPS
ratio to raw-pmem of every kernel, and the last kernel's IOPS over the
first's.  The rows of the first DIR set the order.
"""
import csv
import os
import sys


def load(d):
    rows = {}
    order = []
    with open(os.path.join(d, "results.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if r["env"] != "vm":
                continue
            key = (r["target"], r["op"], r["jobs"])
            rows[key] = r
            order.append(key)
    return rows, order


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def cells(rows, key):
    r = rows.get(key)
    if r is None:
        return [None, None, None]
    return [num(r["iops"]), num(r["mean_us"]), num(r["iops_vs_raw"])]


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    out, dirs = argv[1], argv[2:]
    names = [os.path.basename(os.path.normpath(d)) for d in dirs]
    data = []
    for d in dirs:
        try:
            data.append(load(d))
        except OSError as e:
            print("bench/kernels.py: %s: %s" % (d, e), file=sys.stderr)
            return 1
    keys = list(data[0][1])
    for rows, order in data[1:]:
        keys += [k for k in order if k not in keys]

    head = ["target", "op", "jobs"]
    for n in names:
        short = n.split("-")[0]
        head += [short + " IOPS", short + " us", short + " /raw"]
    if len(names) > 1:
        head.append("%s/%s" % (names[-1].split("-")[0], names[0].split("-")[0]))
    table = []
    for key in keys:
        vals = []
        for rows, _ in data:
            vals += cells(rows, key)
        first, last = vals[0], vals[-3]
        row = list(key)
        for i, v in enumerate(vals):
            row.append(fmt(v, ".0f" if i % 3 == 0 else
                           ".1f" if i % 3 == 1 else ".2f"))
        if len(names) > 1:
            row.append(fmt(last / first if first and last else None, ".2f"))
        table.append(row)

    with open(os.path.join(out, "kernels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        w.writerows(table)
    widths = [max(len(r[i]) for r in table + [head]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(widths[i]) if i < 3 else c.rjust(widths[i])
                       for i, c in enumerate(r)).rstrip()
             for r in [head] + table]
    lines.insert(1, "-" * len(lines[0]))
    text = "kernels: %s\n\n%s\n" % (", ".join(names), "\n".join(lines))
    with open(os.path.join(out, "kernels.txt"), "w") as f:
        f.write(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
