// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuse-nullfs: the "FUSE row" of the benchmark.
 *
 * A libfuse3 low-level filesystem with a single regular file, /data.  Its
 * writes are memcpy'd into an in-memory ring (offset modulo the ring size)
 * and its reads are served from the same ring, so every request costs one
 * FUSE round trip plus one copy in each direction and nothing else.  This is
 * the "libfuse memcpy null FS" the original ZUFS paper compares against: it
 * measures the price of the FUSE transport itself.
 *
 * The file is opened with FOPEN_DIRECT_IO so the kernel sends every read and
 * write to us (no page cache), and fsync/flush are left unimplemented: the
 * kernel then remembers ENOSYS and stops sending them, which is what a null
 * filesystem should cost.
 */
#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)

#include <fuse_lowlevel.h>

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define NULLFS_DATA_INO		2
#define NULLFS_DATA_NAME	"data"
#define NULLFS_DEF_SIZE		(1ULL << 30)	/* what stat reports */
#define NULLFS_DEF_RING		(1ULL << 20)
/* Linux caps one FUSE request at 256 pages; a ring at least this big means
 * any single request wraps at most once. */
#define NULLFS_MIN_RING		(1ULL << 20)

struct nullfs {
	char *ring;
	uint64_t ring_size;
	/* grows on writes past the end and on truncate; read by every op */
	_Atomic uint64_t file_size;
	struct timespec birth;
	struct fuse_conn_info_opts *conn_opts;
	int direct_io;
};

/* values of our own -o options, before they are checked */
struct nullfs_cfg {
	char *size;
	char *ring;
	int no_direct_io;
};

#define NULLFS_OPT(t, p) { t, offsetof(struct nullfs_cfg, p), 1 }
static const struct fuse_opt nullfs_opts[] = {
	{ "size=%s", offsetof(struct nullfs_cfg, size), 0 },
	{ "ring=%s", offsetof(struct nullfs_cfg, ring), 0 },
	NULLFS_OPT("no_direct_io", no_direct_io),
	FUSE_OPT_END
};

static struct nullfs *nullfs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void nullfs_fill_stat(struct nullfs *nfs, fuse_ino_t ino,
			     struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_atim = nfs->birth;
	st->st_mtim = nfs->birth;
	st->st_ctim = nfs->birth;
	st->st_blksize = 4096;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0666;
		st->st_nlink = 1;
		st->st_size = (off_t)atomic_load(&nfs->file_size);
		st->st_blocks = st->st_size / 512;
	}
}

static int nullfs_valid_ino(fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID || ino == NULLFS_DATA_INO;
}

static void nullfs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct nullfs *nfs = userdata;

	/* -o max_write=N etc. from the command line */
	fuse_apply_conn_info_opts(nfs->conn_opts, conn);
}

static void nullfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, NULLFS_DATA_NAME) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = NULLFS_DATA_INO;
	e.generation = 1;
	/* nothing ever changes behind the kernel's back: cache forever */
	e.attr_timeout = 3600.0;
	e.entry_timeout = 3600.0;
	nullfs_fill_stat(nullfs_of(req), e.ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void nullfs_getattr(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (!nullfs_valid_ino(ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	nullfs_fill_stat(nullfs_of(req), ino, &st);
	fuse_reply_attr(req, &st, 3600.0);
}

/* Only truncate is honoured; modes, owners and times are accepted and
 * forgotten, as a null filesystem should. */
static void nullfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			   int to_set, struct fuse_file_info *fi)
{
	struct nullfs *nfs = nullfs_of(req);
	struct stat st;

	(void)fi;
	if (!nullfs_valid_ino(ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (ino != NULLFS_DATA_INO) {
			fuse_reply_err(req, EISDIR);
			return;
		}
		atomic_store(&nfs->file_size, (uint64_t)attr->st_size);
	}
	nullfs_fill_stat(nfs, ino, &st);
	fuse_reply_attr(req, &st, 3600.0);
}

static void nullfs_open(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	if (ino != NULLFS_DATA_INO) {
		fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
		return;
	}
	fi->direct_io = nullfs_of(req)->direct_io;
	fuse_reply_open(req, fi);
}

/* Split [off, off + size) of the file into at most two slices of the ring. */
static int nullfs_ring_slices(const struct nullfs *nfs, uint64_t off,
			      size_t size, struct iovec iov[2])
{
	uint64_t pos = off % nfs->ring_size;
	size_t first = size;

	if (pos + size > nfs->ring_size)
		first = (size_t)(nfs->ring_size - pos);
	iov[0].iov_base = nfs->ring + pos;
	iov[0].iov_len = first;
	iov[1].iov_base = nfs->ring;
	iov[1].iov_len = size - first;
	return iov[1].iov_len ? 2 : 1;
}

static void nullfs_read(fuse_req_t req, fuse_ino_t ino, size_t size,
			off_t off, struct fuse_file_info *fi)
{
	struct nullfs *nfs = nullfs_of(req);
	uint64_t fsize = atomic_load(&nfs->file_size);
	struct iovec iov[2];
	int n;

	(void)ino;
	(void)fi;
	if (off < 0 || (uint64_t)off >= fsize) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > fsize - (uint64_t)off)
		size = (size_t)(fsize - (uint64_t)off);
	/* libfuse writev()s the slices straight into /dev/fuse: one copy */
	n = nullfs_ring_slices(nfs, (uint64_t)off, size, iov);
	fuse_reply_iov(req, iov, n);
}

static void nullfs_grow(struct nullfs *nfs, uint64_t end)
{
	uint64_t cur = atomic_load(&nfs->file_size);

	while (cur < end &&
	       !atomic_compare_exchange_weak(&nfs->file_size, &cur, end))
		;
}

static void nullfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			 size_t size, off_t off, struct fuse_file_info *fi)
{
	struct nullfs *nfs = nullfs_of(req);
	struct iovec iov[2];
	int i, n;

	(void)ino;
	(void)fi;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* Concurrent writers may interleave in the ring; nobody reads the
	 * contents back for correctness, so no lock on the data path. */
	n = nullfs_ring_slices(nfs, (uint64_t)off, size, iov);
	for (i = 0; i < n; i++) {
		memcpy(iov[i].iov_base, buf, iov[i].iov_len);
		buf += iov[i].iov_len;
	}
	nullfs_grow(nfs, (uint64_t)off + size);
	fuse_reply_write(req, size);
}

static void nullfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	static const struct {
		const char *name;
		fuse_ino_t ino;
		mode_t mode;
	} ents[] = {
		{ ".", FUSE_ROOT_ID, S_IFDIR },
		{ "..", FUSE_ROOT_ID, S_IFDIR },
		{ NULLFS_DATA_NAME, NULLFS_DATA_INO, S_IFREG },
	};
	char buf[512];
	size_t used = 0, len;
	struct stat st;
	off_t i;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (size > sizeof(buf))
		size = sizeof(buf);
	for (i = off; i >= 0 && i < (off_t)(sizeof(ents) / sizeof(ents[0])); i++) {
		memset(&st, 0, sizeof(st));
		st.st_ino = ents[i].ino;
		st.st_mode = ents[i].mode;
		len = fuse_add_direntry(req, buf + used, size - used,
					ents[i].name, &st, i + 1);
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
}

static const struct fuse_lowlevel_ops nullfs_ops = {
	.init		= nullfs_init,
	.lookup		= nullfs_lookup,
	.getattr	= nullfs_getattr,
	.setattr	= nullfs_setattr,
	.open		= nullfs_open,
	.read		= nullfs_read,
	.write		= nullfs_write,
	.readdir	= nullfs_readdir,
};

/* "1G", "512M", "4096": a byte count with an optional binary suffix */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static void usage(const char *prog)
{
	printf("usage: %s [options] MOUNTPOINT\n"
	       "\n"
	       "A FUSE \"null\" filesystem for benchmarks: one file, /data, whose\n"
	       "writes are copied into an in-memory ring and whose reads copy out of\n"
	       "it.  Serves requests with a multithreaded libfuse loop.\n"
	       "\n"
	       "nullfs options:\n"
	       "    -o size=BYTES          size of /data (default 1G; K/M/G suffixes)\n"
	       "    -o ring=BYTES          size of the data ring (default and minimum 1M)\n"
	       "    -o no_direct_io        let the kernel page cache sit in front of\n"
	       "                           /data (default: FOPEN_DIRECT_IO)\n"
	       "    -o max_write=N         largest write the kernel sends (e.g. 1048576)\n"
	       "\n"
	       "example: %s -f -o max_write=1048576 /mnt/null &\n"
	       "         fio --filename=/mnt/null/data --direct=1 ...\n"
	       "\n", prog, prog);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

static int nullfs_setup(struct nullfs *nfs, const struct nullfs_cfg *cfg)
{
	uint64_t size = NULLFS_DEF_SIZE, ring = NULLFS_DEF_RING;

	if (cfg->size && parse_size(cfg->size, &size)) {
		fprintf(stderr, "fuse-nullfs: bad size '%s'\n", cfg->size);
		return -EINVAL;
	}
	if (cfg->ring && (parse_size(cfg->ring, &ring) ||
			  ring < NULLFS_MIN_RING || ring > SIZE_MAX / 2)) {
		fprintf(stderr, "fuse-nullfs: bad ring '%s' (at least 1M)\n",
			cfg->ring);
		return -EINVAL;
	}
	nfs->ring = calloc(1, (size_t)ring);
	if (!nfs->ring)
		return -ENOMEM;
	nfs->ring_size = ring;
	nfs->direct_io = !cfg->no_direct_io;
	atomic_init(&nfs->file_size, size);
	clock_gettime(CLOCK_REALTIME, &nfs->birth);
	return 0;
}

static int nullfs_serve(struct fuse_session *se,
			const struct fuse_cmdline_opts *opts)
{
	struct fuse_loop_config *lc;
	int ret;

	if (opts->singlethread)
		return fuse_session_loop(se);
	lc = fuse_loop_cfg_create();
	if (!lc)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(lc, opts->clone_fd);
	/* UINT_MAX means "not given" (libfuse's own default then applies) */
	if (opts->max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(lc, opts->max_idle_threads);
	fuse_loop_cfg_set_max_threads(lc, opts->max_threads);
	ret = fuse_session_loop_mt(se, lc);
	fuse_loop_cfg_destroy(lc);
	return ret;
}

static int nullfs_run(struct fuse_args *args, struct fuse_cmdline_opts *opts,
		      struct nullfs *nfs, struct fuse_lowlevel_ops *ops)
{
	struct fuse_session *se;
	int ret = 1;

	se = fuse_session_new(args, ops, sizeof(*ops), nfs);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se))
		goto out_destroy;
	if (fuse_session_mount(se, opts->mountpoint))
		goto out_signals;
	if (fuse_daemonize(opts->foreground))
		goto out_unmount;
	ret = nullfs_serve(se, opts) ? 1 : 0;
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
	return ret;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_lowlevel_ops ops = nullfs_ops;
	struct fuse_cmdline_opts opts;
	struct nullfs_cfg cfg = { 0 };
	struct nullfs nfs = { 0 };
	int ret = 1;

	if (fuse_parse_cmdline(&args, &opts))
		return 1;
	if (opts.show_help) {
		usage(argv[0]);
		ret = 0;
		goto out_args;
	}
	if (opts.show_version) {
		printf("fuse-nullfs, libfuse %s\n", fuse_pkgversion());
		fuse_lowlevel_version();
		ret = 0;
		goto out_args;
	}
	if (!opts.mountpoint) {
		fprintf(stderr, "usage: %s [options] MOUNTPOINT (--help)\n",
			argv[0]);
		goto out_args;
	}
	if (fuse_opt_parse(&args, &cfg, nullfs_opts, NULL))
		goto out_args;
	nfs.conn_opts = fuse_parse_conn_info_opts(&args);
	if (!nfs.conn_opts)
		goto out_cfg;
	if (nullfs_setup(&nfs, &cfg))
		goto out_conn;
	ret = nullfs_run(&args, &opts, &nfs, &ops);
	free(nfs.ring);
out_conn:
	free(nfs.conn_opts);
out_cfg:
	free(cfg.size);
	free(cfg.ring);
out_args:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
