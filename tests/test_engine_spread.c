/* The per-(workload, node) counts placement spreads by (src/core/
 * engine_spread.c): against a plain array under a long random sequence of
 * adds and removes (many collisions, growth, backward-shift deletion), and
 * through the engine: grants, releases, a node's loss and a reload from
 * the ledger leave the table equal to a scan of the live allocations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/engine_int.h"
#include "engine_fixture.h"

#define NWL 97
#define NN 7

static void test_against_an_array(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	ah_engine *e;
	assert_int_equal(ah_engine_new(pol, NULL, 0, &e), 0);
	static int ref[NWL][NN];
	uint64_t r = 12345;
	for (int step = 0; step < 200000; step++) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		int w = (int)((r >> 33) % NWL), n = (int)((r >> 17) % NN);
		/* a few workload hashes that share their low bits */
		uint32_t wl = (uint32_t)(w + 1) * 65536u + 1u;
		bool add = ref[w][n] == 0 || ((r >> 7) & 3) != 0 || step < 50000;
		if (!add && ref[w][n] > 0) {
			eng_spread_add(e, wl, n, -1);
			ref[w][n]--;
		} else if (add) {
			eng_spread_add(e, wl, n, +1);
			ref[w][n]++;
		}
		if (step % 997 == 0 || step > 199000)
			for (int i = 0; i < NWL; i++)
				for (int j = 0; j < NN; j++)
					if (eng_spread_get(e, (uint32_t)(i + 1) * 65536u + 1u, j) != ref[i][j])
						fail_msg("step %d: wl %d node %d: %d, want %d", step, i, j,
							 eng_spread_get(e, (uint32_t)(i + 1) * 65536u + 1u, j), ref[i][j]);
	}
	/* drain everything: the table empties */
	for (int i = 0; i < NWL; i++)
		for (int j = 0; j < NN; j++)
			while (ref[i][j]-- > 0)
				eng_spread_add(e, (uint32_t)(i + 1) * 65536u + 1u, j, -1);
	assert_int_equal(e->spread_n, 0);
	ah_engine_free(e);
	free(pol);
}

static void same_as_scan(const ah_engine *e)
{
	int cnt[AH_NODES_MAX];
	for (int s = 0; s < e->nslots; s++) {
		const alloc_t *a = &e->slots[s];
		if (!a->id || !a->wl)
			continue;
		for (int i = 0; i < e->nnodes; i++)
			cnt[i] = 0;
		for (int t = 0; t < e->nslots; t++)
			if (e->slots[t].id && e->slots[t].wl == a->wl && e->slots[t].node1 > 0)
				cnt[e->slots[t].node1 - 1]++;
		for (int i = 0; i < e->nnodes; i++)
			assert_int_equal(eng_spread_get(e, a->wl, i), cnt[i]);
	}
}

static void test_through_the_engine(void **state)
{
	(void)state;
	ah_policy *pol = fx_policy();
	snprintf(pol->pools[0].nodes, sizeof pol->pools[0].nodes, "*");
	for (int d = 0; d < AH_MAX_DIMS; d++) {
		pol->pools[0].capacity.v[d] = 0;
		pol->pools[0].max_size.v[d] = AH_VALUE_MAX;
		pol->pools[0].min_size.v[d] = 0;
	}
	pol->queue_timeout_ns = 0;
	ah_ledger *led;
	assert_int_equal(ah_ledger_memory_new(16, &led), 0);
	ah_engine *e;
	assert_int_equal(ah_engine_new(pol, led, 0, &e), 0);
	ah_engine_node n[3];
	const char *names[] = {"a", "b", "c"};
	for (int i = 0; i < 3; i++) {
		n[i] = (ah_engine_node){.name = names[i], .up = true};
		n[i].capacity.v[AH_DIM_CPU] = 64000;
		n[i].capacity.v[AH_DIM_MEMORY] = 64 * GI;
	}
	assert_int_equal(ah_engine_set_nodes(e, n, 3, 1, NULL), 0);
	const char *wls[] = {"web", "db", "batch"};
	uint64_t ids[60];
	for (int i = 0; i < 60; i++) {
		ah_request r = fx_req("a", NULL, 500, GI / 4);
		r.workload = wls[i % 3];
		ah_decision d;
		assert_int_equal(ah_engine_request(e, &r, 2 + i, &d), 0);
		assert_int_equal(d.outcome, AH_GRANTED);
		ids[i] = d.id;
	}
	same_as_scan(e);
	for (int i = 0; i < 60; i += 4)
		assert_int_equal(ah_engine_release(e, ids[i], 100 + i), 0);
	same_as_scan(e);
	n[1].up = false; /* b's move to a and c */
	assert_int_equal(ah_engine_set_nodes(e, n, 3, 200, NULL), 0);
	same_as_scan(e);
	assert_int_equal(ah_engine_reload(e, 300), 0);
	same_as_scan(e);
	ah_engine_free(e);
	ah_ledger_free(led);
	free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_an_array),
		cmocka_unit_test(test_through_the_engine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
