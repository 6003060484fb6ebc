/* Tests for resource units and vectors (include/ahead/resource.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ahead/error.h"
#include "ahead/resource.h"

#define GI ((int64_t)1 << 30)

struct ok_case {
	ah_unit_kind kind;
	const char *in;
	int64_t want;
};

static const struct ok_case ok_cases[] = {
	/* cpu: cores or millicores, fractions round up to 1m */
	{AH_UNIT_CPU, "2", 2000},
	{AH_UNIT_CPU, "500m", 500},
	{AH_UNIT_CPU, "1.5", 1500},
	{AH_UNIT_CPU, "0", 0},
	{AH_UNIT_CPU, "0m", 0},
	{AH_UNIT_CPU, "0.0005", 1},
	{AH_UNIT_CPU, "0.001", 1},
	{AH_UNIT_CPU, "0.0011", 2},
	{AH_UNIT_CPU, "1.5m", 2},
	{AH_UNIT_CPU, "0.000000000000000000000000001", 1},
	{AH_UNIT_CPU, "  250m  ", 250},
	{AH_UNIT_CPU, "007", 7000},
	{AH_UNIT_CPU, "4611686018427387.904", AH_VALUE_MAX},
	/* memory: SI and IEC prefixes, optional B */
	{AH_UNIT_BYTES, "1048576", 1048576},
	{AH_UNIT_BYTES, "512Mi", 512LL << 20},
	{AH_UNIT_BYTES, "2G", 2000000000LL},
	{AH_UNIT_BYTES, "1.5Gi", 1610612736LL},
	{AH_UNIT_BYTES, "1.5GiB", 1610612736LL},
	{AH_UNIT_BYTES, "1k", 1000},
	{AH_UNIT_BYTES, "1kB", 1000},
	{AH_UNIT_BYTES, "1Ki", 1024},
	{AH_UNIT_BYTES, "1KiB", 1024},
	{AH_UNIT_BYTES, "3T", 3000000000000LL},
	{AH_UNIT_BYTES, "2Ti", 2LL << 40},
	{AH_UNIT_BYTES, "1P", 1000000000000000LL},
	{AH_UNIT_BYTES, "1Pi", 1LL << 50},
	{AH_UNIT_BYTES, "4E", 4000000000000000000LL},
	{AH_UNIT_BYTES, "4Ei", AH_VALUE_MAX},
	{AH_UNIT_BYTES, "512B", 512},
	{AH_UNIT_BYTES, "0.1Ki", 103}, /* 102.4 rounds up */
	{AH_UNIT_BYTES, "0.5", 1},
	{AH_UNIT_BYTES, "4611686018427387904", AH_VALUE_MAX},
	{AH_UNIT_BYTES, "0.001Gi", 1073742}, /* 1073741.824 */
	/* io: same plus /s, B/s */
	{AH_UNIT_BYTES_PER_S, "100Mi/s", 100LL << 20},
	{AH_UNIT_BYTES_PER_S, "100MiB/s", 100LL << 20},
	{AH_UNIT_BYTES_PER_S, "100MB", 100000000},
	{AH_UNIT_BYTES_PER_S, "2G", 2000000000},
	{AH_UNIT_BYTES_PER_S, "7/s", 7},
	/* net: bits per second, B/s means bytes (x8) */
	{AH_UNIT_BITS_PER_S, "100M", 100000000},
	{AH_UNIT_BITS_PER_S, "100Mbps", 100000000},
	{AH_UNIT_BITS_PER_S, "100Mb/s", 100000000},
	{AH_UNIT_BITS_PER_S, "12.5MB/s", 100000000},
	{AH_UNIT_BITS_PER_S, "1KiB/s", 8192},
	{AH_UNIT_BITS_PER_S, "10G", 10000000000LL},
	{AH_UNIT_BITS_PER_S, "1Gibps", 1LL << 30},
	{AH_UNIT_BITS_PER_S, "1bps", 1},
	{AH_UNIT_BITS_PER_S, "0.1B/s", 1}, /* 0.8 bit rounds up */
	{AH_UNIT_BITS_PER_S, "512PiB/s", AH_VALUE_MAX},
	/* count */
	{AH_UNIT_COUNT, "4", 4},
	{AH_UNIT_COUNT, "0", 0},
	{AH_UNIT_COUNT, "4611686018427387904", AH_VALUE_MAX},
};

static void test_parse_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		int64_t v = -42;
		int rc = ah_unit_parse(ok_cases[i].kind, ok_cases[i].in, &v);
		if (rc != 0 || v != ok_cases[i].want)
			fail_msg("%s '%s': rc=%d v=%lld want %lld",
				 ah_unit_kind_name(ok_cases[i].kind), ok_cases[i].in, rc,
				 (long long)v, (long long)ok_cases[i].want);
	}
}

struct bad_case {
	ah_unit_kind kind;
	const char *in;
	int rc;
	const char *why; /* substring of the reason given by ah_vec_parse */
};

static const struct bad_case bad_cases[] = {
	{AH_UNIT_BYTES, "", AH_EINVAL, "empty value"},
	{AH_UNIT_BYTES, "-1", AH_ERANGE, "negative"},
	{AH_UNIT_CPU, "-0.5", AH_ERANGE, "negative"},
	{AH_UNIT_BYTES, "+1", AH_EINVAL, "malformed number"},
	{AH_UNIT_BYTES, "1..5", AH_EINVAL, "malformed number '1..5'"},
	{AH_UNIT_BYTES, "1.5.3", AH_EINVAL, "malformed number"},
	{AH_UNIT_BYTES, ".5", AH_EINVAL, "malformed number"},
	{AH_UNIT_BYTES, "5.", AH_EINVAL, "malformed number"},
	{AH_UNIT_BYTES, "Gi", AH_EINVAL, "malformed number"},
	{AH_UNIT_BYTES, "abc", AH_EINVAL, "malformed number"},
	{AH_UNIT_BYTES, "5 Gi", AH_EINVAL, "no space allowed"},
	{AH_UNIT_BYTES, "1e3", AH_EINVAL, "exponent notation"},
	{AH_UNIT_BYTES, "1E3", AH_EINVAL, "exponent notation"},
	{AH_UNIT_CPU, "2e-3", AH_EINVAL, "exponent notation"},
	{AH_UNIT_BYTES, "1Qi", AH_EINVAL, "bad unit suffix 'Qi'"},
	{AH_UNIT_BYTES, "1K", AH_EINVAL, "bad unit suffix 'K'"},
	{AH_UNIT_BYTES, "1GiB/s", AH_EINVAL, "bad unit suffix 'GiB/s'"},
	{AH_UNIT_BYTES, "1m", AH_EINVAL, "bad unit suffix 'm'"},
	{AH_UNIT_BYTES, "0x10", AH_EINVAL, "bad unit suffix 'x10'"},
	{AH_UNIT_CPU, "1M", AH_EINVAL, "bad unit suffix 'M'"},
	{AH_UNIT_CPU, "1Gi", AH_EINVAL, "bad unit suffix"},
	{AH_UNIT_BITS_PER_S, "1MB", AH_EINVAL, "bad unit suffix 'MB'"},
	{AH_UNIT_BITS_PER_S, "1Mi/s", AH_EINVAL, "bad unit suffix"},
	{AH_UNIT_BYTES_PER_S, "1Mbps", AH_EINVAL, "bad unit suffix"},
	{AH_UNIT_COUNT, "1.5", AH_EINVAL, "not a whole number"},
	{AH_UNIT_COUNT, "1k", AH_EINVAL, "bad unit suffix"},
	{AH_UNIT_BYTES, "4611686018427387905", AH_ERANGE, "too large"},
	{AH_UNIT_BYTES, "5Ei", AH_ERANGE, "too large"},
	{AH_UNIT_BYTES, "4.0000000001Ei", AH_ERANGE, "too large"},
	{AH_UNIT_BYTES, "99999999999999999999999999999", AH_ERANGE, "too large"},
	{AH_UNIT_CPU, "4611686018427388", AH_ERANGE, "too large"},
	{AH_UNIT_BITS_PER_S, "1EiB/s", AH_ERANGE, "too large"},
	{AH_UNIT_COUNT, "18446744073709551617", AH_ERANGE, "too large"},
	{AH_UNIT_BYTES, "1234567890123456789012345678901234567890123456789012345678901234567890",
	 AH_EINVAL, "too long"},
};

static void test_parse_invalid(void **state)
{
	(void)state;
	ah_dimset ds;
	ah_dimset_init(&ds);
	assert_int_equal(ah_dimset_add(&ds, "qubits", AH_UNIT_COUNT, NULL), 0);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		int64_t v = -42;
		int rc = ah_unit_parse(c->kind, c->in, &v);
		if (rc != c->rc || v != -42)
			fail_msg("%s '%s': rc=%d want %d (v=%lld)", ah_unit_kind_name(c->kind), c->in,
				 rc, c->rc, (long long)v);
		/* the same value through a vector names the field and the reason */
		const char *field = NULL;
		for (int d = 0; d < ds.n; d++)
			if (ds.kind[d] == c->kind)
				field = ds.name[d];
		assert_non_null(field);
		char in[256], err[512] = "";
		snprintf(in, sizeof(in), "%s=%s", field, c->in);
		ah_vec out;
		rc = ah_vec_parse(&ds, in, &out, err, sizeof(err));
		char want[128];
		snprintf(want, sizeof(want), "%s: ", field);
		if (rc != c->rc || strncmp(err, want, strlen(want)) != 0 || !strstr(err, c->why))
			fail_msg("vec '%s': rc=%d err='%s' want prefix '%s' and '%s'", in, rc, err,
				 want, c->why);
	}
}

static void test_null_args(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(ah_unit_parse(AH_UNIT_CPU, NULL, &v), AH_EINVAL);
	assert_int_equal(ah_unit_parse(AH_UNIT_CPU, "1", NULL), AH_EINVAL);
	assert_int_equal(ah_unit_parse((ah_unit_kind)99, "1", &v), AH_EINVAL);
	char buf[32];
	assert_int_equal(ah_unit_format((ah_unit_kind)99, 1, buf, sizeof(buf)), AH_EINVAL);
}

struct fmt_case {
	ah_unit_kind kind;
	int64_t v;
	const char *want;
};

static const struct fmt_case fmt_cases[] = {
	{AH_UNIT_CPU, 0, "0"},
	{AH_UNIT_CPU, 2000, "2"},
	{AH_UNIT_CPU, 1500, "1500m"},
	{AH_UNIT_CPU, 1, "1m"},
	{AH_UNIT_BYTES, 0, "0"},
	{AH_UNIT_BYTES, 512LL << 20, "512Mi"},
	{AH_UNIT_BYTES, 1610612736LL, "1536Mi"},
	{AH_UNIT_BYTES, 2000000000LL, "2G"},
	{AH_UNIT_BYTES, 1000, "1k"},
	{AH_UNIT_BYTES, 1024, "1Ki"},
	{AH_UNIT_BYTES, 1023, "1023"},
	{AH_UNIT_BYTES, 2048000, "2000Ki"},
	{AH_UNIT_BYTES, AH_VALUE_MAX, "4Ei"},
	{AH_UNIT_BYTES_PER_S, 100LL << 20, "100Mi"},
	{AH_UNIT_BITS_PER_S, 100000000, "100M"},
	{AH_UNIT_COUNT, 12000, "12000"},
	{AH_UNIT_BYTES, -2048, "-2Ki"},
	{AH_UNIT_COUNT, INT64_MIN, "-9223372036854775808"},
};

static void test_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
		char buf[32];
		assert_int_equal(ah_unit_format(fmt_cases[i].kind, fmt_cases[i].v, buf, sizeof(buf)), 0);
		assert_string_equal(buf, fmt_cases[i].want);
	}
	/* too small a buffer: AH_ERANGE and the buffer is untouched */
	char small[4] = "xyz";
	assert_int_equal(ah_unit_format(AH_UNIT_BYTES, 1536LL << 20, small, sizeof(small)),
			 AH_ERANGE);
	assert_string_equal(small, "xyz");
	assert_int_equal(ah_unit_format(AH_UNIT_BYTES, 512, small, sizeof(small)), 0);
	assert_string_equal(small, "512");
	/* 32 bytes always suffice */
	char buf[32];
	for (int k = 0; k <= AH_UNIT_COUNT; k++) {
		assert_int_equal(ah_unit_format((ah_unit_kind)k, AH_VALUE_MAX - 1, buf, 32), 0);
		assert_int_equal(ah_unit_format((ah_unit_kind)k, INT64_MIN, buf, 32), 0);
	}
}

/* For people: short canonical forms stay, long ones get ~3 digits. */
static const struct fmt_case human_cases[] = {
	{AH_UNIT_BYTES, 256LL << 30, "256Gi"},
	{AH_UNIT_BYTES, 259840LL << 20, "254Gi"},
	{AH_UNIT_BYTES, 5033165145LL, "4.69Gi"},
	{AH_UNIT_BYTES, 1536LL << 20, "1.5Gi"},
	{AH_UNIT_BYTES, 574328728LL, "548Mi"},
	{AH_UNIT_BYTES, 2000000000LL, "2G"},
	{AH_UNIT_BYTES, 1023, "1023"},
	{AH_UNIT_BYTES, (1LL << 20) - 1, "1Mi"},
	{AH_UNIT_BYTES, AH_VALUE_MAX - 1, "4Ei"},
	{AH_UNIT_BYTES, -(5033165145LL), "-4.69Gi"},
	{AH_UNIT_CPU, 1500, "1500m"},
	{AH_UNIT_CPU, 12345, "12.3"},
	{AH_UNIT_CPU, 1013050, "1013"},
	{AH_UNIT_CPU, 64000, "64"},
	{AH_UNIT_BITS_PER_S, 123456789, "123M"},
	{AH_UNIT_BITS_PER_S, 1000000000, "1G"},
	{AH_UNIT_COUNT, 1234567, "1234567"},
};

static void test_format_human(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(human_cases) / sizeof(human_cases[0]); i++) {
		char buf[32];
		assert_int_equal(ah_unit_format_human(human_cases[i].kind, human_cases[i].v, buf, sizeof(buf)), 0);
		assert_string_equal(buf, human_cases[i].want);
	}
	char buf[32], small[4] = "xyz";
	assert_int_equal(ah_unit_format_human(AH_UNIT_BYTES, 5033165145LL, small, sizeof(small)), AH_ERANGE);
	assert_string_equal(small, "xyz");
	assert_int_equal(ah_unit_format_human((ah_unit_kind)99, 1, buf, sizeof(buf)), AH_EINVAL);
	for (int k = 0; k <= AH_UNIT_COUNT; k++) {
		assert_int_equal(ah_unit_format_human((ah_unit_kind)k, AH_VALUE_MAX - 1, buf, 32), 0);
		assert_null(strchr(buf, 'e'));
		assert_int_equal(ah_unit_format_human((ah_unit_kind)k, INT64_MIN + 1, buf, 32), 0);
	}
	ah_dimset ds;
	ah_dimset_init(&ds);
	ah_vec v = {{1500, 5033165145LL}};
	assert_int_equal(ah_vec_format_human(&ds, &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "cpu=1500m,memory=4.69Gi");
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure is reproducible */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static void check_roundtrip(ah_unit_kind kind, int64_t v)
{
	char buf[32];
	int64_t back = -1;
	int rc = ah_unit_format(kind, v, buf, sizeof(buf));
	if (rc != 0)
		fail_msg("format %s %lld: rc=%d", ah_unit_kind_name(kind), (long long)v, rc);
	rc = ah_unit_parse(kind, buf, &back);
	if (rc != 0 || back != v)
		fail_msg("roundtrip %s %lld -> '%s' -> rc=%d %lld", ah_unit_kind_name(kind),
			 (long long)v, buf, rc, (long long)back);
}

static void test_roundtrip(void **state)
{
	(void)state;
	static const int64_t edges[] = {0, 1, 2, 7, 8, 999, 1000, 1001, 1023, 1024, 1025, 1500,
					1000000, 1048576, 1073741824, 999999999999LL,
					1000000000000000000LL, 1LL << 60, AH_VALUE_MAX - 1,
					AH_VALUE_MAX};
	const uint64_t mults[] = {1, 1000, 1024, 1000000, 1ULL << 20, 1000000000ULL, 1ULL << 30,
				  1000000000000ULL, 1ULL << 40, 1ULL << 50, 1000000000000000ULL,
				  1ULL << 60, 1000000000000000000ULL, 8, 125};
	for (int k = 0; k <= AH_UNIT_COUNT; k++) {
		for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
			check_roundtrip((ah_unit_kind)k, edges[i]);
		for (int i = 0; i < 20000; i++) {
			uint64_t r = rnd();
			int64_t v;
			switch (i % 3) {
			case 0: /* anywhere in range */
				v = (int64_t)(r % ((uint64_t)AH_VALUE_MAX + 1));
				break;
			case 1: { /* a small number times a suffix multiplier */
				uint64_t m = mults[(r >> 32) % (sizeof(mults) / sizeof(mults[0]))];
				uint64_t q = (r & 0xffff) % ((uint64_t)AH_VALUE_MAX / m + 1);
				v = (int64_t)(q * m);
				break;
			}
			default: /* small values */
				v = (int64_t)(r % 100000);
			}
			check_roundtrip((ah_unit_kind)k, v);
		}
	}
}

static void test_dimset(void **state)
{
	(void)state;
	ah_dimset ds;
	ah_dimset_init(&ds);
	assert_int_equal(ds.n, 4);
	assert_int_equal(ah_dimset_find(&ds, "cpu"), AH_DIM_CPU);
	assert_int_equal(ah_dimset_find(&ds, "memory"), AH_DIM_MEMORY);
	assert_int_equal(ah_dimset_find(&ds, "io"), AH_DIM_IO);
	assert_int_equal(ah_dimset_find(&ds, "net"), AH_DIM_NET);
	assert_int_equal(ds.kind[AH_DIM_CPU], AH_UNIT_CPU);
	assert_int_equal(ds.kind[AH_DIM_MEMORY], AH_UNIT_BYTES);
	assert_int_equal(ds.kind[AH_DIM_IO], AH_UNIT_BYTES_PER_S);
	assert_int_equal(ds.kind[AH_DIM_NET], AH_UNIT_BITS_PER_S);
	assert_int_equal(ah_dimset_find(&ds, "gpu"), -1);
	assert_int_equal(ah_dimset_find(&ds, ""), -1);

	int idx = -1;
	assert_int_equal(ah_dimset_add(&ds, "qubits", AH_UNIT_COUNT, &idx), 0);
	assert_int_equal(idx, 4);
	assert_int_equal(ah_dimset_find(&ds, "qubits"), 4);
	idx = -1;
	assert_int_equal(ah_dimset_add(&ds, "qubits", AH_UNIT_COUNT, &idx), AH_EEXIST);
	assert_int_equal(idx, -1);
	assert_int_equal(ah_dimset_add(&ds, "cpu", AH_UNIT_CPU, NULL), AH_EEXIST);
	assert_int_equal(ah_dimset_add(&ds, "Gpu", AH_UNIT_COUNT, NULL), AH_EINVAL);
	assert_int_equal(ah_dimset_add(&ds, "1gpu", AH_UNIT_COUNT, NULL), AH_EINVAL);
	assert_int_equal(ah_dimset_add(&ds, "g-pu", AH_UNIT_COUNT, NULL), AH_EINVAL);
	assert_int_equal(ah_dimset_add(&ds, "", AH_UNIT_COUNT, NULL), AH_EINVAL);
	assert_int_equal(ah_dimset_add(&ds, "gpu", (ah_unit_kind)9, NULL), AH_EINVAL);
	char longname[80];
	memset(longname, 'a', 64);
	longname[64] = '\0';
	assert_int_equal(ah_dimset_add(&ds, longname, AH_UNIT_COUNT, NULL), AH_EINVAL);
	longname[63] = '\0';
	assert_int_equal(ah_dimset_add(&ds, longname, AH_UNIT_COUNT, NULL), 0);
	assert_int_equal(ah_dimset_find(&ds, longname), 5);
	for (int i = ds.n; i < AH_MAX_DIMS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "d_%d", i);
		assert_int_equal(ah_dimset_add(&ds, name, AH_UNIT_BYTES, NULL), 0);
	}
	assert_int_equal(ds.n, AH_MAX_DIMS);
	assert_int_equal(ah_dimset_add(&ds, "one_more", AH_UNIT_COUNT, NULL), AH_ETOOBIG);
}

static void test_kind_names(void **state)
{
	(void)state;
	for (int k = 0; k <= AH_UNIT_COUNT; k++) {
		ah_unit_kind back;
		assert_int_equal(ah_unit_kind_parse(ah_unit_kind_name((ah_unit_kind)k), &back), 0);
		assert_int_equal(back, k);
	}
	assert_string_equal(ah_unit_kind_name(AH_UNIT_BYTES_PER_S), "bytes_per_s");
	assert_string_equal(ah_unit_kind_name((ah_unit_kind)42), "unknown");
	ah_unit_kind k = AH_UNIT_CPU;
	assert_int_equal(ah_unit_kind_parse("Bytes", &k), AH_EINVAL);
	assert_int_equal(ah_unit_kind_parse("", &k), AH_EINVAL);
	assert_int_equal(k, AH_UNIT_CPU);
}

static void test_vec_parse(void **state)
{
	(void)state;
	ah_dimset ds;
	ah_dimset_init(&ds);
	assert_int_equal(ah_dimset_add(&ds, "qubits", AH_UNIT_COUNT, NULL), 0);
	ah_vec v;
	char err[256] = "";
	assert_int_equal(ah_vec_parse(&ds, "cpu=2,memory=512Mi,qubits=4", &v, err, sizeof(err)), 0);
	assert_int_equal(v.v[AH_DIM_CPU], 2000);
	assert_int_equal(v.v[AH_DIM_MEMORY], 512LL << 20);
	assert_int_equal(v.v[AH_DIM_IO], 0);
	assert_int_equal(v.v[AH_DIM_NET], 0);
	assert_int_equal(v.v[4], 4);
	for (int i = 5; i < AH_MAX_DIMS; i++)
		assert_int_equal(v.v[i], 0);

	assert_int_equal(ah_vec_parse(&ds, "  net = 12.5MB/s ,  io=1Gi/s  ", &v, NULL, 0), 0);
	assert_int_equal(v.v[AH_DIM_NET], 100000000);
	assert_int_equal(v.v[AH_DIM_IO], GI);
	assert_int_equal(v.v[AH_DIM_CPU], 0);

	assert_int_equal(ah_vec_parse(&ds, " 0 ", &v, err, sizeof(err)), 0);
	assert_true(ah_vec_is_zero(&v, ds.n));
	assert_int_equal(ah_vec_parse(&ds, "cpu=0", &v, err, sizeof(err)), 0);
	assert_true(ah_vec_is_zero(&v, ds.n));

	struct {
		const char *in;
		int rc;
		const char *err;
	} bad[] = {
		{"memory=1Qi", AH_EINVAL, "memory: bad unit suffix 'Qi'"},
		{"cpu=1,gpu=2", AH_EINVAL, "gpu: unknown dimension"},
		{"cpu=1,cpu=2", AH_EINVAL, "cpu: given more than once"},
		{"cpu=1,", AH_EINVAL, "empty item"},
		{",cpu=1", AH_EINVAL, "empty item"},
		{"cpu=1,,memory=1", AH_EINVAL, "empty item"},
		{"", AH_EINVAL, "vector: empty"},
		{"   ", AH_EINVAL, "vector: empty"},
		{"cpu", AH_EINVAL, "cpu: expected dimension=value"},
		{"=5", AH_EINVAL, "missing dimension name"},
		{"cpu=", AH_EINVAL, "cpu: empty value"},
		{"cpu=-1", AH_ERANGE, "cpu: negative"},
		{"qubits=3.5", AH_EINVAL, "qubits: '3.5' is not a whole number"},
		{"memory=5 Gi", AH_EINVAL, "memory: no space allowed"},
		{"memory=99Ei", AH_ERANGE, "memory: value '99Ei' is too large"},
		{"CPU=1", AH_EINVAL, "CPU: unknown dimension"},
		{"00", AH_EINVAL, "00: expected dimension=value"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ah_vec out;
		memset(&out, 0x5a, sizeof(out));
		err[0] = '\0';
		int rc = ah_vec_parse(&ds, bad[i].in, &out, err, sizeof(err));
		if (rc != bad[i].rc || !strstr(err, bad[i].err))
			fail_msg("'%s': rc=%d err='%s' want %d '%s'", bad[i].in, rc, err, bad[i].rc,
				 bad[i].err);
		/* out is written only on success */
		assert_int_equal(out.v[0], 0x5a5a5a5a5a5a5a5aLL);
	}
	/* a tiny error buffer is truncated, not overrun */
	char tiny[8];
	assert_int_equal(ah_vec_parse(&ds, "memory=1Qi", &v, tiny, sizeof(tiny)), AH_EINVAL);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	/* a long garbage name is cut short in the message */
	char longin[300];
	memset(longin, 'z', 250);
	strcpy(longin + 250, "=1");
	assert_int_equal(ah_vec_parse(&ds, longin, &v, err, sizeof(err)), AH_EINVAL);
	assert_non_null(strstr(err, "...: unknown dimension"));
}

static void test_vec_format(void **state)
{
	(void)state;
	ah_dimset ds;
	ah_dimset_init(&ds);
	assert_int_equal(ah_dimset_add(&ds, "qubits", AH_UNIT_COUNT, NULL), 0);
	ah_vec v;
	memset(&v, 0, sizeof(v));
	char buf[256];
	assert_int_equal(ah_vec_format(&ds, &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0");
	v.v[AH_DIM_CPU] = 2000;
	v.v[AH_DIM_MEMORY] = 512LL << 20;
	v.v[4] = 4;
	assert_int_equal(ah_vec_format(&ds, &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "cpu=2,memory=512Mi,qubits=4");
	char small[10] = "untouched";
	assert_int_equal(ah_vec_format(&ds, &v, small, sizeof(small)), AH_ERANGE);
	assert_string_equal(small, "untouched");

	/* vectors round-trip too */
	for (int i = 0; i < 2000; i++) {
		ah_vec a, b;
		memset(&a, 0, sizeof(a));
		for (int d = 0; d < ds.n; d++)
			if (rnd() % 3)
				a.v[d] = (int64_t)(rnd() % ((uint64_t)AH_VALUE_MAX + 1)) >> (rnd() % 62);
		char text[1024];
		assert_int_equal(ah_vec_format(&ds, &a, text, sizeof(text)), 0);
		assert_int_equal(ah_vec_parse(&ds, text, &b, NULL, 0), 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

static void test_vec_helpers(void **state)
{
	(void)state;
	ah_vec used = {{1, 2}}, req = {{1, 1}}, lim = {{2, 3}};
	assert_true(ah_vec_fits(&used, &req, &lim, 2));
	req.v[1] = 2;
	assert_false(ah_vec_fits(&used, &req, &lim, 2));
	/* with unlimited limits nothing overflows */
	ah_vec big = {{AH_VALUE_MAX, AH_VALUE_MAX}};
	assert_true(ah_vec_fits(&used, &req, &big, 2));
	ah_vec_add(&used, &req, 2);
	assert_int_equal(used.v[1], 4);
	ah_vec_sub(&used, &req, 2);
	assert_int_equal(used.v[1], 2);
	assert_true(ah_vec_le(&used, &lim, 2));
	assert_false(ah_vec_le(&lim, &used, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),  cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_null_args),    cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_human),
		cmocka_unit_test(test_roundtrip),    cmocka_unit_test(test_dimset),
		cmocka_unit_test(test_kind_names),   cmocka_unit_test(test_vec_parse),
		cmocka_unit_test(test_vec_format),   cmocka_unit_test(test_vec_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
