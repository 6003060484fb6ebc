/* ahead: a small Nelder-Mead simplex minimiser (standard coefficients:
 * reflection 1, expansion 2, contraction 0.5, shrink 0.5). Enough for the
 * 1-4 parameter fits the models need; written here because the usual C
 * library for it (GSL) is GPL. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/model.h"

#define NM_MAX_DIM 8

size_t ah_nm_minimize(ah_nm_fn f, void *ctx, double *x, size_t dim, double step, size_t max_evals,
		      double tol, double *fmin)
{
	if (!dim || dim > NM_MAX_DIM)
		return 0;
	double p[NM_MAX_DIM + 1][NM_MAX_DIM], fv[NM_MAX_DIM + 1];
	double c[NM_MAX_DIM], xr[NM_MAX_DIM], xe[NM_MAX_DIM], xc[NM_MAX_DIM];
	size_t n = dim, evals = 0;
	for (size_t i = 0; i <= n; i++) {
		memcpy(p[i], x, n * sizeof(double));
		if (i)
			p[i][i - 1] += step;
		fv[i] = f(p[i], ctx);
		evals++;
	}
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
		for (size_t k = 0; k < n; k++)
			xr[k] = c[k] + (c[k] - p[n][k]);
		double fr = f(xr, ctx);
		evals++;
		if (fr < fv[0]) {
			for (size_t k = 0; k < n; k++)
				xe[k] = c[k] + 2 * (c[k] - p[n][k]);
			double fe = f(xe, ctx);
			evals++;
			if (fe < fr) {
				memcpy(p[n], xe, n * sizeof(double));
				fv[n] = fe;
			} else {
				memcpy(p[n], xr, n * sizeof(double));
				fv[n] = fr;
			}
		} else if (fr < fv[n - 1]) {
			memcpy(p[n], xr, n * sizeof(double));
			fv[n] = fr;
		} else {
			bool outside = fr < fv[n];
			for (size_t k = 0; k < n; k++)
				xc[k] = outside ? c[k] + 0.5 * (xr[k] - c[k]) : c[k] + 0.5 * (p[n][k] - c[k]);
			double fc = f(xc, ctx);
			evals++;
			if (fc < (outside ? fr : fv[n])) {
				memcpy(p[n], xc, n * sizeof(double));
				fv[n] = fc;
			} else {
				for (size_t i = 1; i <= n; i++) {
					for (size_t k = 0; k < n; k++)
						p[i][k] = p[0][k] + 0.5 * (p[i][k] - p[0][k]);
					fv[i] = f(p[i], ctx);
					evals++;
				}
			}
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
