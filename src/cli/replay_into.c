/* ahead replay --into URL (cli/replay_into.h): a trace played into a live
 * daemon in accelerated time. One allocation per workload of the trace,
 * its usage reported at each step, all released at the end. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/limits.h"
#include "ahead/names.h"
#include "ahead/policy.h"
#include "ahead/resource.h"
#include "ahead/timestamp.h"
#include "cli/replay_into.h"

#define SHOW_FIRST 20      /* allocation lines printed before only summaries follow */
#define MAX_REASONS 16     /* distinct refusal reasons counted */
#define SLEEP_SLICE_NS 200000000LL /* a stop request is seen within this */

typedef struct {
	char name[AH_WORKLOAD_MAX + 1];
	uint64_t id;           /* 0: no allocation */
	bool queued;           /* the daemon said queued; reports wait for the grant */
	bool pending;          /* has rows in the current step */
	bool has[2];           /* which trace dimensions the step holds */
	int64_t used[2];       /* the step's usage: [AH_DIM_CPU] millicores, [AH_DIM_MEMORY] bytes */
} wl;

typedef struct {
	uint64_t steps, samples, requests, granted, queued, refused, reports, grown, shrunk, blocked, lost,
		released, release_failed, waiting;
	char reason[MAX_REASONS][48];
	uint64_t reason_n[MAX_REASONS];
	int n_reasons;
	int64_t first_t, last_t; /* trace time, s */
	double behind_max_s;     /* how late a step was played at worst */
} stats;

typedef struct {
	const char *cmd;
	const ah_replay_into_opts *o;
	ah_client *c;
	ah_policy *pol;
	const ah_pool_policy *pool_pol; /* NULL when the policy is not readable */
	const char *tenant, *pool;
	int dim[2];                     /* trace dimension -> the policy's, or -1 */
	wl *w;                          /* open addressing by name */
	size_t cap, n;
	size_t *pend;                   /* indices of the current step's workloads */
	size_t n_pend;
	stats s;
	int shown;                      /* allocation lines printed */
	FILE *log;                      /* summaries and allocation lines */
	int64_t t0_mono;
} run;

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t hash(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

static int grow_table(run *r)
{
	size_t cap = r->cap ? r->cap * 2 : 64;
	wl *nw = calloc(cap, sizeof *nw);
	size_t *np = realloc(r->pend, cap * sizeof *np);
	if (!nw || !np) {
		free(nw);
		if (np)
			r->pend = np;
		return AH_ENOMEM;
	}
	r->pend = np;
	for (size_t i = 0; i < r->cap; i++) {
		if (!r->w[i].name[0])
			continue;
		size_t k = hash(r->w[i].name) & (cap - 1);
		while (nw[k].name[0])
			k = (k + 1) & (cap - 1);
		nw[k] = r->w[i];
	}
	/* the current step's indices move with their workloads */
	for (size_t p = 0; p < r->n_pend; p++) {
		const char *name = r->w[r->pend[p]].name;
		size_t k = hash(name) & (cap - 1);
		while (strcmp(nw[k].name, name))
			k = (k + 1) & (cap - 1);
		r->pend[p] = k;
	}
	free(r->w);
	r->w = nw;
	r->cap = cap;
	return 0;
}

/* The workload's slot, added when new; AH_ETOOBIG past the cap. */
static int find(run *r, const char *name, size_t *out)
{
	if (r->cap) {
		size_t k = hash(name) & (r->cap - 1);
		for (; r->w[k].name[0]; k = (k + 1) & (r->cap - 1))
			if (!strcmp(r->w[k].name, name)) {
				*out = k;
				return 0;
			}
	}
	if (r->n >= AH_REPLAY_INTO_WORKLOADS_MAX)
		return AH_ETOOBIG;
	if ((r->n + 1) * 2 > r->cap) {
		int rc = grow_table(r);
		if (rc)
			return rc;
	}
	size_t k = hash(name) & (r->cap - 1);
	while (r->w[k].name[0])
		k = (k + 1) & (r->cap - 1);
	snprintf(r->w[k].name, sizeof r->w[k].name, "%s", name);
	r->n++;
	*out = k;
	return 0;
}

static void count_reason(stats *s, const char *reason)
{
	for (int i = 0; i < s->n_reasons; i++)
		if (!strcmp(s->reason[i], reason)) {
			s->reason_n[i]++;
			return;
		}
	if (s->n_reasons < MAX_REASONS) {
		snprintf(s->reason[s->n_reasons], sizeof s->reason[0], "%s", reason);
		s->reason_n[s->n_reasons++] = 1;
	}
}

/* "2026-01-01T05:25Z": a trace time to the minute. */
static void trace_time(int64_t t_s, char *buf, size_t len)
{
	char full[64];
	ah_fmt_time(t_s * 1000000000LL, full, sizeof full);
	snprintf(buf, len, "%.16sZ", full);
}

static void elapsed(int64_t ns, char *buf, size_t len)
{
	long long s = (long long)(ns / 1000000000LL);
	snprintf(buf, len, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

static void summary(run *r, const char *lead)
{
	char when[32], tt[32];
	elapsed(mono_ns() - r->t0_mono, when, sizeof when);
	trace_time(r->s.last_t, tt, sizeof tt);
	uint64_t live = 0;
	for (size_t i = 0; i < r->cap; i++)
		live += r->w[i].name[0] && r->w[i].id;
	fprintf(r->log,
		"%s +%s  trace %s  requests %llu granted %llu queued %llu refused %llu  reports %llu resized %llu "
		"blocked %llu  live %llu\n",
		lead, when, r->s.samples ? tt : "-", (unsigned long long)r->s.requests,
		(unsigned long long)r->s.granted, (unsigned long long)r->s.queued, (unsigned long long)r->s.refused,
		(unsigned long long)r->s.reports, (unsigned long long)(r->s.grown + r->s.shrunk),
		(unsigned long long)r->s.blocked, (unsigned long long)live);
	fflush(r->log);
}

/* The step's usage as {"cpu": N, "memory": N} in the policy's dimensions;
 * with round_up, each rounded up to the pool's unit (at least one unit). */
static json_t *vec_json(const run *r, const wl *w, bool round_up, char *text, size_t text_len)
{
	json_t *o = json_object();
	size_t tw = 0;
	if (text_len)
		text[0] = '\0';
	for (int d = 0; d < 2; d++) {
		int pd = r->dim[d];
		if (!w->has[d] || pd < 0)
			continue;
		int64_t v = w->used[d];
		if (round_up && r->pool_pol) {
			int64_t u = r->pool_pol->unit.v[pd] > 0 ? r->pool_pol->unit.v[pd] : 1;
			v = v <= 0 ? u : (v / u + (v % u != 0)) * u;
			if (v < r->pool_pol->min_request.v[pd])
				v = r->pool_pol->min_request.v[pd];
		}
		json_object_set_new(o, r->pol->dims.name[pd], json_integer(v));
		char one[40];
		if (ah_unit_format_human(r->pol->dims.kind[pd], v, one, sizeof one) < 0)
			snprintf(one, sizeof one, "%lld", (long long)v);
		int n = snprintf(text + tw, text_len - tw, "%s%s=%s", tw ? ", " : "", r->pol->dims.name[pd], one);
		if (n > 0 && (size_t)n < text_len - tw)
			tw += (size_t)n;
	}
	return o;
}

/* The answer's refusal reason ("reason", else error.code). */
static const char *reason_of(const json_t *a)
{
	const char *s = json_string_value(json_object_get(a, "reason"));
	if (!s)
		s = json_string_value(json_object_get(json_object_get(a, "error"), "code"));
	return s ? s : "unknown";
}

static const char *message_of(const json_t *a)
{
	const char *s = json_string_value(json_object_get(a, "message"));
	if (!s)
		s = json_string_value(json_object_get(json_object_get(a, "error"), "message"));
	return s ? s : "";
}

/* A reason that will hold for every workload: replaying on is pointless. */
static bool systematic(const char *reason)
{
	return !strcmp(reason, "unknown_pool") || !strcmp(reason, "unknown_tenant") ||
	       !strcmp(reason, "unknown_class") || !strcmp(reason, "invalid_request");
}

static void show(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void show(run *r, const char *fmt, ...)
{
	if (r->shown > SHOW_FIRST)
		return;
	if (r->shown++ == SHOW_FIRST) {
		fprintf(r->log, "replay: (further requests are counted in the summaries)\n");
		fflush(r->log);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vfprintf(r->log, fmt, ap);
	va_end(ap);
	fflush(r->log);
}

static int report(run *r, wl *w, bool again);

/* POST /v1/allocations for the workload; once granted, the step's usage is
 * reported at once, so the daemon's history holds every sample. 0, or an
 * exit code (printed). */
static int request(run *r, wl *w)
{
	char text[160];
	json_t *res = vec_json(r, w, true, text, sizeof text);
	json_t *body = json_pack("{s:s,s:s,s:o}", "pool", r->pool, "workload", w->name, "resources", res);
	if (r->tenant)
		json_object_set_new(body, "tenant", json_string(r->tenant));
	if (r->o->klass)
		json_object_set_new(body, "class", json_string(r->o->klass));
	long st;
	json_t *a = NULL;
	ah_client_next_key(r->c);
	int ex = ah_client_call(r->c, "POST", "/v1/allocations", body, &st, &a);
	json_decref(body);
	if (ex)
		return ex;
	r->s.requests++;
	uint64_t id = (uint64_t)json_integer_value(json_object_get(a, "id"));
	if ((st == 201 || st == 202) && id) {
		w->id = id;
		w->queued = st == 202;
		(*(st == 201 ? &r->s.granted : &r->s.queued))++;
		show(r, "replay: %s: %s as allocation %llu (%s)\n", w->name, st == 201 ? "granted" : "queued",
		     (unsigned long long)id, text);
		if (st == 201) {
			json_decref(a);
			return report(r, w, false);
		}
	} else if (st == 409 || st == 422 || st == 429) {
		const char *why = reason_of(a);
		if (systematic(why)) {
			ex = ah_client_fail(r->c, st, a);
			json_decref(a);
			return ex;
		}
		r->s.refused++;
		count_reason(&r->s, why);
		show(r, "replay: %s: refused (%s): %s\n", w->name, why, message_of(a));
	} else {
		ex = ah_client_fail(r->c, st, a);
	}
	json_decref(a);
	return ex;
}

/* POST /v1/allocations/ID/usage; with again, a lost allocation is asked
 * for anew. 0, or an exit code (printed). */
static int report(run *r, wl *w, bool again)
{
	json_t *u = vec_json(r, w, false, NULL, 0);
	if (!json_object_size(u)) {
		json_decref(u);
		return 0;
	}
	json_t *body = json_pack("{s:o}", "usage", u);
	char path[64];
	snprintf(path, sizeof path, "/v1/allocations/%llu/usage", (unsigned long long)w->id);
	long st;
	json_t *a = NULL;
	ah_client_next_key(r->c);
	int ex = ah_client_call(r->c, "POST", path, body, &st, &a);
	json_decref(body);
	if (ex)
		return ex;
	if (st == 200) {
		w->queued = false;
		r->s.reports++;
		const char *oc = json_string_value(json_object_get(a, "outcome"));
		if (oc && !strcmp(oc, "grown"))
			r->s.grown++;
		else if (oc && !strcmp(oc, "shrunk"))
			r->s.shrunk++;
		else if (oc && !strcmp(oc, "grow_blocked"))
			r->s.blocked++;
	} else if (st == 409 && w->queued) {
		r->s.waiting++;
	} else if (st == 404 || st == 409) {
		/* expired, preempted, timed out in the queue: ask again */
		r->s.lost++;
		w->id = 0;
		w->queued = false;
		if (again)
			ex = request(r, w);
	} else {
		ex = ah_client_fail(r->c, st, a);
	}
	json_decref(a);
	return ex;
}

/* Plays the current step: a request for each new workload, a report for
 * the others. */
static int play_step(run *r)
{
	if (!r->n_pend)
		return 0;
	r->s.steps++;
	for (size_t p = 0; p < r->n_pend; p++) {
		wl *w = &r->w[r->pend[p]];
		int ex = w->id ? report(r, w, true) : request(r, w);
		w->pending = false;
		w->has[0] = w->has[1] = false;
		if (ex) {
			r->n_pend = 0;
			return ex;
		}
	}
	r->n_pend = 0;
	return 0;
}

/* Waits until the monotonic time target, printing the summaries that fall
 * due; returns early on a stop signal. */
static void wait_until(run *r, int64_t target, int64_t *next_summary)
{
	for (;;) {
		int64_t now = mono_ns();
		if (now >= *next_summary) {
			summary(r, "replay:");
			while (*next_summary <= now)
				*next_summary += r->o->every_ns;
		}
		if (stop_sig || now >= target)
			return;
		int64_t until = target < *next_summary ? target : *next_summary;
		int64_t d = until - now;
		if (d > SLEEP_SLICE_NS)
			d = SLEEP_SLICE_NS;
		struct timespec ts = {.tv_sec = d / 1000000000LL, .tv_nsec = d % 1000000000LL};
		nanosleep(&ts, NULL);
	}
}

static int release_all(run *r)
{
	for (size_t i = 0; i < r->cap; i++) {
		wl *w = &r->w[i];
		if (!w->name[0] || !w->id)
			continue;
		char path[64];
		snprintf(path, sizeof path, "/v1/allocations/%llu", (unsigned long long)w->id);
		long st;
		json_t *a = NULL;
		ah_client_next_key(r->c);
		int ex = ah_client_call(r->c, "DELETE", path, NULL, &st, &a);
		if (ex)
			return ex; /* the daemon is gone: nothing more to release */
		if (st == 200 || st == 204)
			r->s.released++;
		else if (st != 404)
			r->s.release_failed++;
		json_decref(a);
		w->id = 0;
	}
	return 0;
}

static void final_json(const run *r, bool stopped, double secs)
{
	json_t *o = json_object(), *rs = json_object();
	for (int i = 0; i < r->s.n_reasons; i++)
		json_object_set_new(rs, r->s.reason[i], json_integer((json_int_t)r->s.reason_n[i]));
	json_object_set_new(o, "server", ah_json_text(r->o->client.server));
	json_object_set_new(o, "tenant", r->tenant ? ah_json_text(r->tenant) : json_null());
	json_object_set_new(o, "pool", ah_json_text(r->pool));
	json_object_set_new(o, "stopped", json_boolean(stopped));
	json_object_set_new(o, "speed", json_real(r->o->speed));
	json_object_set_new(o, "elapsed_s", json_real(secs));
	json_object_set_new(o, "trace_start", r->s.samples ? ah_json_time(r->s.first_t * 1000000000LL) : json_null());
	json_object_set_new(o, "trace_end", r->s.samples ? ah_json_time(r->s.last_t * 1000000000LL) : json_null());
	json_object_set_new(o, "workloads", json_integer((json_int_t)r->n));
	json_object_set_new(o, "steps", json_integer((json_int_t)r->s.steps));
	json_object_set_new(o, "samples", json_integer((json_int_t)r->s.samples));
	json_object_set_new(o, "requests", json_integer((json_int_t)r->s.requests));
	json_object_set_new(o, "granted", json_integer((json_int_t)r->s.granted));
	json_object_set_new(o, "queued", json_integer((json_int_t)r->s.queued));
	json_object_set_new(o, "refused", json_integer((json_int_t)r->s.refused));
	json_object_set_new(o, "refusals", rs);
	json_object_set_new(o, "reports", json_integer((json_int_t)r->s.reports));
	json_object_set_new(o, "grown", json_integer((json_int_t)r->s.grown));
	json_object_set_new(o, "shrunk", json_integer((json_int_t)r->s.shrunk));
	json_object_set_new(o, "grow_blocked", json_integer((json_int_t)r->s.blocked));
	json_object_set_new(o, "lost", json_integer((json_int_t)r->s.lost));
	json_object_set_new(o, "released", json_integer((json_int_t)r->s.released));
	json_object_set_new(o, "behind_max_s", json_real(r->s.behind_max_s));
	char *s = ah_json_dumps(o);
	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(o);
}

static void final_text(const run *r, bool stopped, double secs)
{
	char a[32], b[32];
	trace_time(r->s.first_t, a, sizeof a);
	trace_time(r->s.last_t, b, sizeof b);
	printf("replay: %s after %.1f s: %zu workloads, %llu samples in %llu steps (trace %s .. %s)\n",
	       stopped ? "stopped" : "done", secs, r->n, (unsigned long long)r->s.samples,
	       (unsigned long long)r->s.steps, r->s.samples ? a : "-", r->s.samples ? b : "-");
	printf("replay: requests %llu: granted %llu, queued %llu, refused %llu", (unsigned long long)r->s.requests,
	       (unsigned long long)r->s.granted, (unsigned long long)r->s.queued, (unsigned long long)r->s.refused);
	for (int i = 0; i < r->s.n_reasons; i++)
		printf("%s%s %llu", i ? ", " : " (", r->s.reason[i], (unsigned long long)r->s.reason_n[i]);
	printf("%s\n", r->s.n_reasons ? ")" : "");
	printf("replay: reports %llu: grown %llu, shrunk %llu, grow blocked %llu; allocations lost %llu; "
	       "released %llu; at most %.1f s behind the trace\n",
	       (unsigned long long)r->s.reports, (unsigned long long)r->s.grown, (unsigned long long)r->s.shrunk,
	       (unsigned long long)r->s.blocked, (unsigned long long)r->s.lost, (unsigned long long)r->s.released,
	       r->s.behind_max_s);
	fflush(stdout);
}

/* The tenant, pool and dimensions from the daemon's policy. */
static int setup(run *r)
{
	int ex = ah_client_policy(r->c, &r->pol);
	if (ex)
		return ex;
	r->pool = r->o->pool;
	if (!r->pool) {
		if (!r->pol->n_pools) {
			ah_cli_err(r->cmd, "--pool is required (this token may not read the daemon's policy)");
			return AH_EXIT_USAGE;
		}
		r->pool = r->pol->pools[0].name;
	}
	for (int i = 0; i < r->pol->n_pools; i++)
		if (!strcmp(r->pol->pools[i].name, r->pool))
			r->pool_pol = &r->pol->pools[i];
	if (r->pol->n_pools && !r->pool_pol) {
		ah_cli_err(r->cmd, "--pool: the daemon's policy has no pool '%.64s'", r->pool);
		return AH_EXIT_USAGE;
	}
	r->tenant = r->o->tenant ? r->o->tenant : r->pol->n_tenants ? r->pol->tenants[0].name : NULL;
	static const char *const names[2] = {"cpu", "memory"};
	for (int d = 0; d < 2; d++)
		r->dim[d] = ah_dimset_find(&r->pol->dims, names[d]);
	if (r->dim[0] < 0 && r->dim[1] < 0) {
		ah_cli_err(r->cmd, "the daemon's policy has neither a cpu nor a memory dimension to replay into");
		return AH_EXIT_USAGE;
	}
	return 0;
}

/* Adds a row to the current step. */
static int add_row(run *r, const ah_trace_row *row)
{
	size_t k;
	int rc = find(r, row->workload, &k);
	if (rc) {
		ah_cli_err(r->cmd, rc == AH_ETOOBIG ? "the trace holds more than %d workloads" : "out of memory",
			   AH_REPLAY_INTO_WORKLOADS_MAX);
		return rc == AH_ETOOBIG ? AH_EXIT_USAGE : AH_EXIT_INTERNAL;
	}
	wl *w = &r->w[k];
	if (!w->pending) {
		w->pending = true;
		r->pend[r->n_pend++] = k;
	}
	if (row->dim == AH_DIM_CPU || row->dim == AH_DIM_MEMORY) {
		w->has[row->dim] = true;
		w->used[row->dim] = row->used;
	}
	r->s.samples++;
	return 0;
}

int ah_replay_into(const char *cmd, const ah_replay_into_opts *o, ah_replay_into_open_fn open_round, void *ctx)
{
	run r = {.cmd = cmd, .o = o, .log = o->out == AH_OUT_JSON ? stderr : stdout};
	ah_trace_merge *mg = NULL;
	bool released = false;
	struct sigaction sa = {.sa_handler = on_stop}, old_int, old_term;
	sigemptyset(&sa.sa_mask);
	stop_sig = 0;
	int ex = ah_client_open(cmd, &o->client, &r.c);
	if (ex)
		return ex;
	if ((ex = setup(&r)))
		goto out;
	for (int d = 0; d < 2; d++)
		if (r.dim[d] < 0)
			fprintf(stderr, "ahead %s: warning: the daemon's policy has no %s dimension: its samples are skipped\n",
				cmd, d ? "memory" : "cpu");
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	r.t0_mono = mono_ns();
	fprintf(r.log, "replay: into %s as tenant %s, pool %s, %g trace seconds a second (Ctrl-C stops and releases)\n",
		o->client.server, r.tenant ? r.tenant : "(the token's)", r.pool, o->speed);
	fflush(r.log);
	int64_t next_summary = r.t0_mono + o->every_ns;
	int64_t wall0 = r.t0_mono, last_target = r.t0_mono, gap_s = 300;
	for (unsigned round = 0; !stop_sig; round++) {
		ah_trace_merge_free(mg);
		mg = NULL;
		if ((ex = open_round(ctx, round, &mg)))
			goto out;
		int64_t step_t = -1, round_t0 = -1;
		ah_trace_row row;
		const ah_trace *from;
		int rc = 0;
		while (!stop_sig && (rc = ah_trace_merge_next(mg, &row, &from)) > 0) {
			if (step_t >= 0 && row.t_s < step_t) {
				char where[256];
				ah_cli_err(cmd, "%s: time %lld is before the previous row's %lld: traces must be in time order",
					   ah_trace_where(from, where, sizeof where), (long long)row.t_s, (long long)step_t);
				ex = AH_EXIT_USAGE;
				goto out;
			}
			if (row.t_s > step_t) {
				if (step_t >= 0) {
					if ((ex = play_step(&r)))
						goto out;
					gap_s = row.t_s - step_t;
				}
				if (round_t0 < 0) {
					round_t0 = row.t_s;
					wall0 = round ? last_target + (int64_t)((double)gap_s * 1e9 / o->speed) : r.t0_mono;
				}
				step_t = row.t_s;
				last_target = wall0 + (int64_t)((double)(row.t_s - round_t0) * 1e9 / o->speed);
				wait_until(&r, last_target, &next_summary);
				if (stop_sig)
					break;
				double behind = (double)(mono_ns() - last_target) / 1e9;
				if (behind > r.s.behind_max_s)
					r.s.behind_max_s = behind;
				if (!r.s.samples)
					r.s.first_t = row.t_s;
				r.s.last_t = row.t_s;
			}
			if ((ex = add_row(&r, &row)))
				goto out;
		}
		if (!stop_sig && rc < 0) {
			const ah_trace *bad = ah_trace_merge_error_source(mg);
			ah_cli_err(cmd, "%s", bad ? ah_trace_error(bad) : ah_strerror(rc));
			ex = rc == AH_ENOMEM ? AH_EXIT_INTERNAL : AH_EXIT_USAGE;
			goto out;
		}
		if (!stop_sig && (ex = play_step(&r)))
			goto out;
		if (!o->loop)
			break;
		if (!r.s.samples) {
			ah_cli_err(cmd, "the trace holds no sample");
			ex = AH_EXIT_USAGE;
			goto out;
		}
	}
	r.n_pend = 0;
	released = true;
	ex = release_all(&r);
	double secs = (double)(mono_ns() - r.t0_mono) / 1e9;
	if (!ex) {
		if (o->out == AH_OUT_JSON)
			final_json(&r, stop_sig != 0, secs);
		else
			final_text(&r, stop_sig != 0, secs);
	}
out:
	if (ex && !released && r.c && r.s.requests) {
		/* a failed run still frees what it holds, if the daemon answers */
		r.n_pend = 0;
		(void)release_all(&r);
	}
	if (r.t0_mono) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	ah_trace_merge_free(mg);
	ah_policy_free(r.pol);
	ah_client_free(r.c);
	free(r.w);
	free(r.pend);
	return ex;
}
