/* ahead CLI: shared helpers for subcommands.
 *
 * Every subcommand is `int ah_cmd_NAME(int argc, char **argv)` where argv[0]
 * is the subcommand name; it returns one of the exit codes below. Options
 * and arguments go through the one option layer (cli/opts.h), which also
 * answers `--help`/`-h` with the command's usage on stdout, exit 0. */
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

/* -o wide: the table with more columns (commands that offer it). */
typedef enum { AH_OUT_TABLE = 0, AH_OUT_JSON = 1, AH_OUT_CSV = 2, AH_OUT_WIDE = 3 } ah_out_fmt;

/* Prints "ahead CMD: message" to stderr (printf-style); with -o json the
 * first message waits for ah_cli_exit and a "warning: ..." leaves at once
 * as {"warning": {...}}. */
void ah_cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
void ah_cli_verr(const char *cmd, const char *fmt, va_list ap);
/* -o json was asked for (main looks before the command parses). */
void ah_cli_json_errors(bool on);
/* The command's exit: with -o json and a message, prints
 * {"error": {"code", "message", "field"}} on stderr (code: "usage",
 * "refused", "queued", "not_found", "internal"). Returns code. */
int ah_cli_exit(int code);

/* Database path: --db beats $AHEAD_DB beats ./ahead.db. (--db '' is refused
 * by the option tables: AH_OPT_NONEMPTY.) */
const char *ah_cli_db_path(const char *flag_value);
/* Read-only commands: the ledger must already be there and be a regular
 * file, so looking never creates one (nor a journal beside /dev/null).
 * Prints the error and returns an exit code, or 0. */
/* A daemon owns the ledger: local writes would go behind its back. Prints
 * why and returns the exit code, or 0 when no daemon holds it. */
int ah_cli_refuse_if_owned(const char *cmd, const char *db);
int ah_cli_need_ledger(const char *cmd, const char *db);
/* What a non-regular file is, for messages ("a directory", "a FIFO"). */
const char *ah_cli_file_kind(unsigned mode);

/* ---- ledger commands: open the service over the database ---- */
#include <stdint.h>
struct ah_service;
struct ah_policy;

typedef struct {
	struct ah_service *svc;
	const struct ah_policy *pol; /* the applied policy (borrowed from svc) */
	const char *cmd;
} ah_cli_ctx;

/* Opens the service over DB (its applied policy, the engine, the shadow
 * store beside it or at shadow_db) at now_ns; its warnings go to stderr as
 * "ahead CMD: warning: ...". Prints the error and returns an exit code on
 * failure, 0 on success. */
int ah_cli_open(const char *cmd, const char *db, const char *shadow_db, int64_t now_ns, ah_cli_ctx *ctx);
void ah_cli_close(ah_cli_ctx *ctx);
/* Wall clock (the CLI drives the service in real time). */
int64_t ah_cli_now_ns(void);
/* ISO 8601 UTC, e.g. 2026-11-23T14:30:00.123Z. */
void ah_cli_fmt_time(int64_t ns, char *buf, size_t len);
/* A plain number for people: up to six significant digits, never an
 * exponent ("1013050", "0.5", "12.3457"); "nan" for NaN. */
void ah_cli_fmt_num(double x, char *buf, size_t len);
/* Strict positive integer id; prints an error naming the argument (what:
 * "ID", "--id"). */
int ah_cli_parse_id(const char *cmd, const char *what, const char *s, uint64_t *out);
/* Maps an AH_E* code to an exit code. */
int ah_cli_exit_for(int err);
/* Prints a service error: "ahead CMD: WHAT: error (storage message)". */
int ah_cli_fail(const ah_cli_ctx *ctx, int err, const char *what);

/* Subcommands (one file each under src/cli/). */
int ah_cmd_policy(int argc, char **argv);
int ah_cmd_pool(int argc, char **argv);
int ah_cmd_alloc(int argc, char **argv);
int ah_cmd_release(int argc, char **argv);
int ah_cmd_renew(int argc, char **argv);
int ah_cmd_ls(int argc, char **argv);
int ah_cmd_describe(int argc, char **argv);
int ah_cmd_recommend(int argc, char **argv);
int ah_cmd_events(int argc, char **argv);
int ah_cmd_tick(int argc, char **argv);
int ah_cmd_report(int argc, char **argv);
int ah_cmd_forecast(int argc, char **argv);
int ah_cmd_anomalies(int argc, char **argv);
int ah_cmd_shadow(int argc, char **argv);
int ah_cmd_replay(int argc, char **argv);
int ah_cmd_scale(int argc, char **argv);
int ah_cmd_serve(int argc, char **argv);
int ah_cmd_backup(int argc, char **argv);
int ah_cmd_cluster(int argc, char **argv);
int ah_cmd_node(int argc, char **argv);
int ah_cmd_restore(int argc, char **argv);
int ah_cmd_token(int argc, char **argv);
int ah_cmd_audit(int argc, char **argv);
int ah_cmd_top(int argc, char **argv);
int ah_cmd_run(int argc, char **argv);

#endif
