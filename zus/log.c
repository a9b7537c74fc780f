// SPDX-License-Identifier: BSD-3-Clause
/*
 * log.c - libzus: one logger for a host and the plugins it loads, and the
 * runtime debug switches (zus.h, "Logging").
 *
 * A plugin logs without a handle (zus_log() may be called from any of its
 * threads, in or out of an op), so the destination and the debug classes
 * are process state here, in the server core's library: set once by the
 * host before it loads plugins (zus_log_open), the debug masks changed at
 * run time by zusd's control socket.
 *
 * Destinations:
 *  - systemd's journal stream on stderr ($JOURNAL_STREAM names stderr's
 *    device:inode): "<N>" level prefixes, which journald turns into the
 *    entry's priority (SyslogLevelPrefix=, on by default);
 *  - syslog(3) for a daemon (zusd without -f): its stderr is kept as well
 *    when it goes to a file, as the tests read it;
 *  - stderr, plain, otherwise (a terminal, a test's log file).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>

#define ZUS_LIBZUS_BUILD
#include "zus.h"

#define EXPORT __attribute__((visibility("default")))

/* set once by zus_log_open, before any other thread exists */
static struct {
	char	ident[32];
	bool	syslog;
	bool	journal;
} zlog;

/* Debug classes per plugin name; entries are added, never removed */
#define DBG_MAX	64
struct dbg_entry {
	char		name[ZUFS_FS_NAME_MAX];
	atomic_uint	mask;
};
static struct dbg_entry dbg_tab[DBG_MAX];
static atomic_uint dbg_count;		/* entries published */
static atomic_uint dbg_every;		/* classes on for every plugin */
static pthread_mutex_t dbg_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const dbg_names[ZUS_DBG_NCLASSES] = { ZUS_DBG_CLASS_NAMES };

/* is stderr the stream systemd gave us for the journal? */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st))
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

EXPORT void zus_log_open(const char *ident, bool to_syslog)
{
	snprintf(zlog.ident, sizeof(zlog.ident), "%s", ident ? ident : "");
	zlog.journal = stderr_is_journal();
	zlog.syslog = to_syslog && !zlog.journal;
	if (zlog.syslog)
		openlog(zlog.ident, LOG_PID, LOG_DAEMON);
}

EXPORT void zus_vlog_at(const char *who, int level, const char *fmt,
			va_list ap)
{
	const char *name = who ? who : zlog.ident;
	char line[1024];

	if (level < LOG_EMERG || level > LOG_DEBUG)
		level = LOG_ERR;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* one write per line: many threads log at the same time */
	if (zlog.journal)
		fprintf(stderr, "<%d>%s%s%s\n", level, name, *name ? ": " : "",
			line);
	else
		fprintf(stderr, "%s%s%s\n", name, *name ? ": " : "", line);
	if (zlog.syslog) {
		if (who)
			syslog(level, "%s: %s", who, line);
		else
			syslog(level, "%s", line);
	}
}

EXPORT void zus_log_at(const char *who, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	zus_vlog_at(who, level, fmt, ap);
	va_end(ap);
}

static struct dbg_entry *dbg_find(const char *who)
{
	unsigned int i, n = atomic_load_explicit(&dbg_count,
						 memory_order_acquire);

	for (i = 0; i < n; i++)
		if (!strcmp(dbg_tab[i].name, who))
			return &dbg_tab[i];
	return NULL;
}

EXPORT bool zus_debug_on(const char *who, unsigned int cls)
{
	unsigned int mask = atomic_load_explicit(&dbg_every,
						 memory_order_relaxed);
	struct dbg_entry *e;

	if (cls >= ZUS_DBG_NCLASSES)
		return false;
	if (who && !(mask & (1U << cls)) && (e = dbg_find(who)))
		mask |= atomic_load_explicit(&e->mask, memory_order_relaxed);
	return mask & (1U << cls);
}

EXPORT unsigned int zus_debug_get(const char *who)
{
	unsigned int mask = atomic_load(&dbg_every);
	struct dbg_entry *e = who ? dbg_find(who) : NULL;

	return mask | (e ? atomic_load(&e->mask) : 0);
}

/* the entry of who, added if new; NULL when the table is full */
static struct dbg_entry *dbg_get(const char *who)
{
	struct dbg_entry *e;
	unsigned int n;

	pthread_mutex_lock(&dbg_lock);
	e = dbg_find(who);
	n = atomic_load(&dbg_count);
	if (!e && n < DBG_MAX) {
		e = &dbg_tab[n];
		snprintf(e->name, sizeof(e->name), "%s", who);
		atomic_store(&e->mask, 0);
		atomic_store_explicit(&dbg_count, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&dbg_lock);
	return e;
}

EXPORT unsigned int zus_debug_set(const char *who, unsigned int on,
				  unsigned int off)
{
	struct dbg_entry *e;
	unsigned int i, n;

	on &= ZUS_DBG_ALL;
	off &= ZUS_DBG_ALL;
	if (!who) {
		/* "every plugin": the shared mask, and off for each one too */
		atomic_fetch_and(&dbg_every, ~off);
		atomic_fetch_or(&dbg_every, on);
		n = atomic_load(&dbg_count);
		for (i = 0; i < n; i++)
			atomic_fetch_and(&dbg_tab[i].mask, ~off);
		return atomic_load(&dbg_every);
	}
	if (off & atomic_load(&dbg_every)) {
		/* off for one only: the others keep what "every" gave them */
		unsigned int keep = atomic_fetch_and(&dbg_every, ~off) & off;

		n = atomic_load(&dbg_count);
		for (i = 0; i < n; i++)
			atomic_fetch_or(&dbg_tab[i].mask, keep);
		/* and the plugins not yet named lose it: rare, said in zusctl(8) */
	}
	e = dbg_get(who);
	if (!e)
		return zus_debug_get(who);
	atomic_fetch_and(&e->mask, ~off);
	atomic_fetch_or(&e->mask, on);
	return zus_debug_get(who);
}

EXPORT unsigned int zus_debug_class(const char *name)
{
	unsigned int i;

	if (!strcmp(name, "all"))
		return ZUS_DBG_ALL;
	for (i = 0; i < ZUS_DBG_NCLASSES; i++)
		if (!strcmp(name, dbg_names[i]))
			return 1U << i;
	return 0;
}

EXPORT const char *zus_debug_class_name(unsigned int cls)
{
	return cls < ZUS_DBG_NCLASSES ? dbg_names[cls] : "?";
}
