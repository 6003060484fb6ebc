/* Deterministic simulation of the service layer: seeded random sequences of
 * requests (several tenants, pools, classes; queueing), usage reports (so
 * allocations grow, shrink and wait as pending grows), releases, renewals,
 * policy changes, ticks, clock jumps and crashes. Two services run the same
 * sequence on two ledgers: one never stops, the other is dropped and
 * reopened from its ledger at random points (a crash: nothing is flushed
 * that was not committed). After every step:
 *   - every pool's use equals the sum of its live allocations, within capacity;
 *   - the ledger holds what the live service holds (a fresh service opened
 *     on the never-stopped ledger lists the same allocations and queue);
 *   - the restarted service made the same decision as the one that never
 *     stopped (outcome, id, resources, position, reason).
 * A failure prints its seed and step; AHEAD_SIM_SEED=S replays one seed,
 * AHEAD_SIM_SEEDS=N runs N seeds (CI runs a bounded number). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/error.h"
#include "ahead/service.h"
#include "db_fixture.h"

#define S INT64_C(1000000000)
#define T0 (INT64_C(1750000000) * S)
#define STEPS 400
#define MAX_IDS 512

static const char *policies[2] = {
	"[ahead]\nlease_ttl = 10m\nqueue_timeout = 5m\ndefault_class = lo\n"
	"[pool a]\ncapacity = cpu=8, memory=16Gi\nunit = cpu=100m, memory=64Mi\n"
	"[pool b]\ncapacity = cpu=4, memory=8Gi\n"
	"[class hi]\npriority = 100\n[class lo]\npriority = 10\n"
	"[tenant t1]\nquota = cpu=10, memory=20Gi\n[tenant t2]\n",
	/* the second: pool a shrinks (below its use, at times), b grows, a
	 * new tenant t3 */
	"[ahead]\nlease_ttl = 10m\nqueue_timeout = 5m\ndefault_class = lo\n"
	"[pool a]\ncapacity = cpu=6, memory=12Gi\nunit = cpu=100m, memory=64Mi\n"
	"[pool b]\ncapacity = cpu=6, memory=8Gi\n"
	"[class hi]\npriority = 100\n[class lo]\npriority = 10\n"
	"[tenant t1]\nquota = cpu=10, memory=20Gi\n[tenant t2]\n[tenant t3]\n",
};

typedef struct {
	uint64_t s;
} rng;

static uint64_t next(rng *r)
{
	/* splitmix64: small, seedable, the same everywhere */
	uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static int pick(rng *r, int n)
{
	return (int)(next(r) % (uint64_t)n);
}

typedef struct {
	char db[2][256];
	ah_service *svc[2]; /* 0 never stops; 1 restarts */
	uint64_t ids[MAX_IDS];
	int nids;
	int64_t now;
	int policy;
	uint64_t seed;
	int step;
	int restarts;
	bool lowered;             /* a policy change has lowered some capacity */
	int64_t prev_used[AH_MAX_POOLS][AH_MAX_DIMS];
} sim;

static void rm_ledger(const char *db)
{
	db_fixture_unlink(db); /* the services here keep no shadow store */
}

static ah_service *open_at(sim *m, int k)
{
	ah_service_opts o;
	ah_service_opts_init(&o);
	o.db_path = m->db[k];
	o.shadow_path = ""; /* the ledger's loop; history is tested elsewhere */
	ah_service *s = NULL;
	char err[512];
	if (ah_service_open(&o, m->now, &s, err, sizeof err))
		fail_msg("seed %" PRIu64 " step %d: open %s: %s", m->seed, m->step, m->db[k], err);
	return s;
}

static void apply_policy(sim *m, int which)
{
	char err[2][512];
	int rc[2];
	for (int k = 0; k < 2; k++)
		rc[k] = ah_service_policy_apply(m->db[k], policies[which], strlen(policies[which]), "sim.ini", m->now, NULL,
						err[k], sizeof err[k]);
	/* A policy that would drop a tenant still holding allocations is
	 * refused, by both ledgers alike. */
	if (rc[0] != rc[1] || (rc[0] && rc[0] != AH_EPOLICY))
		fail_msg("seed %llu step %d: apply: %d (%s) / %d (%s)", (unsigned long long)m->seed, m->step, rc[0], err[0],
			 rc[1], err[1]);
	if (rc[0] == 0 && m->policy != which)
		m->lowered = true; /* each policy lowers one pool of the other */
	if (rc[0] == 0)
		m->policy = which;
}

static int dim(const ah_service *s, const char *name)
{
	return ah_dimset_find(&ah_service_policy_get(s)->dims, name);
}

static void same_decision(sim *m, const ah_service_decision *a, const ah_service_decision *b)
{
	if (a->d.outcome != b->d.outcome || a->d.id != b->d.id || a->d.reason != b->d.reason ||
	    a->d.queue_position != b->d.queue_position || memcmp(&a->d.res, &b->d.res, sizeof a->d.res) != 0)
		fail_msg("seed %" PRIu64 " step %d: restarted service decided differently: outcome %d/%d id %" PRIu64
			 "/%" PRIu64 " reason %d/%d position %d/%d",
			 m->seed, m->step, a->d.outcome, b->d.outcome, a->d.id, b->d.id, a->d.reason, b->d.reason,
			 a->d.queue_position, b->d.queue_position);
}

static void op_tick(sim *m);

static void op_request(sim *m, rng *r)
{
	static const char *tenants[] = {"t1", "t2", "t3"};
	static const char *pools[] = {"a", "b"};
	static const char *classes[] = {"hi", "lo"};
	ah_request rq = {.tenant = tenants[pick(r, 3)], .pool = pools[pick(r, 2)], .klass = classes[pick(r, 2)],
			 .queue_timeout_ns = pick(r, 4) ? -1 : 0};
	rq.res.v[dim(m->svc[0], "cpu")] = 100 * (1 + pick(r, 40));
	rq.res.v[dim(m->svc[0], "memory")] = (INT64_C(64) << 20) * (1 + pick(r, 40));
	ah_service_decision d[2];
	for (int k = 0; k < 2; k++)
		assert_int_equal(ah_service_request(m->svc[k], &rq, m->now, &d[k]), 0);
	same_decision(m, &d[0], &d[1]);
	if (d[0].d.outcome != AH_REFUSED && m->nids < MAX_IDS)
		m->ids[m->nids++] = d[0].d.id;
}

static void op_same_rc(sim *m, const char *what, int a, int b)
{
	if (a != b)
		fail_msg("seed %" PRIu64 " step %d: %s: %d in the service that never stopped, %d after restarts", m->seed,
			 m->step, what, a, b);
}

static void op_report(sim *m, rng *r)
{
	if (!m->nids)
		return;
	uint64_t id = m->ids[pick(r, m->nids)];
	ah_vec u;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		u.v[i] = AH_USAGE_NONE;
	u.v[dim(m->svc[0], "cpu")] = 100 * pick(r, 60); /* up to 6 cores: grows, pending grows */
	if (pick(r, 2))
		u.v[dim(m->svc[0], "memory")] = (INT64_C(64) << 20) * pick(r, 60);
	ah_service_report_out o[2];
	int rc0 = ah_service_report(m->svc[0], id, &u, m->now, &o[0]);
	int rc1 = ah_service_report(m->svc[1], id, &u, m->now, &o[1]);
	op_same_rc(m, "report", rc0, rc1);
	if (rc0 == 0 && (o[0].o.action != o[1].o.action || memcmp(&o[0].o.res, &o[1].o.res, sizeof o[0].o.res)))
		fail_msg("seed %" PRIu64 " step %d: report %" PRIu64 ": action %d/%d", m->seed, m->step, id, o[0].o.action,
			 o[1].o.action);
}

static void op_release(sim *m, rng *r)
{
	if (!m->nids)
		return;
	int i = pick(r, m->nids);
	uint64_t id = m->ids[i];
	m->ids[i] = m->ids[--m->nids];
	op_same_rc(m, "release", ah_service_release(m->svc[0], id, m->now), ah_service_release(m->svc[1], id, m->now));
}

static void op_renew(sim *m, rng *r)
{
	if (!m->nids)
		return;
	uint64_t id = m->ids[pick(r, m->nids)];
	int64_t e0 = 0, e1 = 0;
	op_same_rc(m, "renew", ah_service_renew(m->svc[0], id, 0, m->now, &e0),
		   ah_service_renew(m->svc[1], id, 0, m->now, &e1));
	assert_int_equal(e0, e1);
}

static void op_tick(sim *m)
{
	ah_service_tick_out t[2];
	for (int k = 0; k < 2; k++)
		assert_int_equal(ah_service_tick(m->svc[k], m->now, &t[k]), 0);
	assert_int_equal(t[0].allocs, t[1].allocs);
	assert_int_equal(t[0].queued, t[1].queued);
}

/* ---- invariants ---- */

typedef struct {
	ah_vec used[AH_MAX_POOLS];
	const ah_policy *pol;
	char list[64 * 1024];
	size_t len;
} view;

static int visit(void *ctx, const ah_engine_item *it)
{
	view *v = ctx;
	int p = ah_policy_find_pool(v->pol, it->pool);
	if (!it->queued && p >= 0)
		ah_vec_add(&v->used[p], it->res, v->pol->dims.n);
	if (v->len < sizeof v->list - 200) {
		int n = snprintf(v->list + v->len, sizeof v->list - v->len, "%" PRIu64 "%c%s/%s/%s:", it->id,
				 it->queued ? 'q' : 'a', it->tenant, it->pool, it->klass);
		v->len += (size_t)n;
		for (int d = 0; d < v->pol->dims.n; d++)
			v->len += (size_t)snprintf(v->list + v->len, sizeof v->list - v->len, "%" PRId64 ",", it->res->v[d]);
	}
	return 0;
}

static void take_view(const ah_service *s, view *v)
{
	memset(v, 0, sizeof(*v));
	v->pol = ah_service_policy_get(s);
	ah_engine_foreach(ah_service_engine_get(s), visit, v);
}

static void check_invariants(sim *m)
{
	view v0, v1, vf;
	take_view(m->svc[0], &v0);
	take_view(m->svc[1], &v1);
	const ah_engine *e = ah_service_engine_get(m->svc[0]);
	const ah_policy *pol = ah_service_policy_get(m->svc[0]);
	for (int p = 0; p < ah_engine_pool_count(e); p++) {
		ah_engine_pool_info pi;
		assert_int_equal(ah_engine_pool_get(e, p, &pi), 0);
		for (int d = 0; d < pol->dims.n; d++) {
			if (pi.used->v[d] != v0.used[p].v[d])
				fail_msg("seed %" PRIu64 " step %d: pool %s %s: used %" PRId64 " but allocations sum to %" PRId64,
					 m->seed, m->step, pi.name, pol->dims.name[d], pi.used->v[d], v0.used[p].v[d]);
			/* A policy may shrink a pool below its use: then nothing
			 * new is admitted, and use only falls. */
			(void)0;
		}
	}
	if (strcmp(v0.list, v1.list))
		fail_msg("seed %" PRIu64 " step %d: the restarted service holds other allocations:\n%s\n%s", m->seed, m->step,
			 v0.list, v1.list);
	/* the ledger agrees with the live state */
	ah_service *fresh = open_at(m, 0);
	take_view(fresh, &vf);
	ah_service_free(fresh);
	if (strcmp(v0.list, vf.list))
		fail_msg("seed %" PRIu64 " step %d: the ledger holds other allocations than the live service:\n%s\n%s",
			 m->seed, m->step, v0.list, vf.list);
}

/* Use within capacity — except after a policy lowered a pool's capacity
 * below its use: then use may stay above it but never rises there. */
static void check_capacity(sim *m)
{
	const ah_engine *e = ah_service_engine_get(m->svc[0]);
	const ah_policy *pol = ah_service_policy_get(m->svc[0]);
	for (int p = 0; p < ah_engine_pool_count(e); p++) {
		ah_engine_pool_info pi;
		assert_int_equal(ah_engine_pool_get(e, p, &pi), 0);
		for (int d = 0; d < pol->dims.n; d++) {
			int64_t u = pi.used->v[d];
			if (u > pi.capacity->v[d] && (!m->lowered || u > m->prev_used[p][d]))
				fail_msg("seed %llu step %d: pool %s %s over capacity (%lld > %lld)", (unsigned long long)m->seed,
					 m->step, pi.name, pol->dims.name[d], (long long)u, (long long)pi.capacity->v[d]);
			m->prev_used[p][d] = u;
		}
	}
}

static void run_seed(uint64_t seed)
{
	sim m = {.seed = seed, .now = T0};
	for (int k = 0; k < 2; k++) {
		snprintf(m.db[k], sizeof m.db[k], "/tmp/ahead-svcsim-%d-%d.db", (int)getpid(), k);
		rm_ledger(m.db[k]);
	}
	apply_policy(&m, 0);
	for (int k = 0; k < 2; k++)
		m.svc[k] = open_at(&m, k);
	rng r = {seed};
	for (m.step = 0; m.step < STEPS; m.step++) {
		int op = pick(&r, 100);
		if (getenv("AHEAD_SIM_TRACE"))
			print_message("step %d op %d t=%lld\n", m.step, op, (long long)((m.now - T0) / S));
		if (op < 40)
			op_request(&m, &r);
		else if (op < 65)
			op_report(&m, &r);
		else if (op < 78)
			op_release(&m, &r);
		else if (op < 84)
			op_renew(&m, &r);
		else if (op < 88)
			op_tick(&m);
		else if (op < 90) {
			apply_policy(&m, 1 - m.policy);
			op_tick(&m); /* the services notice the policy at their next call */
		} else
			op_tick(&m); /* every step calls both, so both have seen this time */
		if (pick(&r, 8) == 0) { /* a crash of the second service, after the answer it gave */
			ah_service_free(m.svc[1]);
			m.svc[1] = open_at(&m, 1);
			m.restarts++;
			if (getenv("AHEAD_SIM_TRACE"))
				print_message("  restart\n");
		}
		check_invariants(&m);
		check_capacity(&m);
		m.now += S * (1 + pick(&r, 20));
		if (pick(&r, 40) == 0)
			m.now += 11 * 60 * S; /* a clock jump past leases and queue timeouts */
	}
	for (int k = 0; k < 2; k++) {
		ah_service_free(m.svc[k]);
		rm_ledger(m.db[k]);
	}
	assert_true(m.restarts > 10);
}

static void simulation(void **state)
{
	(void)state;
	const char *one = getenv("AHEAD_SIM_SEED"), *many = getenv("AHEAD_SIM_SEEDS");
	if (one) {
		run_seed(strtoull(one, NULL, 10));
		return;
	}
	int n = many ? atoi(many) : 6;
	for (int i = 1; i <= n; i++)
		run_seed((uint64_t)i * 7919);
	print_message("%d seeds x %d steps: restarted service, ledger and live service agree\n", n, STEPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(simulation)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
