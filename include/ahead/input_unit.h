/* ahead: the units of numbers read from outside files (--unit): plain
 * replay traces and shadow imports. A unit's name says which kind of
 * dimension it fits, so one --unit per kind may be given:
 *   cpu (millicores)           cores, millicores, percent (of N cores: --of N)
 *   memory, io (bytes[/s])     bytes, KiB, MiB, GiB, TiB, KB, MB, GB, TB
 * Without a --unit a kind's values are read in its base unit (millicores,
 * bytes), as before units were explicit. Other kinds (net, custom) take
 * their base unit only. docs/GRAMMAR.md lists the grammar. */
#ifndef AHEAD_INPUT_UNIT_H
#define AHEAD_INPUT_UNIT_H

#include <stdbool.h>

#include "ahead/resource.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AH_INPUT_UNIT_GRAMMAR \
	"cores, millicores, percent (with --of N cores), bytes, KiB, MiB, GiB, TiB, KB, MB, GB, TB"

typedef struct {
	double cpu_factor, bytes_factor; /* to millicores, to bytes */
	const char *cpu_name, *bytes_name;
	bool cpu_set, bytes_set, percent;
	double of_cores; /* 0 = no --of */
} ah_input_units;

/* Base units for every kind. */
void ah_input_units_init(ah_input_units *u);
/* Adds one unit by name (case-sensitive, as listed above). AH_EINVAL for an
 * unknown name, AH_EEXIST when its kind already has a unit. */
int ah_input_units_add(ah_input_units *u, const char *name);
/* --of N: the cores that 100 percent stands for (0 < N <= 1e6). */
int ah_input_units_set_of(ah_input_units *u, double cores);
/* Checks the whole: 0, or AH_EINVAL with *WHY a reason ("percent needs
 * --of N cores", "--of applies to --unit percent only"). */
int ah_input_units_check(const ah_input_units *u, const char **why);

/* Factor from the input unit to KIND's base unit (1 for net and custom). */
double ah_input_units_factor(const ah_input_units *u, ah_unit_kind kind);
/* The unit KIND's values are read in, for messages: "millicores" ... */
const char *ah_input_units_name(const ah_input_units *u, ah_unit_kind kind);
/* Whether KIND can take a --unit at all, and whether one was given. */
bool ah_input_units_fits(ah_unit_kind kind);
bool ah_input_units_given(const ah_input_units *u, ah_unit_kind kind);

/* The kind of a shadow-store dimension by its name: cpu, memory (or mem),
 * io, net; any other counts plain units. */
ah_unit_kind ah_input_units_kind_of_dim(const char *dim);

/* The base unit's name, singular: "millicore", "byte", "byte/s", ... */
const char *ah_input_units_base_name(ah_unit_kind kind);

#ifdef __cplusplus
}
#endif
#endif
