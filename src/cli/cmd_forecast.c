/* ahead forecast: fit, choose and calibrate a model on a CSV series and
 * print its forecast (see docs/FORECAST.md). */
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/forecast.h"
#include "ahead/series.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "cli/opts.h"
#include "cli/trace_input.h"

#define MAX_Q 32

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ahead forecast --input FILE.csv [--horizon H] [--quantiles Q1,Q2,...]\n"
		"                      [--time-col C] [--value-col C] [--season N] [--model NAME]\n"
		"                      [--window N] [--duplicates error|last|mean] [--sort] [-o table|json|csv]\n\n"
		"Forecasts the series in FILE.csv H steps ahead. Candidate models (naive, seasonal-naive,\n"
		"ewma, ewma-trend, holt-winters, vpa-histogram, blend) are scored by rolling-origin\n"
		"evaluation on the recent history; the best by MASE is used, and its quantiles come\n"
		"from conformal calibration of its past residuals per horizon.\n\n"
		"  --input FILE      CSV with a header; time as ISO 8601 or epoch seconds\n"
		"  --horizon H       steps ahead, 1..%d (default 12)\n"
		"  --quantiles LIST  levels in (0,1), comma-separated (default 0.5,0.9,0.99)\n"
		"  --time-col C      time column name or 0-based index (default timestamp/time, else 0)\n"
		"  --value-col C     value column name or index (default value, else 1)\n"
		"  --format F        csv (default) or bitbrains: a GWA-T-12 per-VM file, read as\n"
		"                    'ahead replay' reads it\n"
		"  --column C        bitbrains: cpu (millicores, the default) or memory (bytes)\n"		"  --season N        season length in steps (default: found by autocorrelation; 1 = none)\n"
		"  --model NAME      use this candidate instead of the best one\n"
		"  --window N        conformal residual window per horizon (default 250)\n"
		"  --duplicates POLICY  repeated timestamps: error (default), last, mean\n"
		"  --sort            sort rows by time instead of refusing disorder\n"
		"  -o FORMAT         table (default), json or csv\n\n"
		"Exit codes: 0 ok, 1 internal error, 2 usage error or bad input file.\n",
		AH_FC_MAX_HORIZON);
}

typedef struct {
	double q[MAX_Q];
	size_t n;
} quantiles;

static int parse_quantiles(const char *cmd, const char *opt, const char *v, void *dst)
{
	double *q = ((quantiles *)dst)->q;
	size_t n = 0;
	const char *p = v;
	for (;;) {
		char *e;
		errno = 0;
		double x = strtod(p, &e);
		if (e == p || errno || !(x > 0 && x < 1) || (*e && *e != ',')) {
			ah_cli_err(cmd, "%s: '%.32s' is not a list of levels in (0,1)", opt, v);
			return -1;
		}
		if (n == MAX_Q) {
			ah_cli_err(cmd, "%s: at most %d levels", opt, MAX_Q);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (q[i] == x) {
				ah_cli_err(cmd, "%s: level %g given twice", opt, x);
				return -1;
			}
		q[n++] = x;
		if (!*e)
			break;
		p = e + 1;
	}
	/* ascending, so the output columns are ordered */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && q[j] < q[j - 1]; j--) {
			double t = q[j];
			q[j] = q[j - 1];
			q[j - 1] = t;
		}
	((quantiles *)dst)->n = n;
	return 0;
}

/* The one time format for people and JSON (ah_fmt_time). */
static void fmt_time(int64_t ns, char *buf, size_t len)
{
	ah_fmt_time(ns, buf, len);
}

static json_t *jnum(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

int ah_cmd_forecast(int argc, char **argv)
{
	const char *cmd = argv[0];
	const char *input = NULL, *model = NULL;
	int64_t horizon = 12, season = 0, window = 0;
	quantiles qs = {{0.5, 0.9, 0.99}, 3};
	bool sort = false;
	int dups = AH_SERIES_DUP_ERROR;
	ah_series_csv_opts so = {0};
	ah_out_fmt fmt = AH_OUT_TABLE;
	int in_fmt = 0; /* 0 csv, 1 bitbrains */
	const char *column = NULL;
	static const ah_cli_choice in_formats[] = {{"csv", 0}, {"bitbrains", 1}, {NULL, 0}};
	static const ah_cli_choice dup_policies[] = {
		{"error", AH_SERIES_DUP_ERROR}, {"last", AH_SERIES_DUP_LAST}, {"mean", AH_SERIES_DUP_MEAN}, {NULL, 0}};
	const ah_cli_opt opts[] = {
		AH_OPT("input", 0, AH_OPT_STRING, &input, .hint = "FILE", .flags = AH_OPT_NONEMPTY),
		AH_OPT("format", 0, AH_OPT_CHOICE, &in_fmt, .hint = "csv or bitbrains", .choices = in_formats),
		AH_OPT("column", 0, AH_OPT_STRING, &column, .hint = "cpu or memory", .flags = AH_OPT_NONEMPTY),
		AH_OPT("horizon", 0, AH_OPT_INT, &horizon, .hint = "H", .lo = 1, .hi = AH_FC_MAX_HORIZON),
		AH_OPT("season", 0, AH_OPT_INT, &season, .hint = "N", .lo = 1, .hi = 100000),
		AH_OPT("window", 0, AH_OPT_INT, &window, .hint = "N", .lo = 10, .hi = 100000),
		AH_OPT("quantiles", 0, AH_OPT_EACH, &qs, .hint = "e.g. 0.5,0.9,0.99", .flags = AH_OPT_NONEMPTY,
		       .each = parse_quantiles),
		AH_OPT("time-col", 0, AH_OPT_STRING, &so.time_col, .hint = "column name or index",
		       .flags = AH_OPT_NONEMPTY),
		AH_OPT("value-col", 0, AH_OPT_STRING, &so.value_col, .hint = "column name or index",
		       .flags = AH_OPT_NONEMPTY),
		AH_OPT("model", 0, AH_OPT_STRING, &model, .hint = "NAME", .flags = AH_OPT_NONEMPTY),
		AH_OPT("duplicates", 0, AH_OPT_CHOICE, &dups, .hint = "policy", .choices = dup_policies),
		AH_OPT("sort", 0, AH_OPT_FLAG, &sort),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt),
	};
	ah_cli_spec spec = {.cmd = "forecast", .usage = usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts)};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	if (column && !in_fmt) {
		ah_cli_err(cmd, "--column picks a Bitbrains column: give --format bitbrains (CSV files take --value-col)");
		return AH_EXIT_USAGE;
	}
	if (in_fmt && (so.time_col || so.value_col)) {
		ah_cli_err(cmd, "%s: a Bitbrains file's columns are named by --column " AH_CLI_BB_COLUMNS,
			   so.time_col ? "--time-col" : "--value-col");
		return AH_EXIT_USAGE;
	}
	const char *long_col = so.time_col && strlen(so.time_col) > 256	    ? "--time-col"
			       : so.value_col && strlen(so.value_col) > 256 ? "--value-col"
									    : NULL;
	if (long_col) {
		ah_cli_err(cmd, "%s: longer than 256 bytes", long_col);
		return AH_EXIT_USAGE;
	}
	so.dups = (ah_series_dup_policy)dups;
	if (sort)
		so.flags |= AH_SERIES_SORT;
	if (!input) {
		ah_cli_err(cmd, "--input FILE.csv is required (see 'ahead forecast --help')");
		return AH_EXIT_USAGE;
	}
	size_t H = (size_t)horizon, nq = qs.n;
	const double *q = qs.q;

	int ret = AH_EXIT_INTERNAL;
	ah_series s = {0};
	ah_forecaster *f = NULL;
	double *pt = NULL, *qo = NULL;
	char err[1024];
	int rc = (in_fmt ? ah_cli_bitbrains_series(input, column ? column : "cpu", &so, &s, err, sizeof(err))
				: ah_series_read_csv(input, &so, &s, err, sizeof(err)));
	if (rc) {
		ah_cli_err(cmd, "%s", err);
		return rc == AH_ENOMEM ? AH_EXIT_INTERNAL : AH_EXIT_USAGE;
	}
	/* the step lets the forecaster try the calendar's seasons (hour, day, week) */
	ah_fc_opts fo = {.horizon = H, .step_s = s.step_ns > 0 ? (double)s.step_ns / 1e9 : 0,
			 .season = (size_t)season, .window = (size_t)window, .model = model};
	rc = ah_forecaster_new(&fo, s.v, s.n, &f);
	if (rc == AH_EINVAL) {
		ah_cli_err(cmd, "%s: need at least 8 non-missing values to forecast (have %zu)", input,
			   ah_series_count_valid(&s));
		ret = AH_EXIT_USAGE;
		goto out;
	} else if (rc == AH_ENOENT) {
		ah_cli_err(cmd, "--model: no candidate named '%.32s' for this series (see --help)", model);
		ret = AH_EXIT_USAGE;
		goto out;
	} else if (rc) {
		ah_cli_err(cmd, "forecast failed: %s", ah_strerror(rc));
		goto out;
	}
	pt = malloc(H * sizeof(double));
	qo = malloc(H * nq * sizeof(double));
	if (!pt || !qo || ah_forecaster_forecast(f, H, q, nq, pt, qo)) {
		ah_cli_err(cmd, "out of memory");
		goto out;
	}
	ah_fc_choice ch;
	ah_forecaster_choice(f, &ch);
	int64_t step = s.step_ns > 0 ? s.step_ns : 1000000000LL;
	int64_t t_last = s.t_ns[s.n - 1];
	char tb[64];
	if (fmt == AH_OUT_CSV) {
		printf("time,point");
		for (size_t j = 0; j < nq; j++)
			printf(",q%g", q[j]);
		printf("\n");
		for (size_t i = 0; i < H; i++) {
			fmt_time(t_last + (int64_t)(i + 1) * step, tb, sizeof(tb));
			printf("%s,%.10g", tb, pt[i]);
			for (size_t j = 0; j < nq; j++)
				printf(",%.10g", qo[i * nq + j]);
			printf("\n");
		}
	} else if (fmt == AH_OUT_JSON) {
		json_t *o = json_object(), *cands = json_array(), *rows = json_array(), *e = json_object();
		json_object_set_new(o, "input", ah_json_text(input));
		json_object_set_new(o, "points", json_integer((json_int_t)s.n));
		json_object_set_new(o, "missing", json_integer((json_int_t)(s.missing + s.filled)));
		json_object_set_new(o, "gaps", json_integer((json_int_t)s.gaps));
		json_object_set_new(o, "step_s", json_real((double)s.step_ns / 1e9));
		json_object_set_new(o, "horizon", json_integer((json_int_t)H));
		json_object_set_new(o, "model", json_string(ch.model));
		json_object_set_new(o, "season", json_integer((json_int_t)ch.season));
		json_object_set_new(o, "season2", json_integer((json_int_t)ch.season2));
		json_t *bands = json_array();
		for (size_t b = 0; b < ch.nbands; b++) {
			json_t *bo = json_object();
			json_object_set_new(bo, "h_from", json_integer((json_int_t)ch.band[b].h_lo));
			json_object_set_new(bo, "h_to", json_integer((json_int_t)ch.band[b].h_hi));
			json_object_set_new(bo, "model", json_string(ch.band[b].model));
			json_object_set_new(bo, "mase", jnum(ch.band[b].mase));
			json_array_append_new(bands, bo);
		}
		json_object_set_new(o, "bands", bands);
		json_object_set_new(o, "eval_points", json_integer((json_int_t)ch.eval_points));
		json_object_set_new(e, "mase", jnum(ch.chosen.mase));
		json_object_set_new(e, "smape", jnum(ch.chosen.smape));
		json_object_set_new(e, "pinball", jnum(ch.chosen.pinball));
		json_object_set_new(e, "coverage_80", jnum(ch.chosen.cover80));
		json_object_set_new(e, "coverage_95", jnum(ch.chosen.cover95));
		json_object_set_new(o, "error", e);
		for (size_t i = 0; i < ch.ncand; i++) {
			json_t *c = json_object();
			json_object_set_new(c, "model", json_string(ch.cand[i].name));
			json_object_set_new(c, "mase", jnum(ch.cand[i].mase));
			json_object_set_new(c, "smape", jnum(ch.cand[i].smape));
			json_object_set_new(c, "pinball", jnum(ch.cand[i].pinball));
			json_object_set_new(c, "coverage_80", jnum(ch.cand[i].cover80));
			json_object_set_new(c, "coverage_95", jnum(ch.cand[i].cover95));
			json_array_append_new(cands, c);
		}
		json_object_set_new(o, "candidates", cands);
		for (size_t i = 0; i < H; i++) {
			json_t *r = json_object(), *qq = json_object();
			fmt_time(t_last + (int64_t)(i + 1) * step, tb, sizeof(tb));
			json_object_set_new(r, "time", json_string(tb));
			json_object_set_new(r, "point", jnum(pt[i]));
			for (size_t j = 0; j < nq; j++) {
				char k[32];
				snprintf(k, sizeof(k), "%g", q[j]);
				json_object_set_new(qq, k, jnum(qo[i * nq + j]));
			}
			json_object_set_new(r, "quantiles", qq);
			json_array_append_new(rows, r);
		}
		json_object_set_new(o, "forecast", rows);
		char *txt = ah_json_dumps(o);
		json_decref(o);
		if (!txt) {
			ah_cli_err(cmd, "out of memory");
			goto out;
		}
		printf("%s\n", txt);
		free(txt);
	} else {
		printf("series:   %s: %zu points, step %gs, %zu missing, %zu gaps (%zu points filled)\n", input,
		       s.n, (double)s.step_ns / 1e9, s.missing, s.gaps, s.filled);
		printf("model:    %s (season %zu), chosen by rolling-origin MASE over the last %zu points\n",
		       ch.model, ch.season, ch.eval_points);
		if (ch.season2)
			printf("seasons:  %zu and %zu steps\n", ch.season, ch.season2);
		printf("bands:   ");
		for (size_t b = 0; b < ch.nbands; b++)
			printf(" h%zu-%zu %s%s", ch.band[b].h_lo, ch.band[b].h_hi, ch.band[b].model,
			       b + 1 < ch.nbands ? "," : "\n");
		printf("error:    MASE %.3f  sMAPE %.2f%%  pinball %.3f  coverage80 %.1f%%  coverage95 %.1f%%\n",
		       ch.chosen.mase, ch.chosen.smape, ch.chosen.pinball, 100 * ch.chosen.cover80,
		       100 * ch.chosen.cover95);
		/* aligned whatever the candidates' names (cli/table.h) */
		ah_cli_table ct;
		ah_cli_table_init(&ct, 7, 0x3Eu);
		printf("\n");
		ah_cli_table_addv(&ct, "CANDIDATE", "MASE", "sMAPE%", "PINBALL", "COV80%", "COV95%", "");
		for (size_t i = 0; i < ch.ncand; i++) {
			char c1[32], c2[32], c3[32], c4[32], c5[32];
			snprintf(c1, sizeof c1, "%.3f", ch.cand[i].mase);
			snprintf(c2, sizeof c2, "%.2f", ch.cand[i].smape);
			snprintf(c3, sizeof c3, "%.3f", ch.cand[i].pinball);
			snprintf(c4, sizeof c4, "%.1f", 100 * ch.cand[i].cover80);
			snprintf(c5, sizeof c5, "%.1f", 100 * ch.cand[i].cover95);
			ah_cli_table_addv(&ct, ch.cand[i].name, c1, c2, c3, c4, c5,
					  strcmp(ch.cand[i].name, ch.model) ? "" : "<- chosen");
		}
		ah_cli_table_print(&ct, stdout);
		ah_cli_table_fini(&ct);
		bool any_nan = false;
		for (size_t i = 0; i < ch.ncand; i++)
			any_nan |= isnan(ch.cand[i].pinball) || isnan(ch.cand[i].mase);
		if (any_nan)
			printf("(nan: too few evaluation points for that score)\n");
		/* time, point and the quantiles (at most AH_CLI_TABLE_COLS - 2
		 * of them shown; -o json has them all) */
		size_t nqs = nq < AH_CLI_TABLE_COLS - 2 ? nq : AH_CLI_TABLE_COLS - 2;
		ah_cli_table ft;
		ah_cli_table_init(&ft, (int)(2 + nqs), ~1u);
		char cells[AH_CLI_TABLE_COLS][48];
		const char *row[AH_CLI_TABLE_COLS];
		for (int j = 0; j < AH_CLI_TABLE_COLS; j++)
			row[j] = cells[j];
		snprintf(cells[0], sizeof cells[0], "TIME");
		snprintf(cells[1], sizeof cells[1], "POINT");
		for (size_t j = 0; j < nqs; j++)
			snprintf(cells[2 + j], sizeof cells[2 + j], "q%g", q[j]);
		printf("\n");
		ah_cli_table_add(&ft, row);
		for (size_t i = 0; i < H; i++) {
			fmt_time(t_last + (int64_t)(i + 1) * step, cells[0], sizeof cells[0]);
			ah_cli_fmt_num(pt[i], cells[1], sizeof cells[1]);
			for (size_t j = 0; j < nqs; j++)
				ah_cli_fmt_num(qo[i * nq + j], cells[2 + j], sizeof cells[2 + j]);
			ah_cli_table_add(&ft, row);
		}
		ah_cli_table_print(&ft, stdout);
		ah_cli_table_fini(&ft);
	}
	ret = AH_EXIT_OK;
out:
	free(pt);
	free(qo);
	ah_forecaster_free(f);
	ah_series_fini(&s);
	return ret;
}
