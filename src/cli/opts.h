/* ahead CLI: one option layer for every subcommand, table-driven on
 * getopt_long.
 *
 * A command declares its options as a table (long name, short letter, kind,
 * where the value goes) and its positional arguments (how many, what they
 * are called); ah_cli_parse does the rest the same way for all commands:
 * -h/--help prints the command's usage to stdout (exit 0); an unknown
 * option, a missing value, a bad value, an option given twice (where that
 * is an error) or the wrong number of arguments is a usage error (exit 2)
 * whose message names the option and points at `ahead CMD --help`.
 *
 * Options and arguments may come in any order; a long option may be
 * abbreviated while unambiguous and given as --name=value (getopt_long).
 * Messages name an option by its long name (--lease), the output format
 * by its short one (-o), as the usage texts document them. */
#ifndef AHEAD_CLI_OPTS_H
#define AHEAD_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"

typedef enum {
	AH_OPT_FLAG,     /* bool: set when given, takes no value */
	AH_OPT_STRING,   /* const char *: the value as given */
	AH_OPT_FORMAT,   /* ah_out_fmt: one of .formats (AH_FMTS_*) */
	AH_OPT_DURATION, /* int64_t ns: ah_duration_parse, within [lo, hi] */
	AH_OPT_TIME,     /* int64_t ns: ah_time_parse (ISO 8601 or epoch seconds) */
	AH_OPT_INT,      /* int64_t: a decimal integer within [lo, hi] */
	AH_OPT_NUMBER,   /* double: finite, within [min, max] (see AH_OPT_MIN_OPEN, AH_OPT_WHOLE) */
	AH_OPT_ID,       /* uint64_t: a positive id (ah_cli_parse_id) */
	AH_OPT_CHOICE,   /* int: the value of the named entry of .choices */
	AH_OPT_EACH,     /* repeatable: .each is called with every value */
} ah_opt_kind;

/* Flags of one option. */
enum {
	AH_OPT_ONCE = 1 << 0,     /* a second occurrence is a usage error */
	AH_OPT_NONEMPTY = 1 << 1, /* an empty value counts as a missing one */
	AH_OPT_GREEDY = 1 << 2,   /* EACH: the arguments after it are values too, up to the next option */
	AH_OPT_MIN_OPEN = 1 << 3, /* NUMBER: min itself is out of range */
	AH_OPT_WHOLE = 1 << 4,    /* NUMBER: a whole number */
};

/* The output formats an AH_OPT_FORMAT option allows. */
enum {
	AH_FMTS_TABLE_JSON = (1u << AH_OUT_TABLE) | (1u << AH_OUT_JSON),
	AH_FMTS_ALL = AH_FMTS_TABLE_JSON | (1u << AH_OUT_CSV),
	AH_FMTS_WIDE = AH_FMTS_ALL | (1u << AH_OUT_WIDE),
};

typedef struct {
	const char *name;
	int value;
} ah_cli_choice;

/* Called for each value of an AH_OPT_EACH option; prints its own error
 * ("ahead CMD: OPT: ...") and returns -1 to stop with a usage error. */
typedef int (*ah_cli_each_fn)(const char *cmd, const char *opt, const char *value, void *dst);

typedef struct {
	const char *name; /* long name without "--", or NULL */
	char shortc;      /* short letter, or 0 */
	ah_opt_kind kind;
	void *dst;        /* where the value goes; its type follows kind */
	const char *hint; /* what the value is, for messages: "FILE", "policy" (CHOICE) */
	unsigned flags;
	int64_t lo, hi;             /* DURATION, INT bounds (hi 0 = no upper bound) */
	double min, max;            /* NUMBER bounds */
	unsigned formats;           /* FORMAT: AH_FMTS_* (0 = all) */
	const ah_cli_choice *choices; /* CHOICE: NULL-name terminated; aliases share a value */
	ah_cli_each_fn each;        /* EACH */
} ah_cli_opt;

/* A command line's shape. */
enum {
	AH_CLI_STRICT = 1 << 0, /* every option at most once and never empty */
};

typedef struct {
	const char *cmd;           /* "alloc", "shadow query": message prefix and the help pointer */
	void (*usage)(FILE *f);    /* prints the usage (or help, below) */
	const char *help;          /* the usage as text, when there is no usage function */
	const ah_cli_opt *opts;
	size_t n_opts;
	int min_args, max_args;    /* positional arguments */
	const char *args_name;     /* what they are, for "missing ID" */
	const char **args;         /* out: the positional arguments (max_args slots) */
	int *n_args;               /* out: how many were given (may be NULL) */
	unsigned flags;            /* AH_CLI_* */
} ah_cli_spec;

/* ah_cli_parse's answer when the command goes on (any other answer is the
 * exit code to return: AH_EXIT_OK after --help, AH_EXIT_USAGE after an
 * error, already printed). */
#define AH_CLI_GO (-1)

int ah_cli_parse(const ah_cli_spec *spec, int argc, char **argv);

/* A number from the command line, for options whose values hold numbers
 * (e.g. cpu=0.9,mem=0.99): finite, in [min, max] (flags AH_OPT_MIN_OPEN,
 * AH_OPT_WHOLE). Prints "ahead CMD: OPT: ..." and returns -1 when not. */
int ah_cli_parse_number(const char *cmd, const char *opt, const char *s, double min, double max, unsigned flags,
			double *out);

/* One table entry: AH_OPT("lease", 'l', AH_OPT_DURATION, &lease, .hint = "DURATION", .lo = 1). */
#define AH_OPT(long_name, short_letter, opt_kind, where, ...)                                              \
	{                                                                                                  \
		.name = (long_name), .shortc = (short_letter), .kind = (opt_kind), .dst = (where), __VA_ARGS__ \
	}

#define AH_CLI_NOPTS(a) (sizeof(a) / sizeof((a)[0]))

#endif
