/* ahead: the collector (see include/ahead/collector.h). */
#include <stdlib.h>
#include <string.h>

#include "ahead/collector.h"
#include "ahead/error.h"
#include "ahead/names.h"

typedef struct {
	uint64_t v;
	bool ok;
} ctr;

enum { EV_HIGH, EV_MAX, EV_OOM, EV_OOM_KILL, EV_N };

typedef struct {
	char *workload;
	char *v2, *v1[AH_CG_V1_N];
	ah_cgroup_ref ref;
	ah_collector_view view;
	/* previous counters */
	ctr cpu, io_r, io_w, net_rx, net_tx, busy, total;
	ctr psi[AH_PSI_N][2];
	ctr ev[EV_N];
	int64_t prev_ns;
	ah_cgroup_cache cache; /* kept descriptors, files not there (skipped until the next probe) */
} entry;

/* Files found absent are looked for again every this many samples (a
 * controller switched on later, a kernel file that appears). */
#define PROBE_EVERY 60

struct ah_collector {
	ah_cgroup_roots roots;
	long user_hz;
	char *host_name;
	entry *e;
	size_t n, cap;
	entry host;
	int64_t last_ns;
	uint64_t samples;
	int fd_budget; /* descriptors the caches may still keep */
	char *buf;
	size_t bufcap;
};

void ah_collector_opts_init(ah_collector_opts *o)
{
	o->user_hz = 100;
	o->host_workload = "host";
	o->max_open_files = 2048;
}

static char *dup_or_null(const char *s, bool *fail)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

static void entry_fini(entry *e)
{
	ah_cgroup_cache_fini(&e->cache);
	free(e->workload);
	free(e->v2);
	for (int i = 0; i < AH_CG_V1_N; i++)
		free(e->v1[i]);
}

int ah_collector_new(const ah_cgroup_roots *roots, const ah_collector_opts *opts, ah_collector **out)
{
	if (!roots || !out)
		return AH_EINVAL;
	ah_collector_opts o;
	ah_collector_opts_init(&o);
	if (opts)
		o = *opts;
	if (o.user_hz <= 0 || o.user_hz > 1000000 || o.max_open_files < 0)
		return AH_EINVAL;
	if (o.host_workload && ah_name_check_workload(o.host_workload))
		return AH_EINVAL;
	int rc = AH_ENOMEM;
	ah_collector *c = calloc(1, sizeof *c);
	if (!c)
		goto out;
	c->roots = *roots;
	c->user_hz = o.user_hz;
	c->fd_budget = o.max_open_files;
	c->bufcap = AH_SYSFILE_MAX_BYTES + 1;
	c->buf = malloc(c->bufcap);
	if (!c->buf)
		goto out;
	if (o.host_workload) {
		c->host_name = strdup(o.host_workload);
		if (!c->host_name)
			goto out;
		c->host.view.workload = c->host_name;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	ah_collector_free(c);
	return rc;
}

void ah_collector_free(ah_collector *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_fini(&c->e[i]);
	free(c->e);
	free(c->host_name);
	free(c->buf);
	free(c);
}

static entry *find(const ah_collector *c, const char *w)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->e[i].workload, w))
			return &c->e[i];
	return NULL;
}

static void rebind(entry *e)
{
	e->ref.v2 = e->v2;
	for (int i = 0; i < AH_CG_V1_N; i++)
		e->ref.v1[i] = e->v1[i];
	e->view.workload = e->workload;
}

int ah_collector_add(ah_collector *c, const char *workload, const ah_cgroup_ref *ref)
{
	if (!c || !workload || !ref || ah_name_check_workload(workload))
		return AH_EINVAL;
	if ((c->host_name && !strcmp(c->host_name, workload)) || find(c, workload))
		return AH_EEXIST;
	bool named = ref->v2 && c->roots.v2[0];
	for (int i = 0; i < AH_CG_V1_N; i++)
		named = named || (ref->v1[i] && c->roots.v1[i][0]);
	if (!named)
		return AH_EINVAL;
	if (c->n >= AH_COLLECTOR_CGROUPS_MAX)
		return AH_ETOOBIG;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		entry *ne = realloc(c->e, nc * sizeof *ne);
		if (!ne)
			return AH_ENOMEM;
		c->e = ne;
		c->cap = nc;
		for (size_t i = 0; i < c->n; i++)
			rebind(&c->e[i]);
	}
	entry e;
	memset(&e, 0, sizeof e);
	bool fail = false;
	e.workload = dup_or_null(workload, &fail);
	e.v2 = dup_or_null(ref->v2, &fail);
	for (int i = 0; i < AH_CG_V1_N; i++)
		e.v1[i] = dup_or_null(ref->v1[i], &fail);
	if (fail) {
		entry_fini(&e);
		return AH_ENOMEM;
	}
	c->e[c->n] = e;
	rebind(&c->e[c->n]);
	ah_cgroup_cache_init(&c->e[c->n].cache, &c->fd_budget);
	c->n++;
	return 0;
}

int ah_collector_remove(ah_collector *c, const char *workload)
{
	if (!c || !workload)
		return AH_EINVAL;
	entry *e = find(c, workload);
	if (!e)
		return AH_ENOENT;
	size_t i = (size_t)(e - c->e);
	entry_fini(e);
	memmove(&c->e[i], &c->e[i + 1], (c->n - i - 1) * sizeof *c->e);
	c->n--;
	for (size_t k = i; k < c->n; k++)
		rebind(&c->e[k]);
	return 0;
}

size_t ah_collector_count(const ah_collector *c)
{
	return c ? c->n : 0;
}

int ah_collector_view_get(const ah_collector *c, size_t i, ah_collector_view *out)
{
	if (!c || !out)
		return AH_EINVAL;
	if (i < c->n) {
		*out = c->e[i].view;
		return 0;
	}
	if (i == c->n && c->host_name) {
		*out = c->host.view;
		return 0;
	}
	return AH_ENOENT;
}

/* Advances a counter: true with *rate (per second) when the previous value
 * is known and the counter did not go down. A decrease (reset, wrap) or an
 * unreadable value restarts the rate. */
static bool step(ctr *p, const ah_field *f, double dt_s, double *rate)
{
	bool r = false;
	if (f->st == AH_FIELD_OK) {
		if (p->ok && f->v >= p->v) {
			*rate = (double)(f->v - p->v) / dt_s;
			r = true;
		}
		p->v = f->v;
		p->ok = true;
	} else {
		p->ok = false;
	}
	return r;
}

static bool step_count(ctr *p, const ah_field *f, uint64_t *delta)
{
	bool r = false;
	if (f->st == AH_FIELD_OK) {
		if (p->ok && f->v >= p->v) {
			*delta = f->v - p->v;
			r = true;
		}
		p->v = f->v;
		p->ok = true;
	} else {
		p->ok = false;
	}
	return r;
}

static void reset_counters(entry *e)
{
	e->cpu = e->io_r = e->io_w = e->net_rx = e->net_tx = e->busy = e->total = (ctr){0, false};
	memset(e->psi, 0, sizeof e->psi);
	memset(e->ev, 0, sizeof e->ev);
	e->prev_ns = 0;
}

typedef struct {
	ah_sample_batch *b;
	const char *w;
	int64_t t;
	size_t n;
	int rc;
} emitter;

static void emit(emitter *m, const char *dim, double v)
{
	if (m->rc)
		return;
	m->rc = ah_sample_batch_add(m->b, m->w, dim, m->t, v);
	if (!m->rc)
		m->n++;
}

static void emit_gauge(emitter *m, const char *dim, const ah_field *f)
{
	if (f->st == AH_FIELD_OK)
		emit(m, dim, (double)f->v);
}

static const char *const psi_dims[AH_PSI_N][2] = {
	{"psi_cpu_some", "psi_cpu_full"}, {"psi_memory_some", "psi_memory_full"}, {"psi_io_some", "psi_io_full"}};

/* PSI as percent of the interval stalled, from the total counter. */
static void emit_psi(emitter *m, ctr p[AH_PSI_N][2], const ah_psi *psi, double dt_s, bool host)
{
	for (int i = 0; i < AH_PSI_N; i++)
		for (int k = 0; k < 2; k++) {
			const ah_psi_line *l = k ? &psi[i].full : &psi[i].some;
			ah_field f = {l->total_us, l->st, psi[i].src};
			double r;
			if (step(&p[i][k], &f, dt_s, &r) && !(host && i == AH_PSI_CPU && k == 1)) {
				double pct = r / 1e6 * 100.0; /* us stalled per s -> percent */
				emit(m, psi_dims[i][k], pct > 100.0 ? 100.0 : pct);
			}
		}
}

static void sample_cgroup(ah_collector *c, entry *e, int64_t now, emitter *m)
{
	ah_collector_view *v = &e->view;
	ah_cgroup_stat st;
	if (c->samples % PROBE_EVERY == 0)
		e->cache.absent = 0;
	int rc = ah_cgroup_read(&c->roots, &e->ref, c->buf, c->bufcap, &e->cache, &st);
	v->cpu_ok = v->io_ok = v->net_ok = false;
	if (rc) {
		/* Gone (or unreadable as a whole): rates restart if it returns. */
		memset(&v->stat, 0, sizeof v->stat);
		v->state = AH_CG_GONE;
		v->stat.err = rc;
		v->mem_peak_seen_bytes = 0;
		v->sampled_ns = now;
		reset_counters(e);
		ah_cgroup_cache_fini(&e->cache);
		return;
	}
	double dt = e->prev_ns ? (double)(now - e->prev_ns) / 1e9 : 0;
	bool have_dt = e->prev_ns != 0;
	if (st.mem_current_bytes.st == AH_FIELD_OK && st.mem_current_bytes.v > v->mem_peak_seen_bytes)
		v->mem_peak_seen_bytes = st.mem_current_bytes.v;
	if (st.mem_peak_bytes.st == AH_FIELD_NONE && v->mem_peak_seen_bytes) {
		st.mem_peak_bytes.v = v->mem_peak_seen_bytes;
		st.mem_peak_bytes.st = AH_FIELD_OK;
		st.mem_peak_bytes.src = AH_SRC_COLLECTOR;
	}
	double r;
	if (!have_dt) {
		/* Prime the counters. */
		dt = 1;
	}
	bool cpu = step(&e->cpu, &st.cpu_usage_ns, dt, &r) && have_dt;
	if (cpu) {
		v->cpu_millicores = r / 1e6; /* ns per s -> millicores */
		v->cpu_ok = true;
		emit(m, AH_COL_CPU, v->cpu_millicores);
	}
	emit_gauge(m, AH_COL_MEMORY, &st.mem_current_bytes);
	emit_gauge(m, AH_COL_MEMORY_PEAK, &st.mem_peak_bytes);
	emit_gauge(m, AH_COL_MEMORY_ANON, &st.mem_anon_bytes);
	emit_gauge(m, AH_COL_MEMORY_FILE, &st.mem_file_bytes);
	double rr = 0, rw = 0;
	bool ior = step(&e->io_r, &st.io_read_bytes, dt, &rr) && have_dt;
	bool iow = step(&e->io_w, &st.io_write_bytes, dt, &rw) && have_dt;
	if (ior && iow) {
		v->io_read_bps = rr;
		v->io_write_bps = rw;
		v->io_ok = true;
		emit(m, AH_COL_IO, rr + rw);
		emit(m, AH_COL_IO_READ, rr);
		emit(m, AH_COL_IO_WRITE, rw);
	}
	emitter quiet = *m;
	quiet.rc = 1; /* the first sample primes the counters only */
	emit_psi(have_dt ? m : &quiet, e->psi, st.psi, dt, false);
	static const char *const evd[EV_N] = {AH_COL_MEM_HIGH, AH_COL_MEM_MAX, AH_COL_MEM_OOM, AH_COL_MEM_OOM_KILL};
	const ah_field *evf[EV_N] = {&st.mem_high_events, &st.mem_max_events, &st.mem_oom_events,
				     &st.mem_oom_kill_events};
	for (int i = 0; i < EV_N; i++) {
		uint64_t d;
		if (step_count(&e->ev[i], evf[i], &d) && have_dt)
			emit(m, evd[i], (double)d);
	}
	emit_gauge(m, AH_COL_MEM_UNDER_OOM, &st.mem_under_oom);
	v->stat = st;
	v->state = st.err ? AH_CG_PARTIAL : have_dt ? AH_CG_OK : AH_CG_NEW;
	v->sampled_ns = now;
	e->prev_ns = now;
}

static void sample_host(ah_collector *c, int64_t now, emitter *m)
{
	entry *e = &c->host;
	ah_collector_view *v = &e->view;
	ah_host_stat st;
	v->cpu_ok = v->io_ok = v->net_ok = false;
	if (ah_host_read(c->roots.proc, c->buf, c->bufcap, &st)) {
		v->state = AH_CG_GONE;
		reset_counters(e);
		return;
	}
	bool have_dt = e->prev_ns != 0;
	double dt = have_dt ? (double)(now - e->prev_ns) / 1e9 : 1, rb = 0, rt = 0;
	bool b = step(&e->busy, &st.cpu_busy_ticks, dt, &rb);
	bool t = step(&e->total, &st.cpu_total_ticks, dt, &rt);
	if (b && t && have_dt) {
		v->cpu_millicores = rb / (double)c->user_hz * 1000.0;
		v->cpu_ok = true;
		emit(m, AH_COL_CPU, v->cpu_millicores);
	}
	if (st.mem_total_bytes.st == AH_FIELD_OK) {
		uint64_t avail;
		bool have = true;
		if (st.mem_available_bytes.st == AH_FIELD_OK)
			avail = st.mem_available_bytes.v;
		else if (st.mem_free_bytes.st == AH_FIELD_OK)
			/* Before 3.14 there is no MemAvailable: free + buffers + cache. */
			avail = st.mem_free_bytes.v + (st.mem_buffers_bytes.st == AH_FIELD_OK ? st.mem_buffers_bytes.v : 0) +
				(st.mem_cached_bytes.st == AH_FIELD_OK ? st.mem_cached_bytes.v : 0);
		else
			have = false;
		if (have) {
			if (avail > st.mem_total_bytes.v)
				avail = st.mem_total_bytes.v;
			emit(m, AH_COL_MEMORY, (double)(st.mem_total_bytes.v - avail));
		}
		emit(m, AH_COL_MEMORY_TOTAL, (double)st.mem_total_bytes.v);
	}
	double rr = 0, rw = 0, nr = 0, nt = 0;
	bool ior = step(&e->io_r, &st.disk_read_bytes, dt, &rr) && have_dt;
	bool iow = step(&e->io_w, &st.disk_write_bytes, dt, &rw) && have_dt;
	if (ior && iow) {
		v->io_read_bps = rr;
		v->io_write_bps = rw;
		v->io_ok = true;
		emit(m, AH_COL_IO, rr + rw);
		emit(m, AH_COL_IO_READ, rr);
		emit(m, AH_COL_IO_WRITE, rw);
	}
	bool nrx = step(&e->net_rx, &st.net_rx_bytes, dt, &nr) && have_dt;
	bool ntx = step(&e->net_tx, &st.net_tx_bytes, dt, &nt) && have_dt;
	if (nrx && ntx) {
		v->net_rx_bps = nr * 8;
		v->net_tx_bps = nt * 8;
		v->net_ok = true;
		emit(m, AH_COL_NET, (nr + nt) * 8);
		emit(m, AH_COL_NET_RX, nr * 8);
		emit(m, AH_COL_NET_TX, nt * 8);
	}
	emitter quiet = *m;
	quiet.rc = 1;
	emit_psi(have_dt ? m : &quiet, e->psi, st.psi, dt, true);
	v->host = st;
	v->state = st.err ? AH_CG_PARTIAL : have_dt ? AH_CG_OK : AH_CG_NEW;
	v->sampled_ns = now;
	e->prev_ns = now;
}

int ah_collector_sample(ah_collector *c, int64_t mono_ns, int64_t t_ns, ah_sample_batch *batch,
			ah_collector_summary *sum)
{
	if (!c || !batch || mono_ns <= 0 || (c->last_ns && mono_ns <= c->last_ns))
		return AH_EINVAL;
	ah_collector_summary s = {0};
	size_t n0 = batch->n;
	emitter m = {batch, NULL, t_ns, 0, 0};
	for (size_t i = 0; i < c->n; i++) {
		entry *e = &c->e[i];
		m.w = e->workload;
		sample_cgroup(c, e, mono_ns, &m);
		if (m.rc)
			goto fail;
		s.cgroups++;
		switch (e->view.state) {
		case AH_CG_GONE:
			s.gone++;
			break;
		case AH_CG_PARTIAL:
			s.partial++;
			break;
		default:
			s.ok++;
		}
	}
	if (c->host_name) {
		m.w = c->host_name;
		sample_host(c, mono_ns, &m);
		if (m.rc)
			goto fail;
	}
	c->last_ns = mono_ns;
	c->samples++;
	s.records = m.n;
	if (sum)
		*sum = s;
	return 0;
fail:
	/* All or nothing for the batch: what this sample added is taken back. */
	batch->n = n0;
	return m.rc;
}
