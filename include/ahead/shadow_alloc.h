/* ahead: an allocation's life as a shadow-store request record — the
 * feedback that the shadow predictor (predictor_shadow.h) learns from.
 *
 * begin at grant (params, what was predicted and by which model, and the
 * reserved parameter ahead.alloc=ID mapping the engine's allocation id to the
 * record, since the engine does not keep workload names), report (appends
 * each usage sample to the workload's series, raises the record's running
 * peak and mean and keeps it as the record's last report), end
 * at release (the record becomes a training example); sweep closes the
 * records of allocations that ended otherwise.
 *
 * Parameter keys starting with "ahead." are reserved for this bookkeeping:
 * requests may not use them. */
#ifndef AHEAD_SHADOW_ALLOC_H
#define AHEAD_SHADOW_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/resource.h"
#include "ahead/shadow.h"

#ifdef __cplusplus
extern "C" {
#endif



/* Records a granted (or queued) allocation: params as checked above;
 * predicted (may be NULL) gives the per-dimension predictions (0 = none);
 * sized (may be NULL; dims->n entries, indexed as dims) what made each: of
 * an entry only model and model_n are read ("" where unknown), kept with
 * the prediction so the record says which model sized it however the
 * history changes later. */
int ah_shadow_alloc_begin(ah_shadow *s, uint64_t alloc_id, const char *workload, const char *params,
			  int64_t start_ns, const ah_dimset *dims, const ah_vec *predicted,
			  const ah_shadow_req_dim *sized, int64_t *out_req_id);
/* The open record of an allocation (the newest, should a recreated ledger
 * have reused the id). AH_ENOENT when there is none. */
int ah_shadow_alloc_find(ah_shadow *s, uint64_t alloc_id, ah_shadow_request *out);
/* Merges a usage report: for each dimension i with bit i of present_mask
 * set, appends (t_ns, usage->v[i]) to the series (workload, dims->name[i])
 * and raises the record's peak / updates its mean. One transaction.
 * Writes the workload's name to out_workload (AH_SHADOW_WORKLOAD_MAX bytes;
 * may be NULL). AH_ENOENT when the allocation has no open record. */
int ah_shadow_alloc_report(ah_shadow *s, uint64_t alloc_id, int64_t t_ns, const ah_dimset *dims,
			   const ah_vec *usage, uint32_t present_mask, char *out_workload);
/* Ends the allocation's record at end_ns (clamped to its start); its
 * observed peaks and means are what the reports raised. AH_ENOENT when the
 * allocation has no open record. */
int ah_shadow_alloc_end(ah_shadow *s, uint64_t alloc_id, int64_t end_ns);
/* Closes the open records of allocations that ended without a release
 * (lease expired, preempted, queue timeout): live(ctx, alloc_id) says
 * whether the engine still holds the allocation. A closed one ends at end_ns
 * (at least its start) and is marked ahead.lost=1: its peak may be partial,
 * so it is never a training example, but retention can now delete it. At
 * most max open records (0: 1000) are examined, oldest first, in one
 * transaction; out_closed (may be NULL) gets how many were closed. */
int ah_shadow_alloc_sweep(ah_shadow *s, int64_t end_ns, bool (*live)(void *ctx, uint64_t alloc_id), void *ctx,
			  size_t max, size_t *out_closed);

#ifdef __cplusplus
}
#endif
#endif
