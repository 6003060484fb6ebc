/* ahead: the offline oracle, the limit an allocation policy is held to.
 *
 * The oracle knows a workload's whole usage series u[0..n) in advance and
 * picks a reservation r that covers every interval (r[t] >= u[t]), may
 * change its level at most k times (the first level is free), and leaves
 * the least idle capacity sum(r[t] - u[t]). Within a segment between two
 * changes the best level is the segment's largest usage, so the oracle is
 * a partition of [0, n) into at most k + 1 segments, found exactly by
 * dynamic programming over segments:
 *   best[k][j] = min over i < j of best[k-1][i] + seg(i, j),
 *   seg(i, j)  = (j - i) * max(u[i..j)) - sum(u[i..j)),
 * O(n^2 k) time in the worst case (segments that already cost more than
 * what a k is offered are not extended), O(n k) memory. Pure: arrays in,
 * sums out, no I/O. All values are integers in the usage's base unit, so
 * the result is exact. */
#ifndef AHEAD_ORACLE_H
#define AHEAD_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cap on n * (k + 1): the DP table (8 bytes a cell, 12 with a plan) */
#define AH_ORACLE_MAX_CELLS ((size_t)1 << 24)

/* The oracle's idle capacity for every budget 0..max_changes:
 * slack_by_k[k] for k = 0..max_changes (max_changes + 1 entries),
 * non-increasing in k, 0 once k reaches the number of times u itself
 * changes. AH_EINVAL for NULL arrays (used may be NULL when n is 0),
 * max_changes < 0 or a negative usage; AH_ERANGE when n * max(u)
 * overflows int64; AH_ETOOBIG past AH_ORACLE_MAX_CELLS; AH_ENOMEM. */
int ah_oracle_slack_curve(const int64_t *used, size_t n, int max_changes, int64_t *slack_by_k);

/* One budget, with an optimal reservation: levels[0..n) (NULL: not
 * wanted) and its idle capacity in *slack. Errors as above. */
int ah_oracle_plan(const int64_t *used, size_t n, int max_changes, int64_t *levels, int64_t *slack);

#ifdef __cplusplus
}
#endif
#endif
