/* ahead: what a cgroup's limits are now (see include/ahead/enforce.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/enforce.h"
#include "ahead/error.h"
#include "linux/enforce_int.h"
#include "linux/sysfile_int.h"

int ah_enf_dirs_of(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, ah_enf_dirs *out)
{
	out->n = 0;
	if (ref->v2 && roots->v2[0]) {
		if (ah_sys_path(out->path[0], roots->v2, ref->v2, NULL))
			return AH_ETOOBIG;
		out->v2[0] = true;
		out->n = 1;
	}
	for (int i = 0; i < AH_CG_V1_N; i++) {
		if (!ref->v1[i] || !roots->v1[i][0])
			continue;
		char p[AH_SYSPATH_MAX];
		if (ah_sys_path(p, roots->v1[i], ref->v1[i], NULL))
			return AH_ETOOBIG;
		bool dup = false;
		for (size_t k = 0; k < out->n; k++)
			dup = dup || !strcmp(out->path[k], p);
		if (dup)
			continue;
		memcpy(out->path[out->n], p, sizeof p);
		out->v2[out->n++] = false;
	}
	return out->n ? 0 : AH_EINVAL;
}

bool ah_enf_dir_v2(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, char *out)
{
	return ref->v2 && roots->v2[0] && !ah_sys_path(out, roots->v2, ref->v2, NULL);
}

bool ah_enf_dir_v1(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, ah_cg_v1 c, char *out)
{
	return ref->v1[c] && roots->v1[c][0] && !ah_sys_path(out, roots->v1[c], ref->v1[c], NULL);
}

typedef struct {
	char *buf;
	size_t cap;
	char *err;
	size_t errlen;
	bool refused; /* a file was refused: err holds the first */
} rd;

static void note(rd *r, const char *msg)
{
	if (r->refused || !r->err || !r->errlen)
		return;
	snprintf(r->err, r->errlen, "%s", msg);
	r->refused = true;
}

/* DIR/FILE into r->buf: 1 read, 0 not there, -1 refused (noted). */
static int load(rd *r, const char *dir, const char *file, char *path, size_t *len)
{
	if (ah_sys_path(path, dir, NULL, file))
		return 0;
	char e[AH_SYSPATH_MAX + 128];
	int rc = ah_sysfile_read(path, r->buf, r->cap, len, e, sizeof e);
	if (rc == AH_ENOENT)
		return 0;
	if (rc) {
		note(r, e);
		return -1;
	}
	return 1;
}

static void bad(ah_field *f)
{
	f->v = 0;
	f->st = AH_FIELD_BAD;
}

static void refuse(rd *r, const char *path, int line, const char *why, ah_field *f)
{
	char e[AH_SYSPATH_MAX + 128];
	ah_sys_err(e, sizeof e, AH_EPARSE, path, line, "%s", why);
	note(r, e);
	if (f)
		bad(f);
}

/* One token as a limit: "max", "-1" and v1's huge values are NONE. */
static int limit_tok(const ah_tok *t, ah_field *f, ah_field_src src)
{
	if (ah_tok_eq(t, "max") || ah_tok_eq(t, "-1")) {
		*f = (ah_field){AH_LIMIT_NONE, AH_FIELD_MAX, src};
		return 0;
	}
	uint64_t v;
	if (ah_sysfile_parse_u64(t->s, t->n, &v))
		return AH_EINVAL;
	if (src == AH_SRC_V1 && v >= AH_ENF_V1_UNLIMITED)
		*f = (ah_field){AH_LIMIT_NONE, AH_FIELD_MAX, src};
	else
		*f = (ah_field){v, AH_FIELD_OK, src};
	return 0;
}

/* A file of one limit value: 1 read, 0 absent, -1 refused. */
static int read_limit(rd *r, const char *dir, const char *file, ah_field_src src, ah_field *f)
{
	char path[AH_SYSPATH_MAX];
	size_t len;
	int k = load(r, dir, file, path, &len);
	if (k <= 0) {
		if (k < 0)
			bad(f);
		return k;
	}
	ah_tok t[2];
	int n = ah_tokens(r->buf, strcspn(r->buf, "\n"), t, 1);
	if (n != 1 || limit_tok(&t[0], f, src)) {
		refuse(r, path, 1, "expected one number, 'max' or -1", f);
		return -1;
	}
	return 1;
}

/* v2 cpu.max: "QUOTA PERIOD" (QUOTA "max"). */
static int read_cpu_max(rd *r, const char *dir, ah_enforce_state *s)
{
	char path[AH_SYSPATH_MAX];
	size_t len;
	int k = load(r, dir, "cpu.max", path, &len);
	if (k <= 0) {
		if (k < 0) {
			bad(&s->cpu_quota_us);
			bad(&s->cpu_period_us);
		}
		return k;
	}
	ah_tok t[3];
	int n = ah_tokens(r->buf, strcspn(r->buf, "\n"), t, 2);
	uint64_t p;
	if (n != 2 || limit_tok(&t[0], &s->cpu_quota_us, AH_SRC_V2) || ah_sysfile_parse_u64(t[1].s, t[1].n, &p) ||
	    p == 0) {
		refuse(r, path, 1, "expected 'QUOTA PERIOD' (QUOTA a number or max)", &s->cpu_quota_us);
		bad(&s->cpu_period_us);
		return -1;
	}
	s->cpu_period_us = (ah_field){p, AH_FIELD_OK, AH_SRC_V2};
	return 1;
}

static ah_io_limit *io_slot(ah_enforce_state *s, uint32_t maj, uint32_t mnr)
{
	for (size_t i = 0; i < s->n_io; i++)
		if (s->io[i].major == maj && s->io[i].minor == mnr)
			return &s->io[i];
	if (s->n_io == AH_ENFORCE_IO_DEVICES_MAX)
		return NULL;
	ah_io_limit *l = &s->io[s->n_io++];
	*l = (ah_io_limit){maj, mnr, AH_LIMIT_NONE, AH_LIMIT_NONE};
	return l;
}

static bool parse_dev(const ah_tok *t, uint32_t *maj, uint32_t *mnr)
{
	const char *c = memchr(t->s, ':', t->n);
	uint64_t a, b;
	if (!c || ah_sysfile_parse_u64(t->s, (size_t)(c - t->s), &a) ||
	    ah_sysfile_parse_u64(c + 1, t->n - (size_t)(c - t->s) - 1, &b) || a > UINT32_MAX || b > UINT32_MAX)
		return false;
	*maj = (uint32_t)a;
	*mnr = (uint32_t)b;
	return true;
}

/* v2 io.max: "MAJ:MIN rbps=N wbps=N riops=N wiops=N" per limited device. */
static int read_io_max(rd *r, const char *dir, ah_enforce_state *s)
{
	char path[AH_SYSPATH_MAX];
	size_t len;
	int k = load(r, dir, "io.max", path, &len);
	if (k <= 0) {
		s->io_bad = k < 0;
		return k;
	}
	ah_lines l;
	ah_lines_init(&l, r->buf, len);
	const char *line;
	size_t n;
	while (ah_lines_next(&l, &line, &n)) {
		ah_tok t[AH_TOKS_MAX];
		int tk = ah_tokens(line, n, t, AH_TOKS_MAX);
		uint32_t maj, mnr;
		if (tk == 0)
			continue;
		if (tk > AH_TOKS_MAX || !parse_dev(&t[0], &maj, &mnr))
			goto shape;
		ah_io_limit *io = io_slot(s, maj, mnr);
		if (!io)
			goto shape;
		for (int i = 1; i < tk; i++) {
			const char *eq = memchr(t[i].s, '=', t[i].n);
			if (!eq)
				goto shape;
			ah_tok key = {t[i].s, (size_t)(eq - t[i].s)}, val = {eq + 1, t[i].n - key.n - 1};
			ah_field f;
			if (limit_tok(&val, &f, AH_SRC_V2))
				goto shape;
			if (ah_tok_eq(&key, "rbps"))
				io->rbps = f.v;
			else if (ah_tok_eq(&key, "wbps"))
				io->wbps = f.v;
		}
		continue;
shape:
		refuse(r, path, l.lineno, "expected 'MAJ:MIN KEY=VALUE...'", NULL);
		s->io_bad = true;
		s->n_io = 0;
		return -1;
	}
	return 1;
}

/* v1 blkio.throttle.{read,write}_bps_device: "MAJ:MIN BYTES" per device. */
static int read_blkio(rd *r, const char *dir, const char *file, bool write, ah_enforce_state *s)
{
	char path[AH_SYSPATH_MAX];
	size_t len;
	int k = load(r, dir, file, path, &len);
	if (k <= 0) {
		s->io_bad = s->io_bad || k < 0;
		return k;
	}
	ah_lines l;
	ah_lines_init(&l, r->buf, len);
	const char *line;
	size_t n;
	while (ah_lines_next(&l, &line, &n)) {
		ah_tok t[3];
		int tk = ah_tokens(line, n, t, 2);
		uint32_t maj, mnr;
		uint64_t v;
		if (tk == 0)
			continue;
		ah_io_limit *io = NULL;
		if (tk != 2 || !parse_dev(&t[0], &maj, &mnr) || ah_sysfile_parse_u64(t[1].s, t[1].n, &v) ||
		    !(io = io_slot(s, maj, mnr))) {
			refuse(r, path, l.lineno, "expected 'MAJ:MIN BYTES'", NULL);
			s->io_bad = true;
			s->n_io = 0;
			return -1;
		}
		/* 0 removes a v1 throttle: no limit. */
		if (write)
			io->wbps = v ? v : AH_LIMIT_NONE;
		else
			io->rbps = v ? v : AH_LIMIT_NONE;
	}
	return 1;
}

static bool exists(const char *dir, const char *file)
{
	char p[AH_SYSPATH_MAX];
	return !ah_sys_path(p, dir, NULL, file) && access(p, F_OK) == 0;
}

int ah_enforce_read(const ah_cgroup_roots *roots, const ah_cgroup_ref *ref, ah_enforce_state *out, char *err,
		    size_t errlen)
{
	if (!roots || !ref || !out)
		return AH_EINVAL;
	ah_enf_dirs dirs;
	int rc = ah_enf_dirs_of(roots, ref, &dirs);
	if (rc)
		return rc;
	if (err && errlen)
		err[0] = 0;
	ah_enforce_state *s = calloc(1, sizeof *s);
	rd r = {malloc(AH_SYSFILE_MAX_BYTES + 1), AH_SYSFILE_MAX_BYTES + 1, err, errlen, false};
	rc = AH_ENOMEM;
	if (!s || !r.buf)
		goto out;
	rc = ah_cgroup_read(roots, ref, r.buf, r.cap, NULL, &s->use);
	if (rc)
		goto out;
	if (s->use.err)
		note(&r, s->use.err_msg);

	char v2[AH_SYSPATH_MAX], d[AH_SYSPATH_MAX];
	bool has2 = ah_enf_dir_v2(roots, ref, v2);
	/* Each dimension where its controller's file is: v2 first. */
	if (has2 && read_cpu_max(&r, v2, s))
		s->cpu_ver = AH_ENF_V2;
	else if (ah_enf_dir_v1(roots, ref, AH_CG_V1_CPU, d) &&
		 read_limit(&r, d, "cpu.cfs_quota_us", AH_SRC_V1, &s->cpu_quota_us)) {
		s->cpu_ver = AH_ENF_V1;
		read_limit(&r, d, "cpu.cfs_period_us", AH_SRC_V1, &s->cpu_period_us);
	}
	if (has2 && read_limit(&r, v2, "memory.max", AH_SRC_V2, &s->mem_max_bytes)) {
		s->mem_ver = AH_ENF_V2;
		read_limit(&r, v2, "memory.high", AH_SRC_V2, &s->mem_high_bytes);
	} else if (ah_enf_dir_v1(roots, ref, AH_CG_V1_MEMORY, d) &&
		   read_limit(&r, d, "memory.limit_in_bytes", AH_SRC_V1, &s->mem_max_bytes)) {
		s->mem_ver = AH_ENF_V1;
		read_limit(&r, d, "memory.soft_limit_in_bytes", AH_SRC_V1, &s->mem_high_bytes);
		char path[AH_SYSPATH_MAX];
		size_t len;
		s->mem_oom_kill_disable = (ah_field){0};
		if (load(&r, d, "memory.oom_control", path, &len) > 0) {
			const char *p = strstr(r.buf, "oom_kill_disable ");
			if (p && (p[17] == '0' || p[17] == '1'))
				s->mem_oom_kill_disable = (ah_field){(uint64_t)(p[17] - '0'), AH_FIELD_OK, AH_SRC_V1};
			else
				refuse(&r, path, 1, "expected 'oom_kill_disable 0|1'", &s->mem_oom_kill_disable);
		}
	}
	if (has2 && read_io_max(&r, v2, s)) {
		s->io_ver = AH_ENF_V2;
	} else if (ah_enf_dir_v1(roots, ref, AH_CG_V1_BLKIO, d)) {
		s->n_io = 0;
		s->io_bad = false;
		int a = read_blkio(&r, d, "blkio.throttle.read_bps_device", false, s);
		int b = a >= 0 ? read_blkio(&r, d, "blkio.throttle.write_bps_device", true, s) : 0;
		if (a || b)
			s->io_ver = AH_ENF_V1;
	}
	s->has_kill = has2 && exists(v2, "cgroup.kill");
	*out = *s;
	rc = 0;
out:
	free(r.buf);
	free(s);
	return rc;
}

void ah_enforce_state_limits(const ah_enforce_state *s, ah_limits *out)
{
	ah_limits l;
	ah_limits_init(&l);
	if (s->cpu_ver && s->cpu_quota_us.st != AH_FIELD_BAD && s->cpu_quota_us.st != AH_FIELD_NONE) {
		uint64_t p = s->cpu_period_us.st == AH_FIELD_OK ? s->cpu_period_us.v : AH_CPU_PERIOD_DEFAULT_US;
		l.cpu_period_us = p;
		if (s->cpu_quota_us.st == AH_FIELD_MAX)
			l.cpu_millicores = AH_LIMIT_NONE;
		else
			l.cpu_millicores = (s->cpu_quota_us.v * 1000 + p - 1) / p;
	}
	if (s->mem_ver && (s->mem_max_bytes.st == AH_FIELD_OK || s->mem_max_bytes.st == AH_FIELD_MAX))
		l.mem_max_bytes = s->mem_max_bytes.v;
	if (s->mem_ver && (s->mem_high_bytes.st == AH_FIELD_OK || s->mem_high_bytes.st == AH_FIELD_MAX))
		l.mem_high_bytes = s->mem_high_bytes.v;
	if (s->io_ver && !s->io_bad) {
		l.n_io = s->n_io;
		memcpy(l.io, s->io, s->n_io * sizeof s->io[0]);
	}
	*out = l;
}
