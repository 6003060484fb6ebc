/* The service: opening the ledger, its policy, the engine and the usage
 * history; recovery after a failed transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/etcd_election.h"
#include "ahead/etcd_watch.h"
#include "ahead/ledger_etcd.h"
#include "ahead/ledger_sqlite.h"
#include "ahead/limits.h"
#include "ahead/scale_loop.h"
#include "service/service_int.h"

void ah_service_opts_init(ah_service_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->need_policy = true;
}

void ah_service_warn(ah_service *s, const char *fmt, ...)
{
	if (!s->opts.warn)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	s->opts.warn(s->opts.warn_ctx, buf);
}

static int load_policy(ah_service *s, char *err, size_t errlen)
{
	char *text = NULL;
	char perr[512];
	int rc = ah_ledger_policy_get(s->led, &text, NULL);
	if (rc == AH_ENOENT) {
		snprintf(err, errlen, "%s: no policy applied yet; run 'ahead policy apply FILE' first", s->db_path);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", s->db_path, ah_ledger_errmsg(s->led));
		return rc;
	}
	rc = ah_policy_load_string(text, strlen(text), "stored policy", &s->pol, perr, sizeof perr);
	free(text);
	if (rc < 0) {
		snprintf(err, errlen, "%s: the stored policy no longer loads: %s", s->db_path, perr);
		return AH_ESTATE;
	}
	if (s->pol->durability == AH_DURABILITY_POWER &&
	    (rc = ah_ledger_set_durability(s->led, AH_DURABILITY_POWER)) < 0) {
		snprintf(err, errlen, "%s: %s", s->db_path, ah_ledger_errmsg(s->led));
		return rc;
	}
	return 0;
}

int ah_service_open(const ah_service_opts *o, int64_t now_ns, ah_service **out, char *err, size_t errlen)
{
	char lerr[512];
	if (!o || !o->db_path || !out)
		return AH_EINVAL;
	if (strlen(o->db_path) >= AH_SERVICE_PATH_MAX) {
		snprintf(err, errlen, "ledger path longer than %d bytes", AH_SERVICE_PATH_MAX - 1);
		return AH_ETOOBIG;
	}
	ah_service *s = calloc(1, sizeof(*s));
	if (!s)
		return AH_ENOMEM;
	s->opts = *o;
	s->last_sweep_ns = INT64_MIN;
	snprintf(s->db_path, sizeof s->db_path, "%s", o->db_path);
	s->opts.db_path = s->db_path;
	int rc = ah_service_ledger_open(s->db_path, AH_DURABILITY_PROCESS, true, &s->led, lerr, sizeof lerr);
	if (rc < 0) {
		snprintf(err, errlen, "%s", lerr);
		goto fail;
	}
	if ((rc = ah_ledger_policy_generation(s->led, &s->policy_gen)) < 0) {
		snprintf(err, errlen, "%s: %s", s->db_path, ah_ledger_errmsg(s->led));
		goto fail;
	}
	if ((rc = load_policy(s, err, errlen)) < 0)
		goto fail;
	rc = ah_engine_new(s->pol, s->led, now_ns, &s->eng);
	if (rc == 0)
		ah_engine_set_policy_generation(s->eng, s->policy_gen);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot load state: %s (%s)", s->db_path, ah_strerror(rc),
			 ah_ledger_errmsg(s->led));
		goto fail;
	}
	{ /* pools on nodes: what a reading command shows needs the nodes too */
		char nerr[256];
		(void)ah_service_nodes_sync(s, now_ns, INT64_MIN / 2, NULL, nerr, sizeof nerr);
	}
	*out = s;
	return 0;
fail:
	ah_service_free(s);
	return rc;
}

void ah_service_free(ah_service *s)
{
	if (!s)
		return;
	ah_election_free(s->elect, true); /* another instance may shape at once */
	ah_election_free(s->writer_elect, true); /* and write */
	if (s->watch)
		(void)ah_ledger_etcd_watch_attach(s->led, NULL);
	ah_etcd_watch_free(s->watch);
	ah_service_models_free(s);
	ah_scale_loop_free(s->loop);
	ah_shadow_predictor_free(s->pred);
	ah_shadow_free(s->sh);
	ah_engine_free(s->eng);
	ah_ledger_free(s->led);
	ah_service_recset_fini(&s->records);
	ah_policy_free(s->pol);
	free(s);
}

const ah_policy *ah_service_policy_get(const ah_service *s)
{
	return s ? s->pol : NULL;
}

const ah_engine *ah_service_engine_get(const ah_service *s)
{
	return s ? s->eng : NULL;
}

const char *ah_service_errmsg(const ah_service *s)
{
	return s && s->led ? ah_ledger_errmsg(s->led) : "no ledger";
}

/* A policy applied by another process: load it and rebuild the engine on
 * it (the old ones stay if the new one does not load). */
static int reload_policy(ah_service *s, int64_t now_ns)
{
	ah_policy *old_pol = s->pol;
	ah_engine *eng = NULL;
	s->pol = NULL;
	int rc = load_policy(s, s->errbuf, sizeof s->errbuf);
	if (rc == 0)
		rc = ah_engine_new(s->pol, s->led, now_ns, &eng);
	if (rc < 0) {
		ah_policy_free(s->pol);
		s->pol = old_pol;
		return rc;
	}
	for (int i = 0; i < s->n_obs; i++)
		if ((rc = ah_engine_add_observer(eng, &s->obs[i])) < 0) {
			ah_engine_free(eng);
			ah_policy_free(s->pol);
			s->pol = old_pol;
			return rc;
		}
	ah_engine_free(s->eng);
	ah_policy_free(old_pol);
	s->eng = eng;
	/* the loop borrows the policy: the next step makes a new one */
	ah_scale_loop_free(s->loop);
	s->loop = NULL;
	s->need_reload = false;
	return 0;
}

int ah_service_prepare(ah_service *s, int64_t now_ns)
{
	if (!s)
		return AH_EINVAL;
	if (s->in_batch)
		return 0; /* the batch's engine stays until it ends */
	uint64_t gen;
	int rc = ah_ledger_policy_generation(s->led, &gen);
	if (rc < 0)
		return ah_service_after(s, rc);
	if (gen != s->policy_gen) {
		if ((rc = reload_policy(s, now_ns)) < 0)
			return rc;
		s->policy_gen = gen;
		ah_engine_set_policy_generation(s->eng, gen);
	}
	ah_engine_set_clock_skew(s->eng, ah_service_clock_skew_ns(s));
	if (s->need_reload && (rc = ah_engine_reload(s->eng, now_ns)) == 0)
		s->need_reload = false;
	if (rc < 0)
		return rc;
	/* pools on nodes: a new engine (a CLI's, or after a policy change)
	 * knows the nodes before it decides; the daemon then syncs each second */
	if (s->nodes_eng != s->eng) {
		char err[256];
		(void)ah_service_nodes_sync(s, now_ns, INT64_MIN / 2, NULL, err, sizeof err);
	}
	return 0;
}

int64_t ah_service_clock_skew_ns(const ah_service *s)
{
	if (!s || !s->pol)
		return 0;
	if (s->pol->max_clock_skew_ns >= 0)
		return s->pol->max_clock_skew_ns;
	return ah_ledger_is_etcd(s->led) ? AH_CLUSTER_SKEW_DEFAULT_NS : 0;
}

int ah_service_add_observer(ah_service *s, const ah_engine_observer *o)
{
	if (!s || !o || !o->on_event)
		return AH_EINVAL;
	if (s->n_obs == AH_ENGINE_MAX_OBSERVERS)
		return AH_ETOOBIG;
	int rc = ah_engine_add_observer(s->eng, o);
	if (rc == 0)
		s->obs[s->n_obs++] = *o;
	return rc;
}

ah_ledger *ah_service_ledger_get(ah_service *s)
{
	return s ? s->led : NULL;
}

int ah_service_after(ah_service *s, int rc)
{
	/* Answers (refusals, unknown ids) are not faults; anything the ledger
	 * failed on leaves the engine to be rebuilt from what was committed. */
	if (rc == AH_ESTORE || rc == AH_EIO || rc == AH_ENOMEM || rc == AH_ESTATE || rc == AH_EBUSY ||
	    rc == AH_ETIMEDOUT)
		s->need_reload = true;
	if (rc == AH_EBUSY)
		s->nodes_eng = NULL; /* a node's record may be what changed: the retry reads the nodes again */
	return rc;
}

ah_shadow *ah_service_shadow(ah_service *s, bool create)
{
	if (s->shadow_tried && (s->sh || !create))
		return s->sh;
	s->shadow_tried = true;
	const char *flag = s->opts.shadow_path;
	int rc;
	if (flag && !*flag)
		return NULL; /* history turned off */
	if (flag) {
		if (strlen(flag) >= sizeof s->shadow_path) {
			ah_service_warn(s, "shadow store path longer than %zu bytes; usage history not used",
					sizeof s->shadow_path - 1);
			return NULL;
		}
		snprintf(s->shadow_path, sizeof s->shadow_path, "%s", flag);
	} else if (!strncmp(s->db_path, "etcd://", 7)) {
		return NULL; /* a shared ledger: history is each instance's own, named by --shadow-db */
	} else if ((rc = ah_shadow_path_for_db(s->db_path, s->shadow_path, sizeof s->shadow_path)) < 0) {
		ah_service_warn(s, "%.200s: no shadow store path (%s); usage history not used", s->db_path,
				ah_strerror(rc));
		return NULL;
	}
	/* Only what starts history (a request naming a workload) may create
	 * the file; the rest leave no empty store behind a mistyped path. */
	if (!create && !s->opts.create_shadow && access(s->shadow_path, F_OK) != 0)
		return NULL;
	if ((rc = ah_shadow_open(s->shadow_path, &s->sh)) < 0) {
		ah_service_warn(s, "shadow store %.200s: %s; usage history not used", s->shadow_path, ah_strerror(rc));
		s->sh = NULL;
	}
	return s->sh;
}
