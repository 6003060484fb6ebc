/* ahead: how many allocations of each workload each node holds, for
 * spreading (placement's first key). Counting them by a scan of the live
 * allocations at every placement cost one pass per grant (48k placements/s
 * at 10,000 allocations, bench/run placement); this table keeps the counts
 * as allocations come, go and move (eng_node_account), one lookup per
 * candidate node. Open addressing on (workload hash, node), linear probing,
 * deletion by backward shift (no tombstones: counts come and go all day).
 * If the table cannot grow, it is dropped and placement scans again. */
#include <stdlib.h>

#include "core/engine_int.h"

static uint64_t key_of(uint32_t wl, int node)
{
	return ((uint64_t)wl << 16) | (uint64_t)(node + 1); /* never 0: node + 1 >= 1 */
}

static uint32_t slot_of(uint64_t key, uint32_t mask)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 40) & mask;
}

static bool grow(ah_engine *e)
{
	uint32_t ncap = e->spread_cap ? e->spread_cap * 2 : 256;
	eng_spread_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return false;
	for (uint32_t i = 0; i < e->spread_cap; i++) {
		if (!e->spread[i].key)
			continue;
		uint32_t j = slot_of(e->spread[i].key, ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = e->spread[i];
	}
	free(e->spread);
	e->spread = ns;
	e->spread_cap = ncap;
	return true;
}

/* Removes slot i, shifting back the entries its presence displaced. */
static void remove_at(ah_engine *e, uint32_t i)
{
	uint32_t mask = e->spread_cap - 1;
	for (uint32_t j = (i + 1) & mask; e->spread[j].key; j = (j + 1) & mask) {
		uint32_t home = slot_of(e->spread[j].key, mask);
		/* j may fill the hole at i unless its home lies in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			e->spread[i] = e->spread[j];
			i = j;
		}
	}
	e->spread[i].key = 0;
	e->spread[i].n = 0;
	e->spread_n--;
}

void eng_spread_add(ah_engine *e, uint32_t wl, int node, int delta)
{
	if (!wl || node < 0 || e->spread_off)
		return;
	if ((e->spread_n + 1) * 2 > e->spread_cap && !grow(e)) {
		eng_spread_clear(e);
		e->spread_off = true; /* counted by scanning from now on */
		return;
	}
	uint64_t k = key_of(wl, node);
	uint32_t mask = e->spread_cap - 1, i = slot_of(k, mask);
	while (e->spread[i].key && e->spread[i].key != k)
		i = (i + 1) & mask;
	if (!e->spread[i].key) {
		if (delta <= 0)
			return;
		e->spread[i].key = k;
		e->spread_n++;
	}
	e->spread[i].n += delta;
	if (e->spread[i].n <= 0)
		remove_at(e, i);
}

int eng_spread_get(const ah_engine *e, uint32_t wl, int node)
{
	if (!e->spread_cap)
		return 0;
	uint64_t k = key_of(wl, node);
	uint32_t mask = e->spread_cap - 1;
	for (uint32_t i = slot_of(k, mask); e->spread[i].key; i = (i + 1) & mask)
		if (e->spread[i].key == k)
			return e->spread[i].n;
	return 0;
}

void eng_spread_clear(ah_engine *e)
{
	free(e->spread);
	e->spread = NULL;
	e->spread_cap = 0;
	e->spread_n = 0;
}
