/* ahead: resource vectors over named dimensions and their units.
 *
 * Built-in dimensions and their base units (what an int64 value means):
 *   cpu     millicores          "2" = 2000, "500m" = 500, "1.5" = 1500
 *   memory  bytes               "512Mi", "2G", "1.5Gi", "1048576"
 *   io      bytes per second    same suffixes as memory, optional "B/s" or "/s"
 *   net     bits per second     "100M" = "100Mbps" = 100,000,000 bit/s;
 *                               a value ending in "B/s" is bytes per second
 *                               and is multiplied by 8 ("12.5MB/s" = 100M)
 * Custom dimensions (declared by the policy) count plain integer units.
 *
 * Values are never negative and never above AH_VALUE_MAX (2^62), so the sum of
 * two values cannot overflow int64. Finer-than-base fractions round up
 * ("0.0005" cpu = 1m), as Kubernetes does. Parsing then printing round-trips. */
#ifndef AHEAD_RESOURCE_H
#define AHEAD_RESOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "ahead/limits.h" /* AH_NAME_MAX */

#ifdef __cplusplus
extern "C" {
#endif

#define AH_MAX_DIMS 16
#define AH_VALUE_MAX ((int64_t)1 << 62)

typedef enum {
	AH_UNIT_CPU = 0,        /* millicores */
	AH_UNIT_BYTES = 1,      /* bytes */
	AH_UNIT_BYTES_PER_S = 2,/* bytes per second */
	AH_UNIT_BITS_PER_S = 3, /* bits per second */
	AH_UNIT_COUNT = 4       /* plain integer units */
} ah_unit_kind;

/* A fixed-size vector: index i is dimension i of an ah_dimset. Unused
 * dimensions are zero. Fixed size keeps the hot path free of allocation. */
typedef struct {
	int64_t v[AH_MAX_DIMS];
} ah_vec;

typedef struct {
	int n;
	char name[AH_MAX_DIMS][AH_NAME_MAX];
	ah_unit_kind kind[AH_MAX_DIMS];
} ah_dimset;

/* The four built-in dimensions, in this order: cpu, memory, io, net. */
enum { AH_DIM_CPU = 0, AH_DIM_MEMORY = 1, AH_DIM_IO = 2, AH_DIM_NET = 3 };

void ah_dimset_init(ah_dimset *ds);
/* Adds a dimension; names are [a-z][a-z0-9_]{0,62}. */
int ah_dimset_add(ah_dimset *ds, const char *name, ah_unit_kind kind, int *out_idx);
/* Index of a dimension, or -1. */
int ah_dimset_find(const ah_dimset *ds, const char *name);
const char *ah_unit_kind_name(ah_unit_kind kind);
int ah_unit_kind_parse(const char *s, ah_unit_kind *out);

/* Parses one value in a dimension's unit. AH_EINVAL for a malformed value,
 * AH_ERANGE for a negative value or one above AH_VALUE_MAX. */
int ah_unit_parse(ah_unit_kind kind, const char *s, int64_t *out);
/* Prints the canonical form (largest exact suffix). Returns AH_ERANGE if the
 * buffer is too small. 32 bytes always suffice. */
int ah_unit_format(ah_unit_kind kind, int64_t v, char *buf, size_t len);

/* Prints a value for a person at a glance (tables, messages, never a file
 * that must read back): the canonical form when its number has at most
 * three digits ("256Gi", "2G", "500m"), else about three significant
 * digits in the largest suffix the value reaches ("4.69Gi" for 5033165145,
 * "254Gi" for 259840Mi, "12.3" cpu for 12345m, "1.5Gi" for 1536Mi), rounded
 * to nearest; counts stay exact. Never an exponent. Returns AH_ERANGE if the
 * buffer is too small; 32 bytes always suffice. */
int ah_unit_format_human(ah_unit_kind kind, int64_t v, char *buf, size_t len);

/* Parses "cpu=2,memory=512Mi,qubits=4" (spaces allowed around items).
 * On error, writes "field: reason" into err (if given). A dimension may
 * appear once. */
int ah_vec_parse(const ah_dimset *ds, const char *s, ah_vec *out, char *err, size_t errlen);
/* Prints non-zero dimensions as "cpu=2,memory=512Mi"; "0" when all are zero. */
int ah_vec_format(const ah_dimset *ds, const ah_vec *v, char *buf, size_t len);
/* The same with ah_unit_format_human values ("cpu=1500m,memory=4.69Gi"):
 * for people only, it does not read back exactly. */
int ah_vec_format_human(const ah_dimset *ds, const ah_vec *v, char *buf, size_t len);

static inline bool ah_vec_is_zero(const ah_vec *a, int n)
{
	for (int i = 0; i < n; i++)
		if (a->v[i])
			return false;
	return true;
}

static inline void ah_vec_add(ah_vec *a, const ah_vec *b, int n)
{
	for (int i = 0; i < n; i++)
		a->v[i] += b->v[i];
}

static inline void ah_vec_sub(ah_vec *a, const ah_vec *b, int n)
{
	for (int i = 0; i < n; i++)
		a->v[i] -= b->v[i];
}

/* True when used + req <= limit in every dimension. */
static inline bool ah_vec_fits(const ah_vec *used, const ah_vec *req, const ah_vec *limit, int n)
{
	for (int i = 0; i < n; i++)
		if (req->v[i] > limit->v[i] - used->v[i])
			return false;
	return true;
}

static inline bool ah_vec_le(const ah_vec *a, const ah_vec *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a->v[i] > b->v[i])
			return false;
	return true;
}

#ifdef __cplusplus
}
#endif
#endif
