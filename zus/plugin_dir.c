// SPDX-License-Identifier: BSD-3-Clause
/*
 * plugin_dir.c - where zusd and zus-fuse look for plugins by default.
 *
 * A binary run from the build tree (build/bin/zusd) must use the plugins
 * built next to it (build/plugins), or every test would pick up whatever
 * an older `make install` left behind.  An installed one (PREFIX/sbin/zusd)
 * uses the directory `make install` put the plugins in, compiled in as
 * ZUS_PLUGIN_DIR.  What tells them apart is whether <dir of the binary>/
 * ../plugins exists: no FHS layout has a PREFIX/plugins.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "zus.h"

#ifndef ZUS_PLUGIN_DIR
#define ZUS_PLUGIN_DIR	"/usr/local/lib/zufs/plugins"
#endif

static int put(char *buf, size_t size, const char *dir, const char *tail)
{
	int n = snprintf(buf, size, "%s%s", dir, tail);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int zus_plugins_default_dir(char *buf, size_t size)
{
	char exe[PATH_MAX], *slash;
	struct stat st;
	ssize_t n;
	int err;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return put(buf, size, ZUS_PLUGIN_DIR, "");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	err = put(buf, size, exe, "/../plugins");
	if (!err && !stat(buf, &st) && S_ISDIR(st.st_mode))
		return 0;
	return put(buf, size, ZUS_PLUGIN_DIR, "");
}

const char *zus_plugins_installed_dir(void)
{
	return ZUS_PLUGIN_DIR;
}
