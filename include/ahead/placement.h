/* ahead: placement of an allocation's replicas on the nodes of a pool, and
 * how fragmented the nodes' free capacity is (docs/PLACEMENT.md).
 *
 * Pure decisions over arrays: the caller passes every node's capacity,
 * what is placed on it, its labels, its state and its observed record, and
 * gets a node per replica or the reason none fits. An allocation (a
 * replica) always lands on one node, never split; a request's replicas are
 * placed all or none.
 *
 * Order of preference among the nodes a replica fits on, first key first:
 *   1. spread: fewest replicas of the same workload in the node's value of
 *      the spread label (e.g. its zone), then on the node itself;
 *   2. failure-aware (requests of priority >= failure_priority): fewest
 *      observed failures (failed health checks + kills + enforcement errors);
 *   3. the strategy: best fit on the request's dominant resource (the node
 *      left with the smallest free share of it, then of all dimensions),
 *      first fit (the first node in order), or random (seeded);
 *   4. the node's index (deterministic).
 * Cordoned and down nodes take nothing. */
#ifndef AHEAD_PLACEMENT_H
#define AHEAD_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ahead/limits.h"
#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	char key[AH_PLACE_LABEL_KEY_MAX];
	char value[AH_PLACE_LABEL_VALUE_MAX];
} ah_label;

typedef struct {
	const char *name;         /* for messages */
	ah_vec capacity;          /* what the node offers, per dimension */
	ah_vec used;              /* what is placed on it */
	const ah_label *labels;
	int n_labels;
	bool cordoned;            /* takes nothing new (drain, maintenance) */
	bool down;                /* its lease lapsed */
	uint32_t failed_checks, kills, enforce_errors; /* its observed record */
	int replicas;             /* replicas of the request's workload already on it */
} ah_place_node;

typedef struct {
	ah_vec demand;            /* per replica */
	int replicas;             /* 1..AH_PLACE_REPLICAS_MAX */
	const ah_label *select;   /* required labels: the node has each key=value */
	int n_select;
	const char *spread_label; /* spread replicas across its values too; NULL or "": nodes only */
	int priority;             /* the request's class */
} ah_place_request;

typedef enum { AH_PLACE_BEST_FIT = 0, AH_PLACE_FIRST_FIT = 1, AH_PLACE_RANDOM = 2 } ah_place_strategy;

typedef struct {
	ah_place_strategy strategy;
	int failure_priority;     /* failure-aware at or above this priority (INT32_MAX: never) */
	uint64_t seed;            /* random: the generator's state, advanced by each call */
} ah_place_opts;

/* best fit, failure-aware from priority 100, seed 1 */
void ah_place_opts_init(ah_place_opts *o);

typedef enum {
	AH_PLACE_PLACED = 0,
	AH_PLACE_NO_MATCH,        /* no node carries the required labels */
	AH_PLACE_UNAVAILABLE,     /* every matching node is cordoned or down */
	AH_PLACE_NO_ROOM,         /* no matching node has room for a replica */
	AH_PLACE_TOO_FEW          /* room for some replicas, not all */
} ah_place_outcome;

typedef struct {
	ah_place_outcome outcome;
	int placed;                           /* replicas placed (all, or 0) */
	int node[AH_PLACE_REPLICAS_MAX];      /* the node index of each */
	char reason[192];                     /* for people, when not placed */
} ah_place_result;

const char *ah_place_outcome_name(ah_place_outcome o); /* "placed", "no-match", ... */

/* Places rq's replicas on nodes[0..n) (the dimensions of dims). nodes is
 * not changed (the caller adds the demand to the chosen nodes' used on
 * commit). AH_EINVAL for a bad argument (replicas out of range, a negative
 * demand); AH_ENOMEM; 0 otherwise, with out->outcome saying whether it was
 * placed and, if not, why (out->reason names the labels or dimension). */
int ah_place(const ah_place_node *nodes, size_t n, const ah_dimset *dims, const ah_place_request *rq,
	     ah_place_opts *o, ah_place_result *out);

/* "key=value[,key=value...]" (names.h's label grammar; "" = none) into
 * out[0..max). AH_EINVAL (err names the label and why), AH_ETOOBIG past
 * max labels; a key given twice is refused. *out_n only on success. */
int ah_labels_parse(const char *s, ah_label *out, int max, int *out_n, char *err, size_t errlen);

/* Whether the node carries every label of sel. */
bool ah_place_labels_match(const ah_place_node *node, const ah_label *sel, int n_sel);

/* How fragmented the free capacity is, per dimension, in percent of the
 * total capacity of the nodes that are up and not cordoned:
 *   stranded:    free capacity on nodes where no queued request fits
 *                (0 with an empty queue: nothing waits for it);
 *   small:       free capacity on nodes whose free amount of that dimension
 *                is below the median request's (pieces too small for it). */
typedef struct {
	double stranded_pct[AH_MAX_DIMS];
	double small_pct[AH_MAX_DIMS];
	double free_pct[AH_MAX_DIMS];
	int nodes_stranded;      /* nodes with free capacity no queued request fits */
} ah_place_frag;

int ah_place_fragmentation(const ah_place_node *nodes, size_t n, const ah_dimset *dims, const ah_vec *queued,
			   size_t n_queued, const ah_vec *median, ah_place_frag *out);

#ifdef __cplusplus
}
#endif
#endif
