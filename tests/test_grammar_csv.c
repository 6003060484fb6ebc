/* The grammar of CSV lines (csvline.h), shared by every CSV reader: each
 * reader takes LF and CRLF alike and refuses the same bad lines (a NUL
 * byte, a control byte, a lone CR, a line over its cap) with the same
 * "FILE:LINE: reason". Before csvline.h only two of the five readers
 * refused NUL bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahead/csvline.h"
#include "ahead/error.h"
#include "ahead/history.h"
#include "ahead/series.h"
#include "ahead/shadow.h"
#include "ahead/trace.h"
#include "nab/nab.h"

static char dir[64];

static const char *path_of(const char *name)
{
	static char p[128];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static void write_bytes(const char *path, const char *a, size_t na, const char *b, size_t nb)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(a, 1, na, f), na);
	if (nb)
		assert_int_equal(fwrite(b, 1, nb, f), nb);
	assert_int_equal(fclose(f), 0);
}

/* ---- the readers, each: read PATH, 0 or an AH_E* code with err ---- */

static int rd_trace(const char *path, ah_trace_format fmt, char *err, size_t n)
{
	ah_trace *tr;
	int rc = ah_trace_open(path, fmt, &tr);
	assert_int_equal(rc, 0);
	ah_trace_row row;
	while ((rc = ah_trace_next(tr, &row)) > 0)
		;
	snprintf(err, n, "%s", ah_trace_error(tr));
	ah_trace_free(tr);
	return rc;
}
static int rd_plain(const char *p, char *e, size_t n) { return rd_trace(p, AH_TRACE_PLAIN, e, n); }
static int rd_bitbrains(const char *p, char *e, size_t n) { return rd_trace(p, AH_TRACE_BITBRAINS, e, n); }

static int rd_series(const char *path, char *err, size_t n)
{
	ah_series s;
	int rc = ah_series_read_csv(path, NULL, &s, err, n);
	if (rc == 0)
		ah_series_fini(&s);
	return rc;
}

static int rd_history(const char *path, int lng, char *err, size_t n)
{
	char db[128];
	snprintf(db, sizeof db, "%s/h.db", dir);
	ah_history *h;
	assert_int_equal(ah_history_open(db, NULL, true, &h, err, n), 0);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	ah_history_import_out o;
	int rc = lng ? ah_history_import_long(h, f, path, 0, &o, err, n)
		     : ah_history_import_series(h, path, f, "w", "cpu", 0, NULL, NULL, &o, err, n);
	fclose(f);
	ah_history_free(h);
	unlink(db);
	char shadow[160];
	snprintf(shadow, sizeof shadow, "%s/h-shadow.db", dir);
	unlink(shadow);
	return rc;
}
static int rd_long(const char *p, char *e, size_t n) { return rd_history(p, 1, e, n); }
static int rd_export(const char *p, char *e, size_t n) { return rd_history(p, 0, e, n); }

static int rd_nab(const char *path, char *err, size_t n)
{
	ah_nab_result_row *rows = NULL;
	size_t nr = 0;
	int rc = ah_nab_results_load(path, err, n, &rows, &nr);
	free(rows);
	return rc;
}

typedef struct {
	const char *name;
	int (*read)(const char *path, char *err, size_t n);
	const char *good; /* header and one row, LF-ended: line 3 comes next */
	size_t cap;       /* the line cap */
} reader;

static const reader readers[] = {
	{"plain", rd_plain, "time,workload,dim,used\n0,w,cpu,5\n", AH_CSV_LINE_MAX},
	{"bitbrains", rd_bitbrains,
	 "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage [MHZ];\tCPU usage [%];\t"
	 "Memory capacity provisioned [KB];\tMemory usage [KB];\tDisk read throughput [KB/s];\t"
	 "Disk write throughput [KB/s];\tNetwork received throughput [KB/s];\tNetwork transmitted throughput [KB/s]\n"
	 "1000;\t1;\t2000;\t100;\t5;\t1024;\t512;\t0;\t0;\t0;\t0\n",
	 AH_CSV_LINE_MAX},
	{"series", rd_series, "timestamp,value\n0,1\n", AH_SERIES_MAX_LINE},
	{"long", rd_long, "time,workload,dim,value\n0,w,cpu,1\n", AH_CSV_LINE_MAX},
	{"export", rd_export, "time,value,max,count\n1970-01-01T00:00:00Z,1,1,1\n", AH_CSV_LINE_MAX},
	{"nab", rd_nab,
	 "Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count\n"
	 "d,standard,a/b.csv,0.5,1.0,1,2,3,4,10\n",
	 AH_CSV_LINE_MAX},
};
#define NREADERS (sizeof readers / sizeof readers[0])

/* LF and CRLF files read alike, and a missing last line ending is fine. */
static void test_line_endings(void **state)
{
	(void)state;
	char err[512];
	for (size_t i = 0; i < NREADERS; i++) {
		const char *g = readers[i].good;
		char crlf[2048] = "";
		size_t n = 0;
		for (const char *p = g; *p; p++) {
			if (*p == '\n')
				crlf[n++] = '\r';
			crlf[n++] = *p;
		}
		const char *p = path_of("ok.csv");
		write_bytes(p, g, strlen(g), NULL, 0);
		assert_int_equal(readers[i].read(p, err, sizeof err), 0);
		write_bytes(p, crlf, n, NULL, 0);
		if (readers[i].read(p, err, sizeof err))
			fail_msg("%s: CRLF refused: %s", readers[i].name, err);
		write_bytes(p, g, strlen(g) - 1, NULL, 0);
		if (readers[i].read(p, err, sizeof err))
			fail_msg("%s: no final LF refused: %s", readers[i].name, err);
	}
}

static void expect_refused(const reader *r, const char *bad, size_t nbad, int code, const char *reason)
{
	char err[512] = "";
	char file[64];
	snprintf(file, sizeof file, "%s.csv", r->name);
	const char *p = path_of(file);
	write_bytes(p, r->good, strlen(r->good), bad, nbad);
	int rc = r->read(p, err, sizeof err);
	char where[160];
	snprintf(where, sizeof where, "%s:3:", p);
	if (rc != code || !strstr(err, where) || !strstr(err, reason))
		fail_msg("%s: rc %d (want %d), err \"%s\" (want \"%s\" and \"%s\")", r->name, rc, code, err, where,
			 reason);
}

/* The same bad third line, the same refusal, from every reader. */
static void test_bad_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < NREADERS; i++) {
		const reader *r = &readers[i];
		expect_refused(r, "0,w\0,cpu,5\n", 11, AH_EPARSE, "binary data (NUL byte)");
		expect_refused(r, "\0\n", 2, AH_EPARSE, "binary data (NUL byte)");
		expect_refused(r, "0,w\001,cpu,5\n", 11, AH_EPARSE, "binary data (control byte 0x01)");
		expect_refused(r, "0,w\x7f,cpu,5\n", 11, AH_EPARSE, "binary data (control byte 0x7f)");
		expect_refused(r, "0,w\r,cpu,5\n", 11, AH_EPARSE, "binary data (control byte 0x0d)");
		size_t n = r->cap + 1;
		char *big = malloc(n + 1);
		assert_non_null(big);
		memset(big, '1', n);
		big[n] = '\n';
		char reason[64];
		snprintf(reason, sizeof reason, "line longer than %zu bytes", r->cap);
		expect_refused(r, big, n + 1, r->read == rd_plain || r->read == rd_bitbrains || r->read == rd_nab ||
						   r->read == rd_series
					       ? AH_ETOOBIG
					       : AH_EPARSE,
			       reason);
		free(big);
	}
}

/* A line of exactly the cap is a line. */
static void test_cap_is_inclusive(void **state)
{
	(void)state;
	char buf[8], *line;
	size_t len;
	FILE *f = tmpfile();
	assert_non_null(f);
	fputs("1234567\n12345678\n", f);
	rewind(f);
	ah_csvline in;
	ah_csvline_init(&in, f, "t.csv", buf, sizeof buf);
	assert_int_equal(ah_csvline_next(&in, &line, &len), 1);
	assert_int_equal(len, 7);
	assert_string_equal(line, "1234567");
	assert_int_equal(ah_csvline_next(&in, &line, &len), AH_ETOOBIG);
	assert_string_equal(ah_csvline_error(&in), "t.csv:2: line longer than 7 bytes");
	assert_int_equal(ah_csvline_next(&in, &line, &len), AH_ETOOBIG); /* stays failed */
	fclose(f);
}

static void test_split(void **state)
{
	(void)state;
	char a[] = "a,b,,c", b[] = "1;2;3;4", c[] = " \"x,\"\"y\"\" \" , z ,", d[] = "\"open";
	char *f[4];
	assert_int_equal(ah_csvline_split(a, ',', f, 4), 4);
	assert_string_equal(f[2], "");
	assert_string_equal(f[3], "c");
	assert_int_equal(ah_csvline_split(b, ';', f, 3), 4); /* more than 3 */
	assert_int_equal(ah_csvline_split_quoted(c, f, 4), 3);
	assert_string_equal(f[0], "x,\"y\""); /* trimmed inside quotes too, as before */
	assert_string_equal(f[1], "z");
	assert_string_equal(f[2], "");
	assert_int_equal(ah_csvline_split_quoted(d, f, 4), AH_EPARSE);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/ahead_csv_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_cap_is_inclusive),
		cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests_name("grammar_csv", tests, setup, teardown);
}
