/* The offline oracle (include/ahead/oracle.h): the least idle capacity of
 * a covering reservation with at most k level changes, by dynamic
 * programming over segments. */
#include <stdlib.h>

#include "ahead/error.h"
#include "ahead/oracle.h"

#define INF INT64_MAX

/* Validates the input and returns the budget the DP needs: no more than
 * the changes of u itself, past which the oracle follows u exactly. */
static int prepare(const int64_t *u, size_t n, int max_changes, size_t *out_k)
{
	if ((!u && n) || max_changes < 0)
		return AH_EINVAL;
	int64_t mx = 0;
	size_t changes = 0;
	for (size_t t = 0; t < n; t++) {
		if (u[t] < 0)
			return AH_EINVAL;
		if (u[t] > mx)
			mx = u[t];
		if (t && u[t] != u[t - 1])
			changes++;
	}
	size_t k = (size_t)max_changes < changes ? (size_t)max_changes : changes;
	if (n + 1 > AH_ORACLE_MAX_CELLS / (k + 1))
		return AH_ETOOBIG;
	/* every sum the DP forms is at most n * max(u) (a feasible cost) */
	if (n && mx > INT64_MAX / (int64_t)n)
		return AH_ERANGE;
	*out_k = k;
	return 0;
}

/* Fills B[j * (K + 1) + k] = least idle of u[0..j) with at most k changes,
 * and, when arg is not NULL, arg[same] = where that plan's last segment
 * starts. For each end j the segments [i, j) are grown leftwards with a
 * running max; a budget k stops being offered segments once the segment
 * alone costs as much as k's best so far (segments only get dearer as
 * they grow, and best is non-increasing in k, so the budgets still
 * offered are always 1..alive). */
static void solve(const int64_t *u, size_t n, size_t K, int64_t *P, int64_t *B, uint32_t *arg)
{
	size_t w = K + 1;
	P[0] = 0;
	for (size_t t = 0; t < n; t++)
		P[t + 1] = P[t] + u[t];
	for (size_t k = 0; k < w; k++)
		B[k] = 0;
	int64_t mx0 = 0;
	for (size_t j = 1; j <= n; j++) {
		int64_t *row = B + j * w;
		if (u[j - 1] > mx0)
			mx0 = u[j - 1];
		row[0] = (int64_t)j * mx0 - P[j];
		for (size_t k = 1; k < w; k++)
			row[k] = INF;
		size_t alive = K;
		int64_t m = 0;
		for (size_t i = j; i-- > 0 && alive;) {
			if (u[i] > m)
				m = u[i];
			int64_t seg = (int64_t)(j - i) * m - (P[j] - P[i]);
			while (alive && row[alive] <= seg)
				alive--;
			const int64_t *prev = B + i * w;
			if (arg) {
				for (size_t k = 1; k <= alive; k++)
					if (prev[k - 1] + seg < row[k]) {
						row[k] = prev[k - 1] + seg;
						arg[j * w + k] = (uint32_t)i;
					}
			} else {
				for (size_t k = 1; k <= alive; k++) {
					int64_t c = prev[k - 1] + seg;
					row[k] = c < row[k] ? c : row[k];
				}
			}
		}
	}
}

int ah_oracle_slack_curve(const int64_t *used, size_t n, int max_changes, int64_t *slack_by_k)
{
	if (!slack_by_k)
		return AH_EINVAL;
	size_t K;
	int rc = prepare(used, n, max_changes, &K);
	if (rc)
		return rc;
	int64_t *P = malloc((n + 1) * sizeof(*P));
	int64_t *B = malloc((n + 1) * (K + 1) * sizeof(*B));
	if (!P || !B) {
		rc = AH_ENOMEM;
		goto out;
	}
	solve(used, n, K, P, B, NULL);
	for (size_t k = 0; k <= (size_t)max_changes; k++)
		slack_by_k[k] = B[n * (K + 1) + (k < K ? k : K)];
out:
	free(P);
	free(B);
	return rc;
}

int ah_oracle_plan(const int64_t *used, size_t n, int max_changes, int64_t *levels, int64_t *slack)
{
	if (!slack)
		return AH_EINVAL;
	size_t K;
	int rc = prepare(used, n, max_changes, &K);
	if (rc)
		return rc;
	size_t w = K + 1;
	int64_t *P = malloc((n + 1) * sizeof(*P));
	int64_t *B = malloc((n + 1) * w * sizeof(*B));
	uint32_t *arg = calloc((n + 1) * w, sizeof(*arg));
	if (!P || !B || !arg) {
		rc = AH_ENOMEM;
		goto out;
	}
	solve(used, n, K, P, B, arg);
	if (levels) {
		size_t j = n, k = K;
		while (j > 0) {
			size_t i = k ? arg[j * w + k] : 0;
			int64_t m = 0;
			for (size_t t = i; t < j; t++)
				m = used[t] > m ? used[t] : m;
			for (size_t t = i; t < j; t++)
				levels[t] = m;
			j = i;
			if (k)
				k--;
		}
	}
	*slack = B[n * w + K];
out:
	free(P);
	free(B);
	free(arg);
	return rc;
}
