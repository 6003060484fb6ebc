/* The grammar of durations (duration.h), shared by every caller: accepted
 * and refused inputs, printing, and the callers that must agree — the
 * policy file and the CLI's duration options (alloc --lease and shadow
 * import --granularity read "1.5m" alike, as 90 s). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "ahead/duration.h"
#include "ahead/error.h"
#include "ahead/policy.h"

#define S INT64_C(1000000000)

static void test_accepted(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t ns;
	} ok[] = {
		{"30", 30 * S},       {"250ms", 250000000}, {"1.5m", 90 * S},    {"0.25s", S / 4},
		{"1.5h", 5400 * S},   {"2d", 172800 * S},   {" 5m ", 300 * S},   {"1us", 1000},
		{"7ns", 7},           {"0", 0},             {"1.000s", S},       {"0.5", S / 2},
		{"9223372036854775807ns", INT64_MAX},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int64_t ns = -1;
		assert_int_equal(ah_duration_parse(ok[i].s, &ns), 0);
		assert_int_equal(ns, ok[i].ns);
	}
}

static void test_refused(void **state)
{
	(void)state;
	const char *bad[] = {"", " ", "m", "5 m", "5M", "1e3", "1.5ns", "0.0001us", "1,5m", ".5s", "5.s",
			     "5mm", "five", "5m5s"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ns = 42;
		assert_int_equal(ah_duration_parse(bad[i], &ns), AH_EINVAL);
		assert_int_equal(ns, 42);
	}
	int64_t ns = 42;
	assert_int_equal(ah_duration_parse("-1s", &ns), AH_ERANGE);
	assert_int_equal(ah_duration_parse("9223372036854775808ns", &ns), AH_ERANGE);
	assert_int_equal(ah_duration_parse("106752d", &ns), AH_ERANGE);
	assert_int_equal(ns, 42);
}

static void test_format(void **state)
{
	(void)state;
	char b[32];
	const int64_t v[] = {0, 90 * S, 300 * S, 1500000000, 86400 * S, 7};
	const char *want[] = {"0s", "90s", "5m", "1500ms", "1d", "7ns"};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_int_equal(ah_duration_format(v[i], b, sizeof b), 0);
		assert_string_equal(b, want[i]);
		int64_t back;
		assert_int_equal(ah_duration_parse(b, &back), 0);
		assert_int_equal(back, v[i]);
	}
	assert_int_equal(ah_duration_format(-1, b, sizeof b), AH_ERANGE);
	assert_int_equal(ah_duration_format(90 * S, b, 3), AH_ERANGE);
}

/* The policy file reads durations with the same grammar. */
static void test_policy(void **state)
{
	(void)state;
	const char *base = "[pool p]\ncapacity = cpu=8\n[class c]\npriority = 1\nquantile = 0.9\n[ahead]\n";
	char text[512];
	ah_policy *p = NULL;
	snprintf(text, sizeof text, "%slease_ttl = 1.5m\n", base);
	assert_int_equal(ah_policy_load_string(text, strlen(text), "t.ini", &p, NULL, 0), 0);
	assert_int_equal(p->lease_ttl_ns, 90 * S);
	ah_policy_free(p);
	p = NULL;
	snprintf(text, sizeof text, "%slease_ttl = 1.5ns\n", base);
	assert_int_equal(ah_policy_load_string(text, strlen(text), "t.ini", &p, NULL, 0), AH_EPOLICY);
}

/* Runs the CLI in a fresh directory; returns the exit code, output in out. */
static int run(const char *script, char *out, size_t len)
{
	char dir[] = "/tmp/ahead-dur-XXXXXX", cmd[2048];
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd,
		 "cd %s && A='%s' && printf 't,v\\n2024-01-01T00:00:00Z,1\\n' > a.csv && "
		 "\"$A\" policy apply --db l.db '%s/examples/policy.ini' >/dev/null && { %s; } 2>&1",
		 dir, getenv("AHEAD_BIN"), getenv("AHEAD_SRC"), script);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_options_agree(void **state)
{
	(void)state;
	if (!getenv("AHEAD_BIN") || !getenv("AHEAD_SRC"))
		skip();
	char out[4096];
	const char *lease = "\"$A\" alloc --db l.db --pool general --tenant acme --res cpu=1 --lease %s -o json";
	const char *gran = "\"$A\" shadow import --db l.db --shadow-db s.db --input a.csv --workload w --dim cpu "
			   "--granularity %s && \"$A\" shadow ls --db l.db --shadow-db s.db -o json";
	char cmd[512];
	snprintf(cmd, sizeof cmd, lease, "1.5m");
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "\"outcome\": \"granted\""));
	snprintf(cmd, sizeof cmd, gran, "1.5m");
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_non_null(strstr(out, "\"granularity_s\": 90,"));
	const char *bad[] = {"1.5ns", "1,5m", "5 m"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char quoted[64];
		snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
		snprintf(cmd, sizeof cmd, lease, quoted);
		assert_int_equal(run(cmd, out, sizeof out), 2);
		assert_non_null(strstr(out, "--lease: '"));
		assert_non_null(strstr(out, "is not a duration"));
		snprintf(cmd, sizeof cmd, gran, quoted);
		assert_int_equal(run(cmd, out, sizeof out), 2);
		assert_non_null(strstr(out, "--granularity: '"));
		assert_non_null(strstr(out, "is not a duration"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted), cmocka_unit_test(test_refused),
		cmocka_unit_test(test_format),   cmocka_unit_test(test_policy),
		cmocka_unit_test(test_cli_options_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
