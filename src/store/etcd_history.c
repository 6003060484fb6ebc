/* ahead: an etcd ledger keeps etcd's history short (include/ahead/
 * ledger_etcd.h, ah_ledger_etcd_history_step). The view's revision is
 * sampled into a ring, spaced keep_ns/32 apart, so the revision of keep_ns
 * ago is known without asking etcd for it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ahead/error.h"
#include "store/ledger_etcd_int.h"

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sample(etcd_ledger *m, int64_t now, int64_t keep_ns)
{
	int last = (m->hist.head + ETCD_HISTORY_SAMPLES - 1) % ETCD_HISTORY_SAMPLES;
	if (m->rev <= 0 || (m->hist.n && (now - m->hist.t_ns[last] < keep_ns / 32 || m->hist.rev[last] == m->rev)))
		return;
	m->hist.t_ns[m->hist.head] = now;
	m->hist.rev[m->hist.head] = m->rev;
	m->hist.head = (m->hist.head + 1) % ETCD_HISTORY_SAMPLES;
	if (m->hist.n < ETCD_HISTORY_SAMPLES)
		m->hist.n++;
}

/* The newest revision sampled at or before t; 0: none. */
static int64_t rev_at(const etcd_ledger *m, int64_t t)
{
	for (int k = 1; k <= m->hist.n; k++) {
		int i = (m->hist.head + ETCD_HISTORY_SAMPLES - k) % ETCD_HISTORY_SAMPLES;
		if (m->hist.t_ns[i] <= t)
			return m->hist.rev[i];
	}
	return 0;
}

int ah_ledger_etcd_history_step(ah_ledger *l, int64_t keep_ns, int64_t every_ns, long long *out_rev)
{
	if (!ah_ledger_is_etcd(l) || keep_ns < 0 || every_ns < 0)
		return AH_EINVAL;
	etcd_ledger *m = (etcd_ledger *)l;
	int64_t now = mono_ns();
	sample(m, now, keep_ns);
	if (m->hist.last_ns && now - m->hist.last_ns < every_ns)
		return 0;
	int64_t rev = rev_at(m, now - keep_ns);
	if (rev <= m->hist.done_rev)
		return 0;
	json_t *rq = json_pack("{sI}", "revision", (json_int_t)rev), *r = NULL;
	int rc = etcd_call(m->c, "/v3/kv/compaction", rq, &r);
	json_decref(rq);
	json_decref(r);
	if (rc < 0 && !strstr(etcd_client_errmsg(m->c), "compacted")) /* another instance went further: done */
		return etcd_fail(m, rc);
	m->hist.last_ns = now;
	m->hist.done_rev = rev;
	if (out_rev)
		*out_rev = rev;
	return 1;
}
