// SPDX-License-Identifier: GPL-2.0
/*
 * module.c - zuf.ko init and exit.
 *
 * Loading registers zuf-root ("zuf") and creates /sys/fs/zuf for it; the
 * server mounts zuf-root there.  Types a dead server leaves behind are
 * unregistered as soon as no superblock uses them, but their memory is
 * only freed here at exit (see zuf_fs_type_bury()).
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "zuf_core.h"

/* unregistered types whose memory the VFS may still touch */
static LIST_HEAD(zuf_graveyard);
static DEFINE_SPINLOCK(zuf_graveyard_lock);

/*
 * deactivate_locked_super() calls put_filesystem() on the type after our
 * kill_sb returned, so an unregistered type cannot be freed right away;
 * it is kept until the module goes (the module ref of any user pins us).
 */
void zuf_fs_type_bury(struct zuf_fs_type_core *zftc)
{
	struct zuf_server *srv = zftc->srv;

	spin_lock(&zuf_graveyard_lock);
	list_add(&zftc->grave, &zuf_graveyard);
	spin_unlock(&zuf_graveyard_lock);
	zftc->srv = NULL;
	if (srv)
		zuf_server_put(srv);
}

static void zuf_graveyard_free(void)
{
	struct zuf_fs_type_core *zftc, *tmp;

	list_for_each_entry_safe(zftc, tmp, &zuf_graveyard, grave) {
		list_del(&zftc->grave);
		kfree(zftc);
	}
}

static int __init zuf_init(void)
{
	int err;

	err = zuf_inode_cache_init();
	if (err)
		return err;
	err = sysfs_create_mount_point(fs_kobj, ZUFS_ROOT_FSTYPE);
	if (err)
		goto out_destroy_cache;
	err = zuf_root_register();
	if (err)
		goto out_remove_mount_point;
	pr_info("zuf: loaded, ABI %u.%u\n", ZUFS_MAJOR_VERSION,
		ZUFS_MINOR_VERSION);
	return 0;

out_remove_mount_point:
	sysfs_remove_mount_point(fs_kobj, ZUFS_ROOT_FSTYPE);
out_destroy_cache:
	zuf_inode_cache_destroy();
	return err;
}

static void __exit zuf_exit(void)
{
	zuf_root_unregister();
	sysfs_remove_mount_point(fs_kobj, ZUFS_ROOT_FSTYPE);
	zuf_graveyard_free();
	zuf_inode_cache_destroy();
}

module_init(zuf_init);
module_exit(zuf_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("zufs: zero-copy user-mode filesystem feeder");
MODULE_ALIAS_FS("zuf");
