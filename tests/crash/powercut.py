#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Guest side of the zpmfs power-cut test (tests/host/48-zpmfs-powercut.sh).

  powercut.py run   MNT ACKDIR ROUND SEED   seeded workload until killed
  powercut.py check MNT ACKDIR ROUNDS       every acknowledged fact holds

The workload of round R works below MNT/rR.  Before each op it logs
"B i paths" (what the op may touch), after it returns "A i updates" (the
facts it made), each line written to the host's ACKDIR (9p, cache=none)
before going on.  check replays the A lines of every round into a model
and compares the filesystem with it; the paths of the one op a round
began but did not acknowledge may be either way.
"""
import json
import os
import random
import sys


def log(f, kind, i, data):
    # 9p with cache=none: the host has the line when write() returns, and
    # the host's page cache outlives qemu (no fsync to the host's disk)
    f.write("%s %d %s\n" % (kind, i, json.dumps(data)))
    f.flush()


def write_file(path, data):
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def pick(rng, model, kind):
    c = sorted(p for p, v in model.items() if v and v[0] == kind)
    return rng.choice(c) if c else None


def empty_dirs(model):
    return sorted(p for p, v in model.items() if v and v[0] == "d" and
                  not any(q.startswith(p + "/") and model[q]
                          for q in model))


def step(rng, i, base, model):
    """One op: returns (paths it may touch, its updates, action)."""
    dirs = [base] + [p for p, v in model.items() if v and v[0] == "d"]
    where = rng.choice(sorted(dirs))
    r = rng.randrange(10)
    a = pick(rng, model, "f")
    if r == 0 or a is None:
        p = "%s/f%d" % (where, i)
        data = "%d:" % i * rng.randrange(1, 300)
        return [p], {p: ["f", data, i]}, lambda: write_file(p, data)
    if r == 1:
        p = "%s/d%d" % (where, i)
        return [p], {p: ["d"]}, lambda: os.mkdir(p)
    if r == 2:
        p = "%s/m%d" % (where, i)
        return [a, p], {a: None, p: model[a]}, lambda: os.rename(a, p)
    if r == 3:
        b = pick(rng, model, "f")
        if model.get(b, [0, 0, -1])[2] == model[a][2]:
            b = "%s/o%d" % (where, i)   # not onto a link of itself
        return [a, b], {a: None, b: model[a]}, lambda: os.rename(a, b)
    if r == 4:
        p = "%s/l%d" % (where, i)
        return [p], {p: model[a]}, lambda: os.link(a, p)
    if r == 5:
        return [a], {a: None}, lambda: os.unlink(a)
    if r == 6:
        e = empty_dirs(model)
        if e:
            d = rng.choice(e)
            return [d], {d: None}, lambda: os.rmdir(d)
    if r == 7:
        p = "%s/s%d" % (where, i)
        t = "target-%d" % i * rng.randrange(1, 20)
        return [p], {p: ["l", t]}, lambda: os.symlink(t, p)
    if r == 8:
        n = rng.randrange(len(model[a][1]) + 1)
        fid = model[a][2]
        data = model[a][1][:n]
        # hard links share the data: every name of it changes
        same = [p for p, v in model.items() if v[0] == "f" and v[2] == fid]
        return same, {p: ["f", data, fid] for p in same}, \
            lambda: os.truncate(a, n)
    p = "%s/x%d" % (where, i)
    return [p], {p: ["f", "", i]}, lambda: os.close(os.open(
        p, os.O_CREAT | os.O_WRONLY, 0o600))


def run(mnt, ackdir, rnd, seed):
    rng = random.Random(seed * 1000 + rnd)
    base = "%s/r%d" % (mnt, rnd)
    os.mkdir(base)

    model = {}
    with open("%s/acks.%d" % (ackdir, rnd), "w") as f:
        open("%s/started.%d" % (ackdir, rnd), "w").close()
        for i in range(1, 1 << 30):
            touched, upd, act = step(rng, i, base, model)
            log(f, "B", i, touched)
            act()
            log(f, "A", i, upd)
            model.update(upd)
            model = {p: v for p, v in model.items() if v}


def replay(ackdir, rnd):
    model, pending = {}, []
    try:
        lines = open("%s/acks.%d" % (ackdir, rnd)).read().splitlines()
    except FileNotFoundError:
        return None, []
    began = {}
    for ln in lines:
        parts = ln.split(" ", 2)
        if len(parts) != 3:
            continue    # the line the power cut tore
        kind, i, data = parts[0], int(parts[1]), json.loads(parts[2])
        if kind == "B":
            began[i] = data
        else:
            model.update(data)
            began.pop(i, None)
    for touched in began.values():
        pending += touched
    return {p: v for p, v in model.items() if v}, pending


def check_round(mnt, ackdir, rnd):
    model, pending = replay(ackdir, rnd)
    if model is None:
        return 0
    base = "%s/r%d" % (mnt, rnd)
    bad = 0
    for p, v in sorted(model.items()):
        if p in pending:
            continue
        try:
            if v[0] == "d":
                ok = os.path.isdir(p) and not os.path.islink(p)
            elif v[0] == "l":
                ok = os.readlink(p) == v[1]
            else:
                ok = open(p).read() == v[1]
        except OSError as e:
            ok = False
            v = v + [str(e)]
        if not ok:
            print("round %d: acknowledged %s %s is not there" % (rnd, p, v))
            bad += 1
    for root, ds, fs in os.walk(base):
        for n in ds + fs:
            p = os.path.join(root, n)
            if p not in model and p not in pending:
                print("round %d: %s exists but no acknowledged op made it"
                      % (rnd, p))
                bad += 1
    print("round %d: %d acknowledged facts, %d pending path(s), %d bad"
          % (rnd, len(model), len(pending), bad))
    return bad


def main():
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        bad = sum(check_round(sys.argv[2], sys.argv[3], r)
                  for r in range(int(sys.argv[4])))
        sys.exit(1 if bad else 0)


main()
