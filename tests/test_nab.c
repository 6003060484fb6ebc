/* NAB scorer: hand-computed windows, the optimiser, and reproduction of the
 * published scoreboard (results/final_results.json) from NAB's own per-file
 * score files, plus the null detector's per-file TN/FN counts on the NAB data
 * present (checks windows and probation row by row). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/error.h"
#include "nab/nab.h"
#include "ahead/series.h"

#define N 20
static int64_t ts[N];
static double sc[N];
/* Window over rows 10..14 (width 5); probation is floor(0.15*20) = 3 rows. */
static ah_nab_window win1;

static void setup_file(void)
{
	for (int i = 0; i < N; i++) {
		ts[i] = 1000000 + i * 60;
		sc[i] = 0;
	}
	win1.start_s = ts[10];
	win1.end_s = ts[14];
}

static double score_one(const ah_nab_profile *p, double thr, ah_nab_file_result *r)
{
	ah_nab_corpus *c = NULL;
	double total = NAN;
	assert_int_equal(ah_nab_corpus_new(p, &c), 0);
	assert_int_equal(ah_nab_corpus_add(c, ts, sc, N, &win1, 1), 0);
	assert_int_equal(ah_nab_corpus_score(c, thr, r, &total), 0);
	ah_nab_corpus_free(c);
	return total;
}

static void test_sigmoid_and_probation(void **state)
{
	(void)state;
	assert_true(fabs(ah_nab_scaled_sigmoid(-1.0) - 0.98661) < 1e-5);
	assert_true(fabs(ah_nab_scaled_sigmoid(-0.5) - 0.84828) < 1e-5);
	assert_true(fabs(ah_nab_scaled_sigmoid(0.0)) < 1e-12);
	assert_true(fabs(ah_nab_scaled_sigmoid(1.0) + 0.98661) < 1e-5);
	assert_true(ah_nab_scaled_sigmoid(3.5) == -1.0);
	assert_int_equal(ah_nab_probation_rows(20), 3);
	assert_int_equal(ah_nab_probation_rows(4032), 604);
	assert_int_equal(ah_nab_probation_rows(22695), 750);
}

static void test_tp_left_edge(void **state)
{
	(void)state;
	const ah_nab_profile *p = &ah_nab_standard_profiles[0];
	ah_nab_file_result r;
	setup_file();
	sc[10] = 1.0; /* first row of the window */
	sc[11] = 0.9; /* later detections in the same window add nothing */
	double s = score_one(p, 0.5, &r);
	/* Unweighted: scaledSigmoid(-1) = 0.98661; NAB divides by that maximum,
	 * so the earliest possible detection earns exactly A_TP. */
	assert_true(fabs(s - 1.0) < 1e-9);
	assert_int_equal(r.tp, 2);
	assert_int_equal(r.fp, 0);
	assert_int_equal(r.fn, 3);
	assert_int_equal(r.tn, 20 - 3 - 5);
	/* Same under the low-FN profile: TP weight is still 1. */
	assert_true(fabs(score_one(&ah_nab_standard_profiles[2], 0.5, NULL) - 1.0) < 1e-9);
}

static void test_tp_right_edge_and_fn(void **state)
{
	(void)state;
	ah_nab_file_result r;
	setup_file();
	sc[14] = 1.0; /* last row: position -(14-14+1)/5 = -0.2 */
	double want = (2.0 / (1.0 + exp(-1.0)) - 1.0) / ah_nab_scaled_sigmoid(-1.0);
	assert_true(fabs(score_one(&ah_nab_standard_profiles[0], 0.5, &r) - want) < 1e-9);
	assert_true(fabs(want - 0.46839) < 1e-4);

	setup_file(); /* no detection at all: one missed window */
	assert_true(fabs(score_one(&ah_nab_standard_profiles[0], 0.5, &r) + 1.0) < 1e-12);
	assert_int_equal(r.fn, 5);
	assert_true(fabs(score_one(&ah_nab_standard_profiles[2], 0.5, NULL) + 2.0) < 1e-12);
}

static void test_false_positives(void **state)
{
	(void)state;
	const ah_nab_profile *std = &ah_nab_standard_profiles[0];
	ah_nab_file_result r;

	setup_file();
	sc[1] = 1.0; /* in the probationary period: ignored */
	assert_true(fabs(score_one(std, 0.5, &r) + 1.0) < 1e-12);
	assert_int_equal(r.fp, 0);

	setup_file();
	sc[5] = 1.0; /* before any window: -A_FP */
	assert_true(fabs(score_one(std, 0.5, &r) - (-1.0 - 0.11)) < 1e-12);
	assert_int_equal(r.fp, 1);
	assert_true(fabs(score_one(&ah_nab_standard_profiles[1], 0.5, NULL) - (-1.0 - 0.22)) < 1e-12);

	setup_file();
	sc[16] = 1.0; /* 2 rows past the window end: y = 2/(5-1) = 0.5 */
	double fp = 0.11 * (2.0 / (1.0 + exp(2.5)) - 1.0);
	assert_true(fabs(fp + 0.11 * 0.84828) < 1e-6);
	assert_true(fabs(score_one(std, 0.5, &r) - (-1.0 + fp)) < 1e-12);

	setup_file();
	sc[15] = 1.0; /* right after the window costs less than further away */
	sc[19] = 1.0;
	double fp15 = 0.11 * ah_nab_scaled_sigmoid(0.25), fp19 = 0.11 * ah_nab_scaled_sigmoid(1.25);
	assert_true(fp15 > fp19);
	assert_true(fabs(score_one(std, 0.5, &r) - (-1.0 + fp15 + fp19)) < 1e-12);
	assert_int_equal(r.fp, 2);

	/* threshold is inclusive: score >= threshold is a detection */
	setup_file();
	sc[12] = 0.5;
	assert_true(score_one(std, 0.5, NULL) > 0.0);
	assert_true(fabs(score_one(std, 0.50001, NULL) + 1.0) < 1e-12);
}

static void test_window_in_probation(void **state)
{
	(void)state;
	ah_nab_corpus *c = NULL;
	double total;
	setup_file();
	ah_nab_window w = {ts[0], ts[2]};
	assert_int_equal(ah_nab_corpus_new(&ah_nab_standard_profiles[0], &c), 0);
	assert_int_equal(ah_nab_corpus_add(c, ts, sc, N, &w, 1), 0);
	assert_int_equal(ah_nab_corpus_score(c, 0.5, NULL, &total), 0);
	assert_true(total == 0.0); /* NAB does not score a window inside probation */
	assert_true(ah_nab_corpus_null_score(c) == 0.0);
	assert_int_equal(ah_nab_corpus_windows(c), 1);
	/* a window whose bounds are not rows of the file is refused */
	ah_nab_window bad = {ts[3] + 1, ts[5]};
	assert_int_equal(ah_nab_corpus_add(c, ts, sc, N, &bad, 1), AH_EINVAL);
	assert_int_equal(ah_nab_corpus_files(c), 1);
	ah_nab_corpus_free(c);
}

static void test_optimize(void **state)
{
	(void)state;
	ah_nab_corpus *c = NULL;
	double thr, best;
	setup_file();
	sc[12] = 0.9; /* TP at y = -0.6 */
	sc[5] = 0.8;  /* FP before the window */
	sc[16] = 0.3; /* FP after the window */
	assert_int_equal(ah_nab_corpus_new(&ah_nab_standard_profiles[0], &c), 0);
	assert_int_equal(ah_nab_corpus_add(c, ts, sc, N, &win1, 1), 0);
	/* a second file with nothing to find: any detection costs */
	double sc2[N] = {0};
	sc2[8] = 0.95;
	assert_int_equal(ah_nab_corpus_add(c, ts, sc2, N, NULL, 0), 0);
	assert_int_equal(ah_nab_corpus_optimize(c, &thr, &best), 0);
	assert_true(thr == 0.9);
	double tp = ah_nab_scaled_sigmoid(-0.6) / ah_nab_scaled_sigmoid(-1.0);
	assert_true(fabs(best - (tp - 0.11)) < 1e-12);
	double check;
	assert_int_equal(ah_nab_corpus_score(c, thr, NULL, &check), 0);
	assert_true(fabs(check - best) < 1e-12);
	assert_true(fabs(ah_nab_corpus_null_score(c) + 1.0) < 1e-12);
	ah_nab_corpus_free(c);
}

static void test_parse_time(void **state)
{
	(void)state;
	int64_t t;
	assert_int_equal(ah_nab_parse_time("1970-01-01 00:00:00", &t), 0);
	assert_true(t == 0);
	assert_int_equal(ah_nab_parse_time("2014-02-19 10:50:00.000000", &t), 0);
	assert_true(t == 1392807000);
	assert_int_equal(ah_nab_parse_time("2014-02-19T10:50:00Z", &t), 0);
	assert_true(t == 1392807000);
	assert_int_equal(ah_nab_parse_time("2014-13-19 10:50:00", &t), AH_EINVAL);
	assert_int_equal(ah_nab_parse_time("2014-02-19 10:50", &t), AH_EINVAL);
	assert_int_equal(ah_nab_parse_time("2014-02-19 10:50:00x", &t), AH_EINVAL);
}

static const char *shared_nab(char *buf, size_t len)
{
	const char *sh = getenv("AHEAD_SHARED");
	if (!sh || !*sh)
		return NULL;
	snprintf(buf, len, "%s/data/nab", sh);
	char probe[1100];
	snprintf(probe, sizeof(probe), "%s/results/final_results.json", buf);
	FILE *f = fopen(probe, "r");
	if (!f)
		return NULL;
	fclose(f);
	return buf;
}

static void test_bad_files(void **state)
{
	(void)state;
	char path[] = "/tmp/ahead_test_nab_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("{\"a.csv\": [[\"2014-01-01 00:00:00\", \"nope\"]]}", f);
	fclose(f);
	ah_nab_labels *l = NULL;
	char err[256] = "";
	assert_int_equal(ah_nab_labels_load(path, err, sizeof(err), &l), AH_EINVAL);
	assert_non_null(strstr(err, "a.csv"));
	assert_null(l);
	f = fopen(path, "w");
	fputs("{\"a.csv\": [[\"2014-01-01 00:00:00\"", f);
	fclose(f);
	assert_int_equal(ah_nab_labels_load(path, err, sizeof(err), &l), AH_EPARSE);
	f = fopen(path, "w");
	fputs("{\"standard\": {\"CostMatrix\": {\"tpWeight\": 1, \"fpWeight\": \"x\", \"fnWeight\": 1}}}",
	      f);
	fclose(f);
	ah_nab_profile p[4];
	size_t np = 0;
	assert_int_equal(ah_nab_profiles_load(path, err, sizeof(err), p, 4, &np), AH_EINVAL);
	assert_non_null(strstr(err, "standard"));
	unlink(path);
}

/* Recomputes every published detector's normalised score (3 profiles) from
 * its *_scores.csv Totals row and the null detector's, and compares it with
 * final_results.json. */
static void test_reproduce_published(void **state)
{
	(void)state;
	char nab[1024], path[2048], err[512];
	if (!shared_nab(nab, sizeof(nab))) {
		print_message("skipped: NAB data not found under $AHEAD_SHARED/data/nab\n");
		skip();
	}
	ah_nab_labels *labels = NULL;
	snprintf(path, sizeof(path), "%s/labels/combined_windows.json", nab);
	assert_int_equal(ah_nab_labels_load(path, err, sizeof(err), &labels), 0);
	assert_int_equal(ah_nab_labels_files(labels), 58);
	assert_int_equal(ah_nab_labels_total_windows(labels), 116);

	ah_nab_profile prof[8];
	size_t np = 0;
	snprintf(path, sizeof(path), "%s/config/profiles.json", nab);
	assert_int_equal(ah_nab_profiles_load(path, err, sizeof(err), prof, 8, &np), 0);
	assert_int_equal(np, 3);
	for (size_t i = 0; i < np; i++) {
		int found = 0;
		for (int k = 0; k < 3; k++)
			if (!strcmp(prof[i].name, ah_nab_standard_profiles[k].name)) {
				found = 1;
				assert_true(prof[i].tp_weight == ah_nab_standard_profiles[k].tp_weight);
				assert_true(prof[i].fp_weight == ah_nab_standard_profiles[k].fp_weight);
				assert_true(prof[i].fn_weight == ah_nab_standard_profiles[k].fn_weight);
			}
		assert_true(found);
	}

	snprintf(path, sizeof(path), "%s/results/final_results.json", nab);
	json_error_t jerr;
	json_t *final = json_load_file(path, 0, &jerr);
	assert_non_null(final);
	const char *det;
	json_t *scores;
	int checked = 0, mismatched = 0;
	json_object_foreach(final, det, scores)
	{
		for (size_t i = 0; i < np; i++) {
			json_t *pub = json_object_get(scores, prof[i].name);
			assert_true(json_is_number(pub));
			ah_nab_result_row *rows = NULL, *nrows = NULL;
			size_t n = 0, nn = 0;
			snprintf(path, sizeof(path), "%s/results/%s/%s_%s_scores.csv", nab, det, det,
				 prof[i].name);
			int rc = ah_nab_results_load(path, err, sizeof(err), &rows, &n);
			if (rc) {
				print_message("no per-file results for %s (%s)\n", det, err);
				continue;
			}
			snprintf(path, sizeof(path), "%s/results/null/null_%s_scores.csv", nab,
				 prof[i].name);
			assert_int_equal(ah_nab_results_load(path, err, sizeof(err), &nrows, &nn), 0);
			assert_true(n > 0 && nn > 0);
			assert_string_equal(rows[n - 1].file, "Totals");
			assert_string_equal(nrows[nn - 1].file, "Totals");
			double perfect = prof[i].tp_weight * (double)ah_nab_labels_total_windows(labels);
			double norm = ah_nab_normalise(rows[n - 1].score, nrows[nn - 1].score, perfect);
			double want = json_number_value(pub);
			if (fabs(norm - want) > 0.01) {
				/* Only tolerated where the stored per-file results come from
				 * another run than the scoreboard (NAB's random_*.csv). */
				print_message("%s %s: computed %.4f, published %.4f; per-file "
					      "results cover %ld rows, the null's %ld\n",
					      det, prof[i].name, norm, want, rows[n - 1].total,
					      nrows[nn - 1].total);
				assert_true(rows[n - 1].total != nrows[nn - 1].total);
				mismatched++;
			} else
				checked++;
			/* the per-file rows add up to the Totals row */
			double sum = 0;
			for (size_t k = 0; k + 1 < n; k++)
				sum += rows[k].score;
			assert_true(fabs(sum - rows[n - 1].score) < 1e-6);
			/* the null baseline is -A_FN per window outside probation */
			assert_true(nrows[nn - 1].score <= 0 && nrows[nn - 1].score >= -prof[i].fn_weight * 116);
			free(rows);
			free(nrows);
		}
	}
	json_decref(final);
	print_message("reproduced %d published detector/profile scores (%d not comparable)\n",
		      checked, mismatched);
	assert_true(checked >= 42);
	assert_true(mismatched <= 3);
	ah_nab_labels_free(labels);
}

/* Runs the null detector through our sweep on every NAB data file present and
 * checks its per-file score and TN/FN row counts against NAB's null results. */
static void test_null_detector_rows(void **state)
{
	(void)state;
	char nab[1024], path[2048], err[512];
	if (!shared_nab(nab, sizeof(nab))) {
		print_message("skipped: NAB data not found under $AHEAD_SHARED/data/nab\n");
		skip();
	}
	ah_nab_labels *labels = NULL;
	snprintf(path, sizeof(path), "%s/labels/combined_windows.json", nab);
	assert_int_equal(ah_nab_labels_load(path, err, sizeof(err), &labels), 0);
	ah_nab_result_row *nrows = NULL;
	size_t nn = 0;
	snprintf(path, sizeof(path), "%s/results/null/null_standard_scores.csv", nab);
	assert_int_equal(ah_nab_results_load(path, err, sizeof(err), &nrows, &nn), 0);
	int files = 0;
	for (size_t i = 0; i + 1 < nn; i++) {
		ah_series s;
		ah_series_csv_opts o = {0};
		o.flags = AH_SERIES_UNORDERED; /* NAB rows as they are, duplicates included */
		snprintf(path, sizeof(path), "%s/data/%s", nab, nrows[i].file);
		FILE *probe = fopen(path, "r");
		if (!probe)
			continue;
		fclose(probe);
		int rc = ah_series_read_csv(path, &o, &s, err, sizeof(err));
		if (rc)
			print_message("%s\n", err);
		assert_int_equal(rc, 0);
		int64_t *t_s = malloc(s.n * sizeof(*t_s));
		double *zero = calloc(s.n, sizeof(*zero));
		assert_non_null(t_s);
		assert_non_null(zero);
		for (size_t k = 0; k < s.n; k++)
			t_s[k] = s.t_ns[k] / 1000000000;
		const ah_nab_window *w;
		size_t nw;
		assert_int_equal(ah_nab_labels_get(labels, nrows[i].file, &w, &nw), 0);
		ah_nab_corpus *c = NULL;
		ah_nab_file_result r;
		double total;
		assert_int_equal(ah_nab_corpus_new(&ah_nab_standard_profiles[0], &c), 0);
		assert_int_equal(ah_nab_corpus_add(c, t_s, zero, s.n, w, nw), 0);
		assert_int_equal(ah_nab_corpus_score(c, 0.6, &r, &total), 0);
		if ((long)r.tn != nrows[i].tn || (long)r.fn != nrows[i].fn ||
		    fabs(total - nrows[i].score) > 1e-9)
			print_message("%s: tn %zu/%ld fn %zu/%ld score %g/%g\n", nrows[i].file, r.tn,
				      nrows[i].tn, r.fn, nrows[i].fn, total, nrows[i].score);
		assert_int_equal((long)r.tn, nrows[i].tn);
		assert_int_equal((long)r.fn, nrows[i].fn);
		assert_true(fabs(total - nrows[i].score) < 1e-9);
		ah_nab_corpus_free(c);
		free(t_s);
		free(zero);
		ah_series_fini(&s);
		files++;
	}
	print_message("null detector rows match NAB on %d data files\n", files);
	free(nrows);
	ah_nab_labels_free(labels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigmoid_and_probation),
		cmocka_unit_test(test_tp_left_edge),
		cmocka_unit_test(test_tp_right_edge_and_fn),
		cmocka_unit_test(test_false_positives),
		cmocka_unit_test(test_window_in_probation),
		cmocka_unit_test(test_optimize),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_reproduce_published),
		cmocka_unit_test(test_null_detector_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
