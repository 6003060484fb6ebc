/* Shared fixture for engine tests: a policy built in code (no parser), so
 * the engine's rules are tested on their own. */
#ifndef AHEAD_TEST_ENGINE_FIXTURE_H
#define AHEAD_TEST_ENGINE_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "ahead/engine.h"
#include "ahead/policy.h"

#define SEC 1000000000LL
#define GI (1024LL * 1024 * 1024)

static inline void fx_unlimited(ah_vec *v)
{
	for (int i = 0; i < AH_MAX_DIMS; i++)
		v->v[i] = AH_UNLIMITED;
}

/* One pool "p": cpu 10 cores, memory 10Gi, qubits 8 (unit 2).
 * Classes gold (100, preempts), standard (50, default), batch (10).
 * Tenants a, b, c without limits. */
static inline ah_policy *fx_policy(void)
{
	ah_policy *p = calloc(1, sizeof(*p));
	int qi;
	ah_dimset_init(&p->dims);
	ah_dimset_add(&p->dims, "qubits", AH_UNIT_COUNT, &qi);
	p->n_pools = 1;
	ah_pool_policy *pp = &p->pools[0];
	strcpy(pp->name, "p");
	pp->capacity.v[AH_DIM_CPU] = 10000;
	pp->capacity.v[AH_DIM_MEMORY] = 10 * GI;
	pp->capacity.v[qi] = 8;
	pp->min_size = pp->capacity;
	pp->max_size = pp->capacity;
	for (int i = 0; i < AH_MAX_DIMS; i++)
		pp->unit.v[i] = 1;
	pp->unit.v[qi] = 2;
	pp->max_queue = 100;
	const char *cn[] = {"gold", "standard", "batch"};
	int pr[] = {100, 50, 10};
	p->n_classes = 3;
	for (int i = 0; i < 3; i++) {
		ah_class_policy *c = &p->classes[i];
		strcpy(c->name, cn[i]);
		c->priority = pr[i];
		c->quantile = 0.9;
		fx_unlimited(&c->max_request);
	}
	p->classes[0].preempt = true;
	p->default_class = 1;
	const char *tn[] = {"a", "b", "c"};
	p->n_tenants = 3;
	for (int i = 0; i < 3; i++) {
		strcpy(p->tenants[i].name, tn[i]);
		fx_unlimited(&p->tenants[i].quota);
	}
	fx_unlimited(&p->default_tenant.quota);
	p->lease_ttl_ns = 60 * SEC;
	p->max_lease_ttl_ns = 3600 * SEC;
	p->queue_timeout_ns = 30 * SEC;
	return p;
}

static inline ah_request fx_req(const char *tenant, const char *klass, int64_t cpu_m, int64_t mem)
{
	ah_request r = {.tenant = tenant, .pool = "p", .klass = klass, .queue_timeout_ns = -1};
	r.res.v[AH_DIM_CPU] = cpu_m;
	r.res.v[AH_DIM_MEMORY] = mem;
	return r;
}

#endif
