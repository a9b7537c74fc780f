# SPDX-License-Identifier: BSD-3-Clause
# Sourced by tests/ceph/lib.bash and tests/vm/cases/70-ceph-zuf.sh: one list
# of posix-test exclusions for both transports.
#
# posix-test cases whose expectations CephFS breaks (also with its kernel
# client): free space (statfs) comes from the monitors' PG statistics,
# seconds late; st_blocks is the size rounded up, so a punched hole does
# not lower it.  And two where libcephfs 16's cached directory attributes
# lag what its MDS did (the plugin answers what libcephfs says; README
# "zceph"): the source parent of a directory renamed elsewhere keeps its
# old subdirectory count (nlink) for this client, and a directory's mtime
# set by utimes just before a mkdir in it stays the old one (cause not
# established).
CEPH_POSIX_EXCLUDE='statvfs_space,unlink_open_space,falloc_punch,rename_cross_dir,dir_times'
