/* ahead: a small Nelder-Mead simplex minimiser (standard coefficients:
 * reflection 1, expansion 2, contraction 0.5, shrink 0.5). Enough for the
 * 1-4 parameter fits the models need; written here because the usual C
 * library for it (GSL) is GPL. The points of an iteration are evaluated
 * together (nm_batch.h); ah_nm_minimize evaluates them one by one. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/model.h"
#include "nm_batch.h"

#define NM_MAX_DIM 8

/* fv[j] = f(p[j]) for j < k, in batches. */
static void eval_points(ah_nm_batch_fn f, void *ctx, double (*p)[NM_MAX_DIM], size_t k, double *fv)
{
	for (size_t j = 0; j < k; j += AH_NM_BATCH) {
		const double *x[AH_NM_BATCH];
		size_t b = k - j < AH_NM_BATCH ? k - j : AH_NM_BATCH;
		for (size_t i = 0; i < b; i++)
			x[i] = p[j + i];
		f(x, b, fv + j, ctx);
	}
}

/* The value of candidate j of an iteration, evaluated now if it was not
 * evaluated with the others. */
static double cand_value(ah_nm_batch_fn f, void *ctx, double (*cand)[NM_MAX_DIM], double *fc, bool *have, size_t j)
{
	if (!have[j]) {
		const double *x = cand[j];
		f(&x, 1, &fc[j], ctx);
		have[j] = true;
	}
	return fc[j];
}

/* speculate: evaluate an iteration's four candidates together (for a batch
 * function), else only those the method reaches (one by one). */
static size_t minimize(ah_nm_batch_fn f, void *ctx, bool speculate, double *x, size_t dim, double step,
		       size_t max_evals, double tol, double *fmin)
{
	if (!dim || dim > NM_MAX_DIM)
		return 0;
	double p[NM_MAX_DIM + 1][NM_MAX_DIM], fv[NM_MAX_DIM + 1];
	double c[NM_MAX_DIM];
	/* this iteration's candidates: reflection, expansion, outside and inside contraction */
	enum { R, E, CO, CI };
	double cand[4][NM_MAX_DIM], fc4[4];
	size_t n = dim, evals = 0;
	for (size_t i = 0; i <= n; i++) {
		memcpy(p[i], x, n * sizeof(double));
		if (i)
			p[i][i - 1] += step;
	}
	eval_points(f, ctx, p, n + 1, fv);
	evals += n + 1;
	while (evals < max_evals) {
		/* order: best at 0, worst at n */
		for (size_t i = 1; i <= n; i++)
			for (size_t j = i; j > 0 && fv[j] < fv[j - 1]; j--) {
				double t = fv[j];
				fv[j] = fv[j - 1];
				fv[j - 1] = t;
				double tp[NM_MAX_DIM];
				memcpy(tp, p[j], sizeof(tp));
				memcpy(p[j], p[j - 1], sizeof(tp));
				memcpy(p[j - 1], tp, sizeof(tp));
			}
		if (fabs(fv[n] - fv[0]) <= tol * (fabs(fv[0]) + tol))
			break;
		for (size_t k = 0; k < n; k++) {
			c[k] = 0;
			for (size_t i = 0; i < n; i++)
				c[k] += p[i][k];
			c[k] /= (double)n;
		}
		for (size_t k = 0; k < n; k++) {
			cand[R][k] = c[k] + (c[k] - p[n][k]);
			cand[E][k] = c[k] + 2 * (c[k] - p[n][k]);
			cand[CO][k] = c[k] + 0.5 * (cand[R][k] - c[k]);
			cand[CI][k] = c[k] + 0.5 * (p[n][k] - c[k]);
		}
		bool have[4] = {false};
		if (speculate) {
			eval_points(f, ctx, cand, 4, fc4);
			have[R] = have[E] = have[CO] = have[CI] = true;
		}
		double fr = cand_value(f, ctx, cand, fc4, have, R);
		evals++;
		const double *take = NULL;
		double ft = 0;
		if (fr < fv[0]) {
			double fe = cand_value(f, ctx, cand, fc4, have, E);
			evals++;
			take = fe < fr ? cand[E] : cand[R];
			ft = fe < fr ? fe : fr;
		} else if (fr < fv[n - 1]) {
			take = cand[R];
			ft = fr;
		} else {
			bool outside = fr < fv[n];
			size_t ci = outside ? CO : CI;
			double fc = cand_value(f, ctx, cand, fc4, have, ci);
			evals++;
			if (fc < (outside ? fr : fv[n])) {
				take = cand[ci];
				ft = fc;
			} else {
				for (size_t i = 1; i <= n; i++)
					for (size_t k = 0; k < n; k++)
						p[i][k] = p[0][k] + 0.5 * (p[i][k] - p[0][k]);
				eval_points(f, ctx, p + 1, n, fv + 1);
				evals += n;
			}
		}
		if (take) {
			memcpy(p[n], take, n * sizeof(double));
			fv[n] = ft;
		}
	}
	size_t best = 0;
	for (size_t i = 1; i <= n; i++)
		if (fv[i] < fv[best])
			best = i;
	memcpy(x, p[best], n * sizeof(double));
	if (fmin)
		*fmin = fv[best];
	return evals;
}

typedef struct {
	ah_nm_fn f;
	void *ctx;
} one_by_one;

static void eval_each(const double *const *x, size_t k, double *out, void *ctx)
{
	one_by_one *o = ctx;
	for (size_t j = 0; j < k; j++)
		out[j] = o->f(x[j], o->ctx);
}

size_t ah_nm_minimize_batch(ah_nm_batch_fn f, void *ctx, double *x, size_t dim, double step, size_t max_evals,
			    double tol, double *fmin)
{
	return minimize(f, ctx, true, x, dim, step, max_evals, tol, fmin);
}

size_t ah_nm_minimize(ah_nm_fn f, void *ctx, double *x, size_t dim, double step, size_t max_evals,
		      double tol, double *fmin)
{
	one_by_one o = {f, ctx};
	return minimize(eval_each, &o, false, x, dim, step, max_evals, tol, fmin);
}
