#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ceph-cluster.sh's monitor commands, in one process.

Usage: ceph-moncmd.py CONF KEYRING setup OUTDIR OSD_UUID...
       ceph-moncmd.py CONF KEYRING wait SECONDS

setup: the keys of mgr.x and mds.a (OUTDIR/{mgr.x,mds.a}/keyring), one
OSD id per uuid with the key in OUTDIR/osd.ID/keyring (made by
ceph-authtool beforehand, ids 0..N-1), the CephFS pools and the CephFS
"cephfs".  wait: until HEALTH_OK, an available mgr and an active MDS.

Why not ceph(8): each of its calls starts a python with the whole CLI
and a new monitor session, seconds on a loaded host and tens of seconds
in a TCG guest; this connects once (python3-rados, ceph(8)'s own
dependency) and the cluster start needs a dozen commands.
"""
import json
import sys
import time

import rados  # pylint: disable=import-error


def cmd(cluster, inbuf=b"", **args):
    """One monitor command; its output, or exit with the monitor's error."""
    ret, out, err = cluster.mon_command(json.dumps(args), inbuf)
    if ret < 0:
        sys.exit(f"ceph-moncmd: {args['prefix']}: {err or ret}")
    return out


def setup(cluster, outdir, uuids):
    for entity, caps in (
        ("mgr.x", ["mon", "allow profile mgr", "osd", "allow *", "mds", "allow *"]),
        ("mds.a", ["mon", "allow profile mds", "osd", "allow rwx", "mds", "allow",
                   "mgr", "allow profile mds"]),
    ):
        key = cmd(cluster, prefix="auth get-or-create", entity=entity, caps=caps)
        with open(f"{outdir}/{entity}/keyring", "wb") as f:
            f.write(key)
    for want, uuid in enumerate(uuids):
        got = int(cmd(cluster, prefix="osd new", uuid=uuid).decode().strip() or -1)
        if got != want:
            sys.exit(f"ceph-moncmd: osd new gave id {got}, expected {want}"
                     " (not a fresh cluster?)")
        with open(f"{outdir}/osd.{got}/keyring", "rb") as f:
            cmd(cluster, f.read(), prefix="auth add", entity=f"osd.{got}",
                caps=["osd", "allow *", "mon", "allow profile osd",
                      "mgr", "allow profile osd"])
    for pool in ("cephfs_metadata", "cephfs_data"):
        cmd(cluster, prefix="osd pool create", pool=pool, pg_num=16)
    cmd(cluster, prefix="fs new", fs_name="cephfs", metadata="cephfs_metadata",
        data="cephfs_data")
    # ext4's 16 TiB, not CephFS's default 1 TiB (tests/posix makes a
    # sparse 1 TiB file)
    cmd(cluster, prefix="fs set", fs_name="cephfs", var="max_file_size",
        val="17592186044416")


def healthy(cluster):
    health = json.loads(cmd(cluster, prefix="health", format="json"))
    mgr = json.loads(cmd(cluster, prefix="mgr stat", format="json"))
    mds = cmd(cluster, prefix="mds stat").decode()
    return (health.get("status") == "HEALTH_OK" and mgr.get("available")
            and "up:active" in mds), health


def wait(cluster, seconds):
    end = time.monotonic() + seconds
    while True:
        ok, health = healthy(cluster)
        if ok:
            return
        if time.monotonic() > end:
            sys.exit(f"ceph-moncmd: not HEALTH_OK with an active mgr and MDS"
                     f" after {seconds:g} s: {json.dumps(health.get('checks', {}))}")
        time.sleep(0.5)


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return
    if len(sys.argv) < 4 or sys.argv[3] not in ("setup", "wait"):
        sys.exit(__doc__.split("\n\n")[1])
    conf, keyring, what = sys.argv[1:4]
    cluster = rados.Rados(conffile=conf, name="client.admin",
                          conf={"keyring": keyring})
    cluster.connect(timeout=300)
    try:
        if what == "setup":
            setup(cluster, sys.argv[4], sys.argv[5:])
        else:
            wait(cluster, float(sys.argv[4]))
    finally:
        cluster.shutdown()


main()
