#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/report.py: turn the raw results of bench/run into the report.

usage: bench/report.py [--no-plots] OUT

OUT holds vm/ (bench/inside.sh inside the VM) and/or host/ (inside.sh --host),
each with runs.tsv, meta.tsv, cpu.tsv and fio/*.json (and vm/rt.tsv,
vm/rt-breakdown.txt from the roundtrip target, vm/copy.tsv from
zufs/passthrough-copy).  Writes OUT/results.csv,
OUT/table.txt (also printed), OUT/targets.txt, OUT/roundtrip.txt and, with
gnuplot, OUT/iops.{png,svg}, OUT/latency.{png,svg} and OUT/cpu.{png,svg}.
"""
import csv
import json
import os
import shutil
import subprocess
import sys

OPS = ["randwrite", "randread", "write-alloc"]
META_OPS = ["create", "stat", "rename", "unlink"]
# the order rows are printed in: the zufs rows first, then what they beat
TARGET_ORDER = [
    "zufs/zpmfs", "zufs/zpmfs-spin", "zufs/zpmfs-nomapcache",
    "zufs/passthrough", "zufs/passthrough-copy0",
    "zufs/passthrough-copy4096", "zufs/passthrough-copy16384",
    "fuse-bridge/zpmfs", "fuse-bridge/passthrough", "fuse-null",
    "ext4-dax", "tmpfs", "raw-pmem", "raw-pmem-recheck",
]
COLUMNS = ["env", "target", "op", "jobs", "iops", "mean_us", "p99_us",
           "cpu_us", "iops_vs_raw", "lat_vs_raw", "iops_vs_fuse_null",
           "lat_vs_fuse_null", "note"]
# the copy_max values of zufs/passthrough-copy; 0 is the reference
COPY_PREFIX = "zufs/passthrough-copy"
# busy time of all CPUs in /proc/stat's ticks (USER_HZ = 100)
US_PER_TICK = 10000.0


class Row:
    def __init__(self, env, target, op, jobs, iops=None, mean=None,
                 p99=None, note="", cpu=None):
        self.env, self.target, self.op = env, target, op
        self.jobs = jobs
        self.iops, self.mean, self.p99 = iops, mean, p99
        # busy µs of all CPUs per op: what polling burns shows here
        self.cpu = cpu
        self.note = note
        self.ratios = {}

    def ok(self):
        return self.iops is not None


def parse_fio(path, op):
    with open(path) as f:
        text = f.read()
    # fio may print warnings before the JSON document
    doc = json.loads(text[text.index("{"):])
    job = doc["jobs"][0]["read" if op == "randread" else "write"]
    pct = job["clat_ns"].get("percentile", {})
    p99 = pct.get("99.000000")
    return (job["iops"], job["lat_ns"]["mean"] / 1000.0,
            p99 / 1000.0 if p99 is not None else None)


def fio_ios(path, op):
    """the operations a fio point did (all jobs)"""
    with open(path) as f:
        text = f.read()
    doc = json.loads(text[text.index("{"):])
    return doc["jobs"][0]["read" if op == "randread" else "write"]["total_ios"]


def load_cpu(d):
    """{fio/JSON: busy ticks of all CPUs over that fio run} (cpu.tsv)"""
    ticks = {}
    for p in tsv_lines(os.path.join(d, "cpu.tsv"), 2):
        try:
            ticks[p[0]] = int(p[1])
        except ValueError:
            continue
    return ticks


def cpu_per_op(d, what, op, ticks):
    """busy CPU µs per op of one fio point, None when not recorded"""
    if what not in ticks:
        return None
    try:
        n = fio_ios(os.path.join(d, what), op)
    except (OSError, ValueError, KeyError, IndexError):
        return None
    return ticks[what] * US_PER_TICK / n if n else None


def as_int(s):
    try:
        return int(s)
    except ValueError:
        return None


def load_runs(env, d, jobs_seen, manifest="runs.tsv"):
    rows, na = [], []
    path = os.path.join(d, manifest)
    if not os.path.exists(path):
        return rows
    ticks = load_cpu(d)
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5:
                continue
            target, op, jobs, status, what = parts[:5]
            what = what.strip()
            if op == "*":
                na.append((target, what))
                continue
            j = as_int(jobs)
            jobs_seen.add(j)
            if status != "ok":
                rows.append(Row(env, target, op, j, note="n/a: " + what))
                continue
            try:
                iops, mean, p99 = parse_fio(os.path.join(d, what), op)
            except (OSError, ValueError, KeyError, IndexError) as e:
                rows.append(Row(env, target, op, j,
                                note="n/a: bad fio output (%s)" % e))
                continue
            rows.append(Row(env, target, op, j, iops, mean, p99,
                            cpu=cpu_per_op(d, what, op, ticks)))
    # a target that never ran: one n/a row per op it would have had
    for target, why in na:
        ops = OPS if not target.startswith(("raw-pmem", "fuse-null",
                                             COPY_PREFIX)) else OPS[:2]
        for op in ops:
            rows.append(Row(env, target, op, None, note="n/a: " + why))
    return rows


def load_meta(env, d):
    rows = []
    path = os.path.join(d, "meta.tsv")
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 5:
                continue
            if p[3] != "ok":
                rows.append(Row(env, p[0], "meta", as_int(p[2]),
                                note="n/a: " + p[4].strip()))
                continue
            rows.append(Row(env, p[0], p[1], as_int(p[2]), float(p[4]),
                            float(p[5]), float(p[6]),
                            cpu=float(p[7]) if len(p) > 7 else None))
    return rows


def find(rows, env, target, op, jobs):
    for r in rows:
        if (r.env, r.target, r.op, r.jobs) == (env, target, op, jobs) \
                and r.ok():
            return r
    return None


def tsv_lines(path, nfields):
    """The tab-separated lines of path with at least nfields fields"""
    if not os.path.exists(path):
        return
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= nfields:
                yield p


def load_pairs(out):
    """{round: {jobs: iops}} of the back-to-back zufs/zpmfs scaling pairs"""
    pairs = {}
    for p in tsv_lines(os.path.join(out, "vm", "pairs.tsv"), 4):
        try:
            iops = parse_fio(os.path.join(out, "vm", p[3]), "randwrite")[0]
        except (OSError, ValueError, KeyError, IndexError):
            continue
        pairs.setdefault(int(p[1]), {})[int(p[2])] = iops
    return pairs


def add_ratios(rows):
    """IOPS and latency ratios to raw pmem and to the FUSE null fs, measured
    in the same environment with the same jobs (write-alloc is compared
    with their randwrite: neither of them allocates)."""
    for r in rows:
        if not r.ok() or r.op not in OPS:
            continue
        ref_op = "randwrite" if r.op == "write-alloc" else r.op
        for key, ref_target in (("raw", "raw-pmem"), ("fuse_null", "fuse-null")):
            ref = find(rows, r.env, ref_target, ref_op, r.jobs)
            if ref and ref.iops and ref.mean:
                r.ratios["iops_vs_" + key] = r.iops / ref.iops
                r.ratios["lat_vs_" + key] = r.mean / ref.mean


def sort_key(r):
    t = r.target
    order = TARGET_ORDER.index(t) if t in TARGET_ORDER else len(TARGET_ORDER)
    allops = OPS + META_OPS + ["meta"]
    return (r.env != "vm", allops.index(r.op) if r.op in allops else 99,
            order, t, r.jobs or 0)


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def row_cells(r):
    c = [r.env, r.target, r.op, "-" if r.jobs is None else str(r.jobs),
         fmt(r.iops, ".0f"), fmt(r.mean, ".1f"), fmt(r.p99, ".1f"),
         "" if r.cpu is None else "%.1f" % r.cpu]
    for k in COLUMNS[8:12]:
        v = r.ratios.get(k)
        c.append("" if v is None else "%.2f" % v)
    c.append(r.note)
    return c


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(row_cells(r))


def table(rows):
    head = ["env", "target", "op", "jobs", "IOPS", "mean us", "p99 us",
            "cpu us", "IOPS/raw", "lat/raw", "IOPS/fuse", "lat/fuse", "note"]
    cells = [row_cells(r) for r in rows]
    ncol = len(head) - 1
    widths = [max(len(x[i]) for x in cells + [head]) for i in range(ncol)]
    out = []

    def line(c):
        left = {0, 1, 2}
        s = "  ".join(c[i].ljust(widths[i]) if i in left
                      else c[i].rjust(widths[i]) for i in range(ncol))
        return (s + "  " + c[ncol]).rstrip()
    out.append(line(head))
    out.append("-" * len(out[0]))
    prev = None
    for c in cells:
        group = (c[0], c[2] in META_OPS or c[2] == "meta")
        if prev is not None and group != prev:
            out.append("")
        prev = group
        out.append(line(c))
    return "\n".join(out) + "\n"


def verdict(name, ok, detail):
    state = "n/a" if ok is None else ("MET" if ok else "NOT MET")
    return "%-8s %s: %s" % (state, name, detail)


def raw_scaling(get):
    """raw pmem's 2-job/1-job randwrite ratios: what TCG allowed"""
    out = []
    for t in ("raw-pmem", "raw-pmem-recheck"):
        one, two = get(t, "randwrite", 1), get(t, "randwrite", 2)
        if one and two:
            out.append("%.2fx%s" % (two.iops / one.iops,
                                    " (recheck)" if "recheck" in t else ""))
    return ", ".join(out)


def ratio_verdict(name, a, b, factor):
    """a's ops/s >= factor x b's, both rows of one boot"""
    if not a or not b:
        return verdict(name, None, "missing row")
    return verdict(name, a.iops >= factor * b.iops,
                   "%.0f vs %.0f ops/s (%.2fx)" % (a.iops, b.iops,
                                                   a.iops / b.iops))


def trip_targets(get, raw):
    """issue 14: what fewer and cheaper round trips must reach"""
    out = []
    for op in ("create", "unlink", "rename"):
        for j in (1, 2):
            z = get("zufs/zpmfs", op, j)
            out.append(ratio_verdict("zpmfs %s >= ext4-dax, %d thread%s"
                                     % (op, j, "s" if j > 1 else ""),
                                     z, get("ext4-dax", op, j), 1.0))
            out.append(ratio_verdict("zpmfs %s >= 3x FUSE bridge, %d thread%s"
                                     % (op, j, "s" if j > 1 else ""),
                                     z, get("fuse-bridge/zpmfs", op, j), 3.0))
    for op in ("randread", "randwrite", "write-alloc", "create", "stat",
               "unlink"):
        out.append(ratio_verdict(
            "zufs/passthrough %s >= 1.5x fuse-bridge/passthrough, 1 job"
            % op, get("zufs/passthrough", op, 1),
            get("fuse-bridge/passthrough", op, 1), 1.5))
    for t, how in (("zufs/zpmfs", ""), ("zufs/zpmfs-spin", ", polling")):
        name = "zpmfs allocating write latency <= 3x raw pmem" + how
        alloc = get(t, "write-alloc", 1)
        if alloc and raw:
            out.append(verdict(name, alloc.mean <= 3 * raw.mean,
                               "%.1f us vs %.1f us (%.2fx)%s"
                               % (alloc.mean, raw.mean, alloc.mean / raw.mean,
                                  cpu_note(alloc))))
        else:
            out.append(verdict(name, None,
                               "missing %s write-alloc or raw j=1" % t))
    return out


def cpu_note(r):
    return "" if r.cpu is None else ", %.1f CPU us/op" % r.cpu


def polling_section(rows):
    """zufs/zpmfs-spin next to the sleeping zufs/zpmfs, point by point:
    what polling buys in latency and what it costs in CPU"""
    out = []
    for r in rows:
        if r.env != "vm" or r.target != "zufs/zpmfs-spin" or not r.ok():
            continue
        z = find(rows, "vm", "zufs/zpmfs", r.op, r.jobs)
        if not z:
            continue
        out.append("  %-11s j=%d  sleeping %8.1f us %9.0f ops/s %7s CPU us/op"
                   "  polling %8.1f us (%.2fx) %9.0f ops/s %7s CPU us/op%s"
                   % (r.op, r.jobs, z.mean, z.iops,
                      fmt(z.cpu, ".1f"), r.mean, r.mean / z.mean, r.iops,
                      fmt(r.cpu, ".1f"),
                      " (%.2fx)" % (r.cpu / z.cpu) if r.cpu and z.cpu else ""))
    if not out:
        return ""
    return ("polling (zufs/zpmfs-spin: zusd --spin and -o spin=) against "
            "sleeping (zufs/zpmfs), same boot; CPU us/op = busy time of all "
            "vCPUs per op:\n" + "\n".join(out) + "\n")


def copy_rounds(rows):
    """{(target, op, jobs): [Row of round 1, 2, ...]} of the copy rounds"""
    rounds = {}
    for r in rows:
        rounds.setdefault((r.target, r.op, r.jobs), []).append(r)
    return rounds


def copy_rows(rounds):
    """one table row per copy_max point: its median round by IOPS"""
    out = []
    for (t, op, j), rs in rounds.items():
        ok = sorted((r for r in rs if r.ok()), key=lambda r: r.iops)
        if not ok:
            out.append(rs[0])
            continue
        m = ok[(len(ok) - 1) // 2]
        m.note = "median of %d round%s" % (len(ok), "s" if len(ok) > 1 else "")
        out.append(m)
    return out


def copy_section(rounds):
    """copy_max=N against 0 (lending the pages) round by round: the
    median of the per-round IOPS ratios, and what the default should be.
    A 4 KiB op takes the same path with copy_max=4096 and 16384, so the
    two settings' ratios differ only by the host's noise: a point is won
    (lost) only when both are >= 1.05x (<= 0.95x), else it is noise."""
    out, verdicts = [], []
    keys = sorted({(op, j) for (_, op, j) in rounds if j is not None},
                  key=lambda k: (OPS.index(k[0]), k[1]))
    for op, j in keys:
        ref = rounds.get((COPY_PREFIX + "0", op, j), [])
        meds = []
        for cm in ("4096", "16384"):
            rs = rounds.get((COPY_PREFIX + cm, op, j), [])
            pairs = [(a, b) for a, b in zip(ref, rs) if a.ok() and b.ok()]
            if not pairs:
                continue
            ratios = [b.iops / a.iops for a, b in pairs]
            meds.append(median(ratios))
            cpu = [b.cpu / a.cpu for a, b in pairs if a.cpu and b.cpu]
            out.append("  %-9s j=%d copy_max=%-5s IOPS %.2fx of copy_max=0 "
                       "(median of %d rounds: %s)%s"
                       % (op, j, cm, meds[-1], len(ratios),
                          ", ".join("%.0f/%.0f" % (b.iops, a.iops)
                                    for a, b in pairs),
                          "; CPU us/op %.2fx" % median(cpu) if cpu else ""))
        if len(meds) == 2:
            verdicts.append("won" if min(meds) >= 1.05 else
                            "lost" if max(meds) <= 0.95 else "noise")
    if not out:
        return ""
    wins, losses = verdicts.count("won"), verdicts.count("lost")
    tally = ("copying won %d, lost %d, within the noise %d of %d points"
             % (wins, losses, len(verdicts) - wins - losses, len(verdicts)))
    # the kernel's default (zuf.h ZUF_COPY_MAX_DEFAULT) follows this line
    if wins and not losses:
        say = tally + ": copy_max=4096 is the better default"
    elif losses and not wins:
        say = tally + ": copy_max=0 (zero copy) is the better default"
    else:
        say = tally + ": no default follows from this run"
    return ("copy_max (zufs/passthrough, 4 KiB O_DIRECT|O_SYNC, rounds "
            "interleaved over one backing file):\n" + "\n".join(out) +
            "\n  => " + say + "\n")


def targets(rows, pairs=None):
    def get(t, op, j):
        return find(rows, "vm", t, op, j)
    zp1 = get("zufs/zpmfs", "randwrite", 1)
    zp2 = get("zufs/zpmfs", "randwrite", 2)
    nomc = get("zufs/zpmfs-nomapcache", "randwrite", 1)
    alloc = get("zufs/zpmfs", "write-alloc", 1)
    raw = get("raw-pmem", "randwrite", 1)
    again = get("raw-pmem-recheck", "randwrite", 1)
    # raw pmem is measured first and again last; judge against the faster
    # of the two, the stricter reference on a host whose load drifts
    first_raw = raw
    if raw and again and again.mean < raw.mean:
        raw = again
    fnull = get("fuse-null", "randwrite", 1)
    out = ["targets (VM, 4 KiB O_SYNC direct writes):"]

    if zp1 and raw:
        lim = 1.3 * raw.mean
        out.append(verdict(
            "zpmfs overwrite latency <= 1.3x raw pmem", zp1.mean <= lim,
            "%.1f us vs limit %.1f us (raw %.1f us, ratio %.2f)"
            % (zp1.mean, lim, raw.mean, zp1.mean / raw.mean)))
    else:
        out.append(verdict("zpmfs overwrite latency <= 1.3x raw pmem", None,
                           "missing zufs/zpmfs or raw-pmem randwrite j=1"))

    if alloc and raw and zp1 and nomc:
        rt = nomc.mean - zp1.mean
        note = ""
        if rt < 0:
            note = " (nomapcache was faster: round trip taken as 0)"
            rt = 0.0
        lim = raw.mean + rt
        out.append(verdict(
            "zpmfs allocating write <= raw pmem + 1 round trip",
            alloc.mean <= lim,
            "%.1f us vs limit %.1f us (raw %.1f + round trip %.1f = "
            "nomapcache %.1f - cached %.1f)%s"
            % (alloc.mean, lim, raw.mean, rt, nomc.mean, zp1.mean, note)))
    else:
        out.append(verdict(
            "zpmfs allocating write <= raw pmem + 1 round trip", None,
            "missing zufs/zpmfs write-alloc/randwrite, nomapcache or raw j=1"))

    if zp1 and fnull:
        out.append(verdict(
            "zpmfs >= 10x FUSE null fs IOPS at 1 job",
            zp1.iops >= 10 * fnull.iops,
            "%.0f vs %.0f IOPS (%.1fx)"
            % (zp1.iops, fnull.iops, zp1.iops / fnull.iops)))
    else:
        out.append(verdict("zpmfs >= 10x FUSE null fs IOPS at 1 job", None,
                           "missing zufs/zpmfs or fuse-null randwrite j=1"))

    # issue 14: scale at least as well as raw pmem did in the same boot
    # (the emulator caps scaling); 1.8x when raw pmem has no 2-job row
    r1, r2 = get("raw-pmem", "randwrite", 1), get("raw-pmem", "randwrite", 2)
    want = r2.iops / r1.iops if r1 and r2 else 1.8
    scal = "zpmfs 2 jobs / 1 job IOPS >= %s" % (
        "raw pmem's (%.2fx)" % want if r1 and r2 else "1.8x")
    ratios = sorted(p[2] / p[1] for p in (pairs or {}).values()
                    if p.get(1) and p.get(2))
    if ratios:
        med = median(ratios)
        out.append(verdict(
            scal, med >= want,
            "median %.2fx of %d back-to-back pairs (%s)%s"
            % (med, len(ratios),
               ", ".join("%.0f/%.0f" % (p[2], p[1])
                         for _, p in sorted(pairs.items())
                         if p.get(1) and p.get(2)),
               "; table rows: %.0f vs %.0f IOPS (%.2fx)"
               % (zp2.iops, zp1.iops, zp2.iops / zp1.iops)
               if zp1 and zp2 else "")))
        ceiling = raw_scaling(get)
        if ceiling:
            out.append("         (the emulator's own 2-job scaling in this run: "
                       "raw pmem %s)" % ceiling)
    elif zp1 and zp2:
        out.append(verdict(
            scal, zp2.iops >= want * zp1.iops,
            "%.0f vs %.0f IOPS (%.2fx)"
            % (zp2.iops, zp1.iops, zp2.iops / zp1.iops)))
    else:
        out.append(verdict(scal, None,
                           "missing zufs/zpmfs randwrite j=1 or j=2"))
    out.extend(trip_targets(get, raw))
    if first_raw and again:
        out.append("drift:   raw pmem randwrite j=1 was %.0f IOPS / %.1f us at the "
                   "start and %.0f IOPS / %.1f us at the end (%+.0f%% IOPS); "
                   "the verdicts use the faster; the host is shared, ratios "
                   "are only as good as this"
                   % (first_raw.iops, first_raw.mean, again.iops, again.mean,
                      100.0 * (again.iops / first_raw.iops - 1)))
    return "\n".join(out) + "\n"


def plot(rows, out):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return "gnuplot not found: no plots"
    nblocks, lts = {}, {}
    # one colour per target in every panel: number the series globally
    names = []
    for r in sorted(rows, key=lambda r: (r.env != "vm", sort_key(r)[2:])):
        name = r.target if r.env == "vm" else r.env + ":" + r.target
        if r.ok() and r.op in OPS and name not in names and \
                r.target != "raw-pmem-recheck":
            names.append(name)
    for op in OPS:
        blocks = []
        series = {}
        for r in rows:
            if r.op == op and r.ok() and r.jobs and \
                    r.target != "raw-pmem-recheck":
                name = r.target if r.env == "vm" else r.env + ":" + r.target
                series.setdefault(name, []).append(r)
        order = sorted(series, key=names.index)
        lts[op] = " ".join(str(names.index(n) + 1) for n in order)
        for name in order:
            pts = sorted(series[name], key=lambda r: r.jobs)
            lines = ['jobs "%s" mean p99 cpu' % name]
            lines += ["%d %.1f %.2f %.2f %s" % (r.jobs, r.iops, r.mean,
                                               r.p99 or 0,
                                               fmt(r.cpu, ".2f").replace(
                                                   "n/a", "NaN"))
                      for r in pts]
            blocks.append("\n".join(lines))
        nblocks[op] = len(blocks)
        with open(os.path.join(out, "plot-%s.dat" % op), "w") as f:
            f.write("\n\n\n".join(blocks) + "\n")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "plot.gp")
    msgs = []
    for metric in ("iops", "latency", "cpu"):
        for term in ("png", "svg"):
            expr = ("dir='%s'; metric='%s'; fmt='%s'; "
                    "n_randwrite=%d; n_randread=%d; n_alloc=%d; "
                    "lt_randwrite='%s'; lt_randread='%s'; lt_alloc='%s'"
                    % (out, metric, term, nblocks["randwrite"],
                       nblocks["randread"], nblocks["write-alloc"],
                       lts["randwrite"], lts["randread"],
                       lts["write-alloc"]))
            p = subprocess.run([gnuplot, "-e", expr, script],
                               capture_output=True, text=True)
            if p.returncode:
                msgs.append("gnuplot %s.%s failed: %s"
                            % (metric, term, p.stderr.strip()[-300:]))
    return "\n".join(msgs)


def load_rt(out):
    """rtbench rows of vm/rt.tsv: [{variant, threads, place, us, ...}]"""
    rows = []
    for p in tsv_lines(os.path.join(out, "vm", "rt.tsv"), 5):
        r = {"variant": p[0], "threads": p[1], "place": p[2]}
        if p[3] != "ok":
            r["note"] = "n/a: " + p[4]
        else:
            for kv in p[4].split()[1:]:
                k, _, v = kv.partition("=")
                r.setdefault(k, v)  # fuse says place=pinned: ours wins
        rows.append(r)
    return rows


def rt_get(rt, variant, threads, place):
    for r in rt:
        if (r["variant"], r["threads"], r["place"]) == \
                (variant, str(threads), place) and "us" in r:
            return r
    return None


def rt_table(rt, out):
    """The round-trip section: one line per point, us / the futex floor of
    the same threads and placement"""
    if not rt:
        return ""
    lines = ["round trip (rtbench; us = mean per caller, cpu_us = all CPUs' "
             "busy time per trip):",
             "%-16s %7s %6s %9s %10s %8s %9s" % (
                 "variant", "threads", "place", "us", "trips/s", "cpu_us",
                 "us/futex")]
    for r in rt:
        if "us" not in r:
            lines.append("%-16s %7s %6s  %s" % (r["variant"], r["threads"],
                                                 r["place"], r.get("note", "")))
            continue
        ref = rt_get(rt, "futex", r["threads"], r["place"])
        ratio = "%.2f" % (float(r["us"]) / float(ref["us"])) if ref else "-"
        lines.append("%-16s %7s %6s %9.2f %10.0f %8.2f %9s" % (
            r["variant"], r["threads"], r["place"], float(r["us"]),
            float(r["ops_per_s"]), float(r["cpu_us"]), ratio))
    bd = os.path.join(out, "vm", "rt-breakdown.txt")
    if os.path.exists(bd) and os.path.getsize(bd):
        lines.append("")
        lines.append("where a ZT round trip goes (mean us per step, stamped "
                     "runs; the stamps add their own cost):")
        with open(bd) as f:
            lines += [l.rstrip("\n") for l in f]
    return "\n".join(lines) + "\n"


def load_rt_pairs(out):
    """vm/rt-pairs.tsv: {(variant, place): [(futex_us, zufs_us), ...]}"""
    pairs = {}
    for p in tsv_lines(os.path.join(out, "vm", "rt-pairs.tsv"), 5):
        try:
            pairs.setdefault((p[0], p[1]), []).append((float(p[3]),
                                                       float(p[4])))
        except ValueError:
            continue
    return pairs


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def rt_pair_verdict(name, pairs, limit):
    """judge on the median zufs/futex ratio of back-to-back pairs"""
    ratios = [z / f for f, z in pairs if f > 0]
    med = median(ratios)
    return verdict(name, med <= limit,
                   "median %.2fx of %d back-to-back pairs (%s us)"
                   % (med, len(ratios),
                      ", ".join("%.1f/%.1f" % (z, f) for f, z in pairs)))


def rt_targets(rt, pairs=None):
    if not rt:
        return ""
    out = []
    pairs = pairs or {}
    futex, zufs = rt_get(rt, "futex", 1, "same"), rt_get(rt, "zufs", 1, "same")
    name = "ZT round trip <= 1.2x futex ping-pong, sleeping (1 thread, same CPU)"
    if pairs.get(("zufs", "same")):
        out.append(rt_pair_verdict(name, pairs[("zufs", "same")], 1.2))
    elif futex and zufs:
        f, z = float(futex["us"]), float(zufs["us"])
        out.append(verdict(name, z <= 1.2 * f,
                           "%.2f us vs futex %.2f us (%.2fx)" % (z, f, z / f)))
    else:
        out.append(verdict(name, None, "missing futex or zufs 1/same"))
    name = "ZT round trip <= 0.5x futex ping-pong, polling (1 thread)"
    futex = rt_get(rt, "futex", 1, "cross")
    spins = [r for r in rt if r["variant"].startswith("zufs-spin") and
             r["threads"] == "1" and "us" in r]
    spin_pairs = [(k, v) for k, v in pairs.items()
                  if k[0].startswith("zufs-spin") and v]
    if spin_pairs:
        k, v = spin_pairs[0]
        out.append(rt_pair_verdict(name + ", %s %s" % k, v, 0.5))
    elif futex and spins:
        best = min(spins, key=lambda r: float(r["us"]))
        f, z = float(futex["us"]), float(best["us"])
        out.append(verdict(name, z <= 0.5 * f,
                           "%s %s: %.2f us, cpu %.2f us/trip, vs futex cross "
                           "%.2f us (%.2fx)" % (best["variant"], best["place"],
                                                z, float(best["cpu_us"]), f,
                                                z / f)))
    else:
        out.append(verdict(name, None, "missing futex cross or zufs-spin rows"))
    return "\n".join(out) + "\n"


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("-")]
    if "-h" in argv or "--help" in argv or len(args) != 1:
        print(__doc__.strip())
        return 0 if len(args) == 1 or "-h" in argv or "--help" in argv else 2
    out = args[0]
    rows, jobs_seen, rounds = [], set(), {}
    for env in ("vm", "host"):
        d = os.path.join(out, env)
        if os.path.isdir(d):
            rows += load_runs(env, d, jobs_seen)
            rows += load_meta(env, d)
    if os.path.isdir(os.path.join(out, "vm")):
        rounds = copy_rounds(load_runs("vm", os.path.join(out, "vm"),
                                       jobs_seen, "copy.tsv"))
        rows += copy_rows(rounds)
    rt = load_rt(out)
    if not rows and not rt:
        print("report.py: no results under %s" % out, file=sys.stderr)
        return 1
    add_ratios(rows)
    rows.sort(key=sort_key)
    write_csv(rows, os.path.join(out, "results.csv"))
    rtt = rt_table(rt, out)
    with open(os.path.join(out, "roundtrip.txt"), "w") as f:
        f.write(rtt)
    extra = "".join("\n" + x for x in (polling_section(rows),
                                        copy_section(rounds)) if x)
    text = (table(rows) if rows else "") + extra + \
        ("\n" + rtt if rtt else "")
    tgt = (targets(rows, load_pairs(out)) if rows else "") + \
        rt_targets(rt, load_rt_pairs(out))
    with open(os.path.join(out, "table.txt"), "w") as f:
        f.write(text + "\n" + tgt)
    with open(os.path.join(out, "targets.txt"), "w") as f:
        f.write(tgt)
    sys.stdout.write(text + "\n" + tgt)
    if "--no-plots" not in argv and rows:
        msg = plot(rows, out)
        if msg:
            print(msg, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
