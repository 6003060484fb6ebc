/* ahead CLI: the option layer (cli/opts.h). getopt_long does the scanning;
 * this file turns a command's table into getopt's, converts and checks each
 * value by its kind, and says what went wrong in one voice. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/duration.h" /* the one duration grammar */
#include "ahead/usage.h"  /* ah_time_parse */
#include "cli/opts.h"

#define MAX_OPTS 48
#define LONG_VAL 256 /* getopt's val for table entry i: LONG_VAL + i */

static const char *const fmt_names[] = {"table", "json", "csv", "wide"};
#define N_FMTS 4

/* "table or json", "table, json or csv" */
static void fmt_list(unsigned allowed, char *buf, size_t len)
{
	int n = 0, total = 0;
	for (int f = 0; f < N_FMTS; f++)
		total += (allowed >> f) & 1;
	buf[0] = '\0';
	for (int f = 0; f < N_FMTS; f++) {
		if (!((allowed >> f) & 1))
			continue;
		size_t w = strlen(buf);
		snprintf(buf + w, len - w, "%s%s", n == 0 ? "" : n == total - 1 ? " or " : ", ", fmt_names[f]);
		n++;
	}
}

/* The names a CHOICE offers, aliases (a value already named) left out. */
static void choice_list(const ah_cli_choice *c, char *buf, size_t len)
{
	int total = 0, n = 0;
	for (int i = 0; c[i].name; i++) {
		bool alias = false;
		for (int j = 0; j < i; j++)
			alias |= c[j].value == c[i].value;
		total += !alias;
	}
	buf[0] = '\0';
	for (int i = 0; c[i].name; i++) {
		bool alias = false;
		for (int j = 0; j < i; j++)
			alias |= c[j].value == c[i].value;
		if (alias)
			continue;
		size_t w = strlen(buf);
		snprintf(buf + w, len - w, "%s%s", n == 0 ? "" : n == total - 1 ? " or " : ", ", c[i].name);
		n++;
	}
}

static const char *display(const ah_cli_opt *o, char *buf, size_t len)
{
	if (o->shortc && (!o->name || o->kind == AH_OPT_FORMAT))
		snprintf(buf, len, "-%c", o->shortc);
	else
		snprintf(buf, len, "--%s", o->name);
	return buf;
}

/* A mistake in the command line's shape: the message, then where to look. */
static int usage_error(const ah_cli_spec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const ah_cli_spec *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ah_cli_err(s->cmd, "%s (usage: ahead %s --help)", msg, s->cmd);
	return AH_EXIT_USAGE;
}

int ah_cli_parse_number(const char *cmd, const char *opt, const char *s, double min, double max, unsigned flags,
			double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v)) {
		ah_cli_err(cmd, "%s: '%.32s' is not a number", opt, s);
		return -1;
	}
	bool open = flags & AH_OPT_MIN_OPEN;
	if (v > max || (open ? v <= min : v < min)) {
		ah_cli_err(cmd, "%s: '%.32s' is out of range %s%g, %g]", opt, s, open ? "(" : "[", min, max);
		return -1;
	}
	if ((flags & AH_OPT_WHOLE) && v != floor(v)) {
		ah_cli_err(cmd, "%s: '%.32s' is not a whole number", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int set_format(const char *cmd, const ah_cli_opt *o, const char *name, const char *v)
{
	unsigned allowed = o->formats ? o->formats : AH_FMTS_ALL;
	char list[40];
	fmt_list(allowed, list, sizeof list);
	for (int f = 0; f < N_FMTS; f++) {
		if (strcmp(v, fmt_names[f]))
			continue;
		if (!((allowed >> f) & 1)) {
			ah_cli_err(cmd, "%s: use %s (%s is not supported here)", name, list, v);
			return -1;
		}
		*(ah_out_fmt *)o->dst = (ah_out_fmt)f;
		return 0;
	}
	ah_cli_err(cmd, "%s: unknown output format '%.32s' (expected %s)", name, v, list);
	return -1;
}

static int set_duration(const char *cmd, const ah_cli_opt *o, const char *name, const char *v)
{
	int64_t ns;
	if (ah_duration_parse(v, &ns) < 0) {
		ah_cli_err(cmd, "%s: '%.40s' is not a duration (e.g. 500ms, 10s, 1m, 1h, 30d)", name, v);
		return -1;
	}
	if (ns < o->lo || (o->hi && ns > o->hi)) {
		char lo[32] = "0s", hi[32] = "";
		ah_duration_format(o->lo, lo, sizeof lo);
		if (o->hi)
			ah_duration_format(o->hi, hi, sizeof hi);
		if (o->hi)
			ah_cli_err(cmd, "%s: '%.40s' is out of range (%s..%s)", name, v, lo, hi);
		else
			ah_cli_err(cmd, "%s: '%.40s' is less than %s", name, v, lo);
		return -1;
	}
	*(int64_t *)o->dst = ns;
	return 0;
}

static int set_int(const char *cmd, const ah_cli_opt *o, const char *name, const char *v)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (end == v || *end || errno || x < o->lo || (o->hi && x > o->hi)) {
		if (o->hi)
			ah_cli_err(cmd, "%s: '%.40s' is not an integer in %lld..%lld", name, v, (long long)o->lo,
				   (long long)o->hi);
		else
			ah_cli_err(cmd, "%s: '%.40s' is not an integer >= %lld", name, v, (long long)o->lo);
		return -1;
	}
	*(int64_t *)o->dst = x;
	return 0;
}

static int set_time(const char *cmd, const ah_cli_opt *o, const char *name, const char *v)
{
	int rc = ah_time_parse(v, (int64_t *)o->dst);
	if (rc) {
		ah_cli_err(cmd, "%s: '%.40s' is %s", name, v,
			   rc == AH_ERANGE ? "out of range (1970..2262)" : "not an ISO 8601 time or epoch seconds");
		return -1;
	}
	return 0;
}

static int set_choice(const char *cmd, const ah_cli_opt *o, const char *name, const char *v)
{
	for (int i = 0; o->choices[i].name; i++)
		if (!strcmp(v, o->choices[i].name)) {
			*(int *)o->dst = o->choices[i].value;
			return 0;
		}
	char list[128];
	choice_list(o->choices, list, sizeof list);
	ah_cli_err(cmd, "%s: unknown %s '%.32s' (expected %s)", name, o->hint ? o->hint : "value", v, list);
	return -1;
}

/* Converts and stores one value by the option's kind; -1 after printing. */
static int set_value(const char *cmd, const ah_cli_opt *o, const char *v)
{
	char name[72];
	display(o, name, sizeof name);
	switch (o->kind) {
	case AH_OPT_FLAG:
		*(bool *)o->dst = true;
		return 0;
	case AH_OPT_STRING:
		*(const char **)o->dst = v;
		return 0;
	case AH_OPT_FORMAT:
		return set_format(cmd, o, name, v);
	case AH_OPT_DURATION:
		return set_duration(cmd, o, name, v);
	case AH_OPT_TIME:
		return set_time(cmd, o, name, v);
	case AH_OPT_INT:
		return set_int(cmd, o, name, v);
	case AH_OPT_NUMBER:
		return ah_cli_parse_number(cmd, name, v, o->min, o->max, o->flags, (double *)o->dst);
	case AH_OPT_ID:
		return ah_cli_parse_id(cmd, name, v, (uint64_t *)o->dst);
	case AH_OPT_CHOICE:
		return set_choice(cmd, o, name, v);
	case AH_OPT_EACH:
		return o->each(cmd, name, v, o->dst);
	}
	return -1;
}

static int missing_value(const ah_cli_spec *s, const ah_cli_opt *o)
{
	char name[72], hint[64] = "";
	display(o, name, sizeof name);
	if (o->kind == AH_OPT_FORMAT)
		fmt_list(o->formats ? o->formats : AH_FMTS_ALL, hint, sizeof hint);
	else if (o->kind == AH_OPT_CHOICE)
		choice_list(o->choices, hint, sizeof hint);
	else if (o->hint)
		snprintf(hint, sizeof hint, "%s", o->hint);
	return usage_error(s, *hint ? "%s needs a value (%s)" : "%s needs a value%s", name, hint);
}

/* getopt's tables from ours: long entry i answers LONG_VAL + i, a short
 * letter answers itself; "-" keeps arguments in order (for GREEDY), ":"
 * tells a missing value from an unknown option. */
static void build(const ah_cli_spec *s, struct option *lo, char *shorts)
{
	size_t k = 0, w = 0;
	shorts[w++] = '-';
	shorts[w++] = ':';
	for (size_t i = 0; i < s->n_opts; i++) {
		const ah_cli_opt *o = &s->opts[i];
		int arg = o->kind == AH_OPT_FLAG ? no_argument : required_argument;
		if (o->name)
			lo[k++] = (struct option){o->name, arg, NULL, LONG_VAL + (int)i};
		if (o->shortc) {
			shorts[w++] = o->shortc;
			if (arg == required_argument)
				shorts[w++] = ':';
		}
	}
	lo[k++] = (struct option){"help", no_argument, NULL, 'h'};
	lo[k] = (struct option){0, 0, 0, 0};
	shorts[w++] = 'h';
	shorts[w] = '\0';
}

static int find(const ah_cli_spec *s, int c)
{
	if (c >= LONG_VAL && (size_t)(c - LONG_VAL) < s->n_opts)
		return c - LONG_VAL;
	for (size_t i = 0; c > 0 && c < LONG_VAL && i < s->n_opts; i++)
		if (s->opts[i].shortc == c)
			return (int)i;
	return -1;
}

/* getopt answered '?': an unknown option, or a value given to a flag. */
static int unknown_option(const ah_cli_spec *s, int argc, char **argv)
{
	int i = find(s, optopt);
	if (i >= 0) {
		char name[72];
		return usage_error(s, "%s takes no value", display(&s->opts[i], name, sizeof name));
	}
	if (optopt)
		return usage_error(s, "unknown option '-%c'", optopt);
	const char *tok = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	int n = (int)strcspn(tok, "=");
	return usage_error(s, "unknown option '%.*s'", n > 64 ? 64 : n, tok);
}

/* One positional argument: a GREEDY option's value, or kept in args. */
static int positional(const ah_cli_spec *s, int greedy, const char *a, int *n, const char **extra)
{
	if (greedy >= 0)
		return set_value(s->cmd, &s->opts[greedy], a);
	if (*n < s->max_args)
		s->args[*n] = a;
	else if (!*extra)
		*extra = a;
	(*n)++;
	return 0;
}

int ah_cli_parse(const ah_cli_spec *s, int argc, char **argv)
{
	struct option lo[MAX_OPTS + 2];
	char shorts[3 * MAX_OPTS + 8];
	unsigned char seen[MAX_OPTS] = {0};
	if (s->n_opts > MAX_OPTS)
		return usage_error(s, "too many options in the command's table");
	build(s, lo, shorts);
	int c, n = 0, greedy = -1;
	const char *extra = NULL;
	bool strict = s->flags & AH_CLI_STRICT;
	opterr = 0;
	optind = 0; /* glibc: start over (each command parses once, from argv[1]) */
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (c == 1) {
			if (positional(s, greedy, optarg, &n, &extra) < 0)
				return AH_EXIT_USAGE;
			continue;
		}
		greedy = -1;
		if (c == 'h') {
			if (s->usage)
				s->usage(stdout);
			else
				fputs(s->help, stdout);
			return AH_EXIT_OK;
		}
		int i = find(s, c == ':' ? optopt : c);
		if (c == '?' || i < 0)
			return unknown_option(s, argc, argv);
		const ah_cli_opt *o = &s->opts[i];
		char name[72];
		if (c == ':' || ((strict || (o->flags & AH_OPT_NONEMPTY)) && optarg && !*optarg))
			return missing_value(s, o);
		if ((strict || (o->flags & AH_OPT_ONCE)) && seen[i])
			return usage_error(s, "%s given twice", display(o, name, sizeof name));
		seen[i] = 1;
		if (set_value(s->cmd, o, optarg) < 0)
			return AH_EXIT_USAGE;
		if (o->kind == AH_OPT_EACH && (o->flags & AH_OPT_GREEDY))
			greedy = i;
	}
	for (; optind < argc; optind++) /* after "--" */
		if (positional(s, -1, argv[optind], &n, &extra) < 0)
			return AH_EXIT_USAGE;
	if (s->n_args)
		*s->n_args = n < s->max_args ? n : s->max_args;
	if (extra)
		return usage_error(s, "unexpected argument '%.64s'", extra);
	if (n < s->min_args)
		return usage_error(s, "missing %s", s->args_name ? s->args_name : "argument");
	return AH_CLI_GO;
}
