/* ahead: the host's /proc files (see include/ahead/host.h). */
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/host.h"
#include "linux/sysfile_int.h"

typedef struct {
	const char *proc;
	char *buf;
	size_t cap;
	ah_host_stat *st;
} hreader;

static void refuse(hreader *r, int code, const char *msg)
{
	if (r->st->err)
		return;
	r->st->err = code;
	size_t n = strnlen(msg, sizeof r->st->err_msg - 1);
	memcpy(r->st->err_msg, msg, n);
	r->st->err_msg[n] = 0;
}

static void bad(ah_field *const *f, int n)
{
	for (int i = 0; i < n; i++) {
		f[i]->v = 0;
		f[i]->st = AH_FIELD_BAD;
		f[i]->src = AH_SRC_PROC;
	}
}

static void ok(ah_field *f, uint64_t v)
{
	f->v = v;
	f->st = AH_FIELD_OK;
	f->src = AH_SRC_PROC;
}

static int load(hreader *r, const char *rel, char *path, size_t *len)
{
	if (ah_sys_path(path, r->proc, NULL, rel)) {
		refuse(r, AH_ETOOBIG, "path too long");
		return -1;
	}
	char e[AH_SYSPATH_MAX + 128];
	int rc = ah_sysfile_read(path, r->buf, r->cap, len, e, sizeof e);
	if (rc == AH_ENOENT)
		return 0;
	if (rc) {
		refuse(r, rc, e);
		return -1;
	}
	return 1;
}

static void read_stat(hreader *r)
{
	char path[AH_SYSPATH_MAX], e[AH_SYSPATH_MAX + 96];
	size_t len;
	ah_field *f[] = {&r->st->cpu_busy_ticks, &r->st->cpu_total_ticks};
	int k = load(r, "stat", path, &len);
	if (k <= 0) {
		if (k < 0)
			bad(f, 2);
		return;
	}
	ah_lines l;
	ah_lines_init(&l, r->buf, len);
	const char *s;
	size_t n;
	bool seen = false;
	int ncpu = 0;
	uint64_t busy = 0, total = 0;
	while (ah_lines_next(&l, &s, &n)) {
		if (n >= 3 && !memcmp(s, "cpu", 3) && n > 3 && s[3] >= '0' && s[3] <= '9') {
			ncpu++;
			continue;
		}
		if (!(n >= 4 && !memcmp(s, "cpu ", 4)))
			continue;
		ah_tok t[AH_TOKS_MAX];
		int tk = ah_tokens(s, n, t, AH_TOKS_MAX);
		/* user nice system idle: always; iowait irq softirq steal guest
		 * guest_nice: since 2.6.x; more columns may come. */
		if (seen || tk < 5 || tk > AH_TOKS_MAX) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno,
				   seen ? "a second 'cpu' line" : "expected 'cpu USER NICE SYSTEM IDLE ...'");
			goto refused;
		}
		uint64_t v[10] = {0};
		for (int i = 1; i < tk && i <= 10; i++) {
			int rc = ah_sysfile_parse_u64(t[i].s, t[i].n, &v[i - 1]);
			if (rc) {
				ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "column %d: %s", i + 1,
					   rc == AH_ERANGE ? "number out of range" : "not a number");
				goto refused;
			}
		}
		/* busy: user nice system irq softirq steal; idle: idle iowait. */
		long double b = (long double)v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
		long double tt = b + v[3] + v[4];
		if (tt > (long double)UINT64_MAX) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "sum out of range");
			goto refused;
		}
		busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
		total = busy + v[3] + v[4];
		seen = true;
	}
	if (seen) {
		ok(f[0], busy);
		ok(f[1], total);
		r->st->ncpu = ncpu;
	}
	return;
refused:
	refuse(r, AH_EPARSE, e);
	bad(f, 2);
}

static void read_meminfo(hreader *r)
{
	static const char *const keys[] = {"MemTotal:", "MemFree:", "MemAvailable:", "Buffers:", "Cached:",
					   "SwapTotal:", "SwapFree:"};
	ah_host_stat *st = r->st;
	ah_field *f[] = {&st->mem_total_bytes, &st->mem_free_bytes, &st->mem_available_bytes, &st->mem_buffers_bytes,
			 &st->mem_cached_bytes, &st->swap_total_bytes, &st->swap_free_bytes};
	enum { NK = sizeof keys / sizeof *keys };
	char path[AH_SYSPATH_MAX], e[AH_SYSPATH_MAX + 96];
	size_t len;
	int k = load(r, "meminfo", path, &len);
	if (k <= 0) {
		if (k < 0)
			bad(f, NK);
		return;
	}
	ah_field tmp[NK];
	memset(tmp, 0, sizeof tmp);
	ah_lines l;
	ah_lines_init(&l, r->buf, len);
	const char *s;
	size_t n;
	while (ah_lines_next(&l, &s, &n)) {
		ah_tok t[4];
		int tk = ah_tokens(s, n, t, 3);
		if (tk == 0)
			continue;
		/* "Key: N kB" or "Key: N" (HugePages_Total has no unit). */
		if (tk > 3 || tk < 2 || t[0].s[t[0].n - 1] != ':' || (tk == 3 && !ah_tok_eq(&t[2], "kB"))) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "expected 'KEY: VALUE [kB]'");
			goto refused;
		}
		for (int i = 0; i < NK; i++) {
			if (!ah_tok_eq(&t[0], keys[i]))
				continue;
			uint64_t v;
			int rc = ah_sysfile_parse_u64(t[1].s, t[1].n, &v);
			if (rc || tk != 3 || v > UINT64_MAX / 1024) {
				ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "%s %s", keys[i],
					   tk != 3 ? "without 'kB'" : rc == AH_EINVAL ? "not a number" : "out of range");
				goto refused;
			}
			if (tmp[i].st != AH_FIELD_NONE) {
				ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "%s given twice", keys[i]);
				goto refused;
			}
			ok(&tmp[i], v * 1024);
		}
	}
	for (int i = 0; i < NK; i++)
		if (tmp[i].st == AH_FIELD_OK)
			*f[i] = tmp[i];
	return;
refused:
	refuse(r, AH_EPARSE, e);
	bad(f, NK);
}

static void read_net_dev(hreader *r)
{
	ah_field *f[] = {&r->st->net_rx_bytes, &r->st->net_tx_bytes};
	char path[AH_SYSPATH_MAX], e[AH_SYSPATH_MAX + 96];
	size_t len;
	int k = load(r, "net/dev", path, &len);
	if (k <= 0) {
		if (k < 0)
			bad(f, 2);
		return;
	}
	uint64_t rx = 0, tx = 0;
	ah_lines l;
	ah_lines_init(&l, r->buf, len);
	const char *s;
	size_t n;
	while (ah_lines_next(&l, &s, &n)) {
		/* Two header lines, then "IFACE: RX(8 columns) TX(8 columns)". */
		if (l.lineno <= 2)
			continue;
		const char *colon = memchr(s, ':', n);
		if (!colon && n == strspn(s, " \t"))
			continue;
		ah_tok t[AH_TOKS_MAX];
		int tk = colon ? ah_tokens(colon + 1, n - (size_t)(colon + 1 - s), t, AH_TOKS_MAX) : 0;
		if (!colon || tk != 16) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "expected 'IFACE:' and 16 counters");
			goto refused;
		}
		ah_tok name;
		int nk = ah_tokens(s, (size_t)(colon - s), &name, 1);
		uint64_t vr, vt;
		for (int i = 0; i < 16; i++) {
			uint64_t v;
			if (ah_sysfile_parse_u64(t[i].s, t[i].n, &v)) {
				ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "column %d: not a number", i + 2);
				goto refused;
			}
		}
		if (nk != 1) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "expected one interface name");
			goto refused;
		}
		ah_sysfile_parse_u64(t[0].s, t[0].n, &vr);
		ah_sysfile_parse_u64(t[8].s, t[8].n, &vt);
		if (ah_tok_eq(&name, "lo"))
			continue;
		if (rx > UINT64_MAX - vr || tx > UINT64_MAX - vt) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "sum out of range");
			goto refused;
		}
		rx += vr;
		tx += vt;
	}
	ok(f[0], rx);
	ok(f[1], tx);
	return;
refused:
	refuse(r, AH_EPARSE, e);
	bad(f, 2);
}

static bool has_prefix(const char *s, size_t n, const char *p)
{
	size_t m = strlen(p);
	return n >= m && !memcmp(s, p, m);
}

bool ah_host_disk_is_whole(const char *s, size_t n)
{
	static const char *const virt[] = {"loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd"};
	if (!s || !n)
		return false;
	for (size_t i = 0; i < sizeof virt / sizeof *virt; i++)
		if (has_prefix(s, n, virt[i]))
			return false;
	bool digit_end = s[n - 1] >= '0' && s[n - 1] <= '9';
	/* nvme0n1, mmcblk0: the disk ends in a digit; "p" + digits is a partition. */
	if (has_prefix(s, n, "nvme") || has_prefix(s, n, "mmcblk")) {
		size_t i = n;
		while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
			i--;
		return !(i > 0 && i < n && s[i - 1] == 'p');
	}
	/* sda, vda, xvda, hda: letters; a digit at the end is a partition. */
	return !digit_end;
}

static void read_diskstats(hreader *r)
{
	ah_field *f[] = {&r->st->disk_read_bytes, &r->st->disk_write_bytes};
	char path[AH_SYSPATH_MAX], e[AH_SYSPATH_MAX + 96];
	size_t len;
	int k = load(r, "diskstats", path, &len);
	if (k <= 0) {
		if (k < 0)
			bad(f, 2);
		return;
	}
	uint64_t rd = 0, wr = 0;
	ah_lines l;
	ah_lines_init(&l, r->buf, len);
	const char *s;
	size_t n;
	while (ah_lines_next(&l, &s, &n)) {
		ah_tok t[AH_TOKS_MAX];
		int tk = ah_tokens(s, n, t, AH_TOKS_MAX);
		if (tk == 0)
			continue;
		/* MAJ MIN NAME reads merged sectors_read ms writes merged
		 * sectors_written ... : 14 columns, 18 since 4.18, 20 since 5.5. */
		if (tk < 14 || tk > AH_TOKS_MAX) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "expected 'MAJ MIN NAME' and at least 11 counters");
			goto refused;
		}
		uint64_t v[AH_TOKS_MAX];
		for (int i = 0; i < tk; i++) {
			if (i == 2)
				continue;
			if (ah_sysfile_parse_u64(t[i].s, t[i].n, &v[i])) {
				ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "column %d: not a number", i + 1);
				goto refused;
			}
		}
		if (!ah_host_disk_is_whole(t[2].s, t[2].n))
			continue;
		if (v[5] > UINT64_MAX / 512 || v[9] > UINT64_MAX / 512 || rd > UINT64_MAX - v[5] * 512 ||
		    wr > UINT64_MAX - v[9] * 512) {
			ah_sys_err(e, sizeof e, AH_EPARSE, path, l.lineno, "sum out of range");
			goto refused;
		}
		rd += v[5] * 512;
		wr += v[9] * 512;
	}
	ok(f[0], rd);
	ok(f[1], wr);
	return;
refused:
	refuse(r, AH_EPARSE, e);
	bad(f, 2);
}

static void read_psi(hreader *r)
{
	static const char *const files[AH_PSI_N] = {"pressure/cpu", "pressure/memory", "pressure/io"};
	for (int i = 0; i < AH_PSI_N; i++) {
		char path[AH_SYSPATH_MAX], e[AH_SYSPATH_MAX + 128];
		size_t len;
		ah_psi *p = &r->st->psi[i];
		int k = load(r, files[i], path, &len);
		if (k <= 0) {
			if (k < 0)
				p->some.st = p->full.st = AH_FIELD_BAD;
			continue;
		}
		if (ah_psi_parse(r->buf, len, path, p, e, sizeof e)) {
			refuse(r, AH_EPARSE, e);
			memset(p, 0, sizeof *p);
			p->some.st = p->full.st = AH_FIELD_BAD;
			continue;
		}
		p->src = AH_SRC_PROC;
	}
}

int ah_host_read(const char *proc_root, char *scratch, size_t cap, ah_host_stat *out)
{
	if (!proc_root || !scratch || cap < 2 || !out)
		return AH_EINVAL;
	ah_host_stat st;
	memset(&st, 0, sizeof st);
	hreader r = {proc_root, scratch, cap, &st};
	read_stat(&r);
	read_meminfo(&r);
	read_psi(&r);
	read_net_dev(&r);
	read_diskstats(&r);
	*out = st;
	return 0;
}
