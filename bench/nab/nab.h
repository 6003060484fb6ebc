/* ahead: NAB (Numenta Anomaly Benchmark) scoring.
 *
 * A faithful C port of NAB's scorer (nab/sweeper.py, nab/optimizer.py and
 * the normalisation in nab/runner.py at commit ea702d75): anomaly windows
 * from labels/combined_windows.json, a probationary period of
 * min(floor(0.15 N), 750) rows that is not scored, the earliest detection in
 * a window counting as a true positive weighted by the scaled sigmoid, false
 * positives weighted relative to the end of the preceding window, profiles
 * (cost matrices) from config/profiles.json, one threshold optimised over the
 * whole corpus per profile, and normalisation
 * 100 (S - S_null) / (S_perfect - S_null).
 *
 * Note on the TP weight: NAB divides the in-window sigmoid by its value at
 * the left edge (scaledSigmoid(-1) = 0.98661), so a detection on the first
 * row of a window scores exactly A_TP, not 0.98661 A_TP; this port does the
 * same, otherwise a perfect detector would not normalise to 100.
 *
 * Timestamps are seconds since the epoch (naive times read as UTC).
 *
 * Benchmark code, not part of the library: compiled into bench_anomaly and
 * test_nab (CMakeLists.txt, AHEAD_NAB_SOURCES). */
#ifndef AHEAD_BENCH_NAB_H
#define AHEAD_BENCH_NAB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AH_NAB_PROBATION_PERCENT 0.15
#define AH_NAB_MAX_FILES 4096        /* hard cap on files in a labels file */
#define AH_NAB_MAX_WINDOWS 4096      /* hard cap on windows per file */
#define AH_NAB_MAX_ROWS (1u << 26)   /* hard cap on rows in one corpus */
#define AH_NAB_NAME_MAX 256

/* One anomaly window [start_s, end_s], both ends inclusive. */
typedef struct {
	int64_t start_s;
	int64_t end_s;
} ah_nab_window;

/* One scoring profile (a cost matrix). */
typedef struct {
	char name[64];
	double tp_weight;
	double fp_weight;
	double fn_weight;
} ah_nab_profile;

/* The three standard profiles, as in config/profiles.json. */
extern const ah_nab_profile ah_nab_standard_profiles[3];

/* 2 sigmoid(-5 y) - 1, and -1 when y > 3 (far past a window). */
double ah_nab_scaled_sigmoid(double y);

/* Rows at the start of a file that are not scored: min(floor(0.15 n), 750). */
size_t ah_nab_probation_rows(size_t n_rows);

/* Parses "YYYY-MM-DD HH:MM:SS[.ffffff]" (or 'T' as separator) as UTC and
 * rounds to whole seconds. Returns AH_EINVAL if malformed. */
int ah_nab_parse_time(const char *s, int64_t *out_s);

/* ---- labels (combined_windows.json) ---- */
typedef struct ah_nab_labels ah_nab_labels;

/* Loads a combined_windows.json file. On error, writes a message naming the
 * key and reason into err (if non-NULL) and returns AH_EIO/AH_EPARSE/
 * AH_EINVAL/AH_ETOOBIG. */
int ah_nab_labels_load(const char *path, char *err, size_t err_len, ah_nab_labels **out);
void ah_nab_labels_free(ah_nab_labels *l);
size_t ah_nab_labels_files(const ah_nab_labels *l);
/* Name of file i ("realKnownCause/nyc_taxi.csv"); borrowed. */
const char *ah_nab_labels_name(const ah_nab_labels *l, size_t i);
/* Windows of a named file (borrowed). AH_ENOENT if the file is not labelled. */
int ah_nab_labels_get(const ah_nab_labels *l, const char *file, const ah_nab_window **windows,
		      size_t *n_windows);
/* Total number of windows over all files. */
size_t ah_nab_labels_total_windows(const ah_nab_labels *l);

/* ---- profiles (config/profiles.json) ---- */
/* Loads up to cap profiles, in file order. */
int ah_nab_profiles_load(const char *path, char *err, size_t err_len, ah_nab_profile *out,
			 size_t cap, size_t *n_out);

/* ---- scoring a corpus under one profile ---- */
typedef struct ah_nab_corpus ah_nab_corpus;

/* Per-file result at a threshold, as in NAB's *_scores.csv. */
typedef struct {
	double score;
	size_t tp, tn, fp, fn; /* counted in rows, over scored (non-probationary) rows */
	size_t windows;        /* windows in the file */
} ah_nab_file_result;

int ah_nab_corpus_new(const ah_nab_profile *profile, ah_nab_corpus **out);
void ah_nab_corpus_free(ah_nab_corpus *c);

/* Adds one file's detector output: n rows of timestamps and anomaly scores in
 * [0,1] (NaN counts as 0), and its windows in time order. Every window's start
 * and end must be timestamps of rows (AH_EINVAL otherwise), as in NAB. */
int ah_nab_corpus_add(ah_nab_corpus *c, const int64_t *ts_s, const double *scores, size_t n,
		      const ah_nab_window *windows, size_t n_windows);

size_t ah_nab_corpus_files(const ah_nab_corpus *c);
/* Windows added over all files: the perfect score is tp_weight times this. */
size_t ah_nab_corpus_windows(const ah_nab_corpus *c);

/* Scores every file at threshold (a row is a detection when score >=
 * threshold). results (optional) receives one entry per file, in add order. */
int ah_nab_corpus_score(const ah_nab_corpus *c, double threshold, ah_nab_file_result *results,
			double *total_out);

/* NAB's optimiser: the threshold over all distinct scores (and 1.1, which
 * detects nothing) that maximises the corpus score; ties keep the higher
 * threshold. */
int ah_nab_corpus_optimize(const ah_nab_corpus *c, double *threshold_out, double *score_out);

/* Score of the null detector (no detections) on this corpus. */
double ah_nab_corpus_null_score(const ah_nab_corpus *c);

/* 100 (score - null) / (perfect - null); 0 if perfect == null. */
double ah_nab_normalise(double score, double null_score, double perfect_score);

/* ---- published results (results/<det>/<det>_<profile>_scores.csv) ---- */
typedef struct {
	char file[AH_NAB_NAME_MAX]; /* "Totals" for the totals row */
	double threshold;
	double score;
	long tp, tn, fp, fn, total;
} ah_nab_result_row;

/* Reads a NAB scores CSV; rows are returned in file order, the Totals row
 * last. *rows_out is malloc'd; free() it. */
int ah_nab_results_load(const char *path, char *err, size_t err_len, ah_nab_result_row **rows_out,
			size_t *n_out);

#ifdef __cplusplus
}
#endif
#endif
