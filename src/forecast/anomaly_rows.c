/* Scoring a file's rows as they are: the reading mode NAB scores.
 *
 * NAB's data files repeat and, rarely, reorder timestamps, and NAB scores
 * one detection per row in file order. ahead anomalies --nab-results and
 * bench/run anomaly both come here, so what the bench scores is what the CLI
 * writes. A row whose time goes back is pushed at the latest time seen (the
 * detector needs order, not spacing); no points are inserted into gaps. */
#include <stddef.h>

#include "ahead/anomaly.h"
#include "ahead/error.h"

int ah_anomaly_score_rows(const ah_anomaly_config *cfg, const int64_t *t_ns, const double *v, size_t n,
			  double *score, double *onset, size_t *out_events)
{
	if (n && (!t_ns || !v || !score || !onset))
		return AH_EINVAL;
	ah_anomaly_detector *d = NULL;
	int rc = ah_anomaly_new(cfg, &d);
	if (rc)
		return rc;
	size_t events = 0;
	int64_t last = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		ah_anomaly_point pt;
		int64_t t = t_ns[i] < last ? last : t_ns[i];
		last = t;
		if ((rc = ah_anomaly_push(d, t, v[i], &pt, NULL)))
			goto out;
		score[i] = pt.score;
		onset[i] = pt.event_start ? pt.score : 0.0;
		events += pt.event_start;
	}
	if (out_events)
		*out_events = events;
out:
	ah_anomaly_free(d);
	return rc;
}
