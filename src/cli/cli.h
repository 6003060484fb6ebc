/* ahead CLI: shared helpers for subcommands.
 *
 * Every subcommand is `int ah_cmd_NAME(int argc, char **argv)` where argv[0]
 * is the subcommand name; it returns one of the exit codes below. Each
 * subcommand handles `--help`/`-h` by printing its usage to stdout, exit 0. */
#ifndef AHEAD_CLI_H
#define AHEAD_CLI_H

#include <stdio.h>
#include <stdbool.h>

/* Exit codes: scripts can tell a usage error from a refusal from a fault. */
enum {
	AH_EXIT_OK = 0,       /* success (allocation granted, command done) */
	AH_EXIT_INTERNAL = 1, /* internal or storage error */
	AH_EXIT_USAGE = 2,    /* bad command line or bad input file */
	AH_EXIT_REFUSED = 3,  /* request refused by policy/quota/rate/capacity */
	AH_EXIT_QUEUED = 4,   /* request accepted but queued, not yet granted */
	AH_EXIT_NOTFOUND = 5  /* named allocation/pool/tenant does not exist */
};

typedef enum { AH_OUT_TABLE = 0, AH_OUT_JSON = 1, AH_OUT_CSV = 2 } ah_out_fmt;

/* Parses "table", "json" or "csv"; prints an error naming the option. */
int ah_cli_parse_output(const char *s, ah_out_fmt *out);

/* Prints "ahead CMD: message" to stderr (printf-style). */
void ah_cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Database path: --db beats $AHEAD_DB beats ./ahead.db. */
const char *ah_cli_db_path(const char *flag_value);

/* ---- ledger commands: open the database, its policy and the engine ---- */
#include <stdint.h>
struct ah_engine;
struct ah_ledger;
struct ah_policy;

typedef struct {
	struct ah_ledger *led;
	struct ah_policy *pol;
	struct ah_engine *eng;
} ah_cli_ctx;

/* Opens DB, reads its applied policy and builds the engine at now_ns.
 * Prints the error and returns an exit code on failure, 0 on success. */
int ah_cli_open(const char *cmd, const char *db, int64_t now_ns, ah_cli_ctx *ctx);
void ah_cli_close(ah_cli_ctx *ctx);
/* Wall clock (the CLI drives the engine in real time). */
int64_t ah_cli_now_ns(void);
/* ISO 8601 UTC, e.g. 2026-11-23T14:30:00.123Z. */
void ah_cli_fmt_time(int64_t ns, char *buf, size_t len);
/* Strict positive integer id; prints an error naming the argument. */
int ah_cli_parse_id(const char *cmd, const char *s, uint64_t *out);
/* Maps an AH_E* code to an exit code. */
int ah_cli_exit_for(int err);

/* The shadow store beside DB ("x.db" -> "x-shadow.db"), or shadow_flag when
 * given. Opened only if the file exists, unless create. *out is NULL when it
 * is absent or cannot be opened; a failure is printed as a warning (the
 * shadow store is history: it never fails the ledger command). Returns 0 or
 * the AH_E* error. */
struct ah_shadow;
/* Sets the engine's sizer for a usage report of allocation id when the
 * policy's `sizing` names an allocation policy (warmed on the workload's
 * history in sh, which may be NULL); *out is to be freed after the report
 * with ah_sizing_sizer_free (NULL when sizing is builtin). */
struct ah_shadow;
struct ah_sizing_sizer;
int ah_cli_sizing_prepare(const char *cmd, ah_cli_ctx *ctx, struct ah_shadow *sh, uint64_t id, int64_t now_ns,
			  uint32_t present, struct ah_sizing_sizer **out);
int ah_cli_shadow_open(const char *cmd, const char *db, const char *shadow_flag, bool create,
		       struct ah_shadow **out);

/* Subcommands (one file each under src/cli/). */
int ah_cmd_policy(int argc, char **argv);
int ah_cmd_pool(int argc, char **argv);
int ah_cmd_alloc(int argc, char **argv);
int ah_cmd_release(int argc, char **argv);
int ah_cmd_renew(int argc, char **argv);
int ah_cmd_ls(int argc, char **argv);
int ah_cmd_events(int argc, char **argv);
int ah_cmd_tick(int argc, char **argv);
int ah_cmd_report(int argc, char **argv);
int ah_cmd_forecast(int argc, char **argv);
int ah_cmd_anomalies(int argc, char **argv);
int ah_cmd_shadow(int argc, char **argv);
int ah_cmd_replay(int argc, char **argv);
int ah_cmd_scale(int argc, char **argv);

#endif
