/* static: reserve what the workload provisioned (the trace's requested
 * capacity), as a fixed request or a VM size does. Without a requested
 * column there is nothing to reserve: 0. */
#include "sizing/sizing_int.h"

typedef struct {
	int64_t req;
} static_state;

static void st_init(void *s, const ah_sizing_params *p, int dim, int64_t requested)
{
	(void)p;
	(void)dim;
	((static_state *)s)->req = requested > 0 ? requested : 0;
}

static int64_t st_reserve(void *s, int64_t t, int64_t requested)
{
	(void)t;
	static_state *st = s;
	if (requested >= 0)
		st->req = requested;
	return st->req;
}

static void st_observe(void *s, int64_t t, int64_t used, int64_t reserved, int64_t requested)
{
	(void)s;
	(void)t;
	(void)used;
	(void)reserved;
	(void)requested;
}

const ah_sizing_ops ah_sizing_static_ops = {
	.name = "static",
	.state_size = sizeof(static_state),
	.init = st_init,
	.reserve = st_reserve,
	.observe = st_observe,
};
