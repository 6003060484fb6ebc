/* ahead: streaming anomaly detection on one time series.
 *
 * Each incoming point is scored against its one-step prediction before the
 * predictor learns from it. The predictor is robust and online: a level
 * (EWMA) plus, when the data support it, a seasonal profile (daily or weekly,
 * found from the sample spacing and kept only while it predicts better than
 * the level alone). Residuals are measured in units of a decaying mean
 * absolute residual; large residuals are clipped before they update anything,
 * so one spike does not teach the model that spikes are normal, and an exact
 * repeat of the last value does not shrink the scale.
 *
 * Score in [0,1]: u / (u + z_half * max(1, q) / 3), where u is the larger of
 * the point's surprise |z| and the sustained surprise (a short EWMA of signed
 * z, times sustained_gain), and q is a decaying tail_quantile of |z| for this
 * series, so a metric whose residuals are heavy-tailed does not alarm on its
 * usual spikes; q is raised to memory_gain times the largest |z| near the
 * same time one day earlier (a daily job's spike is a habit). With
 * tail_quantile = 0 the score is u / (u + z_half). A record (a point beyond
 * every value seen so far by extreme_margin_z sigmas, scoring at least
 * extreme_min_score, not at a daily habit's time) scores higher
 * (extreme_gain), so a mildly surprising record opens an event; the point
 * where one value has repeated longer than any run before scores flat_score
 * (a freeze).
 *
 * Change points: after shift_points consecutive same-sign residuals beyond
 * shift_z, the level is moved to the recent values (re-levelled) and the
 * short-term state reset, so a level shift gives one event and is then
 * learned. Points at or above the threshold form events (start, end, peak);
 * a first point below confirm_score opens one only when a point hot by its
 * own |z| follows within confirm_points (the event then opens there, its
 * record starting at the first). An event stays open across up to
 * merge_gap_points calm points, and after it closes no new event opens for
 * refractory_points points.
 *
 * O(memory_width_points) time per point (memory O(max_season_points)); never reads the clock,
 * never prints. Timestamps are the caller's, in ns. */
#ifndef AHEAD_ANOMALY_H
#define AHEAD_ANOMALY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AH_ANOMALY_MAX_SEASON 16384     /* hard cap on a season length, in points */
#define AH_ANOMALY_MAX_EVENTS 1000000   /* hard cap on events kept by ah_anomaly_detect */

typedef enum {
	AH_ANOMALY_SPIKE = 0,       /* deviation that went away by itself */
	AH_ANOMALY_LEVEL_SHIFT = 1, /* deviation that persisted; the level was re-learned */
} ah_anomaly_kind;

typedef struct {
	double threshold;          /* score >= threshold is anomalous (default 0.38) */
	double z_half;             /* surprise (in sigmas) that scores 0.5 (default 6) */
	double sustained_gain;     /* weight of the sustained surprise (default 1.5; 0 = off) */
	double sustained_alpha;    /* EWMA weight of the sustained surprise (default 0.2) */
	uint32_t warmup_points;    /* points scored 0 while the model starts (default 30) */
	double level_alpha;        /* EWMA weight of the level (default 0.05) */
	double season_gamma;       /* update weight of the seasonal profile (default 0.1) */
	double scale_beta;         /* decay of the residual scale (default 0.01) */
	double clip_z;             /* residuals are clipped to this many sigmas for learning (default 4) */
	uint32_t season_points;    /* 0: auto (daily/weekly from the spacing); 1: none; else fixed */
	int64_t step_ns;           /* sample spacing; 0: taken from the first two timestamps */
	uint32_t shift_points;     /* consecutive high residuals that mean a level shift (default 5) */
	double shift_z;            /* |z| that counts toward a shift (default 3.5) */
	uint32_t merge_gap_points; /* calm points an event survives (default 3) */
	uint32_t refractory_points; /* points after an event before a new one may open (default 100) */
	double tail_quantile;      /* track this quantile of |z| and score relative to it (default 0.99; 0 = off) */
	double tail_rate;          /* relative step of that quantile tracker (default 0.05) */
	double memory_gain;        /* surprise needed >= this times the largest |z| near the same time one day
				    * earlier (default 0.9; 0 = off): a daily job's spike is a habit */
	uint32_t memory_width_points; /* +- points searched around that time (default 12) */
	double confirm_score;      /* a first hot point scoring below this opens an event only if another hot
				    * point follows within confirm_points (default 0.45; 0 = off) */
	uint32_t confirm_points;   /* (default 20) */
	double extreme_gain;       /* a point beyond the range of every value seen so far by extreme_margin_z
				    * sigmas, scoring at least extreme_min_score: score += (1 - score) * this
				    * (default 0.5; 0 = off) */
	double extreme_min_score;  /* (default 0.15): a mildly surprising new record is news */
	double extreme_margin_z;   /* (default 0.25) */
	double flat_score;         /* score given to the point where one repeated value has run longer than
				    * any run before and >= flat_min_points (default 0.6; 0 = off) */
	uint32_t flat_min_points;  /* (default 30) */
	uint32_t repeats_keep_scale; /* 1: a value equal to the last one does not update the scale (default 1) */
} ah_anomaly_config;

/* Fills the defaults above. */
void ah_anomaly_config_default(ah_anomaly_config *cfg);

/* An anomaly: contiguous anomalous points (merged across short calm gaps). */
typedef struct {
	int64_t start_ns, end_ns, peak_ns;  /* timestamps of the first, last, highest point */
	uint64_t start_index, end_index, peak_index; /* point indices (0-based, in push order) */
	double peak_score;
	ah_anomaly_kind kind;
} ah_anomaly_event;

/* What one push produced. */
typedef struct {
	double score;      /* [0,1]; 0 during warm-up and for missing values */
	double predicted;  /* one-step prediction; NaN before there is one */
	double z;          /* signed residual in sigmas (0 when not scored) */
	bool anomalous;    /* score >= threshold (not suppressed by refractory, not an unconfirmed candidate) */
	bool event_start;  /* this point opened an event (a confirmed one: its start may be earlier) */
	bool relevel;      /* a level shift was learned at this point */
	bool event_closed; /* an event was closed here; it was written to *closed */
} ah_anomaly_point;

typedef struct ah_anomaly_detector ah_anomaly_detector;

/* cfg NULL = defaults. AH_EINVAL names no field; use ah_anomaly_config_check. */
int ah_anomaly_new(const ah_anomaly_config *cfg, ah_anomaly_detector **out);
void ah_anomaly_free(ah_anomaly_detector *d);

/* Validates cfg; on error writes the field name and reason to err. */
int ah_anomaly_config_check(const ah_anomaly_config *cfg, char *err, size_t err_len);

/* Scores one point (value NaN = missing) and learns from it. Timestamps must
 * not go backwards (AH_EINVAL). If an event closes, it is written to *closed
 * (may be NULL if the caller does not want it) and out->event_closed is set. */
int ah_anomaly_push(ah_anomaly_detector *d, int64_t t_ns, double value, ah_anomaly_point *out,
		    ah_anomaly_event *closed);

/* Closes the open event, if any, at the end of the data: *has says whether
 * *ev was written. */
int ah_anomaly_finish(ah_anomaly_detector *d, ah_anomaly_event *ev, bool *has);

/* Season length in use (1 = none yet / level only). */
uint32_t ah_anomaly_season(const ah_anomaly_detector *d);

/* Batch helper: runs a fresh detector over n points. scores (optional)
 * receives n scores; *events_out (malloc'd, free()) the events in order. */
int ah_anomaly_detect(const ah_anomaly_config *cfg, const int64_t *t_ns, const double *v, size_t n,
		      double *scores, ah_anomaly_event **events_out, size_t *n_events_out);

/* The rows of a file as they are (NAB's reading mode: repeated or
 * backward timestamps kept in file order, no gap points): a fresh detector
 * over n rows; score[i] is row i's score, onset[i] its score when row i
 * opened an event and 0 otherwise (what NAB is given as detections). A row
 * whose time goes back is scored at the latest time seen. *out_events (may
 * be NULL): events opened. ahead anomalies --nab-results and bench/run
 * anomaly both score through this. */
int ah_anomaly_score_rows(const ah_anomaly_config *cfg, const int64_t *t_ns, const double *v, size_t n,
			  double *score, double *onset, size_t *out_events);

const char *ah_anomaly_kind_name(ah_anomaly_kind k);

#ifdef __cplusplus
}
#endif
#endif
