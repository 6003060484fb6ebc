/* NAB scoring: the sweep (per-row weights), per-threshold scoring and the
 * corpus-wide threshold optimiser. Mirrors nab/sweeper.py at ea702d75 line
 * for line where it matters (the "+ 1" in the in-window position, the
 * division by maxTP, the "> 3" cut-off, probation by row index), because the
 * point is to reproduce NAB's numbers, not to improve on them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "nab/nab.h"

const ah_nab_profile ah_nab_standard_profiles[3] = {
	{"standard", 1.0, 0.11, 1.0},
	{"reward_low_FP_rate", 1.0, 0.22, 1.0},
	{"reward_low_FN_rate", 1.0, 0.11, 2.0},
};

/* Window id of a row: >= 0 a window, NONE outside, PROBATION not scored. */
#define WIN_NONE (-1)
#define WIN_PROBATION (-2)

typedef struct {
	double score; /* detector output */
	double sweep; /* NAB weight if this row is a detection */
	int32_t win;
} nab_row;

typedef struct {
	size_t first_row, n_rows;
	size_t first_win, n_wins;
} nab_file;

struct ah_nab_corpus {
	ah_nab_profile profile;
	nab_row *rows;
	size_t n_rows, cap_rows;
	nab_file *files;
	size_t n_files, cap_files;
	unsigned char *win_scorable; /* per window: has at least one scored row */
	size_t n_wins, cap_wins;
};

static double sigmoid(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

double ah_nab_scaled_sigmoid(double y)
{
	if (y > 3.0)
		return -1.0;
	return 2.0 * sigmoid(-5.0 * y) - 1.0;
}

size_t ah_nab_probation_rows(size_t n_rows)
{
	double p = floor(AH_NAB_PROBATION_PERCENT * (double)n_rows);
	double cap = AH_NAB_PROBATION_PERCENT * 5000.0;
	return (size_t)(p < cap ? p : cap);
}

double ah_nab_normalise(double score, double null_score, double perfect_score)
{
	if (perfect_score == null_score)
		return 0.0;
	return 100.0 * (score - null_score) / (perfect_score - null_score);
}

int ah_nab_corpus_new(const ah_nab_profile *profile, ah_nab_corpus **out)
{
	if (!profile || !out)
		return AH_EINVAL;
	if (!isfinite(profile->tp_weight) || !isfinite(profile->fp_weight) ||
	    !isfinite(profile->fn_weight))
		return AH_EINVAL;
	ah_nab_corpus *c = calloc(1, sizeof(*c));
	if (!c)
		return AH_ENOMEM;
	c->profile = *profile;
	*out = c;
	return 0;
}

void ah_nab_corpus_free(ah_nab_corpus *c)
{
	if (!c)
		return;
	free(c->rows);
	free(c->files);
	free(c->win_scorable);
	free(c);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 64;
	while (nc < need)
		nc *= 2;
	void *np = realloc(*p, nc * elem);
	if (!np)
		return AH_ENOMEM;
	*p = np;
	*cap = nc;
	return 0;
}

/* First row index >= from whose timestamp equals t, or n. */
static size_t find_ts(const int64_t *ts, size_t n, size_t from, int64_t t)
{
	for (size_t i = from; i < n; i++)
		if (ts[i] == t)
			return i;
	return n;
}

int ah_nab_corpus_add(ah_nab_corpus *c, const int64_t *ts_s, const double *scores, size_t n,
		      const ah_nab_window *windows, size_t n_windows)
{
	int rc = 0;
	size_t *start_idx = NULL, *end_idx = NULL;

	if (!c || (n && (!ts_s || !scores)) || (n_windows && !windows))
		return AH_EINVAL;
	if (n > AH_NAB_MAX_ROWS || c->n_rows + n > AH_NAB_MAX_ROWS || n_windows > AH_NAB_MAX_WINDOWS)
		return AH_ETOOBIG;

	/* Locate every window's rows first so a bad file leaves c untouched. */
	if (n_windows) {
		start_idx = malloc(n_windows * sizeof(*start_idx));
		end_idx = malloc(n_windows * sizeof(*end_idx));
		if (!start_idx || !end_idx) {
			rc = AH_ENOMEM;
			goto out;
		}
	}
	size_t from = 0;
	for (size_t w = 0; w < n_windows; w++) {
		if (windows[w].end_s < windows[w].start_s) {
			rc = AH_EINVAL;
			goto out;
		}
		start_idx[w] = find_ts(ts_s, n, from, windows[w].start_s);
		if (start_idx[w] == n) {
			rc = AH_EINVAL;
			goto out;
		}
		/* NAB: timestamps.index(end) — first occurrence in the file. */
		end_idx[w] = find_ts(ts_s, n, 0, windows[w].end_s);
		if (end_idx[w] == n || end_idx[w] < start_idx[w]) {
			rc = AH_EINVAL;
			goto out;
		}
		from = end_idx[w] + 1;
	}

	if ((rc = grow((void **)&c->rows, &c->cap_rows, c->n_rows + n, sizeof(nab_row))) ||
	    (rc = grow((void **)&c->files, &c->cap_files, c->n_files + 1, sizeof(nab_file))) ||
	    (rc = grow((void **)&c->win_scorable, &c->cap_wins, c->n_wins + n_windows + 1, 1)))
		goto out;

	const double max_tp = ah_nab_scaled_sigmoid(-1.0);
	const size_t probation = ah_nab_probation_rows(n);
	const ah_nab_profile *p = &c->profile;
	long cur = -1;           /* window we are in, or -1 */
	double cur_width = 0, prev_width = 0;
	size_t cur_right = 0, prev_right = 0;
	int have_prev = 0;
	size_t next_w = 0;
	nab_row *rows = c->rows + c->n_rows;

	for (size_t w = 0; w < n_windows; w++)
		c->win_scorable[c->n_wins + w] = 0;
	for (size_t i = 0; i < n; i++) {
		if (next_w < n_windows && ts_s[i] == windows[next_w].start_s) {
			cur = (long)next_w;
			cur_right = end_idx[next_w];
			cur_width = (double)(cur_right - start_idx[next_w] + 1);
			next_w++;
		}
		double sweep;
		if (cur >= 0) {
			double pos = -((double)cur_right - (double)i + 1.0) / cur_width;
			sweep = ah_nab_scaled_sigmoid(pos) * p->tp_weight / max_tp;
		} else if (!have_prev) {
			sweep = -1.0 * p->fp_weight;
		} else {
			double num = fabs((double)prev_right - (double)i);
			double den = prev_width - 1.0;
			double pos = den > 0 ? num / den : 4.0; /* NAB divides by zero here */
			sweep = ah_nab_scaled_sigmoid(pos) * p->fp_weight;
		}
		double s = scores[i];
		rows[i].score = isnan(s) ? 0.0 : s;
		rows[i].sweep = sweep;
		if (i < probation)
			rows[i].win = WIN_PROBATION;
		else if (cur >= 0) {
			rows[i].win = (int32_t)(c->n_wins + (size_t)cur);
			c->win_scorable[c->n_wins + (size_t)cur] = 1;
		} else
			rows[i].win = WIN_NONE;
		if (cur >= 0 && ts_s[i] == windows[cur].end_s) {
			prev_right = i;
			prev_width = cur_width;
			have_prev = 1;
			cur = -1;
		}
	}
	nab_file *f = &c->files[c->n_files++];
	f->first_row = c->n_rows;
	f->n_rows = n;
	f->first_win = c->n_wins;
	f->n_wins = n_windows;
	c->n_rows += n;
	c->n_wins += n_windows;
out:
	free(start_idx);
	free(end_idx);
	return rc;
}

size_t ah_nab_corpus_files(const ah_nab_corpus *c)
{
	return c ? c->n_files : 0;
}

size_t ah_nab_corpus_windows(const ah_nab_corpus *c)
{
	return c ? c->n_wins : 0;
}

double ah_nab_corpus_null_score(const ah_nab_corpus *c)
{
	double s = 0;
	if (!c)
		return 0;
	for (size_t w = 0; w < c->n_wins; w++)
		if (c->win_scorable[w])
			s -= c->profile.fn_weight;
	return s;
}

int ah_nab_corpus_score(const ah_nab_corpus *c, double threshold, ah_nab_file_result *results,
			double *total_out)
{
	if (!c || isnan(threshold))
		return AH_EINVAL;
	double *part = malloc((c->n_wins + 1) * sizeof(*part));
	if (!part)
		return AH_ENOMEM;
	double total = 0;
	for (size_t fi = 0; fi < c->n_files; fi++) {
		const nab_file *f = &c->files[fi];
		ah_nab_file_result r = {0};
		r.windows = f->n_wins;
		for (size_t w = f->first_win; w < f->first_win + f->n_wins; w++)
			part[w] = -c->profile.fn_weight;
		double fp_sum = 0;
		for (size_t i = f->first_row; i < f->first_row + f->n_rows; i++) {
			const nab_row *row = &c->rows[i];
			if (row->win == WIN_PROBATION)
				continue;
			int det = row->score >= threshold;
			if (row->win == WIN_NONE) {
				if (det) {
					r.fp++;
					fp_sum += row->sweep;
				} else
					r.tn++;
			} else if (det) {
				r.tp++;
				if (row->sweep > part[row->win])
					part[row->win] = row->sweep;
			} else
				r.fn++;
		}
		r.score = fp_sum;
		for (size_t w = f->first_win; w < f->first_win + f->n_wins; w++)
			if (c->win_scorable[w])
				r.score += part[w];
		total += r.score;
		if (results)
			results[fi] = r;
	}
	free(part);
	if (total_out)
		*total_out = total;
	return 0;
}

static int cmp_score_desc(const void *a, const void *b)
{
	const nab_row *x = *(const nab_row *const *)a, *y = *(const nab_row *const *)b;
	if (x->score > y->score)
		return -1;
	if (x->score < y->score)
		return 1;
	return (x < y) ? -1 : (x > y); /* stable, like Python's sorted() */
}

int ah_nab_corpus_optimize(const ah_nab_corpus *c, double *threshold_out, double *score_out)
{
	if (!c)
		return AH_EINVAL;
	int rc = 0;
	const nab_row **order = malloc((c->n_rows + 1) * sizeof(*order));
	double *part = malloc((c->n_wins + 1) * sizeof(*part));
	if (!order || !part) {
		rc = AH_ENOMEM;
		goto out;
	}
	size_t m = 0;
	for (size_t i = 0; i < c->n_rows; i++)
		if (c->rows[i].win != WIN_PROBATION)
			order[m++] = &c->rows[i];
	qsort(order, m, sizeof(*order), cmp_score_desc);
	for (size_t w = 0; w < c->n_wins; w++)
		part[w] = -c->profile.fn_weight;

	double total = ah_nab_corpus_null_score(c);
	double cur = 1.1; /* detects nothing */
	double best = total, best_thr = cur;
	for (size_t k = 0; k < m; k++) {
		const nab_row *r = order[k];
		if (r->score != cur) {
			if (total > best) {
				best = total;
				best_thr = cur;
			}
			cur = r->score;
		}
		if (r->win == WIN_NONE)
			total += r->sweep;
		else if (r->sweep > part[r->win]) {
			total += r->sweep - part[r->win];
			part[r->win] = r->sweep;
		}
	}
	if (total > best) {
		best = total;
		best_thr = cur;
	}
	if (threshold_out)
		*threshold_out = best_thr;
	if (score_out)
		*score_out = best;
out:
	free(order);
	free(part);
	return rc;
}
