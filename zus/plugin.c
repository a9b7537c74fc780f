// SPDX-License-Identifier: BSD-3-Clause
/*
 * plugin.c - load zusFS plugins (.so) and check what they export.
 *
 * Shared by zusd and zus-fuse.  A plugin is trusted code (it runs inside
 * the server), but a wrong build of it is common: an old API version, a
 * missing op or a name the kernel would refuse.  Catching those here gives
 * an error that names the file instead of a crash on the first operation.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zus.h"

struct zus_plugin_set {
	void			**handles;	/* dlopen handles */
	size_t			nhandles;
	const struct zus_fs_type **types;
	size_t			ntypes;
};

/* Format "file: reason" into the caller's buffer; returns err for chaining */
static int plugin_err(char *errmsg, size_t errlen, int err, const char *file,
		      const char *fmt, ...)
{
	const char *base = strrchr(file, '/');
	va_list ap;
	int n;

	if (!errmsg || !errlen)
		return err;
	n = snprintf(errmsg, errlen, "%s: ", base ? base + 1 : file);
	if (n < 0 || (size_t)n >= errlen)
		return err;
	va_start(ap, fmt);
	vsnprintf(errmsg + n, errlen - n, fmt, ap);
	va_end(ap);
	return err;
}

static bool name_valid(const char *name)
{
	size_t i;

	for (i = 0; i < ZUFS_FS_NAME_MAX; i++) {
		char c = name[i];

		if (!c)
			return i > 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return false;	/* not NUL terminated within the field */
}

/* Name of the first required op that is NULL, or NULL when all are there */
static const char *missing_op(const struct zus_fs_type *t)
{
	const struct zus_fs_ops *o = t->ops;
	const struct {
		const char *name;
		bool present;
	} req[] = {
		{ "mount", o->mount },		{ "umount", o->umount },
		{ "statfs", o->statfs },	{ "lookup", o->lookup },
		{ "getattr", o->getattr },	{ "setattr", o->setattr },
		{ "create", o->create },	{ "link", o->link },
		{ "unlink", o->unlink },	{ "rename", o->rename },
		{ "readdir", o->readdir },	{ "readlink", o->readlink },
		{ "evict", o->evict },
	};
	size_t i;

	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!req[i].present)
			return req[i].name;
	if (t->info.flags & ZUFS_FST_PMEM) {
		if (!o->get_blocks)
			return "get_blocks";
	} else {
		if (!o->read)
			return "read";
		if (!o->write)
			return "write";
	}
	return NULL;
}

static int check_type(const struct zus_plugin_set *set,
		      const struct zus_fs_type *t, const char *file,
		      char *errmsg, size_t errlen)
{
	const char *op;
	size_t i;

	if (t->api_version < ZUS_API_OLDEST || t->api_version > ZUS_API_VERSION)
		return plugin_err(errmsg, errlen, -EPROTO, file,
				  "API version %u, expected %u..%u",
				  t->api_version, ZUS_API_OLDEST, ZUS_API_VERSION);
	if (!name_valid(t->info.name))
		return plugin_err(errmsg, errlen, -EINVAL, file,
				  "invalid fs type name (want 1..%d chars of [a-z0-9_])",
				  ZUFS_FS_NAME_MAX - 1);
	if (!t->ops)
		return plugin_err(errmsg, errlen, -EINVAL, file,
				  "type %s: no ops", t->info.name);
	op = missing_op(t);
	if (op)
		return plugin_err(errmsg, errlen, -EINVAL, file,
				  "type %s: missing required op %s",
				  t->info.name, op);
	if ((t->info.flags & ZUFS_FST_PMEM) && (t->info.flags & ZUFS_FST_NODEV))
		return plugin_err(errmsg, errlen, -EINVAL, file,
				  "type %s: both PMEM and NODEV", t->info.name);
	for (i = 0; i < set->ntypes; i++)
		if (!strcmp(set->types[i]->info.name, t->info.name))
			return plugin_err(errmsg, errlen, -EEXIST, file,
					  "duplicate fs type %s", t->info.name);
	return 0;
}

static int set_add_type(struct zus_plugin_set *set,
			const struct zus_fs_type *t)
{
	const struct zus_fs_type **n;

	n = realloc(set->types, (set->ntypes + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	n[set->ntypes++] = t;
	set->types = n;
	return 0;
}

static int set_add_handle(struct zus_plugin_set *set, void *h)
{
	void **n;

	n = realloc(set->handles, (set->nhandles + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	n[set->nhandles++] = h;
	set->handles = n;
	return 0;
}

static int load_file(struct zus_plugin_set *set, const char *file,
		     char *errmsg, size_t errlen)
{
	const struct zus_fs_type *const *types;
	size_t first = set->ntypes, i;
	void *h;
	int err;

	h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return plugin_err(errmsg, errlen, -ENOEXEC, file, "%s",
				  dlerror());
	types = dlsym(h, ZUS_PLUGIN_SYMBOL);
	if (!types) {
		err = plugin_err(errmsg, errlen, -ENOEXEC, file,
				 "missing symbol %s", ZUS_PLUGIN_SYMBOL);
		goto out_close;
	}
	if (!types[0]) {
		err = plugin_err(errmsg, errlen, -EINVAL, file,
				 "exports no filesystem type");
		goto out_close;
	}
	for (i = 0; types[i]; i++) {
		err = check_type(set, types[i], file, errmsg, errlen);
		if (!err)
			err = set_add_type(set, types[i]);
		if (err)
			goto out_drop_types;
	}
	err = set_add_handle(set, h);
	if (err)
		goto out_drop_types;
	return 0;

out_drop_types:
	set->ntypes = first;
out_close:
	dlclose(h);
	if (err == -ENOMEM)
		plugin_err(errmsg, errlen, err, file, "out of memory");
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_so(const char *name)
{
	size_t len = strlen(name);

	return len > 3 && !strcmp(name + len - 3, ".so") && name[0] != '.';
}

static void free_names(char **names, size_t n)
{
	while (n)
		free(names[--n]);
	free(names);
}

/* Collect "dir/x.so" for every *.so in dir, sorted so load order is stable */
static int list_dir(const char *dir, char ***namesp, size_t *np,
		    char *errmsg, size_t errlen)
{
	char **names = NULL, **nn;
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d)
		return plugin_err(errmsg, errlen, -errno, dir, "%s",
				  strerror(errno));
	while ((de = readdir(d))) {
		if (!is_so(de->d_name))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn)
			goto out_nomem;
		names = nn;
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
			goto out_nomem;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	*namesp = names;
	*np = n;
	return 0;

out_nomem:
	closedir(d);
	free_names(names, n);
	err = plugin_err(errmsg, errlen, -ENOMEM, dir, "out of memory");
	return err;
}

static int load_path(struct zus_plugin_set *set, const char *path,
		     char *errmsg, size_t errlen)
{
	char **names = NULL;
	struct stat st;
	size_t n = 0, i;
	int err;

	if (stat(path, &st))
		return plugin_err(errmsg, errlen, -errno, path, "%s",
				  strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return load_file(set, path, errmsg, errlen);

	err = list_dir(path, &names, &n, errmsg, errlen);
	if (err)
		return err;
	for (i = 0; i < n && !err; i++)
		err = load_file(set, names[i], errmsg, errlen);
	free_names(names, n);
	return err;
}

int zus_plugins_load(struct zus_plugin_set **setp, const char *const *paths,
		     size_t npaths, char *errmsg, size_t errlen)
{
	struct zus_plugin_set *set;
	size_t i;
	int err = 0;

	if (errmsg && errlen)
		errmsg[0] = '\0';
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	for (i = 0; i < npaths && !err; i++)
		err = load_path(set, paths[i], errmsg, errlen);
	if (err) {
		zus_plugins_free(set);
		return err;
	}
	*setp = set;
	return 0;
}

size_t zus_plugins_count(const struct zus_plugin_set *set)
{
	return set ? set->ntypes : 0;
}

const struct zus_fs_type *zus_plugins_get(const struct zus_plugin_set *set,
					  size_t i)
{
	return set && i < set->ntypes ? set->types[i] : NULL;
}

const struct zus_fs_type *zus_plugins_find(const struct zus_plugin_set *set,
					   const char *name)
{
	size_t i;

	for (i = 0; set && i < set->ntypes; i++)
		if (!strncmp(set->types[i]->info.name, name, ZUFS_FS_NAME_MAX))
			return set->types[i];
	return NULL;
}

void zus_plugins_free(struct zus_plugin_set *set)
{
	if (!set)
		return;
	while (set->nhandles)
		dlclose(set->handles[--set->nhandles]);
	free(set->handles);
	free(set->types);
	free(set);
}
