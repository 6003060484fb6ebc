/* The ledger a path names: a SQLite file, or an etcd cluster
 * ("etcd://HOST:PORT[,HOST:PORT...]/PREFIX", include/ahead/ledger_etcd.h).
 * AHEAD_ETCD_TIMEOUT_MS bounds each request to an etcd member (default
 * 2000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/cluster_status.h"
#include "ahead/error.h"
#include "ahead/etcd_election.h"
#include "ahead/ledger_etcd.h"
#include "ahead/ledger_sqlite.h"
#include "service/service_int.h"

/* AHEAD_ETCD_TIMEOUT_MS, checked: 0 when unset (the client's default). */
static int etcd_timeout(long *out, char *err, size_t errlen)
{
	*out = 0;
	const char *t = getenv("AHEAD_ETCD_TIMEOUT_MS");
	if (t && *t) {
		char *end;
		long v = strtol(t, &end, 10);
		if (*end || v <= 0 || v > 600000) {
			snprintf(err, errlen, "AHEAD_ETCD_TIMEOUT_MS=%s: want milliseconds, 1..600000", t);
			return AH_EINVAL;
		}
		*out = v;
	}
	return 0;
}

static int etcd_url(const char *path, char *endpoints, size_t elen, char *prefix, size_t plen, char *err,
		    size_t errlen)
{
	if (ah_ledger_etcd_url_parse(path, endpoints, elen, prefix, plen) < 0) {
		snprintf(err, errlen, "%.300s: not an etcd ledger URL (etcd://HOST:PORT[,HOST:PORT...]/PREFIX)", path);
		return AH_EINVAL;
	}
	return 0;
}

int ah_service_ledger_open(const char *path, ah_durability durability, bool instance, ah_ledger **out, char *err,
			   size_t errlen)
{
	if (!ah_ledger_etcd_url(path))
		return ah_ledger_sqlite_open(path, durability, out, err, errlen);
	char endpoints[1024], prefix[256];
	ah_ledger_etcd_opts o = {.lease_ttl_s = instance ? 0 : -1};
	int rc;
	if ((rc = etcd_url(path, endpoints, sizeof endpoints, prefix, sizeof prefix, err, errlen)) < 0 ||
	    (rc = etcd_timeout(&o.timeout_ms, err, errlen)) < 0)
		return rc;
	/* durability is etcd's own: a commit is in a majority's fsynced WAL */
	return ah_ledger_etcd_open(endpoints, prefix, &o, out, err, errlen);
}

int ah_service_cluster_status(const char *path, ah_cluster_status *out, char *err, size_t errlen)
{
	if (!path || !ah_ledger_etcd_url(path)) {
		snprintf(err, errlen, "%s: a cluster is an etcd ledger: --db etcd://HOST:PORT[,HOST:PORT...]/PREFIX",
			 path ? path : "(no ledger)");
		return AH_EINVAL;
	}
	char endpoints[1024], prefix[256];
	long t;
	int rc;
	if ((rc = etcd_url(path, endpoints, sizeof endpoints, prefix, sizeof prefix, err, errlen)) < 0 ||
	    (rc = etcd_timeout(&t, err, errlen)) < 0)
		return rc;
	return ah_cluster_status_get(endpoints, prefix, t, out, err, errlen);
}

/* An election on this service's etcd ledger (key relative to its prefix;
 * name NULL: HOST-PID); errbuf says why not, naming the key. */
static int election_open(ah_service *s, const char *key, const char *name, int ttl_s, struct ah_election **out)
{
	char endpoints[1024], prefix[256], err[512];
	long t;
	int rc;
	if ((rc = etcd_url(s->db_path, endpoints, sizeof endpoints, prefix, sizeof prefix, err, sizeof err)) < 0 ||
	    (rc = etcd_timeout(&t, err, sizeof err)) < 0 ||
	    (rc = ah_election_new(endpoints, prefix, key, name, ttl_s, t, out, err, sizeof err)) < 0)
		snprintf(s->errbuf, sizeof s->errbuf, "%s election: %.200s", key, err);
	return rc;
}

#define SHAPER_KEY "shaper"
#define SHAPER_TTL_S 10

int ah_service_shaper_begin(ah_service *s, ah_service_shaper *out)
{
	if (!s || !out)
		return AH_EINVAL;
	memset(out, 0, sizeof *out);
	if (!ah_ledger_is_etcd(s->led)) { /* one owner of the ledger: it shapes */
		out->mine = true;
		return 0;
	}
	int rc;
	if (!s->elect && (rc = election_open(s, SHAPER_KEY, NULL, SHAPER_TTL_S, &s->elect)) < 0)
		return rc;
	ah_election_state st;
	if ((rc = ah_election_step(s->elect, &st)) < 0) {
		snprintf(s->errbuf, sizeof s->errbuf, "shaper election: %.200s", ah_election_errmsg(s->elect));
		return rc;
	}
	out->mine = st.mine;
	out->token = st.token;
	snprintf(out->holder, sizeof out->holder, "%s", st.holder);
	if (st.mine)
		(void)ah_ledger_etcd_fence(s->led, SHAPER_KEY, st.token);
	return 0;
}

#define WRITER_KEY "writer"
#define WRITER_TTL_S 4

int ah_service_writer_step(ah_service *s, const char *self_url, ah_service_writer *out)
{
	if (!s || !self_url || !*self_url || !out)
		return AH_EINVAL;
	if (!ah_ledger_is_etcd(s->led)) {
		memset(out, 0, sizeof *out);
		out->mine = true;
		return 0;
	}
	int rc;
	if (!s->writer_elect && (rc = election_open(s, WRITER_KEY, self_url, WRITER_TTL_S, &s->writer_elect)) < 0)
		return rc;
	ah_election_state st;
	if ((rc = ah_election_step(s->writer_elect, &st)) < 0) {
		snprintf(s->errbuf, sizeof s->errbuf, "writer election: %.200s", ah_election_errmsg(s->writer_elect));
		return rc;
	}
	memset(out, 0, sizeof *out);
	out->mine = st.mine;
	snprintf(out->holder, sizeof out->holder, "%s", st.holder);
	return 0;
}

void ah_service_shaper_end(ah_service *s)
{
	if (s && ah_ledger_is_etcd(s->led))
		(void)ah_ledger_etcd_fence(s->led, NULL, 0);
}
