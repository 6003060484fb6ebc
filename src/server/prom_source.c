/* The daemon's [source] polls (prom_source.h). */
#include "server/prom_source.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/duration.h"
#include "ahead/error.h"
#include "ahead/history.h"
#include "ahead/input_unit.h"
#include "ahead/limits.h"
#include "ahead/policy.h"
#include "ahead/prom.h"
#include "ahead/server.h"

/* Points younger than this are left for the next poll: a scrape in flight
 * lands with its start time, so a point evaluated too early could miss it. */
#define SETTLE_NS INT64_C(2000000000)

typedef struct {
	ah_source_policy cfg; /* as the policy gave it: a change restarts the source */
	int64_t last_t_ns;    /* the last point read; -1 before the first */
	int64_t next_mono_ns; /* when the next poll is due */
} source;

struct ah_prom_sources {
	source s[AH_MAX_SOURCES];
	int n;
};

int ah_prom_sources_new(ah_prom_sources **out)
{
	ah_prom_sources *ps = calloc(1, sizeof *ps);
	if (!ps)
		return AH_ENOMEM;
	*out = ps;
	return 0;
}

void ah_prom_sources_free(ah_prom_sources *ps)
{
	free(ps);
}

/* Follows the applied policy: kept sources keep their state, changed or new
 * ones start over (due now), removed ones stop. */
static void sync_sources(ah_prom_sources *ps, const ah_policy *pol, int64_t mono_ns)
{
	int n = pol ? pol->n_sources : 0;
	bool same = n == ps->n;
	for (int i = 0; same && i < n; i++)
		same = memcmp(&ps->s[i].cfg, &pol->sources[i], sizeof pol->sources[i]) == 0;
	if (same)
		return;
	static source next[AH_MAX_SOURCES]; /* the loop is single-threaded */
	for (int i = 0; i < n; i++) {
		const ah_source_policy *c = &pol->sources[i];
		next[i] = (source){.cfg = *c, .last_t_ns = -1, .next_mono_ns = mono_ns};
		bool kept = false;
		for (int j = 0; j < ps->n && !kept; j++)
			if (memcmp(&ps->s[j].cfg, c, sizeof *c) == 0) {
				next[i] = ps->s[j];
				kept = true;
			}
		if (!kept)
			ah_log(AH_LOG_INFO, "msg=source_started source=%s url=%s workload=%s dim=%s", c->name, c->url,
			       c->workload, c->dim);
	}
	for (int j = 0; j < ps->n; j++) {
		bool kept = false;
		for (int i = 0; i < n && !kept; i++)
			kept = memcmp(&ps->s[j].cfg, &pol->sources[i], sizeof pol->sources[i]) == 0;
		if (!kept)
			ah_log(AH_LOG_INFO, "msg=source_stopped source=%s", ps->s[j].cfg.name);
	}
	memcpy(ps->s, next, (size_t)n * sizeof next[0]);
	ps->n = n;
}

/* One poll: [last + step, now - settle] (the first: the lookback), aligned
 * to the step as `ahead shadow import --prometheus` aligns its range. */
static int poll_one(source *so, const char *db_path, int64_t wall_ns, size_t *added, char *err, size_t errlen)
{
	const ah_source_policy *c = &so->cfg;
	const int64_t step = c->step_ns;
	ah_prom_samples smp = {0};
	ah_history *h = NULL;
	*added = 0;
	int rc = ah_history_open(db_path, NULL, true, &h, err, errlen);
	if (rc)
		goto out;
	/* the first poll goes on from what the history holds (a restart, a
	 * changed source): stored points are not read twice */
	ah_shadow_series_info info;
	char ignored[256];
	if (so->last_t_ns < 0 && ah_history_series_get(h, c->workload, c->dim, &info, ignored, sizeof ignored) == 0)
		so->last_t_ns = info.last_ns;
	int64_t end = wall_ns - SETTLE_NS;
	end -= end % step;
	int64_t start = end - c->lookback_ns;
	start = start < 0 ? 0 : start - start % step;
	if (so->last_t_ns >= 0 && so->last_t_ns + step > start)
		start = so->last_t_ns + step;
	if (start > end)
		goto out; /* no new step yet */
	char match[AH_PROM_MATCH_TEXT_MAX + 1];
	memcpy(match, c->match, sizeof match);
	ah_prom_range r = {.url = c->url, .query = c->query, .start_ns = start, .end_ns = end, .step_ns = step,
			   .timeout_s = AH_PROM_SOURCE_TIMEOUT_S};
	for (char *save = NULL, *m = strtok_r(match, ",", &save); m && r.n_match < AH_PROM_MATCH_MAX;
	     m = strtok_r(NULL, ",", &save))
		r.match[r.n_match++] = m;
	ah_input_units u;
	ah_input_units_init(&u);
	if (c->unit[0])
		ah_input_units_add(&u, c->unit); /* the policy validated it */
	if (c->of_cores > 0)
		ah_input_units_set_of(&u, c->of_cores);
	if ((rc = ah_prom_query_range(&r, &smp, err, errlen)))
		goto out;
	double f = ah_input_units_factor(&u, ah_input_units_kind_of_dim(c->dim));
	for (size_t i = 0; i < smp.n; i++)
		smp.v[i] *= f;
	ah_history_import_out res;
	if ((rc = ah_history_import_values(h, smp.series, c->workload, c->dim, step, smp.t_ns, smp.v, smp.n, &res,
					   err, errlen)))
		goto out;
	so->last_t_ns = smp.t_ns[smp.n - 1];
	*added = res.samples;
out:
	ah_history_free(h);
	ah_prom_samples_fini(&smp);
	return rc;
}

void ah_prom_sources_tick(ah_prom_sources *ps, ah_service *svc, int64_t mono_ns, int64_t wall_ns)
{
	if (!ps || !svc)
		return;
	sync_sources(ps, ah_service_policy_get(svc), mono_ns);
	for (int i = 0; i < ps->n; i++) {
		source *so = &ps->s[i];
		if (mono_ns < so->next_mono_ns)
			continue;
		char err[1024];
		size_t added = 0;
		int rc = poll_one(so, ah_service_db_path(svc), wall_ns, &added, err, sizeof err);
		/* due one interval after this tick (polls never queue up) */
		so->next_mono_ns = mono_ns + so->cfg.every_ns;
		char every[AH_DURATION_TEXT_MAX];
		if (ah_duration_format(so->cfg.every_ns, every, sizeof every))
			every[0] = '\0';
		if (rc)
			ah_log(AH_LOG_WARN, "msg=source_failed source=%s err=\"%s\" detail=\"retrying in %s\"",
			       so->cfg.name, err, every);
		else
			ah_log(AH_LOG_INFO, "msg=source_polled source=%s workload=%s dim=%s samples=%zu", so->cfg.name,
			       so->cfg.workload, so->cfg.dim, added);
	}
}
