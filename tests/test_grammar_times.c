/* The grammar of times (timestamp.h), shared by every reader: accepted and
 * refused inputs, the lossless formatter, and the readers that must agree
 * — the series reader and plain replay traces (which before timestamp.h
 * refused the ISO times every other reader took). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/series.h"
#include "ahead/timestamp.h"
#include "ahead/trace.h"

#define S INT64_C(1000000000)
#define T2024 (INT64_C(1704067200) * S) /* 2024-01-01T00:00:00Z */

static void test_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t ns;
	} ok[] = {
		{"1704067200", T2024},
		{"1704067200.25", T2024 + S / 4},
		{"2024-01-01", T2024},
		{"2024-01-01T00:00:00Z", T2024},
		{"2024-01-01t00:00:00z", T2024},
		{"2024-01-01 00:00", T2024},
		{"2024-01-01T00:00:00.123Z", T2024 + 123000000},
		{"2024-01-01T00:00:00,5Z", T2024 + S / 2},
		{"2024-01-01T00:00:00.000000001Z", T2024 + 1},
		{"2024-01-01T01:00:00+01:00", T2024},
		{"2023-12-31T19:00:00-0500", T2024},
		{"2024-02-29T00:00:00Z", T2024 + 59 * 86400 * S},
		{"0", 0},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int64_t ns = -1;
		assert_int_equal(ah_time_parse(ok[i].s, &ns), 0);
		assert_int_equal(ns, ok[i].ns);
		/* the series reader takes the same */
		int64_t sn = -1;
		assert_int_equal(ah_series_parse_time(ok[i].s, &sn), 0);
		assert_int_equal(sn, ok[i].ns);
	}
}

static void test_refused(void **state)
{
	(void)state;
	const char *bad[] = {"", "-1", "+1", "1e9", "2024-1-1", "2024-13-01", "2023-02-29", "2024-01-01T24:00",
			     "2024-01-01T00:00:60Z", "2024-01-01T00:00:00.1234567890Z", "2024-01-01T00:00:00.Z",
			     "2024-01-01T00:00:00 Z", "2024-01-01T00:00:00+24:00", "yesterday", "1704067200 "};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ns = 42;
		assert_int_not_equal(ah_time_parse(bad[i], &ns), 0);
		assert_int_equal(ns, 42);
		assert_int_not_equal(ah_series_parse_time(bad[i], &ns), 0);
	}
	int64_t ns = 42;
	assert_int_equal(ah_time_parse("2262-01-02T00:00:00Z", &ns), AH_ERANGE);
	assert_int_equal(ah_time_parse("1969-12-31T23:59:59Z", &ns), AH_ERANGE);
}

static void test_format_exact(void **state)
{
	(void)state;
	char b[40];
	const int64_t v[] = {T2024, T2024 + S / 4, T2024 + 1, 0};
	const char *want[] = {"2024-01-01T00:00:00Z", "2024-01-01T00:00:00.25Z", "2024-01-01T00:00:00.000000001Z",
			      "1970-01-01T00:00:00Z"};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_int_equal(ah_time_format_exact(v[i], b, sizeof b), 0);
		assert_string_equal(b, want[i]);
		int64_t back;
		assert_int_equal(ah_time_parse(b, &back), 0);
		assert_int_equal(back, v[i]);
	}
	assert_int_equal(ah_time_format_exact(-1, b, sizeof b), AH_EINVAL);
	assert_int_equal(ah_time_format_exact(T2024, b, 10), AH_ERANGE);
}

static int trace_first_time(const char *text, int64_t *t_s, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	ah_trace *tr = NULL;
	ah_trace_row row;
	int rc = ah_trace_open_stream(f, "t.csv", AH_TRACE_PLAIN, &tr);
	if (rc == 0)
		rc = ah_trace_next(tr, &row);
	if (rc == 1)
		*t_s = row.t_s;
	else if (tr)
		snprintf(err, errlen, "%s", ah_trace_error(tr));
	ah_trace_free(tr);
	fclose(f);
	return rc == 1 ? 0 : -1;
}

static void test_plain_trace_iso(void **state)
{
	(void)state;
	char err[256] = "";
	int64_t t = -1;
	assert_int_equal(trace_first_time("time,workload,dim,used\n2024-01-01T00:00:00Z,w,cpu,1\n", &t, err, sizeof err), 0);
	assert_int_equal(t, T2024 / S);
	assert_int_equal(trace_first_time("time,workload,dim,used\n1704067200,w,cpu,1\n", &t, err, sizeof err), 0);
	assert_int_equal(t, T2024 / S);
	assert_int_equal(trace_first_time("time,workload,dim,used\n2024-01-01T00:00:00.5Z,w,cpu,1\n", &t, err, sizeof err),
			 -1);
	assert_non_null(strstr(err, "time: expected whole seconds"));
	assert_int_equal(trace_first_time("time,workload,dim,used\nsoon,w,cpu,1\n", &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "t.csv:2: time:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),     cmocka_unit_test(test_refused),
		cmocka_unit_test(test_format_exact), cmocka_unit_test(test_plain_trace_iso),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
