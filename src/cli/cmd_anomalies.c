/* ahead anomalies: flag anomalies in a time series CSV file.
 *
 * Reads the series (include/ahead/series.h rules), streams it through the
 * anomaly detector (include/ahead/anomaly.h) and prints the events; with
 * --scores also every point's score. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ahead/anomaly.h"
#include "ahead/encode.h"
#include "ahead/error.h"
#include "ahead/series.h"
#include "ahead/history.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "cli/opts.h"
#include "cli/trace_input.h"

static void usage(FILE *f)
{
	ah_anomaly_config def;
	ah_anomaly_config_default(&def);
	fprintf(f,
		"usage: ahead anomalies --input FILE.csv [--threshold T] [--time-col C] [--value-col C]\n"
		"                       [--season N] [--sort] [--duplicates error|last|mean]\n"
		"                       [--refractory N] [--scores] [-o table|json|csv]\n"
		"       ahead anomalies --input FILE.csv --nab-results onset|raw [--threshold T] [--refractory N]\n\n"
		"Scores every point of a time series against its one-step prediction (robust level\n"
		"plus a daily/weekly profile when the data have one) and reports anomalies as\n"
		"events: start, end, peak time, peak score in [0,1] and kind (spike or level_shift).\n"
		"A level shift is reported once, then learned as the new normal.\n\n"
		"options:\n"
		"  --input FILE      CSV with a header; times ISO 8601 or epoch seconds (required)\n"
		"  --threshold T     score in (0,1] at or above which a point is anomalous (default %.2g)\n"
		"  --time-col C      time column, by name or 0-based index (default: timestamp/time, else 0)\n"
		"  --value-col C     value column, by name or 0-based index (default: value, else 1)\n"
		"  --format F        csv (default) or bitbrains: a GWA-T-12 per-VM file, read as\n"
		"                    'ahead replay' reads it\n"
		"  --column C        bitbrains: cpu (millicores, the default) or memory (bytes)\n"		"  --season N        season length in points: 0 = find daily/weekly from the spacing\n"
		"                    (default), 1 = none\n"
		"  --sort            sort rows by time instead of refusing rows out of order\n"
		"  --duplicates P    repeated timestamps: error (default), last (keep the last row)\n"
		"                    or mean (average them)\n"
		"  --refractory N    points after an event before a new one may open (default %u)\n"
		"  --scores          also print every point's prediction and score\n"
		"  --nab-results M   write NAB's results format instead (timestamp,value,anomaly_score):\n"
		"                    every row exactly as in the file, in file order (repeated or backward\n"
		"                    timestamps kept, no gap points), as NAB scores it; anomaly_score is\n"
		"                    the row's score (raw) or, with onset, the score of a row that opens\n"
		"                    an event and 0 elsewhere. bench/run anomaly scores this output.\n"
		"  --store W:D       keep the events in the shadow store as workload W, dimension D\n"
		"  --db PATH         ledger whose sibling shadow store is used (default $AHEAD_DB, else ./ahead.db)\n"
		"  --shadow-db PATH  the shadow store file itself\n"
		"  -o, --output FMT  table (default), json or csv\n"
		"  -h, --help        this help\n\n"
		"Exit codes: 0 ok, 1 internal error, 2 bad command line or bad input file.\n"
		"Method and NAB results: docs/ANOMALY.md, docs/anomaly-results.md.\n",
		def.threshold, def.refractory_points);
}

/* The one time format for people and JSON (ah_fmt_time). */
static void fmt_time(int64_t t_ns, char *buf, size_t len)
{
	ah_fmt_time(t_ns, buf, len);
}

typedef struct {
	double score, predicted;
	bool anomalous;
	long event; /* index of the event it belongs to, or -1 */
} point_out;

/* --nab-results: NAB's results format, rows as in the file
 * (ah_anomaly_score_rows). Times print as NAB's own files write them. */
static int nab_results(const char *cmd, const char *input, const char *time_col, const char *value_col,
		       const ah_anomaly_config *cfg, bool onset)
{
	char err[512];
	ah_series s = {0};
	ah_series_csv_opts csv = {.time_col = time_col, .value_col = value_col, .flags = AH_SERIES_UNORDERED};
	int rc = ah_series_read_csv(input, &csv, &s, err, sizeof(err));
	if (rc) {
		ah_cli_err(cmd, "%s", err);
		return rc == AH_ENOMEM ? AH_EXIT_INTERNAL : AH_EXIT_USAGE;
	}
	int ret = AH_EXIT_INTERNAL;
	double *score = malloc((s.n ? s.n : 1) * sizeof(double)), *ons = malloc((s.n ? s.n : 1) * sizeof(double));
	if (!score || !ons)
		rc = AH_ENOMEM;
	else
		rc = ah_anomaly_score_rows(cfg, s.t_ns, s.v, s.n, score, ons, NULL);
	if (rc) {
		ah_cli_err(cmd, "%s: %s", input, ah_strerror(rc));
		goto out;
	}
	printf("timestamp,value,anomaly_score\n");
	for (size_t i = 0; i < s.n; i++) {
		time_t sec = (time_t)(s.t_ns[i] / 1000000000);
		struct tm tm;
		char t[32];
		if (s.t_ns[i] < 0 || !gmtime_r(&sec, &tm) || !strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S", &tm)) {
			ah_cli_err(cmd, "%s: row %zu: time out of range for NAB's format", input, i + 1);
			goto out;
		}
		printf("%s,", t);
		if (!isnan(s.v[i]))
			printf("%.10g", s.v[i]);
		printf(",%.6f\n", onset ? ons[i] : score[i]);
	}
	ret = fflush(stdout) || ferror(stdout) ? AH_EXIT_INTERNAL : 0;
out:
	free(score);
	free(ons);
	ah_series_fini(&s);
	return ret;
}

int ah_cmd_anomalies(int argc, char **argv)
{
	const char *cmd = argv[0];
	const char *input = NULL, *time_col = NULL, *value_col = NULL;
	bool want_scores = false, sort_rows = false;
	const char *store = NULL, *db = NULL, *shadow_db = NULL;
	int dups = AH_SERIES_DUP_ERROR;
	ah_out_fmt fmt = AH_OUT_TABLE;
	ah_anomaly_config cfg;
	ah_anomaly_config_default(&cfg);
	double season = cfg.season_points, refractory = cfg.refractory_points;
	int nab = -1; /* --nab-results: 0 raw, 1 onset */
	static const ah_cli_choice nab_modes[] = {{"raw", 0}, {"onset", 1}, {NULL, 0}};
	int in_fmt = 0; /* 0 csv, 1 bitbrains */
	const char *column = NULL;
	static const ah_cli_choice in_formats[] = {{"csv", 0}, {"bitbrains", 1}, {NULL, 0}};
	static const ah_cli_choice dup_policies[] = {
		{"error", AH_SERIES_DUP_ERROR}, {"last", AH_SERIES_DUP_LAST}, {"mean", AH_SERIES_DUP_MEAN}, {NULL, 0}};
	const ah_cli_opt opts[] = {
		AH_OPT("input", 0, AH_OPT_STRING, &input, .hint = "FILE", .flags = AH_OPT_NONEMPTY),
		AH_OPT("format", 0, AH_OPT_CHOICE, &in_fmt, .hint = "csv or bitbrains", .choices = in_formats),
		AH_OPT("column", 0, AH_OPT_STRING, &column, .hint = "cpu or memory", .flags = AH_OPT_NONEMPTY),
		AH_OPT("threshold", 0, AH_OPT_NUMBER, &cfg.threshold, .hint = "T", .min = 0, .max = 1,
		       .flags = AH_OPT_MIN_OPEN),
		AH_OPT("season", 0, AH_OPT_NUMBER, &season, .hint = "N", .min = 0, .max = AH_ANOMALY_MAX_SEASON,
		       .flags = AH_OPT_WHOLE),
		AH_OPT("time-col", 0, AH_OPT_STRING, &time_col, .hint = "column name or 0-based index",
		       .flags = AH_OPT_NONEMPTY),
		AH_OPT("value-col", 0, AH_OPT_STRING, &value_col, .hint = "column name or 0-based index",
		       .flags = AH_OPT_NONEMPTY),
		AH_OPT("sort", 0, AH_OPT_FLAG, &sort_rows),
		AH_OPT("duplicates", 0, AH_OPT_CHOICE, &dups, .hint = "policy", .choices = dup_policies),
		AH_OPT("store", 0, AH_OPT_STRING, &store, .hint = "W:D", .flags = AH_OPT_NONEMPTY),
		AH_OPT("db", 0, AH_OPT_STRING, &db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("shadow-db", 0, AH_OPT_STRING, &shadow_db, .hint = "PATH", .flags = AH_OPT_NONEMPTY),
		AH_OPT("refractory", 0, AH_OPT_NUMBER, &refractory, .hint = "N", .min = 0, .max = 1e9,
		       .flags = AH_OPT_WHOLE),
		AH_OPT("nab-results", 0, AH_OPT_CHOICE, &nab, .hint = "onset or raw", .choices = nab_modes),
		AH_OPT("scores", 0, AH_OPT_FLAG, &want_scores),
		AH_OPT("output", 'o', AH_OPT_FORMAT, &fmt),
	};
	ah_cli_spec spec = {.cmd = "anomalies", .usage = usage, .opts = opts, .n_opts = AH_CLI_NOPTS(opts)};
	int ex = ah_cli_parse(&spec, argc, argv);
	if (ex != AH_CLI_GO)
		return ex;
	if (column && !in_fmt) {
		ah_cli_err(cmd, "--column picks a Bitbrains column: give --format bitbrains (CSV files take --value-col)");
		return AH_EXIT_USAGE;
	}
	if (in_fmt && (time_col || value_col)) {
		ah_cli_err(cmd, "%s: a Bitbrains file's columns are named by --column " AH_CLI_BB_COLUMNS,
			   time_col ? "--time-col" : "--value-col");
		return AH_EXIT_USAGE;
	}
	cfg.season_points = (uint32_t)season;
	cfg.refractory_points = (uint32_t)refractory;
	if (!input) {
		ah_cli_err(cmd, "--input FILE is required (see 'ahead anomalies --help')");
		return AH_EXIT_USAGE;
	}
	char err[512];
	if (ah_anomaly_config_check(&cfg, err, sizeof(err))) {
		ah_cli_err(cmd, "%s", err);
		return AH_EXIT_USAGE;
	}
	if (nab >= 0) {
		const char *bad = in_fmt ? "--format" : sort_rows ? "--sort" : dups ? "--duplicates" : store ? "--store"
				: want_scores ? "--scores" : fmt != AH_OUT_TABLE ? "--output" : NULL;
		if (bad) {
			ah_cli_err(cmd, "--nab-results writes every row as it is in the file: %s does not apply", bad);
			return AH_EXIT_USAGE;
		}
		return nab_results(cmd, input, time_col, value_col, &cfg, nab == 1);
	}

	int ret = AH_EXIT_INTERNAL, rc;
	ah_series s = {0};
	ah_anomaly_detector *d = NULL;
	ah_anomaly_event *evs = NULL;
	point_out *pts = NULL;
	json_t *root = NULL;
	size_t ne = 0, cap = 0;

	ah_series_csv_opts csv = {0};
	csv.time_col = time_col;
	csv.value_col = value_col;
	csv.dups = (ah_series_dup_policy)dups;
	if (sort_rows)
		csv.flags |= AH_SERIES_SORT;
	if ((rc = (in_fmt ? ah_cli_bitbrains_series(input, column ? column : "cpu", &csv, &s, err, sizeof(err))
				: ah_series_read_csv(input, &csv, &s, err, sizeof(err))))) {
		ah_cli_err(cmd, "%s", err);
		ret = rc == AH_ENOMEM ? AH_EXIT_INTERNAL : AH_EXIT_USAGE;
		goto out;
	}
	if ((rc = ah_anomaly_new(&cfg, &d)))
		goto fail;
	if (want_scores && !(pts = calloc(s.n ? s.n : 1, sizeof(*pts)))) {
		rc = AH_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i <= s.n; i++) {
		ah_anomaly_point pt = {0};
		ah_anomaly_event ev;
		bool has = false;
		if (i < s.n) {
			if ((rc = ah_anomaly_push(d, s.t_ns[i], s.v[i], &pt, &ev)))
				goto fail;
			has = pt.event_closed;
			if (pts) {
				pts[i].score = pt.score;
				pts[i].predicted = pt.predicted;
				pts[i].anomalous = pt.anomalous;
				pts[i].event = pt.anomalous ? (long)ne : -1;
			}
		} else if ((rc = ah_anomaly_finish(d, &ev, &has)))
			goto fail;
		if (!has)
			continue;
		if (ne == AH_ANOMALY_MAX_EVENTS) {
			rc = AH_ETOOBIG;
			goto fail;
		}
		if (ne == cap) {
			size_t nc = cap ? cap * 2 : 16;
			ah_anomaly_event *n2 = realloc(evs, nc * sizeof(*n2));
			if (!n2) {
				rc = AH_ENOMEM;
				goto fail;
			}
			evs = n2;
			cap = nc;
		}
		evs[ne++] = ev;
	}

	if (store) {
		/* Keep the events in the shadow store, all or none. */
		char wl[AH_SHADOW_WORKLOAD_MAX];
		const char *colon = strrchr(store, ':');
		if (!colon || colon == store || (size_t)(colon - store) >= sizeof wl) {
			ah_cli_err(cmd, "--store: expected WORKLOAD:DIMENSION, got '%.64s'", store);
			rc = AH_EINVAL;
			goto fail;
		}
		memcpy(wl, store, (size_t)(colon - store));
		wl[colon - store] = 0;
		if (ah_name_check_workload(wl) < 0 || ah_name_check_dim(colon + 1) < 0) {
			ah_cli_err(cmd, "--store: '%.64s' is not a valid workload:dimension", store);
			rc = AH_EINVAL;
			goto fail;
		}
		ah_history *hist = NULL;
		char herr[512];
		ah_history_anomaly *hev = calloc(ne ? ne : 1, sizeof(*hev));
		int src = hev ? ah_history_open(ah_cli_db_path(db), shadow_db, true, &hist, herr, sizeof herr) : AH_ENOMEM;
		for (size_t k = 0; k < ne && !src; k++)
			hev[k] = (ah_history_anomaly){evs[k].start_ns, evs[k].end_ns, evs[k].peak_score};
		if (!src)
			src = ah_history_anomalies_add(hist, wl, colon + 1, hev, ne, herr, sizeof herr);
		free(hev);
		if (src) {
			ah_cli_err(cmd, "%s", src == AH_ENOMEM ? "out of memory" : herr);
			ah_history_free(hist);
			rc = AH_ESTORE;
			goto fail;
		}
		fprintf(stderr, "stored %zu anomalies for %s in %s\n", ne, store, ah_history_path(hist));
		ah_history_free(hist);
	}

	char t1[48], t2[48], t3[48];
	if (fmt == AH_OUT_JSON) {
		root = json_object();
		json_t *jev = json_array();
		json_object_set_new(root, "input", ah_json_text(input));
		json_object_set_new(root, "points", json_integer((json_int_t)s.n));
		json_object_set_new(root, "missing", json_integer((json_int_t)(s.missing + s.filled)));
		json_object_set_new(root, "threshold", json_real(cfg.threshold));
		json_object_set_new(root, "season_points", json_integer(ah_anomaly_season(d)));
		for (size_t k = 0; k < ne; k++) {
			fmt_time(evs[k].start_ns, t1, sizeof(t1));
			fmt_time(evs[k].end_ns, t2, sizeof(t2));
			fmt_time(evs[k].peak_ns, t3, sizeof(t3));
			json_array_append_new(
				jev, json_pack("{s:s, s:s, s:s, s:f, s:s, s:I, s:I}", "start", t1, "end", t2,
					       "peak_at", t3, "peak_score", evs[k].peak_score, "kind",
					       ah_anomaly_kind_name(evs[k].kind), "start_index",
					       (json_int_t)evs[k].start_index, "end_index",
					       (json_int_t)evs[k].end_index));
		}
		json_object_set_new(root, "events", jev);
		if (pts) {
			json_t *jp = json_array();
			for (size_t i = 0; i < s.n; i++) {
				fmt_time(s.t_ns[i], t1, sizeof(t1));
				json_t *o = json_object();
				json_object_set_new(o, "time", json_string(t1));
				json_object_set_new(o, "value", isnan(s.v[i]) ? json_null() : json_real(s.v[i]));
				json_object_set_new(o, "predicted",
						    isnan(pts[i].predicted) ? json_null() : json_real(pts[i].predicted));
				json_object_set_new(o, "score", json_real(pts[i].score));
				json_object_set_new(o, "anomalous", json_boolean(pts[i].anomalous));
				json_array_append_new(jp, o);
			}
			json_object_set_new(root, "scores", jp);
		}
		char *txt = ah_json_dumps(root);
		int bad = !txt || printf("%s\n", txt) < 0;
		free(txt);
		if (bad) {
			rc = AH_EIO;
			goto fail;
		}
	} else if (fmt == AH_OUT_CSV) {
		if (!pts) {
			printf("start,end,peak_at,peak_score,kind\n");
			for (size_t k = 0; k < ne; k++) {
				fmt_time(evs[k].start_ns, t1, sizeof(t1));
				fmt_time(evs[k].end_ns, t2, sizeof(t2));
				fmt_time(evs[k].peak_ns, t3, sizeof(t3));
				printf("%s,%s,%s,%.4f,%s\n", t1, t2, t3, evs[k].peak_score,
				       ah_anomaly_kind_name(evs[k].kind));
			}
		} else {
			printf("time,value,predicted,score,anomalous,event\n");
			for (size_t i = 0; i < s.n; i++) {
				fmt_time(s.t_ns[i], t1, sizeof(t1));
				printf("%s,", t1);
				if (!isnan(s.v[i]))
					printf("%.10g", s.v[i]);
				putchar(',');
				if (!isnan(pts[i].predicted))
					printf("%.10g", pts[i].predicted);
				printf(",%.4f,%d,", pts[i].score, pts[i].anomalous);
				if (pts[i].event >= 0)
					printf("%ld", pts[i].event + 1);
				putchar('\n');
			}
		}
	} else {
		/* aligned tables (cli/table.h) */
		ah_cli_table et;
		ah_cli_table_init(&et, 5, 1u << 3);
		ah_cli_table_addv(&et, "START", "END", "PEAK_AT", "PEAK_SCORE", "KIND");
		for (size_t k = 0; k < ne; k++) {
			char sc[32];
			fmt_time(evs[k].start_ns, t1, sizeof(t1));
			fmt_time(evs[k].end_ns, t2, sizeof(t2));
			fmt_time(evs[k].peak_ns, t3, sizeof(t3));
			snprintf(sc, sizeof sc, "%.3f", evs[k].peak_score);
			ah_cli_table_addv(&et, t1, t2, t3, sc, ah_anomaly_kind_name(evs[k].kind));
		}
		ah_cli_table_print(&et, stdout);
		ah_cli_table_fini(&et);
		uint32_t season = ah_anomaly_season(d);
		printf("%zu event%s in %zu points (%zu missing); threshold %.3g; season %s",
		       ne, ne == 1 ? "" : "s", s.n, s.missing + s.filled, cfg.threshold,
		       season > 1 ? "" : "none");
		if (season > 1)
			printf("%u points", season);
		printf("\n");
		if (pts) {
			ah_cli_table pt;
			ah_cli_table_init(&pt, 5, 0xEu);
			printf("\n");
			ah_cli_table_addv(&pt, "TIME", "VALUE", "PREDICTED", "SCORE", "");
			for (size_t i = 0; i < s.n; i++) {
				char v[48], p[48], sc[32];
				fmt_time(s.t_ns[i], t1, sizeof(t1));
				ah_cli_fmt_num(s.v[i], v, sizeof v);
				ah_cli_fmt_num(pts[i].predicted, p, sizeof p);
				snprintf(sc, sizeof sc, "%.4f", pts[i].score);
				if (ah_cli_table_addv(&pt, t1, isnan(s.v[i]) ? "-" : v, isnan(pts[i].predicted) ? "-" : p,
						      sc, pts[i].anomalous ? "*" : "")) {
					ah_cli_table_fini(&pt);
					rc = AH_ENOMEM;
					goto fail;
				}
			}
			ah_cli_table_print(&pt, stdout);
			ah_cli_table_fini(&pt);
		}
	}
	if (fflush(stdout) || ferror(stdout)) {
		ah_cli_err(cmd, "cannot write output");
		goto out;
	}
	ret = AH_EXIT_OK;
	goto out;
fail:
	ah_cli_err(cmd, "%s: %s", input, ah_strerror(rc));
	ret = rc == AH_EINVAL ? AH_EXIT_USAGE : AH_EXIT_INTERNAL;
out:
	json_decref(root);
	free(pts);
	free(evs);
	ah_anomaly_free(d);
	ah_series_fini(&s);
	return ret;
}
