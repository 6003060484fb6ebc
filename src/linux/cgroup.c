/* ahead: cgroup mounts and per-cgroup usage (see include/ahead/cgroup.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "ahead/cgroup.h"
#include "ahead/error.h"
#include "linux/sysfile_int.h"

const char *ah_cg_v1_name(ah_cg_v1 c)
{
	static const char *const n[AH_CG_V1_N] = {"cpu", "cpuacct", "memory", "blkio"};
	return c >= 0 && c < AH_CG_V1_N ? n[c] : "?";
}

void ah_cgroup_roots_init(ah_cgroup_roots *r)
{
	memset(r, 0, sizeof *r);
	strcpy(r->proc, "/proc");
}

void ah_cgroup_ref_init(ah_cgroup_ref *ref, const char *v2, const char *v1)
{
	ref->v2 = v2;
	for (int i = 0; i < AH_CG_V1_N; i++)
		ref->v1[i] = v1;
}

/* mountinfo escapes blanks and backslashes as \ooo octal. */
static bool is_oct(char c)
{
	return c >= '0' && c <= '7';
}

static int unescape(const ah_tok *t, const char *prefix, char *out)
{
	size_t o = strlen(prefix);
	if (o >= AH_SYSPATH_MAX)
		return AH_ETOOBIG;
	memcpy(out, prefix, o);
	for (size_t i = 0; i < t->n; i++) {
		char c = t->s[i];
		if (c == '\\' && i + 3 < t->n && is_oct(t->s[i + 1]) && is_oct(t->s[i + 2]) && is_oct(t->s[i + 3])) {
			c = (char)((t->s[i + 1] - '0') * 64 + (t->s[i + 2] - '0') * 8 + (t->s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= AH_SYSPATH_MAX)
			return AH_ETOOBIG;
		out[o++] = c;
	}
	/* A trailing slash of the mount point ("/" itself, prefixed) is dropped. */
	while (o > 1 && out[o - 1] == '/')
		o--;
	out[o] = 0;
	return 0;
}

int ah_cgroup_roots_parse_mountinfo(const char *text, size_t len, const char *name, const char *prefix,
				    ah_cgroup_roots *out, char *err, size_t errlen)
{
	if (!text || !out)
		return AH_EINVAL;
	if (!prefix)
		prefix = "";
	if (!name)
		name = "mountinfo";
	char v2[AH_SYSPATH_MAX] = "";
	char v1[AH_CG_V1_N][AH_SYSPATH_MAX];
	memset(v1, 0, sizeof v1);
	ah_lines l;
	ah_lines_init(&l, text, len);
	const char *s;
	size_t n;
	while (ah_lines_next(&l, &s, &n)) {
		if (n > AH_SYSFILE_LINE_MAX)
			return ah_sys_err(err, errlen, AH_EPARSE, name, l.lineno, "line longer than %d bytes",
					  AH_SYSFILE_LINE_MAX);
		ah_tok t[AH_TOKS_MAX];
		int k = ah_tokens(s, n, t, AH_TOKS_MAX);
		if (k == 0)
			continue;
		int sep = -1;
		for (int i = 6; i < k && i < AH_TOKS_MAX; i++)
			if (ah_tok_eq(&t[i], "-")) {
				sep = i;
				break;
			}
		/* Only cgroup lines matter; others may be anything the kernel writes. */
		bool cg = false;
		for (int i = 0; i < k && i < AH_TOKS_MAX; i++)
			if (ah_tok_eq(&t[i], "cgroup") || ah_tok_eq(&t[i], "cgroup2"))
				cg = true;
		if (!cg)
			continue;
		if (k > AH_TOKS_MAX || sep < 0 || sep + 3 >= k)
			return ah_sys_err(err, errlen, AH_EPARSE, name, l.lineno,
					  "expected 'ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - TYPE SOURCE SUPEROPTS'");
		const ah_tok *type = &t[sep + 1], *super = &t[sep + 3];
		char mp[AH_SYSPATH_MAX];
		if (unescape(&t[4], prefix, mp))
			return ah_sys_err(err, errlen, AH_ETOOBIG, name, l.lineno, "mount point too long");
		if (ah_tok_eq(type, "cgroup2")) {
			if (!v2[0])
				memcpy(v2, mp, sizeof v2);
		} else if (ah_tok_eq(type, "cgroup")) {
			const char *p = super->s, *e = super->s + super->n;
			while (p < e) {
				const char *c = memchr(p, ',', (size_t)(e - p));
				if (!c)
					c = e;
				ah_tok o = {p, (size_t)(c - p)};
				for (int i = 0; i < AH_CG_V1_N; i++)
					if (ah_tok_eq(&o, ah_cg_v1_name((ah_cg_v1)i)) && !v1[i][0])
						memcpy(v1[i], mp, sizeof mp);
				p = c + 1;
			}
		}
	}
	memcpy(out->v2, v2, sizeof v2);
	memcpy(out->v1, v1, sizeof v1);
	return 0;
}

int ah_cgroup_roots_detect(const char *proc_root, const char *prefix, ah_cgroup_roots *out, char *err,
			   size_t errlen)
{
	if (!proc_root || !out || strlen(proc_root) >= AH_SYSPATH_MAX)
		return AH_EINVAL;
	char path[AH_SYSPATH_MAX];
	if (ah_sys_path(path, proc_root, "self", "mountinfo"))
		return AH_ETOOBIG;
	size_t cap = AH_SYSFILE_MAX_BYTES + 1, len;
	char *text = malloc(cap);
	if (!text)
		return AH_ENOMEM;
	ah_cgroup_roots r;
	ah_cgroup_roots_init(&r);
	memcpy(r.proc, proc_root, strlen(proc_root) + 1);
	int rc = ah_sysfile_read(path, text, cap, &len, err, errlen);
	if (rc)
		goto out;
	rc = ah_cgroup_roots_parse_mountinfo(text, len, path, prefix, &r, err, errlen);
	if (rc)
		goto out;
	*out = r;
out:
	free(text);
	return rc;
}

/* ---- one cgroup ---- */

/* A cgroup directory opened for the sample: files are opened relative to
 * it, so the kernel walks the long path once per directory, not per file. */
typedef struct {
	const char *path;
	int fd;     /* opened on first need; -1 before, or when not there */
	bool tried;
} cgdir;

typedef struct {
	char *buf;
	size_t cap;
	ah_cgroup_stat *st;
	ah_cgroup_cache *cache; /* may be NULL */
	uint32_t skip;   /* files known absent: not opened */
	uint32_t absent; /* files found absent in this read */
} reader;

void ah_cgroup_cache_init(ah_cgroup_cache *c, int *budget)
{
	c->absent = 0;
	c->budget = budget;
	for (int i = 0; i < AH_CGF_N; i++)
		c->fd[i] = -1;
}

void ah_cgroup_cache_fini(ah_cgroup_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < AH_CGF_N; i++)
		if (c->fd[i] >= 0) {
			close(c->fd[i]);
			c->fd[i] = -1;
			if (c->budget)
				(*c->budget)++;
		}
	c->absent = 0;
}

static int dir_fd(cgdir *d)
{
	if (!d->tried) {
		d->tried = true;
		d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return d->fd;
}

static void refuse(reader *r, int code, const char *msg)
{
	if (r->st->err)
		return;
	r->st->err = code;
	size_t n = strnlen(msg, sizeof r->st->err_msg - 1);
	memcpy(r->st->err_msg, msg, n);
	r->st->err_msg[n] = 0;
}

static void set_bad(ah_field **f, int n)
{
	for (int i = 0; i < n; i++)
		if (f[i]) {
			f[i]->st = AH_FIELD_BAD;
			f[i]->v = 0;
		}
}

/* Reads DIR/FILE into the scratch buffer: 1 read, 0 not there, -1 refused
 * (recorded). dir == NULL: not there. bit is the file's AH_CGF_* bit. A
 * cached descriptor is read again from offset 0 (the kernel regenerates the
 * text); one that went stale (ENODEV: its cgroup removed, maybe made again)
 * is closed and the file opened anew. */
static int load(reader *r, cgdir *dir, const char *file, uint32_t bit, char *path, size_t *len)
{
	if (!dir || (r->skip & bit))
		return 0;
	if (ah_sys_path(path, dir->path, NULL, file)) {
		refuse(r, AH_ETOOBIG, "path too long");
		return -1;
	}
	char e[AH_SYSPATH_MAX + 128];
	int idx = __builtin_ctz(bit), rc;
	int *slot = r->cache ? &r->cache->fd[idx] : NULL;
	if (slot && *slot >= 0) {
		rc = ah_sysfile_read_fd(*slot, path, r->buf, r->cap, len, e, sizeof e);
		if (!rc)
			return 1;
		close(*slot);
		*slot = -1;
		if (r->cache->budget)
			(*r->cache->budget)++;
		if (rc != AH_ENOENT) {
			refuse(r, rc, e);
			return -1;
		}
	}
	int dfd = dir_fd(dir);
	if (dfd < 0)
		return 0;
	int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int en = errno;
		if (en == ENOENT || en == ENOTDIR || en == ENODEV) {
			r->absent |= bit;
			return 0;
		}
		ah_sys_err(e, sizeof e, AH_EIO, path, 0, "cannot open: %s", strerror(en));
		refuse(r, AH_EIO, e);
		return -1;
	}
	rc = ah_sysfile_read_fd(fd, path, r->buf, r->cap, len, e, sizeof e);
	if (!rc && slot && r->cache->budget && *r->cache->budget > 0) {
		*slot = fd;
		(*r->cache->budget)--;
	} else {
		close(fd);
	}
	if (rc == AH_ENOENT)
		return 0;
	if (rc) {
		refuse(r, rc, e);
		return -1;
	}
	return 1;
}

/* A file of one number ("max" where allow_max). Empty: NONE (a cgroup
 * being removed may read empty). Returns 1 when the field was set. */
static int read_single(reader *r, cgdir *dir, const char *file, uint32_t bit, bool allow_max,
		       ah_field_src src, ah_field *f)
{
	char path[AH_SYSPATH_MAX];
	size_t len;
	int k = load(r, dir, file, bit, path, &len);
	if (k <= 0) {
		if (k < 0)
			set_bad(&f, 1);
		return k < 0;
	}
	ah_lines l;
	ah_lines_init(&l, r->buf, len);
	const char *s;
	size_t n;
	ah_tok t[2];
	int got = 0;
	while (ah_lines_next(&l, &s, &n)) {
		int tk = ah_tokens(s, n, t, 1);
		if (tk == 0)
			continue;
		char e[AH_SYSPATH_MAX + 96];
		if (got || tk > 1) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "expected one number");
			refuse(r, AH_EPARSE, e);
			set_bad(&f, 1);
			return 1;
		}
		int rc = ah_tok_value(&t[0], allow_max, f);
		if (rc) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "%s '%.*s'",
				   rc == AH_ERANGE ? "number out of range" : "not a number", (int)(t[0].n > 32 ? 32 : t[0].n),
				   t[0].s);
			refuse(r, AH_EPARSE, e);
			set_bad(&f, 1);
			return 1;
		}
		f->src = src;
		got = 1;
	}
	return got;
}

/* A "key value" file: each key of keys[] found sets its field (scaled by
 * mul); keys absent stay NONE; unknown keys are skipped but must have the
 * same shape. A malformed line refuses the whole file. Returns 1 when the
 * file was there. */
static int read_keyed(reader *r, cgdir *dir, const char *file, uint32_t bit, const char *const *keys,
		      ah_field **f, int nk, uint64_t mul, ah_field_src src)
{
	char path[AH_SYSPATH_MAX];
	size_t len;
	int k = load(r, dir, file, bit, path, &len);
	if (k <= 0) {
		if (k < 0)
			set_bad(f, nk);
		return k < 0;
	}
	ah_field tmp[16];
	memset(tmp, 0, sizeof tmp);
	ah_lines l;
	ah_lines_init(&l, r->buf, len);
	const char *s;
	size_t n;
	while (ah_lines_next(&l, &s, &n)) {
		ah_tok t[3];
		int tk = ah_tokens(s, n, t, 2);
		if (tk == 0)
			continue;
		char e[AH_SYSPATH_MAX + 96];
		if (tk != 2) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "expected 'KEY VALUE'");
			goto bad;
		}
		ah_field v = {0, AH_FIELD_NONE, src};
		int rc = ah_tok_value(&t[1], false, &v);
		if (rc) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "%.*s: %s '%.*s'", (int)(t[0].n > 32 ? 32 : t[0].n),
				   t[0].s, rc == AH_ERANGE ? "number out of range" : "not a number",
				   (int)(t[1].n > 32 ? 32 : t[1].n), t[1].s);
			goto bad;
		}
		for (int i = 0; i < nk; i++) {
			if (!ah_tok_eq(&t[0], keys[i]))
				continue;
			if (tmp[i].st != AH_FIELD_NONE) {
				ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "%s given twice", keys[i]);
				goto bad;
			}
			if (mul > 1 && v.v > UINT64_MAX / mul) {
				ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "%s: number out of range", keys[i]);
				goto bad;
			}
			tmp[i].v = v.v * mul;
			tmp[i].st = AH_FIELD_OK;
			tmp[i].src = src;
		}
		continue;
bad:
		refuse(r, AH_EPARSE, e);
		set_bad(f, nk);
		return 1;
	}
	for (int i = 0; i < nk; i++)
		if (f[i] && tmp[i].st == AH_FIELD_OK)
			*f[i] = tmp[i];
	return 1;
}

/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..." per device, summed. */
static void read_io_stat(reader *r, cgdir *dir)
{
	char path[AH_SYSPATH_MAX];
	size_t len;
	ah_field *f[2] = {&r->st->io_read_bytes, &r->st->io_write_bytes};
	int k = load(r, dir, "io.stat", AH_CGF_IO_STAT, path, &len);
	if (k <= 0) {
		if (k < 0)
			set_bad(f, 2);
		return;
	}
	uint64_t sum[2] = {0, 0};
	ah_lines l;
	ah_lines_init(&l, r->buf, len);
	const char *s;
	size_t n;
	char e[AH_SYSPATH_MAX + 96];
	while (ah_lines_next(&l, &s, &n)) {
		ah_tok t[AH_TOKS_MAX];
		int tk = ah_tokens(s, n, t, AH_TOKS_MAX);
		if (tk == 0)
			continue;
		const char *colon = memchr(t[0].s, ':', t[0].n);
		uint64_t maj, mnr;
		if (tk > AH_TOKS_MAX || !colon ||
		    ah_sysfile_parse_u64(t[0].s, (size_t)(colon - t[0].s), &maj) ||
		    ah_sysfile_parse_u64(colon + 1, t[0].n - (size_t)(colon - t[0].s) - 1, &mnr)) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "expected 'MAJ:MIN KEY=VALUE...'");
			goto bad;
		}
		for (int i = 1; i < tk; i++) {
			const char *eq = memchr(t[i].s, '=', t[i].n);
			uint64_t v;
			if (!eq) {
				ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "expected KEY=VALUE, got '%.*s'",
					   (int)(t[i].n > 32 ? 32 : t[i].n), t[i].s);
				goto bad;
			}
			size_t kl = (size_t)(eq - t[i].s);
			int rc = ah_sysfile_parse_u64(eq + 1, t[i].n - kl - 1, &v);
			if (rc) {
				ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "%.*s: %s", (int)(kl > 32 ? 32 : kl), t[i].s,
					   rc == AH_ERANGE ? "number out of range" : "not a number");
				goto bad;
			}
			int which = kl == 6 && !memcmp(t[i].s, "rbytes", 6) ? 0 : kl == 6 && !memcmp(t[i].s, "wbytes", 6) ? 1 : -1;
			if (which >= 0) {
				/* A sum beyond 2^64 cannot be a byte count: refused, never wrapped. */
				if (sum[which] > UINT64_MAX - v) {
					ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "sum out of range");
					goto bad;
				}
				sum[which] += v;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		f[i]->v = sum[i];
		f[i]->st = AH_FIELD_OK;
		f[i]->src = AH_SRC_V2;
	}
	return;
bad:
	refuse(r, AH_EPARSE, e);
	set_bad(f, 2);
}

/* v1 blkio.throttle.io_service_bytes(_recursive): "MAJ:MIN OP N" lines
 * (Read, Write, Sync, Async, Discard, Total) and a last "Total N". */
static int read_blkio(reader *r, cgdir *dir, const char *file, uint32_t bit)
{
	char path[AH_SYSPATH_MAX];
	size_t len;
	ah_field *f[2] = {&r->st->io_read_bytes, &r->st->io_write_bytes};
	int k = load(r, dir, file, bit, path, &len);
	if (k <= 0) {
		if (k < 0)
			set_bad(f, 2);
		return k < 0;
	}
	uint64_t sum[2] = {0, 0};
	ah_lines l;
	ah_lines_init(&l, r->buf, len);
	const char *s;
	size_t n;
	char e[AH_SYSPATH_MAX + 96];
	while (ah_lines_next(&l, &s, &n)) {
		ah_tok t[4];
		int tk = ah_tokens(s, n, t, 3);
		uint64_t v;
		if (tk == 0)
			continue;
		if (tk == 2 && ah_tok_eq(&t[0], "Total")) {
			if (ah_sysfile_parse_u64(t[1].s, t[1].n, &v))
				goto shape;
			continue;
		}
		if (tk != 3 || !memchr(t[0].s, ':', t[0].n) || ah_sysfile_parse_u64(t[2].s, t[2].n, &v))
			goto shape;
		int which = ah_tok_eq(&t[1], "Read") ? 0 : ah_tok_eq(&t[1], "Write") ? 1 : -1;
		if (which >= 0) {
			if (sum[which] > UINT64_MAX - v) {
				ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "sum out of range");
				goto bad;
			}
			sum[which] += v;
		}
		continue;
shape:
		ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "expected 'MAJ:MIN OP BYTES' or 'Total BYTES'");
		goto bad;
	}
	for (int i = 0; i < 2; i++) {
		f[i]->v = sum[i];
		f[i]->st = AH_FIELD_OK;
		f[i]->src = AH_SRC_V1;
	}
	return 1;
bad:
	refuse(r, AH_EPARSE, e);
	set_bad(f, 2);
	return 1;
}

static void read_psi(reader *r, cgdir *dir)
{
	static const char *const files[AH_PSI_N] = {"cpu.pressure", "memory.pressure", "io.pressure"};
	for (int i = 0; i < AH_PSI_N; i++) {
		char path[AH_SYSPATH_MAX];
		size_t len;
		ah_psi *p = &r->st->psi[i];
		int k = load(r, dir, files[i], AH_CGF_PSI_CPU << i, path, &len);
		if (k <= 0) {
			if (k < 0)
				p->some.st = p->full.st = AH_FIELD_BAD;
			continue;
		}
		char e[AH_SYSPATH_MAX + 128];
		if (ah_psi_parse(r->buf, len, path, p, e, sizeof e)) {
			refuse(r, AH_EPARSE, e);
			memset(p, 0, sizeof *p);
			p->some.st = p->full.st = AH_FIELD_BAD;
			continue;
		}
		p->src = AH_SRC_V2;
	}
}

static bool is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int ah_cgroup_read(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, char *scratch, size_t cap,
		   ah_cgroup_cache *cache, ah_cgroup_stat *out)
{
	if (!roots || !ref || !scratch || cap < 2 || !out)
		return AH_EINVAL;
	/* The directories the ref names, where their mounts exist; opened
	 * only when a file in them must be (cached files need none). */
	char v2[AH_SYSPATH_MAX], v1[AH_CG_V1_N][AH_SYSPATH_MAX];
	cgdir dirs[1 + AH_CG_V1_N];
	cgdir *d2 = NULL, *d1[AH_CG_V1_N] = {NULL};
	int nd = 0, rc = 0;
	ah_cgroup_stat *st = NULL;
	if (ref->v2 && roots->v2[0]) {
		if (ah_sys_path(v2, roots->v2, ref->v2, NULL))
			return AH_ETOOBIG;
		dirs[nd] = (cgdir){v2, -1, false};
		d2 = &dirs[nd++];
	}
	for (int i = 0; i < AH_CG_V1_N; i++) {
		if (!ref->v1[i] || !roots->v1[i][0])
			continue;
		if (ah_sys_path(v1[i], roots->v1[i], ref->v1[i], NULL))
			return AH_ETOOBIG;
		/* co-mounted controllers (cpu,cpuacct) share one directory */
		for (int k = 0; k < i && !d1[i]; k++)
			if (d1[k] && !strcmp(v1[k], v1[i]))
				d1[i] = d1[k];
		if (!d1[i]) {
			dirs[nd] = (cgdir){v1[i], -1, false};
			d1[i] = &dirs[nd++];
		}
	}
	if (!nd)
		return AH_EINVAL;
	st = calloc(1, sizeof *st);
	rc = AH_ENOMEM;
	if (!st)
		goto out;
	reader r = {scratch, cap, st, cache, cache ? cache->absent : 0, 0};

	/* cpu: v2 cpu.stat (the core's accounting, there even without the
	 * cpu controller), else v1 cpuacct.usage. */
	{
		static const char *const k[] = {"usage_usec"};
		ah_field *f[] = {&st->cpu_usage_ns};
		read_keyed(&r, d2, "cpu.stat", AH_CGF_CPU_STAT, k, f, 1, 1000, AH_SRC_V2);
		if (st->cpu_usage_ns.st == AH_FIELD_NONE)
			read_single(&r, d1[AH_CG_V1_CPUACCT], "cpuacct.usage", AH_CGF_CPUACCT_USAGE, false, AH_SRC_V1,
				    &st->cpu_usage_ns);
	}
	/* memory: v2 when memory.current is there (the controller is on),
	 * else the v1 memory controller; peak, stat and events follow the
	 * same version so they describe the same counter. */
	read_single(&r, d2, "memory.current", AH_CGF_MEM_CURRENT, false, AH_SRC_V2, &st->mem_current_bytes);
	if (st->mem_current_bytes.st == AH_FIELD_OK) {
		read_single(&r, d2, "memory.peak", AH_CGF_MEM_PEAK, false, AH_SRC_V2, &st->mem_peak_bytes);
		static const char *const ks[] = {"anon", "file"};
		ah_field *fs[] = {&st->mem_anon_bytes, &st->mem_file_bytes};
		read_keyed(&r, d2, "memory.stat", AH_CGF_MEM_STAT, ks, fs, 2, 1, AH_SRC_V2);
		static const char *const ke[] = {"high", "max", "oom", "oom_kill"};
		ah_field *fe[] = {&st->mem_high_events, &st->mem_max_events, &st->mem_oom_events,
				  &st->mem_oom_kill_events};
		read_keyed(&r, d2, "memory.events", AH_CGF_MEM_EVENTS, ke, fe, 4, 1, AH_SRC_V2);
	} else if (st->mem_current_bytes.st == AH_FIELD_NONE) {
		cgdir *dm = d1[AH_CG_V1_MEMORY];
		read_single(&r, dm, "memory.usage_in_bytes", AH_CGF_V1_USAGE, false, AH_SRC_V1, &st->mem_current_bytes);
		read_single(&r, dm, "memory.max_usage_in_bytes", AH_CGF_V1_MAX_USAGE, false, AH_SRC_V1,
			    &st->mem_peak_bytes);
		static const char *const ks[] = {"total_rss", "total_cache", "rss", "cache"};
		ah_field loc[2] = {{0}};
		ah_field *fs[] = {&st->mem_anon_bytes, &st->mem_file_bytes, &loc[0], &loc[1]};
		read_keyed(&r, dm, "memory.stat", AH_CGF_V1_STAT, ks, fs, 4, 1, AH_SRC_V1);
		/* Without use_hierarchy's totals, the cgroup's own counts. */
		if (st->mem_anon_bytes.st == AH_FIELD_NONE)
			st->mem_anon_bytes = loc[0];
		if (st->mem_file_bytes.st == AH_FIELD_NONE)
			st->mem_file_bytes = loc[1];
		read_single(&r, dm, "memory.failcnt", AH_CGF_V1_FAILCNT, false, AH_SRC_V1, &st->mem_max_events);
		static const char *const ko[] = {"under_oom", "oom_kill"};
		ah_field *fo[] = {&st->mem_under_oom, &st->mem_oom_kill_events};
		read_keyed(&r, dm, "memory.oom_control", AH_CGF_V1_OOM_CONTROL, ko, fo, 2, 1, AH_SRC_V1);
	}
	/* io: v2 io.stat, else v1 blkio (the _recursive file counts the
	 * descendants, as io.stat does; older kernels have only the other). */
	read_io_stat(&r, d2);
	if (st->io_read_bytes.st == AH_FIELD_NONE) {
		cgdir *db = d1[AH_CG_V1_BLKIO];
		if (!read_blkio(&r, db, "blkio.throttle.io_service_bytes_recursive", AH_CGF_BLKIO_RECURSIVE))
			read_blkio(&r, db, "blkio.throttle.io_service_bytes", AH_CGF_BLKIO);
	}
	read_psi(&r, d2);

	/* Removed (before or while we read): every file reads as not there. */
	rc = 0;
	if (st->cpu_usage_ns.st == AH_FIELD_NONE && st->mem_current_bytes.st == AH_FIELD_NONE) {
		bool any = false;
		for (int i = 0; i < nd; i++)
			any = any || is_dir(dirs[i].path);
		if (!any) {
			rc = AH_ENOENT;
			if (cache) /* a cgroup made again under the name starts afresh */
				ah_cgroup_cache_fini(cache);
		}
	}
	if (!rc) {
		*out = *st;
		if (cache)
			cache->absent = r.absent | r.skip;
	}
out:
	free(st);
	for (int i = 0; i < nd; i++)
		if (dirs[i].fd >= 0)
			close(dirs[i].fd);
	return rc;
}
