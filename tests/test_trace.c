/* Trace readers: Bitbrains and plain formats, their tolerated quirks, strict
 * "FILE:LINE: reason" errors, and bounded memory on a large streamed file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ahead/error.h"
#include "ahead/trace.h"

/* the real header has "[%]" for pct; the reader checks only the start */
#define BB_HDR "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [pct];\t" \
	       "Memory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\t"          \
	       "Disk write throughput [KB/s];\tNetwork received throughput [KB/s];\t"                          \
	       "Network transmitted throughput [KB/s]\n"

static ah_trace *open_text(const char *name, const char *text, ah_trace_format fmt, FILE **fp)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	ah_trace *tr = NULL;
	assert_int_equal(ah_trace_open_stream(f, name, fmt, &tr), 0);
	*fp = f;
	return tr;
}

/* Reads to the end; returns the final code and the row count. */
static int drain(ah_trace *tr, int *rows)
{
	ah_trace_row r;
	int rc, n = 0;
	while ((rc = ah_trace_next(tr, &r)) == 1)
		n++;
	*rows = n;
	return rc;
}

static void expect_error(const char *text, ah_trace_format fmt, const char *needle)
{
	FILE *f;
	ah_trace *tr = open_text("t.csv", text, fmt, &f);
	int n;
	int rc = drain(tr, &n);
	assert_true(rc < 0);
	const char *e = ah_trace_error(tr);
	if (!strstr(e, needle))
		fail_msg("error '%s' lacks '%s'", e, needle);
	/* stays failed */
	ah_trace_row r;
	assert_int_equal(ah_trace_next(tr, &r), rc);
	ah_trace_free(tr);
	fclose(f);
}

static void test_format_parse(void **s)
{
	(void)s;
	ah_trace_format f;
	assert_int_equal(ah_trace_format_parse("bitbrains", &f), 0);
	assert_int_equal(f, AH_TRACE_BITBRAINS);
	assert_int_equal(ah_trace_format_parse("plain", &f), 0);
	assert_int_equal(f, AH_TRACE_PLAIN);
	assert_true(ah_trace_format_parse("csv", &f) < 0);
	assert_true(ah_trace_format_parse(NULL, &f) < 0);
}

static void test_bitbrains_rows_and_units(void **s)
{
	(void)s;
	const char *text = BB_HDR
		"1372629804;\t2;\t5851.9989;\t87.7799835;\t1.5;\t8218624.0;\t1034592.8;\t160.8;\t21.7;\t0.2;\t1.4\n"
		"1372630104;\t2;\t5851.9989;\t2925.99945;\t50.0;\t8218624.0;\t4.109312E6;\t0.0;\t2.3;\t0.2;\t1.0\n";
	FILE *f;
	ah_trace *tr = open_text("data/rnd/7.csv", text, AH_TRACE_BITBRAINS, &f);
	ah_trace_row r;
	assert_int_equal(ah_trace_next(tr, &r), 1);
	assert_string_equal(r.workload, "7");
	assert_int_equal(r.t_s, 1372629804);
	assert_int_equal(r.dim, AH_DIM_CPU);
	/* 87.78 MHz of 2 x 2926 MHz cores = 0.03 core, to the nearest m */
	assert_int_equal(r.used, 30);
	assert_int_equal(r.requested, 2000);
	assert_int_equal(ah_trace_next(tr, &r), 1);
	assert_int_equal(r.dim, AH_DIM_MEMORY);
	assert_int_equal(r.used, 1059423027); /* 1034592.8 x 1024, rounded */
	assert_int_equal(r.requested, (int64_t)8218624 * 1024);
	assert_int_equal(ah_trace_next(tr, &r), 1);
	assert_int_equal(r.used, 1000); /* half of the capacity = 1 core */
	assert_int_equal(ah_trace_next(tr, &r), 1);
	assert_int_equal(r.used, (int64_t)4109312 * 1024); /* E notation */
	assert_int_equal(ah_trace_next(tr, &r), 0);
	ah_trace_stats st;
	ah_trace_get_stats(tr, &st);
	assert_int_equal(st.lines, 3);
	assert_int_equal(st.rows, 4);
	assert_int_equal(ah_trace_max_buffered_rows(tr), 2);
	ah_trace_free(tr);
	fclose(f);
}

static void test_bitbrains_quirks(void **s)
{
	(void)s;
	/* duplicate timestamp (kept once), VM off (0 cores, 0 capacity, 0 KB:
	 * no samples), a millisecond timestamp, CRLF, usage slightly above 100% */
	const char *text = BB_HDR
		"1000;\t1;\t2000;\t100;\t5;\t1024;\t512;\t0;\t0;\t0;\t0\r\n"
		"1000;\t0;\t0.0;\t0.0;\t0.0;\t1024;\t999;\t0;\t0;\t0;\t0\n"
		"1300;\t0;\t0.0;\t0.0;\t0.0;\t0.0;\t0.0;\t0;\t0;\t0;\t0\n"
		"1600000;\t1;\t2000;\t2064;\t103.2;\t1024;\t512;\t0;\t0;\t0;\t0\n";
	FILE *f;
	ah_trace *tr = open_text("vm.csv", text, AH_TRACE_BITBRAINS, &f);
	ah_trace_row r;
	int n = 0;
	int64_t last_cpu = -1;
	while (ah_trace_next(tr, &r) == 1) {
		n++;
		if (r.dim == AH_DIM_CPU)
			last_cpu = r.used;
	}
	assert_int_equal(n, 4);
	assert_int_equal(last_cpu, 1032);
	ah_trace_stats st;
	ah_trace_get_stats(tr, &st);
	assert_int_equal(st.duplicate_rows, 1);
	assert_int_equal(st.off_rows, 2);
	assert_int_equal(st.ms_timestamps, 0); /* 1600000 s is plausible seconds */
	ah_trace_free(tr);
	fclose(f);

	const char *ms = BB_HDR "1372629804000;\t1;\t2000;\t100;\t5;\t1024;\t512;\t0;\t0;\t0;\t0\n";
	tr = open_text("vm.csv", ms, AH_TRACE_BITBRAINS, &f);
	assert_int_equal(ah_trace_next(tr, &r), 1);
	assert_int_equal(r.t_s, 1372629804);
	ah_trace_get_stats(tr, &st);
	assert_int_equal(st.ms_timestamps, 1);
	ah_trace_free(tr);
	fclose(f);
}

static void test_bitbrains_errors(void **s)
{
	(void)s;
	const char *row = "1000;\t1;\t2000;\t100;\t5;\t1024;\t512;\t0;\t0;\t0;\t0\n";
	char buf[2048];
	expect_error("time,cores\n", AH_TRACE_BITBRAINS, "t.csv:1: expected the Bitbrains header");
	snprintf(buf, sizeof(buf), BB_HDR "1000,1,2000,100,5,1024,512,0,0,0,0\n");
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:2: expected fields separated by");
	snprintf(buf, sizeof(buf), BB_HDR "1000;\t1;\t2000;\t100;\t5;\t1024\n");
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:2: expected 11 fields");
	snprintf(buf, sizeof(buf), BB_HDR "%s1000;\t1;\t2000;\t100;\t5;\t1024;\t512;\t0;\t0;\t0;\t0;\t7\n", row);
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:3: expected 11 fields");
	snprintf(buf, sizeof(buf), BB_HDR "1000;\t1;\t2000;\t-100;\t5;\t1024;\t512;\t0;\t0;\t0;\t0\n");
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:2: cpu usage: negative value");
	snprintf(buf, sizeof(buf), BB_HDR "1000;\t1;\t2000;\tabc;\t5;\t1024;\t512;\t0;\t0;\t0;\t0\n");
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:2: cpu usage: not a number");
	snprintf(buf, sizeof(buf), BB_HDR "1000;\t1;\t2000;\t90000;\t5;\t1024;\t512;\t0;\t0;\t0;\t0\n");
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:2: cpu usage: 90000 MHz is absurd");
	snprintf(buf, sizeof(buf), BB_HDR "1000;\t1;\t2000;\t100;\t5;\t1024;\t1e300;\t0;\t0;\t0;\t0\n");
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:2: memory: value above");
	snprintf(buf, sizeof(buf), BB_HDR "1000;\t1;\t2000;\t100;\t5;\t1024;\tnan;\t0;\t0;\t0;\t0\n");
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:2: memory usage: not a number");
	snprintf(buf, sizeof(buf), BB_HDR "%s900;\t1;\t2000;\t100;\t5;\t1024;\t512;\t0;\t0;\t0;\t0\n", row);
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:3: timestamp 900 is before the previous one (1000)");
	snprintf(buf, sizeof(buf), BB_HDR "1000.5;\t1;\t2000;\t100;\t5;\t1024;\t512;\t0;\t0;\t0;\t0\n");
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:2: time: expected a non-negative integer");
	snprintf(buf, sizeof(buf), BB_HDR "1000;\t0;\t2000;\t100;\t5;\t1024;\t512;\t0;\t0;\t0;\t0\n");
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:2: cpu capacity");
	snprintf(buf, sizeof(buf), BB_HDR "\n");
	expect_error(buf, AH_TRACE_BITBRAINS, "t.csv:2: empty line");
	expect_error("", AH_TRACE_BITBRAINS, "empty file");
	/* a line longer than the cap */
	char *big = malloc(AH_TRACE_LINE_MAX * 2 + sizeof(BB_HDR) + 8);
	assert_non_null(big);
	strcpy(big, BB_HDR);
	size_t l = strlen(big);
	memset(big + l, '1', AH_TRACE_LINE_MAX * 2);
	strcpy(big + l + AH_TRACE_LINE_MAX * 2, "\n");
	expect_error(big, AH_TRACE_BITBRAINS, "t.csv:2: line longer than 4096 bytes");
	free(big);
}

static void test_plain_rows(void **s)
{
	(void)s;
	const char *text = "time,workload,dim,used,requested\n"
			   "# a comment\n"
			   "0,web-1,cpu,250,1000\n"
			   "0,db.main,memory,1073741824.4,4294967296\n"
			   "\n"
			   "300,web-1,memory,100\n";
	FILE *f;
	ah_trace *tr = open_text("p.csv", text, AH_TRACE_PLAIN, &f);
	ah_trace_row r;
	assert_int_equal(ah_trace_next(tr, &r), 1);
	assert_string_equal(r.workload, "web-1");
	assert_int_equal(r.dim, AH_DIM_CPU);
	assert_int_equal(r.used, 250);
	assert_int_equal(r.requested, 1000);
	assert_int_equal(ah_trace_next(tr, &r), 1);
	assert_string_equal(r.workload, "db.main");
	assert_int_equal(r.dim, AH_DIM_MEMORY);
	assert_int_equal(r.used, 1073741824);
	assert_int_equal(ah_trace_next(tr, &r), 1);
	assert_int_equal(r.t_s, 300);
	assert_int_equal(r.requested, -1);
	assert_int_equal(ah_trace_next(tr, &r), 0);
	assert_int_equal(ah_trace_max_buffered_rows(tr), 1);
	ah_trace_free(tr);
	fclose(f);
}

static void test_plain_errors(void **s)
{
	(void)s;
	expect_error("0,a,cpu,1\n", AH_TRACE_PLAIN, "t.csv:1: expected the header");
	expect_error("time,workload,dim,used,requested,x\n", AH_TRACE_PLAIN, "t.csv:1: expected the header");
	expect_error("time,workload,dim,used\n0;a;cpu;1\n", AH_TRACE_PLAIN, "t.csv:2: expected comma-separated");
	expect_error("time,workload,dim,used\n0,a,cpu\n", AH_TRACE_PLAIN, "t.csv:2: missing columns");
	expect_error("time,workload,dim,used\n0,a,cpu,1,2,3\n", AH_TRACE_PLAIN, "t.csv:2: too many columns");
	expect_error("time,workload,dim,used\n0,a,gpu,1\n", AH_TRACE_PLAIN, "t.csv:2: dim: expected cpu or mem");
	expect_error("time,workload,dim,used\n0,a,cpu,-1\n", AH_TRACE_PLAIN, "t.csv:2: used: negative value");
	expect_error("time,workload,dim,used\n0,a,cpu,1e12\n", AH_TRACE_PLAIN, "t.csv:2: used: 1e+12 is above the cap");
	expect_error("time,workload,dim,used\n0,a,memory,1,x\n", AH_TRACE_PLAIN, "t.csv:2: requested: not a number");
	expect_error("time,workload,dim,used\n0,,cpu,1\n", AH_TRACE_PLAIN, "t.csv:2: workload: empty");
	expect_error("time,workload,dim,used\n0,a b,cpu,1\n", AH_TRACE_PLAIN, "t.csv:2: workload: bad character");
	expect_error("time,workload,dim,used\n-5,a,cpu,1\n", AH_TRACE_PLAIN, "t.csv:2: time: expected a non-negative");
	expect_error("time,workload,dim,used\n600,a,cpu,1\n300,b,cpu,1\n", AH_TRACE_PLAIN,
		     "t.csv:3: time 300 is before the previous row's (600)");
	expect_error("time,workload,dim,used\n99999999999999,a,cpu,1\n", AH_TRACE_PLAIN, "t.csv:2: time");
}

/* A large generated file streams through one line buffer: the reader never
 * holds more than one line's rows, however long the file. */
static void test_large_file_bounded(void **s)
{
	(void)s;
	FILE *f = tmpfile();
	assert_non_null(f);
	fputs("time,workload,dim,used,requested\n", f);
	const int N = 400000;
	for (int i = 0; i < N; i++)
		fprintf(f, "%d,w%d,%s,%d,4000\n", (i / 100) * 300, i % 50, (i / 50) % 2 ? "memory" : "cpu", i % 997);
	rewind(f);
	ah_trace *tr;
	assert_int_equal(ah_trace_open_stream(f, "big.csv", AH_TRACE_PLAIN, &tr), 0);
	int n;
	assert_int_equal(drain(tr, &n), 0);
	assert_int_equal(n, N);
	assert_int_equal(ah_trace_max_buffered_rows(tr), 1);
	ah_trace_free(tr);
	fclose(f);

	f = tmpfile();
	assert_non_null(f);
	fputs(BB_HDR, f);
	for (int i = 0; i < 100000; i++)
		fprintf(f, "%d;\t2;\t5000;\t%d;\t1;\t8000;\t%d;\t0;\t0;\t0;\t0\n", 1000 + 300 * i, i % 5000, i % 8000);
	rewind(f);
	assert_int_equal(ah_trace_open_stream(f, "9.csv", AH_TRACE_BITBRAINS, &tr), 0);
	assert_int_equal(drain(tr, &n), 0);
	assert_int_equal(n, 200000);
	assert_int_equal(ah_trace_max_buffered_rows(tr), 2);
	ah_trace_free(tr);
	fclose(f);
}

static void test_open_missing(void **s)
{
	(void)s;
	ah_trace *tr = NULL;
	assert_int_equal(ah_trace_open("/nonexistent/x.csv", AH_TRACE_PLAIN, &tr), AH_EIO);
	assert_null(tr);
	assert_int_equal(ah_trace_open("/dev/null", (ah_trace_format)7, &tr), AH_EINVAL);
	ah_trace_free(NULL);
}


/* Several traces come out as one stream in time order; equal times keep
 * the inputs' order; a reader's error comes through with its location. */
static void test_merge_time_order(void **s)
{
	(void)s;
	FILE *fa, *fb, *fc;
	ah_trace *tv[3];
	tv[0] = open_text("a.csv", "time,workload,dim,used\n0,a,cpu,1\n600,a,cpu,3\n900,a,cpu,5\n", AH_TRACE_PLAIN, &fa);
	tv[1] = open_text("b.csv", "time,workload,dim,used\n300,b,cpu,2\n600,b,cpu,4\n", AH_TRACE_PLAIN, &fb);
	tv[2] = open_text("c.csv", "time,workload,dim,used\n", AH_TRACE_PLAIN, &fc);
	ah_trace_merge *m;
	assert_int_equal(ah_trace_merge_new(tv, 3, &m), 0);
	ah_trace_row row;
	const ah_trace *from;
	int64_t want_t[] = {0, 300, 600, 600, 900};
	const char *want_w[] = {"a", "b", "a", "b", "a"};
	int64_t want_u[] = {1, 2, 3, 4, 5};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ah_trace_merge_next(m, &row, &from), 1);
		assert_int_equal(row.t_s, want_t[i]);
		assert_string_equal(row.workload, want_w[i]);
		assert_int_equal(row.used, want_u[i]);
		assert_ptr_equal(from, tv[want_w[i][0] == 'a' ? 0 : 1]);
	}
	assert_int_equal(ah_trace_merge_next(m, &row, &from), 0);
	assert_int_equal(ah_trace_merge_next(m, &row, &from), 0);
	ah_trace_merge_free(m);
	fclose(fa);
	fclose(fb);
	fclose(fc);

	tv[0] = open_text("a.csv", "time,workload,dim,used\n0,a,cpu,1\n600,a,cpu,x\n", AH_TRACE_PLAIN, &fa);
	tv[1] = open_text("b.csv", "time,workload,dim,used\n300,b,cpu,2\n", AH_TRACE_PLAIN, &fb);
	assert_int_equal(ah_trace_merge_new(tv, 2, &m), 0);
	assert_int_equal(ah_trace_merge_next(m, &row, &from), 1);
	assert_true(ah_trace_merge_next(m, &row, &from) < 0);
	assert_ptr_equal(ah_trace_merge_error_source(m), tv[0]);
	assert_non_null(strstr(ah_trace_error(tv[0]), "a.csv:3"));
	ah_trace_merge_free(m);
	fclose(fa);
	fclose(fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_merge_time_order),
		cmocka_unit_test(test_bitbrains_rows_and_units),
		cmocka_unit_test(test_bitbrains_quirks),
		cmocka_unit_test(test_bitbrains_errors),
		cmocka_unit_test(test_plain_rows),
		cmocka_unit_test(test_plain_errors),
		cmocka_unit_test(test_large_file_bounded),
		cmocka_unit_test(test_open_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
