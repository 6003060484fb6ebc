/* threshold: Kubernetes HPA's rule applied to a workload's reservation.
 *
 * The reservation is R = replicas x quantum (quantum = one replica's
 * request: 100 millicores, 128 MiB by default). At each sample the HPA
 * replica calculator runs (pkg/controller/podautoscaler/replica_calculator.go):
 *   utilisation = (used x 100) / R          (integer percent, truncated)
 *   ratio = utilisation / target_percent
 *   |1 - ratio| <= tolerance  -> keep the current replica count
 *   otherwise desired = ceil(ratio x replicas), at least 1 (minReplicas)
 * then the v2 behaviour's stabilisation (horizontal.go,
 * stabilizeRecommendationWithBehaviors): scale-up window 0 s, scale-down
 * window 300 s -- the applied count is at most the max of the
 * recommendations made within the window. The HPA syncs every 15 s; a trace
 * sample's recommendation is repeated at each sync until the next sample, so
 * its last sync is (next sample time - 15 s). The default rate policies
 * (+100% or +4 pods per 15 s up, -100% per 15 s down) never bind within a
 * 5-minute interval, so changes apply at once. */
#include <math.h>
#include <string.h>

#include "sizing/sizing_int.h"

#define HPA_RING 512

typedef struct {
	int64_t q, window, sync;
	int64_t target_pct;
	double tol;
	int64_t replicas;
	int n, head; /* ring of recommendations, newest at head */
	int64_t until[HPA_RING];
	int64_t rec[HPA_RING];
} hpa_state;

static void hpa_init(void *s, const ah_sizing_params *p, int dim, int64_t requested)
{
	hpa_state *st = s;
	memset(st, 0, sizeof(*st));
	st->q = p->dim[dim].quantum > 0 ? p->dim[dim].quantum : 1;
	st->window = p->hpa_window_s;
	st->sync = p->hpa_sync_s;
	st->target_pct = (int64_t)llround(p->hpa_target * 100.0);
	if (st->target_pct < 1)
		st->target_pct = 1;
	st->tol = p->hpa_tolerance;
	st->replicas = requested > 0 ? (requested + st->q - 1) / st->q : 1;
	if (st->replicas < 1)
		st->replicas = 1;
	st->head = -1;
}

static int64_t hpa_reserve(void *s, int64_t t, int64_t requested)
{
	(void)t;
	(void)requested;
	hpa_state *st = s;
	return st->replicas * st->q;
}

static void hpa_observe(void *s, int64_t t, int64_t used, int64_t reserved, int64_t requested)
{
	(void)reserved;
	(void)requested;
	hpa_state *st = s;
	int64_t cur = st->replicas;
	int64_t R = cur * st->q;
	int64_t util = (int64_t)(((__int128)used * 100) / R);
	double ratio = (double)util / (double)st->target_pct;
	int64_t desired;
	if (fabs(1.0 - ratio) <= st->tol)
		desired = cur;
	else
		desired = (int64_t)ceil(ratio * (double)cur);
	if (desired < 1)
		desired = 1;
	/* The previous sample's recommendation was last made one sync before now. */
	if (st->head >= 0)
		st->until[st->head] = t - st->sync;
	st->head = (st->head + 1) % HPA_RING;
	st->until[st->head] = t;
	st->rec[st->head] = desired;
	if (st->n < HPA_RING)
		st->n++;
	/* up: min over a 0 s window = desired; down: max over the window */
	int64_t down = desired;
	for (int k = 1; k < st->n; k++) {
		int j = (st->head - k + HPA_RING) % HPA_RING;
		if (st->until[j] <= t - st->window)
			break;
		if (st->rec[j] > down)
			down = st->rec[j];
	}
	int64_t up = desired, next = cur;
	if (next < up)
		next = up;
	if (next > down)
		next = down;
	st->replicas = next;
}

const ah_sizing_ops ah_sizing_threshold_ops = {
	.name = "threshold",
	.state_size = sizeof(hpa_state),
	.init = hpa_init,
	.reserve = hpa_reserve,
	.observe = hpa_observe,
};
