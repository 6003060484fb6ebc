/* Streaming anomaly detector: level shifts are flagged once and learned,
 * spikes in a seasonal series are flagged, constant series stay quiet, and
 * bad input is refused. Noise is uniform from a fixed LCG so every case is
 * deterministic and bounded (no tail event can happen by chance). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/anomaly.h"
#include "ahead/error.h"

#define STEP_NS (300LL * 1000000000LL) /* 5 minutes: a day is 288 points */
#define T0 (1400000000LL * 1000000000LL)

static uint64_t lcg = 12345;
static double noise(void) /* uniform in [-1, 1) */
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(lcg >> 11) / (double)(1ULL << 53) * 2.0 - 1.0;
}

typedef struct {
	int64_t *t;
	double *v;
	size_t n;
} series;

static series make(size_t n)
{
	series s = {calloc(n, sizeof(int64_t)), calloc(n, sizeof(double)), n};
	assert_non_null(s.t);
	assert_non_null(s.v);
	for (size_t i = 0; i < n; i++)
		s.t[i] = T0 + (int64_t)i * STEP_NS;
	return s;
}

static void drop(series *s)
{
	free(s->t);
	free(s->v);
}

static void test_level_shift_flagged_once(void **state)
{
	(void)state;
	series s = make(2400);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = (i < 800 ? 10.0 : 30.0) + noise();
	ah_anomaly_event *ev = NULL;
	size_t ne = 0;
	double *scores = calloc(s.n, sizeof(double));
	assert_int_equal(ah_anomaly_detect(NULL, s.t, s.v, s.n, scores, &ev, &ne), 0);
	assert_int_equal(ne, 1);
	assert_true(ev[0].start_index >= 800 && ev[0].start_index <= 801);
	assert_true(ev[0].start_ns == s.t[ev[0].start_index]);
	assert_true(ev[0].end_index < 820); /* learned within a few points */
	assert_int_equal(ev[0].kind, AH_ANOMALY_LEVEL_SHIFT);
	assert_true(ev[0].peak_score > 0.5 && ev[0].peak_score <= 1.0);
	/* after the shift settles, the new level is as normal as the old one was:
	 * same typical score, and nothing reaches the threshold (the settled
	 * series peaks at 0.367 against the default 0.38; before, 0.329) */
	double before = 0, after = 0, mb = 0, ma = 0;
	for (size_t i = 100; i < 800; i++) {
		before = fmax(before, scores[i]);
		mb += scores[i] / 700.0;
	}
	for (size_t i = 900; i < s.n; i++) {
		after = fmax(after, scores[i]);
		ma += scores[i] / (double)(s.n - 900);
	}
	ah_anomaly_config def;
	ah_anomaly_config_default(&def);
	print_message("max score before %.3f after %.3f\n", before, after);
	assert_true(before < def.threshold - 0.02);
	assert_true(after < def.threshold);
	print_message("mean score before %.3f after %.3f\n", mb, ma);
	assert_true(fabs(ma - mb) < 0.03);
	for (size_t i = 0; i < s.n; i++)
		assert_true(scores[i] >= 0.0 && scores[i] <= 1.0);
	free(ev);
	free(scores);
	drop(&s);
}

static void test_shift_down_streaming(void **state)
{
	(void)state;
	ah_anomaly_detector *d = NULL;
	ah_anomaly_config cfg;
	ah_anomaly_config_default(&cfg);
	cfg.season_points = 1; /* level only */
	assert_int_equal(ah_anomaly_new(&cfg, &d), 0);
	int opened = 0, releveled = 0, closed = 0;
	for (size_t i = 0; i < 1500; i++) {
		ah_anomaly_point pt;
		ah_anomaly_event ev;
		double v = (i < 500 ? 100.0 : 60.0) + 0.5 * noise();
		assert_int_equal(ah_anomaly_push(d, T0 + (int64_t)i * STEP_NS, v, &pt, &ev), 0);
		opened += pt.event_start;
		releveled += pt.relevel;
		if (pt.event_closed) {
			closed++;
			assert_int_equal(ev.kind, AH_ANOMALY_LEVEL_SHIFT);
			assert_true(ev.start_index == 500);
		}
		if (i < 500)
			assert_false(pt.anomalous);
	}
	assert_int_equal(opened, 1);
	assert_int_equal(releveled, 1);
	assert_int_equal(closed, 1);
	ah_anomaly_event ev;
	bool has = true;
	assert_int_equal(ah_anomaly_finish(d, &ev, &has), 0);
	assert_false(has);
	ah_anomaly_free(d);
}

static void test_spike_in_seasonal_series(void **state)
{
	(void)state;
	series s = make(288 * 10);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = 50.0 + 20.0 * sin(2 * M_PI * (double)i / 288.0) + 0.5 * noise();
	s.v[2000] += 15.0; /* inside the daily range: only the season reveals it */
	ah_anomaly_detector *d = NULL;
	assert_int_equal(ah_anomaly_new(NULL, &d), 0);
	int events = 0, hit = 0;
	double spike_score = 0;
	for (size_t i = 0; i < s.n; i++) {
		ah_anomaly_point pt;
		assert_int_equal(ah_anomaly_push(d, s.t[i], s.v[i], &pt, NULL), 0);
		events += pt.event_start;
		if (pt.event_start && i == 2000)
			hit = 1;
		if (i == 2000)
			spike_score = pt.score;
	}
	assert_int_equal(ah_anomaly_season(d), 288); /* found the daily profile */
	assert_int_equal(events, 1);
	assert_true(hit);
	assert_true(spike_score > 0.8);
	ah_anomaly_free(d);
	drop(&s);
}

static void test_constant_series_quiet(void **state)
{
	(void)state;
	series s = make(3000);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = (i % 97 == 5) ? NAN : 42.0; /* missing values are not anomalies */
	ah_anomaly_event *ev = NULL;
	size_t ne = 99;
	double *scores = calloc(s.n, sizeof(double));
	assert_int_equal(ah_anomaly_detect(NULL, s.t, s.v, s.n, scores, &ev, &ne), 0);
	assert_int_equal(ne, 0);
	for (size_t i = 0; i < s.n; i++)
		assert_true(scores[i] == 0.0);
	free(ev);
	free(scores);
	drop(&s);
}

static void test_extreme_values(void **state)
{
	(void)state;
	series s = make(400);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = (i % 50 == 7) ? ((i / 50) % 2 ? 1.7e308 : -1.7e308) : (double)(i % 3);
	s.v[0] = 1.7e308; /* even during warm-up */
	double *scores = calloc(s.n, sizeof(double));
	ah_anomaly_event *ev = NULL;
	size_t ne = 0;
	assert_int_equal(ah_anomaly_detect(NULL, s.t, s.v, s.n, scores, &ev, &ne), 0);
	for (size_t i = 0; i < s.n; i++)
		assert_true(scores[i] >= 0.0 && scores[i] <= 1.0); /* never NaN */
	assert_true(ne >= 1);
	free(ev);
	free(scores);
	drop(&s);
}

/* Events opened (event_start) in [from, to) by a fresh detector. */
static int events_in(const ah_anomaly_config *cfg, const series *s, size_t from, size_t to, size_t *first)
{
	ah_anomaly_detector *d = NULL;
	assert_int_equal(ah_anomaly_new(cfg, &d), 0);
	int n = 0;
	for (size_t i = 0; i < s->n; i++) {
		ah_anomaly_point pt;
		assert_int_equal(ah_anomaly_push(d, s->t[i], s->v[i], &pt, NULL), 0);
		if (pt.event_start && i >= from && i < to) {
			if (!n && first)
				*first = i;
			n++;
		}
	}
	ah_anomaly_free(d);
	return n;
}

/* A spike at about the same time every day (a daily job, a few points of
 * jitter) is the series' habit: after the first days it opens no events,
 * while the same spike at another time of day still does. Without the
 * memory, the daily spikes keep alarming. */
static void test_daily_habit_not_anomalous(void **state)
{
	(void)state;
	series s = make(288 * 8);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = 10.0 + noise();
	static const int jitter[] = {0, 3, -2, 4, -4, 1, 2, -3};
	for (size_t day = 1; day < 8; day++)
		s.v[(size_t)((int)(day * 288 + 100) + jitter[day])] += 30.0;
	size_t off = 7 * 288 + 200; /* day 7, 100 points after its habitual spike */
	s.v[off] += 30.0;
	ah_anomaly_config cfg;
	ah_anomaly_config_default(&cfg);
	int habit = 0;
	for (size_t day = 3; day < 8; day++)
		habit += events_in(&cfg, &s, day * 288 + 90, day * 288 + 110, NULL);
	assert_int_equal(habit, 0);
	assert_int_equal(events_in(&cfg, &s, off, off + 1, NULL), 1);
	cfg.memory_gain = 0;
	habit = 0;
	for (size_t day = 3; day < 8; day++)
		habit += events_in(&cfg, &s, day * 288 + 90, day * 288 + 110, NULL);
	assert_true(habit >= 4);
	drop(&s);
}

/* A lone point just over the threshold is not yet an alarm: with every
 * first point needing confirmation (confirm_score 1), one spike opens
 * nothing; a second within confirm_points opens one event, flagged at the
 * second point, its record starting at the first. */
static void test_lone_point_needs_confirmation(void **state)
{
	(void)state;
	series s = make(1500);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = 10.0 + noise();
	s.v[500] += 12.0;                   /* alone */
	s.v[1000] += 12.0, s.v[1006] += 12.0; /* a pair */
	ah_anomaly_config cfg;
	ah_anomaly_config_default(&cfg);
	cfg.season_points = 1;
	cfg.confirm_score = 1.0;
	ah_anomaly_event *ev = NULL;
	size_t ne = 0, first = 0;
	assert_int_equal(events_in(&cfg, &s, 0, s.n, &first), 1);
	assert_int_equal(first, 1006);
	assert_int_equal(ah_anomaly_detect(&cfg, s.t, s.v, s.n, NULL, &ev, &ne), 0);
	assert_int_equal(ne, 1);
	assert_int_equal(ev[0].start_index, 1000);
	free(ev);
	cfg.confirm_score = 0; /* off: the lone spike alarms at once */
	assert_int_equal(events_in(&cfg, &s, 0, s.n, &first), 2);
	assert_int_equal(first, 500);
	drop(&s);
}

/* A confirmed event is flagged at its second hot point; the alarm carries
 * the stronger of the two scores (the onset NAB ranks by), not only the
 * weaker second one. */
static void test_confirmed_onset_carries_peak(void **state)
{
	(void)state;
	series s = make(1500);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = 10.0 + noise();
	s.v[1000] += 20.0, s.v[1006] += 8.0; /* a strong point, then a weaker one */
	ah_anomaly_config cfg;
	ah_anomaly_config_default(&cfg);
	cfg.season_points = 1;
	cfg.confirm_score = 1.0;
	ah_anomaly_detector *d = NULL;
	assert_int_equal(ah_anomaly_new(&cfg, &d), 0);
	double cand = 0, onset = 0;
	size_t at = 0;
	for (size_t i = 0; i < s.n; i++) {
		ah_anomaly_point pt;
		assert_int_equal(ah_anomaly_push(d, s.t[i], s.v[i], &pt, NULL), 0);
		if (i == 1000)
			cand = pt.score;
		if (pt.event_start && !onset) {
			onset = pt.score;
			at = i;
		}
	}
	ah_anomaly_free(d);
	assert_int_equal(at, 1006);
	assert_true(cand >= cfg.threshold);
	assert_true(onset >= cand);
	drop(&s);
}

/* A metric that freezes at an ordinary value: no residual gives it away,
 * the run length does. The first run longer than any before it and than
 * flat_min_points opens one event; a later freeze no longer than that one
 * does not. (The thaw may alarm: the scale shrank during the freeze.) */
static void test_flat_line(void **state)
{
	(void)state;
	series s = make(3000);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = 10.0 + noise();
	for (size_t i = 1000; i < 1080; i++)
		s.v[i] = 10.0;
	for (size_t i = 2000; i < 2060; i++)
		s.v[i] = 10.0;
	ah_anomaly_config cfg;
	ah_anomaly_config_default(&cfg);
	cfg.season_points = 1;
	size_t first = 0;
	assert_int_equal(events_in(&cfg, &s, 0, 1080, &first), 1);
	assert_int_equal(first, 1000 + cfg.flat_min_points - 1);
	assert_int_equal(events_in(&cfg, &s, 2000, 2060, NULL), 0);
	cfg.flat_score = 0;
	assert_int_equal(events_in(&cfg, &s, 0, 1080, NULL), 0);
	drop(&s);
}

/* A stuck stretch says nothing about the spread: with repeats_keep_scale
 * the scale does not shrink while one value repeats, so ordinary noise
 * coming back after it is not an alarm; without, the shrunken scale makes
 * the thaw look like a spike. (Flat-line events off, to see the scale.) */
static void test_repeats_keep_scale(void **state)
{
	(void)state;
	series s = make(2000);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = (i >= 1000 && i < 1300) ? 10.0 : 10.0 + noise();
	ah_anomaly_config cfg;
	ah_anomaly_config_default(&cfg);
	cfg.season_points = 1;
	cfg.flat_score = 0;
	assert_int_equal(events_in(&cfg, &s, 1300, 1400, NULL), 0);
	cfg.repeats_keep_scale = 0;
	assert_int_equal(events_in(&cfg, &s, 1300, 1400, NULL), 1);
	drop(&s);
}

/* A surprising point outside every value seen so far scores higher than
 * the same surprise within the range: (1 - s) * extreme_gain is added. */
static void test_new_extreme_ranked_higher(void **state)
{
	(void)state;
	series s = make(1200);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = 10.0 + noise();
	s.v[600] = 40.0; /* a new maximum */
	ah_anomaly_config cfg;
	ah_anomaly_config_default(&cfg);
	cfg.season_points = 1;
	double *on = calloc(s.n, sizeof(double)), *off = calloc(s.n, sizeof(double));
	ah_anomaly_event *ev = NULL;
	size_t ne = 0;
	assert_int_equal(ah_anomaly_detect(&cfg, s.t, s.v, s.n, on, &ev, &ne), 0);
	free(ev);
	cfg.extreme_gain = 0;
	assert_int_equal(ah_anomaly_detect(&cfg, s.t, s.v, s.n, off, &ev, &ne), 0);
	free(ev);
	assert_true(off[600] >= cfg.threshold && off[600] < 1.0);
	assert_true(fabs(on[600] - (off[600] + (1.0 - off[600]) * 0.5)) < 1e-12);
	for (size_t i = 0; i < 600; i++)
		assert_true(on[i] == off[i]); /* nothing else changed before it */
	free(on);
	free(off);
	drop(&s);
}

/* A record by a clear margin is news even when its residual alone is mild:
 * a point 2 sigmas above every value seen (its score alone under the
 * threshold, over extreme_min_score) opens an event; the same excursion
 * inside the range does not, nor does a record by a hair's breadth (under
 * extreme_margin_z sigmas), nor one with extreme_min_score above its score. */
static void record_cfg(ah_anomaly_config *cfg)
{
	ah_anomaly_config_default(cfg);
	cfg->season_points = 1;
	cfg->z_half = 20; /* so that a 2-sigma residual scores under the threshold */
}

static void test_mild_record_is_news(void **state)
{
	(void)state;
	series s = make(1200);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = 10.0 + noise(); /* uniform in [9, 11): sigma about 0.63 */
	s.v[300] = 12.0;                 /* raises the range's top to 12 */
	s.v[900] = 13.4;                 /* a record by 1.4, about 2 sigmas */
	ah_anomaly_config cfg;
	record_cfg(&cfg);
	double *sc = calloc(s.n, sizeof(double));
	ah_anomaly_event *ev = NULL;
	size_t ne = 0;
	cfg.extreme_gain = 0; /* the point's own score */
	assert_int_equal(ah_anomaly_detect(&cfg, s.t, s.v, s.n, sc, &ev, &ne), 0);
	free(ev);
	double own = sc[900];
	print_message("own score of the record %.3f\n", own);
	assert_true(own >= cfg.extreme_min_score && own < cfg.threshold);
	assert_int_equal(events_in(&cfg, &s, 900, 901, NULL), 0);
	record_cfg(&cfg);
	assert_int_equal(events_in(&cfg, &s, 900, 901, NULL), 1);
	assert_int_equal(ah_anomaly_detect(&cfg, s.t, s.v, s.n, sc, &ev, &ne), 0);
	free(ev);
	assert_true(fabs(sc[900] - (own + (1.0 - own) * cfg.extreme_gain)) < 1e-12);
	cfg.extreme_min_score = own + 0.01; /* needs more surprise than it has */
	assert_int_equal(events_in(&cfg, &s, 900, 901, NULL), 0);
	record_cfg(&cfg);
	cfg.extreme_margin_z = 5; /* 1.4 above the top is no longer a clear record */
	assert_int_equal(events_in(&cfg, &s, 900, 901, NULL), 0);
	/* inside the range: the same excursion under an earlier 14 is not news */
	record_cfg(&cfg);
	s.v[300] = 14.0;
	assert_int_equal(events_in(&cfg, &s, 900, 901, NULL), 0);
	free(sc);
	drop(&s);
}

/* Bounded noise sets new records by tiny amounts early on; with the record
 * margin those are not events. */
static void test_noise_records_not_news(void **state)
{
	(void)state;
	series s = make(3000);
	for (size_t i = 0; i < s.n; i++)
		s.v[i] = 50.0 + noise();
	ah_anomaly_config cfg;
	ah_anomaly_config_default(&cfg);
	cfg.season_points = 1;
	assert_int_equal(events_in(&cfg, &s, 0, s.n, NULL), 0);
	drop(&s);
}

static void test_bad_input(void **state)
{
	(void)state;
	ah_anomaly_config cfg;
	char err[128] = "";
	ah_anomaly_config_default(&cfg);
	cfg.threshold = 1.5;
	assert_int_equal(ah_anomaly_config_check(&cfg, err, sizeof(err)), AH_EINVAL);
	assert_non_null(strstr(err, "threshold"));
	ah_anomaly_detector *d = NULL;
	assert_int_equal(ah_anomaly_new(&cfg, &d), AH_EINVAL);
	assert_null(d);
	ah_anomaly_config_default(&cfg);
	cfg.shift_points = 0;
	assert_int_equal(ah_anomaly_config_check(&cfg, err, sizeof(err)), AH_EINVAL);
	assert_non_null(strstr(err, "shift_points"));
	ah_anomaly_config_default(&cfg);
	cfg.season_points = AH_ANOMALY_MAX_SEASON + 1;
	assert_int_equal(ah_anomaly_config_check(&cfg, err, sizeof(err)), AH_EINVAL);
	ah_anomaly_config_default(&cfg);
	cfg.z_half = NAN;
	assert_int_equal(ah_anomaly_config_check(&cfg, err, sizeof(err)), AH_EINVAL);
	ah_anomaly_config_default(&cfg);
	cfg.flat_min_points = 1;
	assert_int_equal(ah_anomaly_config_check(&cfg, err, sizeof(err)), AH_EINVAL);
	assert_non_null(strstr(err, "flat_min_points"));
	ah_anomaly_config_default(&cfg);
	cfg.extreme_gain = 1.5;
	assert_int_equal(ah_anomaly_config_check(&cfg, err, sizeof(err)), AH_EINVAL);
	assert_non_null(strstr(err, "extreme_gain"));
	ah_anomaly_config_default(&cfg);
	cfg.extreme_min_score = -0.1;
	assert_int_equal(ah_anomaly_config_check(&cfg, err, sizeof(err)), AH_EINVAL);
	assert_non_null(strstr(err, "extreme_min_score"));
	ah_anomaly_config_default(&cfg);
	cfg.extreme_margin_z = NAN;
	assert_int_equal(ah_anomaly_config_check(&cfg, err, sizeof(err)), AH_EINVAL);
	assert_non_null(strstr(err, "extreme_margin_z"));

	assert_int_equal(ah_anomaly_new(NULL, &d), 0);
	ah_anomaly_point pt;
	assert_int_equal(ah_anomaly_push(d, T0, 1.0, &pt, NULL), 0);
	assert_int_equal(ah_anomaly_push(d, T0 - 1, 1.0, &pt, NULL), AH_EINVAL); /* backwards */
	assert_int_equal(ah_anomaly_push(d, T0 + 1, INFINITY, &pt, NULL), AH_EINVAL);
	assert_int_equal(ah_anomaly_push(d, T0 + 1, 1.0, NULL, NULL), AH_EINVAL);
	assert_int_equal(ah_anomaly_push(d, T0 + 1, 1.0, &pt, NULL), 0); /* state intact */
	ah_anomaly_free(d);
	ah_anomaly_free(NULL);
	assert_string_equal(ah_anomaly_kind_name(AH_ANOMALY_SPIKE), "spike");
	assert_string_equal(ah_anomaly_kind_name(AH_ANOMALY_LEVEL_SHIFT), "level_shift");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_shift_flagged_once),
		cmocka_unit_test(test_shift_down_streaming),
		cmocka_unit_test(test_spike_in_seasonal_series),
		cmocka_unit_test(test_constant_series_quiet),
		cmocka_unit_test(test_extreme_values),
		cmocka_unit_test(test_daily_habit_not_anomalous),
		cmocka_unit_test(test_lone_point_needs_confirmation),
		cmocka_unit_test(test_confirmed_onset_carries_peak),
		cmocka_unit_test(test_flat_line),
		cmocka_unit_test(test_new_extreme_ranked_higher),
		cmocka_unit_test(test_mild_record_is_news),
		cmocka_unit_test(test_noise_records_not_news),
		cmocka_unit_test(test_repeats_keep_scale),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
