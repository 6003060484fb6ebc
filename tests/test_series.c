/* Tests for the CSV time-series reader: good files, every refusal, caps. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ahead/error.h"
#include "ahead/series.h"

static char dir[256];

static const char *write_file(const char *name, const char *content, size_t len)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	fclose(f);
	return path;
}

static const char *wr(const char *name, const char *content)
{
	return write_file(name, content, strlen(content));
}

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/ahead-series-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int rd(const char *path, const ah_series_csv_opts *o, ah_series *s, char *err)
{
	return ah_series_read_csv(path, o, s, err, 512);
}

static void test_basic_nab(void **st)
{
	(void)st;
	const char *p = wr("a.csv", "timestamp,value\n"
				    "2014-02-14 14:30:00,0.132\n"
				    "2014-02-14 14:35:00,0.134\r\n"
				    "2014-02-14 14:40:00,1.5\n");
	ah_series s;
	char err[512];
	assert_int_equal(rd(p, NULL, &s, err), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.step_ns, 300LL * 1000000000LL);
	assert_int_equal(s.t_ns[0], 1392388200LL * 1000000000LL);
	assert_true(fabs(s.v[2] - 1.5) < 1e-12);
	assert_int_equal(s.time_col, 0);
	assert_int_equal(s.value_col, 1);
	assert_int_equal(s.gaps, 0);
	ah_series_fini(&s);
	assert_null(s.v);
	ah_series_fini(NULL);
}

static void test_time_formats(void **st)
{
	(void)st;
	int64_t t;
	assert_int_equal(ah_series_parse_time("2014-02-14T14:30:00Z", &t), 0);
	assert_int_equal(t, 1392388200LL * 1000000000LL);
	assert_int_equal(ah_series_parse_time("2014-02-14T16:30:00+02:00", &t), 0);
	assert_int_equal(t, 1392388200LL * 1000000000LL);
	assert_int_equal(ah_series_parse_time("2014-02-14 14:30:00.25", &t), 0);
	assert_int_equal(t, 1392388200LL * 1000000000LL + 250000000LL);
	assert_int_equal(ah_series_parse_time("1392388200.5", &t), 0);
	assert_int_equal(t, 1392388200LL * 1000000000LL + 500000000LL);
	assert_int_equal(ah_series_parse_time("1970-01-01", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(ah_series_parse_time("2014-02-30 00:00:00", &t), AH_EINVAL);
	assert_int_equal(ah_series_parse_time("2014-13-01", &t), AH_EINVAL);
	assert_int_equal(ah_series_parse_time("yesterday", &t), AH_EINVAL);
	assert_int_equal(ah_series_parse_time("12abc", &t), AH_EINVAL);
	assert_int_equal(ah_series_parse_time("99999999999999999999", &t), AH_EINVAL);
	assert_int_equal(ah_series_parse_time("8014-02-14 14:30:00", &t), AH_EINVAL); /* beyond int64 ns */
	assert_int_equal(ah_series_parse_time("0014-02-14 14:30:00", &t), AH_EINVAL);
}

static void test_columns_by_name_and_index(void **st)
{
	(void)st;
	const char *p = wr("c.csv", "host,\"value\",time,mem\n"
				    "a,1,100,7\n"
				    "a,2,160,8\n"
				    "a,,220,9\n");
	ah_series s;
	char err[512];
	assert_int_equal(rd(p, NULL, &s, err), 0); /* defaults: time, value by name */
	assert_int_equal(s.time_col, 2);
	assert_int_equal(s.value_col, 1);
	assert_int_equal(s.step_ns, 60LL * 1000000000LL);
	assert_true(isnan(s.v[2]));
	assert_int_equal(s.missing, 1);
	ah_series_fini(&s);
	ah_series_csv_opts o = {.value_col = "3"};
	assert_int_equal(rd(p, &o, &s, err), 0);
	assert_int_equal(s.value_col, 3);
	assert_true(fabs(s.v[2] - 9) < 1e-12);
	ah_series_fini(&s);
	o = (ah_series_csv_opts){.value_col = "MEM", .time_col = "time"};
	assert_int_equal(rd(p, &o, &s, err), 0);
	assert_int_equal(s.value_col, 3);
	ah_series_fini(&s);
	o = (ah_series_csv_opts){.value_col = "cpu"};
	assert_int_equal(rd(p, &o, &s, err), AH_EINVAL);
	assert_non_null(strstr(err, ":1: no value column 'cpu'"));
	o = (ah_series_csv_opts){.value_col = "9"};
	assert_int_equal(rd(p, &o, &s, err), AH_EINVAL);
	o = (ah_series_csv_opts){.value_col = "time"};
	assert_int_equal(rd(p, &o, &s, err), AH_EINVAL);
	assert_non_null(strstr(err, "same"));
}

static void test_gaps_and_nan(void **st)
{
	(void)st;
	const char *p = wr("g.csv", "timestamp,value\n"
				    "0,1\n60,2\n120,NaN\n180,4\n420,5\n480,6\n");
	ah_series s;
	char err[512];
	assert_int_equal(rd(p, NULL, &s, err), 0);
	assert_int_equal(s.step_ns, 60LL * 1000000000LL);
	assert_int_equal(s.gaps, 1);
	assert_int_equal(s.filled, 3);
	assert_int_equal(s.n, 9);
	assert_int_equal(s.missing, 1);
	assert_true(isnan(s.v[2]));
	for (int i = 4; i < 7; i++) {
		assert_true(isnan(s.v[i]));
		assert_int_equal(s.t_ns[i], (int64_t)(i * 60) * 1000000000LL);
	}
	assert_true(fabs(s.v[7] - 5) < 1e-12);
	assert_int_equal(ah_series_count_valid(&s), 5);
	ah_series_fini(&s);
	ah_series_csv_opts o = {.flags = AH_SERIES_NO_FILL};
	assert_int_equal(rd(p, &o, &s, err), 0);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.gaps, 0);
	ah_series_fini(&s);
	/* A gap so long the fill would pass the cap is refused, not allocated. */
	p = wr("g2.csv", "timestamp,value\n0,1\n1,1\n2,1\n3900000000,1\n");
	assert_int_equal(rd(p, NULL, &s, err), AH_ETOOBIG);
	assert_non_null(strstr(err, "g2.csv:5:"));
}

static void test_duplicates_and_order(void **st)
{
	(void)st;
	const char *p = wr("d.csv", "timestamp,value\n0,1\n60,2\n60,4\n120,5\n");
	ah_series s;
	char err[512];
	assert_int_equal(rd(p, NULL, &s, err), AH_EINVAL);
	assert_non_null(strstr(err, "d.csv:4: duplicate timestamp (same as line 3)"));
	ah_series_csv_opts o = {.dups = AH_SERIES_DUP_MEAN};
	assert_int_equal(rd(p, &o, &s, err), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.duplicates, 1);
	assert_true(fabs(s.v[1] - 3) < 1e-12);
	ah_series_fini(&s);
	o.dups = AH_SERIES_DUP_LAST;
	assert_int_equal(rd(p, &o, &s, err), 0);
	assert_true(fabs(s.v[1] - 4) < 1e-12);
	ah_series_fini(&s);

	p = wr("b.csv", "timestamp,value\n0,1\n120,3\n60,2\n180,4\n");
	assert_int_equal(rd(p, NULL, &s, err), AH_EINVAL);
	assert_non_null(strstr(err, "b.csv:4: timestamp goes backwards (earlier than line 3)"));
	o = (ah_series_csv_opts){.flags = AH_SERIES_SORT};
	assert_int_equal(rd(p, &o, &s, err), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.reordered, 1);
	for (int i = 0; i < 4; i++)
		assert_true(fabs(s.v[i] - (i + 1)) < 1e-12);
	ah_series_fini(&s);
	o = (ah_series_csv_opts){.flags = AH_SERIES_UNORDERED};
	assert_int_equal(rd(p, &o, &s, err), 0);
	assert_true(fabs(s.v[1] - 3) < 1e-12); /* file order kept */
	ah_series_fini(&s);
}

static void test_bad_inputs(void **st)
{
	(void)st;
	ah_series s;
	char err[512];
	assert_int_equal(rd(wr("e.csv", ""), NULL, &s, err), AH_EINVAL);
	assert_non_null(strstr(err, "empty file"));
	assert_int_equal(rd(wr("h.csv", "timestamp,value\n"), NULL, &s, err), AH_EINVAL);
	assert_non_null(strstr(err, "no data rows"));
	assert_int_equal(rd(wr("one.csv", "timestamp\n1\n"), NULL, &s, err), AH_EINVAL);
	assert_non_null(strstr(err, "one.csv:1:"));
	assert_int_equal(rd(wr("few.csv", "timestamp,value\n0,1\n60\n"), NULL, &s, err), AH_EPARSE);
	assert_non_null(strstr(err, "few.csv:3: expected at least 2 columns, found 1"));
	assert_int_equal(rd(wr("txt.csv", "timestamp,value\n0,1\n60,abc\n"), NULL, &s, err), AH_EPARSE);
	assert_non_null(strstr(err, "txt.csv:3: column 1: not a number 'abc'"));
	assert_int_equal(rd(wr("inf.csv", "timestamp,value\n0,inf\n"), NULL, &s, err), AH_EPARSE);
	assert_non_null(strstr(err, "not finite"));
	assert_int_equal(rd(wr("ts.csv", "timestamp,value\n0,1\nnoon,2\n"), NULL, &s, err), AH_EPARSE);
	assert_non_null(strstr(err, "ts.csv:3: column 0: bad timestamp 'noon'"));
	assert_int_equal(rd(wr("q.csv", "timestamp,value\n\"0,1\n"), NULL, &s, err), AH_EPARSE);
	assert_non_null(strstr(err, "q.csv:2: unterminated quote"));
	static const char bin[] = "timestamp,value\n0,1\n\x7f\x45LF\x01\x00\x00garbage\n";
	assert_int_equal(rd(write_file("bin.csv", bin, sizeof(bin) - 1), NULL, &s, err), AH_EPARSE);
	assert_non_null(strstr(err, "bin.csv:3: binary data"));
	assert_int_equal(rd("/nonexistent/x.csv", NULL, &s, err), AH_EIO);
	assert_non_null(strstr(err, "cannot open"));

	size_t big = AH_SERIES_MAX_LINE + 100;
	char *lng = malloc(big + 40);
	assert_non_null(lng);
	strcpy(lng, "timestamp,value\n0,");
	size_t n = strlen(lng);
	memset(lng + n, '1', big);
	lng[n + big] = '\n';
	assert_int_equal(rd(write_file("long.csv", lng, n + big + 1), NULL, &s, err), AH_ETOOBIG);
	assert_non_null(strstr(err, "long.csv:2: line longer than"));
	free(lng);

	ah_series_csv_opts o = {.max_rows = 2};
	assert_int_equal(rd(wr("cap.csv", "timestamp,value\n0,1\n1,2\n2,3\n"), &o, &s, err), AH_ETOOBIG);
	assert_non_null(strstr(err, "cap.csv:4: more than 2 rows"));
	/* Blank lines and a trailing line without newline are fine. */
	assert_int_equal(rd(wr("bl.csv", "timestamp,value\n0,1\n\n  \n60,2"), NULL, &s, err), 0);
	assert_int_equal(s.n, 2);
	ah_series_fini(&s);
}

static void test_million_lines(void **st)
{
	(void)st;
	char path[512];
	snprintf(path, sizeof(path), "%s/million.csv", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "timestamp,value\n");
	for (long i = 0; i < 1000000; i++)
		fprintf(f, "%ld,%ld.5\n", 1400000000L + i * 10, i % 1000);
	fclose(f);
	ah_series s;
	char err[512];
	assert_int_equal(rd(path, NULL, &s, err), 0);
	assert_int_equal(s.n, 1000000);
	assert_int_equal(s.step_ns, 10LL * 1000000000LL);
	assert_true(fabs(s.v[999999] - 999.5) < 1e-9);
	ah_series_fini(&s);
	unlink(path);
}

static void test_real_nab_file(void **st)
{
	(void)st;
	const char *sh = getenv("AHEAD_SHARED");
	char path[1024];
	snprintf(path, sizeof(path), "%s/data/nab/data/realKnownCause/nyc_taxi.csv", sh ? sh : "../shared");
	if (access(path, R_OK)) {
		print_message("skipped: %s not present\n", path);
		skip();
	}
	ah_series s;
	char err[512];
	assert_int_equal(rd(path, NULL, &s, err), 0);
	assert_int_equal(s.n, 10320);
	assert_int_equal(s.step_ns, 1800LL * 1000000000LL);
	ah_series_fini(&s);
	/* a real file with a backwards timestamp: refused with its line, read when sorting */
	snprintf(path, sizeof(path), "%s/data/nab/data/realKnownCause/machine_temperature_system_failure.csv",
		 sh ? sh : "../shared");
	if (access(path, R_OK))
		return;
	assert_int_equal(rd(path, NULL, &s, err), AH_EINVAL);
	assert_non_null(strstr(err, "machine_temperature_system_failure.csv:10151: timestamp goes backwards"));
	ah_series_csv_opts o = {.flags = AH_SERIES_SORT, .dups = AH_SERIES_DUP_MEAN};
	assert_int_equal(rd(path, &o, &s, err), 0);
	assert_true(s.n >= 22695 - s.duplicates);
	for (size_t i = 1; i < s.n; i++)
		assert_true(s.t_ns[i] > s.t_ns[i - 1]);
	ah_series_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_nab),
		cmocka_unit_test(test_time_formats),
		cmocka_unit_test(test_columns_by_name_and_index),
		cmocka_unit_test(test_gaps_and_nan),
		cmocka_unit_test(test_duplicates_and_order),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_million_lines),
		cmocka_unit_test(test_real_nab_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
