#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Feature tests for compat.h: print -DZUF_HAVE_<API>=1 for every API the
# kernel headers under $1 (a kernel tree's include/) declare.  Tests of
# the headers themselves, not of the kernel version, so that distribution
# kernels with backported APIs build as well.  Called by Kbuild.
inc=${1:?usage: probe.sh KERNEL-INCLUDE-DIR}

have() {	# API HEADER EXTENDED-REGEX
	grep -qsE "$3" "$inc/$2" && printf ' -DZUF_HAVE_%s=1' "$1"
}

have GET_INODE_ACL		linux/fs.h	'get_inode_acl'
have MNT_IDMAP			linux/fs.h	'int \(\*permission\) \(struct mnt_idmap'
have VM_FLAGS_SET		linux/mm.h	'static inline void vm_flags_set'
have WRITEPAGE_FOLIO		linux/writeback.h 'typedef int \(\*writepage_t\)\(struct folio'
have FILEMAP_SPLICE_READ	linux/fs.h	'ssize_t filemap_splice_read'
have INODE_CTIME_ACCESSORS	linux/fs.h	'inode_get_ctime\('
have UPDATE_TIME_FLAGS		linux/fs.h	'int \(\*update_time\)\(struct inode \*, int\)'
have FILLATTR_MASK		linux/fs.h	'void generic_fillattr\(struct mnt_idmap \*, u32'
have DAX_FAULT_ORDER		linux/dax.h	'dax_iomap_fault\(struct vm_fault \*vmf, unsigned int order'
have INODE_TIME_ACCESSORS	linux/fs.h	'inode_get_mtime\('
have SIMPLE_INODE_INIT_TS	linux/fs.h	'simple_inode_init_ts'
have SPLICE_COPY_FILE_RANGE	linux/splice.h	'splice_copy_file_range'
have FOP_FLAGS			linux/fs.h	'FOP_MMAP_SYNC'
have BDEV_FILE_OPEN		linux/blkdev.h	'struct file \*bdev_file_open_by_dev'
have ACL_CHMOD_DENTRY		linux/posix_acl.h 'int posix_acl_chmod\(struct mnt_idmap \*, struct dentry'
echo
